"""The ``nexa-cloud`` command: admin commands against a real database, and the benchmark through
the installed console script (which starts ``nexa-cloud serve`` as a real process)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nexa_cloud.app import build_service
from nexa_cloud.cli import app
from nexa_cloud.config import Settings
from nexa_desktop.domain.licensing import key_id, load_public_keys

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_admin_commands_set_up_an_org(tmp_path: Path, cloud_db_url: str) -> None:
    db = ["--db", cloud_db_url]
    out = run("admin", "create-org", "Acme Electric", *db)
    org_id = re.search(r"org id:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    code = re.search(r"org code:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
    run(
        "admin",
        "create-admin",
        "--org",
        org_id,
        "--email",
        "boss@acme.example",
        "--password",
        "a long enough password",
        *db,
    )
    run(
        "admin",
        "issue-seats",
        "--org",
        org_id,
        "--seats",
        "3",
        "--days",
        "30",
        "--entitlements",
        "board,verification",
        "--node-locked",
        *db,
    )
    first = re.search(r"active key: (\w+)", run("admin", "rotate-signing-key", *db)).group(1)  # type: ignore[union-attr]
    run("admin", "rotate-signing-key", *db)
    exported = run("admin", "export-public-key", "--out", str(tmp_path / "keys"), *db)
    keys = load_public_keys(tmp_path / "keys")
    assert first in keys and len(keys) == 3 and exported.count("(active)") == 1
    assert all(key_id(key) == kid for kid, key in keys.items())

    svc = build_service(Settings(database_url=cloud_db_url))
    try:
        assert svc.org_for_code(code.lower().replace("-", "")) == org_id  # codes are forgiving to type
        assert svc.login("BOSS@acme.example", "a long enough password").org_id == org_id
        actions = [e["action"] for e in svc.audit_entries_global()]
        assert actions.count("key.rotate") == 2
    finally:
        svc.db.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["issue-seats", "--org", "nope", "--seats", "1", "--days", "1"], "no organisation"),
        (["issue-seats", "--org", "x", "--seats", "0", "--days", "1"], "Seats must be"),
        (["issue-seats", "--org", "x", "--seats", "1", "--days", "1", "--entitlements", "crypto"], "crypto"),
        (["create-admin", "--org", "nope", "--email", "a@b.c", "--password", "short"], "10 to 1024"),
        (["create-org", "  "], "1 to 200 characters"),
    ],
)
def test_admin_refusals_are_one_clear_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["admin", *args, "--db", f"sqlite:///{tmp_path / 'c.db'}"])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_bad_database_url_is_explained() -> None:
    result = runner.invoke(app, ["admin", "create-org", "X", "--db", "postgresql://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 1 and "Can't open the database" in result.output


def test_bench_prints_one_json_object_with_a_baseline(tmp_path: Path) -> None:
    exe = shutil.which("nexa-cloud", path=str(Path(sys.executable).parent))
    assert exe, "install the package (pip install -e .) so the nexa-cloud console script exists"
    done = subprocess.run(
        [exe, "bench", "--json", "--seconds", "0.5", "--concurrency", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["database"] == "sqlite" and result["errors"] == 0
    assert result["validations"] > 0 and result["validations_per_s"] > 0
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p95"] <= result["latency_ms"]["p99"]
    assert result["baseline"]["verify_license_per_s"] > 0

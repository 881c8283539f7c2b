"""``nexa models`` and ``nexa complete`` through the real CLI (Typer runner), on SQLite demo data."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nexa_desktop.cli import app
from nexa_desktop.services.demo import seed_demo
from nexa_desktop.store.db import open_database


def test_models_check_add_list_and_a_bad_file(small_gguf: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(app, ["models", "check", str(small_gguf)])
    assert checked.exit_code == 0, checked.output
    assert "llama model" in checked.output and "fits" in checked.output and "SHA-256" in checked.output
    added = runner.invoke(app, ["models", "add", str(small_gguf)])
    assert added.exit_code == 0, added.output
    listed = json.loads(runner.invoke(app, ["models", "list", "--json"]).output)
    assert [row["path"] for row in listed if row["source"] == "added"] == [str(small_gguf)]
    fake = tmp_path / "phi3.gguf"
    fake.write_text("this is not a model")
    refused = runner.invoke(app, ["models", "check", str(fake)])
    assert refused.exit_code == 1 and "phi3.gguf" in refused.output


def test_complete_prints_the_fill_with_facts_from_the_job_record() -> None:
    db = open_database()
    seed_demo(db, jobs=30, seed=5)
    snapshot_pm = db.engine.connect().exec_driver_sql("SELECT pm_number FROM jobs LIMIT 1").scalar_one()
    db.dispose()
    runner = CliRunner()
    result = runner.invoke(app, ["complete", "cwc_header", "--job", snapshot_pm, "--json",
                                 "--set", "purpose=Replace crossarm per sketch"])  # fmt: skip
    assert result.exit_code == 0, result.output
    fill = json.loads(result.output.strip().splitlines()[-1])
    assert fill["form"] == "cwc_header"
    text = json.dumps(fill)
    assert snapshot_pm in text and "Replace crossarm per sketch" in text
    missing = runner.invoke(app, ["complete", "cwc_header", "--job", "12345678", "--json"])
    assert missing.exit_code == 1 and "12345678" in missing.output


def test_complete_into_a_blank_form_writes_a_copy_and_says_where(tmp_path: Path) -> None:
    """``--into``: the fill goes into a copy of a form with blanks (found by its labels)."""
    from tests.services.verify import pkgbuilder as pb

    db = open_database()
    seed_demo(db, jobs=30, seed=5)
    pm = db.engine.connect().exec_driver_sql("SELECT pm_number FROM jobs LIMIT 1").scalar_one()
    db.dispose()
    job = pb.Job(pm=pm)
    pb.write_package(
        tmp_path / "forms", [pb.build("ccsc", job, pb.CORPUS, missing={"pm_number"})], "combined"
    )
    (blank,) = sorted((tmp_path / "forms").glob("*.pdf"))
    before = blank.read_bytes()
    runner = CliRunner()
    args = ["complete", "ccsc_header", "--job", pm, "--json", "--into", str(blank),
            "--out", str(tmp_path / "out"), "--set", "location_number=1",
            "--set", "crew_lead_name=Brian Fletcher", "--set", "lan_id=PDYU"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    written = Path(report["written"])
    assert written.parent == tmp_path / "out" and written.name.startswith(pm)
    assert [p["field"] for p in report["write_plan"]["placements"]] == ["pm_number"]
    assert {a["field"] for a in report["write_plan"]["already"]} >= {"location_number", "lan_id"}
    assert blank.read_bytes() == before
    # not ready (a LAN ID that is not one): nothing is written
    not_ready = runner.invoke(app, ["complete", "ccsc_header", "--job", pm, "--json", "--into", str(blank),
                                    "--out", str(tmp_path / "none"), "--set", "lan_id=no"])  # fmt: skip
    assert not_ready.exit_code == 3 and not (tmp_path / "none").exists()

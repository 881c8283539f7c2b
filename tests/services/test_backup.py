"""Backups and restore on real SQLite files (and a real PostgreSQL server where one can start):
round trip with verification records and learned pages, rotation, bad backups, a database in use,
a read-only data dir and a full disk."""

from __future__ import annotations

import datetime as dt
import errno
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from nexa_desktop import paths
from nexa_desktop.services import backup
from nexa_desktop.services.backup import (
    BackupError,
    create_backup,
    ensure_daily_backup,
    find_pg_tool,
    list_backups,
    restore_backup,
    verify_backup,
)
from nexa_desktop.store import backup_files
from nexa_desktop.store.db import Database, alembic_config, head_revision, open_database
from tests.services.backup_data import change, fill, fingerprint, fingerprint_file, integrity


@pytest.fixture
def office(data_dir: Path) -> Iterator[Database]:
    """The embedded database with jobs, history, verification records and learned pages."""
    db = open_database()
    fill(db)
    try:
        yield db
    finally:
        db.dispose()


def _content() -> str:
    db = open_database()
    try:
        return fingerprint(db)
    finally:
        db.dispose()


def _no_partials(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".")] if folder.is_dir() else []


# -- round trip -------------------------------------------------------------------------------


def test_create_list_verify_restore_round_trip(office: Database) -> None:
    before = fingerprint(office)
    info = create_backup()

    assert info.kind == "manual" and info.schema_revision == head_revision()
    assert info.path.parent == paths.backups_dir() and info.path.is_file()
    assert info.size_bytes == info.path.stat().st_size
    assert info.created.tzinfo is not None and info.created.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - info.created).total_seconds()) < 60
    assert fingerprint_file(info.path) == before
    manifest = json.loads(info.path.with_name(info.path.name + ".json").read_text())
    assert manifest["format"] == "nexa-backup" and len(manifest["sha256"]) == 64
    assert info.to_json()["path"] == str(info.path)

    listed = list_backups()
    assert [b.path for b in listed] == [info.path]
    assert listed[0] == info

    check = verify_backup(info.path)
    assert check.ok, check.message
    assert check.integrity == "ok" and check.schema_revision == head_revision()
    assert (
        check.counts["jobs"] == 40 and check.counts["packages"] >= 2 and check.counts["page_exemplars"] >= 3
    )

    change(office)
    changed = fingerprint(office)
    assert changed != before
    office.dispose()

    previous = restore_backup(info.path)

    assert previous is not None and previous.kind == "pre-restore"
    assert _content() == before
    assert fingerprint_file(previous.path) == changed  # the replaced database is kept
    assert verify_backup(previous.path).ok
    assert integrity(paths.database_file()) == "ok"
    reopened = open_database()
    try:
        with reopened.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        reopened.dispose()
    assert _no_partials(paths.data_dir()) == [] and _no_partials(paths.backups_dir()) == []


def test_backup_is_consistent_while_another_connection_writes(office: Database) -> None:
    before = fingerprint(office)
    writer = sqlite3.connect(paths.database_file(), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE jobs SET address = 'uncommitted' WHERE id = 2")
        info = create_backup()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert fingerprint_file(info.path) == before
    assert verify_backup(info.path).ok


def test_a_backup_is_standalone_without_wal(office: Database) -> None:
    info = create_backup()
    header = info.path.read_bytes()[:20]
    assert header[18:20] == b"\x01\x01"  # rollback journal mode: no -wal needed to read it
    assert not info.path.with_name(info.path.name + "-wal").exists()


def test_restore_brings_an_older_schema_up_to_date(data_dir: Path, tmp_path: Path) -> None:
    old = tmp_path / "from-an-older-version.db"
    engine = create_engine(f"sqlite:///{old.as_posix()}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.exec_driver_sql(
            "INSERT INTO people (name, role, lan_id, active, version) "
            "VALUES ('Old Timer', 'gf', 'OLD1', 1, 1)"
        )
    engine.dispose()
    check = verify_backup(old)
    assert check.ok and check.schema_revision == "0001"

    assert restore_backup(old) is None  # there was no database to keep

    db = open_database()
    try:
        with db.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head_revision()
            assert conn.exec_driver_sql("SELECT name FROM people").scalar() == "Old Timer"
    finally:
        db.dispose()


def test_restore_replaces_a_damaged_database_and_keeps_its_bytes(office: Database) -> None:
    before = fingerprint(office)
    info = create_backup()
    office.dispose()
    garbage = b"this file was overwritten by something else" * 100
    paths.database_file().write_bytes(garbage)

    previous = restore_backup(info.path)

    assert previous is not None and previous.path.read_bytes() == garbage
    assert _content() == before


def test_restore_replaces_a_database_with_a_damaged_page(office: Database) -> None:
    before = fingerprint(office)
    info = create_backup()
    change(office)
    office.dispose()
    db_file = paths.database_file()
    conn = sqlite3.connect(db_file)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'jobs'").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with db_file.open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\xff" * 12)
    assert integrity(db_file) != "ok"

    previous = restore_backup(info.path)

    assert previous is not None and previous.kind == "pre-restore"
    assert _content() == before and integrity(db_file) == "ok"


# -- rotation ---------------------------------------------------------------------------------


def test_daily_backups_rotate_to_seven_daily_and_four_weekly(office: Database) -> None:
    manual = create_backup()
    start = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
    made = []
    for day in range(45):
        now = start + dt.timedelta(days=day)
        info = ensure_daily_backup(daily_kept=7, weekly_kept=4, now=now)
        assert info is not None, day
        made.append(info)
        assert ensure_daily_backup(daily_kept=7, weekly_kept=4, now=now + dt.timedelta(hours=3)) is None

    kept = list_backups()
    daily = [b for b in kept if b.kind == "daily"]
    weekly = [b for b in kept if b.kind == "weekly"]
    assert len(daily) == 7 and len(weekly) == 4
    assert manual.path in {b.path for b in kept}  # rotation leaves other kinds alone
    assert [b.created for b in kept] == sorted((b.created for b in kept), reverse=True)  # newest first
    assert max(b.created for b in daily + weekly) == start + dt.timedelta(days=44)
    weekly_days = sorted(b.created.date() for b in weekly)
    assert all((b - a).days == 7 for a, b in itertools.pairwise(weekly_days))
    assert sum(1 for b in made if b.kind == "weekly") == 7  # one in each 7 days of 45
    last = (start + dt.timedelta(days=44)).date()
    assert all((last - b.created.date()).days < 9 for b in daily)
    on_disk = {p for p in paths.backups_dir().glob("*.db")}
    assert on_disk == {b.path for b in kept}
    assert len(list(paths.backups_dir().glob("*.json"))) == len(kept)


def test_daily_counts_come_from_the_settings(office: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXA_BACKUP_DAILY_KEPT", "2")
    monkeypatch.setenv("NEXA_BACKUP_WEEKLY_KEPT", "1")
    start = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    for day in range(10):
        ensure_daily_backup(now=start + dt.timedelta(days=day))
    kinds = sorted(b.kind for b in list_backups())
    assert kinds == ["daily", "daily", "weekly"]


def test_manual_backups_are_capped(office: Database) -> None:
    cap = backup_files.DEFAULT_KEEP["manual"]
    first = create_backup()
    for _ in range(cap):
        create_backup()
    kept = list_backups()
    assert len(kept) == cap and first.path not in {b.path for b in kept}


def test_the_daily_backup_on_open_never_raises(data_dir: Path) -> None:
    assert backup.daily_backup_on_open() is None  # no database yet: nothing to back up
    db = open_database()
    db.dispose()
    made = backup.daily_backup_on_open()
    assert made is not None and made.kind == "weekly"  # the first backup of a week is the weekly
    assert backup.daily_backup_on_open() is None


# -- bad input --------------------------------------------------------------------------------


def _refuses(path: Path, expected: str) -> None:
    before = _content()
    check = verify_backup(path)
    assert not check.ok and expected in check.message, check.message
    with pytest.raises(BackupError, match=expected):
        restore_backup(path)
    assert _content() == before
    assert [b.kind for b in list_backups() if b.kind == "pre-restore"] == []


def test_a_file_that_is_not_ours_is_refused(office: Database, tmp_path: Path) -> None:
    office.dispose()
    text = tmp_path / "notes.db"
    text.write_text("Crew 7 notes: bring the bucket truck\n")
    _refuses(text, "not a NEXA Desktop backup")

    other = tmp_path / "other-app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    _refuses(other, "not a NEXA Desktop backup")

    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    _refuses(empty, "empty")
    _refuses(tmp_path / "missing.db", "no file")


def test_a_truncated_backup_is_refused(office: Database) -> None:
    info = create_backup()
    office.dispose()
    data = info.path.read_bytes()
    info.path.write_bytes(data[: len(data) // 2])
    _refuses(info.path, "truncated or damaged")  # the manifest's checksum

    info.path.with_name(info.path.name + ".json").unlink()
    _refuses(info.path, "truncated")  # the SQLite header's own page count


def test_a_damaged_page_fails_the_integrity_check(office: Database, tmp_path: Path) -> None:
    info = create_backup()
    office.dispose()
    conn = sqlite3.connect(info.path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'jobs'").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    copy = tmp_path / "damaged.db"  # no manifest: only SQLite itself can tell
    data = bytearray(info.path.read_bytes())
    offset = (root - 1) * page_size
    data[offset : offset + 12] = b"\xff" * 12
    copy.write_bytes(bytes(data))
    _refuses(copy, "Use another backup")
    assert verify_backup(copy).integrity != "ok"


def test_a_backup_from_a_newer_version_is_refused(office: Database, tmp_path: Path) -> None:
    info = create_backup()
    office.dispose()
    future = tmp_path / "from-a-newer-nexa.db"
    shutil.copyfile(info.path, future)
    conn = sqlite3.connect(future)
    conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.commit()
    conn.close()
    _refuses(future, "newer version of NEXA Desktop")
    assert verify_backup(future).schema_revision == "9999_future"


def test_restore_is_refused_while_another_connection_writes(
    office: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "LOCK_WAIT_S", 0.3)
    info = create_backup()
    before = fingerprint(office)
    office.dispose()
    writer = sqlite3.connect(paths.database_file(), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE jobs SET address = 'being edited' WHERE id = 3")
        with pytest.raises(BackupError, match="open in another NEXA Desktop window"):
            restore_backup(info.path)
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert _content() != before  # the other writer's edit stands; nothing was restored
    assert [b.kind for b in list_backups()] == ["manual"]
    assert _no_partials(paths.data_dir()) == []


def test_restore_is_refused_while_another_nexa_has_the_database_open(
    office: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "LOCK_WAIT_S", 0.3)
    info = create_backup()
    change(office)
    office.dispose()
    changed = _content()
    other = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys, time
            from nexa_desktop.store.db import open_database
            db = open_database()
            with db.connect() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM jobs").scalar()
            print("open", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "open"
        with pytest.raises(BackupError, match="open in another NEXA Desktop window"):
            restore_backup(info.path)
        assert _content() == changed
    finally:
        other.kill()
        other.wait()
    restore_backup(info.path)  # with the other instance closed it goes through
    assert _content() != changed


def _is_effective_read_only(folder: Path) -> bool:
    probe = folder / "probe"
    try:
        probe.write_text("x")
    except OSError:
        return True
    probe.unlink()
    return False


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_read_only_data_dir_gets_a_clear_message(office: Database) -> None:
    info = create_backup()
    before = fingerprint(office)
    office.dispose()
    folders = [paths.data_dir(), paths.backups_dir()]
    for folder in folders:
        folder.chmod(0o555)
    try:
        if not _is_effective_read_only(paths.backups_dir()):
            pytest.skip("running with privileges that ignore folder permissions (root)")
        with pytest.raises(BackupError, match="read-only"):
            create_backup()
        with pytest.raises(BackupError, match="read-only"):
            restore_backup(info.path)
        assert verify_backup(info.path).ok  # checking a backup never writes beside it
        assert [b.path for b in list_backups()] == [info.path]
    finally:
        for folder in folders:
            folder.chmod(0o755)
    assert _content() == before


_FULL_DISK_CHILD = """
import json, resource, signal, sys
from pathlib import Path
from nexa_desktop.services.backup import BackupError, create_backup, restore_backup
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file-size limit: writes past it fail like a full disk
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    if len(sys.argv) > 2:
        restore_backup(Path(sys.argv[2]))
    else:
        create_backup()
    print(json.dumps({"error": None}))
except BackupError as exc:
    print(json.dumps({"error": str(exc)}))
"""


def _run_with_size_limit(limit: int, *args: str) -> str | None:
    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_CHILD, str(limit), *args],
        capture_output=True, text=True, env=os.environ.copy(), timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: str | None = json.loads(done.stdout.strip().splitlines()[-1])["error"]
    return result


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_during_backup_leaves_nothing_behind(data_dir: Path) -> None:
    db = open_database()
    fill(db, jobs=200)
    db.dispose()
    before = _content()
    size = paths.database_file().stat().st_size
    assert size > 100_000

    error = _run_with_size_limit(size // 2)  # the copy fails part way, as on a full disk

    assert error is not None and "the disk may be full" in error and "nothing was changed" in error, error
    assert list_backups() == []
    assert _no_partials(paths.backups_dir()) == []
    assert _content() == before


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_during_restore_changes_nothing(data_dir: Path) -> None:
    db = open_database()
    fill(db, jobs=200)
    info = create_backup()
    change(db)
    db.dispose()
    changed = _content()

    error = _run_with_size_limit(info.size_bytes // 2, str(info.path))

    assert error is not None and "the disk may be full" in error and "nothing was changed" in error, error
    assert _content() == changed
    assert _no_partials(paths.data_dir()) == []
    assert [b.kind for b in list_backups()] == ["manual"]


def _fsync_enospc(_fd: int) -> None:
    """The disk reports ENOSPC when a copy is flushed (delayed allocation does this). Only this OS
    call is replaced, since a real full disk is outside the test's control."""
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_enospc_during_backup_is_reported_and_cleaned_up(office: Database) -> None:
    before = fingerprint(office)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "fsync", _fsync_enospc)
        with pytest.raises(BackupError, match="Not enough disk space") as caught:
            create_backup()
    assert "partial copy was removed" in str(caught.value)
    assert list_backups() == [] and _no_partials(paths.backups_dir()) == []
    assert fingerprint(office) == before


def test_enospc_during_restore_changes_nothing(office: Database) -> None:
    info = create_backup()
    change(office)
    office.dispose()
    changed = _content()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "fsync", _fsync_enospc)
        with pytest.raises(BackupError, match="Not enough disk space"):
            restore_backup(info.path)
    assert _content() == changed
    assert _no_partials(paths.data_dir()) == [] and [b.kind for b in list_backups()] == ["manual"]


def test_a_missing_postgresql_tool_is_named() -> None:
    with pytest.raises(BackupError, match="pg_nexa_missing was not found"):
        backup._require_tool("pg_nexa_missing", "back up the office database")


# -- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
def pg_office(pg_url: str) -> Iterator[Database]:
    if find_pg_tool("pg_dump") is None or find_pg_tool("psql") is None:
        pytest.skip("pg_dump/psql not installed")
    db = open_database(pg_url)
    fill(db)
    try:
        yield db
    finally:
        db.dispose()


@pytest.mark.slow
def test_postgresql_round_trip(pg_office: Database, pg_url: str) -> None:
    before = fingerprint(pg_office)
    info = create_backup(pg_url)
    assert info.path.suffix == ".dump" and info.schema_revision == head_revision()
    assert [b.path for b in list_backups(pg_url)] == [info.path]
    assert list_backups() == []  # the SQLite database's list is separate
    check = verify_backup(info.path)
    assert check.ok and check.engine == "postgresql" and check.schema_revision == head_revision(), (
        check.message
    )

    change(pg_office)
    changed = fingerprint(pg_office)
    pg_office.dispose()

    previous = restore_backup(info.path, pg_url)

    db = open_database(pg_url)
    try:
        assert fingerprint(db) == before
    finally:
        db.dispose()
    assert previous is not None and previous.kind == "pre-restore" and verify_backup(previous.path).ok
    restore_backup(previous.path, pg_url)
    db = open_database(pg_url)
    try:
        assert fingerprint(db) == changed
    finally:
        db.dispose()
    with pytest.raises(BackupError, match="PostgreSQL backup"):
        restore_backup(info.path)  # not into the SQLite database


@pytest.mark.slow
def test_postgresql_restore_is_refused_while_in_use(pg_office: Database, pg_url: str) -> None:
    info = create_backup(pg_url)
    change(pg_office)
    before = fingerprint(pg_office)
    with pg_office.connect() as conn:  # another NEXA holding a connection
        conn.exec_driver_sql("SELECT 1")
        with pytest.raises(BackupError, match="in use by 1 other connection"):
            restore_backup(info.path, pg_url)
    assert fingerprint(pg_office) == before


@pytest.mark.slow
def test_postgresql_truncated_dump_is_refused(pg_office: Database, pg_url: str, tmp_path: Path) -> None:
    info = create_backup(pg_url)
    pg_office.dispose()
    cut = tmp_path / "cut.dump"  # without its manifest: pg_restore has to notice
    data = info.path.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    check = verify_backup(cut)
    assert not check.ok and "damaged or truncated" in check.message, check.message
    with pytest.raises(BackupError, match="damaged or truncated"):
        restore_backup(cut, pg_url)

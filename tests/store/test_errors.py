"""Storage failures reach the user as clear :class:`StorageError` messages."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, text

from nexa_desktop import paths
from nexa_desktop.domain.errors import StorageError
from nexa_desktop.domain.jobs import Role
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database, make_engine, open_database

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _add_person(database: Database, lan: str = "ABCD") -> None:
    with database.begin() as conn:
        repo.insert_person(conn, name="Someone", role=Role.GF, lan_id=lan)


def test_corrupt_file_names_the_file(data_dir: Path) -> None:
    paths.database_file().write_bytes(b"this is not an sqlite file at all " * 200)
    with pytest.raises(StorageError) as info:
        open_database()
    message = str(info.value)
    assert str(paths.database_file()) in message
    assert "damaged" in message
    assert str(paths.backups_dir()) in message


def test_truncated_file_is_reported(sqlite_db: Database) -> None:
    _add_person(sqlite_db)
    sqlite_db.dispose()
    db_file = paths.database_file()
    for suffix in ("-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    data = db_file.read_bytes()
    db_file.write_bytes(data[:100] + b"\x00" * 4000 + data[4100:5000])
    with pytest.raises(StorageError) as info:
        database = open_database()
        with database.connect() as conn:
            conn.exec_driver_sql("SELECT * FROM people").fetchall()
    assert str(db_file) in str(info.value)


def test_read_only_database_refuses_writes_clearly(sqlite_db: Database) -> None:
    """Opened read-only (what file permissions force on a normal user): writes fail clearly."""
    sqlite_db.dispose()
    url = f"sqlite:///file:{paths.database_file().as_posix()}?mode=ro&uri=true"
    ro = Database(url, make_engine(url))
    try:
        with ro.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM people").scalar() == 0
        with pytest.raises(StorageError) as info:
            _add_person(ro)
        assert "read-only" in str(info.value)
        assert str(paths.database_file()) in str(info.value)
        assert "nothing was saved" in str(info.value)
    finally:
        ro.dispose()


@pytest.fixture
def read_only_dir(data_dir: Path) -> Iterator[Path]:
    """The data dir and database file with write permission removed (restored afterwards)."""
    database = open_database()
    _add_person(database)
    database.dispose()
    db_file = paths.database_file()
    db_file.chmod(0o444)
    data_dir.chmod(0o555)
    try:
        yield db_file
    finally:
        data_dir.chmod(0o755)
        db_file.chmod(0o644)


@pytest.mark.skipif(IS_ROOT, reason="file permissions do not bind root; see the unprivileged-user variant")
def test_read_only_file_and_dir_refuse_writes(read_only_dir: Path) -> None:
    database = open_database()
    try:
        with pytest.raises(StorageError) as info:
            _add_person(database, "WXYZ")
        assert str(read_only_dir) in str(info.value)
        assert "read-only" in str(info.value) or "Can't open" in str(info.value)
    finally:
        database.dispose()


#: Runs as root, imports everything, then drops to ``nobody`` (the venv lives under /root, which
#: ``nobody`` cannot read) and tries a write through the app's own code.
_AS_NOBODY = textwrap.dedent(
    """
    import os, pwd
    import sqlalchemy.dialects.sqlite.pysqlite  # noqa: F401 - loaded lazily otherwise
    from nexa_desktop.domain.errors import StorageError
    from nexa_desktop.domain.jobs import Role
    from nexa_desktop.store import repositories as repo
    from nexa_desktop.store.db import open_database

    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
    try:
        db = open_database()
        with db.begin() as conn:
            repo.insert_person(conn, name="X", role=Role.GF, lan_id="WXYZ")
    except StorageError as exc:
        print("STORAGE:", exc)
    else:
        print("WROTE")
    """
)


@pytest.mark.skipif(not IS_ROOT, reason="covered by the plain permission test")
def test_read_only_file_and_dir_as_an_unprivileged_user() -> None:
    """As root, write as ``nobody`` to a root-owned, read-only data dir and database file."""
    base = Path(tempfile.mkdtemp(prefix="nexa-ro-"))  # pytest's tmp dirs are 0700
    try:
        data = base / "data"
        data.mkdir()
        env = {**os.environ, paths.DATA_DIR_ENV: str(data)}
        env.pop("NEXA_DATABASE_URL", None)
        create = "from nexa_desktop.store.db import open_database; open_database().dispose()"
        subprocess.run([sys.executable, "-c", create], check=True, env=env, timeout=60)
        for p in data.rglob("*"):
            p.chmod(0o444 if p.is_file() else 0o555)
        data.chmod(0o555)
        base.chmod(0o755)
        done = subprocess.run(
            [sys.executable, "-c", _AS_NOBODY],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip
        if "PermissionError" in done.stderr and "Operation not permitted" in done.stderr:
            pytest.skip("this root cannot switch to another user (no CAP_SETUID)")
        assert "STORAGE:" in done.stdout, done.stdout + done.stderr
        assert str(data / "nexa.db") in done.stdout
        assert "read-only" in done.stdout or "Can't open" in done.stdout
    finally:
        for p in [base, *base.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        shutil.rmtree(base, ignore_errors=True)


def test_locked_database_is_reported(sqlite_db: Database) -> None:
    # Short busy timeout so the test does not wait the app's 5 s; runs after the app's pragmas.
    event.listen(sqlite_db.engine, "connect", lambda c, _r: c.execute("PRAGMA busy_timeout=100"))
    sqlite_db.engine.dispose()
    holder = sqlite3.connect(paths.database_file(), timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StorageError) as info:
            _add_person(sqlite_db)
        assert "locked" in str(info.value)
        assert str(paths.database_file()) in str(info.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _add_person(sqlite_db)  # works again once the other program lets go


def test_unreachable_postgres_is_reported() -> None:
    with pytest.raises(StorageError) as info:
        open_database("postgresql://nexa:secret@127.0.0.1:1/office")
    message = str(info.value)
    assert "Can't reach the office database" in message
    assert "secret" not in message


def test_integrity_errors_come_out_as_storage_errors(db: Database) -> None:
    _add_person(db, "DUP1")
    with pytest.raises(StorageError):
        _add_person(db, "DUP1")
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM people")).scalar() == 1

"""``kill -9`` during a restore leaves the old database or the new one, never a broken one.

A real child process runs :func:`restore_backup` on a database of several MB and is killed with
SIGKILL: at chosen points (its progress callback stops there and the test kills it) and at
moments chosen by the clock. Afterwards the database opens, passes ``PRAGMA integrity_check`` and
holds exactly the old or the new content.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from nexa_desktop import paths
from nexa_desktop.services.backup import create_backup, find_pg_tool, restore_backup
from nexa_desktop.store.db import DATABASE_URL_ENV, open_database
from tests.services.backup_data import change, fill, fingerprint, integrity

pytestmark = [
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)"),
    pytest.mark.slow,
]

_CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from nexa_desktop.services.backup import restore_backup

    backup, url = Path(sys.argv[1]), sys.argv[2] or None
    stop_phase, stop_at = sys.argv[3], int(sys.argv[4])
    seen = {}

    def progress(phase, fraction):
        n = seen[phase] = seen.get(phase, 0) + 1
        print(f"{phase} {n} {fraction:.3f}", flush=True)
        if phase == stop_phase and (n == stop_at or (stop_at < 0 and fraction >= 1.0)):
            print("PAUSED", flush=True)
            time.sleep(600)

    restore_backup(backup, url, progress=progress)
    print("FINISHED", flush=True)
""")


@dataclass(frozen=True)
class Scene:
    """A data dir whose database holds ``old`` and a backup holding ``new``."""

    folder: Path
    backup: Path
    old: str
    new: str


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    folder = tmp_path_factory.mktemp("kill-scene")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(paths.DATA_DIR_ENV, str(folder))
        mp.delenv(DATABASE_URL_ENV, raising=False)
        db = open_database()
        fill(db, jobs=1500, exemplars=400, text_size=20_000)  # ~ 10 MB: many copy steps
        new = fingerprint(db)
        info = create_backup()
        change(db)
        fill_more = db  # the live database grows past the backup, so a restore also shrinks it
        with fill_more.begin() as conn:
            conn.exec_driver_sql("UPDATE page_exemplars SET text = text || text WHERE id % 3 = 0")
        old = fingerprint(db)
        db.dispose()
    assert old != new
    backup = folder / "the-backup.db"
    shutil.move(info.path, backup)  # outside the backups folder: only the pre-restore copies go there
    shutil.rmtree(folder / "backups")
    yield Scene(folder, backup, old, new)


def _setup(scene: Scene, data_dir: Path) -> Path:
    for suffix in ("-journal", "-wal", "-shm"):
        (data_dir / f"nexa.db{suffix}").unlink(missing_ok=True)
    shutil.copyfile(scene.folder / "nexa.db", data_dir / "nexa.db")
    return scene.backup


def _start(backup: Path, url: str = "", stop_phase: str = "-", stop_at: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(backup), url, stop_phase, str(stop_at)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
        start_new_session=True,
    )  # fmt: skip


def _kill(child: subprocess.Popen[str]) -> None:
    """SIGKILL to the child and anything it started (a ``psql`` for PostgreSQL)."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it had finished already
    child.wait(timeout=30)


def _read_until_paused(child: subprocess.Popen[str]) -> list[str]:
    assert child.stdout is not None
    lines: list[str] = []
    for line in child.stdout:
        lines.append(line.strip())
        if line.strip() in ("PAUSED", "FINISHED"):
            break
    return lines


def _content_after_kill() -> str:
    """Open the database the way the app does (a hot journal is rolled back here)."""
    assert integrity(paths.database_file()) == "ok"
    db = open_database()
    try:
        return fingerprint(db)
    finally:
        db.dispose()


#: (phase, n-th report): where the child stops before it is killed, and what must be left.
STOPS = [
    ("checking", 1, "old"),
    ("preparing", 3, "old"),
    ("saving", 2, "old"),
    ("restoring", 1, "old"),
    ("restoring", 4, "old"),
    ("restoring", 8, "old"),
    ("restoring", -1, "new"),  # after the last step: the copy has committed
    ("done", 1, "new"),
]


@pytest.mark.parametrize(("phase", "at", "expected"), STOPS, ids=[f"{p}-{n}" for p, n, _ in STOPS])
def test_kill_at_a_chosen_point(scene: Scene, data_dir: Path, phase: str, at: int, expected: str) -> None:
    backup = _setup(scene, data_dir)
    child = _start(backup, stop_phase=phase, stop_at=at)
    try:
        lines = _read_until_paused(child)
        assert lines[-1] == "PAUSED", (lines, child.stderr.read() if child.stderr else "")
        journal = paths.database_file().with_name("nexa.db-journal")
        if phase == "restoring" and at >= 4:
            # The live file is half overwritten: only the journal can put it back.
            assert journal.exists() and journal.stat().st_size > 0
    finally:
        _kill(child)

    assert _content_after_kill() == (scene.old if expected == "old" else scene.new)


def test_kill_at_moments_chosen_by_the_clock(scene: Scene, data_dir: Path) -> None:
    backup = _setup(scene, data_dir)
    started = time.perf_counter()
    child = _start(backup)
    lines = _read_until_paused(child)
    child.wait(timeout=60)
    full = time.perf_counter() - started
    assert lines[-1] == "FINISHED" and _content_after_kill() == scene.new

    outcomes = []
    for fraction in (0.35, 0.55, 0.7, 0.8, 0.9, 0.97):
        _setup(scene, data_dir)
        child = _start(backup)
        time.sleep(full * fraction)
        _kill(child)
        content = _content_after_kill()
        assert content in (scene.old, scene.new)
        outcomes.append("old" if content == scene.old else "new")
    # A restore after any of these still works.
    restore_backup(backup)
    assert _content_after_kill() == scene.new
    print("outcomes:", outcomes)


def test_a_restore_after_a_killed_one_works(scene: Scene, data_dir: Path) -> None:
    backup = _setup(scene, data_dir)
    child = _start(backup, stop_phase="restoring", stop_at=4)
    try:
        assert _read_until_paused(child)[-1] == "PAUSED"
    finally:
        _kill(child)
    previous = restore_backup(backup)
    assert _content_after_kill() == scene.new
    assert previous is not None
    db = open_database(f"sqlite:///{previous.path.as_posix()}", migrate=False)
    try:
        assert fingerprint(db) == scene.old  # what the killed restore left is what was kept
    finally:
        db.dispose()


# -- PostgreSQL -------------------------------------------------------------------------------


def test_kill_during_a_postgresql_restore(pg_url: str, data_dir: Path) -> None:
    if find_pg_tool("pg_dump") is None or find_pg_tool("psql") is None:
        pytest.skip("pg_dump/psql not installed")
    db = open_database(pg_url)
    fill(db, jobs=1500, exemplars=200, text_size=5_000)
    new = fingerprint(db)
    info = create_backup(pg_url)
    change(db)
    old = fingerprint(db)
    old_dump = create_backup(pg_url).path
    db.dispose()

    def content() -> str:
        again = open_database(pg_url)
        try:
            return fingerprint(again)
        finally:
            again.dispose()

    def wait_for_server_side(timeout: float = 20.0) -> None:
        """The server ends the killed client's session (rolling its transaction back)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(pg_url)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    others = conn.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                    )).scalar_one()  # fmt: skip
                if not others:
                    return
                time.sleep(0.1)
        finally:
            engine.dispose()
        raise AssertionError("the killed restore's session did not end")

    outcomes = []
    for delay in (0.0, 0.03, 0.06, 0.1):
        restore_backup(old_dump, pg_url)
        assert content() == old
        child = _start(info.path, pg_url)
        psql_alive = _wait_for_psql(child)
        time.sleep(delay)
        _kill(child)
        wait_for_server_side()
        now = content()
        assert now in (old, new)
        outcomes.append(("psql running" if psql_alive else "no psql", "old" if now == old else "new"))
    print("outcomes:", outcomes)
    # Killed inside psql's single transaction, the server rolled it back.
    assert ("psql running", "old") in outcomes
    restore_backup(info.path, pg_url)
    assert content() == new


def _wait_for_psql(child: subprocess.Popen[str], timeout: float = 30.0) -> bool:
    """Wait until the restore has started ``psql``; False if it finished without one being seen."""
    parent = psutil.Process(child.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        try:
            if any(p.name().startswith("psql") for p in parent.children(recursive=True)):
                return True
        except psutil.Error:
            pass
        time.sleep(0.005)
    return False

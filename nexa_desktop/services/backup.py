"""Database backups and restore: daily and weekly copies, verify, and a restore that is all or nothing.

SQLite (the embedded database): copies use the online backup API, so they are consistent while
NEXA is writing; they live in ``backups/`` beside the database with a JSON manifest (kind, time,
schema revision, sha256). A restore checks the copy (ours, complete, ``PRAGMA integrity_check``, a
schema this version knows), prepares it beside the database (migrated to this version), locks the
live database so no other NEXA instance is using it, saves it as a ``pre-restore`` backup and then
copies the prepared file into it in one SQLite transaction: a crash or ``kill -9`` at any moment
leaves the old database or the new one, never a mix (SQLite's journal rolls an unfinished copy
back on the next open). The file is never swapped underneath another process, so a stale WAL can
never be applied to the wrong file, and it works the same on Windows, where an open file can't be
replaced.

PostgreSQL (an office database): ``pg_dump -Fc`` / ``pg_restore`` + ``psql --single-transaction``,
found on PATH or in the usual install folders; the password goes to the child through
``PGPASSWORD``, never on a command line. Everything in the database is included (jobs, history,
verification records, learned page types); license secrets live in the OS keyring and are not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import logging
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from nexa_desktop import paths
from nexa_desktop.domain.errors import NexaError
from nexa_desktop.store import backup_files as files
from nexa_desktop.store import models
from nexa_desktop.store.backup_files import BackupError, BackupInfo
from nexa_desktop.store.db import (
    MIGRATIONS_DIR,
    alembic_config,
    describe,
    explain,
    head_revision,
    make_engine,
    open_database,
    resolve_url,
)

__all__ = [
    "BackupCheck",
    "BackupError",
    "BackupInfo",
    "create_backup",
    "daily_backup_on_open",
    "ensure_daily_backup",
    "find_pg_tool",
    "list_backups",
    "restore_backup",
    "verify_backup",
]

log = logging.getLogger(__name__)

#: Tables every NEXA schema has had since the first revision ("is this file ours?").
CORE_TABLES = frozenset({"alembic_version", "people", "crews", "jobs", "job_history", "outbox"})
#: How long a restore waits for another connection's transaction before saying the DB is in use.
LOCK_WAIT_S = 3.0
#: ``progress(phase, fraction)``: phases "checking", "preparing", "saving", "restoring", "done".
RestoreProgress = Callable[[str, float], None]


@dataclass(frozen=True)
class BackupCheck:
    """What :func:`verify_backup` found: ``ok`` and a sentence saying why (or why not)."""

    path: Path
    ok: bool
    message: str
    engine: str | None = None  # "sqlite" | "postgresql" | None when not a backup at all
    schema_revision: str | None = None
    integrity: str = "not checked"
    counts: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "message": self.message,
            "engine": self.engine,
            "schema_revision": self.schema_revision,
            "integrity": self.integrity,
            "counts": dict(self.counts),
        }


# -- where ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """The database a backup belongs to: an SQLite file or a PostgreSQL URL."""

    url: str
    db_file: Path | None  # None for PostgreSQL

    @property
    def is_sqlite(self) -> bool:
        return self.db_file is not None

    @property
    def folder(self) -> Path:
        if self.db_file is not None:
            return files.sqlite_backups_dir(self.db_file)
        return paths.data_dir() / "backups"

    @property
    def prefix(self) -> str:
        if self.db_file is not None:
            return self.db_file.stem
        name = make_url(self.url).database or "postgres"
        return "pg-" + re.sub(r"[^A-Za-z0-9_.]+", "_", name)

    @property
    def ext(self) -> str:
        return files.SQLITE_EXT if self.is_sqlite else files.PG_EXT

    def backups(self) -> list[BackupInfo]:
        return files.list_backup_files(self.folder, self.prefix, self.ext)


def _target(db_url: str | None) -> _Target:
    url = resolve_url(db_url)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise BackupError("An in-memory database has nothing on disk to back up or restore.")
        return _Target(url, Path(parsed.database))
    if backend == "postgresql":
        return _Target(url, None)
    raise BackupError(f"Backups support SQLite and PostgreSQL databases, not {backend} ({describe(url)}).")


def _keep(kind: str) -> dict[str, int]:
    return {kind: files.DEFAULT_KEEP[kind]}


# -- create / list ----------------------------------------------------------------------------


def create_backup(
    db_url: str | None = None,
    *,
    kind: str = "manual",
    now: dt.datetime | None = None,
    progress: files.Progress | None = None,
) -> BackupInfo:
    """Back the database up now (``kind`` names why) and rotate that kind's old copies."""
    if kind not in files.KINDS:
        raise ValueError(f"unknown backup kind {kind!r}")
    target = _target(db_url)
    info = _create(target, kind, now=now, progress=progress)
    if kind not in ("daily", "weekly"):
        files.rotate(target.backups(), _keep(kind))
    return info


def _create(
    target: _Target, kind: str, *, now: dt.datetime | None, progress: files.Progress | None = None
) -> BackupInfo:
    if target.db_file is not None:
        if not target.db_file.exists():
            raise BackupError(
                f"There is no database at {target.db_file} yet, so there is nothing to back up."
            )
        return files.create_sqlite_backup(target.db_file, kind, now=now, progress=progress)
    return _pg_dump(target, kind, now=now)


def list_backups(db_url: str | None = None) -> list[BackupInfo]:
    """This database's backups, newest first."""
    return _target(db_url).backups()


def _kept(daily: int | None, weekly: int | None) -> tuple[int, int]:
    """The counts to keep: the arguments, else the settings (7 daily and 4 weekly by default)."""
    if daily is None or weekly is None:
        from nexa_desktop.settings import load_settings

        settings = load_settings()
        if daily is None:
            daily = int(getattr(settings, "backup_daily_kept", files.DEFAULT_KEEP["daily"]))
        if weekly is None:
            weekly = int(getattr(settings, "backup_weekly_kept", files.DEFAULT_KEEP["weekly"]))
    return max(daily, 0), max(weekly, 0)


def ensure_daily_backup(
    db_url: str | None = None,
    *,
    daily_kept: int | None = None,
    weekly_kept: int | None = None,
    now: dt.datetime | None = None,
) -> BackupInfo | None:
    """Make today's backup unless there is one (None then), and rotate: the newest ``daily_kept``
    daily and ``weekly_kept`` weekly copies stay. The first backup of a week is the weekly one
    (a week = 7 days since the last weekly). ``None`` counts come from the settings."""
    daily, weekly = _kept(daily_kept, weekly_kept)
    target = _target(db_url)
    if target.db_file is not None and not target.db_file.exists():
        return None
    now = now or files.utcnow()
    today = now.astimezone().date()
    existing = target.backups()
    made: BackupInfo | None = None
    if not any(b.kind in ("daily", "weekly") and b.created.astimezone().date() == today for b in existing):
        weeklies = [b.created.astimezone().date() for b in existing if b.kind == "weekly"]
        weekly_due = weekly > 0 and (not weeklies or (today - max(weeklies)).days >= 7)
        if weekly_due or daily > 0:
            made = _create(target, "weekly" if weekly_due else "daily", now=now)
    files.rotate(target.backups(), {"daily": daily, "weekly": weekly})
    return made


def daily_backup_on_open(db_url: str | None = None) -> BackupInfo | None:
    """The app's automatic daily backup, run when it opens the database (off the GUI thread).

    Honours ``backup_enabled`` in the settings; never raises, because a failed backup must not
    stop anyone working: it logs a warning (the log and ``nexa backup list`` show it) instead.
    On PostgreSQL it is skipped quietly where ``pg_dump`` is not installed.
    """
    from nexa_desktop.settings import load_settings

    if not getattr(load_settings(), "backup_enabled", True):
        return None
    try:
        target = _target(db_url)
        if not target.is_sqlite and find_pg_tool("pg_dump") is None:
            log.info("daily backup skipped: pg_dump is not installed on this computer")
            return None
        made = ensure_daily_backup(db_url)
    except NexaError as exc:
        log.warning("daily backup failed: %s", exc)
        return None
    except Exception:
        log.exception("daily backup failed")
        return None
    if made is not None:
        log.info("daily backup: %s", made.path)
    return made


# -- verify -----------------------------------------------------------------------------------


def _is_known(revision: str) -> bool:
    """Whether this build's migrations include ``revision`` (unknown = made by a newer NEXA)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        return ScriptDirectory.from_config(cfg).get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an id it does not know
        return False


def _newer_message(path: Path, revision: str) -> str:
    return (
        f"{path} was made by a newer version of NEXA Desktop (database schema {revision}; this "
        f"version knows up to {head_revision()}). Update NEXA Desktop, then restore it."
    )


def _not_ours(path: Path, why: str) -> str:
    return f"{path} is not a NEXA Desktop backup ({why}). Choose one that `nexa backup list` shows."


def verify_backup(path: Path) -> BackupCheck:
    """Check a backup without changing it: ours, complete (sha256 / size), readable end to end
    (``PRAGMA integrity_check`` or a full ``pg_restore`` read) and a schema this version knows."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
    except FileNotFoundError:
        return BackupCheck(path, False, f"There is no file at {path}.")
    except IsADirectoryError:
        return BackupCheck(path, False, f"{path} is a folder; give the path of a backup file.")
    except OSError as exc:
        return BackupCheck(path, False, f"Can't read {path}: {exc}.")
    if head.startswith(files.SQLITE_MAGIC):
        return _verify_sqlite(path, head)
    if head.startswith(b"PGDMP"):
        return _verify_pg(path)
    if not head:
        return BackupCheck(path, False, _not_ours(path, "the file is empty"))
    return BackupCheck(path, False, _not_ours(path, "neither an SQLite database nor a PostgreSQL dump"))


def _manifest_mismatch(path: Path) -> str | None:
    manifest = files.read_manifest(path)
    if manifest is None or not manifest.get("sha256"):
        return None
    if files.sha256_file(path) != manifest["sha256"]:
        return (
            f"{path} has changed since it was made on {manifest.get('created', '?')}: it is "
            "truncated or damaged (its checksum does not match). Use another backup."
        )
    return None


def _sqlite_header_problem(path: Path, head: bytes) -> str | None:
    """A file shorter than its own header says it is has been cut off (copy interrupted)."""
    if len(head) < 100:
        return f"{path} is truncated (shorter than an SQLite header). Use another backup."
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    counter_valid = head[24:28] == head[92:96]
    size = path.stat().st_size
    if pages and counter_valid and size < page_size * pages:
        return (
            f"{path} is truncated: it holds {size:,} bytes of its {page_size * pages:,}. Use another backup."
        )
    return None


def _verify_sqlite(path: Path, head: bytes) -> BackupCheck:
    problem = _manifest_mismatch(path) or _sqlite_header_problem(path, head)
    if problem:
        return BackupCheck(path, False, problem, engine="sqlite", integrity="truncated")
    try:
        conn = _open_copy(path)
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)").fetchall()]
            integrity = "ok" if rows == ["ok"] else "; ".join(rows)
            tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            revision: str | None = None
            if "alembic_version" in tables:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = str(row[0]) if row else None
            counts: dict[str, int] = {
                t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
                for t in ("jobs", "packages", "page_exemplars", "people")
                if t in tables
            }
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return BackupCheck(
            path, False, f"{path} is damaged and can't be read ({exc}). Use another backup.", engine="sqlite",
            integrity=str(exc),
        )  # fmt: skip
    if integrity != "ok":
        return BackupCheck(
            path, False, f"{path} fails SQLite's integrity check ({integrity[:300]}). Use another backup.",
            engine="sqlite", schema_revision=revision, integrity=integrity,
        )  # fmt: skip
    return _schema_verdict(path, "sqlite", tables, revision, integrity, counts)


def _schema_verdict(
    path: Path, engine: str, tables: set[str], revision: str | None, integrity: str, counts: Mapping[str, int]
) -> BackupCheck:
    def bad(message: str) -> BackupCheck:
        return BackupCheck(path, False, message, engine, revision, integrity, counts)

    if "alembic_version" not in tables or revision is None:
        return bad(_not_ours(path, "it has no NEXA schema version"))
    if not _is_known(revision):
        return bad(_newer_message(path, revision))
    required = (
        set(models.Base.metadata.tables) | {"alembic_version"} if revision == head_revision() else CORE_TABLES
    )
    missing = sorted(required - tables)
    if missing:
        return bad(_not_ours(path, f"tables missing: {', '.join(missing)}"))
    jobs = counts.get("jobs")
    what = f", {jobs:,} jobs" if jobs is not None else ""
    return BackupCheck(
        path,
        True,
        f"{path} is a good NEXA backup (schema {revision}{what}).",
        engine,
        revision,
        integrity,
        counts,
    )


def _open_copy(path: Path) -> sqlite3.Connection:
    """Open a backup read-only; a copy carried with its -wal (taken from a live folder) is read
    with it, anything else without ever writing beside the file."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
    return files.open_read_only(path)


# -- restore ----------------------------------------------------------------------------------


def restore_backup(
    path: Path, db_url: str | None = None, *, progress: RestoreProgress | None = None
) -> BackupInfo | None:
    """Replace the database with the backup at ``path``, all or nothing; returns the
    ``pre-restore`` backup of the database it replaced (None when there was none).

    The caller must have closed its own connections first (``Database.dispose()``); any other
    program or NEXA window using the database makes it refuse with a message, changing nothing.
    """
    report = progress or (lambda _phase, _fraction: None)
    path = Path(path)
    report("checking", 0.0)
    check = verify_backup(path)
    if not check.ok:
        raise BackupError(f"Not restored: {check.message}")
    target = _target(db_url)
    if target.db_file is not None:
        if check.engine != "sqlite":
            raise BackupError(
                f"Not restored: {path} is a PostgreSQL backup and this NEXA uses the SQLite database "
                f"{target.db_file}. Restore it on the office database instead."
            )
        pre = _restore_sqlite(path, target.db_file, report)
    else:
        if check.engine != "postgresql":
            raise BackupError(
                f"Not restored: {path} is an SQLite backup and this NEXA uses the office database "
                f"{describe(target.url)}. Restore it with the SQLite database selected instead."
            )
        pre = _restore_pg(path, target, check, report)
    report("done", 1.0)
    return pre


def _phase(report: RestoreProgress, phase: str) -> files.Progress:
    return lambda fraction: report(phase, fraction)


def _prepare(path: Path, db_file: Path, report: RestoreProgress) -> Path:
    """Copy the backup beside the database, bring it to this version's schema and check it again,
    so the live file is only touched once a good copy is ready on the same disk."""
    folder = db_file.parent
    files.ensure_writable(folder, "the restored database")
    files.clean_partials(folder)
    for stale in folder.glob(f".{files.glob_escape(db_file.name)}.restore-*"):
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < files.utcnow().timestamp() - files.STALE_PARTIAL_S:
                stale.unlink()
    ready = folder / f".{db_file.name}.restore-{os.getpid()}"
    files.remove_with_sidecars(ready)
    try:
        source = _open_copy(path)
        try:
            files.copy_sqlite(
                source, ready, progress=_phase(report, "preparing"), what="the restored database"
            )
        finally:
            source.close()
        migrated = files.sqlite_revision(ready) != head_revision()
        if migrated:
            engine = create_engine(f"sqlite:///{ready.as_posix()}")
            try:
                with engine.begin() as conn:
                    command.upgrade(alembic_config(conn), "head")
            finally:
                engine.dispose()
        conn2 = sqlite3.connect(ready)
        try:
            # verify_backup ran the full integrity_check on the backup; a page-exact copy of it
            # needs the quick one, a migrated copy the full one again.
            pragma = "integrity_check(5)" if migrated else "quick_check(5)"
            rows = [str(r[0]) for r in conn2.execute(f"PRAGMA {pragma}").fetchall()]
            conn2.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn2.close()
        if rows != ["ok"] or files.sqlite_revision(ready) != head_revision():
            raise BackupError(
                f"Not restored: the prepared copy of {path} failed its check ({'; '.join(rows)})."
            )
        files.fsync_file(ready)
        return ready
    except (SQLAlchemyError, CommandError, sqlite3.Error, OSError) as exc:
        files.remove_with_sidecars(ready)
        if files.is_disk_full(exc) or isinstance(exc, OSError):
            raise files.explain_write_error(exc, folder, "the restored database") from exc
        raise BackupError(f"Not restored: {path} could not be brought up to date ({exc}).") from exc
    except BaseException:
        files.remove_with_sidecars(ready)
        raise


def _in_use_message(db_file: Path) -> str:
    return (
        f"Not restored: the database {db_file} is open in another NEXA Desktop window or program. "
        "Close it and try again; nothing was changed."
    )


def _lock(db_file: Path) -> sqlite3.Connection | None:
    """An exclusive hold on the live database for the whole restore, or None when the file is too
    damaged to open. In WAL mode (how NEXA runs) this fails while any other process has it open."""
    try:
        conn = sqlite3.connect(db_file, timeout=LOCK_WAIT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(f"Not restored: can't open the database {db_file} ({exc}).") from exc
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a hot journal rolls back here
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        conn.close()
        low = str(exc).lower()
        if "locked" in low or "busy" in low:
            raise BackupError(_in_use_message(db_file)) from exc
        if files.is_read_only(exc):
            raise files.explain_write_error(exc, db_file.parent, "the restored database") from exc
        raise BackupError(f"Not restored: can't lock the database {db_file} ({exc}).") from exc
    except sqlite3.DatabaseError:
        conn.close()
        return None  # not a database / malformed: nothing to protect but the bytes themselves
    return conn


def _keep_damaged(db_file: Path) -> BackupInfo:
    """Keep a database SQLite can't open, byte for byte (with its -wal), before replacing it."""
    folder = files.sqlite_backups_dir(db_file)
    files.ensure_writable(folder, "a copy of the damaged database")
    created = files.utcnow()
    target = folder / files.backup_name(db_file.stem, "pre-restore", created, files.SQLITE_EXT)
    try:
        for suffix in ("", "-wal"):
            src = db_file.with_name(db_file.name + suffix)
            if src.exists():
                dst = target.with_name(target.name + suffix)
                partial = dst.with_name(f".{dst.name}{files.PARTIAL_SUFFIX}")
                shutil.copyfile(src, partial)
                files.fsync_file(partial)
                os.replace(partial, dst)
        files.fsync_dir(folder)
    except OSError as exc:
        files.remove_with_sidecars(target)
        raise files.explain_write_error(exc, folder, "a copy of the damaged database") from exc
    info = BackupInfo(target, created, "pre-restore", target.stat().st_size, None)
    files.write_manifest(info, engine="sqlite", source=str(db_file), sha256=files.sha256_file(target))
    return info


def _restore_sqlite(path: Path, db_file: Path, report: RestoreProgress) -> BackupInfo | None:
    ready = _prepare(path, db_file, report)
    try:
        if not db_file.exists():
            _swap_in(ready, db_file)
            log.info("restored %s into a new database %s", path, db_file)
            return None
        pre: BackupInfo | None = None
        lock = _lock(db_file)
        if lock is not None:
            try:
                try:
                    pre = files.create_sqlite_backup(
                        db_file, "pre-restore", source=lock, progress=_phase(report, "saving")
                    )
                except files.DamagedDatabase:
                    pre = None  # kept byte for byte below instead
                if pre is not None:
                    _copy_into(ready, lock, db_file, report)
            finally:
                lock.close()
        if pre is None:
            # SQLite can't read the live file: keep its bytes, then put the good copy in its place.
            pre = _keep_damaged(db_file)
            _swap_in(ready, db_file)
    finally:
        files.remove_with_sidecars(ready)
    files.rotate_sqlite_backups(db_file, _keep("pre-restore"))
    log.info("restored %s into %s (previous copy: %s)", path, db_file, pre.path)
    return pre


def _copy_into(ready: Path, lock: sqlite3.Connection, db_file: Path, report: RestoreProgress) -> None:
    """One write transaction replaces every page of the live file: the journal is the commit."""
    try:
        # Leaving WAL needs exclusive access, which the lock gives; NEXA turns WAL back on when it
        # next opens the file. A rollback journal allows any page size and rolls back a kill.
        mode = lock.execute("PRAGMA journal_mode=DELETE").fetchone()
        if mode is None or str(mode[0]).lower() != "delete":
            raise BackupError(_in_use_message(db_file))
        lock.execute("PRAGMA synchronous=FULL")
        source = sqlite3.connect(f"file:{ready.as_posix()}?mode=ro", uri=True)
        try:
            steps = files.step_progress(_phase(report, "restoring"))
            source.backup(lock, pages=files.STEP_PAGES, progress=steps)
        finally:
            source.close()
        result = lock.execute("PRAGMA quick_check").fetchone()
        if result is None or result[0] != "ok":
            raise BackupError(f"The restored database {db_file} failed its check ({result}); restore again.")
    except sqlite3.OperationalError as exc:
        low = str(exc).lower()
        if "locked" in low or "busy" in low:
            raise BackupError(_in_use_message(db_file)) from exc
        raise files.explain_write_error(exc, db_file.parent, "the restored database") from exc


def _swap_in(ready: Path, db_file: Path) -> None:
    """Rename the prepared file onto the database path. Only used when there is no usable live
    database; its stale -wal/-shm/-journal go first so they are never applied to the new file."""
    for suffix in ("-wal", "-shm", "-journal"):
        files.remove_quietly(db_file.with_name(db_file.name + suffix))
    try:
        os.replace(ready, db_file)
        files.fsync_dir(db_file.parent)
    except PermissionError as exc:
        if os.name == "nt":  # Windows refuses to replace a file another program has open
            raise BackupError(_in_use_message(db_file)) from exc
        raise files.explain_write_error(exc, db_file.parent, "the restored database") from exc
    except OSError as exc:
        raise files.explain_write_error(exc, db_file.parent, "the restored database") from exc


# -- PostgreSQL -------------------------------------------------------------------------------


def _version_key(folder: str) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", Path(folder).parent.name)
    return tuple(int(n) for n in numbers) or (0,)


def find_pg_tool(name: str) -> Path | None:
    """``pg_dump``/``pg_restore``/``psql``: PATH first, then the usual install folders (newest
    version first, so it can read any older server)."""
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    exe = f"{name}.exe" if os.name == "nt" else name
    patterns: list[str] = []
    if os.name == "nt":
        for var in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)"):
            base = os.environ.get(var)
            if base:
                patterns.append(str(Path(base) / "PostgreSQL" / "*" / "bin"))
    else:
        patterns += [
            "/usr/lib/postgresql/*/bin",
            "/usr/pgsql-*/bin",
            "/Applications/Postgres.app/Contents/Versions/*/bin",
        ]
    folders = sorted({f for p in patterns for f in glob.glob(p)}, key=_version_key, reverse=True)
    folders += ["/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin"] if os.name != "nt" else []
    for folder in folders:
        candidate = Path(folder) / exe
        if candidate.is_file():
            return candidate
    return None


def _require_tool(name: str, what: str) -> Path:
    tool = find_pg_tool(name)
    if tool is None:
        raise BackupError(
            f"Can't {what}: the PostgreSQL client program {name} was not found. Install the PostgreSQL "
            "client tools (the same major version as the office server or newer) and add their bin "
            "folder to PATH, or ask IT to back up the office database."
        )
    return tool


_PG_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
}


def _pg_env(url: str) -> dict[str, str]:
    """libpq settings for a child process: the password travels in its environment only."""
    parsed = make_url(url)
    env = dict(os.environ)
    env.update({"PGCONNECT_TIMEOUT": "10", "PGAPPNAME": "nexa-backup"})
    for key, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", str(parsed.port) if parsed.port else None),
        ("PGUSER", parsed.username),
        ("PGDATABASE", parsed.database),
        ("PGPASSWORD", parsed.password),
    ):
        if value:
            env[key] = str(value)
    for key, var in _PG_ENV.items():
        option = parsed.query.get(key)
        if isinstance(option, str):
            env[var] = option
    return env


def _run(cmd: list[str], env: Mapping[str, str], what: str, folder: Path | None = None) -> str:
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if os.name == "nt" else 0
    try:
        done = subprocess.run(
            cmd,
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
            creationflags=flags,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise BackupError(f"Can't {what}: {Path(cmd[0]).name} could not start ({exc}).") from exc
    if done.returncode != 0:
        err = (done.stderr or done.stdout).strip()
        if folder is not None and ("No space left" in err or "disk full" in err.lower()):
            raise files.explain_write_error(OSError(28, err), folder, what)
        last = err.splitlines()[-3:] if err else [f"exit status {done.returncode}"]
        raise BackupError(f"Can't {what}: {Path(cmd[0]).name} said: {' / '.join(last)}")
    return done.stdout


def _pg_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        raise explain(exc, url) from exc
    finally:
        engine.dispose()


def _pg_dump(target: _Target, kind: str, *, now: dt.datetime | None) -> BackupInfo:
    pg_dump = _require_tool("pg_dump", "back up the office database")
    folder = target.folder
    files.ensure_writable(folder, "a backup")
    files.clean_partials(folder)
    revision = _pg_revision(target.url)
    created = now or files.utcnow()
    final = folder / files.backup_name(target.prefix, kind, created, files.PG_EXT)
    partial = final.with_name(f".{final.name}{files.PARTIAL_SUFFIX}")
    try:
        _run([str(pg_dump), "-Fc", "--no-password", "-f", str(partial)], _pg_env(target.url),
             "back up the office database", folder)  # fmt: skip
        files.fsync_file(partial)
        os.replace(partial, final)
        files.fsync_dir(folder)
    except OSError as exc:
        files.remove_quietly(partial, final)
        raise files.explain_write_error(exc, folder, "the backup") from exc
    except BaseException:
        files.remove_quietly(partial)
        raise
    info = BackupInfo(final, created.astimezone(dt.UTC), kind, final.stat().st_size, revision)
    files.write_manifest(
        info, engine="postgresql", source=describe(target.url), sha256=files.sha256_file(final)
    )
    log.info("backed up %s to %s (%s)", describe(target.url), final, kind)
    return info


_TOC_TABLE = re.compile(r"^\s*\d+;\s*\d+\s+\d+\s+TABLE\s+(\S+)\s+(\S+)\s")


def _verify_pg(path: Path) -> BackupCheck:
    mismatch = _manifest_mismatch(path)
    if mismatch:
        return BackupCheck(path, False, mismatch, engine="postgresql", integrity="truncated")
    pg_restore = find_pg_tool("pg_restore")
    if pg_restore is None:
        return BackupCheck(
            path, False, f"Can't check {path}: the PostgreSQL client program pg_restore was not found. "
            "Install the PostgreSQL client tools and add their bin folder to PATH.", engine="postgresql",
        )  # fmt: skip
    env = dict(os.environ)
    try:
        toc = _run([str(pg_restore), "-l", str(path)], env, f"read {path}")
        # Reading every entry (data included) is what finds a truncated or damaged archive.
        _run([str(pg_restore), "-f", os.devnull, str(path)], env, f"read {path}")
        data = _run(
            [str(pg_restore), "-a", "-t", "alembic_version", "-f", "-", str(path)], env, f"read {path}"
        )
    except BackupError as exc:
        return BackupCheck(
            path, False, f"{path} is damaged or truncated and can't be read ({exc}). Use another backup.",
            engine="postgresql", integrity="unreadable",
        )  # fmt: skip
    tables = {m[2] for line in toc.splitlines() if (m := _TOC_TABLE.match(line)) and m[1] == "public"}
    revision: str | None = None
    lines = data.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY public.alembic_version") and i + 1 < len(lines) and lines[i + 1] != "\\.":
            revision = lines[i + 1].split("\t")[0].strip() or None
            break
    return _schema_verdict(path, "postgresql", tables, revision, "ok", {})


def _restore_pg(path: Path, target: _Target, check: BackupCheck, report: RestoreProgress) -> BackupInfo:
    psql = _require_tool("psql", "restore the office database")
    pg_restore = _require_tool("pg_restore", "restore the office database")
    env = _pg_env(target.url)
    engine = make_engine(target.url)
    try:
        with engine.connect() as conn:
            others = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
            ).scalar_one()
            tables = [
                str(r[0])
                for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            ]
    except SQLAlchemyError as exc:
        raise explain(exc, target.url) from exc
    finally:
        engine.dispose()
    if others:
        raise BackupError(
            f"Not restored: the office database {describe(target.url)} is in use by {others} other "
            "connection(s). Close NEXA Desktop on the other computers and try again; nothing was changed."
        )
    report("saving", 0.0)
    pre = _pg_dump(target, "pre-restore", now=None)
    folder = target.folder
    stamp = files.utcnow().strftime("%Y%m%d%H%M%S%f")
    drop = folder / f".restore-{stamp}-drop.sql{files.PARTIAL_SUFFIX}"
    script = folder / f".restore-{stamp}.sql{files.PARTIAL_SUFFIX}"
    try:
        report("preparing", 0.0)
        _run([str(pg_restore), "--clean", "--if-exists", "--no-owner", "--no-privileges", "-f", str(script),
              str(path)], env, "restore the office database", folder)  # fmt: skip
        # Tables the backup doesn't have (a newer schema's) go too, so the result is exactly the copy.
        quoted = ['"' + t.replace('"', '""') + '"' for t in tables]
        drop.write_text(
            "".join(f"DROP TABLE IF EXISTS public.{q} CASCADE;\n" for q in quoted), encoding="utf-8"
        )
        report("restoring", 0.0)
        # One transaction: if anything fails or the process dies, the server rolls it all back.
        _run([str(psql), "-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "--single-transaction",
              "-f", str(drop), "-f", str(script)], env, "restore the office database", folder)  # fmt: skip
    except OSError as exc:
        raise files.explain_write_error(exc, folder, "the restore script") from exc
    finally:
        files.remove_quietly(drop, script)
    if check.schema_revision != head_revision():
        open_database(target.url).dispose()  # bring the restored copy up to this version
    files.rotate(target.backups(), _keep("pre-restore"))
    log.info("restored %s into %s (previous copy: %s)", path, describe(target.url), pre.path)
    return pre

"""Backup files on disk: names, manifests, the SQLite online-backup copy and rotation.

The store layer owns these mechanics so :func:`nexa_desktop.store.db.open_database` can copy the
file before a migration without importing the services layer; ``nexa_desktop.services.backup``
builds the policy (daily/weekly, verify, restore, PostgreSQL) on top.

A backup is ``<prefix>-<UTC stamp>-<kind>.<db|dump>`` beside a ``….json`` manifest (kind, time,
schema revision, sha256). Files are written under a dot-prefixed ``.partial`` name, flushed to
disk and renamed, so a crash or a full disk never leaves something that looks like a backup.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nexa_desktop.domain.errors import NexaError

log = logging.getLogger(__name__)

KINDS = ("daily", "weekly", "manual", "pre-migration", "pre-restore")
#: Copies kept per kind when nothing else is configured (daily/weekly come from the settings).
DEFAULT_KEEP: Mapping[str, int] = {
    "daily": 7,
    "weekly": 4,
    "manual": 20,
    "pre-migration": 10,
    "pre-restore": 10,
}
MANIFEST_FORMAT = "nexa-backup"
MANIFEST_VERSION = 1
SQLITE_EXT = "db"
PG_EXT = "dump"
PARTIAL_SUFFIX = ".partial"
#: Pages copied per step of the online backup API (1 MiB at SQLite's default page size).
STEP_PAGES = 256
#: Partial files older than this are left-overs of a crash and are deleted.
STALE_PARTIAL_S = 600.0
SQLITE_MAGIC = b"SQLite format 3\x00"

_NAME_RE = re.compile(
    r"^(?P<prefix>.+)-(?P<stamp>\d{8}-\d{6}-\d{6})-(?P<kind>[a-z]+(?:-[a-z]+)*)\.(?P<ext>db|dump)$"
)
_SIDECARS = (".json", "-wal", "-shm", "-journal")

#: ``progress(fraction)``: 0.0 … 1.0 as pages are copied.
Progress = Callable[[float], None]


class BackupError(NexaError):
    """A backup could not be made, checked or restored; the message says why and what to do."""


class DamagedDatabase(BackupError):
    """The database being copied is too damaged for SQLite to read page by page."""


@dataclass(frozen=True)
class BackupInfo:
    """One backup on disk."""

    path: Path
    created: dt.datetime  # aware, UTC
    kind: str
    size_bytes: int
    schema_revision: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "created": self.created.isoformat(),
            "kind": self.kind,
            "size_bytes": self.size_bytes,
            "schema_revision": self.schema_revision,
        }


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sqlite_backups_dir(db_file: Path) -> Path:
    """Backups sit beside the data: ``<folder of the database>/backups`` (the data dir's for the
    embedded database)."""
    return db_file.parent / "backups"


def backup_name(prefix: str, kind: str, created: dt.datetime, ext: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown backup kind {kind!r}")
    stamp = created.astimezone(dt.UTC).strftime("%Y%m%d-%H%M%S-%f")
    return f"{prefix}-{stamp}-{kind}.{ext}"


def parse_name(path: Path) -> tuple[str, dt.datetime, str] | None:
    """``(prefix, created, kind)`` from a backup file name, or None for any other file."""
    match = _NAME_RE.match(path.name)
    if match is None or match["kind"] not in KINDS:
        return None
    created = dt.datetime.strptime(match["stamp"], "%Y%m%d-%H%M%S-%f").replace(tzinfo=dt.UTC)
    return match["prefix"], created, match["kind"]


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest beside ``path`` when there is a readable one of ours."""
    try:
        data = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return None
    return data


def write_manifest(info: BackupInfo, *, engine: str, source: str, sha256: str) -> None:
    data = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "engine": engine,
        "source": source,
        **info.to_json(),
        "path": info.path.name,
        "sha256": sha256,
    }
    target = manifest_path(info.path)
    partial = target.with_name(f".{target.name}{PARTIAL_SUFFIX}")
    try:
        with partial.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, target)
    except OSError as exc:
        remove_quietly(partial)
        raise explain_write_error(exc, target.parent, "the backup's manifest") from exc


# -- files and errors -------------------------------------------------------------------------


def remove_quietly(*files: Path) -> None:
    for file in files:
        with contextlib.suppress(OSError):
            file.unlink(missing_ok=True)


def remove_with_sidecars(path: Path) -> None:
    """The file and its journal/WAL/manifest companions."""
    remove_quietly(path, *(path.with_name(path.name + s) for s in _SIDECARS))


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); Windows has no directory handles to flush."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename itself is still atomic
    finally:
        os.close(fd)


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in {errno.ENOSPC, getattr(errno, "EDQUOT", -1)}


def is_read_only(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        return "readonly" in text or "read-only" in text or "unable to open" in text
    return isinstance(exc, OSError) and exc.errno in {errno.EROFS, errno.EACCES, errno.EPERM}


def _is_io_error(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return "disk i/o error" in str(exc).lower()
    return isinstance(exc, OSError) and exc.errno in {errno.EIO, errno.EFBIG}


def explain_write_error(exc: BaseException, folder: Path, what: str) -> BackupError:
    """A sentence for a failed write: disk full, read-only medium, I/O failure, or the raw reason."""
    if is_disk_full(exc):
        return BackupError(
            f"Not enough disk space in {folder} for {what}. Free some space (or delete old backups) "
            "and try again; the partial copy was removed and nothing was changed."
        )
    if is_read_only(exc):
        return BackupError(
            f"Can't write {what} to {folder}: the folder or the disk is read-only. Move the NEXA "
            "data folder to a writable disk (or fix its permissions) and try again; nothing was changed."
        )
    if _is_io_error(exc):
        return BackupError(
            f"Writing {what} to {folder} failed ({exc}): the disk may be full, failing, or unable to "
            "hold a file this large. The partial copy was removed and nothing was changed."
        )
    return BackupError(f"Can't write {what} to {folder}: {exc}. Nothing was changed.")


def check_free_space(folder: Path, needed: int, what: str) -> None:
    """Refuse before writing when the disk plainly can't hold ``needed`` bytes."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < needed:
        raise BackupError(
            f"Not enough disk space in {folder} for {what}: it needs {needed / 1e6:,.1f} MB and "
            f"{free / 1e6:,.1f} MB are free. Free some space (or delete old backups) and try again; "
            "nothing was changed."
        )


def ensure_writable(folder: Path, what: str) -> None:
    """Create ``folder`` and prove a file can be written there, so a read-only medium or a full
    disk is reported before any work starts."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".nexa-probe-", delete=True) as fh:
            fh.write(b"x")
            fh.flush()
    except OSError as exc:
        raise explain_write_error(exc, folder, what) from exc


def clean_partials(folder: Path, older_than_s: float = STALE_PARTIAL_S) -> None:
    """Delete left-overs of a copy that was killed or ran out of space."""
    cutoff = time.time() - older_than_s
    with contextlib.suppress(OSError):
        for stale in folder.glob(f".*{PARTIAL_SUFFIX}*"):
            with contextlib.suppress(OSError):
                if stale.stat().st_mtime < cutoff:
                    stale.unlink()


# -- SQLite -----------------------------------------------------------------------------------


def open_read_only(path: Path) -> sqlite3.Connection:
    """Read a copy without writing beside it (works on read-only media and never creates -wal)."""
    return sqlite3.connect(f"file:{path.as_posix()}?mode=ro&immutable=1", uri=True)


def sqlite_revision(path: Path) -> str | None:
    """The Alembic revision stored in an SQLite file, or None when it has none (or isn't one)."""
    try:
        conn = open_read_only(path)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def step_progress(progress: Progress | None) -> Callable[[int, int, int], object] | None:
    if progress is None:
        return None
    report = progress

    def step(_status: int, remaining: int, total: int) -> None:
        report(1.0 if total <= 0 else (total - remaining) / total)

    return step


def copy_sqlite(
    source: sqlite3.Connection, target: Path, *, progress: Progress | None = None, what: str = "the backup"
) -> None:
    """Copy ``source`` into a new, self-contained file at ``target`` (rollback journal mode, no
    -wal), through ``.partial`` + fsync + rename. Raises :class:`BackupError` (partial removed)."""
    partial = target.with_name(f".{target.name}{PARTIAL_SUFFIX}")
    remove_with_sidecars(partial)
    try:
        page_size = int(source.execute("PRAGMA page_size").fetchone()[0])
        pages = int(source.execute("PRAGMA page_count").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise _damaged(exc) from exc
    check_free_space(target.parent, page_size * pages, what)
    try:
        dest = sqlite3.connect(partial, isolation_level=None)
        try:
            # A partial file is thrown away on any failure and flushed once at the end, so its
            # own journal and syncs would only slow the copy down.
            dest.execute("PRAGMA journal_mode=OFF")
            dest.execute("PRAGMA synchronous=OFF")
            source.backup(dest, pages=STEP_PAGES, progress=step_progress(progress))
            # The copy inherits WAL mode from the source; a backup must stand alone.
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()
        fsync_file(partial)
        os.replace(partial, target)
        fsync_dir(target.parent)
    except (OSError, sqlite3.Error) as exc:
        remove_with_sidecars(partial)
        text = str(exc).lower()
        if isinstance(exc, sqlite3.DatabaseError) and ("malformed" in text or "not a database" in text):
            raise _damaged(exc) from exc
        raise explain_write_error(exc, target.parent, what) from exc


def _damaged(exc: BaseException) -> BackupError:
    return DamagedDatabase(
        f"The database being copied is damaged ({exc}), so it can't be copied page by page. "
        "Restore a good backup (`nexa backup list`); nothing was changed."
    )


def create_sqlite_backup(
    db_file: Path,
    kind: str,
    *,
    source: sqlite3.Connection | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> BackupInfo:
    """Back ``db_file`` up with the online backup API (a consistent copy even while NEXA writes,
    WAL included) into its backups folder, with a manifest. ``source`` is an already open
    connection to copy from (a restore holds one with the database locked)."""
    folder = sqlite_backups_dir(db_file)
    ensure_writable(folder, "a backup")
    clean_partials(folder)
    created = now or utcnow()
    target = folder / backup_name(db_file.stem, kind, created, SQLITE_EXT)
    own = source is None
    try:
        conn = (
            source if source is not None else sqlite3.connect(f"file:{db_file.as_posix()}?mode=ro", uri=True)
        )
    except sqlite3.Error as exc:
        raise BackupError(f"Can't read the database {db_file} to back it up: {exc}.") from exc
    try:
        copy_sqlite(conn, target, progress=progress)
    finally:
        if own:
            conn.close()
    try:
        info = BackupInfo(
            path=target,
            created=created.astimezone(dt.UTC),
            kind=kind,
            size_bytes=target.stat().st_size,
            schema_revision=sqlite_revision(target),
        )
        write_manifest(info, engine="sqlite", source=str(db_file), sha256=sha256_file(target))
    except (OSError, BackupError):
        remove_with_sidecars(target)
        raise
    log.info("backed up %s to %s (%s)", db_file, target, kind)
    return info


# -- listing and rotation ---------------------------------------------------------------------


def _parse_created(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def describe_file(path: Path) -> BackupInfo | None:
    """A :class:`BackupInfo` for one of our backup files (manifest first, then the name)."""
    parsed = parse_name(path)
    if parsed is None:
        return None
    _prefix, created, kind = parsed
    try:
        size = path.stat().st_size
    except OSError:
        return None
    manifest = read_manifest(path)
    revision: str | None
    if manifest is not None:
        created = _parse_created(manifest.get("created")) or created
        raw = manifest.get("schema_revision")
        revision = str(raw) if raw else None
    else:
        revision = sqlite_revision(path) if path.suffix == f".{SQLITE_EXT}" else None
    return BackupInfo(path=path, created=created, kind=kind, size_bytes=size, schema_revision=revision)


def list_backup_files(folder: Path, prefix: str, ext: str) -> list[BackupInfo]:
    """Backups named ``<prefix>-…​.<ext>`` in ``folder``, newest first."""
    if not folder.is_dir():
        return []
    found: list[BackupInfo] = []
    for path in folder.glob(f"{glob_escape(prefix)}-*.{ext}"):
        parsed = parse_name(path)
        if parsed is None or parsed[0] != prefix:
            continue
        info = describe_file(path)
        if info is not None:
            found.append(info)
    found.sort(key=lambda b: (b.created, b.path.name), reverse=True)
    return found


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def rotate(backups: Iterable[BackupInfo], keep: Mapping[str, int]) -> list[Path]:
    """Delete all but the newest ``keep[kind]`` backups of each kind named in ``keep``; kinds not
    named are left alone. Returns the deleted paths."""
    by_kind: dict[str, list[BackupInfo]] = {}
    for info in backups:
        if info.kind in keep:
            by_kind.setdefault(info.kind, []).append(info)
    removed: list[Path] = []
    for kind, infos in by_kind.items():
        infos.sort(key=lambda b: (b.created, b.path.name), reverse=True)
        for stale in infos[max(keep[kind], 0) :]:
            remove_with_sidecars(stale.path)
            removed.append(stale.path)
            log.info("rotated out backup %s", stale.path)
    return removed


def rotate_sqlite_backups(db_file: Path, keep: Mapping[str, int]) -> list[Path]:
    return rotate(list_backup_files(sqlite_backups_dir(db_file), db_file.stem, SQLITE_EXT), keep)

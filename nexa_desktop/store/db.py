"""Engine, connections and start-up migrations for SQLite (embedded) and PostgreSQL (office).

``open_database`` is the one entry point: it resolves the URL, backs up an SQLite file before
migrating it, runs Alembic to head and turns driver errors into :class:`StorageError` messages.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from nexa_desktop import paths
from nexa_desktop.domain.errors import StorageError
from nexa_desktop.store import backup_files

log = logging.getLogger(__name__)

DATABASE_URL_ENV = "NEXA_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BACKUPS_KEPT = 10


def default_url() -> str:
    return f"sqlite:///{paths.database_file().as_posix()}"


def resolve_url(configured: str | None = None) -> str:
    """``NEXA_DATABASE_URL`` wins, then the settings value, then SQLite in the data dir."""
    url = os.environ.get(DATABASE_URL_ENV) or configured or default_url()
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    try:
        cur.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        pass  # read-only file: WAL cannot be switched on; reads still work, writes report clearly
    cur.close()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, connect_args={"connect_timeout": 5})


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def explain(exc: BaseException, url: str) -> StorageError:
    """Turn a driver error into a message a user can act on."""
    parsed = make_url(url)
    text = str(getattr(exc, "orig", None) or exc)
    low = text.lower()
    if parsed.get_backend_name() == "sqlite":
        where = parsed.database or "(memory)"
        if "not a database" in low or "malformed" in low or "corrupt" in low:
            return StorageError(
                f"The database file {where} is damaged or is not a NEXA database ({text}). "
                f"Backups are in {paths.backups_dir()}: restore one, or move the file away to "
                "start with an empty database."
            )
        if "locked" in low or "busy" in low:
            return StorageError(
                f"The database {where} is locked by another program or NEXA window. Close it and try again."
            )
        if "readonly" in low or "read-only" in low:
            return StorageError(
                f"The database file {where} is read-only. Check the file's permissions "
                "(or the folder's) and try again; nothing was saved."
            )
        if "unable to open" in low:
            return StorageError(f"Can't open the database file {where}: {text}.")
        return StorageError(f"Database error on {where}: {text}")
    target = describe(url)
    if "connection" in low or "could not" in low or "timeout" in low or "refused" in low:
        return StorageError(f"Can't reach the office database {target}: {text.strip()}")
    return StorageError(f"Database error on {target}: {text.strip()}")


@dataclass
class Database:
    """An open, migrated database."""

    url: str
    engine: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction; driver errors come out as :class:`StorageError`."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise explain(exc, self.url) from exc

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise explain(exc, self.url) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def _known_revision(revision: str) -> bool:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        return ScriptDirectory.from_config(cfg).get_revision(revision) is not None
    except CommandError:
        return False


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def backup_sqlite(db_file: Path, reason: str = "pre-migration") -> Path:
    """Copy the SQLite file with the online backup API (consistent even in WAL mode) into the
    backups folder beside it, keeping the newest :data:`BACKUPS_KEPT` of that kind."""
    info = backup_files.create_sqlite_backup(db_file, reason)
    backup_files.rotate_sqlite_backups(db_file, {reason: BACKUPS_KEPT})
    return info.path


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def open_database(url: str | None = None, *, migrate: bool = True) -> Database:
    """Open (and by default migrate) the database at ``url`` (see :func:`resolve_url`)."""
    url = resolve_url(url)
    db_file = _sqlite_file(url)
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    db = Database(url, engine)
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
        if migrate and current != head_revision():
            if current is not None and not _known_revision(current):
                raise StorageError(
                    f"The database {describe(url)} was updated by a newer version of NEXA Desktop "
                    f"(schema {current}). Update NEXA Desktop on this computer; nothing was changed."
                )
            if db_file is not None and current is not None and db_file.exists():
                try:
                    backup_sqlite(db_file)
                except backup_files.BackupError as exc:
                    raise StorageError(
                        f"NEXA Desktop must update the database {db_file} but could not back it up "
                        f"first, so it was not updated: {exc}"
                    ) from exc
            with engine.begin() as conn:
                command.upgrade(alembic_config(conn), "head")
            log.info("migrated %s from %s to %s", describe(url), current, head_revision())
    except StorageError:
        engine.dispose()
        raise
    except (SQLAlchemyError, sqlite3.Error, CommandError) as exc:
        engine.dispose()
        raise explain(exc, url) from exc
    return db

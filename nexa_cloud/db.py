"""Engine, transactions and start-up migrations for SQLite (default) and PostgreSQL.

Writes that must be serialised (seat allocation) run in :meth:`Database.write`: on SQLite that is
``BEGIN IMMEDIATE`` (one writer at a time, others wait on the busy timeout); on PostgreSQL the
callers lock rows with ``SELECT … FOR UPDATE``. :func:`open_database` migrates to head.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "nexa_cloud_alembic_version"
_WRITE_OPTION = "nexa_cloud_write"
T = TypeVar("T")


class DatabaseError(RuntimeError):
    """A database problem explained in words (URL without password, what to do)."""


def describe(url: str) -> str:
    """The URL without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    try:
        cur.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        pass
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine with SQLite pragmas and explicit BEGINs, or a pooled psycopg engine."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": 15, "check_same_thread": False},
            pool_size=10,
            max_overflow=30,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=30, connect_args={"connect_timeout": 5}
    )


def _is_retryable(exc: BaseException) -> bool:
    """Unique-constraint races, deadlocks, serialisation failures and SQLite busy errors."""
    if isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, OperationalError | DBAPIError):
        text = str(getattr(exc, "orig", exc)).lower()
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
        return sqlstate in {"40001", "40P01"} or "locked" in text or "busy" in text
    return False


@dataclass
class Database:
    """An open, migrated database."""

    url: str
    engine: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A (deferred) transaction for reads."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: ``BEGIN IMMEDIATE`` on SQLite, ordinary on PostgreSQL."""
        with self.engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def run_write(self, work: Callable[[Connection], T], *, attempts: int = 5) -> T:
        """``work`` in a write transaction, retried on races the database reports as conflicts."""
        for attempt in range(1, attempts + 1):
            try:
                with self.write() as conn:
                    return work(conn)
            except SQLAlchemyError as exc:
                if attempt == attempts or not _is_retryable(exc):
                    raise
                log.info("retrying a conflicting transaction (%s/%s): %s", attempt, attempts, exc)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _known_revision(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open ``url`` and migrate it to head; errors come out as :class:`DatabaseError`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
        if current is not None and not _known_revision(current):
            raise DatabaseError(
                f"The database {describe(url)} has schema {current}, written by a newer nexa-cloud. "
                "Upgrade nexa-cloud; nothing was changed."
            )
        if migrate and current != head_revision():
            with engine.begin() as conn:
                command.upgrade(alembic_config(conn), "head")
            log.info("migrated %s from %s to %s", describe(url), current, head_revision())
    except DatabaseError:
        engine.dispose()
        raise
    except (SQLAlchemyError, sqlite3.Error, CommandError) as exc:
        engine.dispose()
        raise DatabaseError(f"Can't open the database {describe(url)}: {getattr(exc, 'orig', exc)}") from exc
    return Database(url, engine)

"""Migrations, SQLite pragmas and backups before migrating an older database."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from nexa_desktop import paths
from nexa_desktop.domain.errors import StorageError
from nexa_desktop.store import db as store_db
from nexa_desktop.store.db import (
    Database,
    current_revision,
    head_revision,
    open_database,
    resolve_url,
)
from nexa_desktop.store.models import Base

_SECOND_REVISION = '''"""Test-only revision: adds a column so an existing database is "older"."""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("phone", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("phone")
'''


def test_fresh_database_is_at_head(db: Database) -> None:
    with db.connect() as conn:
        assert current_revision(conn) == head_revision()
        tables = set(inspect(conn).get_table_names())
    assert {"people", "crews", "jobs", "job_history", "outbox", "alembic_version"} <= tables


def test_schema_matches_the_models(db: Database) -> None:
    with db.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == []


def test_reopening_at_head_changes_nothing(sqlite_db: Database) -> None:
    again = open_database()
    try:
        with again.connect() as conn:
            assert current_revision(conn) == head_revision()
    finally:
        again.dispose()
    assert list(paths.backups_dir().glob("*.db")) == []


def test_sqlite_pragmas(sqlite_db: Database) -> None:
    with sqlite_db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    assert sqlite_db.is_sqlite
    assert Path(sqlite_db.url.removeprefix("sqlite:///")) == paths.database_file()


def test_sqlite_foreign_keys_are_enforced(sqlite_db: Database) -> None:
    with pytest.raises(StorageError, match="FOREIGN KEY"), sqlite_db.begin() as conn:
        conn.exec_driver_sql("INSERT INTO crews (name, foreman_id, size, skills, active, version) "
                             "VALUES ('Crew X', 999, 4, '[]', 1, 1)")  # fmt: skip


def test_backup_is_made_before_migrating_an_older_file(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite_db.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO people (name, role, lan_id, active, version) VALUES ('Old Row', 'gf', 'OLD1', 1, 1)"
        )
    sqlite_db.dispose()
    old_head = head_revision()

    # A newer app version: the shipped migrations plus one more revision.
    newer = tmp_path / "migrations"
    shutil.copytree(store_db.MIGRATIONS_DIR, newer, ignore=shutil.ignore_patterns("__pycache__"))
    (newer / "versions" / "9999_test.py").write_text(_SECOND_REVISION.format(head=old_head))
    monkeypatch.setattr(store_db, "MIGRATIONS_DIR", newer)
    assert head_revision() == "9999"

    upgraded = open_database()
    try:
        with upgraded.connect() as conn:
            assert current_revision(conn) == "9999"
            columns = {c["name"] for c in inspect(conn).get_columns("people")}
            assert "phone" in columns
            assert conn.exec_driver_sql("SELECT name FROM people").scalar() == "Old Row"
    finally:
        upgraded.dispose()

    backups = list(paths.backups_dir().glob("nexa-*-pre-migration.db"))
    assert len(backups) == 1
    copy = sqlite3.connect(backups[0])
    try:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (old_head,)
        assert copy.execute("SELECT name FROM people").fetchall() == [("Old Row",)]
    finally:
        copy.close()


def test_new_file_gets_no_backup(data_dir: Path) -> None:
    database = open_database()
    database.dispose()
    assert paths.database_file().exists()
    assert list(paths.backups_dir().glob("*.db")) == []


def test_backups_are_pruned(sqlite_db: Database) -> None:
    for _ in range(store_db.BACKUPS_KEPT + 3):
        store_db.backup_sqlite(paths.database_file(), reason="manual")
    assert len(list(paths.backups_dir().glob("nexa-*.db"))) == store_db.BACKUPS_KEPT


def test_resolve_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_url() == f"sqlite:///{paths.database_file().as_posix()}"
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert resolve_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv(store_db.DATABASE_URL_ENV, "sqlite:////tmp/x.db")
    assert resolve_url("postgresql://u@h/db") == "sqlite:////tmp/x.db"


def test_migrate_false_leaves_an_empty_database_alone(data_dir: Path) -> None:
    database = open_database(migrate=False)
    try:
        with database.connect() as conn:
            assert current_revision(conn) is None
            assert inspect(conn).get_table_names() == []
    finally:
        database.dispose()


def test_database_from_a_newer_version_is_refused_clearly(db: Database) -> None:
    """An office database already migrated by a newer NEXA must not crash an older one."""
    with db.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00d'")
    db.dispose()
    with pytest.raises(StorageError, match="newer"):
        open_database(db.url).dispose()

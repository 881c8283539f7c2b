"""Shared by the backup tests: office-like data, a change to it, and a content fingerprint."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, select

from nexa_desktop.bench.backup import seed_office
from nexa_desktop.store import models
from nexa_desktop.store import packages as pkg_store
from nexa_desktop.store.db import Database

TABLES = (
    models.people, models.crews, models.jobs, models.job_history,
    models.packages, models.package_files, models.page_exemplars,
)  # fmt: skip


def fill(db: Database, jobs: int = 40, exemplars: int | None = None, text_size: int = 0) -> None:
    """Demo jobs (with history), verification records with files, and learned page types;
    ``text_size`` pads each learned page's text (to make a big database quickly)."""
    seed_office(
        db, jobs, packages=max(jobs // 10, 2), exemplars=max(jobs // 5, 3) if exemplars is None else exemplars
    )
    if text_size:
        with db.begin() as conn:
            pad = f"printf('%.{text_size}c', 'x')" if db.is_sqlite else f"repeat('x', {text_size})"
            conn.exec_driver_sql(f"UPDATE page_exemplars SET text = text || {pad}")


def change(db: Database, marker: str = "after the backup") -> None:
    """Edits a user makes after a backup: a learned page, a job edit, a deleted record."""
    with db.begin() as conn:
        pkg_store.replace_exemplar(
            conn, doc_type="ec_tag", text=marker, source_sha256="f" * 64, source_page=9
        )
        conn.execute(models.jobs.update().where(models.jobs.c.id == 1).values(address=marker))
        first = conn.execute(select(models.packages.c.id).order_by(models.packages.c.id)).scalar()
        conn.execute(models.packages.delete().where(models.packages.c.id == first))


def fingerprint_engine(engine: Engine) -> str:
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in TABLES:
            digest.update(table.name.encode())
            for row in conn.execute(select(table).order_by(table.c.id)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def fingerprint(db: Database) -> str:
    return fingerprint_engine(db.engine)


def fingerprint_file(path: Path) -> str:
    """The content of an SQLite file, read without writing anything beside it."""
    uri = f"file:{path.as_posix()}?mode=ro&immutable=1"
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    try:
        return fingerprint_engine(engine)
    finally:
        engine.dispose()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()

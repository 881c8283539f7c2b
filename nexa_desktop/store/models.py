"""ORM table definitions. Every user-editable table has a ``version`` column (optimistic locking).

Repositories use these tables through SQLAlchemy Core for speed; Alembic migrations are the
source of truth for the schema on disk and are checked against this metadata in the tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PersonRow(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    lan_id: Mapped[str | None] = mapped_column(String(4), unique=True)
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class CrewRow(Base):
    __tablename__ = "crews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    foreman_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    size: Mapped[int] = mapped_column(Integer, default=4)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("pm_number IS NOT NULL OR notification_number IS NOT NULL", name="has_id"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_jobs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pm_number: Mapped[str | None] = mapped_column(String(8), unique=True)
    notification_number: Mapped[str | None] = mapped_column(String(9), unique=True)
    wo_number: Mapped[str | None] = mapped_column(String(40))
    work_type: Mapped[str] = mapped_column(String(20), default="estimated")
    division: Mapped[str | None] = mapped_column(String(2))
    mat_code: Mapped[str | None] = mapped_column(String(3))
    address: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[str] = mapped_column(String(10), default="C")
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(30), default="new")
    prefield_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    gf_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    foreman_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crews.id"))
    scheduled_start: Mapped[dt.date | None] = mapped_column(Date)
    scheduled_end: Mapped[dt.date | None] = mapped_column(Date)
    stuck_reason: Mapped[str | None] = mapped_column(Text)
    stuck_from: Mapped[str | None] = mapped_column(String(30))
    go_back_reason: Mapped[str | None] = mapped_column(Text)
    dependencies: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class JobHistoryRow(Base):
    """Append-only: database triggers refuse UPDATE and DELETE."""

    __tablename__ = "job_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(120))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer)


class OutboxRow(Base):
    """Usage events waiting to be sent to the account service (aggregate data only)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class PackageRow(Base):
    """A verified job package: where it was, what the report said, and the board job it belongs to."""

    __tablename__ = "packages"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_packages_checked_at", "checked_at"),
        Index("ix_packages_pm_number", "pm_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    root: Mapped[str] = mapped_column(Text)
    pm_number: Mapped[str | None] = mapped_column(String(20))
    notification_number: Mapped[str | None] = mapped_column(String(20))
    work_type: Mapped[str] = mapped_column(String(20))
    verdict: Mapped[str] = mapped_column(String(10))
    report_json: Mapped[str] = mapped_column(Text)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), index=True)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class PackageFileRow(Base):
    """One file of a verified package and its content hash (the same file twice is recognised)."""

    __tablename__ = "package_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), index=True)
    rel_path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)


class PageExemplarRow(Base):
    """A page a user re-labelled: its text and the type they chose (the classifier learns from it)."""

    __tablename__ = "page_exemplars"
    __table_args__ = (Index("ix_page_exemplars_source", "source_sha256", "source_page"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_page: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


people = cast(Table, PersonRow.__table__)
crews = cast(Table, CrewRow.__table__)
jobs = cast(Table, JobRow.__table__)
job_history = cast(Table, JobHistoryRow.__table__)
outbox = cast(Table, OutboxRow.__table__)
packages = cast(Table, PackageRow.__table__)
package_files = cast(Table, PackageFileRow.__table__)
page_exemplars = cast(Table, PageExemplarRow.__table__)

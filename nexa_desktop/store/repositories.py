"""Reads and writes of jobs, people, crews, history and the outbox (SQLAlchemy Core).

Every function takes an open :class:`~sqlalchemy.Connection` so a service can put several
writes (job + history + outbox) in one transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from nexa_desktop.domain.errors import NotFound, StaleWrite
from nexa_desktop.domain.jobs import (
    Crew,
    Dependency,
    Job,
    JobStatus,
    Person,
    Priority,
    Role,
    WorkType,
)
from nexa_desktop.store.models import crews, job_history, jobs, outbox, people


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# -- jobs -------------------------------------------------------------------------------------

_JOB_COLUMNS = [c for c in jobs.c if c.name not in ("created_at", "updated_at")]


def _job_from_row(row: RowMapping) -> Job:
    return Job(
        id=row["id"],
        pm_number=row["pm_number"],
        notification_number=row["notification_number"],
        status=JobStatus(row["status"]),
        version=row["version"],
        address=row["address"],
        city=row["city"],
        wo_number=row["wo_number"],
        work_type=WorkType(row["work_type"]),
        division=row["division"],
        mat_code=row["mat_code"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        priority=Priority(row["priority"]),
        due_date=row["due_date"],
        prefield_complete=bool(row["prefield_complete"]),
        gf_id=row["gf_id"],
        foreman_id=row["foreman_id"],
        crew_id=row["crew_id"],
        scheduled_start=row["scheduled_start"],
        scheduled_end=row["scheduled_end"],
        stuck_reason=row["stuck_reason"],
        stuck_from=JobStatus(row["stuck_from"]) if row["stuck_from"] else None,
        go_back_reason=row["go_back_reason"],
        dependencies=tuple(Dependency.from_json(d) for d in row["dependencies"] or ()),
        notes=row["notes"],
    )


def _to_db(updates: Mapping[str, Any]) -> dict[str, Any]:
    """Domain values (enums, dependency tuples) to column values."""
    out: dict[str, Any] = {}
    for key, value in updates.items():
        if key == "dependencies":
            value = [d.to_json() if isinstance(d, Dependency) else d for d in value]
        elif isinstance(value, StrEnum):
            value = value.value
        out[key] = value
    return out


def job_to_values(job: Job) -> dict[str, Any]:
    """All stored columns of ``job`` (for inserts and for undo snapshots)."""
    return _to_db({c.name: getattr(job, c.name) for c in _JOB_COLUMNS if c.name not in ("id",)})


def list_jobs(conn: Connection) -> list[Job]:
    rows = conn.execute(
        select(*_JOB_COLUMNS).order_by(jobs.c.due_date.asc().nulls_last(), jobs.c.id)
    ).mappings()
    return [_job_from_row(r) for r in rows]


def get_job(conn: Connection, job_id: int) -> Job:
    row = conn.execute(select(*_JOB_COLUMNS).where(jobs.c.id == job_id)).mappings().first()
    if row is None:
        raise NotFound(f"Job {job_id} no longer exists.")
    return _job_from_row(row)


def find_job_ids_by_pm(conn: Connection, pm_numbers: Iterable[str]) -> dict[str, int]:
    wanted = list(pm_numbers)
    if not wanted:
        return {}
    out: dict[str, int] = {}
    for chunk_start in range(0, len(wanted), 500):
        chunk = wanted[chunk_start : chunk_start + 500]
        rows = conn.execute(select(jobs.c.pm_number, jobs.c.id).where(jobs.c.pm_number.in_(chunk)))
        out.update({r.pm_number: r.id for r in rows})
    return out


def find_job_ids_by_notification(conn: Connection, numbers: Iterable[str]) -> dict[str, int]:
    wanted = list(numbers)
    out: dict[str, int] = {}
    for chunk_start in range(0, len(wanted), 500):
        chunk = wanted[chunk_start : chunk_start + 500]
        rows = conn.execute(
            select(jobs.c.notification_number, jobs.c.id).where(jobs.c.notification_number.in_(chunk))
        )
        out.update({r.notification_number: r.id for r in rows})
    return out


def insert_jobs(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Bulk insert (version 1, timestamps now). Rows hold domain or column values."""
    if not rows:
        return
    now = utcnow()
    prepared = []
    for row in rows:
        # Every row carries every column (executemany needs the same keys in each row).
        values: dict[str, Any] = {c.name: None for c in _JOB_COLUMNS if c.name != "id"}
        values |= {
            "work_type": "estimated",
            "address": "",
            "city": "",
            "priority": "C",
            "status": "new",
            "prefield_complete": False,
            "dependencies": [],
            "notes": "",
        }
        values.update(_to_db(row))
        values.update(created_at=now, updated_at=now, version=1)
        prepared.append(values)
    conn.execute(insert(jobs), prepared)


def update_job(conn: Connection, job_id: int, expected_version: int, updates: Mapping[str, Any]) -> int:
    """Apply ``updates`` if the row is still at ``expected_version``; returns the new version."""
    values = _to_db(updates)
    values.update(version=expected_version + 1, updated_at=utcnow())
    result = conn.execute(
        update(jobs).where(jobs.c.id == job_id, jobs.c.version == expected_version).values(**values)
    )
    if result.rowcount == 1:
        return expected_version + 1
    current = conn.execute(select(jobs.c.version).where(jobs.c.id == job_id)).scalar()
    if current is None:
        raise NotFound(f"Job {job_id} no longer exists.")
    raise StaleWrite(
        "Someone else changed this job since you opened it "
        f"(your copy is version {expected_version}, the saved one is {current}). "
        "The board has been refreshed; check the card and try again."
    )


def count_jobs(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(jobs)).scalar_one())


# -- history ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: dt.datetime
    actor: str
    action: str
    from_status: JobStatus | None
    to_status: JobStatus | None
    reason: str
    changes: dict[str, Any]
    version: int


def add_history(
    conn: Connection,
    *,
    job_id: int,
    actor: str,
    action: str,
    from_status: JobStatus | None,
    to_status: JobStatus | None,
    version: int,
    reason: str = "",
    changes: Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(job_history).values(
            job_id=job_id,
            at=utcnow(),
            actor=actor,
            action=action,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value if to_status else None,
            reason=reason,
            changes=dict(changes or {}),
            version=version,
        )
    )


def add_history_many(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(insert(job_history), [{"at": utcnow(), "reason": "", "changes": {}, **r} for r in rows])


def job_history_entries(conn: Connection, job_id: int) -> list[HistoryEntry]:
    rows = conn.execute(
        select(job_history).where(job_history.c.job_id == job_id).order_by(job_history.c.id.desc())
    ).mappings()
    return [
        HistoryEntry(
            at=_aware(r["at"]),
            actor=r["actor"],
            action=r["action"],
            from_status=JobStatus(r["from_status"]) if r["from_status"] else None,
            to_status=JobStatus(r["to_status"]) if r["to_status"] else None,
            reason=r["reason"],
            changes=dict(r["changes"] or {}),
            version=r["version"],
        )
        for r in rows
    ]


# -- people and crews -------------------------------------------------------------------------


def list_people(conn: Connection) -> list[Person]:
    rows = conn.execute(select(people).order_by(people.c.name)).mappings()
    return [
        Person(
            id=r["id"],
            name=r["name"],
            role=Role(r["role"]),
            lan_id=r["lan_id"],
            active=bool(r["active"]),
            version=r["version"],
        )
        for r in rows
    ]


def list_crews(conn: Connection) -> list[Crew]:
    rows = conn.execute(select(crews).order_by(crews.c.name)).mappings()
    return [
        Crew(
            id=r["id"],
            name=r["name"],
            foreman_id=r["foreman_id"],
            size=r["size"],
            skills=tuple(r["skills"] or ()),
            active=bool(r["active"]),
            version=r["version"],
        )
        for r in rows
    ]


def insert_person(
    conn: Connection, *, name: str, role: Role, lan_id: str | None = None, email: str | None = None
) -> int:
    result = conn.execute(
        insert(people).values(name=name, role=role.value, lan_id=lan_id, email=email, active=True, version=1)
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def insert_crew(
    conn: Connection, *, name: str, foreman_id: int | None, size: int = 4, skills: Sequence[str] = ()
) -> int:
    result = conn.execute(
        insert(crews).values(
            name=name, foreman_id=foreman_id, size=size, skills=list(skills), active=True, version=1
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


# -- outbox -----------------------------------------------------------------------------------


def add_usage_event(conn: Connection, kind: str, payload: Mapping[str, Any]) -> str:
    """Queue an aggregate usage event (no job details) for the account service."""
    event_id = str(uuid.uuid4())
    conn.execute(
        insert(outbox).values(
            event_id=event_id, kind=kind, payload=dict(payload), created_at=utcnow(), attempts=0
        )
    )
    return event_id

"""Repositories on both dialects: round trips, optimistic locking, append-only history, outbox."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from nexa_desktop.domain.errors import NotFound, StaleWrite, StorageError
from nexa_desktop.domain.jobs import (
    Dependency,
    DependencyKind,
    DependencyStatus,
    JobStatus,
    Priority,
    Role,
    WorkType,
)
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database
from nexa_desktop.store.models import job_history, outbox
from tests.conftest import MakeJob, PeopleAndCrews

TODAY = dt.date(2026, 3, 2)


def test_job_round_trip_keeps_every_field(
    db: Database, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    deps = (
        Dependency(DependencyKind.USA, DependencyStatus.SCHEDULED, TODAY, "X512345678"),
        Dependency(DependencyKind.CIVIL),
    )
    job = make_job(
        pm_number="46357356", notification_number="119080350", wo_number="WO-3512345",
        work_type=WorkType.EC_CORRECTIVE, division="DA", mat_code="2AA", address="10 Oak St",
        city="Los Gatos", latitude=37.2358, longitude=-121.9624, priority=Priority.EMERGENCY,
        due_date=TODAY, status=JobStatus.STUCK, prefield_complete=True, gf_id=people_and_crews.gf,
        foreman_id=people_and_crews.foreman, crew_id=people_and_crews.crew,
        scheduled_start=TODAY, scheduled_end=TODAY + dt.timedelta(days=2),
        stuck_reason="Gate locked", stuck_from=JobStatus.IN_PROGRESS, go_back_reason=None,
        dependencies=deps, notes="Dog on site",
    )  # fmt: skip
    assert job.version == 1
    assert (job.pm_number, job.notification_number, job.wo_number) == (
        "46357356",
        "119080350",
        "WO-3512345",
    )
    assert job.work_type is WorkType.EC_CORRECTIVE and job.priority is Priority.EMERGENCY
    assert (job.division, job.mat_code, job.city) == ("DA", "2AA", "Los Gatos")
    assert job.latitude == pytest.approx(37.2358) and job.longitude == pytest.approx(-121.9624)
    assert job.due_date == TODAY and job.scheduled_end == TODAY + dt.timedelta(days=2)
    assert job.status is JobStatus.STUCK and job.stuck_from is JobStatus.IN_PROGRESS
    assert job.prefield_complete is True
    assert (job.gf_id, job.crew_id) == (people_and_crews.gf, people_and_crews.crew)
    assert job.dependencies == deps
    assert job.notes == "Dog on site"
    with db.connect() as conn:
        assert repo.list_jobs(conn) == [job]
        assert repo.get_job(conn, job.id) == job
        assert repo.count_jobs(conn) == 1


def test_list_jobs_orders_by_due_date(db: Database, make_job: MakeJob) -> None:
    late = make_job(due_date=TODAY + dt.timedelta(days=9))
    early = make_job(due_date=TODAY)
    with db.connect() as conn:
        assert [j.id for j in repo.list_jobs(conn)] == [early.id, late.id]


def test_find_ids_by_pm_and_notification(db: Database, make_job: MakeJob) -> None:
    jobs = [make_job() for _ in range(3)]
    with db.connect() as conn:
        by_pm = repo.find_job_ids_by_pm(conn, [j.pm_number or "" for j in jobs] + ["99999999"])
        assert by_pm == {j.pm_number: j.id for j in jobs}
        by_notification = repo.find_job_ids_by_notification(conn, [jobs[1].notification_number or ""])
        assert by_notification == {jobs[1].notification_number: jobs[1].id}
        assert repo.find_job_ids_by_pm(conn, []) == {}


def test_update_job_bumps_the_version(db: Database, make_job: MakeJob) -> None:
    job = make_job()
    with db.begin() as conn:
        assert repo.update_job(conn, job.id, 1, {"status": JobStatus.ASSIGNED_TO_GF, "notes": "x"}) == 2
    with db.connect() as conn:
        stored = repo.get_job(conn, job.id)
    assert (stored.version, stored.status, stored.notes) == (2, JobStatus.ASSIGNED_TO_GF, "x")


def test_stale_write_is_refused_and_the_row_is_unchanged(db: Database, make_job: MakeJob) -> None:
    job = make_job(notes="original")
    with db.begin() as conn:
        repo.update_job(conn, job.id, 1, {"notes": "first writer"})
    with pytest.raises(StaleWrite) as info, db.begin() as conn:
        repo.update_job(conn, job.id, 1, {"notes": "second writer", "status": JobStatus.BILLED})
    assert "version 1" in str(info.value) and "saved one is 2" in str(info.value)
    with db.connect() as conn:
        stored = repo.get_job(conn, job.id)
    assert (stored.version, stored.notes, stored.status) == (2, "first writer", JobStatus.NEW)


def test_missing_job(db: Database) -> None:
    with pytest.raises(NotFound), db.connect() as conn:
        repo.get_job(conn, 424242)
    with pytest.raises(NotFound), db.begin() as conn:
        repo.update_job(conn, 424242, 1, {"notes": "x"})


def test_job_needs_a_pm_or_a_notification(db: Database) -> None:
    with pytest.raises(StorageError), db.begin() as conn:
        repo.insert_jobs(conn, [{"pm_number": None, "notification_number": None}])
    with db.connect() as conn:
        assert repo.count_jobs(conn) == 0


def test_pm_numbers_are_unique(db: Database, make_job: MakeJob) -> None:
    job = make_job()
    with pytest.raises(StorageError):
        make_job(pm_number=job.pm_number, notification_number="120424794")


def test_bulk_insert_is_all_or_nothing(db: Database) -> None:
    rows = [{"pm_number": "35000001"}, {"pm_number": "35000002"}, {"pm_number": "35000001"}]
    with pytest.raises(StorageError), db.begin() as conn:
        repo.insert_jobs(conn, rows)
    with db.connect() as conn:
        assert repo.count_jobs(conn) == 0


def _history_count(db: Database) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(job_history)).scalar_one())


def test_history_entries_newest_first(db: Database, make_job: MakeJob) -> None:
    job = make_job()
    with db.begin() as conn:
        repo.add_history(
            conn, job_id=job.id, actor="amy", action="Created", from_status=None,
            to_status=JobStatus.NEW, version=1,
        )  # fmt: skip
        repo.add_history(
            conn, job_id=job.id, actor="bob", action="Assign GF", from_status=JobStatus.NEW,
            to_status=JobStatus.ASSIGNED_TO_GF, version=2, reason="r", changes={"gf_id": [None, 3]},
        )  # fmt: skip
    with db.connect() as conn:
        entries = repo.job_history_entries(conn, job.id)
    assert [e.action for e in entries] == ["Assign GF", "Created"]
    newest = entries[0]
    assert (newest.actor, newest.from_status, newest.to_status) == (
        "bob",
        JobStatus.NEW,
        JobStatus.ASSIGNED_TO_GF,
    )
    assert newest.changes == {"gf_id": [None, 3]} and newest.reason == "r" and newest.version == 2
    assert newest.at.tzinfo is not None


@pytest.mark.parametrize(
    "statement",
    ["UPDATE job_history SET actor = 'mallory'", "DELETE FROM job_history"],
    ids=["update", "delete"],
)
def test_history_is_append_only(db: Database, make_job: MakeJob, statement: str) -> None:
    job = make_job()
    with db.begin() as conn:
        row = {"job_id": job.id, "actor": "amy", "action": "Created", "from_status": None,
               "to_status": "new", "version": 1}  # fmt: skip
        repo.add_history_many(conn, [row])
    with pytest.raises(StorageError, match="append-only"), db.begin() as conn:
        conn.execute(text(statement))
    with db.connect() as conn:
        entries = repo.job_history_entries(conn, job.id)
    assert [(e.actor, e.action) for e in entries] == [("amy", "Created")]
    assert _history_count(db) == 1


def test_people_and_crews(db: Database, people_and_crews: PeopleAndCrews) -> None:
    with db.connect() as conn:
        people = {p.id: p for p in repo.list_people(conn)}
        crews = {c.id: c for c in repo.list_crews(conn)}
    assert people[people_and_crews.gf].role is Role.GF
    assert people[people_and_crews.gf].lan_id == "GFL1"
    assert people[people_and_crews.foreman2].role is Role.FOREMAN
    assert {p.role for p in people.values()} == {Role.GF, Role.FOREMAN, Role.QA, Role.PM}
    assert len(people) == 6
    crew = crews[people_and_crews.crew]
    assert (crew.name, crew.foreman_id, crew.skills, crew.active) == (
        "Crew 07 – Pole", people_and_crews.foreman, ("07D",), True,
    )  # fmt: skip
    assert [c.name for c in crews.values()] == sorted(c.name for c in crews.values())


def test_lan_ids_are_unique(db: Database, people_and_crews: PeopleAndCrews) -> None:
    with pytest.raises(StorageError), db.begin() as conn:
        repo.insert_person(conn, name="Copy Cat", role=Role.QA, lan_id="GFL1")


def test_usage_events_queue_in_the_outbox(db: Database) -> None:
    with db.begin() as conn:
        first = repo.add_usage_event(conn, "board.change", {"action": "Schedule"})
        second = repo.add_usage_event(conn, "board.change", {"action": "Bill"})
    assert first != second
    with db.connect() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
    assert [r["event_id"] for r in rows] == [first, second]
    assert rows[0]["payload"] == {"action": "Schedule"}
    assert rows[0]["sent_at"] is None and rows[0]["attempts"] == 0


def test_bulk_insert_accepts_rows_with_different_optional_fields(db: Database) -> None:
    rows = [
        {"pm_number": "35000001", "city": "Chico", "due_date": TODAY},
        {"pm_number": "35000002"},
    ]
    with db.begin() as conn:
        repo.insert_jobs(conn, rows)
    with db.connect() as conn:
        jobs = sorted(repo.list_jobs(conn), key=lambda j: j.id)
    assert [(j.pm_number, j.city, j.due_date) for j in jobs] == [
        ("35000001", "Chico", TODAY), ("35000002", "", None),
    ]  # fmt: skip

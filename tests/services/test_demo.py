"""Demo data: realistic, deterministic, consistent with the lifecycle, on both dialects."""

from __future__ import annotations

import collections
import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from nexa_desktop.domain.board import BoardConfig
from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.identifiers import (
    DIVISIONS,
    parse_lan_id,
    parse_mat_code,
    parse_notification_number,
    parse_pm_number,
)
from nexa_desktop.domain.jobs import Job, JobStatus, Priority, Role, WorkType
from nexa_desktop.domain.lifecycle import MoveData
from nexa_desktop.services.board import BoardService, BoardSnapshot
from nexa_desktop.services.demo import DemoNotEmpty, DemoSummary, seed_demo
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database, open_database
from nexa_desktop.store.models import job_history
from tests.conftest import MakeJob, PeopleAndCrews

S = JobStatus
TODAY = dt.date(2026, 3, 2)
SCHEDULED_ONWARD = set(JobStatus) - {S.NEW, S.ASSIGNED_TO_GF, S.PRE_FIELDING}


@pytest.fixture
def seeded(db: Database, board_config: BoardConfig) -> tuple[DemoSummary, BoardSnapshot]:
    summary = seed_demo(db, jobs=200, seed=7, today=TODAY)
    return summary, BoardService(db, board_config, actor="tester").load()


def _sqlite(tmp_path: Path, name: str) -> Database:
    return open_database(f"sqlite:///{(tmp_path / name).as_posix()}")


def _pms(database: Database) -> list[str | None]:
    with database.connect() as conn:
        return [j.pm_number for j in sorted(repo.list_jobs(conn), key=lambda j: j.id)]


def test_counts(db: Database, seeded: tuple[DemoSummary, BoardSnapshot]) -> None:
    summary, snapshot = seeded
    assert summary == DemoSummary(jobs=200, crews=12, people=len(snapshot.people))
    assert len(snapshot.jobs) == 200 and len(snapshot.crews) == 12
    roles = collections.Counter(p.role for p in snapshot.people.values())
    assert roles[Role.GF] == 6 and roles[Role.FOREMAN] == 12
    assert roles[Role.PM] >= 1 and roles[Role.QA] >= 1 and roles[Role.SCHEDULER] >= 1
    assert roles[Role.ADMIN] == 1
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(job_history)).scalar_one() == 200
        entries = repo.job_history_entries(conn, snapshot.jobs[0].id)
    assert [(e.action, e.version, e.to_status) for e in entries] == [
        ("Created (demo)", 1, snapshot.jobs[0].status)
    ]


def test_every_column_has_cards(board_config: BoardConfig, seeded: tuple[DemoSummary, BoardSnapshot]) -> None:
    _, snapshot = seeded
    per_column = collections.Counter(board_config.column_of(j).id for j in snapshot.jobs)
    assert set(per_column) == {c.id for c in board_config.columns}
    assert {j.status for j in snapshot.jobs} == set(JobStatus)
    # Realistic spread: early columns busier than go-backs.
    assert per_column["go_back"] < per_column["scheduled"]


def test_identifiers_are_valid_and_unique(seeded: tuple[DemoSummary, BoardSnapshot]) -> None:
    _, snapshot = seeded
    pms = [j.pm_number for j in snapshot.jobs]
    assert all(pm is not None and parse_pm_number(pm) == pm for pm in pms)
    assert len(set(pms)) == len(pms)
    assert {pm[:2] for pm in pms if pm} <= {"35", "45", "46"}
    notifications = [j.notification_number for j in snapshot.jobs if j.notification_number]
    assert len(set(notifications)) == len(notifications) > 50
    assert all(parse_notification_number(n) == n and n[:2] in ("11", "12") for n in notifications)
    for job in snapshot.jobs:
        assert job.division in DIVISIONS
        assert job.mat_code is not None and parse_mat_code(job.mat_code) == job.mat_code
        assert job.address and job.city
        assert job.latitude is not None and 34.5 < job.latitude < 41.5
        assert job.longitude is not None and -125 < job.longitude < -118.5
        assert job.due_date is not None
        assert -20 <= (job.due_date - TODAY).days <= 90
        if job.work_type is WorkType.EC_CORRECTIVE:
            assert job.notification_number is not None
            assert job.mat_code in ("2AA", "KAA", "2AJ")
        if job.priority is Priority.EMERGENCY:
            assert job.wo_number
    lans = [p.lan_id for p in snapshot.people.values()]
    assert all(lan is not None and parse_lan_id(lan) == lan for lan in lans)
    assert len(set(lans)) == len(lans)
    assert any((j.due_date or TODAY) < TODAY for j in snapshot.jobs)  # some are overdue


def test_priorities_are_weighted(seeded: tuple[DemoSummary, BoardSnapshot]) -> None:
    _, snapshot = seeded
    counts = collections.Counter(j.priority for j in snapshot.jobs)
    assert counts[Priority.B] + counts[Priority.C] > 100
    assert counts[Priority.EMERGENCY] < 15
    assert counts[Priority.A] + counts[Priority.E] > 5


def _check_consistent(job: Job, snapshot: BoardSnapshot) -> None:
    people, crews = snapshot.people, snapshot.crews
    if job.status is S.NEW:
        assert job.gf_id is None and not job.prefield_complete
    else:
        assert job.gf_id is not None and people[job.gf_id].role is Role.GF
    if job.status in SCHEDULED_ONWARD:
        assert job.crew_id is not None and job.foreman_id is not None
        assert crews[job.crew_id].foreman_id == job.foreman_id
        assert people[job.foreman_id].role is Role.FOREMAN
        assert job.scheduled_start is not None and job.prefield_complete
        assert not job.open_dependencies()
        if job.scheduled_end is not None:
            assert job.scheduled_end >= job.scheduled_start
        if job.status is S.SCHEDULED:
            assert job.scheduled_start >= TODAY
        else:
            assert job.scheduled_start <= TODAY
    else:
        assert job.crew_id is None and job.scheduled_start is None
    if job.status is S.STUCK:
        assert job.stuck_reason and job.stuck_from in (S.SCHEDULED, S.IN_PROGRESS)
    else:
        assert job.stuck_reason is None and job.stuck_from is None
    assert bool(job.go_back_reason) == (job.status is S.GO_BACK)
    if job.status is S.PRE_FIELDING:
        assert job.dependencies
        if job.prefield_complete:
            assert not job.open_dependencies()
        else:
            assert job.open_dependencies()


def test_data_fits_each_status(seeded: tuple[DemoSummary, BoardSnapshot]) -> None:
    _, snapshot = seeded
    for job in snapshot.jobs:
        _check_consistent(job, snapshot)
    prefielding = [j for j in snapshot.jobs if j.status is S.PRE_FIELDING]
    statuses = {d.status for j in prefielding for d in j.dependencies}
    assert len(statuses) == 4  # required, check, scheduled and not required all occur


def test_demo_jobs_can_move_on(
    db: Database, board_config: BoardConfig, seeded: tuple[DemoSummary, BoardSnapshot]
) -> None:
    """Demo cards behave like real ones: e.g. every Needs Scheduled card can be scheduled."""
    _, snapshot = seeded
    service = BoardService(db, board_config, actor="tester")
    crew = next(iter(snapshot.crews.values()))
    moved = 0
    for job in snapshot.jobs:
        if board_config.column_of(job).id == "needs_scheduled":
            data = MoveData(crew_id=crew.id, scheduled_start=TODAY)
            assert service.move_to_column(job.id, job.version, "scheduled", data).job.status is S.SCHEDULED
            moved += 1
    assert moved > 0


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    databases = [_sqlite(tmp_path, f"{n}.db") for n in ("a", "b", "c")]
    try:
        seed_demo(databases[0], jobs=200, seed=7, today=TODAY)
        seed_demo(databases[1], jobs=200, seed=7, today=TODAY)
        seed_demo(databases[2], jobs=200, seed=8, today=TODAY)
        first, second, other = (_pms(d) for d in databases)
        assert first == second
        assert first != other
        with databases[0].connect() as a, databases[1].connect() as b:
            assert repo.list_jobs(a) == repo.list_jobs(b)
            assert repo.list_people(a) == repo.list_people(b)
    finally:
        for database in databases:
            database.dispose()


def test_second_run_is_refused(db: Database) -> None:
    seed_demo(db, jobs=20, today=TODAY)
    with pytest.raises(DemoNotEmpty) as info:
        seed_demo(db, jobs=20, today=TODAY)
    assert isinstance(info.value, NexaError)
    assert "already has 20 jobs" in str(info.value)
    with db.connect() as conn:
        assert repo.count_jobs(conn) == 20
        assert len(repo.list_crews(conn)) == 12


def test_refused_when_any_job_exists(db: Database, make_job: MakeJob) -> None:
    make_job()
    with pytest.raises(DemoNotEmpty):
        seed_demo(db, jobs=5)
    with db.connect() as conn:
        assert repo.list_crews(conn) == []


def test_existing_people_and_crews_do_not_clash(
    db: Database, people_and_crews: PeopleAndCrews, board_config: BoardConfig
) -> None:
    with db.begin() as conn:
        repo.insert_crew(conn, name="Crew 01 – Pole", foreman_id=None)
    summary = seed_demo(db, jobs=30, today=TODAY)
    assert summary.jobs == 30
    with db.connect() as conn:
        names = [c.name for c in repo.list_crews(conn)]
    assert "Crew 01 – Pole (demo)" in names


def test_small_and_empty_runs(db: Database) -> None:
    assert seed_demo(db, jobs=0, today=TODAY).jobs == 0
    with db.connect() as conn:
        assert repo.count_jobs(conn) == 0
    assert seed_demo(db, jobs=3, today=TODAY).jobs == 3


def test_ten_thousand_jobs_quickly(sqlite_db: Database, board_config: BoardConfig) -> None:
    started = time.perf_counter()
    summary = seed_demo(sqlite_db, jobs=10_000, seed=11, today=TODAY)
    elapsed = time.perf_counter() - started
    assert summary.jobs == 10_000
    assert elapsed < 10, f"seeding 10k jobs took {elapsed:.1f}s"
    snapshot = BoardService(sqlite_db, board_config, actor="t").load()
    assert len({j.pm_number for j in snapshot.jobs}) == 10_000
    for job in snapshot.jobs[::97]:
        _check_consistent(job, snapshot)

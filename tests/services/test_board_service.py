"""BoardService on both dialects: each command commits job + history + outbox together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, update

from nexa_desktop.domain.board import BoardConfig
from nexa_desktop.domain.errors import (
    IllegalTransition,
    MissingTransitionData,
    NotFound,
    StaleWrite,
    ValidationError,
)
from nexa_desktop.domain.jobs import Dependency, DependencyKind, DependencyStatus, JobStatus
from nexa_desktop.domain.lifecycle import MoveData
from nexa_desktop.services.board import BoardService
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database, open_database
from nexa_desktop.store.models import crews, job_history, jobs, outbox
from tests.conftest import MakeJob, PeopleAndCrews

S = JobStatus
TODAY = dt.date.today()


@dataclass(frozen=True)
class Counts:
    history: int
    outbox: int


def counts(db: Database) -> Counts:
    with db.connect() as conn:
        return Counts(
            int(conn.execute(select(func.count()).select_from(job_history)).scalar_one()),
            int(conn.execute(select(func.count()).select_from(outbox)).scalar_one()),
        )


def _stored_version(db: Database, job_id: int) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(jobs.c.version).where(jobs.c.id == job_id)).scalar_one())


# -- one transaction per command --------------------------------------------------------------


def test_move_to_column_commits_job_history_and_outbox(
    db: Database, board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job()
    before = counts(db)
    result = board_service.move_to_column(job.id, 1, "prefielding", MoveData(gf_id=people_and_crews.gf))
    assert result.job.status is S.PRE_FIELDING and result.job.version == 2
    assert result.before == {"status": S.NEW, "gf_id": None}
    assert result.after == {"status": S.PRE_FIELDING, "gf_id": people_and_crews.gf}
    assert board_service.job(job.id) == result.job
    assert counts(db) == Counts(before.history + 1, before.outbox + 1)
    entry = board_service.history(job.id)[0]
    assert (entry.actor, entry.action, entry.version) == ("tester", result.label, 2)
    assert (entry.from_status, entry.to_status) == (S.NEW, S.PRE_FIELDING)
    assert entry.changes == {
        "status": ["new", "pre_fielding"],
        "gf_id": [None, people_and_crews.gf],
    }
    with db.connect() as conn:
        event = conn.execute(select(outbox.c.kind, outbox.c.payload)).one()
    assert event.kind == "board.change"
    assert event.payload == {
        "action": result.label, "from_column": "needs_prefield", "to_column": "prefielding",
    }  # fmt: skip
    assert "35" not in str(event.payload)  # aggregate only: no PM numbers leave the office


def test_transition_commits_everything_together(
    db: Database, board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job(
        status="in_progress", prefield_complete=True, gf_id=people_and_crews.gf,
        crew_id=people_and_crews.crew, foreman_id=people_and_crews.foreman, scheduled_start=TODAY,
    )  # fmt: skip
    before = counts(db)
    result = board_service.transition(job.id, 1, S.STUCK, MoveData(reason="  Gate locked "))
    assert (result.job.status, result.job.stuck_reason, result.job.stuck_from) == (
        S.STUCK, "Gate locked", S.IN_PROGRESS,
    )  # fmt: skip
    assert counts(db) == Counts(before.history + 1, before.outbox + 1)
    assert board_service.history(job.id)[0].reason == "Gate locked"
    assert board_service.job(job.id).version == 2


def test_schedule_fills_the_foreman_from_the_crew(
    board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job(status="pre_fielding", prefield_complete=True, gf_id=people_and_crews.gf)
    data = MoveData(crew_id=people_and_crews.crew2, scheduled_start=TODAY)
    result = board_service.move_to_column(job.id, 1, "scheduled", data)
    assert result.job.status is S.SCHEDULED
    assert result.job.crew_id == people_and_crews.crew2
    assert result.job.foreman_id == people_and_crews.foreman2
    assert result.job.scheduled_start == TODAY


def test_missing_data_lists_fields_and_writes_nothing(
    db: Database, board_service: BoardService, make_job: MakeJob
) -> None:
    job = make_job(status="pre_fielding", prefield_complete=True)
    before = counts(db)
    with pytest.raises(MissingTransitionData) as info:
        board_service.move_to_column(job.id, 1, "scheduled")
    assert info.value.fields == ("crew_id", "scheduled_start")
    assert "a crew" in str(info.value) and "a start date" in str(info.value)
    with pytest.raises(MissingTransitionData) as info:
        board_service.transition(job.id, 1, S.SCHEDULED, MoveData(scheduled_start=TODAY))
    assert info.value.fields == ("crew_id",)
    assert counts(db) == before
    assert board_service.job(job.id) == job


def test_illegal_move_writes_nothing(db: Database, board_service: BoardService, make_job: MakeJob) -> None:
    job = make_job()
    before = counts(db)
    with pytest.raises(IllegalTransition, match=r"Can't move \d+ to Billed"):
        board_service.move_to_column(job.id, 1, "billed")
    assert counts(db) == before and board_service.job(job.id) == job


def test_failure_after_the_job_update_rolls_everything_back(
    db: Database,
    board_service: BoardService,
    make_job: MakeJob,
    people_and_crews: PeopleAndCrews,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = make_job()
    before = counts(db)

    def boom(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(repo, "add_usage_event", boom)
    with pytest.raises(RuntimeError):
        board_service.move_to_column(job.id, 1, "prefielding", MoveData(gf_id=people_and_crews.gf))
    assert counts(db) == before
    assert board_service.job(job.id) == job


# -- concurrent sessions ----------------------------------------------------------------------


@pytest.fixture
def second_session(db: Database, board_config: BoardConfig) -> Iterator[BoardService]:
    """Another user's BoardService: its own Database and engine on the same URL."""
    other = open_database(db.url)
    try:
        yield BoardService(other, board_config, actor="someone else")
    finally:
        other.dispose()


def test_two_sessions_moving_the_same_card(
    db: Database,
    board_service: BoardService,
    second_session: BoardService,
    make_job: MakeJob,
    people_and_crews: PeopleAndCrews,
) -> None:
    job = make_job()
    mine = board_service.load().jobs[0]
    theirs = second_session.load().jobs[0]
    assert mine == theirs == job
    assert second_session.db.engine is not board_service.db.engine

    first = second_session.move_to_column(theirs.id, theirs.version, "prefielding",
                                          MoveData(gf_id=people_and_crews.gf2))  # fmt: skip
    before = counts(db)
    with pytest.raises(StaleWrite) as info:
        board_service.move_to_column(mine.id, mine.version, "prefielding",
                                     MoveData(gf_id=people_and_crews.gf))  # fmt: skip
    assert "changed by someone else" in str(info.value)
    assert counts(db) == before
    stored = board_service.job(job.id)
    assert stored == first.job
    assert stored.gf_id == people_and_crews.gf2
    assert [e.actor for e in board_service.history(job.id)] == ["someone else"]


def test_two_sessions_assigning_the_same_card(
    board_service: BoardService,
    second_session: BoardService,
    make_job: MakeJob,
    people_and_crews: PeopleAndCrews,
) -> None:
    job = make_job()
    second_session.assign(job.id, 1, {"gf_id": people_and_crews.gf2})
    with pytest.raises(StaleWrite):
        board_service.assign(job.id, 1, {"gf_id": people_and_crews.gf})
    with pytest.raises(StaleWrite):
        board_service.revert(job.id, 1, {"gf_id": None}, "Undo")
    assert board_service.job(job.id).gf_id == people_and_crews.gf2


def test_the_version_guard_holds_when_a_write_lands_mid_command(
    db: Database, board_service: BoardService, make_job: MakeJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that lands between the service's read and its update is still refused."""
    job = make_job(status="pre_fielding")
    real_update = repo.update_job

    def racing_update(
        conn: Connection, job_id: int, expected_version: int, updates: Mapping[str, Any]
    ) -> int:
        other = open_database(db.url)
        try:
            with other.begin() as other_conn:
                other_conn.execute(update(jobs).where(jobs.c.id == job_id).values(version=jobs.c.version + 1))
        finally:
            other.dispose()
        return real_update(conn, job_id, expected_version, updates)

    monkeypatch.setattr(repo, "update_job", racing_update)
    before = counts(db)
    with pytest.raises(StaleWrite):
        board_service.assign(job.id, 1, {"scheduled_end": TODAY})
    assert counts(db) == before
    assert board_service.job(job.id).scheduled_end is None


# -- assignments and references ---------------------------------------------------------------


def test_assigning_a_gf_to_a_new_job_makes_it_assigned(
    db: Database, board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job()
    before = counts(db)
    result = board_service.assign(job.id, 1, {"gf_id": people_and_crews.gf})
    assert result.job.status is S.ASSIGNED_TO_GF
    assert result.job.gf_id == people_and_crews.gf
    assert result.label.startswith("Assign")
    assert counts(db) == Counts(before.history + 1, before.outbox + 1)
    assert board_service.config.column_of(result.job).id == "needs_prefield"


def test_assigning_crew_and_date_schedules_a_prefielding_job(
    board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job(status="pre_fielding", gf_id=people_and_crews.gf)
    result = board_service.assign(job.id, 1, {"crew_id": people_and_crews.crew, "scheduled_start": TODAY})
    assert result.job.status is S.SCHEDULED and result.job.prefield_complete


def test_dependencies_round_trip_through_assign(board_service: BoardService, make_job: MakeJob) -> None:
    job = make_job(status="pre_fielding")
    deps = (Dependency(DependencyKind.USA, DependencyStatus.CHECK, TODAY, "X1"),)
    result = board_service.assign(job.id, 1, {"dependencies": deps})
    assert result.label == "Assign dependencies"
    assert board_service.job(job.id).dependencies == deps
    assert board_service.history(job.id)[0].changes["dependencies"][1] == [deps[0].to_json()]


def test_a_foreman_is_not_a_gf(
    board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job()
    with pytest.raises(ValidationError) as info:
        board_service.assign(job.id, 1, {"gf_id": people_and_crews.foreman})
    assert info.value.field == "gf_id"
    assert "Frank Ortiz is a foreman, not a GF" in str(info.value)
    with pytest.raises(ValidationError, match="not a GF"):
        board_service.move_to_column(job.id, 1, "prefielding", MoveData(gf_id=people_and_crews.qa))
    assert board_service.job(job.id) == job


def test_a_gf_may_act_as_foreman_but_qa_may_not(
    board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job(status="pre_fielding", gf_id=people_and_crews.gf)
    result = board_service.assign(job.id, 1, {"foreman_id": people_and_crews.gf2})
    assert result.job.foreman_id == people_and_crews.gf2
    with pytest.raises(ValidationError, match="Quinn Adams is a qa, not a FOREMAN or GF"):
        board_service.assign(job.id, 2, {"foreman_id": people_and_crews.qa})


def test_unknown_people_and_inactive_crews_are_refused(
    db: Database, board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job(status="pre_fielding", prefield_complete=True, gf_id=people_and_crews.gf)
    with pytest.raises(ValidationError, match="Person 9999 does not exist"):
        board_service.assign(job.id, 1, {"gf_id": 9999})
    with pytest.raises(NotFound, match="Crew 9999"):
        board_service.assign(job.id, 1, {"crew_id": 9999})
    with db.begin() as conn:
        conn.execute(update(crews).where(crews.c.id == people_and_crews.crew2).values(active=False))
    with pytest.raises(ValidationError, match="inactive"):
        data = MoveData(crew_id=people_and_crews.crew2, scheduled_start=TODAY)
        board_service.move_to_column(job.id, 1, "scheduled", data)
    assert board_service.job(job.id) == job


def test_no_op_assignment_writes_nothing(
    db: Database, board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job(status="assigned_to_gf", gf_id=people_and_crews.gf)
    before = counts(db)
    result = board_service.assign(job.id, 1, {"gf_id": people_and_crews.gf})
    assert (result.before, result.after, result.job) == ({}, {}, job)
    assert counts(db) == before and _stored_version(db, job.id) == 1


def test_stale_expected_version_is_refused(
    board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job()
    with pytest.raises(StaleWrite, match=r"version 7 → 1"):
        board_service.assign(job.id, 7, {"gf_id": people_and_crews.gf})


def test_missing_job_is_not_found(board_service: BoardService) -> None:
    with pytest.raises(NotFound):
        board_service.move_to_column(4242, 1, "prefielding", MoveData(gf_id=1))


def test_revert_puts_fields_back(
    db: Database, board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job()
    moved = board_service.move_to_column(job.id, 1, "prefielding", MoveData(gf_id=people_and_crews.gf))
    before = counts(db)
    back = board_service.revert(job.id, moved.job.version, {"status": "new", "gf_id": None}, "Undo it")
    assert back.job.status is S.NEW and back.job.gf_id is None and back.job.version == 3
    assert counts(db) == Counts(before.history + 1, before.outbox + 1)
    assert board_service.history(job.id)[0].action == "Undo it"
    stored = board_service.job(job.id)
    assert (stored.status, stored.gf_id, stored.version) == (S.NEW, None, 3)


def test_load_returns_jobs_people_and_crews(
    board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    made = [make_job(), make_job()]
    snapshot = board_service.load()
    assert {j.id for j in snapshot.jobs} == {j.id for j in made}
    assert snapshot.people[people_and_crews.gf].name == "Gina Flores"
    assert snapshot.crews[people_and_crews.crew].foreman_id == people_and_crews.foreman

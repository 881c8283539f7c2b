"""UndoStack with the real BoardService: undo/redo round trips and refused reverts."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from nexa_desktop.domain.errors import StaleWrite
from nexa_desktop.domain.jobs import Dependency, DependencyKind, DependencyStatus, Job, JobStatus
from nexa_desktop.domain.lifecycle import MoveData
from nexa_desktop.services.board import BoardService, ChangeResult
from nexa_desktop.services.undo import Revert, UndoStack
from tests.conftest import MakeJob, PeopleAndCrews

S = JobStatus
TODAY = dt.date.today()


def run(service: BoardService, stack: UndoStack, revert: Revert | None) -> ChangeResult | None:
    """What the UI does: run the revert on the service, report the outcome to the stack."""
    assert revert is not None
    try:
        result = service.revert(revert.job_id, revert.expected_version, revert.values, revert.label)
    except StaleWrite:
        stack.done(revert, None)
        return None
    stack.done(revert, result)
    return result


def _same_fields(a: Job, b: Job) -> bool:
    return replace(a, version=0) == replace(b, version=0)


def test_undo_redo_round_trip(
    board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    original = make_job(status="pre_fielding", prefield_complete=True, gf_id=people_and_crews.gf)
    stack = UndoStack()
    data = MoveData(crew_id=people_and_crews.crew, scheduled_start=TODAY)
    scheduled = board_service.move_to_column(original.id, 1, "scheduled", data)
    stack.record(scheduled)
    assert stack.can_undo() and not stack.can_redo()
    assert stack.undo_text() == f"Undo {scheduled.label} ({original.title})"

    undone = run(board_service, stack, stack.take_undo())
    assert undone is not None
    stored = board_service.job(original.id)
    assert stored.version == 3
    assert _same_fields(stored, original)
    assert stored.status is S.PRE_FIELDING and stored.crew_id is None and stored.scheduled_start is None
    assert not stack.can_undo() and stack.can_redo()
    assert stack.redo_text() == f"Redo {scheduled.label} ({original.title})"

    redone = run(board_service, stack, stack.take_redo())
    assert redone is not None
    stored = board_service.job(original.id)
    assert stored.version == 4
    assert _same_fields(stored, scheduled.job)
    assert stored.foreman_id == people_and_crews.foreman
    assert stack.can_undo() and not stack.can_redo()

    # And once more: the versions recorded after redo are the ones now stored.
    assert run(board_service, stack, stack.take_undo()) is not None
    assert board_service.job(original.id).status is S.PRE_FIELDING
    actions = [e.action for e in board_service.history(original.id)]
    assert actions == [f"Undo {scheduled.label}", f"Redo {scheduled.label}",
                       f"Undo {scheduled.label}", scheduled.label]  # fmt: skip


def test_undo_of_a_stuck_move_restores_the_reason_fields(
    board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job(
        status="in_progress", prefield_complete=True, gf_id=people_and_crews.gf,
        crew_id=people_and_crews.crew, foreman_id=people_and_crews.foreman, scheduled_start=TODAY,
    )  # fmt: skip
    stack = UndoStack()
    stack.record(board_service.transition(job.id, 1, S.STUCK, MoveData(reason="No access")))
    run(board_service, stack, stack.take_undo())
    stored = board_service.job(job.id)
    assert (stored.status, stored.stuck_reason, stored.stuck_from) == (S.IN_PROGRESS, None, None)


def test_undo_of_dependencies(board_service: BoardService, make_job: MakeJob) -> None:
    deps = (Dependency(DependencyKind.USA, DependencyStatus.REQUIRED),)
    job = make_job(status="pre_fielding", dependencies=deps)
    stack = UndoStack()
    cleared = (Dependency(DependencyKind.USA, DependencyStatus.SCHEDULED, TODAY, "X42"),)
    stack.record(board_service.assign(job.id, 1, {"dependencies": cleared}))
    assert board_service.job(job.id).dependencies == cleared
    run(board_service, stack, stack.take_undo())
    assert board_service.job(job.id).dependencies == deps
    run(board_service, stack, stack.take_redo())
    assert board_service.job(job.id).dependencies == cleared


def test_undo_is_refused_after_someone_else_changed_the_job(
    board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job()
    stack = UndoStack()
    stack.record(board_service.move_to_column(job.id, 1, "prefielding", MoveData(gf_id=people_and_crews.gf)))
    other = BoardService(board_service.db, board_service.config, actor="someone else")
    other.assign(job.id, 2, {"gf_id": people_and_crews.gf2})

    revert = stack.take_undo()
    assert revert is not None and revert.expected_version == 2
    with pytest.raises(StaleWrite):
        board_service.revert(revert.job_id, revert.expected_version, revert.values, revert.label)
    stack.done(revert, None)
    assert not stack.can_undo() and not stack.can_redo()
    assert stack.take_undo() is None and stack.take_redo() is None
    stored = board_service.job(job.id)
    assert (stored.status, stored.gf_id, stored.version) == (
        S.PRE_FIELDING,
        people_and_crews.gf2,
        3,
    )


def test_redo_is_refused_after_someone_else_changed_the_job(
    board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job()
    stack = UndoStack()
    stack.record(board_service.assign(job.id, 1, {"gf_id": people_and_crews.gf}))
    assert run(board_service, stack, stack.take_undo()) is not None
    board_service.assign(job.id, 3, {"gf_id": people_and_crews.gf2})
    assert run(board_service, stack, stack.take_redo()) is None
    assert not stack.can_redo() and not stack.can_undo()
    assert board_service.job(job.id).gf_id == people_and_crews.gf2


def test_new_change_clears_redo_and_no_ops_are_not_recorded(
    board_service: BoardService, make_job: MakeJob, people_and_crews: PeopleAndCrews
) -> None:
    job = make_job()
    stack = UndoStack()
    stack.record(board_service.assign(job.id, 1, {"gf_id": people_and_crews.gf}))
    run(board_service, stack, stack.take_undo())
    assert stack.can_redo()
    stack.record(board_service.assign(job.id, 3, {"gf_id": people_and_crews.gf2}))
    assert not stack.can_redo()
    no_op = board_service.assign(job.id, 4, {"gf_id": people_and_crews.gf2})
    stack.record(no_op)
    revert = stack.take_undo()
    assert revert is not None and revert.values == {"gf_id": None, "status": S.NEW}


def test_stack_limit_and_empty_texts() -> None:
    stack = UndoStack(limit=3)
    assert (stack.undo_text(), stack.redo_text()) == ("Undo", "Redo")
    assert stack.take_undo() is None and stack.take_redo() is None
    for version in range(2, 8):
        job = Job(id=1, pm_number="35589054", notification_number=None, status=S.NEW, version=version)
        stack.record(ChangeResult(job, f"Change {version}", {"notes": ""}, {"notes": str(version)}))
    taken = []
    while (revert := stack.take_undo()) is not None:
        taken.append(revert.label)
    assert taken == ["Undo Change 7", "Undo Change 6", "Undo Change 5"]

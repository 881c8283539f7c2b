"""The job lifecycle (domain.md §3.1): legal moves, the data they need, why others are refused."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace
from typing import Any

import pytest

from nexa_desktop.domain.errors import IllegalTransition, MissingTransitionData, ValidationError
from nexa_desktop.domain.jobs import Dependency, DependencyKind, DependencyStatus, Job, JobStatus
from nexa_desktop.domain.lifecycle import (
    TRANSITIONS,
    MoveData,
    Need,
    apply_move,
    missing_needs,
    plan_assignment,
    plan_transition,
    transition,
    transitions_from,
)

S = JobStatus
TODAY = dt.date(2026, 3, 2)
FULL = MoveData(
    gf_id=1,
    crew_id=2,
    foreman_id=3,
    scheduled_start=TODAY,
    reason="  because  ",
    tailboard_confirmed=True,
)
_EDGES = {(t.source, t.target) for t in TRANSITIONS}


def job(status: JobStatus, **fields: Any) -> Job:
    """A bare job in ``status``: no GF, crew or dates unless given."""
    base: dict[str, Any] = {
        "id": 1,
        "pm_number": "35589054",
        "notification_number": None,
        "status": status,
        "version": 4,
        "prefield_complete": status not in (S.NEW, S.ASSIGNED_TO_GF, S.PRE_FIELDING),
    }
    base.update(fields)
    return Job(**base)


def _without(need: Need) -> MoveData:
    if need is Need.REASON:
        return replace(FULL, reason="   ")
    if need is Need.SAFETY_GATE:
        return replace(FULL, tailboard_confirmed=False)
    cleared: dict[str, Any] = {need.value: None}
    return replace(FULL, **cleared)


# -- the table --------------------------------------------------------------------------------


def test_every_status_is_reachable_from_new() -> None:
    seen, frontier = {S.NEW}, [S.NEW]
    while frontier:
        for t in transitions_from(frontier.pop()):
            if t.target not in seen:
                seen.add(t.target)
                frontier.append(t.target)
    assert seen == set(JobStatus)


def test_the_happy_path_is_in_the_table() -> None:
    path = [
        S.NEW, S.ASSIGNED_TO_GF, S.PRE_FIELDING, S.SCHEDULED, S.IN_PROGRESS, S.PENDING_GF_REVIEW,
        S.PENDING_QA_REVIEW, S.PENDING_PM_APPROVAL, S.READY_TO_SUBMIT, S.SUBMITTED, S.BILLED,
        S.INVOICED,
    ]  # fmt: skip
    for source, target in itertools.pairwise(path):
        assert transition(source, target).target is target


@pytest.mark.parametrize("step", TRANSITIONS, ids=lambda t: f"{t.source.value}->{t.target.value}")
def test_every_transition_is_allowed_with_its_data(step: Any) -> None:
    current = job(step.source)
    plan = plan_transition(current, step.target)
    assert plan.target is step.target
    assert plan.needs == step.needs
    assert plan.label == step.label
    updates = apply_move(current, plan, FULL)
    assert updates["status"] is step.target


@pytest.mark.parametrize(
    ("step", "need"),
    [(t, n) for t in TRANSITIONS for n in sorted(t.needs)],
    ids=lambda v: getattr(v, "value", None) or f"{v.source.value}->{v.target.value}",
)
def test_every_need_is_enforced(step: Any, need: Need) -> None:
    current = job(step.source)
    plan = plan_transition(current, step.target)
    with pytest.raises(MissingTransitionData) as info:
        apply_move(current, plan, _without(need))
    assert info.value.fields == (need.value,)
    assert need.label in str(info.value)
    assert plan.label in str(info.value)


@pytest.mark.parametrize("step", [t for t in TRANSITIONS if not t.needs], ids=lambda t: t.label)
def test_transitions_without_needs_take_no_data(step: Any) -> None:
    current = job(step.source)
    assert apply_move(current, plan_transition(current, step.target), MoveData())["status"] is step.target


def test_missing_needs_lists_every_missing_field_in_order() -> None:
    current = job(S.PRE_FIELDING)
    plan = plan_transition(current, S.SCHEDULED)
    with pytest.raises(MissingTransitionData) as info:
        apply_move(current, plan, MoveData())
    assert info.value.fields == ("crew_id", "scheduled_start")
    assert "a crew, a start date" in str(info.value)


def test_needs_already_on_the_job_are_satisfied() -> None:
    current = job(S.STUCK, crew_id=2, scheduled_start=TODAY, stuck_reason="x", stuck_from=S.SCHEDULED)
    plan = plan_transition(current, S.SCHEDULED)
    assert missing_needs(current, plan.needs, MoveData()) == ()
    assert missing_needs(job(S.NEW, gf_id=5), frozenset({Need.GF}), MoveData()) == ()


def test_illegal_pairs_are_refused_with_an_explanation() -> None:
    refused = 0
    for source, target in itertools.product(JobStatus, JobStatus):
        if source is target or (source, target) in _EDGES:
            continue
        with pytest.raises(IllegalTransition) as info:
            transition(source, target)
        assert "is not allowed" in str(info.value)
        assert source.label in str(info.value) and target.label in str(info.value)
        refused += 1
    assert refused == len(JobStatus) * (len(JobStatus) - 1) - len(TRANSITIONS)


@pytest.mark.parametrize(
    ("source", "target", "why"),
    [
        (S.PENDING_GF_REVIEW, S.READY_TO_SUBMIT, "none can be skipped"),
        (S.PENDING_QA_REVIEW, S.SUBMITTED, "none can be skipped"),
        (S.PENDING_GF_REVIEW, S.PENDING_PM_APPROVAL, "From GF review a job can go to: QA review"),
        (S.NEW, S.STUCK, "only scheduled or in-progress jobs can be marked stuck"),
        (S.ASSIGNED_TO_GF, S.SCHEDULED, "has to be pre-fielded"),
        (S.PRE_FIELDING, S.IN_PROGRESS, "schedule the job (crew and date)"),
        (S.IN_PROGRESS, S.GO_BACK, "only submitted packages"),
        (S.INVOICED, S.BILLED, "a job can go to: nothing"),
    ],
)
def test_illegal_moves_explain_why(source: JobStatus, target: JobStatus, why: str) -> None:
    with pytest.raises(IllegalTransition, match="not allowed") as info:
        plan_transition(job(source), target)
    assert why in str(info.value)


@pytest.mark.parametrize(
    ("source", "back_to"),
    [
        (S.PENDING_GF_REVIEW, S.IN_PROGRESS),
        (S.PENDING_QA_REVIEW, S.PENDING_GF_REVIEW),
        (S.PENDING_PM_APPROVAL, S.PENDING_QA_REVIEW),
    ],
)
def test_rejections_step_back_one_stage_with_a_reason(source: JobStatus, back_to: JobStatus) -> None:
    assert transition(source, back_to).needs == frozenset({Need.REASON})


def test_same_status_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="already Scheduled"):
        plan_transition(job(S.SCHEDULED), S.SCHEDULED)


# -- side effects of moves --------------------------------------------------------------------


@pytest.mark.parametrize("source", [S.SCHEDULED, S.IN_PROGRESS])
def test_stuck_needs_a_reason_and_records_where_from(source: JobStatus) -> None:
    current = job(source, crew_id=2, scheduled_start=TODAY)
    plan = plan_transition(current, S.STUCK)
    with pytest.raises(MissingTransitionData) as info:
        apply_move(current, plan, MoveData(reason=" "))
    assert info.value.fields == ("reason",)
    updates = apply_move(current, plan, MoveData(reason="  Gate locked  "))
    assert updates["stuck_reason"] == "Gate locked"
    assert updates["stuck_from"] is source


@pytest.mark.parametrize("target", [S.IN_PROGRESS, S.SCHEDULED, S.PRE_FIELDING])
def test_leaving_stuck_clears_the_reason(target: JobStatus) -> None:
    current = job(S.STUCK, crew_id=2, scheduled_start=TODAY, stuck_reason="x", stuck_from=S.IN_PROGRESS)
    updates = apply_move(current, plan_transition(current, target), MoveData(reason="r"))
    assert updates["stuck_reason"] is None
    assert updates["stuck_from"] is None


@pytest.mark.parametrize("source", [S.SCHEDULED, S.IN_PROGRESS, S.STUCK])
def test_unschedule_clears_crew_and_dates_and_lands_in_needs_scheduled(source: JobStatus) -> None:
    current = job(
        source, gf_id=1, foreman_id=3, crew_id=2, scheduled_start=TODAY,
        scheduled_end=TODAY + dt.timedelta(days=2),
    )  # fmt: skip
    plan = plan_transition(current, S.PRE_FIELDING)
    assert plan.clears_schedule
    assert plan.prefield_complete is True
    with pytest.raises(MissingTransitionData):
        apply_move(current, plan, MoveData())
    updates = apply_move(current, plan, MoveData(reason="Permit delayed"))
    assert updates["status"] is S.PRE_FIELDING
    assert updates["scheduled_start"] is None
    assert updates["scheduled_end"] is None
    assert updates["crew_id"] is None
    assert updates["prefield_complete"] is True


def test_unschedule_clears_dates_even_if_the_caller_passes_them() -> None:
    current = job(S.SCHEDULED, crew_id=2, scheduled_start=TODAY)
    plan = plan_transition(current, S.PRE_FIELDING)
    updates = apply_move(current, plan, MoveData(reason="r", crew_id=9, scheduled_start=TODAY))
    assert updates["scheduled_start"] is None and updates["crew_id"] is None


def test_go_back_records_the_reason() -> None:
    current = job(S.SUBMITTED)
    updates = apply_move(current, plan_transition(current, S.GO_BACK), MoveData(reason=" R05 photos "))
    assert updates["go_back_reason"] == "R05 photos"


def test_schedule_sets_crew_foreman_and_dates() -> None:
    current = job(S.PRE_FIELDING, prefield_complete=True, gf_id=1)
    end = TODAY + dt.timedelta(days=1)
    updates = apply_move(
        current,
        plan_transition(current, S.SCHEDULED),
        MoveData(crew_id=2, foreman_id=3, scheduled_start=TODAY, scheduled_end=end),
    )
    assert updates == {
        "status": S.SCHEDULED, "prefield_complete": True, "crew_id": 2, "foreman_id": 3,
        "scheduled_start": TODAY, "scheduled_end": end,
    }  # fmt: skip


def test_end_before_start_is_refused() -> None:
    current = job(S.PRE_FIELDING)
    plan = plan_transition(current, S.SCHEDULED)
    data = MoveData(crew_id=2, scheduled_start=TODAY, scheduled_end=TODAY - dt.timedelta(days=1))
    with pytest.raises(ValidationError) as info:
        apply_move(current, plan, data)
    assert info.value.field == "scheduled_end"


def test_assigning_a_gf_keeps_prefield_open() -> None:
    current = job(S.NEW)
    plan = plan_transition(current, S.ASSIGNED_TO_GF)
    assert plan.prefield_complete is False
    assert apply_move(current, plan, MoveData(gf_id=7))["gf_id"] == 7


# -- pre-field and dependencies ---------------------------------------------------------------

OPEN_USA = Dependency(DependencyKind.USA, DependencyStatus.REQUIRED)
CHECK_VEG = Dependency(DependencyKind.VEGETATION, DependencyStatus.CHECK)
DONE_CWC = Dependency(DependencyKind.CWC, DependencyStatus.SCHEDULED, TODAY, "T-1")
NOT_NEEDED_TC = Dependency(DependencyKind.TRAFFIC_CONTROL, DependencyStatus.NOT_REQUIRED)


def test_open_dependencies_block_scheduling() -> None:
    current = job(S.PRE_FIELDING, gf_id=1, dependencies=(OPEN_USA, DONE_CWC, CHECK_VEG))
    with pytest.raises(IllegalTransition) as info:
        plan_transition(current, S.SCHEDULED)
    text = str(info.value)
    assert "schedule the job" in text
    assert "USA (required)" in text and "Veg (check)" in text
    assert "CWC" not in text


def test_open_dependencies_block_finishing_prefield() -> None:
    current = job(S.PRE_FIELDING, gf_id=1, dependencies=(OPEN_USA,))
    with pytest.raises(IllegalTransition, match="finish pre-field"):
        plan_transition(current, S.PRE_FIELDING, prefield_complete=True)
    with pytest.raises(IllegalTransition, match="finish pre-field"):
        plan_transition(
            job(S.ASSIGNED_TO_GF, dependencies=(OPEN_USA,)), S.PRE_FIELDING, prefield_complete=True
        )


def test_resolved_dependencies_let_prefield_finish_and_schedule() -> None:
    current = job(S.PRE_FIELDING, gf_id=1, dependencies=(DONE_CWC, NOT_NEEDED_TC))
    finish = plan_transition(current, S.PRE_FIELDING, prefield_complete=True)
    assert (finish.label, finish.prefield_complete) == ("Finish pre-field", True)
    assert plan_transition(current, S.SCHEDULED).target is S.SCHEDULED


def test_reopen_prefield() -> None:
    current = job(S.PRE_FIELDING, prefield_complete=True)
    plan = plan_transition(current, S.PRE_FIELDING, prefield_complete=False)
    assert (plan.label, plan.prefield_complete) == ("Reopen pre-field", False)
    assert apply_move(current, plan, MoveData()) == {
        "status": S.PRE_FIELDING,
        "prefield_complete": False,
    }
    with pytest.raises(IllegalTransition, match="already"):
        plan_transition(current, S.PRE_FIELDING, prefield_complete=True)


# -- assignments ------------------------------------------------------------------------------


def test_assigning_a_gf_to_a_new_job_makes_it_assigned() -> None:
    assert plan_assignment(job(S.NEW), {"gf_id": 4}) == {"gf_id": 4, "status": S.ASSIGNED_TO_GF}
    assert plan_assignment(job(S.NEW), {"gf_id": None}) == {"gf_id": None}


def test_crew_and_start_on_a_prefielding_job_schedules_it() -> None:
    updates = plan_assignment(job(S.PRE_FIELDING, gf_id=1), {"crew_id": 2, "scheduled_start": TODAY})
    assert updates["status"] is S.SCHEDULED
    assert updates["prefield_complete"] is True


def test_crew_without_start_does_not_schedule() -> None:
    assert "status" not in plan_assignment(job(S.PRE_FIELDING), {"crew_id": 2})


def test_assignment_schedule_respects_dependencies() -> None:
    blocked = job(S.PRE_FIELDING, dependencies=(OPEN_USA,))
    with pytest.raises(IllegalTransition, match="USA"):
        plan_assignment(blocked, {"crew_id": 2, "scheduled_start": TODAY})
    resolved = (replace(OPEN_USA, status=DependencyStatus.SCHEDULED),)
    updates = plan_assignment(blocked, {"crew_id": 2, "scheduled_start": TODAY, "dependencies": resolved})
    assert updates["status"] is S.SCHEDULED


def test_assignment_refuses_unknown_fields_and_bad_dates() -> None:
    with pytest.raises(ValidationError) as info:
        plan_assignment(job(S.NEW), {"status": "billed"})
    assert info.value.field == "status"
    with pytest.raises(ValidationError, match="before the start"):
        plan_assignment(
            job(S.SCHEDULED, scheduled_start=TODAY), {"scheduled_end": TODAY - dt.timedelta(days=1)}
        )

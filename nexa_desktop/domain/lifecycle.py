"""The job lifecycle state machine (domain.md §3.1) and the data each move needs.

``plan_transition`` answers "may this job go there, and what must the user tell us?";
``apply_move`` turns a plan plus the user's data into the field updates to store.
Both are pure: the service layer does the storing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from nexa_desktop.domain.errors import IllegalTransition, MissingTransitionData, ValidationError
from nexa_desktop.domain.jobs import Job, JobStatus

S = JobStatus


class Need(StrEnum):
    """Data a transition requires. ``GF``/``CREW``/``START`` may already be on the job."""

    GF = "gf_id"
    CREW = "crew_id"
    START = "scheduled_start"
    REASON = "reason"
    SAFETY_GATE = "tailboard_confirmed"

    @property
    def label(self) -> str:
        return {
            Need.GF: "a General Foreman",
            Need.CREW: "a crew",
            Need.START: "a start date",
            Need.REASON: "a reason",
            Need.SAFETY_GATE: "today's tailboard/JHA signed on site",
        }[self]


@dataclass(frozen=True, slots=True)
class Transition:
    source: JobStatus
    target: JobStatus
    label: str
    needs: frozenset[Need] = frozenset()
    clears_schedule: bool = False


def _t(source: S, target: S, label: str, *needs: Need, clears: bool = False) -> Transition:
    return Transition(source, target, label, frozenset(needs), clears)


TRANSITIONS: tuple[Transition, ...] = (
    _t(S.NEW, S.ASSIGNED_TO_GF, "Assign GF", Need.GF),
    _t(S.NEW, S.PRE_FIELDING, "Assign GF and start pre-field", Need.GF),
    _t(S.ASSIGNED_TO_GF, S.PRE_FIELDING, "Start pre-field", Need.GF),
    _t(S.PRE_FIELDING, S.SCHEDULED, "Schedule", Need.CREW, Need.START),
    _t(S.SCHEDULED, S.IN_PROGRESS, "Start work", Need.SAFETY_GATE),
    _t(S.SCHEDULED, S.STUCK, "Mark stuck", Need.REASON),
    _t(S.IN_PROGRESS, S.STUCK, "Mark stuck", Need.REASON),
    _t(S.STUCK, S.SCHEDULED, "Unstick (back to scheduled)", Need.CREW, Need.START),
    _t(S.STUCK, S.IN_PROGRESS, "Unstick (back to work)"),
    _t(S.SCHEDULED, S.PRE_FIELDING, "Unschedule", Need.REASON, clears=True),
    _t(S.IN_PROGRESS, S.PRE_FIELDING, "Unschedule", Need.REASON, clears=True),
    _t(S.STUCK, S.PRE_FIELDING, "Unschedule", Need.REASON, clears=True),
    _t(S.IN_PROGRESS, S.PENDING_GF_REVIEW, "Submit for GF review"),
    _t(S.PENDING_GF_REVIEW, S.PENDING_QA_REVIEW, "GF approves"),
    _t(S.PENDING_GF_REVIEW, S.IN_PROGRESS, "GF rejects (back to crew)", Need.REASON),
    _t(S.PENDING_QA_REVIEW, S.PENDING_PM_APPROVAL, "QA approves"),
    _t(S.PENDING_QA_REVIEW, S.PENDING_GF_REVIEW, "QA rejects (back to GF)", Need.REASON),
    _t(S.PENDING_PM_APPROVAL, S.READY_TO_SUBMIT, "PM approves"),
    _t(S.PENDING_PM_APPROVAL, S.PENDING_QA_REVIEW, "PM rejects (back to QA)", Need.REASON),
    _t(S.READY_TO_SUBMIT, S.SUBMITTED, "Submit to PG&E"),
    _t(S.SUBMITTED, S.BILLED, "Bill"),
    _t(S.SUBMITTED, S.GO_BACK, "Go-back from PG&E", Need.REASON),
    _t(S.GO_BACK, S.IN_PROGRESS, "Rework in the field"),
    _t(S.GO_BACK, S.PENDING_GF_REVIEW, "Fix in the office (GF review)"),
    _t(S.BILLED, S.INVOICED, "Invoice"),
)

_BY_EDGE = {(t.source, t.target): t for t in TRANSITIONS}
_REVIEW_CHAIN = (S.PENDING_GF_REVIEW, S.PENDING_QA_REVIEW, S.PENDING_PM_APPROVAL)


def transitions_from(status: JobStatus) -> list[Transition]:
    """Every legal next step, in table order (for menus)."""
    return [t for t in TRANSITIONS if t.source is status]


def transition(source: JobStatus, target: JobStatus) -> Transition:
    """The transition ``source → target`` or :class:`IllegalTransition` saying why not."""
    found = _BY_EDGE.get((source, target))
    if found is not None:
        return found
    raise IllegalTransition(_why_not(source, target))


def _why_not(source: JobStatus, target: JobStatus) -> str:
    head = f"{source.label} → {target.label} is not allowed"
    if source in _REVIEW_CHAIN and target in (S.READY_TO_SUBMIT, S.SUBMITTED):
        return f"{head}: reviews go GF → QA → PM and none can be skipped. Approve the current review first."
    if target is S.STUCK:
        return f"{head}: only scheduled or in-progress jobs can be marked stuck."
    if target is S.SCHEDULED and source in (S.NEW, S.ASSIGNED_TO_GF):
        return f"{head}: the job has to be pre-fielded before it can be scheduled."
    if target is S.IN_PROGRESS and source in (S.NEW, S.ASSIGNED_TO_GF, S.PRE_FIELDING):
        return f"{head}: schedule the job (crew and date) before work starts."
    if target is S.GO_BACK:
        return f"{head}: only submitted packages can come back as go-backs."
    nexts = ", ".join(t.target.label for t in transitions_from(source)) or "nothing"
    return f"{head}. From {source.label} a job can go to: {nexts}."


@dataclass(frozen=True, slots=True)
class MoveData:
    """What the user supplied for a move (from a dialog, the CLI or a drop)."""

    gf_id: int | None = None
    foreman_id: int | None = None
    crew_id: int | None = None
    scheduled_start: dt.date | None = None
    scheduled_end: dt.date | None = None
    reason: str = ""
    tailboard_confirmed: bool = False


@dataclass(frozen=True, slots=True)
class MovePlan:
    """A checked intention to move a job; ``needs`` says what the user must still supply."""

    label: str
    target: JobStatus
    prefield_complete: bool
    needs: frozenset[Need] = frozenset()
    clears_schedule: bool = False
    missing_now: tuple[Need, ...] = field(default_factory=tuple)


def missing_needs(job: Job, needs: frozenset[Need], data: MoveData) -> tuple[Need, ...]:
    """The needs neither the job nor ``data`` satisfy, in a stable order."""
    missing = []
    for need in Need:
        if need not in needs:
            continue
        if need is Need.REASON:
            ok = bool(data.reason.strip())
        elif need is Need.SAFETY_GATE:
            ok = data.tailboard_confirmed
        else:
            ok = getattr(data, need.value) is not None or getattr(job, need.value) is not None
        if not ok:
            missing.append(need)
    return tuple(missing)


def check_dependencies_cleared(job: Job, action: str) -> None:
    open_deps = job.open_dependencies()
    if open_deps:
        names = ", ".join(f"{d.kind.label} ({d.status.value.replace('_', ' ')})" for d in open_deps)
        raise IllegalTransition(f"Can't {action}: pre-field dependencies still open: {names}.")


def plan_transition(job: Job, target: JobStatus, *, prefield_complete: bool | None = None) -> MovePlan:
    """Plan ``job → target``; ``prefield_complete`` picks Pre-fielding vs Needs Scheduled."""
    if target is job.status:
        if target is not S.PRE_FIELDING or prefield_complete is None:
            raise IllegalTransition(f"The job is already {target.label}.")
        if prefield_complete == job.prefield_complete:
            raise IllegalTransition(f"The job is already {target.label}.")
        if prefield_complete:
            check_dependencies_cleared(job, "finish pre-field")
            return MovePlan("Finish pre-field", target, True)
        return MovePlan("Reopen pre-field", target, False)
    step = transition(job.status, target)
    if target is S.SCHEDULED and job.status is S.PRE_FIELDING:
        check_dependencies_cleared(job, "schedule the job")
    if target is S.PRE_FIELDING:
        complete = step.clears_schedule if prefield_complete is None else prefield_complete
        if complete and not step.clears_schedule:
            check_dependencies_cleared(job, "finish pre-field")
    else:
        complete = job.prefield_complete or target not in (S.NEW, S.ASSIGNED_TO_GF)
    return MovePlan(step.label, target, complete, step.needs, step.clears_schedule)


def apply_move(job: Job, plan: MovePlan, data: MoveData) -> dict[str, Any]:
    """Field updates for ``plan`` with ``data``; raises if required data is missing or bad."""
    missing = missing_needs(job, plan.needs, data)
    if missing:
        words = ", ".join(n.label for n in missing)
        raise MissingTransitionData(f"{plan.label} needs {words}.", tuple(n.value for n in missing))
    updates: dict[str, Any] = {"status": plan.target, "prefield_complete": plan.prefield_complete}
    for name in ("gf_id", "foreman_id", "crew_id", "scheduled_start", "scheduled_end"):
        value = getattr(data, name)
        if value is not None:
            updates[name] = value
    start = updates.get("scheduled_start", job.scheduled_start)
    end = updates.get("scheduled_end", job.scheduled_end)
    if start is not None and end is not None and end < start:
        raise ValidationError("scheduled_end", "The end date is before the start date.")
    if plan.clears_schedule:
        updates.update(scheduled_start=None, scheduled_end=None, crew_id=None)
    if plan.target is S.STUCK:
        updates.update(stuck_reason=data.reason.strip(), stuck_from=job.status)
    elif job.status is S.STUCK:
        updates.update(stuck_reason=None, stuck_from=None)
    if plan.target is S.GO_BACK:
        updates["go_back_reason"] = data.reason.strip()
    return updates


def plan_assignment(job: Job, changes: dict[str, Any]) -> dict[str, Any]:
    """Updates for an assignment edit (GF, foreman, crew, dates, dependencies).

    A new job that gets a GF becomes *assigned to GF*; a pre-fielding job that gets a crew and a
    start date becomes *scheduled* (if its dependencies are cleared), as the office expects.
    """
    allowed = {"gf_id", "foreman_id", "crew_id", "scheduled_start", "scheduled_end", "dependencies"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(sorted(unknown)[0], f"Cannot assign {', '.join(sorted(unknown))}.")
    updates = dict(changes)
    start = updates.get("scheduled_start", job.scheduled_start)
    end = updates.get("scheduled_end", job.scheduled_end)
    if start is not None and end is not None and end < start:
        raise ValidationError("scheduled_end", "The end date is before the start date.")
    if job.status is S.NEW and updates.get("gf_id") is not None:
        updates["status"] = S.ASSIGNED_TO_GF
    schedules = "crew_id" in changes or "scheduled_start" in changes
    has_crew = updates.get("crew_id", job.crew_id) is not None
    if job.status is S.PRE_FIELDING and schedules and has_crew and start:
        deps = changes.get("dependencies")
        effective = job if deps is None else replace(job, dependencies=tuple(deps))
        check_dependencies_cleared(effective, "schedule the job")
        updates.update(status=S.SCHEDULED, prefield_complete=True)
    return updates

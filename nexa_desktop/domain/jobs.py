"""Jobs, people and crews as the rest of the app sees them (immutable snapshots)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from nexa_desktop.domain.errors import ValidationError


class JobStatus(StrEnum):
    """Lifecycle states (domain.md §3.1)."""

    NEW = "new"
    ASSIGNED_TO_GF = "assigned_to_gf"
    PRE_FIELDING = "pre_fielding"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    STUCK = "stuck"
    PENDING_GF_REVIEW = "pending_gf_review"
    PENDING_QA_REVIEW = "pending_qa_review"
    PENDING_PM_APPROVAL = "pending_pm_approval"
    READY_TO_SUBMIT = "ready_to_submit"
    SUBMITTED = "submitted"
    GO_BACK = "go_back"
    BILLED = "billed"
    INVOICED = "invoiced"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    JobStatus.NEW: "New",
    JobStatus.ASSIGNED_TO_GF: "Assigned to GF",
    JobStatus.PRE_FIELDING: "Pre-fielding",
    JobStatus.SCHEDULED: "Scheduled",
    JobStatus.IN_PROGRESS: "In progress",
    JobStatus.STUCK: "Stuck",
    JobStatus.PENDING_GF_REVIEW: "GF review",
    JobStatus.PENDING_QA_REVIEW: "QA review",
    JobStatus.PENDING_PM_APPROVAL: "PM approval",
    JobStatus.READY_TO_SUBMIT: "Ready to submit",
    JobStatus.SUBMITTED: "Submitted",
    JobStatus.GO_BACK: "Go-back",
    JobStatus.BILLED: "Billed",
    JobStatus.INVOICED: "Invoiced",
}

#: Older spellings found in exported data.
_LEGACY_STATUS = {
    "pending": JobStatus.NEW,
    "pre-field": JobStatus.PRE_FIELDING,
    "pre_field": JobStatus.PRE_FIELDING,
    "in-progress": JobStatus.IN_PROGRESS,
    "completed": JobStatus.READY_TO_SUBMIT,
}


def parse_status(value: str) -> JobStatus:
    key = value.strip().lower().replace(" ", "_")
    if key in _LEGACY_STATUS:
        return _LEGACY_STATUS[key]
    try:
        return JobStatus(key)
    except ValueError:
        known = ", ".join(s.value for s in JobStatus)
        raise ValidationError("status", f"Unknown status {value!r}. Known: {known}.") from None


class Priority(StrEnum):
    """EC tag priority. A and E (and emergencies) are urgent."""

    EMERGENCY = "EMERGENCY"
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"

    @property
    def urgent(self) -> bool:
        return self in (Priority.EMERGENCY, Priority.A, Priority.E)


def parse_priority(value: str) -> Priority:
    key = value.strip().upper()
    if key in ("EMERG", "EMER", "EMERGENCY", "EM"):
        return Priority.EMERGENCY
    try:
        return Priority(key)
    except ValueError:
        raise ValidationError("priority", f"Priority {value!r} must be A, B, C, D, E or EMERGENCY.") from None


class WorkType(StrEnum):
    ESTIMATED = "estimated"
    EC_CORRECTIVE = "ec_corrective"


def parse_work_type(value: str) -> WorkType:
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    aliases = {
        "ec": WorkType.EC_CORRECTIVE,
        "ec_tag": WorkType.EC_CORRECTIVE,
        "corrective": WorkType.EC_CORRECTIVE,
        "est": WorkType.ESTIMATED,
    }
    if key in aliases:
        return aliases[key]
    try:
        return WorkType(key)
    except ValueError:
        raise ValidationError(
            "work_type", f"Work type {value!r} must be 'estimated' or 'ec_corrective'."
        ) from None


class DependencyKind(StrEnum):
    """Pre-field dependencies a GF clears before a job can be scheduled."""

    USA = "usa"
    VEGETATION = "vegetation"
    TRAFFIC_CONTROL = "traffic_control"
    NO_PARKS = "no_parks"
    CWC = "cwc"
    AFW = "afw"
    SPECIAL_EQUIPMENT = "special_equipment"
    CIVIL = "civil"

    @property
    def label(self) -> str:
        return _DEPENDENCY_LABELS[self]


_DEPENDENCY_LABELS = {
    DependencyKind.USA: "USA",
    DependencyKind.VEGETATION: "Veg",
    DependencyKind.TRAFFIC_CONTROL: "TC",
    DependencyKind.NO_PARKS: "No Parks",
    DependencyKind.CWC: "CWC",
    DependencyKind.AFW: "AFW",
    DependencyKind.SPECIAL_EQUIPMENT: "Equip",
    DependencyKind.CIVIL: "Civil",
}


class DependencyStatus(StrEnum):
    """The cycle a dependency goes through: required → check → scheduled, or not required."""

    REQUIRED = "required"
    CHECK = "check"
    SCHEDULED = "scheduled"
    NOT_REQUIRED = "not_required"

    @property
    def resolved(self) -> bool:
        return self in (DependencyStatus.SCHEDULED, DependencyStatus.NOT_REQUIRED)


@dataclass(frozen=True, slots=True)
class Dependency:
    kind: DependencyKind
    status: DependencyStatus = DependencyStatus.REQUIRED
    date: dt.date | None = None
    ticket: str = ""

    def to_json(self) -> dict[str, str | None]:
        return {
            "kind": self.kind.value,
            "status": self.status.value,
            "date": self.date.isoformat() if self.date else None,
            "ticket": self.ticket,
        }

    @classmethod
    def from_json(cls, data: dict[str, str | None]) -> Dependency:
        raw_date = data.get("date")
        return cls(
            kind=DependencyKind(str(data["kind"])),
            status=DependencyStatus(str(data.get("status") or "required")),
            date=dt.date.fromisoformat(raw_date) if raw_date else None,
            ticket=str(data.get("ticket") or ""),
        )


class Role(StrEnum):
    PM = "pm"
    GF = "gf"
    FOREMAN = "foreman"
    CREW = "crew"
    QA = "qa"
    SCHEDULER = "scheduler"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    role: Role
    lan_id: str | None = None
    active: bool = True
    version: int = 1


@dataclass(frozen=True, slots=True)
class Crew:
    id: int
    name: str
    foreman_id: int | None = None
    size: int = 4
    skills: tuple[str, ...] = ()
    active: bool = True
    version: int = 1


@dataclass(frozen=True, slots=True)
class Job:
    """One job as read from the store; changes go through services, never by mutation."""

    id: int
    pm_number: str | None
    notification_number: str | None
    status: JobStatus
    version: int
    address: str = ""
    city: str = ""
    wo_number: str | None = None
    work_type: WorkType = WorkType.ESTIMATED
    division: str | None = None
    mat_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    priority: Priority = Priority.C
    due_date: dt.date | None = None
    prefield_complete: bool = False
    gf_id: int | None = None
    foreman_id: int | None = None
    crew_id: int | None = None
    scheduled_start: dt.date | None = None
    scheduled_end: dt.date | None = None
    stuck_reason: str | None = None
    stuck_from: JobStatus | None = None
    go_back_reason: str | None = None
    dependencies: tuple[Dependency, ...] = field(default_factory=tuple)
    notes: str = ""

    @property
    def title(self) -> str:
        """What people call the job: its PM number, else its notification."""
        return self.pm_number or self.notification_number or f"Job {self.id}"

    def open_dependencies(self) -> list[Dependency]:
        return [d for d in self.dependencies if not d.status.resolved]

    def days_until_due(self, today: dt.date) -> int | None:
        return None if self.due_date is None else (self.due_date - today).days


class DueState(StrEnum):
    NONE = "none"
    OK = "ok"
    SOON = "soon"  # due within 7 days: amber
    OVERDUE = "overdue"  # red


#: Finished jobs are not "overdue" any more.
_DONE = {JobStatus.SUBMITTED, JobStatus.BILLED, JobStatus.INVOICED}


def due_state(job: Job, today: dt.date) -> DueState:
    days = job.days_until_due(today)
    if days is None or job.status in _DONE:
        return DueState.NONE
    if days < 0:
        return DueState.OVERDUE
    if days <= 7:
        return DueState.SOON
    return DueState.OK

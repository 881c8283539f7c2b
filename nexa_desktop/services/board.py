"""Board commands: load, move, assign and revert (undo/redo) jobs, with history and usage events.

Each command runs in one transaction: the job row (guarded by its version), a history row and an
outbox usage event are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from nexa_desktop.domain.board import BoardConfig
from nexa_desktop.domain.errors import NotFound, StaleWrite, ValidationError
from nexa_desktop.domain.jobs import Crew, Dependency, Job, JobStatus, Person, Role
from nexa_desktop.domain.lifecycle import MoveData, MovePlan, apply_move, plan_assignment, plan_transition
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database

#: A row of a job's history (re-exported so the UI needs nothing from the store).
HistoryEntry = repo.HistoryEntry


@dataclass(frozen=True, slots=True)
class BoardSnapshot:
    jobs: list[Job]
    people: dict[int, Person]
    crews: dict[int, Crew]


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """A committed change: the job after it, and the field values before/after (for undo)."""

    job: Job
    label: str
    before: dict[str, Any]
    after: dict[str, Any]


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Dependency):
        return value.to_json()
    if isinstance(value, JobStatus):
        return value.value
    return value


class BoardService:
    """The board's use cases. Thread-safe: each call opens its own connection."""

    def __init__(
        self,
        db: Database,
        config: BoardConfig,
        actor: str,
        write_gate: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.actor = actor
        #: Raises :class:`ReadOnlyMode` when changes are not allowed (see ``services.gate``).
        self.write_gate = write_gate or (lambda: None)

    # -- reads --------------------------------------------------------------------------------

    def load(self) -> BoardSnapshot:
        with self.db.connect() as conn:
            jobs = repo.list_jobs(conn)
            people = {p.id: p for p in repo.list_people(conn)}
            crews = {c.id: c for c in repo.list_crews(conn)}
        return BoardSnapshot(jobs, people, crews)

    def job(self, job_id: int) -> Job:
        with self.db.connect() as conn:
            return repo.get_job(conn, job_id)

    def history(self, job_id: int) -> list[repo.HistoryEntry]:
        with self.db.connect() as conn:
            return repo.job_history_entries(conn, job_id)

    # -- commands -----------------------------------------------------------------------------

    def move_to_column(
        self, job_id: int, expected_version: int, column_id: str, data: MoveData | None = None
    ) -> ChangeResult:
        """Drop ``job`` on a board column (what a drag or Ctrl+←/→ does)."""
        column = self.config.column(column_id)

        def plan(job: Job) -> MovePlan:
            return self.config.plan_drop(job, column.id)

        return self._move(job_id, expected_version, plan, data or MoveData(), from_col=None, to_col=column.id)

    def transition(
        self, job_id: int, expected_version: int, target: JobStatus, data: MoveData | None = None
    ) -> ChangeResult:
        """Move ``job`` to a lifecycle status (the context menu's "Move to")."""

        def plan(job: Job) -> MovePlan:
            return plan_transition(job, target)

        return self._move(job_id, expected_version, plan, data or MoveData(), from_col=None, to_col=None)

    def assign(self, job_id: int, expected_version: int, changes: Mapping[str, Any]) -> ChangeResult:
        """Set GF, foreman, crew, dates or dependencies from the detail panel or context menu."""
        self.write_gate()
        with self.db.begin() as conn:
            job = self._current(conn, job_id, expected_version)
            updates = plan_assignment(job, dict(changes))
            self._check_references(conn, job, updates)
            if "status" in updates:
                label = _ASSIGN_LABELS.get(updates["status"], "Assign")
            else:
                label = "Assign " + ", ".join(_FIELD_LABELS.get(k, k) for k in changes)
            return self._commit(conn, job, updates, label, reason="")

    def revert(
        self, job_id: int, expected_version: int, values: Mapping[str, Any], label: str
    ) -> ChangeResult:
        """Put fields back as they were (undo/redo); refused if the job changed in between."""
        self.write_gate()
        with self.db.begin() as conn:
            job = self._current(conn, job_id, expected_version)
            updates = dict(values)
            if "status" in updates and not isinstance(updates["status"], JobStatus):
                updates["status"] = JobStatus(updates["status"])
            if "dependencies" in updates:
                updates["dependencies"] = tuple(
                    d if isinstance(d, Dependency) else Dependency.from_json(d)
                    for d in updates["dependencies"]
                )
            return self._commit(conn, job, updates, label, reason="")

    # -- internals ----------------------------------------------------------------------------

    def _move(
        self,
        job_id: int,
        expected_version: int,
        plan_for: Callable[[Job], MovePlan],
        data: MoveData,
        *,
        from_col: str | None,
        to_col: str | None,
    ) -> ChangeResult:
        self.write_gate()
        with self.db.begin() as conn:
            job = self._current(conn, job_id, expected_version)
            plan: MovePlan = plan_for(job)
            if data.crew_id is not None and data.foreman_id is None:
                crew = self._crew(conn, data.crew_id)
                data = replace(data, foreman_id=crew.foreman_id)
            updates = apply_move(job, plan, data)
            self._check_references(conn, job, updates)
            return self._commit(conn, job, updates, plan.label, reason=data.reason.strip())

    def _current(self, conn: Connection, job_id: int, expected_version: int) -> Job:
        job = repo.get_job(conn, job_id)
        if job.version != expected_version:
            raise StaleWrite(
                f"{job.title} was changed by someone else since you loaded it "
                f"(version {expected_version} → {job.version}). The card has been refreshed; "
                "check it and try again."
            )
        return job

    def _crew(self, conn: Connection, crew_id: int) -> Crew:
        for crew in repo.list_crews(conn):
            if crew.id == crew_id:
                return crew
        raise NotFound(f"Crew {crew_id} no longer exists.")

    def _check_references(self, conn: Connection, job: Job, updates: Mapping[str, Any]) -> None:
        people: dict[int, Person] | None = None
        for key, roles in (("gf_id", (Role.GF,)), ("foreman_id", (Role.FOREMAN, Role.GF))):
            person_id = updates.get(key)
            if person_id is None:
                continue
            people = people or {p.id: p for p in repo.list_people(conn)}
            person = people.get(person_id)
            if person is None:
                raise ValidationError(key, f"Person {person_id} does not exist.")
            if person.role not in roles:
                want = " or ".join(r.value.upper() for r in roles)
                raise ValidationError(key, f"{person.name} is a {person.role.value}, not a {want}.")
        crew_id = updates.get("crew_id")
        if crew_id is not None:
            crew = self._crew(conn, crew_id)
            if not crew.active:
                raise ValidationError("crew_id", f"Crew {crew.name} is inactive.")

    def _commit(
        self, conn: Connection, job: Job, updates: Mapping[str, Any], label: str, reason: str
    ) -> ChangeResult:
        changed = {k: v for k, v in updates.items() if getattr(job, k) != v}
        if not changed:
            return ChangeResult(job, label, {}, {})
        before = {k: getattr(job, k) for k in changed}
        version = repo.update_job(conn, job.id, job.version, changed)
        after_job = replace(job, version=version, **changed)
        old_col = self.config.column_of(job).id
        new_col = self.config.column_of(after_job).id
        repo.add_history(
            conn,
            job_id=job.id,
            actor=self.actor,
            action=label,
            from_status=job.status,
            to_status=after_job.status,
            version=version,
            reason=reason,
            changes={k: [_jsonable(before[k]), _jsonable(changed[k])] for k in changed},
        )
        repo.add_usage_event(
            conn, "board.change", {"action": label, "from_column": old_col, "to_column": new_col}
        )
        return ChangeResult(after_job, label, before, dict(changed))


_ASSIGN_LABELS = {
    JobStatus.ASSIGNED_TO_GF: "Assign GF",
    JobStatus.SCHEDULED: "Assign crew and schedule",
}

_FIELD_LABELS = {
    "gf_id": "GF",
    "foreman_id": "foreman",
    "crew_id": "crew",
    "scheduled_start": "start date",
    "scheduled_end": "end date",
    "dependencies": "dependencies",
}

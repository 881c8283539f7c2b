"""Board columns: which lifecycle states each column shows and what a drop into it means.

The column set, titles, WIP limits and colours come from ``resources/board.toml``; this module
only validates that config and maps jobs and drops onto it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nexa_desktop.domain.errors import IllegalTransition, ValidationError
from nexa_desktop.domain.jobs import Job, JobStatus
from nexa_desktop.domain.lifecycle import MovePlan, plan_transition

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True, slots=True)
class BoardColumn:
    id: str
    title: str
    statuses: tuple[JobStatus, ...]
    drop_status: JobStatus
    #: For the two pre-fielding columns: whether the pre-field is done. ``None`` elsewhere.
    prefield_complete: bool | None = None
    wip_limit: int | None = None
    color: str = "#607d8b"

    def holds(self, job: Job) -> bool:
        if job.status not in self.statuses:
            return False
        return self.prefield_complete is None or self.prefield_complete == job.prefield_complete

    def over_wip(self, count: int) -> bool:
        return self.wip_limit is not None and count > self.wip_limit


@dataclass(frozen=True, slots=True)
class BoardConfig:
    columns: tuple[BoardColumn, ...]

    def column(self, column_id: str) -> BoardColumn:
        for col in self.columns:
            if col.id == column_id:
                return col
        raise KeyError(column_id)

    def index_of(self, column_id: str) -> int:
        return [c.id for c in self.columns].index(column_id)

    def column_of(self, job: Job) -> BoardColumn:
        for col in self.columns:
            if col.holds(job):
                return col
        raise ValidationError("status", f"No board column shows status {job.status.value!r}.")

    def plan_drop(self, job: Job, column_id: str) -> MovePlan:
        """What dropping ``job`` on a column means, or :class:`IllegalTransition` saying why not."""
        target = self.column(column_id)
        if target.holds(job):
            raise IllegalTransition(f"{job.title} is already in {target.title}.")
        if job.status in target.statuses and target.prefield_complete is None:
            raise IllegalTransition(f"{job.title} is already in {target.title}.")
        try:
            return plan_transition(job, target.drop_status, prefield_complete=target.prefield_complete)
        except IllegalTransition as exc:
            raise IllegalTransition(f"Can't move {job.title} to {target.title}. {exc}") from None

    def neighbour(self, column_id: str, step: int) -> BoardColumn | None:
        """The column ``step`` places to the right (negative: left), if any."""
        index = self.index_of(column_id) + step
        return self.columns[index] if 0 <= index < len(self.columns) else None


def parse_board_config(data: dict[str, Any]) -> BoardConfig:
    """Validate the TOML structure; every status must be shown by exactly one column."""
    raw_columns = data.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise ValidationError("columns", "Board config has no [[columns]].")
    columns = []
    for i, raw in enumerate(raw_columns):
        where = f"column #{i + 1}"
        try:
            statuses = tuple(JobStatus(s) for s in raw["statuses"])
            drop = JobStatus(raw.get("drop_status", raw["statuses"][0]))
            prefield = raw.get("prefield_complete")
            wip = raw.get("wip_limit")
            color = str(raw.get("color", "#607d8b"))
            col = BoardColumn(
                id=str(raw["id"]),
                title=str(raw["title"]),
                statuses=statuses,
                drop_status=drop,
                prefield_complete=None if prefield is None else bool(prefield),
                wip_limit=None if wip in (None, 0) else int(wip),
                color=color,
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValidationError("columns", f"Board config {where} is invalid: {exc}") from None
        if drop not in statuses:
            raise ValidationError("columns", f"Board config {where}: drop_status not in statuses.")
        if not _COLOR.fullmatch(color):
            raise ValidationError("columns", f"Board config {where}: colour {color!r} is not #rrggbb.")
        columns.append(col)
    ids = [c.id for c in columns]
    if len(set(ids)) != len(ids):
        raise ValidationError("columns", "Board config has duplicate column ids.")
    for status in JobStatus:
        for complete in (False, True) if status is JobStatus.PRE_FIELDING else (False,):
            probe = Job(
                id=0,
                pm_number=None,
                notification_number=None,
                status=status,
                version=1,
                prefield_complete=complete,
            )
            shown = [c.id for c in columns if c.holds(probe)]
            if len(shown) != 1:
                raise ValidationError(
                    "columns", f"Status {status.value!r} must be shown by exactly one column, not {shown}."
                )
    return BoardConfig(tuple(columns))


def load_board_config(path: Path) -> BoardConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError("columns", f"Board config {path} is missing.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError("columns", f"Board config {path} is not valid TOML: {exc}") from None
    return parse_board_config(data)

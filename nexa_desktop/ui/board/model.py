"""``BoardModel``: a three-level tree — swimlanes → columns → cards — over domain jobs.

Each column view shows one (lane, column) cell by setting its root index. A committed change
updates only the rows it touches (remove from the old cell, insert into the new one), so the
board never reloads as a whole after a drop.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from nexa_desktop.domain.board import BoardColumn, BoardConfig
from nexa_desktop.domain.jobs import Crew, DueState, Job, Person, Priority, due_state

Index = QModelIndex | QPersistentModelIndex

_KIND_LANE, _KIND_COLUMN, _KIND_CARD = 0, 1, 2
_FAR_FUTURE = dt.date.max


class Roles(IntEnum):
    JOB = Qt.ItemDataRole.UserRole + 1
    COLUMN = Qt.ItemDataRole.UserRole + 2
    COUNT = Qt.ItemDataRole.UserRole + 3
    OVER_WIP = Qt.ItemDataRole.UserRole + 4
    CREW_NAME = Qt.ItemDataRole.UserRole + 5
    GF_NAME = Qt.ItemDataRole.UserRole + 6
    DUE_STATE = Qt.ItemDataRole.UserRole + 7


@dataclass(frozen=True, slots=True)
class BoardFilter:
    """What the filter bar asks for; empty means everything."""

    text: str = ""
    priority: Priority | None = None
    overdue_only: bool = False
    gf_id: int | None = None

    def is_empty(self) -> bool:
        return (
            not self.text.strip() and self.priority is None and not self.overdue_only and self.gf_id is None
        )


@dataclass(slots=True)
class _Lane:
    key: int | None  # GF id, or None for "all"/"unassigned"
    title: str
    cells: list[list[int]] = field(default_factory=list)  # per column: job ids in order


def _sort_key(job: Job) -> tuple[dt.date, str, int]:
    return (job.due_date or _FAR_FUTURE, job.title, job.id)


class BoardModel(QAbstractItemModel):
    #: Column counts (shown/total) changed; headers listen to this instead of dataChanged.
    countsChanged = Signal()

    def __init__(self, config: BoardConfig, today: Callable[[], dt.date] = dt.date.today) -> None:
        super().__init__()
        self.config = config
        self._today = today
        self._jobs: dict[int, Job] = {}
        self._people: dict[int, Person] = {}
        self._crews: dict[int, Crew] = {}
        self._lanes: list[_Lane] = []
        self._haystack: dict[int, str] = {}
        self._filter = BoardFilter()
        self._swimlanes = False
        self._col_index = {c.id: i for i, c in enumerate(config.columns)}
        self._counts: list[int] = [0] * len(config.columns)  # unfiltered, all lanes
        self._job_col: dict[int, int] = {}  # job id -> column position (cache)
        self._order: list[int] | None = None  # job ids in card order (cache)
        self._rebuild()

    # -- loading and changes ----------------------------------------------------------------

    def load(self, jobs: Iterable[Job], people: dict[int, Person], crews: dict[int, Crew]) -> None:
        self.beginResetModel()
        self._people = dict(people)
        self._crews = dict(crews)
        self._jobs = {j.id: j for j in jobs}
        self._haystack = {j.id: self._search_text(j) for j in self._jobs.values()}
        column_of = self.config.column_of
        self._job_col = {j.id: self._col_index[column_of(j).id] for j in self._jobs.values()}
        self._order = None
        self._rebuild()
        self.endResetModel()
        self.countsChanged.emit()

    def set_filter(self, board_filter: BoardFilter) -> None:
        if board_filter == self._filter:
            return
        self.beginResetModel()
        self._filter = board_filter
        self._rebuild()
        self.endResetModel()
        self.countsChanged.emit()

    def set_swimlanes(self, on: bool) -> None:
        if on == self._swimlanes:
            return
        self.beginResetModel()
        self._swimlanes = on
        self._rebuild()
        self.endResetModel()
        self.countsChanged.emit()

    @property
    def swimlanes(self) -> bool:
        return self._swimlanes

    @property
    def board_filter(self) -> BoardFilter:
        return self._filter

    def apply_job(self, job: Job) -> None:
        """Show ``job`` as it is now (after a committed change), touching only its rows."""
        old = self._jobs.get(job.id)
        new_col = self._col_index[self.config.column_of(job).id]
        if old is not None:
            self._counts[self._job_col[job.id]] -= 1
        self._counts[new_col] += 1
        self._job_col[job.id] = new_col
        if old is None or _sort_key(old) != _sort_key(job):
            self._order = None
        self._jobs[job.id] = job
        self._haystack[job.id] = self._search_text(job)
        old_pos = self._position(job.id)
        new_lane = self._lane_for(job) if self._passes(job) else None
        if new_lane is not None and new_lane not in range(len(self._lanes)):
            self.load(self._jobs.values(), self._people, self._crews)  # a new GF lane appeared
            return
        if old_pos is not None:
            lane_i, col_i, row = old_pos
            if new_lane == lane_i and new_col == col_i:
                cell = self._lanes[lane_i].cells[col_i]
                del cell[row]
                target = self._insert_row(cell, job)
                cell.insert(row, job.id)
                if target == row:
                    idx = self.index(row, 0, self._cell_index(lane_i, col_i))
                    self.dataChanged.emit(idx, idx)
                    self.countsChanged.emit()
                    return
            parent = self._cell_index(lane_i, col_i)
            self.beginRemoveRows(parent, row, row)
            del self._lanes[lane_i].cells[col_i][row]
            self.endRemoveRows()
        if new_lane is not None:
            cell = self._lanes[new_lane].cells[new_col]
            row = self._insert_row(cell, job)
            self.beginInsertRows(self._cell_index(new_lane, new_col), row, row)
            cell.insert(row, job.id)
            self.endInsertRows()
        self.countsChanged.emit()

    def job(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    @property
    def people(self) -> dict[int, Person]:
        return self._people

    @property
    def crews(self) -> dict[int, Crew]:
        return self._crews

    # -- structure helpers for views -----------------------------------------------------------

    def lane_count(self) -> int:
        return len(self._lanes)

    def lane_title(self, lane: int) -> str:
        return self._lanes[lane].title

    def cell_index(self, lane: int, column_id: str) -> QModelIndex:
        return self._cell_index(lane, self._col_index[column_id])

    def column_count(self, column_id: str) -> int:
        """Cards in a column across lanes, after filtering."""
        col = self._col_index[column_id]
        return sum(len(lane.cells[col]) for lane in self._lanes)

    def column_total(self, column_id: str) -> int:
        """Cards in a column before filtering (what the WIP limit is about)."""
        return self._counts[self._col_index[column_id]]

    def index_of_job(self, job_id: int) -> QModelIndex:
        pos = self._position(job_id)
        if pos is None:
            return QModelIndex()
        lane, col, row = pos
        return self.index(row, 0, self._cell_index(lane, col))

    def column_of_index(self, index: Index) -> BoardColumn | None:
        if not index.isValid():
            return None
        kind, _lane, col = self._decode(index.internalId())
        if kind == _KIND_LANE:
            return None
        if kind == _KIND_COLUMN:
            col = index.row()
        return self.config.columns[col]

    # -- QAbstractItemModel ------------------------------------------------------------------

    def index(self, row: int, column: int = 0, parent: Index = QModelIndex()) -> QModelIndex:
        # Hot path: QListView calls this for every row of a column on each layout.
        if column != 0 or row < 0:
            return QModelIndex()
        if parent.isValid():
            pid = parent.internalId()
            if pid & 3 == _KIND_COLUMN:
                col = parent.row()
                if row < len(self._lanes[(pid >> 2) & 0x3FFFF].cells[col]):
                    return self.createIndex(row, 0, (pid & ~3) | _KIND_CARD | (col << 20))
                return QModelIndex()
            if pid & 3 == _KIND_LANE and row < len(self.config.columns):
                return self.createIndex(row, 0, _KIND_COLUMN | (parent.row() << 2))
            return QModelIndex()
        if row < len(self._lanes):
            return self.createIndex(row, 0, _KIND_LANE)
        return QModelIndex()

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        kind, lane, col = self._decode(index.internalId())
        if kind == _KIND_LANE:
            return QModelIndex()
        if kind == _KIND_COLUMN:
            return self.createIndex(lane, 0, self._encode(_KIND_LANE, 0, 0))
        return self.createIndex(col, 0, self._encode(_KIND_COLUMN, lane, 0))

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._lanes)
        kind, lane, _col = self._decode(parent.internalId())
        if kind == _KIND_LANE:
            return len(self.config.columns)
        if kind == _KIND_COLUMN:
            return len(self._lanes[lane].cells[parent.row()])
        return 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 1

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        kind, _lane, _col = self._decode(index.internalId())
        if kind == _KIND_CARD:
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsDropEnabled

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        kind, lane, col = self._decode(index.internalId())
        if kind == _KIND_LANE:
            return self._lanes[index.row()].title if role == Qt.ItemDataRole.DisplayRole else None
        if kind == _KIND_COLUMN:
            column = self.config.columns[index.row()]
            if role == Qt.ItemDataRole.DisplayRole:
                return column.title
            if role == Roles.COLUMN:
                return column
            if role == Roles.COUNT:
                return self.column_count(column.id)
            if role == Roles.OVER_WIP:
                return column.over_wip(self.column_total(column.id))
            return None
        job = self._jobs[self._lanes[lane].cells[col][index.row()]]
        if role == Roles.JOB:
            return job
        if role == Qt.ItemDataRole.DisplayRole:
            return job.title
        if role == Roles.CREW_NAME:
            crew = self._crews.get(job.crew_id) if job.crew_id else None
            return crew.name if crew else ""
        if role == Roles.GF_NAME:
            gf = self._people.get(job.gf_id) if job.gf_id else None
            return gf.name if gf else ""
        if role == Roles.DUE_STATE:
            return due_state(job, self._today())
        if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
            return self.describe(job)
        return None

    def describe(self, job: Job) -> str:
        """A sentence for screen readers and tooltips."""
        parts = [f"PM {job.pm_number}" if job.pm_number else f"Notification {job.notification_number}"]
        if job.address:
            parts.append(f"{job.address}, {job.city}" if job.city else job.address)
        if job.due_date:
            state = due_state(job, self._today())
            extra = {DueState.OVERDUE: " (overdue)", DueState.SOON: " (due soon)"}.get(state, "")
            parts.append(f"due {job.due_date:%b %d, %Y}{extra}")
        parts.append(f"priority {job.priority.value}")
        parts.append(f"status {job.status.label}")
        crew = self._crews.get(job.crew_id) if job.crew_id else None
        if crew:
            parts.append(f"crew {crew.name}")
        gf = self._people.get(job.gf_id) if job.gf_id else None
        if gf:
            parts.append(f"GF {gf.name}")
        open_deps = job.open_dependencies()
        if open_deps:
            parts.append("open dependencies: " + ", ".join(d.kind.label for d in open_deps))
        if job.stuck_reason:
            parts.append(f"stuck: {job.stuck_reason}")
        return "; ".join(parts)

    # -- internals ----------------------------------------------------------------------------

    @staticmethod
    def _encode(kind: int, lane: int, col: int) -> int:
        return kind | (lane << 2) | (col << 20)

    @staticmethod
    def _decode(value: int) -> tuple[int, int, int]:
        return value & 0b11, (value >> 2) & 0x3FFFF, value >> 20

    def _cell_index(self, lane: int, col: int) -> QModelIndex:
        return self.createIndex(col, 0, self._encode(_KIND_COLUMN, lane, 0))

    def _search_text(self, job: Job) -> str:
        crew = self._crews.get(job.crew_id) if job.crew_id else None
        gf = self._people.get(job.gf_id) if job.gf_id else None
        foreman = self._people.get(job.foreman_id) if job.foreman_id else None
        words = [
            job.pm_number or "",
            job.notification_number or "",
            job.wo_number or "",
            job.address,
            job.city,
            crew.name if crew else "",
            gf.name if gf else "",
            foreman.name if foreman else "",
            job.mat_code or "",
            job.division or "",
        ]
        return " ".join(words).lower()

    def _passes(self, job: Job) -> bool:
        f = self._filter
        if f.priority is not None and job.priority is not f.priority:
            return False
        if f.gf_id is not None and job.gf_id != f.gf_id:
            return False
        if f.overdue_only and due_state(job, self._today()) is not DueState.OVERDUE:
            return False
        if f.text.strip():
            hay = self._haystack[job.id]
            return all(term in hay for term in f.text.lower().split())
        return True

    def _lane_keys(self) -> list[tuple[int | None, str]]:
        if not self._swimlanes:
            return [(None, "All jobs")]
        gfs = sorted(
            {j.gf_id for j in self._jobs.values() if j.gf_id is not None},
            key=lambda pid: self._people[pid].name if pid in self._people else "",
        )
        keys: list[tuple[int | None, str]] = [
            (pid, self._people[pid].name if pid in self._people else f"GF {pid}") for pid in gfs
        ]
        keys.append((None, "No GF yet"))
        return keys

    def _lane_for(self, job: Job) -> int:
        if not self._swimlanes:
            return 0
        for i, lane in enumerate(self._lanes):
            if lane.key == job.gf_id:
                return i
        return -1

    def _rebuild(self) -> None:
        ncols = len(self.config.columns)
        self._lanes = [_Lane(key, title, [[] for _ in range(ncols)]) for key, title in self._lane_keys()]
        lane_of = {lane.key: i for i, lane in enumerate(self._lanes)}
        if self._order is None:
            self._order = [j.id for j in sorted(self._jobs.values(), key=_sort_key)]
        counts = [0] * ncols
        job_col = self._job_col
        jobs = self._jobs
        everything = self._filter.is_empty()
        swimlanes = self._swimlanes
        last_lane = len(self._lanes) - 1
        lanes = self._lanes
        for job_id in self._order:
            col = job_col[job_id]
            counts[col] += 1
            job = jobs[job_id]
            if not everything and not self._passes(job):
                continue
            lane = lane_of.get(job.gf_id, last_lane) if swimlanes else 0
            lanes[lane].cells[col].append(job_id)
        self._counts = counts

    def _position(self, job_id: int) -> tuple[int, int, int] | None:
        for lane_i, lane in enumerate(self._lanes):
            for col_i, cell in enumerate(lane.cells):
                if job_id in cell:
                    return lane_i, col_i, cell.index(job_id)
        return None

    def _insert_row(self, cell: list[int], job: Job) -> int:
        keys = [_sort_key(self._jobs[j]) for j in cell]
        return bisect.bisect_left(keys, _sort_key(job))

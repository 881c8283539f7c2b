"""Column views and the grid that lays them out (columns × swimlanes) with WIP headers."""

from __future__ import annotations

import json
from collections.abc import Sequence

from PySide6.QtCore import QByteArray, QMimeData, QModelIndex, QPersistentModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QDrag, QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QLabel,
    QListView,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nexa_desktop.domain.board import BoardColumn
from nexa_desktop.domain.jobs import Job
from nexa_desktop.ui.board.delegate import CARD_HEIGHT, CardDelegate
from nexa_desktop.ui.board.model import BoardModel, Roles

JOB_MIME = "application/x-nexa-job"
COLUMN_WIDTH = 236


def job_mime(job: Job) -> QMimeData:
    mime = QMimeData()
    mime.setData(JOB_MIME, QByteArray(json.dumps({"id": job.id, "version": job.version}).encode()))
    mime.setText(job.title)
    return mime


def job_from_mime(mime: QMimeData) -> tuple[int, int] | None:
    if not mime.hasFormat(JOB_MIME):
        return None
    try:
        data = json.loads(bytes(mime.data(JOB_MIME).data()).decode())
        return int(data["id"]), int(data["version"])
    except (ValueError, KeyError, TypeError):
        return None


class ColumnView(QListView):
    """One (lane, column) cell of the board. Drops and Ctrl+←/→ are reported, not applied."""

    jobDropped = Signal(int, int, str)  # job id, version the dragger saw, target column id
    keyboardMove = Signal(int, int)  # job id, step (-1 left, +1 right)
    jobActivated = Signal(int)

    def __init__(
        self, model: BoardModel, column: BoardColumn, lane: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.column = column
        self.lane = lane
        self.setModel(model)
        self.setItemDelegate(CardDelegate(self))
        self.setUniformItemSizes(True)
        # Lay long columns out in batches: the visible cards paint first, the rest follow.
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(64)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedWidth(COLUMN_WIDTH)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setProperty("dropTarget", False)
        self.setObjectName(f"column-{column.id}-{lane}")
        self.setAccessibleName(f"{column.title} column")
        self.activated.connect(self._on_activated)
        self.reset_root()

    def board_model(self) -> BoardModel:
        model = self.model()
        assert isinstance(model, BoardModel)
        return model

    def reset_root(self) -> None:
        if self.lane < self.board_model().lane_count():
            self.setRootIndex(self.board_model().cell_index(self.lane, self.column.id))

    def reset(self) -> None:
        """A model reset clears the root index; put this view back on its cell."""
        super().reset()
        self.reset_root()

    # All cells share one model: ignore changes to other cells, or every column would re-lay
    # itself out on every move (QListView does not check the parent itself).
    def rowsInserted(self, parent: QModelIndex | QPersistentModelIndex, start: int, end: int) -> None:
        if parent == self.rootIndex():
            super().rowsInserted(parent, start, end)

    def rowsAboutToBeRemoved(self, parent: QModelIndex | QPersistentModelIndex, start: int, end: int) -> None:
        if parent == self.rootIndex():
            super().rowsAboutToBeRemoved(parent, start, end)

    def dataChanged(
        self,
        topLeft: QModelIndex | QPersistentModelIndex,
        bottomRight: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        if topLeft.parent() == self.rootIndex():
            super().dataChanged(topLeft, bottomRight, roles)

    def current_job(self) -> Job | None:
        index = self.currentIndex()
        return index.data(Roles.JOB) if index.isValid() else None

    # -- drag and drop --------------------------------------------------------------------

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        job = self.current_job()
        if job is None:
            return
        drag = QDrag(self)
        drag.setMimeData(job_mime(job))
        rect = self.visualRect(self.currentIndex())
        if rect.isValid():
            drag.setPixmap(self.viewport().grab(rect))
            drag.setHotSpot(rect.center() - rect.topLeft())
        drag.exec(Qt.DropAction.MoveAction)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(JOB_MIME):
            self._set_drop_target(True)
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(JOB_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drop_target(False)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drop_target(False)
        payload = job_from_mime(event.mimeData())
        if payload is None:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        self.jobDropped.emit(payload[0], payload[1], self.column.id)

    def _set_drop_target(self, on: bool) -> None:
        self.setProperty("dropTarget", on)
        self.style().unpolish(self)
        self.style().polish(self)

    # -- keyboard -------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers()
        if mods & Qt.KeyboardModifier.ControlModifier and event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            job = self.current_job()
            if job is not None:
                self.keyboardMove.emit(job.id, -1 if event.key() == Qt.Key.Key_Left else 1)
                event.accept()
                return
        super().keyPressEvent(event)

    def _on_activated(self, index: QModelIndex | QPersistentModelIndex) -> None:
        job = index.data(Roles.JOB)
        if job is not None:
            self.jobActivated.emit(job.id)


class ColumnHeader(QFrame):
    """Title, card count and WIP limit; turns amber above the limit."""

    def __init__(self, column: BoardColumn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column = column
        self.setObjectName("columnHeader")
        self.setFixedWidth(COLUMN_WIDTH)
        self.setStyleSheet(f"#columnHeader {{ border-top: 4px solid {column.color}; }}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(0)
        self.title = QLabel(column.title)
        self.title.setObjectName("columnTitle")
        self.count = QLabel()
        self.count.setObjectName("columnCount")
        layout.addWidget(self.title)
        layout.addWidget(self.count)
        self.setProperty("overWip", False)

    def update_counts(self, shown: int, total: int) -> None:
        limit = self.column.wip_limit
        text = f"{total} jobs" if shown == total else f"{shown} of {total} shown"
        if limit is not None:
            text += f" · WIP {limit}"
        over = self.column.over_wip(total)
        if over:
            text += " · over limit"
        self.count.setText(text)
        self.setAccessibleName(f"{self.column.title}: {text}")
        if over != self.property("overWip"):
            self.setProperty("overWip", over)
            self.style().unpolish(self)
            self.style().polish(self)


class BoardGrid(QScrollArea):
    """All column views, one row per swimlane, with sticky-looking headers on top."""

    jobDropped = Signal(int, int, str)
    keyboardMove = Signal(int, int)
    jobSelected = Signal(int)
    contextMenuForJob = Signal(int, object)  # job id, global QPoint

    def __init__(self, model: BoardModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self.setWidgetResizable(True)
        self.setObjectName("boardGrid")
        self.views: list[ColumnView] = []
        self.headers: dict[str, ColumnHeader] = {}
        self._lane_labels: list[QLabel] = []
        self._inner = QWidget()
        self._inner.setObjectName("boardInner")
        self._layout = QGridLayout(self._inner)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self._layout.setHorizontalSpacing(8)
        self._layout.setVerticalSpacing(4)
        self.setWidget(self._inner)
        for i, column in enumerate(model.config.columns):
            header = ColumnHeader(column)
            self.headers[column.id] = header
            self._layout.addWidget(header, 0, i)
        model.modelReset.connect(self.rebuild)
        model.countsChanged.connect(self._refresh_counts)
        self.rebuild()

    def rebuild(self) -> None:
        """Recreate the cells when the lane structure changed; otherwise just re-root them."""
        lanes = self._model.lane_count()
        ncols = len(self._model.config.columns)
        if len(self.views) != lanes * ncols:
            self._clear_cells()
            for lane in range(lanes):
                row = 1 + lane * 2
                if self._model.swimlanes:
                    label = QLabel(self._model.lane_title(lane))
                    label.setObjectName("laneTitle")
                    self._layout.addWidget(label, row, 0, 1, ncols)
                    self._lane_labels.append(label)
                for col, column in enumerate(self._model.config.columns):
                    view = ColumnView(self._model, column, lane)
                    if self._model.swimlanes:
                        view.setFixedHeight(CARD_HEIGHT * 3 + 8)
                        view.setAccessibleName(f"{column.title} column, {self._model.lane_title(lane)}")
                    else:
                        view.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
                        view.setMinimumHeight(CARD_HEIGHT * 2)
                    view.jobDropped.connect(self.jobDropped)
                    view.keyboardMove.connect(self.keyboardMove)
                    view.selectionModel().currentChanged.connect(self._on_current)
                    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
                    view.customContextMenuRequested.connect(lambda pos, v=view: self._context_menu(v, pos))
                    self._layout.addWidget(view, row + 1, col)
                    self.views.append(view)
            self._layout.setRowStretch(self._layout.rowCount(), 1 if self._model.swimlanes else 0)
        else:
            for lane_i, label in enumerate(self._lane_labels):
                label.setText(self._model.lane_title(lane_i))
            for view in self.views:
                view.reset_root()
        self._refresh_counts()

    def view_for(self, column_id: str, lane: int = 0) -> ColumnView:
        for view in self.views:
            if view.column.id == column_id and view.lane == lane:
                return view
        raise KeyError(column_id)

    def select_job(self, job_id: int) -> None:
        index = self._model.index_of_job(job_id)
        if not index.isValid():
            return
        column = self._model.column_of_index(index)
        for view in self.views:
            if column is not None and view.column.id == column.id and view.rootIndex() == index.parent():
                view.setCurrentIndex(index)
                view.scrollTo(index)
                view.setFocus()
                self.ensureWidgetVisible(view)
                return

    def _clear_cells(self) -> None:
        for widget in [*self.views, *self._lane_labels]:
            self._layout.removeWidget(widget)
            widget.hide()
            widget.deleteLater()
        for row in range(1, self._layout.rowCount()):
            self._layout.setRowStretch(row, 0)
        self.views = []
        self._lane_labels = []

    def _refresh_counts(self, *_args: object) -> None:
        for column in self._model.config.columns:
            self.headers[column.id].update_counts(
                self._model.column_count(column.id), self._model.column_total(column.id)
            )

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        job = current.data(Roles.JOB) if current.isValid() else None
        if job is not None:
            for view in self.views:  # one selection across the board
                if view.rootIndex() != current.parent() and view.selectionModel().hasSelection():
                    view.clearSelection()
            self.jobSelected.emit(job.id)

    def _context_menu(self, view: ColumnView, pos: QPoint) -> None:
        index = view.indexAt(pos)
        job = index.data(Roles.JOB) if index.isValid() else None
        if job is not None:
            view.setCurrentIndex(index)
            self.contextMenuForJob.emit(job.id, view.viewport().mapToGlobal(pos))

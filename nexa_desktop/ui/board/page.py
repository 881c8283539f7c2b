"""The Board page: filter bar, the board grid, the detail panel, and the commands behind them.

Every change goes the same way: check the move in the domain (instant refusal with the reason),
ask for missing data in a dialog, commit through the writer (``BoardService``), then update the
two cells it touched and record it for undo.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nexa_desktop.domain.errors import IllegalTransition, NexaError, NotFound, StaleWrite
from nexa_desktop.domain.jobs import Job, JobStatus, Priority, Role
from nexa_desktop.domain.lifecycle import MoveData, MovePlan, missing_needs, plan_transition
from nexa_desktop.services.board import BoardService, BoardSnapshot, ChangeResult
from nexa_desktop.services.undo import Revert, UndoStack
from nexa_desktop.ui.board.detail import DetailPanel
from nexa_desktop.ui.board.dialogs import TransitionDialog
from nexa_desktop.ui.board.model import BoardFilter, BoardModel
from nexa_desktop.ui.board.views import BoardGrid
from nexa_desktop.ui.ops import OpRunner


class BoardPage(QWidget):
    statusMessage = Signal(str)
    #: Emitted after every committed change (tests and benchmarks wait on it).
    changeApplied = Signal(object)
    loaded = Signal()

    def __init__(
        self,
        service: BoardService,
        runner: OpRunner,
        parent: QWidget | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.runner = runner
        self._today = today
        self.model = BoardModel(service.config, today=today)
        self.undo_stack = UndoStack()
        self.dialog: TransitionDialog | None = None
        self._selected: int | None = None

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search PM #, notification, address, crew, GF…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the board")
        self.search.setMinimumWidth(280)
        self.priority = QComboBox()
        self.priority.setAccessibleName("Priority filter")
        self.priority.addItem("Any priority", "")
        for p in Priority:
            self.priority.addItem(f"Priority {p.value}", p)
        self.gf_filter = QComboBox()
        self.gf_filter.setAccessibleName("GF filter")
        self.gf_filter.addItem("Any GF", 0)
        self.overdue = QCheckBox("Overdue only")
        self.swimlanes = QCheckBox("Swimlanes by GF")
        self.undo_action = QAction("Undo", self)
        self.undo_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        self.redo_action = QAction("Redo", self)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        self.refresh_action = QAction("Refresh", self)
        self.refresh_action.setShortcut(QKeySequence.StandardKey.Refresh)
        self.find_action = QAction("Find", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        for action in (self.undo_action, self.redo_action, self.refresh_action, self.find_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        undo_button, redo_button, refresh_button = QToolButton(), QToolButton(), QToolButton()
        undo_button.setDefaultAction(self.undo_action)
        redo_button.setDefaultAction(self.redo_action)
        refresh_button.setDefaultAction(self.refresh_action)

        bar = QHBoxLayout()
        bar.setContentsMargins(8, 8, 8, 0)
        bar.addWidget(self.search, 2)
        bar.addWidget(self.priority)
        bar.addWidget(self.gf_filter)
        bar.addWidget(self.overdue)
        bar.addSpacing(12)
        bar.addWidget(self.swimlanes)
        bar.addStretch(1)
        bar.addWidget(undo_button)
        bar.addWidget(redo_button)
        bar.addWidget(refresh_button)

        self.banner = QLabel()
        self.banner.setObjectName("refusalBanner")
        self.banner.setWordWrap(True)
        self.banner.setAccessibleName("Message")
        self.banner_close = QPushButton("Dismiss")
        self.banner_close.setObjectName("bannerDismiss")
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(8, 4, 8, 0)
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.banner_close)
        self._banner_widgets = (self.banner, self.banner_close)
        self.hide_banner()

        self.grid = BoardGrid(self.model)
        self.detail = DetailPanel()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.grid)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([1100, 360])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(banner_row)
        layout.addWidget(splitter, 1)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(150)
        self._filter_timer.timeout.connect(self.apply_filter)
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(0)
        self._detail_timer.timeout.connect(self._refresh_detail)
        self.search.textChanged.connect(self._filter_timer.start)
        self.search.returnPressed.connect(self.apply_filter)
        self.priority.currentIndexChanged.connect(self.apply_filter)
        self.gf_filter.currentIndexChanged.connect(self.apply_filter)
        self.overdue.toggled.connect(self.apply_filter)
        self.swimlanes.toggled.connect(self.model.set_swimlanes)
        self.undo_action.triggered.connect(self.undo)
        self.redo_action.triggered.connect(self.redo)
        self.refresh_action.triggered.connect(self.reload)
        self.find_action.triggered.connect(self._focus_search)
        self.banner_close.clicked.connect(self.hide_banner)
        self.grid.jobDropped.connect(self.request_drop)
        self.grid.keyboardMove.connect(self.keyboard_move)
        self.grid.jobSelected.connect(self.select_job)
        self.grid.contextMenuForJob.connect(self.show_context_menu)
        self.detail.assignRequested.connect(self.request_assign)
        self.detail.transitionRequested.connect(self.request_transition)
        self._update_undo_actions()

    # -- loading --------------------------------------------------------------------------------

    def reload(self) -> None:
        self.runner.read(self.service.load, on_done=self.show_snapshot)

    def show_snapshot(self, snapshot: BoardSnapshot) -> None:
        self.model.load(snapshot.jobs, snapshot.people, snapshot.crews)
        self.detail.set_directory(snapshot.people, snapshot.crews)
        current = self.gf_filter.currentData()
        self.gf_filter.blockSignals(True)
        self.gf_filter.clear()
        self.gf_filter.addItem("Any GF", 0)
        for person in sorted(snapshot.people.values(), key=lambda p: p.name):
            if person.role is Role.GF:
                self.gf_filter.addItem(person.name, person.id)
        self.gf_filter.setCurrentIndex(max(0, self.gf_filter.findData(current)))
        self.gf_filter.blockSignals(False)
        if self._selected is not None:
            self.select_job(self._selected)
        self.statusMessage.emit(f"{len(snapshot.jobs)} jobs on the board")
        self.loaded.emit()

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def apply_filter(self) -> None:
        self._filter_timer.stop()
        self.model.set_filter(
            BoardFilter(
                text=self.search.text(),
                priority=Priority(self.priority.currentData()) if self.priority.currentData() else None,
                overdue_only=self.overdue.isChecked(),
                gf_id=self.gf_filter.currentData() or None,
            )
        )

    # -- commands -------------------------------------------------------------------------------

    def request_drop(self, job_id: int, _version: int, column_id: str) -> None:
        """A card was dropped on a column: refuse, ask for data, or commit at once."""
        job = self.model.job(job_id)
        if job is None:
            return
        try:
            plan = self.service.config.plan_drop(job, column_id)
        except IllegalTransition as exc:
            self.show_banner(str(exc))
            return
        self._carry_out(
            job, plan, lambda data: (self.service.move_to_column, job.id, job.version, column_id, data)
        )

    def request_transition(self, job_id: int, _version: int, target: JobStatus) -> None:
        job = self.model.job(job_id)
        if job is None:
            return
        try:
            plan = plan_transition(job, target)
        except IllegalTransition as exc:
            self.show_banner(str(exc))
            return
        self._carry_out(job, plan, lambda data: (self.service.transition, job.id, job.version, target, data))

    def request_assign(self, job_id: int, _version: int, changes: dict[str, Any]) -> None:
        job = self.model.job(job_id)
        if job is None:
            return
        self._write(job.id, self.service.assign, job.id, job.version, changes)

    def keyboard_move(self, job_id: int, step: int) -> None:
        job = self.model.job(job_id)
        if job is None:
            return
        column = self.service.config.column_of(job)
        target = self.service.config.neighbour(column.id, step)
        if target is None:
            side = "first" if step < 0 else "last"
            self.show_banner(f"{job.title} is already in the {side} column.")
            return
        self.request_drop(job.id, job.version, target.id)

    def undo(self) -> None:
        self._revert(self.undo_stack.take_undo())

    def redo(self) -> None:
        self._revert(self.undo_stack.take_redo())

    def select_job(self, job_id: int) -> None:
        """Show a card in the detail panel (coalesced: the board repaints first)."""
        self._selected = job_id
        self._detail_timer.start()

    def _refresh_detail(self) -> None:
        job_id = self._selected
        if job_id is None:
            return
        self.detail.show_job(self.model.job(job_id))
        self.runner.read(self.service.history, job_id, on_done=partial(self.detail.set_history, job_id))

    def show_context_menu(self, job_id: int, global_pos: QPoint) -> None:
        menu = self.context_menu(job_id)
        if menu is not None:
            menu.popup(global_pos)

    def context_menu(self, job_id: int) -> QMenu | None:
        """Move to / assign GF / assign crew for one card (also used by tests)."""
        from nexa_desktop.domain.lifecycle import transitions_from

        job = self.model.job(job_id)
        if job is None:
            return None
        menu = QMenu(self)
        move = menu.addMenu("Move to")
        for step in transitions_from(job.status):
            action = move.addAction(f"{step.target.label} ({step.label})")
            action.triggered.connect(partial(self.request_transition, job.id, job.version, step.target))
        move.setEnabled(bool(move.actions()))
        gf_menu = menu.addMenu("Assign GF")
        for person in sorted(self.model.people.values(), key=lambda p: p.name):
            if person.role is Role.GF and person.active:
                action = gf_menu.addAction(person.name)
                action.setCheckable(True)
                action.setChecked(person.id == job.gf_id)
                action.triggered.connect(
                    partial(self.request_assign, job.id, job.version, {"gf_id": person.id})
                )
        crew_menu = menu.addMenu("Assign crew")
        for crew in sorted(self.model.crews.values(), key=lambda c: c.name):
            if crew.active:
                action = crew_menu.addAction(crew.name)
                action.setCheckable(True)
                action.setChecked(crew.id == job.crew_id)
                changes: dict[str, Any] = {"crew_id": crew.id}
                if crew.foreman_id is not None:
                    changes["foreman_id"] = crew.foreman_id
                action.triggered.connect(partial(self.request_assign, job.id, job.version, changes))
        menu.addSeparator()
        details = menu.addAction("Show details and history")
        details.triggered.connect(partial(self.grid.select_job, job.id))
        return menu

    # -- banner -------------------------------------------------------------------------------

    def show_banner(self, message: str) -> None:
        self.banner.setText(message)
        for widget in self._banner_widgets:
            widget.setVisible(True)
        self.statusMessage.emit(message)

    def hide_banner(self) -> None:
        self.banner.setText("")
        for widget in self._banner_widgets:
            widget.setVisible(False)

    # -- internals ----------------------------------------------------------------------------

    def _carry_out(self, job: Job, plan: MovePlan, call: Callable[[MoveData], tuple[Any, ...]]) -> None:
        missing = missing_needs(job, plan.needs, MoveData())
        if not missing:
            fn, *args = call(MoveData())
            self._write(job.id, fn, *args)
            return
        if self.dialog is not None:
            self.dialog.reject()
        dialog = TransitionDialog(
            job, plan, missing, self.model.people, self.model.crews, self, today=self._today()
        )
        self.dialog = dialog

        def accepted() -> None:
            fn, *args = call(dialog.move_data())
            self._write(job.id, fn, *args)

        dialog.accepted.connect(accepted)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None) if self.dialog is dialog else None)
        dialog.open()

    def _write(self, job_id: int, fn: Callable[..., ChangeResult], *args: Any) -> None:
        self.hide_banner()
        self.runner.write(fn, *args, on_done=self._applied, on_error=partial(self._refused, job_id))

    def _applied(self, result: ChangeResult, *, record: bool = True) -> None:
        self.model.apply_job(result.job)
        if record:
            self.undo_stack.record(result)
        self._update_undo_actions()
        if result.after:
            column = self.service.config.column_of(result.job)
            self.statusMessage.emit(f"{result.label}: {result.job.title} is now in {column.title}.")
        self.grid.select_job(result.job.id)
        if self._selected == result.job.id:
            self.select_job(result.job.id)
        self.changeApplied.emit(result)

    def _refused(self, job_id: int, exc: BaseException) -> None:
        if not isinstance(exc, NexaError):
            self.runner.failed.emit(exc)
            return
        self.show_banner(str(exc))
        if isinstance(exc, StaleWrite | NotFound):
            self.runner.read(self.service.load, on_done=self.show_snapshot)

    def _revert(self, revert: Revert | None) -> None:
        if revert is None:
            return

        def done(result: ChangeResult) -> None:
            self.undo_stack.done(revert, result)
            self._applied(result, record=False)

        def failed(exc: BaseException) -> None:
            self.undo_stack.done(revert, None)
            self._update_undo_actions()
            if isinstance(exc, StaleWrite):
                exc = StaleWrite(
                    f"Can't {revert.label.lower()} on {revert.entry.title}: someone else changed "
                    "the card since. The board has been refreshed."
                )
            self._refused(revert.job_id, exc)

        self.hide_banner()
        self.runner.write(
            self.service.revert,
            revert.job_id,
            revert.expected_version,
            revert.values,
            revert.label,
            on_done=done,
            on_error=failed,
        )
        self._update_undo_actions()

    def _update_undo_actions(self) -> None:
        self.undo_action.setEnabled(self.undo_stack.can_undo())
        self.redo_action.setEnabled(self.undo_stack.can_redo())
        self.undo_action.setText(self.undo_stack.undo_text())
        self.redo_action.setText(self.undo_stack.redo_text())
        self.undo_action.setToolTip(self.undo_stack.undo_text() + " (Ctrl+Z)")
        self.redo_action.setToolTip(self.undo_stack.redo_text() + " (Ctrl+Y)")

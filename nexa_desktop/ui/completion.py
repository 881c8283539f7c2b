"""Draft a form for a job with the local model: facts from the record, language from the model,
streamed, stoppable, every value editable with its source shown; then write the PDF."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nexa_desktop.domain.jobs import Crew, Job, Person
from nexa_desktop.errors import user_message
from nexa_desktop.ops import TaskState
from nexa_desktop.services.complete.engine import LocalEngine
from nexa_desktop.services.complete.fills import Fill, draft_fill
from nexa_desktop.services.complete.forms import FORMS, FieldSpec
from nexa_desktop.services.complete.models import ModelManager
from nexa_desktop.services.complete.writeback import WritePlan, describe, plan_write, write_fill_planned
from nexa_desktop.ui.ops import OpRunner
from nexa_desktop.ui.tables import RowsTableModel


class FillModel(RowsTableModel[FieldSpec]):
    """Field | Value (editable) | Source, a row per field of the form. Edits become user values."""

    HEADERS = ("Field", "Value", "Source")
    edited = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.fill: Fill | None = None

    def set_fill(self, fill: Fill | None) -> None:
        self.fill = fill
        self.set_rows(fill.spec.fields if fill is not None else ())

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return base | Qt.ItemFlag.ItemIsEditable if index.column() == 1 else base

    def cell(self, row: FieldSpec, column: int, role: int) -> Any:
        if self.fill is None:
            return None
        value = self.fill.values.get(row.name)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == 0:
                return row.label
            if column == 1:
                return value.display if value is not None else ""
            return value.source if value is not None and value.value is not None else "missing"
        if role == Qt.ItemDataRole.ForegroundRole and column == 2 and (value is None or value.value is None):
            return QColor("#b71c1c")
        if role == Qt.ItemDataRole.ToolTipRole:
            problems = [p.message for p in self.fill.problems if p.field == row.name]
            return "\n".join(problems) or row.hint or None
        return None

    def setData(
        self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        if self.fill is None or role != Qt.ItemDataRole.EditRole or index.column() != 1:
            return False
        name = self.row(index.row()).name
        self.fill = self.fill.with_value(name, str(value))
        self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), 2))
        self.edited.emit()
        return True


class WritePreview(QDialog):
    """Where each value would go on the chosen PDF, and what stays as the form has it."""

    def __init__(self, fill: Fill, plan: WritePlan, source_pdf: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Write into PDF")
        self.setMinimumWidth(560)
        where = "fillable fields" if plan.mode == "acroform" else plan.layout
        self.heading = QLabel(
            f"<b>Write {len(plan.placements)} value(s) into a copy of {html.escape(source_pdf.name)}</b>"
            f"<br>{html.escape(where)}. The original stays as it is."
        )
        self.heading.setWordWrap(True)
        self.details = QLabel("\n".join(f"• {line}" for line in describe(plan, fill.spec)))
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.write_button = buttons.addButton("Write copy", QDialogButtonBox.ButtonRole.AcceptRole)
        self.write_button.setEnabled(bool(plan.placements))
        self.write_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addSpacing(6)
        layout.addWidget(self.details)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.resize(self.minimumWidth(), self.sizeHint().height())


class CompletionDialog(QDialog):
    """One job, one form at a time. The engine is shared by the window (loaded once)."""

    written = Signal(object)  # Path of the written PDF

    def __init__(
        self,
        job: Job,
        people: dict[int, Person],
        crews: dict[int, Crew],
        engine: LocalEngine,
        runner: OpRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.job, self.people, self.crews = job, people, crews
        self.engine, self.runner = engine, runner
        self.task: TaskState | None = None
        self.preview_box: WritePreview | None = None
        self.setWindowTitle(f"Draft forms — {job.title}")
        self.setMinimumSize(820, 620)

        self.form = QComboBox()
        for spec in FORMS.values():
            self.form.addItem(spec.title, spec.id)
        self.model_choice = QComboBox()
        for entry in ModelManager().list():
            if entry.exists:
                self.model_choice.addItem(entry.name, str(entry.path))
        self.model_choice.addItem("No model — facts only (type the notes yourself)", "")
        self.draft_button = QPushButton("Draft")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        top = QFormLayout()
        top.addRow("Form", self.form)
        top.addRow("Model", self.model_choice)
        buttons = QHBoxLayout()
        buttons.addWidget(self.draft_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)

        self.stream = QPlainTextEdit()
        self.stream.setReadOnly(True)
        self.stream.setPlaceholderText("The model's draft streams here.")
        self.stream.setMaximumHeight(110)
        self.stream.setAccessibleName("Model output")
        self.values = FillModel()
        self.table = QTableView()
        self.table.setModel(self.values)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setWordWrap(True)
        self.status = QLabel(
            "Choose a form and press Draft. Facts come from the job record; the model drafts the notes."
        )
        self.status.setWordWrap(True)
        self.save_button = QPushButton("Write into PDF…")
        self.save_button.setEnabled(False)
        close = QPushButton("Close")
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.save_button)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addWidget(self.stream)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self.draft_button.clicked.connect(self.draft)
        self.stop_button.clicked.connect(self.stop)
        self.save_button.clicked.connect(self.choose_pdf)
        self.values.edited.connect(self._update_ready)
        close.clicked.connect(self.reject)

    # -- drafting -------------------------------------------------------------------------------

    def draft(self) -> None:
        form_id = self.form.currentData()
        model_path = self.model_choice.currentData() or None
        self.stream.clear()
        self.values.set_fill(None)
        self.save_button.setEnabled(False)
        self.draft_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText("Loading the model…" if model_path else "Filling the facts…")
        job, people, crews, engine = self.job, self.people, self.crews, self.engine

        def work(state: TaskState) -> Fill:
            generator = None
            if model_path:
                loaded = engine.model
                if loaded is None or str(loaded.path) != model_path:
                    engine.load(model_path)
                generator = engine
                state.set_progress(0.1, "Drafting…")
            return draft_fill(
                form_id,
                job,
                people,
                crews,
                generator=generator,
                today=dt.date.today(),
                on_token=state.add_partial,
                should_stop=lambda: state.cancel_requested,
            )

        self.task = self.runner.task(
            work, on_progress=self._progress, on_done=self._drafted, on_error=self._failed
        )

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.engine.cancel()
            self.status.setText("Stopping…")

    def _progress(self, state: TaskState) -> None:
        if state is not self.task:
            return
        if state.status:
            self.status.setText(state.status)
        if state.partial:
            self.stream.setPlainText("".join(str(t) for t in state.partial))
            self.stream.verticalScrollBar().setValue(self.stream.verticalScrollBar().maximum())

    def _drafted(self, fill: Fill) -> None:
        self._idle()
        self.values.set_fill(fill)
        self.table.resizeRowsToContents()
        self._update_ready()

    def _failed(self, exc: BaseException) -> None:
        self._idle()
        self.status.setText(user_message(exc))

    def _idle(self) -> None:
        self.task = None
        self.draft_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _update_ready(self) -> None:
        fill = self.values.fill
        if fill is None:
            return
        problems = [p.message for p in fill.problems if p.severity == "error"]
        ready = fill.ready
        self.save_button.setEnabled(ready)
        if ready:
            self.status.setText(
                "Ready: check the values (double-click to edit), then write them into the PDF."
            )
        else:
            self.status.setText("Not ready yet: " + (" ".join(problems) or "fill the fields marked missing."))

    # -- writing ----------------------------------------------------------------------------

    def choose_pdf(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "The blank form (PDF) to fill", "", "PDF files (*.pdf)")
        if chosen:
            self.preview_write(Path(chosen))

    def preview_write(self, source_pdf: Path, out_dir: Path | None = None) -> None:
        """Show where each value would go on ``source_pdf``; the copy is written on "Write copy"."""
        fill = self.values.fill
        if fill is None:
            return
        self.status.setText(f"Reading {source_pdf.name}…")
        self.runner.read(
            plan_write,
            fill,
            source_pdf,
            on_done=lambda plan: self._show_preview(fill, plan, source_pdf, out_dir),
            on_error=self._failed,
        )

    def _show_preview(self, fill: Fill, plan: WritePlan, source_pdf: Path, out_dir: Path | None) -> None:
        if fill is not self.values.fill:
            return  # the values changed meanwhile: the user writes again
        box = WritePreview(fill, plan, source_pdf, self)
        box.write_button.clicked.connect(lambda: self.write_to(source_pdf, out_dir))
        box.finished.connect(lambda _r: self._update_ready())
        self.preview_box = box
        self.status.setText("Check where each value goes, then write the copy.")
        box.open()

    def write_to(self, source_pdf: Path, out_dir: Path | None = None) -> None:
        fill = self.values.fill
        if fill is None:
            return
        target_dir = out_dir or source_pdf.parent
        self.status.setText("Writing the PDF…")
        self.runner.read(
            write_fill_planned, fill, source_pdf, target_dir, on_done=self._written, on_error=self._failed
        )

    def _written(self, result: tuple[Path, WritePlan]) -> None:
        path, plan = result
        notes = [
            f"Written: {path.name} ({len(plan.placements)} value(s) placed; the original form is untouched)."
        ]
        spec = self.values.fill.spec if self.values.fill is not None else None
        label = (lambda name: spec.field(name).label) if spec is not None else (lambda name: name)
        if plan.already:
            shown = "; ".join(f"{label(name)} shows {text!r}" for name, text in plan.already)
            notes.append(f"Left as the form already had them: {shown}.")
        if plan.unplaced:
            notes.append(
                "No place on this form for: "
                + ", ".join(label(name) for name in plan.unplaced)
                + " (kept in NEXA)."
            )
        self.status.setText(" ".join(notes))
        self.status.setToolTip(str(path))
        self.written.emit(path)

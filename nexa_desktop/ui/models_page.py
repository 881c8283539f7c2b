"""The Models page: local GGUF files, their check (header, hash, memory, GPU), adding one by hand."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nexa_desktop.errors import user_message
from nexa_desktop.services.complete.gguf_info import human_size
from nexa_desktop.services.complete.models import (
    RECOMMENDED_MODEL_TEXT,
    ModelCheck,
    ModelEntry,
    ModelManager,
    recommended_threads,
)
from nexa_desktop.ui.ops import OpRunner
from nexa_desktop.ui.tables import RowsTableModel

_SOURCES = {"app": "models/ folder", "data": "data folder", "added": "added by hand"}


class ModelsTable(RowsTableModel[ModelEntry]):
    HEADERS = ("Model file", "Size", "Where", "Path")

    @property
    def entries(self) -> list[ModelEntry]:
        return self.rows

    def cell(self, e: ModelEntry, column: int, role: int) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        missing = "" if e.exists else " (missing)"
        return (e.name + missing, human_size(e.size_bytes), _SOURCES.get(e.source, e.source), str(e.path))[
            column
        ]


class ModelsPage(QWidget):
    #: The user chose a CPU thread count for the model (0: the recommended count).
    threadsChanged = Signal(int)

    def __init__(
        self, runner: OpRunner, manager: ModelManager | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.manager = manager or ModelManager()
        self.table = ModelsTable()
        self.view = QTableView()
        self.view.setModel(self.table)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.view.setAccessibleName("Model files")
        intro = QLabel(
            "<h2>Local AI models</h2><p>NEXA drafts as-built notes with a model that runs on this computer; "
            f"nothing leaves it and nothing downloads by itself.</p><p>{RECOMMENDED_MODEL_TEXT}</p>"
        )
        intro.setWordWrap(True)
        self.add_button = QPushButton("Add model file…")
        self.check_button = QPushButton("Check selected")
        self.refresh_button = QPushButton("Refresh")
        row = QHBoxLayout()
        for button in (self.add_button, self.check_button, self.refresh_button):
            row.addWidget(button)
        row.addStretch(1)
        self.threads = QSpinBox()
        self.threads.setRange(0, 64)
        self.threads.setSpecialValueText(f"Recommended ({recommended_threads()})")
        self.threads.setAccessibleName("CPU threads for the model")
        self.threads.setToolTip(
            "How many processor threads drafting uses. More is not always faster: generation is limited by "
            "memory speed. Takes effect the next time a model is loaded."
        )
        threads_label = QLabel("CPU threads:")
        threads_label.setBuddy(self.threads)
        row.addWidget(threads_label)
        row.addWidget(self.threads)
        self.threads.valueChanged.connect(self.threadsChanged.emit)
        self.details = QLabel("Select a model and press Check to validate it and see its memory needs.")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.details)
        self.add_button.clicked.connect(self.choose_file)
        self.check_button.clicked.connect(self.check_selected)
        self.refresh_button.clicked.connect(self.refresh)

    def set_threads(self, count: int) -> None:
        """Show the saved choice without announcing it as a change."""
        self.threads.blockSignals(True)
        self.threads.setValue(count)
        self.threads.blockSignals(False)

    def refresh(self) -> None:
        self.runner.read(self.manager.list, on_done=self.table.set_rows, on_error=self._error)

    def choose_file(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model file", "", "GGUF models (*.gguf)")
        if chosen:
            self.add(chosen)

    def add(self, path: str) -> None:
        """Check ``path`` (header, hash, memory) and remember it."""
        self.details.setText(f"Checking {path}…")

        def work() -> ModelCheck:
            check = self.manager.check(path)
            self.manager.add(path)
            return check

        self.runner.read(work, on_done=self._checked_and_refresh, on_error=self._error)

    def check_selected(self) -> None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            self.details.setText("Select a model first.")
            return
        entry = self.table.entries[rows[0].row()]
        self.details.setText(f"Checking {entry.name} (the first check hashes the whole file)…")
        self.runner.read(self.manager.check, entry.path, on_done=self._checked, on_error=self._error)

    def _checked(self, check: ModelCheck) -> None:
        self.details.setText("<br>".join(check.summary_lines()))

    def _checked_and_refresh(self, check: ModelCheck) -> None:
        self._checked(check)
        self.refresh()

    def _error(self, exc: BaseException) -> None:
        self.details.setText(f"<span style='color:#b71c1c'>{user_message(exc)}</span>")

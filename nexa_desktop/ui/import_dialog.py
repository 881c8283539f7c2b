"""The "Import jobs" dialog: pick a CSV/XLSX file, check the column mapping, see every bad row,
and import all rows at once (or none). File reading and checking run on the OpRunner's pool,
the import on its database writer; the dialog only shows results."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nexa_desktop.domain.errors import NexaError
from nexa_desktop.errors import user_message
from nexa_desktop.ops import Cancelled, TaskState
from nexa_desktop.services.importer import (
    FIELDS,
    ImportReport,
    RowProblem,
    Table,
    guess_mapping,
    import_table,
    read_table,
    resolve_mapping,
)
from nexa_desktop.settings import load_settings
from nexa_desktop.store.db import Database
from nexa_desktop.ui.ops import OpRunner

_ROOT = QModelIndex()
_NOT_IN_FILE = "(not in file)"
_FILE_FILTER = "Job lists (*.csv *.xlsx);;CSV files (*.csv);;Excel workbooks (*.xlsx)"
_ERROR_STYLE = "color: #b3261e; font-weight: 600;"
_OK_STYLE = "color: #1b6e2d; font-weight: 600;"


class ProblemsModel(QAbstractTableModel):
    """Bad rows as a table: row number, field, the value as typed, and what is wrong."""

    HEADERS = ("Row", "Field", "Value", "Problem")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._problems: list[RowProblem] = []

    @property
    def problems(self) -> list[RowProblem]:
        return list(self._problems)

    def set_problems(self, problems: list[RowProblem]) -> None:
        self.beginResetModel()
        self._problems = list(problems)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._problems)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._problems):
            return None
        problem = self._problems[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == 0:
                return str(problem.row)
            if column == 1:
                return FIELDS.get(problem.field, problem.field)
            if column == 2:
                return problem.value
            return problem.message
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section] if 0 <= section < len(self.HEADERS) else None
        return None


class ImportDialog(QDialog):
    """Import jobs from a CSV or XLSX file; ``imported(count)`` is emitted after success."""

    imported = Signal(int)

    def __init__(
        self,
        runner: OpRunner,
        db: Database,
        *,
        actor: str | None = None,
        start_dir: str | Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``actor`` is who the job history names (default: the user name from the settings)."""
        super().__init__(parent)
        self._db = db
        self._runner = runner
        self._actor = actor or load_settings().user_name or "import"
        self._start_dir = str(start_dir or Path.home())
        self._table: Table | None = None
        self._report: ImportReport | None = None
        self._generation = 0  # results of older checks are ignored
        self._importing = False

        self.setWindowTitle("Import jobs")
        self.setMinimumSize(760, 520)
        self.setAcceptDrops(True)

        intro = QLabel(
            "Choose a CSV or Excel (.xlsx) file with one job per row. Every row is checked "
            "first; jobs are imported only when all rows are correct."
        )
        intro.setWordWrap(True)

        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText("No file chosen (you can also drop a file here)")
        self.browse_button = QPushButton("Choose file…")
        self.browse_button.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(self.browse_button)

        self.combos: dict[str, QComboBox] = {}
        self.mapping_box = QGroupBox("Which column holds what")
        grid = QGridLayout(self.mapping_box)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(6)
        per_column = (len(FIELDS) + 2) // 3
        for i, (name, label) in enumerate(FIELDS.items()):
            combo = QComboBox()
            combo.setObjectName(f"map_{name}")
            combo.setMinimumContentsLength(14)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.currentIndexChanged.connect(self._mapping_changed)
            caption = QLabel(f"{label}:")
            caption.setBuddy(combo)
            row, col = i % per_column, (i // per_column) * 2
            grid.addWidget(caption, row, col, Qt.AlignmentFlag.AlignRight)
            grid.addWidget(combo, row, col + 1)
            self.combos[name] = combo
        for col in (1, 3, 5):
            grid.setColumnStretch(col, 1)
        self.mapping_box.setEnabled(False)

        self.summary_label = QLabel("Choose a file to start.")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.setVisible(False)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self._progress_row = QHBoxLayout()
        self._progress_row.addWidget(self.progress, 1)
        self._progress_row.addWidget(self.cancel_button)
        self._task: TaskState | None = None
        self._show_progress(False)

        self.problems = ProblemsModel(self)
        self.problems_view = QTableView()
        self.problems_view.setModel(self.problems)
        self.problems_view.setAlternatingRowColors(True)
        self.problems_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.problems_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.problems_view.setWordWrap(True)
        self.problems_view.verticalHeader().setVisible(False)
        header = self.problems_view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(2, 140)
        header.setStretchLastSection(True)

        self.buttons = QDialogButtonBox()
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setEnabled(False)
        self.import_button.setDefault(False)
        self.import_button.setAutoDefault(False)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.import_button.clicked.connect(self._import)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(10)
        layout.addWidget(intro)
        layout.addLayout(file_row)
        layout.addWidget(self.mapping_box)
        layout.addWidget(self.note_label)
        layout.addWidget(self.summary_label)
        layout.addLayout(self._progress_row)
        layout.addWidget(self.problems_view, 1)
        layout.addWidget(self.buttons)

    # -- public -------------------------------------------------------------------------------

    @property
    def report(self) -> ImportReport | None:
        """The latest check (or import) result."""
        return self._report

    def load_file(self, path: str | Path) -> None:
        """Read ``path`` in the background, guess the columns and check every row."""
        path = Path(path)
        self._start_dir = str(path.parent)
        self.path_edit.setText(str(path))
        self._table = None
        self._report = None
        self._generation += 1
        generation = self._generation
        self.problems.set_problems([])
        self.mapping_box.setEnabled(False)
        self.import_button.setEnabled(False)
        self.note_label.setVisible(False)
        self._set_summary(f"Reading {path.name}…")
        self._runner.read(
            read_table,
            path,
            on_done=lambda table: self._on_table(generation, table),
            on_error=lambda exc: self._on_error(generation, exc),
        )

    def mapping(self) -> dict[str, str | None]:
        """``{field: header or None}`` as chosen in the form."""
        return {name: combo.currentData() for name, combo in self.combos.items()}

    def set_mapping(self, field: str, header: str | None) -> None:
        """Choose ``header`` for ``field`` (``None``: not in file); re-checks the rows."""
        combo = self.combos[field]
        index = combo.findData(header) if header is not None else 0
        if index < 0:
            raise ValueError(f"{header!r} is not a column of the file")
        combo.setCurrentIndex(index)

    # -- reading and checking -----------------------------------------------------------------

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose a job list", self._start_dir, _FILE_FILTER)
        if chosen:
            self.load_file(chosen)

    def _on_table(self, generation: int, table: Table) -> None:
        if generation != self._generation:
            return
        self._table = table
        guessed = guess_mapping(table.headers)
        for name, combo in self.combos.items():
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(_NOT_IN_FILE, None)
            for header in table.headers:
                combo.addItem(header, header)
            guess = guessed.get(name)
            combo.setCurrentIndex(combo.findData(guess) if guess is not None else 0)
            combo.blockSignals(False)
        self.mapping_box.setEnabled(True)
        self.note_label.setText(table.note)
        self.note_label.setVisible(bool(table.note))
        self._check()

    def _mapping_changed(self) -> None:
        if self._table is not None and not self._importing:
            self._check()

    def _check(self) -> None:
        """Validate every row with the current mapping (a dry run, off the GUI thread)."""
        table = self._table
        if table is None:
            return
        self._generation += 1
        generation = self._generation
        self._report = None
        self.import_button.setEnabled(False)
        try:
            mapping = resolve_mapping(table.headers, self.mapping())
        except NexaError as exc:
            self.problems.set_problems([])
            self._set_summary(str(exc), _ERROR_STYLE)
            return
        self._set_summary(f"Checking {len(table.rows):,} rows…")
        self._start_task(
            partial(import_table, self._db, table, mapping, dry_run=True, actor=self._actor),
            on_done=lambda report: self._on_checked(generation, report),
            on_error=lambda exc: self._on_error(generation, exc),
        )

    def _on_checked(self, generation: int, report: ImportReport) -> None:
        if generation != self._generation:
            return
        self._show_progress(False)
        self._show_report(report)

    def _show_report(self, report: ImportReport) -> None:
        self._report = report
        self.problems.set_problems(report.errors)
        if report.errors:
            self._set_summary(f"{report.summary()}.", _ERROR_STYLE)
        elif report.rows_read == 0:
            self._set_summary("No job rows found in the chosen columns.", _ERROR_STYLE)
        else:
            self._set_summary(f"{report.summary()}.", _OK_STYLE)
        self.import_button.setEnabled(report.ok and report.rows_read > 0 and not self._importing)

    def _on_error(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._show_progress(False)
        if isinstance(exc, Cancelled):
            importing = self._importing
            self._importing = False
            self.browse_button.setEnabled(True)
            self.mapping_box.setEnabled(self._table is not None)
            message = "Import cancelled: nothing was imported." if importing else "Check cancelled."
            self._set_summary(message, _ERROR_STYLE)
            return
        self._importing = False
        self._report = None
        self.problems.set_problems([])
        self.import_button.setEnabled(False)
        self.browse_button.setEnabled(True)
        self.mapping_box.setEnabled(self._table is not None)
        self._set_summary(user_message(exc), _ERROR_STYLE)

    # -- importing ----------------------------------------------------------------------------

    def _import(self) -> None:
        table, report = self._table, self._report
        if table is None or report is None or not report.ok or self._importing:
            return
        self._importing = True
        self._generation += 1
        generation = self._generation
        self.import_button.setEnabled(False)
        self.browse_button.setEnabled(False)
        self.mapping_box.setEnabled(False)
        self._set_summary(f"Importing {report.rows_read:,} jobs…")
        self._start_task(
            partial(import_table, self._db, table, dict(report.mapping), dry_run=False, actor=self._actor),
            on_done=lambda result: self._on_imported(generation, result),
            on_error=lambda exc: self._on_error(generation, exc),
            write=True,
        )

    def _on_imported(self, generation: int, report: ImportReport) -> None:
        if generation != self._generation:
            return
        self._show_progress(False)
        self._importing = False
        self.browse_button.setEnabled(True)
        self.mapping_box.setEnabled(True)
        if report.errors:  # the database changed since the check (e.g. someone added a PM)
            self._show_report(report)
            return
        self._report = report
        self._set_summary(f"{report.summary()} from {Path(report.file).name}.", _OK_STYLE)
        self.imported.emit(report.imported)
        self.accept()

    # -- helpers ------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the running check or import; a cancelled import writes nothing."""
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self._set_summary("Cancelling…")

    def _start_task(
        self,
        fn: Callable[..., ImportReport],
        *,
        on_done: Callable[[ImportReport], None],
        on_error: Callable[[BaseException], None],
        write: bool = False,
    ) -> None:
        """Run ``fn(progress=state)`` in the background with a progress bar and Cancel."""
        if self._task is not None:
            self._task.cancel()  # a newer check replaces an older one
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.cancel_button.setEnabled(True)
        self._show_progress(True)
        self._task = self._runner.task(
            lambda state: fn(progress=state),
            on_progress=self._on_progress,
            on_done=on_done,
            on_error=on_error,
            write=write,
        )

    def _on_progress(self, state: TaskState) -> None:
        if state is self._task:
            self.progress.setValue(round(state.progress * 100))
            if state.status:
                self.progress.setFormat(state.status)

    def _show_progress(self, visible: bool) -> None:
        self.progress.setVisible(visible)
        self.cancel_button.setVisible(visible)
        if not visible:
            self._task = None

    def _set_summary(self, text: str, style: str = "") -> None:
        self.summary_label.setText(text)
        self.summary_label.setStyleSheet(style)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if len(urls) == 1 and urls[0].toLocalFile().lower().endswith((".csv", ".xlsx")):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and not self._importing:
            self.load_file(urls[0].toLocalFile())
            event.acceptProposedAction()

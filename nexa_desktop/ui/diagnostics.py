"""Help → Diagnostics: the ``nexa doctor`` checks in a table, run off the GUI thread, with
"Save diagnostics…" writing the redacted zip for support."""

from __future__ import annotations

import datetime as dt
import html
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nexa_desktop.errors import user_message
from nexa_desktop.ops import TaskState
from nexa_desktop.services.diagnostics import save_diagnostics
from nexa_desktop.services.doctor import CHECKS, Check, DoctorReport, run_checks
from nexa_desktop.settings import Settings
from nexa_desktop.ui.ops import OpRunner
from nexa_desktop.ui.tables import RowsTableModel, rows_view

STATUS_TEXT = {"ok": "OK", "warn": "Warning", "fail": "Failed", "skip": "Skipped"}
STATUS_COLORS = {"ok": "#1b6e2d", "warn": "#9a6200", "fail": "#b3261e", "skip": "#607d8b"}
_PENDING_COLOR = "#90a4ae"
_RUNNING_COLOR = "#1565c0"
_ERROR_STYLE = "color: #b3261e; font-weight: 600;"
_OK_STYLE = "color: #1b6e2d; font-weight: 600;"
_WARN_STYLE = "color: #9a6200; font-weight: 600;"

_ICONS: dict[str, QIcon] = {}


def status_icon(status: str) -> QIcon:
    """A filled dot in the status colour (hollow while waiting)."""
    icon = _ICONS.get(status)
    if icon is None:
        pixmap = QPixmap(14, 14)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = QColor(STATUS_COLORS.get(status, _RUNNING_COLOR if status == "running" else _PENDING_COLOR))
        if status in STATUS_COLORS:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
        else:
            painter.setPen(color)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(1, 1, 12, 12)
        painter.end()
        icon = QIcon(pixmap)
        _ICONS[status] = icon
    return icon


class ChecksModel(RowsTableModel[Check]):
    """One row per check: finished ones show their result, the others wait (or run)."""

    HEADERS = ("Status", "Check", "Result", "How to fix")

    def __init__(self) -> None:
        super().__init__()
        self.pending: set[str] = set()
        self.running: str | None = None

    def start(self) -> None:
        """Every check waiting, in the order they run."""
        self.pending = {spec.name for spec in CHECKS}
        self.running = CHECKS[0].name
        self.set_rows([Check(spec.name, spec.title, "skip", "") for spec in CHECKS])

    def finish(self, check: Check) -> None:
        """Put a finished check in its row; the next waiting one is now running."""
        self.pending.discard(check.name)
        for i, row in enumerate(self.rows):
            if row.name == check.name:
                self.rows[i] = check
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.HEADERS) - 1))
                break
        self.running = next((r.name for r in self.rows if r.name in self.pending), None)
        if self.running is not None:
            i = next(n for n, r in enumerate(self.rows) if r.name == self.running)
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.HEADERS) - 1))

    def show_report(self, report: DoctorReport) -> None:
        self.pending = set()
        self.running = None
        self.set_rows(report.checks)

    def status_of(self, row: Check) -> str:
        if row.name == self.running:
            return "running"
        if row.name in self.pending:
            return "pending"
        return row.status

    def cell(self, row: Check, column: int, role: int) -> Any:
        status = self.status_of(row)
        waiting = status in ("running", "pending")
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return {"running": "Checking…", "pending": "Waiting"}.get(status, STATUS_TEXT.get(status, ""))
            if column == 1:
                return row.title
            if column == 2:
                return "" if waiting else row.detail
            if column == 3:
                return "" if waiting else row.fix
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return status_icon(status)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 0:
                return QColor(
                    STATUS_COLORS.get(status, _RUNNING_COLOR if status == "running" else _PENDING_COLOR)
                )
            if column == 3 and status == "fail":
                return QColor(STATUS_COLORS["fail"])
        if role == Qt.ItemDataRole.FontRole and (column in (0, 1) or (column == 3 and status == "fail")):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and not waiting:
            tip = f"{row.title}: {row.detail}"
            return f"{tip}\n\nHow to fix: {row.fix}" if row.fix else tip
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None


def default_diagnostics_path() -> Path:
    documents = Path.home() / "Documents"
    folder = documents if documents.is_dir() else Path.home()
    return folder / f"nexa-diagnostics-{dt.datetime.now():%Y-%m-%d-%H%M}.zip"


class DiagnosticsDialog(QDialog):
    """Runs the doctor's checks via ``runner.task`` (progress, Cancel) and shows each result with
    how to fix it. ``licenses`` is the app's LicenseService; ``quick`` skips loading the embedding
    model and the OCR engine."""

    def __init__(
        self,
        runner: OpRunner,
        settings: Settings,
        *,
        licenses: Any = None,
        quick: bool = False,
        autostart: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._settings = settings
        self._licenses = licenses
        self._quick = quick
        self._task: TaskState | None = None
        self._seen = 0
        self._closed = False
        self._autostart = autostart
        self._report: DoctorReport | None = None
        self._saving = False

        self.setWindowTitle("Diagnostics")
        self.setMinimumSize(900, 520)
        self.resize(1120, 680)

        intro = QLabel(
            "NEXA checks this computer's setup: data folder, database, backups, keyring, license, "
            "local models and the engines that read pages. Anything marked <b>Failed</b> needs fixing; "
            "its row says how. <b>Save diagnostics…</b> writes a zip for support with job numbers, "
            "addresses and names removed."
        )
        intro.setWordWrap(True)

        self.summary_label = QLabel("Starting the checks…")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)

        self.model = ChecksModel()
        self.view = rows_view(self.model, wrap=True, extra_width=8)
        self.view.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

        self.save_label = QLabel()
        self.save_label.setWordWrap(True)
        self.save_label.setOpenExternalLinks(True)
        self.save_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.save_label.setVisible(False)

        self.buttons = QDialogButtonBox()
        self.rerun_button = self.buttons.addButton("Run again", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button = self.buttons.addButton("Save diagnostics…", QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        for button in (self.rerun_button, self.save_button):
            button.setAutoDefault(False)
        self.rerun_button.clicked.connect(self.start)
        self.save_button.clicked.connect(self._choose_target)
        self.close_button.clicked.connect(self.reject)
        self.rerun_button.setEnabled(False)
        self.save_button.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(10)
        layout.addWidget(intro)
        layout.addWidget(self.summary_label)
        layout.addLayout(progress_row)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.save_label)
        layout.addWidget(self.buttons)

    # -- public -------------------------------------------------------------------------------

    @property
    def report(self) -> DoctorReport | None:
        """The last finished run."""
        return self._report

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        """Run every check in the background; rows fill in as they finish."""
        if self._task is not None:
            return
        self._seen = 0
        self.model.start()
        self.view.resizeRowsToContents()
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self._show_progress(True)
        self.rerun_button.setEnabled(False)
        self.save_button.setEnabled(False)
        self._set_summary("Checking this computer…")
        settings, quick, licenses = self._settings, self._quick, self._licenses

        def work(state: TaskState) -> DoctorReport:
            def progress(fraction: float, what: str, finished: Check | None) -> None:
                if finished is not None:
                    state.add_partial(finished)
                state.set_progress(fraction, what)

            return run_checks(
                settings,
                quick=quick,
                on_progress=progress,
                cancel=lambda: state.cancel_requested,
                licenses=licenses,
            )

        self._task = self._runner.task(
            work, on_progress=self._on_progress, on_done=self._on_done, on_error=self._on_error
        )

    def cancel(self) -> None:
        """Stop the run: the checks not yet run are reported as skipped."""
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self._set_summary("Cancelling…")

    def save_to(self, target: Path) -> None:
        """Write the diagnostics zip for the last report to ``target`` (in the background)."""
        report = self._report
        if report is None or self._saving:
            return
        self._saving = True
        self.save_button.setEnabled(False)
        self._show_save("Saving diagnostics…", "")
        self._runner.read(
            partial(save_diagnostics, target, report, settings=self._settings),
            on_done=self._on_saved,
            on_error=self._on_save_failed,
        )

    # -- events -------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._autostart:
            self._autostart = False
            self.start()  # the checks run in the background; the window shows at once

    def done(self, result: int) -> None:
        """Closing stops a running check; late results are ignored."""
        if self._task is not None:
            self._task.cancel()
        self._closed = True
        super().done(result)

    # -- callbacks ----------------------------------------------------------------------------

    def _on_progress(self, state: TaskState) -> None:
        if self._closed or state is not self._task:
            return
        finished = list(state.partial)[self._seen :]
        self._seen += len(finished)
        for check in finished:
            self.model.finish(check)
        if finished:
            self.view.resizeRowsToContents()
        self.progress.setValue(round(state.progress * 100))
        if state.status:
            self.progress.setFormat(state.status)

    def _on_done(self, report: DoctorReport) -> None:
        if self._closed:
            return
        self._task = None
        self._report = report
        self.model.show_report(report)
        self.view.resizeRowsToContents()
        self._show_progress(False)
        self.rerun_button.setEnabled(True)
        self.save_button.setEnabled(not self._saving)
        counts = report.counts()
        if not report.ok:
            n = counts["fail"]
            text = f"{n} check{'s' if n != 1 else ''} failed: see “How to fix” in the red rows."
            style = _ERROR_STYLE
        elif counts["warn"]:
            n = counts["warn"]
            text = f"NEXA works here, with {n} warning{'s' if n != 1 else ''} worth a look."
            style = _WARN_STYLE
        else:
            text, style = "Everything checked is in order.", _OK_STYLE
        if report.cancelled:
            text = "Cancelled before every check ran. " + text
        self._set_summary(f"{text} ({report.seconds:.1f} s)", style)

    def _on_error(self, exc: BaseException) -> None:
        if self._closed:
            return
        self._task = None
        self._show_progress(False)
        self.rerun_button.setEnabled(True)
        self._set_summary(user_message(exc), _ERROR_STYLE)

    def _choose_target(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save diagnostics", str(default_diagnostics_path()), "Zip archives (*.zip)"
        )
        if path:
            self.save_to(Path(path))

    def _on_saved(self, written: Path) -> None:
        self._saving = False
        if self._closed:
            return
        self.save_button.setEnabled(self._report is not None and self._task is None)
        folder = html.escape(QUrl.fromLocalFile(str(written.parent)).toString(), quote=True)
        self._show_save(
            f"Saved to {html.escape(str(written))}. Send this file to NEXA support. "
            f'<a href="{folder}">Show the folder</a>',
            _OK_STYLE,
        )

    def _on_save_failed(self, exc: BaseException) -> None:
        self._saving = False
        if self._closed:
            return
        self.save_button.setEnabled(self._report is not None and self._task is None)
        self._show_save(user_message(exc), _ERROR_STYLE)

    # -- helpers ------------------------------------------------------------------------------

    def _show_progress(self, visible: bool) -> None:
        self.progress.setVisible(visible)
        self.cancel_button.setVisible(visible)
        self.cancel_button.setEnabled(visible)

    def _set_summary(self, text: str, style: str = "") -> None:
        self.summary_label.setText(text)
        self.summary_label.setStyleSheet(style)

    def _show_save(self, text: str, style: str) -> None:
        self.save_label.setText(text if "<a " in text else html.escape(text))
        self.save_label.setStyleSheet(style)
        self.save_label.setVisible(True)

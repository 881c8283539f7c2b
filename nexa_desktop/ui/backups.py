"""File → Backups…: the database's backups in a table, with Back up now, Verify and Restore….

Listing, copying and checking run off the GUI thread. A restore runs on the runner's single
database writer, so no board write can interleave with it; it closes the app's own connections
first (``Database.dispose``; the engine reconnects on its next use, so after a refused restore
the app keeps working) and, when it succeeds, NEXA must restart because everything on screen
shows the data it replaced.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QColor, QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import make_url

from nexa_desktop import paths
from nexa_desktop.errors import user_message
from nexa_desktop.ops import TaskState
from nexa_desktop.services.backup import (
    BackupCheck,
    BackupInfo,
    create_backup,
    list_backups,
    restore_backup,
    verify_backup,
)
from nexa_desktop.store.backup_files import sqlite_backups_dir
from nexa_desktop.store.db import Database, describe, head_revision
from nexa_desktop.ui.ops import OpRunner
from nexa_desktop.ui.tables import RowsTableModel, rows_view

KIND_TEXT = {
    "daily": "Daily",
    "weekly": "Weekly",
    "manual": "Manual",
    "pre-migration": "Before an update",
    "pre-restore": "Before a restore",
}
#: Share of the restore's progress bar each phase of ``restore_backup`` fills, and what it says.
_PHASES: dict[str, tuple[float, float, str]] = {
    "checking": (0.0, 0.15, "Checking the backup…"),
    "preparing": (0.15, 0.45, "Preparing the copy…"),
    "saving": (0.45, 0.7, "Keeping the current data as a backup…"),
    "restoring": (0.7, 1.0, "Restoring…"),
    "done": (1.0, 1.0, "Restored"),
}
_OK_COLOR = "#1b6e2d"
_ERROR_COLOR = "#b3261e"
_MUTED_COLOR = "#607d8b"
_ERROR_STYLE = f"color: {_ERROR_COLOR}; font-weight: 600;"
_OK_STYLE = f"color: {_OK_COLOR}; font-weight: 600;"


def when_text(created: dt.datetime) -> str:
    """A backup's time in the computer's time zone (seconds tell apart copies made in a minute)."""
    return created.astimezone().strftime("%a %Y-%m-%d %H:%M:%S")


def size_text(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"


def backups_folder(db: Database) -> Path:
    """Where this database's backups live (as :mod:`nexa_desktop.services.backup` puts them):
    beside an SQLite file, in the data folder for an office (PostgreSQL) database."""
    parsed = make_url(db.url)
    if db.is_sqlite and parsed.database and parsed.database != ":memory:":
        return sqlite_backups_dir(Path(parsed.database))
    return paths.data_dir() / "backups"


class BackupsModel(RowsTableModel[BackupInfo]):
    """One row per backup, newest first; ``checks`` holds what Verify found for a file."""

    HEADERS = ("When", "Kind", "Size", "Schema", "Check")

    def __init__(self) -> None:
        super().__init__()
        self.head: str | None = None
        self.checks: dict[Path, BackupCheck] = {}

    def show(self, rows: list[BackupInfo], head: str | None) -> None:
        self.head = head
        self.checks = {p: c for p, c in self.checks.items() if any(r.path == p for r in rows)}
        self.set_rows(rows)

    def set_check(self, check: BackupCheck) -> None:
        self.checks[check.path] = check
        for i, row in enumerate(self.rows):
            if row.path == check.path:
                self.dataChanged.emit(self.index(i, 4), self.index(i, 4))

    def find(self, path: Path) -> int | None:
        return next((i for i, row in enumerate(self.rows) if row.path == path), None)

    def schema_text(self, row: BackupInfo) -> str:
        if row.schema_revision is None:
            return "unknown"
        if self.head is not None and row.schema_revision == self.head:
            return f"{row.schema_revision} (current)"
        return f"{row.schema_revision} (older)"

    def cell(self, row: BackupInfo, column: int, role: int) -> Any:
        check = self.checks.get(row.path)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return when_text(row.created)
            if column == 1:
                return KIND_TEXT.get(row.kind, row.kind)
            if column == 2:
                return size_text(row.size_bytes)
            if column == 3:
                return self.schema_text(row)
            if column == 4:
                return "Not checked" if check is None else ("Good" if check.ok else "Problem")
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 4 and check is not None:
                return check.message
            if column == 3 and row.schema_revision and self.head and row.schema_revision != self.head:
                return "Made by an earlier version of NEXA; a restore brings it up to date."
            return str(row.path)
        if role == Qt.ItemDataRole.ForegroundRole and column == 4:
            if check is None:
                return QColor(_MUTED_COLOR)
            return QColor(_OK_COLOR if check.ok else _ERROR_COLOR)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if column == 2 else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None


def _load(url: str) -> tuple[list[BackupInfo], str]:
    return list_backups(url), head_revision()


class BackupsDialog(QDialog):
    """The database's backups: make one now, check one, or put one back (the app then restarts).

    Enter (or a double-click) verifies the selected backup, Esc closes (except while a restore
    runs), Delete does nothing: backups are only removed by rotation.
    """

    #: The backup that was restored (its path); NEXA must close or restart now.
    restored = Signal(str)

    def __init__(self, runner: OpRunner, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._db = db
        self._op: str | None = None  # "load" | "backup" | "verify" | "restore" while one runs
        self._closed = False
        self._loaded_once = False
        self._done_restore: Path | None = None
        self.folder = backups_folder(db)
        self.confirm_box: QMessageBox | None = None
        self.message_box: QMessageBox | None = None

        self.setWindowTitle("Backups")
        self.setMinimumSize(760, 440)
        self.resize(900, 560)

        where = (
            "this computer's database"
            if db.is_sqlite
            else f"the office database {describe(db.url)} (copies are kept on this computer)"
        )
        self.intro = QLabel(
            f"NEXA backs up {where} every day when it starts, before an update and before a restore. "
            "<b>Verify</b> checks that a copy is complete and readable. <b>Restore…</b> puts a copy "
            "back: the data you have now is kept as a backup first, and NEXA Desktop closes afterwards so "
            "you start it again with the restored data."
        )
        self.intro.setWordWrap(True)
        self.folder_label = QLabel(f"Backups are kept in {self.folder}")
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextFormat(Qt.TextFormat.PlainText)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setStyleSheet(f"color: {_MUTED_COLOR};")

        self.model = BackupsModel()
        self.view = rows_view(self.model, wrap=False, extra_width=24)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 14)
        header = self.view.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(90)
        self.view.activated.connect(lambda _index: self.verify_selected())
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)

        self.status_label = QLabel("Loading the backups…")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)

        self.buttons = QDialogButtonBox()
        role = QDialogButtonBox.ButtonRole.ActionRole
        self.backup_button = self.buttons.addButton("Back up now", role)
        self.verify_button = self.buttons.addButton("Verify", role)
        self.restore_button = self.buttons.addButton("Restore…", role)
        self.folder_button = self.buttons.addButton("Open folder", role)
        close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        assert close is not None
        self.close_button: QPushButton = close
        for button in (
            self.backup_button,
            self.verify_button,
            self.restore_button,
            self.folder_button,
            self.close_button,
        ):
            button.setAutoDefault(False)  # Enter belongs to the table: it verifies the selected row
            button.setDefault(False)
        self.backup_button.setToolTip("Copy the database into the backups folder now.")
        self.verify_button.setToolTip("Check the selected backup is complete and readable (Enter).")
        self.restore_button.setToolTip("Put the selected backup back in place of the current data.")
        self.folder_button.setToolTip(str(self.folder))
        self.backup_button.clicked.connect(self.back_up_now)
        self.verify_button.clicked.connect(self.verify_selected)
        self.restore_button.clicked.connect(self.confirm_restore)
        self.folder_button.clicked.connect(self.open_folder)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(10)
        layout.addWidget(self.intro)
        layout.addWidget(self.folder_label)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self._update_buttons()

    # -- public -------------------------------------------------------------------------------

    @property
    def busy(self) -> str | None:
        """The operation running now ("load", "backup", "verify", "restore") or None."""
        return self._op

    def selected(self) -> BackupInfo | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def select(self, path: Path) -> None:
        row = self.model.find(path)
        if row is not None:
            self.view.selectRow(row)

    def reload(self, *, select: Path | None = None, keep_status: bool = False) -> None:
        """List the backups again (in the background), then select ``select`` or the newest."""
        if self._op is not None:
            return
        self._start("load")
        if not keep_status:
            self._set_status("Loading the backups…")
        self._runner.read(
            _load,
            self._db.url,
            on_done=lambda result: self._on_loaded(result, select, keep_status),
            on_error=self._on_failed,
        )

    def back_up_now(self) -> None:
        if self._op is not None or self._done_restore is not None:
            return
        url = self._db.url

        def work(state: TaskState) -> BackupInfo:
            return create_backup(
                url, kind="manual", progress=lambda f: state.set_progress(f, "Copying the database…")
            )

        self._start("backup", "Backing up…")
        self._set_status("Backing up the database…")
        self._runner.task(
            work, on_progress=self._on_progress, on_done=self._on_backed_up, on_error=self._on_failed
        )

    def verify_selected(self) -> None:
        info = self.selected()
        if info is None or self._op is not None or self._done_restore is not None:
            return
        self._start("verify", f"Checking the backup from {when_text(info.created)}…")
        self._set_status(f"Checking {info.path.name}…")
        self._runner.read(verify_backup, info.path, on_done=self._on_verified, on_error=self._on_failed)

    def confirm_restore(self) -> None:
        """Ask first, saying exactly what happens; the restore starts only on "Restore"."""
        info = self.selected()
        if info is None or self._op is not None or self._done_restore is not None:
            return
        others = (
            "Close NEXA Desktop in any other window using this database first."
            if self._db.is_sqlite
            else "Close NEXA Desktop on every other computer using the office database first."
        )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restore a backup",
            f"Restore the backup from {when_text(info.created)} ({KIND_TEXT.get(info.kind, info.kind)})?",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setInformativeText(
            "1. NEXA checks the backup; if anything is wrong with it, nothing changes.\n"
            "2. The data you have now is kept as a “Before a restore” backup, so you can go back.\n"
            "3. The database is replaced by the backup. Work entered after "
            f"{info.created.astimezone():%Y-%m-%d %H:%M} is not in it.\n"
            "4. NEXA Desktop closes when it is done; start it again to work with the restored data.\n\n"
            + others
        )
        restore = box.addButton("Restore", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)

        def finished(_result: int) -> None:
            if box.clickedButton() is restore:
                self.restore(info.path)

        box.finished.connect(finished)
        self.confirm_box = box
        box.open()

    def restore(self, path: Path) -> None:
        """Restore ``path`` now (no question asked): on the DB writer, with the app's own
        connections closed first so the service's in-use check only sees other programs."""
        if self._op is not None or self._done_restore is not None:
            return
        db = self._db

        def work(state: TaskState) -> BackupInfo | None:
            def progress(phase: str, fraction: float) -> None:
                start, end, text = _PHASES.get(phase, (state.progress, state.progress, phase))
                state.set_progress(start + (end - start) * fraction, text)

            db.dispose()
            return restore_backup(path, db.url, progress=progress)

        self._start("restore", "Checking the backup…")
        self._set_status(f"Restoring {path.name}…")
        self._runner.task(
            work,
            write=True,
            on_progress=self._on_progress,
            on_done=lambda pre: self._on_restored(path, pre),
            on_error=self._on_restore_failed,
        )

    def open_folder(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._set_status(f"Can't create the backups folder {self.folder}: {exc}.", _ERROR_STYLE)
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder))):
            self._set_status(f"Can't open a file browser here; the backups are in {self.folder}.")

    # -- events -------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self._loaded_once = True
            QTimer.singleShot(0, self.reload)

    def reject(self) -> None:
        """Esc and Close: not while a restore runs (its result must be seen)."""
        if self._op == "restore":
            self._set_status("The restore is running; wait for it to finish.")
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._op == "restore":
            event.ignore()
            self._set_status("The restore is running; wait for it to finish.")
            return
        super().closeEvent(event)

    def done(self, result: int) -> None:
        """Closing leaves a running backup or check to finish; its result is ignored."""
        self._closed = True
        super().done(result)

    # -- callbacks ----------------------------------------------------------------------------

    def _on_loaded(
        self, result: tuple[list[BackupInfo], str], select: Path | None, keep_status: bool
    ) -> None:
        if self._closed:
            return
        self._finish()
        rows, head = result
        self.model.show(rows, head)
        if rows:
            row = self.model.find(select) if select is not None else None
            self.view.selectRow(row if row is not None else 0)
        if not keep_status:
            if rows:
                n = len(rows)
                self._set_status(f"{n} backup{'s' if n != 1 else ''}, newest first.")
            else:
                self._set_status(
                    "No backups yet. NEXA makes one every day when it starts; Back up now makes one at once."
                )
        self._update_buttons()

    def _on_progress(self, state: TaskState) -> None:
        if self._closed or self._op is None:
            return
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 100)
        self.progress.setValue(round(state.progress * 100))
        if state.status:
            self.progress.setFormat(state.status)

    def _on_backed_up(self, info: BackupInfo) -> None:
        if self._closed:
            return
        self._finish()
        self._set_status(f"Backed up to {info.path} ({size_text(info.size_bytes)}).", _OK_STYLE)
        self.reload(select=info.path, keep_status=True)

    def _on_verified(self, check: BackupCheck) -> None:
        if self._closed:
            return
        self._finish()
        self.model.set_check(check)
        if check.ok:
            self._set_status(f"OK: {check.message}", _OK_STYLE)
        else:
            self._set_status(check.message, _ERROR_STYLE)

    def _on_failed(self, exc: BaseException) -> None:
        if self._closed:
            return
        self._finish()
        self._set_status(user_message(exc), _ERROR_STYLE)

    def _on_restored(self, path: Path, pre: BackupInfo | None) -> None:
        self._finish()
        self._done_restore = path
        self._update_buttons()
        kept = (
            f"The data you had before is kept as the backup “Before a restore” of {when_text(pre.created)}."
            if pre is not None
            else ""
        )
        self._set_status(f"Restored {path.name}. {kept}".strip(), _OK_STYLE)
        self.reload(select=pre.path if pre is not None else None, keep_status=True)
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Backup restored",
            "The backup is restored. NEXA Desktop closes now; start it again to work with the restored data.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        if kept:
            box.setInformativeText(kept)
        box.finished.connect(lambda _result: self._finish_restore(path))
        self.message_box = box
        box.open()

    def _finish_restore(self, path: Path) -> None:
        self.accept()
        self.restored.emit(str(path))

    def _on_restore_failed(self, exc: BaseException) -> None:
        self._finish()
        message = user_message(exc)
        self._set_status(message, _ERROR_STYLE)
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Not restored", message, QMessageBox.StandardButton.Ok, self
        )
        self.message_box = box
        box.open()
        # A refusal late in the restore may have kept a "Before a restore" copy: show it.
        chosen = self.selected()
        self.reload(select=chosen.path if chosen is not None else None, keep_status=True)

    # -- helpers ------------------------------------------------------------------------------

    def _start(self, op: str, progress_text: str | None = None) -> None:
        self._op = op
        if progress_text is not None:
            self.progress.setRange(0, 0)  # busy until the first progress report
            self.progress.setFormat(progress_text)
            self.progress.setVisible(True)
        self._update_buttons()

    def _finish(self) -> None:
        self._op = None
        self.progress.setVisible(False)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self._update_buttons()

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = self._op is None and self._done_restore is None
        chosen = idle and self.selected() is not None
        self.backup_button.setEnabled(idle)
        self.verify_button.setEnabled(chosen)
        self.restore_button.setEnabled(chosen)
        self.close_button.setEnabled(self._op != "restore")

    def _set_status(self, text: str, style: str = "") -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(style)

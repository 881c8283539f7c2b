"""The main window: a navigation rail on the left, one page per area on the right."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QStackedWidget,
    QWidget,
)

from nexa_desktop import paths
from nexa_desktop.errors import user_message
from nexa_desktop.services.board import BoardService
from nexa_desktop.services.complete.engine import LocalEngine
from nexa_desktop.services.licensing import LicenseService, LicenseState
from nexa_desktop.settings import Settings, save_settings
from nexa_desktop.store.db import describe
from nexa_desktop.ui.admin import AdminPage
from nexa_desktop.ui.board.page import BoardPage
from nexa_desktop.ui.models_page import ModelsPage
from nexa_desktop.ui.ops import OpRunner
from nexa_desktop.ui.packages.page import PackagesPage
from nexa_desktop.ui.settings_page import SettingsPage

#: Areas still to come (their issues are open); shown so people know where things will live.
LATER_AREAS = (
    ("Schedule", "Crew calendar, availability and suggestions."),
    ("Analytics", "Throughput, cycle times and go-back rates."),
)


def _placeholder(title: str, text: str) -> QWidget:
    label = QLabel(f"<h2>{title}</h2><p>{text}</p><p style='color:#607d8b'>Coming in a later release.</p>")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    return label


class MainWindow(QMainWindow):
    def __init__(
        self,
        service: BoardService,
        runner: OpRunner,
        settings: Settings,
        licenses: LicenseService | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._licenses = licenses
        self.runner = runner
        self.service = service
        self.setWindowTitle("NEXA Desktop")
        icon_file = paths.resources_dir() / "icons" / "nexa.svg"
        if icon_file.exists():
            self.setWindowIcon(QIcon(str(icon_file)))
        self.resize(1480, 900)

        self.rail = QListWidget()
        self.rail.setObjectName("navRail")
        self.rail.setAccessibleName("Navigation")
        self.rail.setFixedWidth(132)
        self.rail.setIconSize(QSize(20, 20))
        self.pages = QStackedWidget()
        self.board = BoardPage(service, runner)
        self._add_page("Board", self.board, enabled=True)
        self.packages = PackagesPage(runner, service.db, settings, board=service)
        self._add_page("Packages", self.packages, enabled=True)
        self.models_page = ModelsPage(runner)
        self._add_page("Models", self.models_page, enabled=True)
        self.rail.currentRowChanged.connect(self._page_shown)
        for title, text in LATER_AREAS:
            self._add_page(title, _placeholder(title, text), enabled=False)
        self.admin: AdminPage | None = None
        self.license_label = QLabel()
        self.license_label.setObjectName("licenseBadge")
        if licenses is not None:
            self.admin = AdminPage(licenses, runner)
            self._add_page("Admin", self.admin, enabled=True)
            self.admin.licenseChanged.connect(self._show_license)
        else:
            self._add_page(
                "Admin", _placeholder("Admin", "Seats, licenses and office settings."), enabled=False
            )
        self.settings_page = SettingsPage(runner, settings, licenses=licenses)
        self._add_page("Settings", self.settings_page, enabled=True)
        self.rail.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.rail.setCurrentRow(0)

        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.rail)
        row.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setFixedWidth(120)
        self.busy.setVisible(False)
        self.db_label = QLabel(f"Database: {describe(service.db.url)}")
        self.statusBar().addPermanentWidget(self.busy)
        self.statusBar().addPermanentWidget(self.license_label)
        self.statusBar().addPermanentWidget(self.db_label)
        runner.busy_changed.connect(lambda n: self.busy.setVisible(n > 0))
        runner.failed.connect(self.show_error)
        self.board.statusMessage.connect(lambda m: self.statusBar().showMessage(m, 10000))
        self.packages.statusMessage.connect(lambda m: self.statusBar().showMessage(m, 10000))
        self.engine = LocalEngine()  # the local model's worker process starts on first use
        self.engine.preferred_threads = settings.llm_threads or None
        self.models_page.set_threads(settings.llm_threads)
        self.models_page.threadsChanged.connect(self._set_model_threads)
        self.settings_page.statusMessage.connect(lambda m: self.statusBar().showMessage(m, 10000))
        self.settings_page.threadsChanged.connect(self._use_model_threads)
        self.settings_page.watchFolderChanged.connect(self._use_watch_folder)
        self.settings_page.ocrChanged.connect(self._use_ocr)
        self.settings_page.adminRequested.connect(self._show_admin)
        self.settings_page.diagnosticsRequested.connect(self.open_diagnostics)
        if self.admin is not None:
            self.admin.licenseChanged.connect(lambda _state: self.settings_page.refresh_account())
        self.board.detail.completeRequested.connect(self.open_completion)

        self.board.swimlanes.setChecked(settings.swimlanes_by_gf)
        self._build_menus()

    def _set_model_threads(self, count: int) -> None:
        """The Models page changed the thread count: keep it, use it, and show it on Settings."""
        self.settings.llm_threads = count
        save_settings(self.settings)
        self.settings_page.set_threads(count)
        self._use_model_threads(count)

    def _use_model_threads(self, count: int) -> None:
        """A saved thread count goes to the engine (next model load) and to the Models page."""
        self.engine.preferred_threads = count or None
        self.models_page.set_threads(count)
        self.statusBar().showMessage(
            "Drafting will use the recommended number of CPU threads."
            if count == 0
            else f"Drafting will use {count} CPU threads (from the next model load).",
            8000,
        )

    def _use_watch_folder(self, folder: str) -> None:
        """Settings saved another watch folder: the Packages page watches it from now on."""
        if folder:
            self.packages.choose_watch_folder(Path(folder))
        else:
            self.packages.watch_check.setChecked(False)

    def _use_ocr(self, on: bool) -> None:
        self.statusBar().showMessage(
            "Scanned pages are read with OCR from the next package checked."
            if on
            else "Scanned pages are no longer read with OCR (from the next package checked).",
            8000,
        )

    def _show_admin(self) -> None:
        if self.admin is not None:
            self.rail.setCurrentRow(self.pages.indexOf(self.admin))

    def _page_shown(self, row: int) -> None:
        if self.pages.widget(row) is self.models_page:
            self.models_page.refresh()

    def _show_license(self, state: LicenseState) -> None:
        text = {
            "full": f"Licensed · {state.claims.org_name}" if state.claims else "Licensed",
            "not_activated": "Not activated (evaluation)",
            "read_only": "Read-only: see Admin",
        }.get(state.mode, state.code)
        if state.code == "KEYRING_UNAVAILABLE":
            text = "Evaluation (no keyring): see Admin"
        if state.days_left is not None and state.mode == "full" and state.days_left <= 7:
            text += f" · renews in {state.days_left} d"
        self.license_label.setText(text)
        self.license_label.setToolTip(state.message)

    def _add_page(self, title: str, widget: QWidget, *, enabled: bool) -> None:
        item = QListWidgetItem(title)
        item.setSizeHint(QSize(120, 44))
        if not enabled:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            item.setToolTip("Coming in a later release")
        self.rail.addItem(item)
        self.pages.addWidget(widget)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.import_action = QAction("&Import jobs…", self)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.triggered.connect(self.open_import)
        file_menu.addAction(self.import_action)
        backups_action = QAction("&Backups…", self)
        backups_action.triggered.connect(self.open_backups)
        file_menu.addAction(backups_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.board.undo_action)
        edit_menu.addAction(self.board.redo_action)
        edit_menu.addAction(self.board.find_action)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.board.refresh_action)
        swim = QAction("Swimlanes by GF", self)
        swim.setCheckable(True)
        swim.setChecked(self.board.swimlanes.isChecked())
        swim.toggled.connect(self.board.swimlanes.setChecked)
        self.board.swimlanes.toggled.connect(swim.setChecked)
        view_menu.addAction(swim)
        help_menu = self.menuBar().addMenu("&Help")
        self.diagnostics_action = QAction("&Diagnostics…", self)
        self.diagnostics_action.triggered.connect(self.open_diagnostics)
        help_menu.addAction(self.diagnostics_action)

    def open_backups(self) -> None:
        from nexa_desktop.ui.backups import BackupsDialog

        dialog = BackupsDialog(self.runner, self.service.db, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.restored.connect(lambda _path: self.close())  # the board would show pre-restore data
        dialog.open()

    def open_diagnostics(self) -> None:
        from nexa_desktop.ui.diagnostics import DiagnosticsDialog

        dialog = DiagnosticsDialog(self.runner, self.settings, licenses=self._licenses, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def open_import(self) -> None:
        from nexa_desktop.ui.import_dialog import ImportDialog

        dialog = ImportDialog(self.runner, self.service.db, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imported.connect(lambda _n: self.board.reload())
        dialog.open()

    def open_completion(self, job_id: int) -> None:
        from nexa_desktop.ui.completion import CompletionDialog

        job = self.board.model.job(job_id)
        if job is None:
            return
        dialog = CompletionDialog(
            job, self.board.model.people, self.board.model.crews, self.engine, self.runner, self
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.written.connect(lambda path: self.statusBar().showMessage(f"Written: {path}", 15000))
        self.completion = dialog
        dialog.open()

    def show_error(self, error: BaseException) -> None:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Warning, "NEXA Desktop", user_message(error), parent=self)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.engine.unload()  # ends the model's worker process and returns its memory
        self.packages.shutdown()  # cancels a running check; the verifier's worker processes end
        self.settings.swimlanes_by_gf = self.board.swimlanes.isChecked()
        try:
            save_settings(self.settings)
        except OSError:
            pass  # settings are a convenience; never block closing
        super().closeEvent(event)

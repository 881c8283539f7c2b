"""The Settings page: one form over :class:`~nexa_desktop.settings.Settings`, saved with Save.

The page edits the window's own ``Settings`` object (the one every page reads), so a saved value is
seen everywhere at once; what needs more than that (watching another folder, the model's threads,
OCR) is announced by a signal the main window connects. A new database is used after a restart.
Validation (paths included) runs off the GUI thread: a folder on a network drive can be slow to answer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from nexa_desktop import paths
from nexa_desktop.domain.errors import StorageError
from nexa_desktop.errors import user_message
from nexa_desktop.services.complete.models import recommended_threads
from nexa_desktop.services.licensing import LicenseService
from nexa_desktop.settings import Settings, SettingsInvalid, check_database_url, checked, save_settings
from nexa_desktop.store.db import (
    DATABASE_URL_ENV,
    current_revision,
    describe,
    head_revision,
    open_database,
    resolve_url,
)
from nexa_desktop.ui.ops import OpRunner

#: The settings this page edits (the others belong to the pages that set them).
FORM_FIELDS = (
    "database_url",
    "watch_folder",
    "llm_threads",
    "ocr_enabled",
    "backup_enabled",
    "backup_daily_kept",
    "backup_weekly_kept",
)
#: What a saved password looks like in the address field (SQLAlchemy's own mask).
PASSWORD_MASK = "***"
_ERROR_STYLE = "color: #b71c1c;"
_OK_STYLE = "color: #1b5e20;"
_NOTE_STYLE = "color: #546e7a;"
_CHECK_DELAY_MS = 150
_LABEL_GAP = 16


def check_connection(url: str) -> str:
    """Worker thread: connect to the database NEXA would open with ``url`` and say how it stands.

    Nothing is created or migrated; a SQLite file that does not exist yet is not created either.
    Raises :class:`StorageError` with a sentence when it cannot be opened.
    """
    target = resolve_url(url or None)
    parsed = make_url(target)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        file = Path(parsed.database)
        if not file.exists():
            if not file.parent.is_dir():
                raise StorageError(
                    f"The folder {file.parent} does not exist. Create it, or choose another place "
                    "for the database file."
                )
            return f"{file} does not exist yet: NEXA Desktop creates it when it starts with this setting."
    db = open_database(url or None, migrate=False)
    try:
        with db.connect() as conn:
            revision = current_revision(conn)
    finally:
        db.dispose()
    where = describe(target)
    if revision == head_revision():
        return f"Connected to {where}. Its tables are up to date."
    if revision is None:
        return f"Connected to {where}. It is empty: NEXA Desktop sets it up when it starts with it."
    return (
        f"Connected to {where}. It was set up by another version of NEXA Desktop; it is brought up "
        "to date (SQLite files are backed up first) when NEXA Desktop starts with it."
    )


def _account_server(licenses: LicenseService) -> str | None:
    """Worker thread: the account service this computer is activated with (keyring)."""
    credentials = licenses.sync_credentials()
    return credentials.server_url if credentials is not None else None


def _check_form(values: dict[str, Any]) -> tuple[Settings | None, dict[str, str]]:
    """Worker thread: the validated settings, or the problem with each field."""
    try:
        return checked(values), {}
    except SettingsInvalid as exc:
        return None, exc.problems


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(_NOTE_STYLE)
    return label


def _error_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName("fieldError")
    label.setAccessibleName(f"Problem with {name}")
    label.setWordWrap(True)
    label.setStyleSheet(_ERROR_STYLE)
    label.setVisible(False)
    return label


def _row(*widgets: QWidget, stretch_first: bool = True) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(8)
    for i, widget in enumerate(widgets):
        row.addWidget(widget, 1 if (i == 0 and stretch_first) else 0)
    return row


class SettingsPage(QWidget):
    #: A sentence for the status bar.
    statusMessage = Signal(str)
    #: Saved: the settings as written.
    saved = Signal(object)
    #: The watch folder was saved changed ("" = stop watching).
    watchFolderChanged = Signal(str)
    #: The model's CPU threads were saved changed (0 = recommended).
    threadsChanged = Signal(int)
    #: OCR was switched on or off (applies from the next package checked).
    ocrChanged = Signal(bool)
    #: The user asked for the diagnostics dialog.
    diagnosticsRequested = Signal()
    #: The user wants the Admin page (to change the account service).
    adminRequested = Signal()
    #: The form was checked and the result is shown (tests wait on it).
    formChecked = Signal()
    #: "Test connection" finished: (ok, sentence).
    connectionTested = Signal(bool, str)

    def __init__(
        self,
        runner: OpRunner,
        settings: Settings,
        *,
        licenses: LicenseService | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsPage")
        self.runner = runner
        self.settings = settings
        self.licenses = licenses
        #: The values last loaded or saved (what "Revert" goes back to).
        self._saved_values: dict[str, Any] = {}
        #: The saved database address as shown (its password masked).
        self._shown_url = ""
        self._generation = 0
        self._checked_generation = -1
        self._candidate: Settings | None = None
        self._errors: dict[str, str] = {}
        self._saving = False
        self._testing = False
        self._loading = False
        self._check_pending = False
        self._labels: list[QLabel] = []
        self._indented: list[QVBoxLayout] = []

        body = QWidget()
        body.setObjectName("settingsBody")
        body.setMaximumWidth(860)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(14)
        title = QLabel("<h2>Settings</h2>")
        layout.addWidget(title)
        layout.addWidget(
            _note(
                "Changes are kept when you press Save (Ctrl+S) and most take effect at once. "
                "Anything set by a NEXA_… environment variable wins over what is saved here."
            )
        )
        layout.addWidget(self._data_section())
        layout.addWidget(self._database_section())
        layout.addWidget(self._packages_section())
        layout.addWidget(self._ai_section())
        layout.addWidget(self._account_section())
        layout.addWidget(self._backup_section())
        layout.addStretch(1)
        width = max(label.sizeHint().width() for label in self._labels)
        for label in self._labels:
            label.setFixedWidth(width)  # one column of labels across the sections
        for notes in self._indented:
            notes.setContentsMargins(width + _LABEL_GAP, 0, 0, 0)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        self.message = QLabel()
        self.message.setObjectName("settingsMessage")
        self.message.setAccessibleName("Settings message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.diagnostics_button = QPushButton("Diagnostics…")
        self.diagnostics_button.setToolTip("Versions, paths, database and model checks to send to support")
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Go back to the saved settings")
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Save and apply (Ctrl+S)")
        bar = QHBoxLayout()
        bar.setContentsMargins(20, 8, 20, 12)
        bar.addWidget(self.message, 1)
        bar.addWidget(self.diagnostics_button)
        bar.addSpacing(16)
        bar.addWidget(self.revert_button)
        bar.addWidget(self.save_button)
        footer = QFrame()
        footer.setObjectName("settingsFooter")
        footer.setLayout(bar)
        footer.setStyleSheet("QFrame#settingsFooter { border-top: 1px solid #cfd8dc; }")

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(scroll, 1)
        outer.addWidget(footer)

        self.check_timer = QTimer(self)
        self.check_timer.setSingleShot(True)
        self.check_timer.setInterval(_CHECK_DELAY_MS)
        self.check_timer.timeout.connect(self._run_check)
        self.save_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self)
        self.save_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.save_shortcut.activated.connect(self._save_by_key)

        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self.diagnostics_button.clicked.connect(self.diagnosticsRequested.emit)
        for edit in (self.database_url, self.watch_folder):
            edit.textChanged.connect(self._changed)
        for spin in (self.threads, self.daily_kept, self.weekly_kept):
            spin.valueChanged.connect(self._changed)
        for box in (self.ocr_enabled, self.backup_enabled):
            box.toggled.connect(self._changed)
        self.backup_enabled.toggled.connect(self._show_backup_enabled)
        self.load_form()

    # -- sections ----------------------------------------------------------------------------------

    @staticmethod
    def _form(box: QGroupBox) -> QVBoxLayout:
        form = QVBoxLayout(box)
        form.setContentsMargins(12, 14, 12, 12)
        form.setSpacing(12)
        return form

    def _add(self, form: QVBoxLayout, text: str, first: QWidget | QHBoxLayout, *below: QWidget) -> None:
        """One field: its label and control (with buttons) on a line; its problem and notes under the
        control. Hidden problem labels take no room."""
        label = QLabel(text)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(_LABEL_GAP)
        row.addWidget(label)
        if isinstance(first, QHBoxLayout):
            row.addLayout(first, 1)
            item = first.itemAt(0)
            buddy = item.widget() if item is not None else None
        else:
            row.addWidget(first)
            row.addStretch(1)
            buddy = first
        if buddy is not None:
            label.setBuddy(buddy)
        field = QVBoxLayout()
        field.setContentsMargins(0, 0, 0, 0)
        field.setSpacing(4)
        field.addLayout(row)
        if below:
            notes = QVBoxLayout()
            notes.setSpacing(4)
            for widget in below:
                notes.addWidget(widget)
            field.addLayout(notes)
            self._indented.append(notes)
        form.addLayout(field)
        self._labels.append(label)

    def _data_section(self) -> QGroupBox:
        box = QGroupBox("Data")
        form = self._form(box)
        self.data_dir = QLineEdit(str(paths.data_dir()))
        self.data_dir.setReadOnly(True)
        self.data_dir.setAccessibleName("Data folder")
        self.data_dir.setCursorPosition(0)
        self.open_data_button = QPushButton("Open folder")
        self.open_data_button.setAccessibleName("Open the data folder")
        self.open_data_button.clicked.connect(self.open_data_dir)
        note = _note(
            "The database, its backups, logs and these settings are kept here. To use another "
            f"folder, start NEXA Desktop with {paths.DATA_DIR_ENV} set to it."
        )
        self._add(form, "Data folder", _row(self.data_dir, self.open_data_button), note)
        return box

    def _database_section(self) -> QGroupBox:
        box = QGroupBox("Office database")
        form = self._form(box)
        self.database_url = QLineEdit()
        self.database_url.setAccessibleName("Database address")
        self.database_url.setPlaceholderText(
            "Empty: the database on this computer (nexa.db in the data folder)"
        )
        self.database_url.setClearButtonEnabled(True)
        self.database_url.setToolTip(
            "A shared office database, e.g. postgresql://nexa@office-server/nexa. "
            f"A saved password is shown as {PASSWORD_MASK}; it is kept unless you type a new one."
        )
        self.test_button = QPushButton("Test connection")
        self.test_button.setAccessibleName("Test the database connection")
        self.test_button.clicked.connect(self.test_connection)
        self.database_error = _error_label("the database address")
        self.connection_result = QLabel()
        self.connection_result.setAccessibleName("Connection test result")
        self.connection_result.setWordWrap(True)
        self.connection_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.connection_result.setVisible(False)
        note = (
            "PostgreSQL (postgresql://user@server/nexa) for an office, or empty for this computer alone. "
            "A new address takes effect when NEXA Desktop is restarted."
        )
        if os.environ.get(DATABASE_URL_ENV):
            note = (
                f"Set by the {DATABASE_URL_ENV} environment variable, which wins over this setting: "
                "change it there."
            )
            self.database_url.setReadOnly(True)
        self.database_note = _note(note)
        self._add(
            form,
            "Database address",
            _row(self.database_url, self.test_button),
            self.database_error,
            self.connection_result,
            self.database_note,
        )
        return box

    def _packages_section(self) -> QGroupBox:
        box = QGroupBox("Packages")
        form = self._form(box)
        self.watch_folder = QLineEdit()
        self.watch_folder.setAccessibleName("Watch folder")
        self.watch_folder.setPlaceholderText("Empty: no folder is watched")
        self.watch_folder.setClearButtonEnabled(True)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setAccessibleName("Choose the watch folder")
        self.browse_button.clicked.connect(self.browse_watch_folder)
        self.watch_error = _error_label("the watch folder")
        self._add(
            form,
            "Watch folder",
            _row(self.watch_folder, self.browse_button),
            self.watch_error,
            _note("Every new package that appears in this folder is checked on the Packages page."),
        )
        self.ocr_enabled = QCheckBox("Read scanned pages with OCR (on this computer)")
        self.ocr_enabled.setAccessibleName("Read scanned pages with OCR")
        self._add(
            form,
            "Scans",
            self.ocr_enabled,
            _note(
                "Off: pages without a text layer are reported as unreadable, and checks are faster. "
                "Applies from the next package checked."
            ),
        )
        return box

    def _ai_section(self) -> QGroupBox:
        box = QGroupBox("Local AI")
        form = self._form(box)
        self.threads = QSpinBox()
        self.threads.setRange(0, 64)
        self.threads.setSpecialValueText(f"Recommended ({recommended_threads()})")
        self.threads.setAccessibleName("CPU threads for the model")
        self.threads.setMinimumWidth(180)
        self._add(
            form,
            "CPU threads",
            self.threads,
            _note(
                "How many processor threads drafting uses (also on the Models page). More is not always "
                "faster. Takes effect the next time a model is loaded."
            ),
        )
        return box

    def _account_section(self) -> QGroupBox:
        box = QGroupBox("Account service")
        form = self._form(box)
        self.account_server = QLineEdit()
        self.account_server.setReadOnly(True)
        self.account_server.setAccessibleName("Account service address")
        self.account_server.setPlaceholderText("Checking…")
        self.admin_button = QPushButton("Open Admin")
        self.admin_button.setAccessibleName("Open the Admin page")
        self.admin_button.clicked.connect(self.adminRequested.emit)
        self.admin_button.setVisible(self.licenses is not None)
        self._add(
            form,
            "Service address",
            _row(self.account_server, self.admin_button),
            _note(
                "Set when this computer is activated: its license and seat belong to that service. "
                "To use another one, deactivate and activate again on the Admin page."
            ),
        )
        return box

    def _backup_section(self) -> QGroupBox:
        box = QGroupBox("Backups")
        form = self._form(box)
        self.backup_enabled = QCheckBox("Back up the database every day")
        self.backup_enabled.setAccessibleName("Back up the database every day")
        self._add(form, "Daily backup", self.backup_enabled)
        self.daily_kept = QSpinBox()
        self.daily_kept.setRange(1, 60)
        self.daily_kept.setAccessibleName("Daily copies kept")
        self.weekly_kept = QSpinBox()
        self.weekly_kept.setRange(0, 52)
        self.weekly_kept.setSpecialValueText("None")
        self.weekly_kept.setAccessibleName("Weekly copies kept")
        for spin in (self.daily_kept, self.weekly_kept):
            spin.setMinimumWidth(180)
        self._add(form, "Daily copies kept", self.daily_kept)
        self._add(
            form,
            "Weekly copies kept",
            self.weekly_kept,
            _note(f"Copies go to {paths.backups_dir()}; the oldest are removed first."),
        )
        return box

    # -- the form ----------------------------------------------------------------------------------

    def load_form(self) -> None:
        """Show the saved values (the window's settings), dropping unsaved edits."""
        self._loading = True
        try:
            values = {name: getattr(self.settings, name) for name in FORM_FIELDS}
            self._saved_values = values
            url = str(values["database_url"])
            self._shown_url = _masked(url)
            self.database_url.setText(self._shown_url)
            self.database_url.setCursorPosition(0)
            self.watch_folder.setText(str(values["watch_folder"]))
            self.threads.setValue(int(values["llm_threads"]))
            self.ocr_enabled.setChecked(bool(values["ocr_enabled"]))
            self.backup_enabled.setChecked(bool(values["backup_enabled"]))
            self.daily_kept.setValue(int(values["backup_daily_kept"]))
            self.weekly_kept.setValue(int(values["backup_weekly_kept"]))
        finally:
            self._loading = False
        self._show_backup_enabled(self.backup_enabled.isChecked())
        self._changed()

    def form_values(self) -> dict[str, Any]:
        """What the form says now (the database address with its saved password, when kept)."""
        return {
            "database_url": self._typed_url(),
            "watch_folder": self.watch_folder.text().strip(),
            "llm_threads": self.threads.value(),
            "ocr_enabled": self.ocr_enabled.isChecked(),
            "backup_enabled": self.backup_enabled.isChecked(),
            "backup_daily_kept": self.daily_kept.value(),
            "backup_weekly_kept": self.weekly_kept.value(),
        }

    @property
    def dirty(self) -> bool:
        """The form differs from what is saved."""
        return self.form_values() != self._saved_values

    def set_threads(self, count: int) -> None:
        """The thread count was changed elsewhere (the Models page) and saved: show it."""
        self._saved_values["llm_threads"] = count
        self.threads.blockSignals(True)
        self.threads.setValue(count)
        self.threads.blockSignals(False)
        self._changed()

    def _typed_url(self) -> str:
        text = self.database_url.text().strip()
        saved = str(self._saved_values.get("database_url", ""))
        if text == self._shown_url:
            return saved
        return _with_saved_password(text, saved)

    def _show_backup_enabled(self, on: bool) -> None:
        self.daily_kept.setEnabled(on)
        self.weekly_kept.setEnabled(on)

    def _changed(self) -> None:
        if self._loading:
            return
        self._generation += 1
        self._candidate = None
        self.connection_result.setVisible(False)
        self._update_buttons()
        if self.isVisible():
            self.check_timer.start()
        else:
            self._check_pending = True  # checked when shown: nothing runs at start-up

    def _run_check(self) -> None:
        generation = self._generation
        values = {**self.settings.model_dump(), **self.form_values()}
        self.runner.read(
            _check_form,
            values,
            on_done=lambda result: self._checked(generation, *result),
            on_error=lambda exc: self._checked(generation, None, {"": user_message(exc)}),
        )

    def _checked(self, generation: int, candidate: Settings | None, errors: dict[str, str]) -> None:
        if generation != self._generation:
            return  # the form changed since; a newer check is on its way
        self._checked_generation = generation
        self._candidate = candidate
        self._errors = errors
        for label, name in ((self.database_error, "database_url"), (self.watch_error, "watch_folder")):
            label.setText(errors.get(name, ""))
            label.setVisible(name in errors)
        others = [text for name, text in errors.items() if name not in ("database_url", "watch_folder")]
        if others:
            self._set_message(" ".join(others), error=True)
        elif self.message.property("kind") == "error" and not self._saving:
            self._set_message("")
        self._update_buttons()
        self.formChecked.emit()

    @property
    def checking(self) -> bool:
        """The form changed since its last check (a check is waiting or running)."""
        return self._checked_generation != self._generation

    @property
    def valid(self) -> bool:
        """The current form was checked and has no problem."""
        return self._candidate is not None

    def _update_buttons(self) -> None:
        dirty = self.dirty
        self.save_button.setEnabled(dirty and self.valid and not self._saving)
        self.revert_button.setEnabled(dirty and not self._saving)
        self.test_button.setEnabled(not self._testing)

    def _set_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("kind", "error" if error else "info")
        self.message.setStyleSheet(_ERROR_STYLE if error else "")

    # -- actions -----------------------------------------------------------------------------------

    def save(self) -> None:
        """Write the form's values and apply them (watch folder, threads, OCR at once; the database on
        restart)."""
        candidate = self._candidate
        if candidate is None or self._saving or not self.dirty:
            return
        before = {name: getattr(self.settings, name) for name in FORM_FIELDS}
        after = {name: getattr(candidate, name) for name in FORM_FIELDS}
        for name, value in after.items():
            setattr(self.settings, name, value)
        self._saving = True
        self._update_buttons()
        self.runner.read(
            save_settings,
            self.settings.model_copy(),
            on_done=lambda _none: self._saved(before, after),
            on_error=lambda exc: self._save_failed(before, exc),
        )

    def _save_by_key(self) -> None:
        if not self.isVisible():
            return
        if self.save_button.isEnabled():
            self.save()
        elif not self.dirty:
            self.statusMessage.emit("Settings: nothing to save.")
        elif self._errors:
            self.statusMessage.emit("Settings not saved: correct the fields marked in red first.")

    def _saved(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        self._saving = False
        edited = self.form_values()
        self._saved_values = dict(after)
        self._shown_url = _masked(str(after["database_url"]))
        if edited == after:
            self._loading = True
            self.database_url.setText(self._shown_url)  # the password is not shown again
            self.database_url.setCursorPosition(0)
            self._loading = False
        changed = {name for name in FORM_FIELDS if before[name] != after[name]}
        notes = ["Settings saved."]
        if "database_url" in changed:
            notes.append("Restart NEXA Desktop to use the new database.")
        self._set_message(" ".join(notes))
        if "watch_folder" in changed:
            self.watchFolderChanged.emit(str(after["watch_folder"]))
        if "llm_threads" in changed:
            self.threadsChanged.emit(int(after["llm_threads"]))
        if "ocr_enabled" in changed:
            self.ocrChanged.emit(bool(after["ocr_enabled"]))
        self.statusMessage.emit(" ".join(notes))
        self._changed()
        self.saved.emit(self.settings)

    def _save_failed(self, before: dict[str, Any], exc: BaseException) -> None:
        self._saving = False
        for name, value in before.items():
            setattr(self.settings, name, value)
        self._set_message(f"Settings not saved: {user_message(exc)}", error=True)
        self._update_buttons()

    def revert(self) -> None:
        self.load_form()
        self._set_message("Back to the saved settings.")

    def test_connection(self) -> None:
        """Connect to the database in the address field (off the GUI thread) and say how it went."""
        url = self._typed_url()
        try:
            check_database_url(url)
        except ValueError as exc:
            self._show_connection(False, str(exc))
            return
        self._testing = True
        self._update_buttons()
        self.test_button.setText("Testing…")
        self.connection_result.setText(f"Connecting to {_described(url)}…")
        self.connection_result.setStyleSheet(_NOTE_STYLE)
        self.connection_result.setVisible(True)
        self.runner.read(
            check_connection,
            url,
            on_done=lambda text: self._show_connection(True, text),
            on_error=lambda exc: self._show_connection(False, user_message(exc)),
        )

    def _show_connection(self, ok: bool, text: str) -> None:
        self._testing = False
        self.test_button.setText("Test connection")
        self._update_buttons()
        self.connection_result.setText(("✓ " if ok else "✗ ") + " ".join(text.split()))  # drivers indent
        self.connection_result.setStyleSheet(_OK_STYLE if ok else _ERROR_STYLE)
        self.connection_result.setVisible(True)
        self.connectionTested.emit(ok, text)

    def browse_watch_folder(self) -> None:
        start = self.watch_folder.text().strip() or str(Path.home())
        chosen = QFileDialog.getExistingDirectory(self, "Folder to watch for new packages", start)
        if chosen:
            self.watch_folder.setText(str(Path(chosen)))

    def open_data_dir(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.data_dir())))

    def refresh_account(self) -> None:
        """Show the account service this computer is activated with (read from the keyring when the
        page is shown: a keyring can be slow, and start-up has better things to do)."""
        if not self.isVisible():
            return  # read when the page is shown
        if self.licenses is None:
            self.account_server.setText("")
            self.account_server.setPlaceholderText("Licensing is not available in this window")
            return
        self.runner.read(
            _account_server,
            self.licenses,
            on_done=self._show_account,
            on_error=lambda exc: self._show_account(None, user_message(exc)),
        )

    def _show_account(self, server: str | None, problem: str = "") -> None:
        self.account_server.setText(server or "")
        self.account_server.setPlaceholderText(
            problem or "Not activated: activate this computer on the Admin page"
        )
        self.account_server.setToolTip(problem or (server or ""))
        self.account_server.setCursorPosition(0)

    def showEvent(self, event: QShowEvent) -> None:
        """Pick up what other pages saved meanwhile (the Packages page's watch folder)."""
        super().showEvent(event)
        if not self.dirty and not self._saving:
            current = {name: getattr(self.settings, name) for name in FORM_FIELDS}
            if current != self._saved_values:
                self.load_form()
        if self._check_pending:
            self._check_pending = False
            self.check_timer.start()
        self.refresh_account()  # activation may have changed on the Admin page

    def hideEvent(self, event: QHideEvent) -> None:
        """A check waiting to run waits until the page is shown again (nobody would see it)."""
        if self.check_timer.isActive():
            self.check_timer.stop()
            self._check_pending = True
        super().hideEvent(event)


def _masked(url: str) -> str:
    """The address as shown: its password (if any) masked."""
    if not url:
        return ""
    try:
        return describe(url)
    except (ArgumentError, ValueError):
        return url


def _described(url: str) -> str:
    try:
        return describe(resolve_url(url or None))
    except (ArgumentError, ValueError):
        return url


def _with_saved_password(text: str, saved: str) -> str:
    """An edited address that still says ``***`` for its password keeps the saved password."""
    if PASSWORD_MASK not in text or not saved:
        return text
    try:
        typed, old = make_url(text), make_url(saved)
    except (ArgumentError, ValueError):
        return text
    if typed.password != PASSWORD_MASK or not old.password:
        return text
    return typed.set(password=old.password).render_as_string(hide_password=False)

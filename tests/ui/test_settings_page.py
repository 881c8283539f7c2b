"""The Settings page in the real main window: real Qt events, real SQLite, real files and folders."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLineEdit
from pytestqt.qtbot import QtBot

from nexa_desktop import paths
from nexa_desktop.domain.board import BoardConfig
from nexa_desktop.services.board import BoardService
from nexa_desktop.services.licensing import SERVER_ENTRY, TOKEN_ENTRY, LicenseService
from nexa_desktop.settings import SCHEMA_VERSION, load_settings
from nexa_desktop.store.db import Database
from nexa_desktop.ui.main_window import MainWindow
from nexa_desktop.ui.ops import OpRunner
from nexa_desktop.ui.settings_page import SettingsPage
from tests.keyrings import MemoryKeyring
from tests.ui.packages_helpers import CORPUS, small_package

VERIFY_TIMEOUT_MS = 120_000


@pytest.fixture
def window(
    qtbot: QtBot, sqlite_db: Database, board_config: BoardConfig, runner: OpRunner
) -> Iterator[MainWindow]:
    win = MainWindow(BoardService(sqlite_db, board_config, "me"), runner, load_settings())
    qtbot.addWidget(win)
    win.show()
    yield win
    win.packages.shutdown()


def open_settings(qtbot: QtBot, window: MainWindow) -> SettingsPage:
    """Click the rail's Settings entry, as a user does."""
    row = next(i for i in range(window.rail.count()) if window.rail.item(i).text() == "Settings")
    rect = window.rail.visualItemRect(window.rail.item(row))
    qtbot.mouseClick(window.rail.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.pages.currentWidget() is window.settings_page
    page = window.settings_page
    qtbot.waitUntil(lambda: page.isVisible())
    return page


def type_into(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def settle(qtbot: QtBot, page: SettingsPage) -> None:
    """Wait until the form's latest values were checked (that runs off the GUI thread)."""
    qtbot.waitUntil(lambda: not page.checking, timeout=5000)


def toggle(qtbot: QtBot, box: QCheckBox) -> None:
    """Click the check box's box."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def save(qtbot: QtBot, page: SettingsPage) -> None:
    with qtbot.waitSignal(page.saved, timeout=5000):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)


def test_settings_sits_in_the_rail_after_admin_with_its_sections(qtbot: QtBot, window: MainWindow) -> None:
    titles = [window.rail.item(i).text() for i in range(window.rail.count())]
    assert titles[-2:] == ["Admin", "Settings"]
    item = window.rail.item(titles.index("Settings"))
    assert item.flags() & Qt.ItemFlag.ItemIsEnabled and not item.toolTip()
    page = open_settings(qtbot, window)
    sections = [box.title() for box in page.findChildren(QGroupBox)]
    assert sections == ["Data", "Office database", "Packages", "Local AI", "Account service", "Backups"]
    assert page.data_dir.isReadOnly() and page.data_dir.text() == str(paths.data_dir())
    assert page.account_server.isReadOnly()
    assert not page.save_button.isEnabled() and not page.revert_button.isEnabled(), "nothing edited yet"


def test_an_invalid_database_address_is_explained_and_cannot_be_saved(
    qtbot: QtBot, window: MainWindow
) -> None:
    page = open_settings(qtbot, window)
    type_into(qtbot, page.database_url, "mysql://nexa@db/nexa")
    qtbot.waitUntil(lambda: page.database_error.isVisible(), timeout=5000)
    assert "PostgreSQL or SQLite" in page.database_error.text()
    assert not page.save_button.isEnabled()
    qtbot.keyClick(page.database_url, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # Ctrl+S refuses
    assert not paths.settings_file().exists()

    type_into(qtbot, page.database_url, "postgresql://nexa:s3cret@office-db/nexa")
    settle(qtbot, page)
    assert not page.database_error.isVisible() and page.save_button.isEnabled()
    save(qtbot, page)
    assert load_settings().database_url == "postgresql://nexa:s3cret@office-db/nexa"
    assert page.database_url.text() == "postgresql://nexa:***@office-db/nexa", "the password is not shown"
    assert "Restart NEXA Desktop" in page.message.text()
    assert window.db_label.text().startswith("Database: sqlite"), "the open database stays until restart"

    # another setting saved later keeps the password; editing the address around *** keeps it too
    page.threads.setValue(2)
    settle(qtbot, page)
    save(qtbot, page)
    assert load_settings().database_url == "postgresql://nexa:s3cret@office-db/nexa"
    type_into(qtbot, page.database_url, "postgresql://nexa:***@new-db/nexa")
    settle(qtbot, page)
    save(qtbot, page)
    assert load_settings().database_url == "postgresql://nexa:s3cret@new-db/nexa"


def test_save_writes_the_versioned_file_and_the_window_uses_it(qtbot: QtBot, window: MainWindow) -> None:
    page = open_settings(qtbot, window)
    page.backup_enabled.setChecked(False)
    assert not page.daily_kept.isEnabled() and not page.weekly_kept.isEnabled()
    page.backup_enabled.setChecked(True)
    page.daily_kept.setFocus()
    page.daily_kept.selectAll()
    qtbot.keyClicks(page.daily_kept, "14")
    page.weekly_kept.setValue(0)
    assert page.weekly_kept.text() == "None"
    toggle(qtbot, page.ocr_enabled)
    assert not page.ocr_enabled.isChecked()
    settle(qtbot, page)
    assert page.revert_button.isEnabled()
    with qtbot.waitSignal(page.saved, timeout=5000), qtbot.waitSignal(page.ocrChanged) as ocr:
        qtbot.keyClick(page.daily_kept, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert ocr.args == [False]
    raw = json.loads(paths.settings_file().read_text(encoding="utf-8"))
    assert raw["schema_version"] == SCHEMA_VERSION == 2
    assert (raw["backup_daily_kept"], raw["backup_weekly_kept"], raw["ocr_enabled"]) == (14, 0, False)
    fresh = load_settings()
    assert (fresh.backup_enabled, fresh.backup_daily_kept, fresh.backup_weekly_kept) == (True, 14, 0)
    assert fresh.ocr_enabled is False
    assert window.settings.ocr_enabled is False and window.packages.settings is window.settings
    assert not page.save_button.isEnabled() and not page.dirty
    assert "Settings saved" in page.message.text() and "Restart" not in page.message.text()

    # closing the window saves its settings again: what Settings saved survives that
    window.close()
    assert load_settings().backup_daily_kept == 14


def test_revert_goes_back_to_the_saved_values(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    page = open_settings(qtbot, window)
    type_into(qtbot, page.watch_folder, str(tmp_path / "nowhere"))
    page.weekly_kept.setValue(9)
    qtbot.waitUntil(lambda: page.watch_error.isVisible(), timeout=5000)
    assert "does not exist" in page.watch_error.text() and not page.save_button.isEnabled()
    qtbot.mouseClick(page.revert_button, Qt.MouseButton.LeftButton)
    assert page.watch_folder.text() == "" and page.weekly_kept.value() == 4
    settle(qtbot, page)
    assert not page.watch_error.isVisible() and not page.dirty and not page.revert_button.isEnabled()


def test_model_threads_are_one_setting_on_both_pages(qtbot: QtBot, window: MainWindow) -> None:
    page = open_settings(qtbot, window)
    assert page.threads.text() == window.models_page.threads.text()
    assert page.threads.text().startswith("Recommended (")

    models = window.models_page.threads  # the Models page changes it: Settings shows it, nothing to save
    models.setFocus()
    models.selectAll()
    qtbot.keyClicks(models, "3")
    assert page.threads.value() == 3 and not page.dirty
    assert load_settings().llm_threads == 3 and window.engine.preferred_threads == 3

    page.threads.setFocus()  # Settings changes it: the Models page and the engine follow on Save
    page.threads.selectAll()
    qtbot.keyClicks(page.threads, "5")
    assert models.value() == 3, "not before Save"
    settle(qtbot, page)
    with qtbot.waitSignal(page.threadsChanged) as changed:
        save(qtbot, page)
    assert changed.args == [5]
    assert models.value() == 5 and window.engine.preferred_threads == 5 and load_settings().llm_threads == 5
    page.threads.setValue(0)
    settle(qtbot, page)
    save(qtbot, page)
    assert models.value() == 0 and window.engine.preferred_threads is None


@pytest.mark.slow
def test_a_new_watch_folder_is_watched_at_once(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    packages = window.packages
    packages.watch_settle_seconds = 0.2
    packages.watch_timer.setInterval(150)
    first, second = tmp_path / "incoming", tmp_path / "incoming-2"
    first.mkdir()
    second.mkdir()
    page = open_settings(qtbot, window)
    page.browse_button.setFocus()
    type_into(qtbot, page.watch_folder, str(first))
    settle(qtbot, page)
    with qtbot.waitSignal(page.watchFolderChanged) as changed:
        save(qtbot, page)
    assert changed.args == [str(first)]
    assert packages.watch_check.isChecked() and packages.watch_timer.isActive()
    assert packages.settings.watch_folder == str(first)

    type_into(qtbot, page.watch_folder, str(second))
    settle(qtbot, page)
    save(qtbot, page)
    assert load_settings().watch_folder == str(second)
    qtbot.waitUntil(lambda: packages._watcher is not None and packages._watcher.root == second, timeout=5000)
    with qtbot.waitSignal(packages.runFinished, timeout=VERIFY_TIMEOUT_MS) as finished:
        small_package(tmp_path / "staging" / "pkg-arrived")
        shutil.move(str(tmp_path / "staging" / "pkg-arrived"), str(second / "pkg-arrived"))
    assert finished.args == ["done"]
    assert packages.report is not None and packages.report.package == "pkg-arrived"

    type_into(qtbot, page.watch_folder, "")  # empty: stop watching
    settle(qtbot, page)
    save(qtbot, page)
    assert not packages.watch_check.isChecked() and not packages.watch_timer.isActive()
    assert load_settings().watch_folder == ""


def test_a_folder_chosen_on_the_packages_page_shows_in_settings(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    page = open_settings(qtbot, window)
    window.rail.setCurrentRow(1)
    assert window.packages.choose_watch_folder(tmp_path)
    window.rail.setCurrentRow(window.pages.indexOf(page))
    assert page.watch_folder.text() == str(tmp_path) and not page.dirty


def test_test_connection_says_what_it_found(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, sqlite_db: Database
) -> None:
    page = open_settings(qtbot, window)

    def test_now() -> tuple[bool, str]:
        with qtbot.waitSignal(page.connectionTested, timeout=15000) as tested:
            qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
        assert page.connection_result.isVisible() and page.test_button.isEnabled()
        ok, text = tested.args
        return ok, text

    ok, text = test_now()  # empty: this computer's database, migrated by the fixture
    assert ok and "up to date" in text and str(paths.database_file().name) in page.connection_result.text()

    new_file = tmp_path / "office" / "nexa.db"
    new_file.parent.mkdir()
    type_into(qtbot, page.database_url, f"sqlite:///{new_file.as_posix()}")
    ok, text = test_now()
    assert ok and "does not exist yet" in text and not new_file.exists(), "testing creates nothing"

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    type_into(qtbot, page.database_url, f"sqlite:///{garbage.as_posix()}")
    ok, text = test_now()
    assert not ok and "damaged or is not a NEXA database" in text
    assert page.connection_result.text().startswith("✗")

    type_into(qtbot, page.database_url, "postgresql://nexa:pw@127.0.0.1:1/nexa")
    ok, text = test_now()
    assert not ok and "Can't reach the office database" in text and "pw" not in text

    type_into(qtbot, page.database_url, "mysql://x@y/z")
    ok, text = test_now()
    assert not ok and "PostgreSQL or SQLite" in text


def test_account_service_is_shown_and_changed_only_on_admin(
    qtbot: QtBot,
    sqlite_db: Database,
    board_config: BoardConfig,
    runner: OpRunner,
    memory_keyring: MemoryKeyring,
) -> None:
    licenses = LicenseService({}, backend=memory_keyring)
    licenses.secrets.set(SERVER_ENTRY, "https://licenses.example.com")
    licenses.secrets.set(TOKEN_ENTRY, "machine-token")
    window = MainWindow(BoardService(sqlite_db, board_config, "me"), runner, load_settings(), licenses)
    qtbot.addWidget(window)
    window.show()
    page = open_settings(qtbot, window)
    qtbot.waitUntil(lambda: page.account_server.text() == "https://licenses.example.com", timeout=5000)
    assert page.account_server.isReadOnly() and "machine-token" not in page.account_server.toolTip()
    qtbot.mouseClick(page.admin_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.admin

    licenses.secrets.delete(SERVER_ENTRY)
    page = open_settings(qtbot, window)
    qtbot.waitUntil(lambda: page.account_server.text() == "", timeout=5000)
    assert "Not activated" in page.account_server.placeholderText()
    window.packages.shutdown()


class _UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_open_folder_and_diagnostics_buttons(qtbot: QtBot, window: MainWindow) -> None:
    page = open_settings(qtbot, window)
    catcher = _UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        qtbot.mouseClick(page.open_data_button, Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [Path(u.toLocalFile()) for u in catcher.urls] == [paths.data_dir()]
    with qtbot.waitSignal(page.diagnosticsRequested, timeout=1000):
        qtbot.mouseClick(page.diagnostics_button, Qt.MouseButton.LeftButton)


REAL_FORMS = CORPUS / "real-forms"


@pytest.mark.slow
@pytest.mark.skipif(not (REAL_FORMS / "pole_bill.pdf").is_file(), reason="real forms not found")
def test_ocr_switch_applies_to_the_next_package(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    from nexa_desktop.services.verify.ocr import ocr_installed

    if not ocr_installed():
        pytest.skip("OCR is not installed")
    scan = tmp_path / "scan.pdf"
    shutil.copy(REAL_FORMS / "pole_bill.pdf", scan)
    page = open_settings(qtbot, window)
    packages = window.packages

    def check() -> str:
        with qtbot.waitSignal(packages.runFinished, timeout=VERIFY_TIMEOUT_MS) as finished:
            packages.open_paths([scan])
        assert finished.args == ["done"] and packages.report is not None
        return packages.report.pages[0].source

    toggle(qtbot, page.ocr_enabled)
    settle(qtbot, page)
    save(qtbot, page)
    assert check() == "none", "OCR off: the scan is not read"
    toggle(qtbot, page.ocr_enabled)
    settle(qtbot, page)
    save(qtbot, page)
    assert check() == "ocr", "OCR on again: the next package is read with OCR"

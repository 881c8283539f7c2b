"""File → Backups…: the dialog lists real backups of a real SQLite database, backs up, verifies
(a damaged copy shows its problem), restores an older copy (the old rows come back, ``restored``
fires) and, when another connection holds the database, refuses in words and keeps working."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from nexa_desktop import paths
from nexa_desktop.services import backup
from nexa_desktop.services.backup import BackupInfo, create_backup, list_backups
from nexa_desktop.services.demo import seed_demo
from nexa_desktop.store import models
from nexa_desktop.store.db import Database, head_revision, open_database
from nexa_desktop.ui.backups import BackupsDialog, size_text, when_text
from nexa_desktop.ui.ops import OpRunner

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def office(data_dir: Path) -> Iterator[Database]:
    """The embedded database (a file in this test's data dir) with 20 demo jobs."""
    db = open_database()
    seed_demo(db, jobs=20, seed=1)
    try:
        yield db
    finally:
        db.dispose()


def _snapshot(db: Database) -> list[tuple[object, ...]]:
    with db.connect() as conn:
        jobs = conn.exec_driver_sql("SELECT id, pm_number, address, status FROM jobs ORDER BY id").all()
        people = conn.exec_driver_sql("SELECT id, name FROM people ORDER BY id").all()
    return [tuple(r) for r in jobs] + [tuple(r) for r in people]


def _edit(db: Database, marker: str) -> None:
    """What someone does after a backup: edits every address and adds a person."""
    with db.begin() as conn:
        conn.execute(models.jobs.update().values(address=marker))
        conn.execute(models.people.insert().values(name=marker, role="gf", active=True, version=1))


def _open(qtbot: QtBot, runner: OpRunner, db: Database) -> BackupsDialog:
    dialog = BackupsDialog(runner, db)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.busy is None and dialog.status_label.text() != "Loading the backups…")
    return dialog


def _text(dialog: BackupsDialog, row: int, column: int) -> str:
    return str(dialog.model.data(dialog.model.index(row, column)))


def _idle(dialog: BackupsDialog) -> bool:
    return dialog.busy is None


def _click(box: QMessageBox | None, label: str) -> None:
    assert box is not None and box.isVisible()
    button = next(b for b in box.buttons() if b.text().replace("&", "") == label)
    button.click()


def test_lists_the_backups_newest_first(qtbot: QtBot, runner: OpRunner, office: Database) -> None:
    now = dt.datetime.now(dt.UTC)
    made = [
        create_backup(kind="weekly", now=now - 50 * HOUR),
        create_backup(kind="daily", now=now - 26 * HOUR),
        create_backup(kind="manual", now=now - HOUR),
    ]
    dialog = _open(qtbot, runner, office)

    assert dialog.model.rowCount() == 3
    newest_first = list(reversed(made))
    assert [dialog.model.row(i).path for i in range(3)] == [b.path for b in newest_first]
    local = newest_first[0].created.astimezone()
    assert _text(dialog, 0, 0) == when_text(newest_first[0].created)
    assert f"{local:%Y-%m-%d %H:%M:%S}" in _text(dialog, 0, 0)  # the computer's time, not UTC
    assert [_text(dialog, i, 1) for i in range(3)] == ["Manual", "Daily", "Weekly"]
    assert _text(dialog, 0, 2) == size_text(made[2].path.stat().st_size)
    assert _text(dialog, 0, 3) == f"{head_revision()} (current)"
    assert _text(dialog, 0, 4) == "Not checked"
    assert dialog.selected() == newest_first[0]
    assert "3 backups" in dialog.status_label.text()
    assert dialog.verify_button.isEnabled() and dialog.restore_button.isEnabled()


def test_no_backups_yet_says_so(qtbot: QtBot, runner: OpRunner, office: Database) -> None:
    dialog = _open(qtbot, runner, office)
    assert dialog.model.rowCount() == 0
    assert "No backups yet" in dialog.status_label.text()
    assert dialog.backup_button.isEnabled()
    assert not dialog.verify_button.isEnabled() and not dialog.restore_button.isEnabled()


def test_back_up_now_adds_a_row_and_says_where(qtbot: QtBot, runner: OpRunner, office: Database) -> None:
    create_backup(kind="daily", now=dt.datetime.now(dt.UTC) - HOUR)
    dialog = _open(qtbot, runner, office)
    assert dialog.model.rowCount() == 1

    qtbot.mouseClick(dialog.backup_button, Qt.MouseButton.LeftButton)
    assert dialog.busy == "backup"
    assert not dialog.backup_button.isEnabled() and not dialog.restore_button.isEnabled()
    assert dialog.progress.isVisible()
    qtbot.waitUntil(lambda: _idle(dialog) and dialog.model.rowCount() == 2, timeout=20000)

    new = list_backups()[0]
    assert new.kind == "manual" and new.path.is_file()
    assert dialog.model.row(0).path == new.path
    assert dialog.selected() == new
    assert f"Backed up to {new.path}" in dialog.status_label.text()
    assert not dialog.progress.isVisible()
    assert dialog.backup_button.isEnabled()


def test_verify_says_ok_or_names_the_problem(qtbot: QtBot, runner: OpRunner, office: Database) -> None:
    good = create_backup(now=dt.datetime.now(dt.UTC) - 2 * HOUR)
    damaged = create_backup(now=dt.datetime.now(dt.UTC) - HOUR)
    data = damaged.path.read_bytes()
    damaged.path.write_bytes(data[: len(data) // 2])  # a copy cut off half-way
    dialog = _open(qtbot, runner, office)

    dialog.select(good.path)
    dialog.view.setFocus()
    qtbot.keyClick(dialog.view, Qt.Key.Key_Return)  # Enter verifies the selected row
    assert dialog.busy == "verify"
    qtbot.waitUntil(lambda: _idle(dialog), timeout=20000)
    assert dialog.status_label.text().startswith("OK: ")
    assert "is a good NEXA backup" in dialog.status_label.text()
    assert _text(dialog, dialog.model.find(good.path) or 0, 4) == "Good"
    assert dialog.isVisible()  # Enter did not close the dialog

    dialog.select(damaged.path)
    qtbot.mouseClick(dialog.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _idle(dialog), timeout=20000)
    status = dialog.status_label.text()
    assert str(damaged.path) in status and "truncated or damaged" in status
    assert "b3261e" in dialog.status_label.styleSheet()
    row = dialog.model.find(damaged.path)
    assert row is not None and _text(dialog, row, 4) == "Problem"
    tip = dialog.model.data(dialog.model.index(row, 4), Qt.ItemDataRole.ToolTipRole)
    assert "truncated or damaged" in str(tip)


def test_restore_of_an_older_backup_brings_its_data_back(
    qtbot: QtBot, runner: OpRunner, office: Database
) -> None:
    before = _snapshot(office)
    older = create_backup(now=dt.datetime.now(dt.UTC) - 3 * HOUR)
    _edit(office, "edited after the backup")
    edited = _snapshot(office)
    assert edited != before
    create_backup(now=dt.datetime.now(dt.UTC) - HOUR)  # a newer copy is listed above it
    dialog = _open(qtbot, runner, office)
    dialog.select(older.path)

    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    confirm = dialog.confirm_box
    assert confirm is not None and confirm.isVisible()
    said = f"{confirm.text()}\n{confirm.informativeText()}"
    assert when_text(older.created) in said
    assert "kept as a “Before a restore” backup" in said
    assert "closes when it is done" in said
    assert dialog.busy is None  # nothing happens before the answer

    _click(confirm, "Restore")
    assert dialog.busy == "restore"
    assert not dialog.close_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.message_box is not None, timeout=30000)
    done = dialog.message_box
    assert done is not None and "NEXA Desktop closes now" in done.text()
    assert "Before a restore" in done.informativeText()
    assert not dialog.backup_button.isEnabled() and not dialog.restore_button.isEnabled()
    qtbot.waitUntil(lambda: _idle(dialog), timeout=10000)  # the list shows the copy it kept
    kept_row = dialog.selected()
    assert kept_row is not None and kept_row.kind == "pre-restore"
    assert dialog.model.rowCount() == 3
    assert not dialog.verify_button.isEnabled()  # nothing more until NEXA restarts
    with qtbot.waitSignal(dialog.restored, timeout=5000) as signal:
        _click(done, "OK")
    assert signal.args == [str(older.path)]
    assert not dialog.isVisible()

    office.dispose()
    reopened = open_database()
    try:
        assert _snapshot(reopened) == before
    finally:
        reopened.dispose()
    assert [b.path for b in list_backups() if b.kind == "pre-restore"] == [kept_row.path]
    assert [p.name for p in paths.data_dir().iterdir() if p.name.startswith(".")] == []


def _restore_via_dialog(qtbot: QtBot, dialog: BackupsDialog, info: BackupInfo) -> None:
    dialog.select(info.path)
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    _click(dialog.confirm_box, "Restore")
    assert dialog.busy == "restore"


def test_a_refused_restore_says_why_and_the_app_keeps_working(
    qtbot: QtBot, runner: OpRunner, office: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "LOCK_WAIT_S", 0.3)
    older = create_backup(now=dt.datetime.now(dt.UTC) - HOUR)
    _edit(office, "edited after the backup")
    dialog = _open(qtbot, runner, office)

    other = sqlite3.connect(paths.database_file(), isolation_level=None)  # another program writing
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE jobs SET status = status WHERE id = 1")
        _restore_via_dialog(qtbot, dialog, older)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # no closing while the restore runs
        assert dialog.isVisible()
        assert "wait for it to finish" in dialog.status_label.text()
        qtbot.waitUntil(lambda: dialog.message_box is not None and _idle(dialog), timeout=30000)
        refused = dialog.message_box
        assert refused is not None and refused.isVisible()
        assert "Not restored" in refused.text() and "open in another NEXA Desktop window" in refused.text()
        assert "open in another NEXA Desktop window" in dialog.status_label.text()
        other.execute("COMMIT")
    finally:
        other.close()
    _click(refused, "OK")
    qtbot.waitUntil(lambda: _idle(dialog), timeout=10000)  # the list reloads after a refusal
    assert dialog.isVisible()
    assert dialog.backup_button.isEnabled() and dialog.restore_button.isEnabled()

    # The app's Database was disposed for the restore; it reconnects on its next use.
    def write_and_read() -> int:
        with office.begin() as conn:
            conn.exec_driver_sql("UPDATE jobs SET address = 'still working' WHERE id = 2")
        with office.connect() as conn:
            return int(
                conn.exec_driver_sql("SELECT count(*) FROM jobs WHERE address = 'still working'").scalar_one()
            )

    written = runner.write(write_and_read)
    qtbot.waitUntil(written.done, timeout=10000)
    assert written.result() == 1

    # The same dialog can restore once the other program has let go.
    restored: list[str] = []
    dialog.restored.connect(restored.append)
    _restore_via_dialog(qtbot, dialog, older)
    qtbot.waitUntil(lambda: dialog.message_box is not refused and _idle(dialog), timeout=30000)
    _click(dialog.message_box, "OK")
    assert restored == [str(older.path)]
    office.dispose()
    with open_database().connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT count(*) FROM jobs WHERE address LIKE 'edited%'").scalar_one() == 0
        )


class _UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_open_folder_delete_and_escape(qtbot: QtBot, runner: OpRunner, office: Database) -> None:
    info = create_backup()
    dialog = _open(qtbot, runner, office)
    assert dialog.folder == info.path.parent

    catcher = _UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        qtbot.mouseClick(dialog.folder_button, Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [Path(u.toLocalFile()) for u in catcher.urls] == [info.path.parent]

    dialog.view.setFocus()
    qtbot.keyClick(dialog.view, Qt.Key.Key_Delete)  # backups are only removed by rotation
    assert dialog.busy is None and dialog.model.rowCount() == 1 and info.path.is_file()
    assert dialog.isVisible()

    qtbot.keyClick(dialog.view, Qt.Key.Key_Escape)
    assert not dialog.isVisible()

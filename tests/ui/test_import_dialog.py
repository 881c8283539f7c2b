"""The import dialog: problems listed, Import only when every row is good, jobs written."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database
from nexa_desktop.ui.import_dialog import ImportDialog
from nexa_desktop.ui.ops import OpRunner

# "PM" holds old 7-digit numbers; the real PM numbers are in "Order Ref".
MIXED_CSV = (
    "PM,Order Ref,Notification,Address,Due Date\n"
    "3558905,35589054,119080350,1 Main St,2026-03-15\n"
    "4635735,46357356,,2 Oak Ave,3/20/2026\n"
)


@pytest.fixture
def dialog(qtbot: QtBot, sqlite_db: Database, runner: OpRunner) -> ImportDialog:
    widget = ImportDialog(runner, sqlite_db, actor="tester")
    qtbot.addWidget(widget)
    widget.show()
    return widget


def wait_checked(qtbot: QtBot, dialog: ImportDialog) -> None:
    qtbot.waitUntil(lambda: dialog.report is not None and settled(dialog), timeout=10_000)


def settled(dialog: ImportDialog) -> bool:
    return "…" not in dialog.summary_label.text()


def table_rows(dialog: ImportDialog) -> list[tuple[str, ...]]:
    model = dialog.problems
    return [
        tuple(str(model.index(r, c).data()) for c in range(model.columnCount()))
        for r in range(model.rowCount())
    ]


def test_bad_rows_are_listed_and_import_waits_for_a_fix(
    qtbot: QtBot, dialog: ImportDialog, sqlite_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(MIXED_CSV, encoding="utf-8")
    assert dialog.minimumWidth() >= 760 and dialog.minimumHeight() >= 520

    dialog.load_file(path)
    wait_checked(qtbot, dialog)

    assert dialog.combos["pm_number"].currentText() == "PM"
    assert dialog.combos["notification_number"].currentText() == "Notification"
    assert dialog.combos["city"].currentText() == "(not in file)"
    assert [row[:3] for row in table_rows(dialog)] == [
        ("2", "PM number", "3558905"),
        ("3", "PM number", "4635735"),
    ]
    assert "exactly 8 digits" in table_rows(dialog)[0][3]
    assert dialog.summary_label.text() == (
        "2 rows, 2 problems — nothing will be imported until they are fixed."
    )
    assert not dialog.import_button.isEnabled()

    dialog.set_mapping("pm_number", "Order Ref")
    wait_checked(qtbot, dialog)
    assert table_rows(dialog) == []
    assert dialog.summary_label.text() == "2 rows, no problems — ready to import."
    assert dialog.import_button.isEnabled()

    with qtbot.waitSignal(dialog.imported, timeout=10_000) as signal:
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    assert signal.args == [2]
    with sqlite_db.connect() as conn:
        jobs = {j.pm_number: j for j in repo.list_jobs(conn)}
        assert set(jobs) == {"35589054", "46357356"}
        assert jobs["35589054"].notification_number == "119080350"
        assert jobs["46357356"].address == "2 Oak Ave"
        history = repo.job_history_entries(conn, jobs["35589054"].id)
    assert [(h.action, h.actor) for h in history] == [("Imported", "tester")]
    assert dialog.result() == ImportDialog.DialogCode.Accepted


def test_duplicates_in_the_database_block_the_import(
    qtbot: QtBot, dialog: ImportDialog, sqlite_db: Database, tmp_path: Path
) -> None:
    with sqlite_db.begin() as conn:
        repo.insert_jobs(conn, [{"pm_number": "46357356"}])
    path = tmp_path / "jobs.csv"
    path.write_text("PM #,Address\n35589054,1 Main St\n46357356,2 Oak Ave\n", encoding="utf-8")

    dialog.load_file(path)
    wait_checked(qtbot, dialog)

    assert table_rows(dialog) == [("3", "PM number", "46357356", "PM number 46357356 is already in NEXA.")]
    assert not dialog.import_button.isEnabled()
    # Disabled, so clicking does nothing.
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    with sqlite_db.connect() as conn:
        assert repo.count_jobs(conn) == 1


def test_unmapping_every_identifier_explains_what_is_missing(
    qtbot: QtBot, dialog: ImportDialog, tmp_path: Path
) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text("PM #,Address\n35589054,1 Main St\n", encoding="utf-8")
    dialog.load_file(path)
    wait_checked(qtbot, dialog)
    assert dialog.import_button.isEnabled()

    dialog.set_mapping("pm_number", None)
    assert dialog.summary_label.text().startswith(
        "No column for the PM number or notification number; the file has: 'PM #', 'Address'"
    )
    assert not dialog.import_button.isEnabled()


def test_actor_defaults_to_the_user_name_from_settings(
    qtbot: QtBot,
    sqlite_db: Database,
    runner: OpRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEXA_USER_NAME", "Sam Scheduler")
    widget = ImportDialog(runner, sqlite_db)
    qtbot.addWidget(widget)
    path = tmp_path / "jobs.csv"
    path.write_text("Notif #\n119080350\n", encoding="utf-8")
    widget.load_file(path)
    wait_checked(qtbot, widget)
    with qtbot.waitSignal(widget.imported, timeout=10_000):
        widget.import_button.click()
    with sqlite_db.connect() as conn:
        (job,) = repo.list_jobs(conn)
        history = repo.job_history_entries(conn, job.id)
    assert job.notification_number == "119080350" and job.pm_number is None
    assert [(h.action, h.actor) for h in history] == [("Imported", "Sam Scheduler")]


def test_unreadable_file_is_reported(qtbot: QtBot, dialog: ImportDialog, tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_bytes(b"\x00\x01\x02 not text")
    dialog.load_file(path)
    qtbot.waitUntil(lambda: "binary file" in dialog.summary_label.text(), timeout=10_000)
    assert dialog.summary_label.text().startswith("jobs.csv: this is a binary file")
    assert not dialog.import_button.isEnabled()
    assert not dialog.mapping_box.isEnabled()
    assert dialog.problems.rowCount() == 0


def _big_csv(path: Path, rows: int) -> Path:
    lines = ["PM #,Notification,Address,City,Priority,Due Date"]
    lines += [f"{35_000_000 + i},{119_000_000 + i},{i} Oak St,Fresno,C,12/01/2026" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_long_check_and_import_show_progress_and_can_be_cancelled(
    qtbot: QtBot, dialog: ImportDialog, sqlite_db: Database, tmp_path: Path
) -> None:
    dialog.load_file(_big_csv(tmp_path / "big.csv", 60_000))
    qtbot.waitUntil(lambda: dialog.progress.isVisible(), timeout=10_000)
    assert dialog.cancel_button.isVisible()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "cancelled" in dialog.summary_label.text(), timeout=10_000)
    assert not dialog.import_button.isEnabled() and not dialog.progress.isVisible()

    dialog.set_mapping("address", None)  # any change re-checks; this time let it finish
    dialog.set_mapping("address", "Address")
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=30_000)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.isVisible(), timeout=5_000)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "nothing was imported" in dialog.summary_label.text(), timeout=30_000)
    with sqlite_db.connect() as conn:
        assert repo.count_jobs(conn) == 0

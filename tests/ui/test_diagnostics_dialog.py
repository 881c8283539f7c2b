"""Help → Diagnostics: the dialog runs the real checks through the op runner, fills its table with
each result and its fix, cancels, and saves the redacted zip."""

from __future__ import annotations

import dataclasses
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from nexa_desktop import paths
from nexa_desktop.services.doctor import CHECK_NAMES
from nexa_desktop.settings import load_settings
from nexa_desktop.store.db import Database
from nexa_desktop.ui.diagnostics import STATUS_COLORS, STATUS_TEXT, DiagnosticsDialog
from nexa_desktop.ui.ops import OpRunner
from tests.keyrings import MemoryKeyring


def _open(qtbot: QtBot, runner: OpRunner, *, quick: bool = True) -> DiagnosticsDialog:
    dialog = DiagnosticsDialog(runner, load_settings(), quick=quick)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _row(dialog: DiagnosticsDialog, name: str) -> int:
    return next(i for i, check in enumerate(dialog.model.rows) if check.name == name)


def _text(
    dialog: DiagnosticsDialog, row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole
) -> object:
    return dialog.model.data(dialog.model.index(row, column), role)


def test_runs_fills_the_table_and_saves(
    qtbot: QtBot,
    runner: OpRunner,
    sqlite_db: Database,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (paths.logs_dir() / "nexa.log").write_text("moved PM 35589054 to Scheduled\n", encoding="utf-8")
    dialog = _open(qtbot, runner)
    # (progress and the disabled Save while running: test_cancel_stops_the_run, where the run is held)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60000)

    model = dialog.model
    assert model.rowCount() == len(CHECK_NAMES)
    assert [model.row(i).name for i in range(model.rowCount())] == list(CHECK_NAMES)
    for i in range(model.rowCount()):
        assert _text(dialog, i, 0) in STATUS_TEXT.values()
        assert _text(dialog, i, 1)
        assert _text(dialog, i, 2)
        assert not dialog.model.data(model.index(i, 0), Qt.ItemDataRole.DecorationRole).isNull()
    backups = _row(dialog, "backups")
    assert _text(dialog, backups, 0) == "Warning"
    assert "nexa backup create" in str(_text(dialog, backups, 3))
    assert _text(dialog, backups, 0, Qt.ItemDataRole.ForegroundRole) == QColor(STATUS_COLORS["warn"])
    assert _text(dialog, _row(dialog, "database"), 0) == "OK"
    assert not dialog.progress.isVisible()
    assert "warning" in dialog.summary_label.text()
    # Every row is tall enough for its wrapped text.
    view = dialog.view
    for i in range(model.rowCount()):
        assert view.rowHeight(i) >= view.sizeHintForRow(i), i

    target = tmp_path / "support" / "nexa-diagnostics.zip"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Zip archives (*.zip)"))
    assert dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Saved to" in dialog.save_label.text(), timeout=30000)
    assert dialog.save_label.isVisible()
    with zipfile.ZipFile(target) as zf:
        names = set(zf.namelist())
        log = zf.read("logs/nexa.log").decode("utf-8")
    assert {"doctor.json", "doctor.txt", "settings.json", "versions.json"} <= names
    assert "35589054" not in log and "[PM]" in log


def test_a_broken_database_shows_red_with_the_fix(
    qtbot: QtBot, runner: OpRunner, data_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    paths.database_file().write_bytes(b"not a database " * 300)
    dialog = _open(qtbot, runner)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60000)

    row = _row(dialog, "database")
    assert _text(dialog, row, 0) == "Failed"
    assert "backup" in str(_text(dialog, row, 3))
    assert _text(dialog, row, 3, Qt.ItemDataRole.ForegroundRole) == QColor(STATUS_COLORS["fail"])
    assert "How to fix" in str(_text(dialog, row, 0, Qt.ItemDataRole.ToolTipRole))
    assert "failed" in dialog.summary_label.text()
    assert dialog.report is not None and not dialog.report.ok


@pytest.mark.slow
def test_cancel_stops_the_run(
    qtbot: QtBot,
    runner: OpRunner,
    sqlite_db: Database,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The full run (OCR and the embedding model load): cancelled right away, the rest is skipped.

    The first check waits at a gate, so the run is surely still going when Cancel is clicked (with
    the models already loaded by earlier tests, a full run can otherwise finish within a blink)."""
    from nexa_desktop.services import doctor

    first = doctor.CHECKS[0]

    def held(ctx: Any) -> Any:
        deadline = time.monotonic() + 20
        while not ctx.cancel() and time.monotonic() < deadline:
            time.sleep(0.02)
        return first.run(ctx)

    monkeypatch.setattr(doctor, "CHECKS", (dataclasses.replace(first, run=held), *doctor.CHECKS[1:]))
    dialog = _open(qtbot, runner, quick=False)
    qtbot.waitUntil(lambda: dialog.running, timeout=5000)
    assert dialog.progress.isVisible()
    assert not dialog.save_button.isEnabled()
    started = time.monotonic()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.summary_label.text() == "Cancelling…"
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=30000)

    report = dialog.report
    assert report is not None and report.cancelled
    assert time.monotonic() - started < 10
    skipped = [c for c in report.checks if c.status == "skip" and "cancelled" in c.detail]
    assert skipped
    assert report.checks[-1].name == "embedding" and report.checks[-1] in skipped
    assert "Cancelled" in dialog.summary_label.text()
    assert dialog.rerun_button.isEnabled()


def test_closing_while_running_ignores_late_results(
    qtbot: QtBot, runner: OpRunner, sqlite_db: Database, memory_keyring: MemoryKeyring
) -> None:
    """As the main window opens it: deleted on close, while the checks still run."""
    dialog = DiagnosticsDialog(runner, load_settings(), quick=True)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.running, timeout=5000)
    dialog.reject()
    qtbot.waitUntil(lambda: runner.running == 0, timeout=30000)
    qtbot.wait(50)  # late progress and results are delivered (and ignored) here
    assert dialog.report is None

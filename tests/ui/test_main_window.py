"""The main window, the app entry point and the error funnel, with real Qt and SQLite."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from nexa_desktop import errors, paths
from nexa_desktop.domain.board import BoardConfig
from nexa_desktop.domain.errors import StaleWrite
from nexa_desktop.services.board import BoardService
from nexa_desktop.settings import Settings, load_settings
from nexa_desktop.store.db import Database
from nexa_desktop.ui.main_window import MainWindow
from nexa_desktop.ui.ops import OpRunner


@pytest.fixture
def restore_hooks() -> Iterator[None]:
    saved = sys.excepthook, threading.excepthook
    yield
    sys.excepthook, threading.excepthook = saved
    logging.getLogger().handlers = [h for h in logging.getLogger().handlers
                                    if not isinstance(h, logging.FileHandler)]  # fmt: skip


def test_navigation_rail_and_menus(
    qtbot: QtBot, sqlite_db: Database, board_config: BoardConfig, runner: OpRunner
) -> None:
    window = MainWindow(BoardService(sqlite_db, board_config, "me"), runner, Settings())
    qtbot.addWidget(window)
    window.show()
    titles = [window.rail.item(i).text() for i in range(window.rail.count())]
    assert titles == ["Board", "Packages", "Models", "Schedule", "Analytics", "Admin", "Settings"]
    enabled = [
        bool(window.rail.item(i).flags() & Qt.ItemFlag.ItemIsEnabled) for i in range(window.rail.count())
    ]
    assert enabled == [True, True, True, False, False, False, True]
    assert window.pages.currentWidget() is window.board
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&Edit", "&View", "&Help"]
    assert "sqlite" in window.db_label.text()


def test_swimlane_choice_is_remembered(
    qtbot: QtBot, sqlite_db: Database, board_config: BoardConfig, runner: OpRunner
) -> None:
    window = MainWindow(BoardService(sqlite_db, board_config, "me"), runner, load_settings())
    qtbot.addWidget(window)
    window.board.swimlanes.setChecked(True)
    window.close()
    assert load_settings().swimlanes_by_gf is True


def test_background_errors_reach_the_user(
    qtbot: QtBot, sqlite_db: Database, board_config: BoardConfig, runner: OpRunner
) -> None:
    window = MainWindow(BoardService(sqlite_db, board_config, "me"), runner, Settings())
    qtbot.addWidget(window)

    def boom() -> None:
        raise RuntimeError("disk on fire")

    with qtbot.waitSignal(runner.failed, timeout=3000) as blocker:
        runner.read(boom)
    assert isinstance(blocker.args[0], RuntimeError)
    boxes = [
        w
        for w in QApplication.topLevelWidgets()
        if w.isVisible() and "disk on fire" in getattr(w, "text", lambda: "")()
    ]
    assert boxes, "a message box names the error"
    for box in boxes:
        box.close()


def test_error_funnel_logs_and_notifies(restore_hooks: None) -> None:
    errors.setup_logging()
    seen: list[tuple[str, str]] = []
    errors.install(lambda title, text: seen.append((title, text)))
    thread = threading.Thread(target=lambda: (_ for _ in ()).throw(StaleWrite("Card changed elsewhere.")),
                              name="worker-x")  # fmt: skip
    thread.start()
    thread.join()
    assert seen == [("NEXA Desktop", "Card changed elsewhere.")]
    try:
        raise ValueError("unexpected")
    except ValueError:
        sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    assert "ValueError: unexpected" in seen[1][1] and "nexa.log" in seen[1][1]
    for handler in logging.getLogger().handlers:
        handler.flush()
    log_text = (paths.logs_dir() / "nexa.log").read_text(encoding="utf-8")
    assert "worker-x" in log_text and "ValueError: unexpected" in log_text
    assert (paths.logs_dir() / "faults.log").exists()


def test_nexa_demo_then_nexa_app_shows_the_board(data_dir: Path) -> None:
    """The README's path, as a newcomer runs it: `nexa demo`, then `nexa` (here with --smoke)."""
    env = {**os.environ, "NEXA_DATA_DIR": str(data_dir), "QT_QPA_PLATFORM": "offscreen"}
    demo = subprocess.run([sys.executable, "-m", "nexa_desktop", "demo", "--jobs", "60"],
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    assert "Seeded 60 jobs" in demo.stdout
    again = subprocess.run([sys.executable, "-m", "nexa_desktop", "demo", "--if-empty"],
                           env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert again.returncode == 0 and "not added" in again.stdout
    app = subprocess.run([sys.executable, "-m", "nexa_desktop", "app", "--smoke"],
                         env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert app.returncode == 0, app.stderr
    assert "board loaded with 60 jobs" in app.stdout
    assert (data_dir / "logs" / "nexa.log").exists()


def test_bench_board_prints_figures(qtbot: QtBot) -> None:
    from typer.testing import CliRunner

    from nexa_desktop.cli import app

    result = CliRunner().invoke(app, ["bench", "board", "--jobs", "300", "--moves", "10", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["jobs"] == 300 and figures["moves"] == 10 and figures["move_failures"] == 0
    for key in ("load_ms", "move_p50_ms", "move_p95_ms", "filter_ms", "rss_mb"):
        assert figures[key] > 0


def test_models_page_thread_count_is_saved_and_used_by_the_engine(
    qtbot: QtBot, sqlite_db: Database, board_config: BoardConfig, runner: OpRunner
) -> None:
    window = MainWindow(BoardService(sqlite_db, board_config, "me"), runner, Settings())
    qtbot.addWidget(window)
    spin = window.models_page.threads
    assert spin.value() == 0 and spin.text().startswith("Recommended")
    assert window.engine.preferred_threads is None
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "3")
    assert window.engine.preferred_threads == 3 and load_settings().llm_threads == 3
    spin.setValue(0)
    assert window.engine.preferred_threads is None and load_settings().llm_threads == 0


def test_help_diagnostics_and_file_backups_open_their_windows(
    qtbot: QtBot, sqlite_db: Database, board_config: BoardConfig, runner: OpRunner
) -> None:
    from nexa_desktop.ui.backups import BackupsDialog
    from nexa_desktop.ui.diagnostics import DiagnosticsDialog

    window = MainWindow(BoardService(sqlite_db, board_config, "me"), runner, Settings())
    qtbot.addWidget(window)
    window.show()
    window.diagnostics_action.trigger()
    qtbot.waitUntil(lambda: window.findChild(DiagnosticsDialog) is not None)
    diagnostics = window.findChild(DiagnosticsDialog)
    assert diagnostics is not None and diagnostics.isVisible()
    diagnostics.cancel()
    diagnostics.close()
    # nothing of the checks may still run when the test ends (a model loading at exit can crash)
    qtbot.waitUntil(lambda: runner.running == 0, timeout=120_000)
    file_menu = window.menuBar().actions()[0].menu()
    backups = next(a for a in file_menu.actions() if a.text() == "&Backups…")
    backups.trigger()
    qtbot.waitUntil(lambda: window.findChild(BackupsDialog) is not None)
    dialog = window.findChild(BackupsDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.close()
    qtbot.waitUntil(lambda: runner.running == 0, timeout=60_000)

"""Start the window: logging, error funnel, database (migrated), qasync event loop."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from typing import TYPE_CHECKING

import psutil
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QMessageBox

from nexa_desktop import errors, paths
from nexa_desktop.domain.board import load_board_config
from nexa_desktop.domain.errors import NexaError
from nexa_desktop.services.backup import daily_backup_on_open
from nexa_desktop.services.board import BoardService
from nexa_desktop.settings import load_settings
from nexa_desktop.store.db import open_database

if TYPE_CHECKING:
    from nexa_desktop.services.licensing import LicenseService
    from nexa_desktop.ui.main_window import MainWindow
    from nexa_desktop.ui.ops import OpRunner

log = logging.getLogger(__name__)


class _Notifier(QObject):
    """Carries error messages from any thread to a message box on the GUI thread."""

    message = Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self.message.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def _show(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=QApplication.activeWindow())
        box.open()


def load_stylesheet() -> str:
    return paths.resource("style.qss").read_text(encoding="utf-8")


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("NEXA Desktop")
    app.setOrganizationName("NEXA")
    if sys.platform.startswith("linux") and app.font().pointSizeF() < 9:
        app.setFont(QFont(app.font().family(), 10))
    app.setStyleSheet(load_stylesheet())
    return app


async def keep_license_fresh(
    licenses: LicenseService, runner: OpRunner, window: MainWindow, stop: asyncio.Event
) -> None:
    """Renew the license (heartbeat) when due; being offline is fine until the license runs out."""
    from nexa_desktop.services.licensing import LicensingError

    while not stop.is_set():
        delay = await runner.run(licenses.refresh_due_in)
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
            return
        except TimeoutError:
            pass
        if (await runner.run(licenses.sync_credentials)) is None:
            continue  # not activated: nothing to renew
        try:
            state = await runner.run(licenses.refresh)
        except LicensingError as exc:
            log.info("license renewal postponed: %s", exc)
            state = await runner.run(licenses.status)
        if window.admin is not None:
            window.admin.show_state(state)


def main(smoke: bool = False) -> int:
    """Run the app; ``smoke`` quits once the board has loaded (used by tests and packaging)."""
    import qasync

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    errors.setup_logging()
    app = create_application()
    notifier = _Notifier()
    errors.install(lambda title, text: notifier.message.emit(title, text))
    settings = load_settings()
    try:
        db = open_database(settings.database_url or None)
        config = load_board_config(paths.board_config_file())
    except NexaError as exc:
        log.error("start-up failed: %s", exc)
        QMessageBox.critical(None, "NEXA Desktop can't start", str(exc))
        return 2

    from nexa_desktop.services.gate import write_gate
    from nexa_desktop.services.licensing import LicenseService
    from nexa_desktop.services.sync import OutboxSender
    from nexa_desktop.ui.main_window import MainWindow
    from nexa_desktop.ui.ops import OpRunner

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(errors.asyncio_handler(lambda t, m: notifier.message.emit(t, m)))
    runner = OpRunner()
    # Today's automatic backup (rotated, off the GUI thread; a failure is logged, never fatal).
    runner.read(daily_backup_on_open, settings.database_url or None)
    licenses = LicenseService()
    board = BoardService(db, config, actor=settings.user_name, write_gate=write_gate(licenses))
    window = MainWindow(board, runner, settings, licenses)
    window.show()
    if window.admin is not None:
        window.admin.refresh_status()
    # Usage sync runs on the event loop; with no activation (no credentials) it sends nothing.
    stop_sync = asyncio.Event()
    sender = OutboxSender(db, licenses.sync_credentials)
    sync_task = loop.create_task(sender.run_forever(stop_sync))
    renew_task = loop.create_task(keep_license_fresh(licenses, runner, window, stop_sync))
    if smoke:
        shown = time.time() - psutil.Process().create_time()
        print(f"NEXA Desktop smoke test: window shown {shown:.2f} s after process start", flush=True)

        def loaded() -> None:
            print(f"NEXA Desktop smoke test: board loaded with {len(window.board.model.jobs())} jobs")
            window.close()

        window.board.loaded.connect(loaded)
    window.board.reload()
    # The window closing ends the session, but the event loop keeps running until the background
    # tasks have stopped: they never run on a loop that Qt has already left.
    closed = asyncio.Event()
    app.setQuitOnLastWindowClosed(False)
    app.lastWindowClosed.connect(closed.set)

    async def until_closed() -> None:
        await closed.wait()
        stop_sync.set()
        tasks = (sync_task, renew_task)
        try:
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=5)
        except TimeoutError:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    try:
        with loop:
            loop.run_until_complete(until_closed())
    finally:
        runner.shutdown()
        db.dispose()
    return 0

"""The one error funnel: uncaught errors from any thread or the event loop are logged to a file
in the data dir and handed to one ``notify`` callback (the UI shows a message box)."""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import logging.handlers
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any

from nexa_desktop import paths
from nexa_desktop.domain.errors import NexaError

log = logging.getLogger("nexa")

Notify = Callable[[str, str], None]  # (title, message)

_fault_file: IO[str] | None = None


def setup_logging(level: int = logging.INFO) -> logging.Handler:
    """Rotating log file in ``<data dir>/logs/nexa.log``; returns the handler."""
    handler = logging.handlers.RotatingFileHandler(
        paths.logs_dir() / "nexa.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def user_message(exc: BaseException) -> str:
    """What to tell the user: our own errors speak for themselves, others get a short summary."""
    if isinstance(exc, NexaError):
        return str(exc)
    return (
        f"Something went wrong: {type(exc).__name__}: {exc}\n\n"
        f"Details were written to {paths.logs_dir() / 'nexa.log'}."
    )


def install(notify: Notify) -> None:
    """Route sys, threading and asyncio errors to the log and ``notify``; enable faulthandler."""
    global _fault_file

    def report(exc: BaseException, tb: TracebackType | None, where: str) -> None:
        if isinstance(exc, KeyboardInterrupt):
            return
        log.error("uncaught error in %s", where, exc_info=(type(exc), exc, tb))
        try:
            notify("NEXA Desktop", user_message(exc))
        except Exception:
            log.exception("error notifier failed")

    def sys_hook(tp: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        report(exc, tb, "main thread")

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            name = args.thread.name if args.thread else "thread"
            report(args.exc_value, args.exc_traceback, name)

    sys.excepthook = sys_hook
    threading.excepthook = thread_hook
    if _fault_file is None:
        _fault_file = open(paths.logs_dir() / "faults.log", "a", encoding="utf-8")  # noqa: SIM115
        faulthandler.enable(_fault_file)


def asyncio_handler(notify: Notify) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """An event-loop exception handler feeding the same funnel."""

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if exc is None:
            log.error("asyncio: %s", context.get("message"))
            return
        log.error("uncaught error in event loop", exc_info=exc)
        notify("NEXA Desktop", user_message(exc))

    return handler

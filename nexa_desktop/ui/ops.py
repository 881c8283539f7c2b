"""Run service calls off the GUI thread and get results and errors back on it.

``OpRunner.write`` sends database writes to the single writer thread; ``OpRunner.read`` and
``OpRunner.task`` use a small pool for reads and long work (with a :class:`TaskState` for
progress and cancel). Callbacks always run on the GUI thread, through a queued signal.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

from nexa_desktop.ops import DbWriter, TaskState

log = logging.getLogger(__name__)

T = TypeVar("T")
Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class OpRunner(QObject):
    #: Emitted (on the GUI thread) for errors that had no ``on_error`` callback.
    failed = Signal(object)
    #: Emitted when the number of running operations changes (busy indicator).
    busy_changed = Signal(int)
    _finished = Signal(object, object, object, object)  # on_done, on_error, result, error
    _progress = Signal(object, object)  # callback, TaskState

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._writer = DbWriter()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="nexa-worker")
        self._running = 0
        #: What each running operation holds (its function, arguments and callbacks), by key. The
        #: GUI thread drops these references when the result is delivered: a worker thread must
        #: never release the last reference to a widget (PySide would destroy it off the GUI thread).
        self._held: dict[int, tuple[Callable[..., Any], tuple[Any, ...], Done | None, Failed | None]] = {}
        self._keys = itertools.count()
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._progress.connect(self._deliver_progress, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> int:
        return self._running

    def write(
        self, fn: Callable[..., T], *args: Any, on_done: Done | None = None, on_error: Failed | None = None
    ) -> Future[T]:
        """Run ``fn(*args)`` on the database writer thread."""
        return self._submit(self._writer, fn, args, on_done, on_error)

    def read(
        self, fn: Callable[..., T], *args: Any, on_done: Done | None = None, on_error: Failed | None = None
    ) -> Future[T]:
        """Run ``fn(*args)`` on the worker pool (reads, parsing)."""
        return self._submit(self._pool, fn, args, on_done, on_error)

    def task(
        self,
        fn: Callable[..., T],
        *args: Any,
        on_progress: Callable[[TaskState], None] | None = None,
        on_done: Done | None = None,
        on_error: Failed | None = None,
        write: bool = False,
    ) -> TaskState:
        """Run ``fn(state, *args)`` on the pool (on the writer when ``write``); ``state`` reports
        progress and carries cancel."""
        state = TaskState(on_change=(lambda s: self._progress.emit(on_progress, s)) if on_progress else None)
        executor = self._writer if write else self._pool
        self._submit(executor, fn, (state, *args), on_done, on_error)
        return state

    async def run(self, fn: Callable[..., T], *args: Any, write: bool = False) -> T:
        """Await ``fn(*args)`` from a coroutine on the qasync loop."""
        future = self._writer.submit(fn, *args) if write else self._pool.submit(fn, *args)
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        self._writer.shutdown(wait=True)
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- internals ----------------------------------------------------------------------------

    def _submit(
        self,
        executor: Any,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        on_done: Done | None,
        on_error: Failed | None,
    ) -> Future[T]:
        key = next(self._keys)
        self._held[key] = (fn, args, on_done, on_error)
        held = self._held

        def call() -> T:
            function, arguments, _done, _failed = held[key]
            return function(*arguments)  # type: ignore[no-any-return]

        self._running += 1
        self.busy_changed.emit(self._running)

        def finished(f: Future[T]) -> None:
            error = f.exception() if not f.cancelled() else None
            result = None if error is not None or f.cancelled() else f.result()
            self._finished.emit(key, None, result, error)

        future: Future[T] = executor.submit(call)
        future.add_done_callback(finished)
        return future

    def _deliver(self, key: int, _unused: Any, result: Any, error: Any) -> None:
        _fn, _args, on_done, on_error = self._held.pop(key)
        self._running -= 1
        self.busy_changed.emit(self._running)
        if error is not None:
            if on_error is not None:
                on_error(error)
            else:
                log.error("background operation failed", exc_info=error)
                self.failed.emit(error)
        elif on_done is not None:
            on_done(result)

    def _deliver_progress(self, callback: Callable[[TaskState], None], state: TaskState) -> None:
        callback(state)

"""Cooperative cancel and progress for long work (in the spirit of Orange3's task state)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Cancelled(Exception):
    """Raised inside a task when the user pressed Cancel."""


class TaskState:
    """Shared between the worker (writes progress, checks cancel) and the UI (reads, cancels)."""

    def __init__(self, on_change: Callable[[TaskState], None] | None = None) -> None:
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self.progress = 0.0
        self.status = ""
        self.partial: list[Any] = []
        self._on_change = on_change

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def set_progress(self, fraction: float, status: str | None = None) -> None:
        with self._lock:
            self.progress = max(0.0, min(1.0, fraction))
            if status is not None:
                self.status = status
        if self._on_change:
            self._on_change(self)

    def add_partial(self, item: Any) -> None:
        with self._lock:
            self.partial.append(item)
        if self._on_change:
            self._on_change(self)

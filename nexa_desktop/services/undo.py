"""Undo/redo bookkeeping for board changes, in one place and free of Qt.

The stack only records; the caller runs the returned :class:`Revert` through
``BoardService.revert`` (on the writer) and reports the outcome back with ``done``.
A revert is refused by the service if someone else changed the job since.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from nexa_desktop.services.board import ChangeResult


@dataclass(frozen=True, slots=True)
class _Entry:
    job_id: int
    title: str
    label: str
    before: dict[str, Any]
    after: dict[str, Any]
    version: int  # the job's version right after this change (or its redo)


@dataclass(frozen=True, slots=True)
class Revert:
    """A pending undo or redo: call ``service.revert(job_id, expected_version, values, label)``."""

    kind: Literal["undo", "redo"]
    job_id: int
    expected_version: int
    values: dict[str, Any]
    label: str
    entry: _Entry


class UndoStack:
    def __init__(self, limit: int = 200) -> None:
        self._undo: list[_Entry] = []
        self._redo: list[_Entry] = []
        self._limit = limit

    def record(self, result: ChangeResult) -> None:
        """A new user change: it can be undone, and the redo history is gone."""
        if not result.before and not result.after:
            return
        self._undo.append(
            _Entry(
                result.job.id, result.job.title, result.label, result.before, result.after, result.job.version
            )
        )
        del self._undo[: -self._limit]
        self._redo.clear()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_text(self) -> str:
        return f"Undo {self._undo[-1].label} ({self._undo[-1].title})" if self._undo else "Undo"

    def redo_text(self) -> str:
        return f"Redo {self._redo[-1].label} ({self._redo[-1].title})" if self._redo else "Redo"

    def take_undo(self) -> Revert | None:
        if not self._undo:
            return None
        e = self._undo.pop()
        return Revert("undo", e.job_id, e.version, e.before, f"Undo {e.label}", e)

    def take_redo(self) -> Revert | None:
        if not self._redo:
            return None
        e = self._redo.pop()
        return Revert("redo", e.job_id, e.version, e.after, f"Redo {e.label}", e)

    def done(self, revert: Revert, result: ChangeResult | None) -> None:
        """Report the outcome; a refused revert (``None``) is dropped from the history."""
        if result is None:
            return
        moved = _Entry(**{**_asdict(revert.entry), "version": result.job.version})
        (self._redo if revert.kind == "undo" else self._undo).append(moved)


def _asdict(entry: _Entry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in entry.__slots__}  # type: ignore[attr-defined]

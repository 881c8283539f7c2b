"""Watch folder: notice job packages dropped into a folder once they have finished copying.

A package is a sub-folder holding at least one PDF (anywhere below it), or a PDF directly in the
watched folder. Pure polling, so it works the same on local disks, network shares and every OS;
the caller decides how often to call :meth:`FolderWatcher.poll` (no threads here).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: ``(path relative to the package, size, mtime in ns)`` of every file: any change restarts settling.
Signature = frozenset[tuple[str, int, int]]

#: Names that mean "a copy or download is still running" (browsers, Explorer, rsync, Office).
_IN_PROGRESS_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".tmp", ".!qb", ".opdownload")
_IN_PROGRESS_PREFIXES = ("~$", ".~")


def _in_progress(name: str) -> bool:
    low = name.lower()
    return (
        low.endswith(_IN_PROGRESS_SUFFIXES)
        or low.startswith(_IN_PROGRESS_PREFIXES)
        or (
            low.startswith(".") and low.endswith(".pdf")  # rsync's hidden temp copies
        )
    )


def _is_pdf(name: str) -> bool:
    return name.lower().endswith(".pdf") and not name.startswith(".")


@dataclass(slots=True)
class _Candidate:
    signature: Signature
    unchanged_since: float
    reported: Signature | None = None


class FolderWatcher:
    """Report each new (or changed) package once none of its files changed for ``settle_seconds``."""

    def __init__(
        self,
        root: Path,
        *,
        settle_seconds: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        ignore_existing: bool = False,
    ) -> None:
        self.root = root
        self.settle_seconds = settle_seconds
        self._clock = clock
        self._candidates: dict[Path, _Candidate] = {}
        self._ignore_existing = ignore_existing
        self._first_poll = True
        #: Why the last poll could not look at the folder (missing, unreachable share), else None.
        self.error: str | None = None

    def poll(self) -> list[Path]:
        """Packages that became ready since the last poll, in name order."""
        now = self._clock()
        try:
            found = self._scan()
        except OSError as exc:
            self.error = f"Can't read the watch folder {self.root}: {exc.strerror or exc}"
            return []
        self.error = None
        first, self._first_poll = self._first_poll, False
        for gone in set(self._candidates) - set(found):
            del self._candidates[gone]

        ready: list[Path] = []
        for path in sorted(found):
            signature, busy = found[path]
            state = self._candidates.get(path)
            if state is None:
                state = _Candidate(signature, now)
                if first and self._ignore_existing and not busy:
                    state.reported = signature
                self._candidates[path] = state
            elif state.signature != signature:
                state.signature, state.unchanged_since = signature, now
            if busy or state.reported == signature:
                continue
            if now - state.unchanged_since >= self.settle_seconds and self._readable(path, signature):
                state.reported = signature
                ready.append(path)
        return ready

    def forget(self, package: Path) -> None:
        """Report ``package`` again once it is settled (e.g. the user asked to re-check it)."""
        state = self._candidates.get(package)
        if state is not None:
            state.reported = None

    # -- scanning ---------------------------------------------------------------------------------

    def _scan(self) -> dict[Path, tuple[Signature, bool]]:
        """Every package under the root: its signature and whether a copy is visibly in progress."""
        found: dict[Path, tuple[Signature, bool]] = {}
        with os.scandir(self.root) as entries:
            for entry in entries:
                try:
                    if entry.is_dir():
                        scanned = self._scan_folder(Path(entry.path))
                        if scanned is not None:
                            found[Path(entry.path)] = scanned
                    elif entry.is_file() and _is_pdf(entry.name):
                        info = entry.stat()
                        found[Path(entry.path)] = (frozenset({("", info.st_size, info.st_mtime_ns)}), False)
                except OSError:
                    continue  # vanished or unreadable between listing and stat: try again next poll
        return found

    @staticmethod
    def _scan_folder(folder: Path) -> tuple[Signature, bool] | None:
        files: set[tuple[str, int, int]] = set()
        has_pdf = busy = False
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for name in filenames:
                full = Path(dirpath) / name
                try:
                    info = full.stat()
                except OSError:
                    busy = True  # listed but not stat-able: being written or moved right now
                    continue
                files.add((full.relative_to(folder).as_posix(), info.st_size, info.st_mtime_ns))
                has_pdf = has_pdf or _is_pdf(name)
                busy = busy or _in_progress(name)
        if not has_pdf:
            return None
        return frozenset(files), busy

    def _readable(self, package: Path, signature: Signature) -> bool:
        """Every PDF can be opened for reading (Windows locks a file while it is being copied)."""
        targets = [package] if package.is_file() else [package / rel for rel, _, _ in signature]
        for target in targets:
            if not _is_pdf(target.name):
                continue
            try:
                with target.open("rb"):
                    pass
            except OSError:
                return False
        return True

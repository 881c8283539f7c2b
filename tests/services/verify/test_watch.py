"""Watch folder: real files on disk, a fake clock; packages come out once, after they settle."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from nexa_desktop.services.verify.watch import FolderWatcher
from nexa_desktop.settings import Settings, load_settings, save_settings

PDF = b"%PDF-1.4\n% fake but PDF-named\n%%EOF\n"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def _write(path: Path, data: bytes = PDF) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _grow(path: Path, data: bytes) -> None:
    """Append to a file as a slow copy would (the mtime moves on too)."""
    with path.open("ab") as handle:
        handle.write(data)
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


def test_a_package_folder_is_reported_once_after_it_settles(inbox: Path, clock: FakeClock) -> None:
    watcher = FolderWatcher(inbox, settle_seconds=3.0, clock=clock)
    assert watcher.poll() == []
    _write(inbox / "Job 46208684" / "part1.pdf")
    _write(inbox / "Job 46208684" / "notes.txt", b"call the GF")
    assert watcher.poll() == []  # just appeared
    clock.advance(2.9)
    assert watcher.poll() == []
    clock.advance(0.2)
    assert watcher.poll() == [inbox / "Job 46208684"]
    clock.advance(60)
    assert watcher.poll() == []
    assert watcher.error is None


def test_a_file_still_being_copied_is_not_reported(inbox: Path, clock: FakeClock) -> None:
    watcher = FolderWatcher(inbox, settle_seconds=3.0, clock=clock)
    big = _write(inbox / "pkg" / "combined.pdf", PDF[:10])
    watcher.poll()
    for _ in range(5):  # a slow network copy: the size keeps changing
        clock.advance(2.0)
        _grow(big, b"x" * 4096)
        assert watcher.poll() == []
    clock.advance(2.0)
    assert watcher.poll() == []  # unchanged for 2 s only
    clock.advance(1.0)
    assert watcher.poll() == [inbox / "pkg"]


def test_a_new_file_in_a_waiting_folder_restarts_settling(inbox: Path, clock: FakeClock) -> None:
    watcher = FolderWatcher(inbox, settle_seconds=3.0, clock=clock)
    _write(inbox / "pkg" / "01.pdf")
    watcher.poll()
    clock.advance(2.0)
    _write(inbox / "pkg" / "02.pdf")
    assert watcher.poll() == []
    clock.advance(2.0)
    assert watcher.poll() == []
    clock.advance(1.5)
    assert watcher.poll() == [inbox / "pkg"]


def test_pdfs_directly_in_the_folder_are_packages_and_other_files_are_not(
    inbox: Path, clock: FakeClock
) -> None:
    watcher = FolderWatcher(inbox, settle_seconds=1.0, clock=clock)
    _write(inbox / "B single.PDF")
    _write(inbox / "A single.pdf")
    _write(inbox / "readme.txt", b"not a package")
    _write(inbox / "photos only" / "pole.jpg", b"\xff\xd8")
    _write(inbox / "nested" / "deeper" / "sketch.pdf")
    watcher.poll()
    clock.advance(1.0)
    assert watcher.poll() == [inbox / "A single.pdf", inbox / "B single.PDF", inbox / "nested"]


def test_partial_downloads_hold_the_package_back(inbox: Path, clock: FakeClock) -> None:
    watcher = FolderWatcher(inbox, settle_seconds=1.0, clock=clock)
    _write(inbox / "pkg" / "01.pdf")
    partial = _write(inbox / "pkg" / "02.pdf.crdownload", b"%PDF-1.4 half")
    _write(inbox / "loose.pdf.part", b"%PDF")
    watcher.poll()
    clock.advance(5.0)
    assert watcher.poll() == []
    partial.rename(inbox / "pkg" / "02.pdf")
    assert watcher.poll() == []
    clock.advance(1.0)
    assert watcher.poll() == [inbox / "pkg"]


def test_a_file_locked_by_the_copying_program_holds_the_package_back(
    inbox: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows Explorer keeps a file locked (opening it fails) until the copy has finished."""
    watcher = FolderWatcher(inbox, settle_seconds=1.0, clock=clock)
    locked = _write(inbox / "pkg" / "01.pdf")
    real_open = Path.open

    def open_unless_locked(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == locked:
            raise PermissionError(13, "The process cannot access the file", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_unless_locked)
    watcher.poll()
    clock.advance(5.0)
    assert watcher.poll() == []
    monkeypatch.setattr(Path, "open", real_open)
    assert watcher.poll() == [inbox / "pkg"]


def test_a_file_that_cannot_be_looked_at_holds_the_package_back(inbox: Path, clock: FakeClock) -> None:
    watcher = FolderWatcher(inbox, settle_seconds=0.0, clock=clock)
    _write(inbox / "pkg" / "01.pdf")
    dangling = inbox / "pkg" / "02.pdf"
    try:
        dangling.symlink_to(inbox / "pkg" / "not-yet-there.pdf")
    except OSError as exc:  # Windows without the symlink privilege
        pytest.skip(f"cannot create a symlink here: {exc}")
    assert watcher.poll() == []
    dangling.unlink()
    assert watcher.poll() == [inbox / "pkg"]


def test_a_changed_package_is_reported_again(inbox: Path, clock: FakeClock) -> None:
    watcher = FolderWatcher(inbox, settle_seconds=1.0, clock=clock)
    _write(inbox / "pkg" / "01.pdf")
    watcher.poll()
    clock.advance(1.0)
    assert watcher.poll() == [inbox / "pkg"]
    clock.advance(10.0)
    _write(inbox / "pkg" / "02 forgotten sketch.pdf")
    assert watcher.poll() == []
    clock.advance(1.0)
    assert watcher.poll() == [inbox / "pkg"]
    assert watcher.poll() == []


def test_a_removed_package_dropped_again_is_reported_again(inbox: Path, clock: FakeClock) -> None:
    watcher = FolderWatcher(inbox, settle_seconds=1.0, clock=clock)
    single = _write(inbox / "job.pdf")
    watcher.poll()
    clock.advance(1.0)
    assert watcher.poll() == [single]
    single.unlink()
    assert watcher.poll() == []
    _write(single)
    clock.advance(1.0)
    assert watcher.poll() == []
    clock.advance(1.0)
    assert watcher.poll() == [single]


def test_forget_reports_a_settled_package_again(inbox: Path, clock: FakeClock) -> None:
    watcher = FolderWatcher(inbox, settle_seconds=0.0, clock=clock)
    _write(inbox / "job.pdf")
    assert watcher.poll() == [inbox / "job.pdf"]
    assert watcher.poll() == []
    watcher.forget(inbox / "job.pdf")
    assert watcher.poll() == [inbox / "job.pdf"]


def test_ignore_existing_skips_what_was_there_at_start(inbox: Path, clock: FakeClock) -> None:
    _write(inbox / "old" / "a.pdf")
    watcher = FolderWatcher(inbox, settle_seconds=1.0, clock=clock, ignore_existing=True)
    assert watcher.poll() == []
    _write(inbox / "new" / "a.pdf")
    watcher.poll()
    clock.advance(1.0)
    assert watcher.poll() == [inbox / "new"]


def test_a_missing_folder_is_reported_not_raised(tmp_path: Path, clock: FakeClock) -> None:
    root = tmp_path / "share"
    watcher = FolderWatcher(root, settle_seconds=0.0, clock=clock)
    assert watcher.poll() == []
    assert watcher.error is not None and "share" in watcher.error
    _write(root / "job.pdf")
    assert watcher.poll() == [root / "job.pdf"]
    assert watcher.error is None


def test_watch_folder_setting_round_trips(data_dir: Path, tmp_path: Path) -> None:
    assert load_settings().watch_folder == ""
    save_settings(Settings(watch_folder=str(tmp_path / "inbox"), user_name="Pat"))
    assert load_settings().watch_folder == str(tmp_path / "inbox")

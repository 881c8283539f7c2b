"""File naming: conventions, the sanitiser (property-tested), rename/undo, and never overwriting."""

from __future__ import annotations

import datetime as dt
import os
import re
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexa_desktop.domain.jobs import Job, JobStatus
from nexa_desktop.services.complete.naming import (
    MAX_NAME_LENGTH,
    RenameBatch,
    RenameProposal,
    UndoRefused,
    apply_renames,
    move_no_overwrite,
    name_for,
    propose_names,
    sanitise,
    undo,
)

TODAY = dt.date(2025, 2, 10)
RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}


def make_job(**overrides: Any) -> Job:
    data: dict[str, Any] = {
        "id": 7,
        "pm_number": "35589054",
        "notification_number": "119080350",
        "status": JobStatus.IN_PROGRESS,
        "version": 1,
    }
    data.update(overrides)
    return Job(**data)


# -- conventions (domain.md §4.3) -------------------------------------------------------------


def test_conventions() -> None:
    job = make_job()
    assert name_for("asbuilt", job, TODAY) == "35589054_ASBUILT_20250210.pdf"
    assert name_for("ec_tag", job, TODAY) == "119080350_ECTAG.pdf"
    assert name_for("ccsc", job, TODAY, location=2) == "35589054_CCSC_2.pdf"
    assert name_for("construction_sketch", job, TODAY) == "35589054_SKETCH_R0.pdf"
    assert name_for("photos", job, TODAY, extension=".jpg", sequence=7) == "35589054_PHOTO_007.jpg"
    assert name_for("cwc", job, TODAY) == "35589054_CWC.pdf"
    assert name_for("lme", job, TODAY) == "35589054_LME_20250210.pdf"
    assert name_for("permit", job, TODAY) == "35589054_PERMIT_20250210.pdf"  # fallback pattern
    # EC-only jobs: no PM, so the notification (or WO) stands in; an EC tag with no notification.
    ec_only = make_job(pm_number=None)
    assert name_for("ccsc", ec_only, TODAY) == "119080350_CCSC_1.pdf"
    assert name_for("ec_tag", make_job(notification_number=None), TODAY) == "35589054_ECTAG_20250210.pdf"
    assert (
        name_for("lme", make_job(pm_number=None, wo_number="WO 55/12"), TODAY) == "WO_55_12_LME_20250210.pdf"
    )


def test_proposals_number_locations_and_photos_and_never_clash(tmp_path: Path) -> None:
    files = [
        (tmp_path / "scan 001.PDF", "ec_tag"),
        (tmp_path / "b.pdf", "ccsc"),
        (tmp_path / "c.pdf", "ccsc"),
        (tmp_path / "IMG_1.JPG", "photos"),
        (tmp_path / "IMG_2.jpeg", "photos"),
        (tmp_path / "sketch.pdf", "construction_sketch"),
        (tmp_path / "sketch2.pdf", "construction_sketch"),
        (tmp_path / "readme.txt", "other"),
    ]
    proposals = propose_names(files, make_job(), TODAY)
    assert [p.new_name for p in proposals] == [
        "119080350_ECTAG.pdf",
        "35589054_CCSC_1.pdf",
        "35589054_CCSC_2.pdf",
        "35589054_PHOTO_001.jpg",
        "35589054_PHOTO_002.jpeg",
        "35589054_SKETCH_R0.pdf",
        "35589054_SKETCH_R0_2.pdf",
        "readme.txt",
    ]
    assert not proposals[-1].changes
    assert all(p.target.parent == tmp_path for p in proposals)


# -- the sanitiser ----------------------------------------------------------------------------

SAFE = re.compile(r"^[A-Za-z0-9_-]+(\.[a-z0-9]{1,10})?$")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("35589054_ASBUILT_20250210.pdf", "35589054_ASBUILT_20250210.pdf"),
        ("../../etc/passwd", "etc_passwd"),
        ("..\\..\\Windows\\system32\\x.dll", "Windows_system32_x.dll"),
        ("CON", "CON_file"),
        ("con.txt", "con_file.txt"),
        ("LPT9.PDF", "LPT9_file.pdf"),
        ("COM¹", "COM1_file"),  # NFKD turns the superscript into a plain 1
        ("name. . .", "name"),
        ("  spaced  out  .pdf", "spaced_out.pdf"),
        ("tab\there\x00nul\x1f.pdf", "tab_here_nul.pdf"),
        ("", "unnamed"),
        ("..", "unnamed"),
        (".pdf", "pdf"),
        ("Über Straße #4.pdf", "Uber_Strasse_4.pdf"),
        ("a___b--_c", "a_b--_c"),
    ],
)
def test_sanitise_examples(raw: str, expected: str) -> None:
    assert sanitise(raw) == expected


def test_sanitise_caps_tokens_and_length() -> None:
    assert sanitise("x" * 80 + "_y.pdf") == "x" * 50 + "_y.pdf"
    long = sanitise("_".join(["abcdefghij"] * 40) + ".pdf")
    assert len(long) <= MAX_NAME_LENGTH and long.endswith(".pdf")


def _check_safe(name: str, max_length: int = MAX_NAME_LENGTH) -> None:
    assert SAFE.match(name), name
    assert 1 <= len(name) <= max_length
    assert name not in (".", "..") and "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.endswith((".", " "))
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
    assert name.split(".")[0].upper() not in RESERVED
    folder = Path(tempfile.gettempdir()).resolve() / "nexa-naming-check"
    assert (folder / name).resolve().parent == folder
    assert os.path.basename(os.path.join(str(folder), name)) == name


@settings(max_examples=400, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_sanitise_is_always_one_safe_component_inside_the_folder(raw: str) -> None:
    name = sanitise(raw)
    _check_safe(name)
    assert sanitise(name) == name  # idempotent


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*sorted(RESERVED), "..", ".", "/", "\\", " ", ".pdf", "con", "Lpt1", "\x00", "_", "-"]
        )
        | st.text(alphabet=string.printable, max_size=5),
        max_size=8,
    ).map("".join),
    st.integers(min_value=8, max_value=200),
)
def test_sanitise_never_yields_a_reserved_name_or_escapes(raw: str, max_length: int) -> None:
    name = sanitise(raw, max_length=max_length)
    _check_safe(name, max_length)


# -- rename and undo --------------------------------------------------------------------------


def _package(folder: Path) -> list[tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"scan1.pdf": "ec_tag", "scan2.pdf": "ccsc", "IMG_0001.JPG": "photos", "all.pdf": "asbuilt"}
    for index, name in enumerate(files):
        (folder / name).write_bytes(f"content {index}".encode())
    return [(folder / name, doc) for name, doc in files.items()]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_rename_and_undo_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    files = _package(folder)
    before = _snapshot(folder)
    batch = apply_renames(propose_names(files, make_job(), TODAY))
    assert batch.skipped == ()
    after = _snapshot(folder)
    assert set(after) == {
        "119080350_ECTAG.pdf",
        "35589054_CCSC_1.pdf",
        "35589054_PHOTO_001.jpg",
        "35589054_ASBUILT_20250210.pdf",
    }
    assert sorted(after.values()) == sorted(before.values())  # contents untouched
    assert after["119080350_ECTAG.pdf"] == before["scan1.pdf"]
    assert batch.summary == "Renamed 4 files."

    # The batch survives a restart (saved as JSON by the caller).
    restored = undo(RenameBatch.from_json(batch.to_json()))
    assert sorted(p.name for p in restored) == sorted(before)
    assert _snapshot(folder) == before


def test_collision_never_overwrites(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    files = _package(folder)
    (folder / "119080350_ECTAG.pdf").write_bytes(b"someone else's tag")
    batch = apply_renames(propose_names(files, make_job(), TODAY))
    assert (folder / "119080350_ECTAG.pdf").read_bytes() == b"someone else's tag"
    assert (folder / "119080350_ECTAG_2.pdf").read_bytes() == b"content 0"
    assert len(batch.renamed) == 4

    undo(batch)
    assert (folder / "119080350_ECTAG.pdf").read_bytes() == b"someone else's tag"
    assert (folder / "scan1.pdf").read_bytes() == b"content 0"


def test_collision_can_be_refused(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    files = _package(folder)
    (folder / "119080350_ECTAG.pdf").write_bytes(b"taken")
    batch = apply_renames(propose_names(files, make_job(), TODAY), on_collision="refuse")
    [(source, reason)] = batch.skipped
    assert source == folder / "scan1.pdf" and "already exists" in reason
    assert (folder / "scan1.pdf").read_bytes() == b"content 0"
    assert (folder / "119080350_ECTAG.pdf").read_bytes() == b"taken"


def test_unsafe_or_missing_sources_are_skipped_and_nothing_leaves_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(b"a")
    (folder / "b.pdf").write_bytes(b"b")
    os.symlink(folder / "b.pdf", folder / "link.pdf")
    proposals = [
        RenameProposal(folder / "a.pdf", "../escaped.pdf", "other", "typed"),
        RenameProposal(folder / "gone.pdf", "x.pdf", "other", "typed"),
        RenameProposal(folder / "link.pdf", "y.pdf", "other", "typed"),
    ]
    batch = apply_renames(proposals)
    assert batch.renamed == ()
    reasons = [why for _, why in batch.skipped]
    assert "not a safe file name" in reasons[0] and "'escaped.pdf'" in reasons[0]
    assert "no longer" in reasons[1]
    assert "not a regular file" in reasons[2]
    assert sorted(p.name for p in folder.iterdir()) == ["a.pdf", "b.pdf", "link.pdf"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "nexa-data") == ["pkg"]


def test_undo_refuses_when_a_file_changed(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    batch = apply_renames(propose_names(_package(folder), make_job(), TODAY))
    changed = folder / "35589054_CCSC_1.pdf"
    changed.write_bytes(b"edited after the rename")
    with pytest.raises(UndoRefused, match=r"35589054_CCSC_1\.pdf was changed") as info:
        undo(batch)
    assert len(info.value.reasons) == 1
    # Nothing was undone.
    assert (folder / "119080350_ECTAG.pdf").exists() and not (folder / "scan1.pdf").exists()


def test_undo_refuses_when_a_file_moved_or_its_old_name_is_taken(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    batch = apply_renames(propose_names(_package(folder), make_job(), TODAY))
    (folder / "35589054_PHOTO_001.jpg").rename(tmp_path / "moved.jpg")
    (folder / "scan1.pdf").write_bytes(b"a new file with the old name")
    with pytest.raises(UndoRefused) as info:
        undo(batch)
    text = str(info.value)
    assert "35589054_PHOTO_001.jpg is no longer" in text
    assert "scan1.pdf now belongs to another file" in text
    assert (folder / "scan1.pdf").read_bytes() == b"a new file with the old name"


def test_undo_refuses_a_replaced_file(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    batch = apply_renames(propose_names(_package(folder), make_job(), TODAY))
    target = folder / "35589054_ASBUILT_20250210.pdf"
    stat = target.stat()
    replacement = folder / "new.tmp"
    replacement.write_bytes(target.read_bytes())
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, target)  # same size and time, different file
    with pytest.raises(UndoRefused, match="replaced by another file"):
        undo(batch)


def test_move_no_overwrite(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    a.write_bytes(b"a")
    b.write_bytes(b"b")
    with pytest.raises(FileExistsError):
        move_no_overwrite(a, b)
    assert a.read_bytes() == b"a" and b.read_bytes() == b"b"
    move_no_overwrite(a, tmp_path / "c.pdf")
    assert not a.exists() and (tmp_path / "c.pdf").read_bytes() == b"a"
    move_no_overwrite(tmp_path / "c.pdf", tmp_path / "C.PDF")  # a case-only change is allowed
    assert (tmp_path / "C.PDF").read_bytes() == b"a"


def test_a_rename_that_fails_half_way_keeps_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.name == "nt":
        pytest.skip("Windows renames in one step")
    folder = tmp_path / "pkg"
    files = _package(folder)
    real_unlink = os.unlink

    def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        if Path(path) == folder / "scan1.pdf":
            raise PermissionError(13, "Permission denied", str(path))
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    batch = apply_renames(propose_names(files[:1], make_job(), TODAY))
    monkeypatch.undo()
    [(_source, reason)] = batch.skipped
    assert "Permission denied" in reason
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p, _ in files)

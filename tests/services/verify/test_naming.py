"""Naming a verified package's files: real corpus packages (tmp copies), the real verifier."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.jobs import Job, JobStatus
from nexa_desktop.domain.verify import Document, PageLabel, Report
from nexa_desktop.services.complete.naming import RenameProposal, apply_renames
from nexa_desktop.services.verify.naming import (
    NoPackageNumber,
    package_doc_types,
    propose_package_names,
)
from nexa_desktop.services.verify.pipeline import Verifier

PACKAGES = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "packages"
TODAY = dt.date(2024, 5, 17)


@pytest.fixture(scope="module")
def verifier() -> Iterator[Verifier]:
    with Verifier() as v:
        yield v


def copy_package(name: str, tmp_path: Path) -> Path:
    """A private copy of a corpus package (the corpus itself is never renamed)."""
    return Path(shutil.copytree(PACKAGES / name, tmp_path / name))


def names(proposals: list[RenameProposal]) -> dict[str, str]:
    return {p.source.name: p.new_name for p in proposals}


def test_one_file_per_document_gets_the_conventional_names(verifier: Verifier, tmp_path: Path) -> None:
    package = copy_package("pkg-003", tmp_path)
    report = verifier.verify(package)
    assert (report.pm_number, report.notification_number) == ("43457425", "131337916")
    proposals = propose_package_names(report, TODAY)
    assert [p.source for p in proposals] == sorted(package.glob("*.pdf")), "one per PDF, reading order"
    proposed = names(proposals)
    assert proposed["02_ECTAG.pdf"] == "131337916_ECTAG.pdf"
    assert proposed["16_CCSC_1.pdf"] == "43457425_CCSC_1.pdf"
    assert proposed["13_CWC.pdf"] == "43457425_CWC.pdf"
    assert proposed["14_TAILBOARD.pdf"] == "43457425_TAILBOARD_20240517.pdf"
    assert proposed["08_SKETCH_R0.pdf"] == "43457425_SKETCH_R0.pdf"
    assert proposed["17_PHOTOS.pdf"] == "43457425_PHOTO_001.pdf"
    misc = next(p for p in proposals if p.source.name == "01_MISC.pdf")
    assert misc.doc_type == "other" and not misc.changes, "a page we cannot type keeps its name"
    assert all(p.target.parent == package for p in proposals), "names stay in the package folder"
    assert len({p.new_name.lower() for p in proposals}) == len(proposals), "no two files get one name"

    # renamed, the package reads the same and proposing again changes nothing
    batch = apply_renames(proposals)
    assert len(batch.renamed) == 16 and not batch.skipped
    again = verifier.verify(package)
    renamed = {r.original.name: r.renamed.name for r in batch.renamed}
    before = {(renamed.get(d.file, d.file), d.doc_type) for d in report.documents}
    assert {(d.file, d.doc_type) for d in again.documents} == before, "each file holds what it held"
    assert not any(p.changes for p in propose_package_names(again, TODAY))


def test_files_with_several_documents_keep_their_names(verifier: Verifier, tmp_path: Path) -> None:
    package = copy_package("pkg-031", tmp_path)  # three PDFs, each with several documents
    report = verifier.verify(package)
    assert len({d.doc_type for d in report.documents if d.file == "part1.pdf"}) > 1
    proposals = propose_package_names(report, TODAY)
    assert [p.source.name for p in proposals] == ["part1.pdf", "part2.pdf", "part3.pdf"]
    assert all(p.doc_type == "other" and not p.changes for p in proposals)


def test_a_single_pdf_package_is_named_as_built(verifier: Verifier, tmp_path: Path) -> None:
    single = Path(shutil.copy(PACKAGES / "pkg-016" / "package.pdf", tmp_path / "scan 2024.pdf"))
    report = verifier.verify(single)
    assert Path(report.root).is_file()
    [proposal] = propose_package_names(report, TODAY)
    assert proposal.source == single and proposal.doc_type == "asbuilt"
    assert proposal.new_name == "39381444_ASBUILT_20240517.pdf"

    # a folder holding one combined PDF: that PDF is the whole package too
    folder = copy_package("pkg-016", tmp_path)
    [combined] = propose_package_names(verifier.verify(folder), TODAY)
    assert combined.source == folder / "package.pdf" and combined.new_name == "39381444_ASBUILT_20240517.pdf"


def _report(tmp_path: Path, pm: str | None, notification: str | None) -> Report:
    folder = tmp_path / "pkg"
    folder.mkdir(exist_ok=True)
    pages = [
        PageLabel("a.pdf", 1, "ec_tag", 0.9),
        PageLabel("a.pdf", 2, "other", 0.5),
        PageLabel("sub/b.pdf", 1, "ccsc", 0.9),
        PageLabel("sub/b.pdf", 2, "ccsc", 0.9),
        PageLabel("c.pdf", 1, "other", 0.3),
    ]
    documents = [
        Document("ec_tag", "a.pdf", 1, 1),
        Document("other", "a.pdf", 2, 2),
        Document("ccsc", "sub/b.pdf", 1, 1),
        Document("ccsc", "sub/b.pdf", 2, 2),
        Document("other", "c.pdf", 1, 1),
    ]
    return Report("pkg", "estimated", False, pm, notification, pages, documents, [], root=str(folder))


def test_other_pages_do_not_decide_and_subfolders_stay_put(tmp_path: Path) -> None:
    report = _report(tmp_path, "35589054", "123456789")
    assert package_doc_types(report) == [("a.pdf", "ec_tag"), ("c.pdf", "other"), ("sub/b.pdf", "ccsc")]
    proposals = propose_package_names(report, TODAY)
    assert [(p.source.relative_to(report.root).as_posix(), p.new_name) for p in proposals] == [
        ("a.pdf", "123456789_ECTAG.pdf"),
        ("c.pdf", "c.pdf"),
        ("sub/b.pdf", "35589054_CCSC_1.pdf"),
    ]
    assert proposals[2].target.parent == Path(report.root) / "sub"


def test_numbers_come_from_the_notification_or_the_board_job(tmp_path: Path) -> None:
    only_notification = propose_package_names(_report(tmp_path, None, "123456789"), TODAY)
    assert [p.new_name for p in only_notification] == [
        "123456789_ECTAG.pdf",
        "c.pdf",
        "123456789_CCSC_1.pdf",
    ]
    board_job = Job(7, "40000001", "987654321", JobStatus.IN_PROGRESS, 3)
    from_job = propose_package_names(_report(tmp_path, "35589054", None), TODAY, board_job)
    assert from_job[0].new_name == "987654321_ECTAG.pdf" and from_job[2].new_name == "40000001_CCSC_1.pdf"


def test_no_number_at_all_is_refused(tmp_path: Path) -> None:
    report = _report(tmp_path, None, None)
    with pytest.raises(NoPackageNumber, match="No PM or notification number found: cannot name the files"):
        propose_package_names(report, TODAY)
    assert issubclass(NoPackageNumber, NexaError)
    with pytest.raises(NoPackageNumber):
        propose_package_names(dataclasses.replace(report, pm_number="", notification_number=""), TODAY)

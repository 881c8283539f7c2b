"""The Verifier end to end on real PDFs: streaming, progress, cancel, corrections, bad files."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from nexa_desktop.domain.verify import PageLabel, PageRef
from nexa_desktop.ops import Cancelled, TaskState
from nexa_desktop.services.verify.pipeline import UnknownWorkType, Verifier

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "packages"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"sample corpus not found at {CORPUS}")


@pytest.fixture(scope="module")
def verifier() -> Iterator[Verifier]:
    with Verifier() as v:
        yield v


def _page_pdf(path: Path, title: str, body: list[str]) -> Path:
    c = canvas.Canvas(str(path), pagesize=letter)
    c.setFont("Helvetica-Bold", 14)
    c.drawString(72, 720, title)
    c.setFont("Helvetica", 10)
    for i, line in enumerate(body):
        c.drawString(72, 690 - 14 * i, line)
    c.showPage()
    c.save()
    return path


@needs_corpus
def test_pages_stream_in_order_with_progress(verifier: Verifier, tmp_path: Path) -> None:
    seen: list[PageLabel] = []
    statuses: list[float] = []
    state = TaskState(on_change=lambda s: statuses.append(s.progress))
    report = verifier.verify(CORPUS / "pkg-016", state=state, on_page=seen.append)
    assert [(p.file, p.page) for p in seen] == [(p.file, p.page) for p in report.pages]
    assert len(report.pages) == 8 and statuses[-1] == 1.0
    assert statuses == sorted(statuses)
    assert report.verdict.value == "fail"
    assert report.root == str((CORPUS / "pkg-016").resolve())


@needs_corpus
def test_cancel_stops_the_run(verifier: Verifier) -> None:
    state = TaskState()

    def cancel_after_first(_label: PageLabel) -> None:
        state.cancel()

    with pytest.raises(Cancelled):
        verifier.verify(CORPUS / "pkg-003", state=state, on_page=cancel_after_first)
    # the verifier stays usable afterwards
    assert verifier.verify(CORPUS / "pkg-016").pages


@needs_corpus
def test_a_correction_rechecks_without_reading_again(verifier: Verifier) -> None:
    report = verifier.verify(CORPUS / "pkg-016")
    sketch = next(p for p in report.pages if p.doc_type == "construction_sketch")
    assert not any(f.code == "MISSING_REQUIRED_DOC" for f in report.findings)
    corrected = verifier.recheck(report, {sketch.ref: "other"})
    missing = [f for f in corrected.findings if f.code == "MISSING_REQUIRED_DOC"]
    assert [f.doc_type for f in missing] == ["construction_sketch"]
    relabelled = next(p for p in corrected.pages if p.ref == sketch.ref)
    assert relabelled.doc_type == "other" and relabelled.confidence == 1.0


def test_a_learned_page_type_helps_the_next_package(verifier: Verifier, tmp_path: Path) -> None:
    body = ["Span  Conductor  Tension  Sag", "1  #2 ACSR  1200 lb  2.1 ft", "2  1/0 AAC  980 lb  2.4 ft"]
    first = tmp_path / "a"
    first.mkdir()
    _page_pdf(first / "loading.pdf", "POLE LOADING CALCULATION SUMMARY", body)
    report = verifier.verify(first)
    page = report.pages[0]
    assert page.doc_type != "equipment_info"
    doc_type, text = verifier.learn(report, page.ref, "equipment_info")
    assert doc_type == "equipment_info" and "pole loading" in text.lower()
    second = tmp_path / "b"
    second.mkdir()
    _page_pdf(second / "calc.pdf", "POLE LOADING CALCULATION SUMMARY", body[:2])
    again = verifier.verify(second)
    assert again.pages[0].doc_type == "equipment_info"


@needs_corpus
def test_a_bad_file_is_reported_and_the_rest_is_checked(verifier: Verifier, tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    shutil.copytree(CORPUS / "pkg-016", package)
    (package / "zz_empty.pdf").write_bytes(b"")
    (package / "notes.txt").write_text("not part of the package", encoding="utf-8")
    report = verifier.verify(package)
    assert len(report.pages) == 8
    assert [p.file for p in report.file_problems] == ["zz_empty.pdf"]
    assert any(f.code == "FILE_ERROR" and "zz_empty.pdf" in f.message for f in report.findings)


def test_unknown_work_type_is_refused(verifier: Verifier, tmp_path: Path) -> None:
    with pytest.raises(UnknownWorkType, match="estimated"):
        verifier.verify(tmp_path, work_type="emergency")


def test_recheck_needs_a_report_from_this_session(verifier: Verifier, tmp_path: Path) -> None:
    _page_pdf(tmp_path / "x.pdf", "FIELD NOTES", ["pole leaning"])
    report = verifier.verify(tmp_path / "x.pdf")
    with Verifier() as other, pytest.raises(LookupError):
        other.recheck(report, {PageRef("x.pdf", 1): "photos"})


def test_forgetting_a_learned_page_takes_it_back(verifier: Verifier, tmp_path: Path) -> None:
    _page_pdf(tmp_path / "w.pdf", "WOODPECKER DAMAGE SURVEY", ["Pole 1: two holes", "Pole 2: none"])
    report = verifier.verify(tmp_path / "w.pdf")
    before = report.pages[0].doc_type
    learned = verifier.learn(report, report.pages[0].ref, "photos")
    assert verifier.verify(tmp_path / "w.pdf").pages[0].doc_type == "photos"
    assert verifier.forget(*learned) is True and verifier.forget(*learned) is False
    assert verifier.verify(tmp_path / "w.pdf").pages[0].doc_type == before


REAL_FORMS = CORPUS.parent / "real-forms"


@pytest.mark.skipif(not REAL_FORMS.is_dir(), reason="real forms not found")
def test_out_of_ocr_time_scans_are_reported_unreadable_not_waited_for(
    verifier: Verifier, tmp_path: Path
) -> None:
    package = tmp_path / "scans"
    package.mkdir()
    shutil.copy(REAL_FORMS / "pole_bill.pdf", package / "a.pdf")
    shutil.copy(REAL_FORMS / "pole_bill.pdf", package / "b.pdf")
    report = verifier.verify(package, ocr_seconds=0.0)
    assert [p.source for p in report.pages] == ["none", "none"]
    assert sum(f.code == "UNREADABLE_PAGE" for f in report.findings) == 2
    again = verifier.verify(package / "a.pdf")  # the next package has OCR again
    assert again.pages[0].source == "ocr" and again.pages[0].doc_type == "pole_bill"


@needs_corpus
def test_findings_carry_their_region_and_weak_ones_go_to_the_review_list(verifier: Verifier) -> None:
    package = CORPUS / "pkg-016"
    report = verifier.verify(package)
    signature = next(f for f in report.findings if f.code == "MISSING_SIGNATURE")
    box = signature.evidence[0].box
    assert box is not None and 0 < box.x0 < box.x1 and 0 < box.y0 < box.y1 < 1200
    assert 0.6 <= signature.confidence <= 1.0

    # An office that wants only the surest findings to fail a package: the rest go to review.
    strict = verifier.profile.model_copy(update={"finding_threshold": 0.99})
    with Verifier(profile=strict) as picky:
        held = picky.verify(package)
    assert held.withheld and all(f.confidence < 0.99 for f in held.withheld)
    assert not any(f.confidence < 0.99 for f in held.findings)
    reviewed = {r.page for r in held.review}
    assert all(f.pages[0] in reviewed for f in held.withheld)
    assert any("weak evidence" in r.reason for r in held.review)
    data = held.to_json()
    assert data["withheld_findings"] and all("reason" in r for r in data["needs_review"])

"""Legible scans are read by OCR and checked like text pages: fields, signatures, ticks and ink."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from nexa_desktop.services.verify.pipeline import Verifier
from tests.services.verify import pkgbuilder as pb
from tests.services.verify.test_checks import FIELD_CASES, JOB, refs, run, summary


@pytest.fixture(scope="module")
def verifier() -> Iterator[Verifier]:
    """OCR on (the point of these tests)."""
    with Verifier(ocr=True) as v:
        v.warm_up()
        yield v


SCAN_CASES = [case for case in FIELD_CASES if case[0] in ("face_sheet", "ccsc", "progress_billing", "ec_tag")]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("doc_type", "field_name", "code"), SCAN_CASES, ids=[f"{d}.{f}" for d, f, _ in SCAN_CASES]
)
def test_a_legible_scan_is_checked_like_a_text_page(
    verifier: Verifier, tmp_path: Path, doc_type: str, field_name: str, code: str
) -> None:
    """The page holding the blank is a scan: OCR reads it, its rules and ink come from its pixels."""
    doc = pb.build(doc_type, JOB, pb.CORPUS, missing={field_name})
    page = doc.defects[0].pages[0]
    report, package = run(verifier, tmp_path, [pb.scanned(doc, [page])])
    placed = package.find(doc_type)
    assert report.pages[page].source == "ocr"
    got = [
        (f.code, f.field, f.pages)
        for f in report.findings
        if f.code in ("MISSING_FIELD", "MISSING_SIGNATURE", "UNREADABLE_PAGE")
    ]
    assert got == [(code, field_name, refs(placed, page))], summary(report)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["typed", "ink", "image"])
def test_signed_scans_are_not_missing_anything(verifier: Verifier, tmp_path: Path, kind: str) -> None:
    style = replace(pb.CORPUS, signature=kind)  # type: ignore[arg-type]
    docs = [pb.scanned(pb.build(t, JOB, style)) for t in ("face_sheet", "progress_billing")]
    report, _ = run(verifier, tmp_path, docs)
    assert {p.source for p in report.pages} == {"ocr"}
    blanks = [
        f for f in report.findings if f.code in ("MISSING_FIELD", "MISSING_SIGNATURE", "UNREADABLE_PAGE")
    ]
    assert blanks == [], summary(report)

"""Generator C keeps the corpus contract: truth format, verdict rule, page listing, scans without text."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from tests.gen_c import data, plan
from tests.gen_c.generator import generate

CODES_WITH_FIELD = {"ID_MISMATCH", "MISSING_SIGNATURE", "MISSING_FIELD", "SAFETY_ITEM_UNCHECKED"}


def _truths(root: Path) -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted((root / "packages").glob("*.truth.json"))
    ]


def _pdf_pages(folder: Path) -> list[tuple[str, int]]:
    """(file, page) in the README reading order: PDFs sorted by relative path, pages in order."""
    out = []
    for pdf_path in sorted(folder.rglob("*.pdf"), key=lambda p: p.relative_to(folder).as_posix()):
        rel = pdf_path.relative_to(folder).as_posix()
        pdf = pdfium.PdfDocument(str(pdf_path))
        try:
            out += [(rel, i + 1) for i in range(len(pdf))]
        finally:
            pdf.close()
    return out


def _page_text(folder: Path, file: str, page: int) -> str:
    pdf = pdfium.PdfDocument(str(folder / file))
    try:
        return str(pdf[page - 1].get_textpage().get_text_range())
    finally:
        pdf.close()


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen_c")
    generate(out, seed=11, count=4)
    return out


def test_plan_for_a_full_set_covers_the_contract() -> None:
    """Without drawing: 40 packages hold every doc type, every checked field pair and the verdict mix."""
    plans = plan.plan_set(101, 40)
    cats = Counter(p.category for p in plans)
    assert cats["clean"] == 10 and cats["review"] >= 2 and cats["fail"] >= 20
    pairs = {(e[1], e[2]) for p in plans for e in p.errors if e[0] == "field"}
    expected = {(doc, f) for doc, (fields, sig) in data.CHECKED.items() for f in (*fields, sig)}
    assert pairs == expected
    kinds = Counter(e[0] for p in plans for e in p.errors) + Counter(w[0] for p in plans for w in p.warnings)
    for kind in ("safety", "sketch", "idm", "missing_doc", "dup", "order", "unreadable"):
        assert kinds[kind] >= 3, kind
    seen: set[str] = set()
    modes = set()
    for p in plans:
        pkg = plan.build_package(101, p, 40)
        types = [d.doc_type for d in pkg.docs]
        seen |= set(types)
        modes.add(pkg.file_mode)
        assert 8 <= sum(d.pages for d in pkg.docs) <= 25
        has_est_marker = "face_sheet" in types or "progress_billing" in types
        assert has_est_marker == (p.work_type == "estimated")
        if p.category == "clean":
            assert not any(d.missing or d.unchecked or d.pm or d.notif or d.is_copy for d in pkg.docs)
    assert seen == set(data.DOC_TYPES)
    assert modes == {"combined", "per_doc", "few"}


@pytest.mark.slow
def test_truth_follows_the_readme_format(small_set: Path) -> None:
    truths = _truths(small_set)
    assert len(truths) == 4
    for t in truths:
        for key in (
            "package",
            "work_type",
            "pm_number",
            "notification_number",
            "verdict",
            "pages",
            "documents",
            "findings",
            "generator",
        ):
            assert key in t
        assert t["work_type"] in ("estimated", "ec_corrective")
        assert len(t["pm_number"]) == 8 and t["pm_number"].isdigit()
        assert len(t["notification_number"]) == 9 and t["notification_number"].isdigit()
        sev = {f["severity"] for f in t["findings"]}
        assert t["verdict"] == ("fail" if "error" in sev else "review" if "warning" in sev else "pass")
        listed = [(p["file"], p["page"]) for p in t["pages"]]
        assert listed == _pdf_pages(small_set / "packages" / t["package"])
        assert 8 <= len(listed) <= 25
        assert {p["doc_type"] for p in t["pages"]} <= set(data.DOC_TYPES)
        # documents tile the pages exactly, never crossing a file
        covered = [(d["file"], n) for d in t["documents"] for n in range(d["start_page"], d["end_page"] + 1)]
        assert covered == listed
        by_page = {(p["file"], p["page"]): p["doc_type"] for p in t["pages"]}
        for d in t["documents"]:
            assert {by_page[(d["file"], n)] for n in range(d["start_page"], d["end_page"] + 1)} == {
                d["doc_type"]
            }
            assert 1 <= d["end_page"] - d["start_page"] + 1 <= 3
        types = {d["doc_type"] for d in t["documents"]}
        estimated_marker = bool(types & {"face_sheet", "progress_billing"})
        assert estimated_marker == (t["work_type"] == "estimated")
        for f in t["findings"]:
            assert f["severity"] == data.SEVERITY[f["code"]]
            assert (f["field"] is not None) == (f["code"] in CODES_WITH_FIELD)
            assert all((p["file"], p["page"]) in by_page for p in f["pages"])
            if f["code"] == "MISSING_REQUIRED_DOC":
                assert f["pages"] == [] and f["doc_type"] not in types
            elif f["code"] == "ID_MISMATCH":
                assert f["doc_type"] not in ("ec_tag", "face_sheet", "other")
            elif f["code"] == "SAFETY_ITEM_UNCHECKED":
                sec, num = f["field"].split("-")
                assert int(num) in (data.OH_SAFETY if sec == "OH" else data.UG_SAFETY)
            elif f["code"] != "UNREADABLE_PAGE":
                assert f["pages"], f
            if f["code"] in ("MISSING_FIELD", "MISSING_SIGNATURE"):
                fields, sig = data.CHECKED[f["doc_type"]]
                assert f["field"] in (fields if f["code"] == "MISSING_FIELD" else (sig,))


@pytest.mark.slow
def test_scanned_pages_have_no_text_layer(small_set: Path) -> None:
    scans = 0
    for t in _truths(small_set):
        folder = small_set / "packages" / t["package"]
        unreadable = {
            (p["file"], p["page"])
            for f in t["findings"]
            if f["code"] == "UNREADABLE_PAGE"
            for p in f["pages"]
        }
        scanned = {(s["file"], s["page"]): s["mode"] for s in t["generator"]["scans"]}
        assert unreadable <= set(scanned)
        for (file, page), mode in scanned.items():
            assert _page_text(folder, file, page).strip() == "", (t["package"], file, page, mode)
            assert ((file, page) in unreadable) == (mode in ("faint", "smear", "coarse"))
            scans += 1
        # a page drawn by the generator itself (not a scan, not a real scanned form) carries text
        real_scans = {
            (r["file"], r["page"]) for r in t["generator"]["real_forms"] if r["doc_type"] == "pole_bill"
        }
        for p in t["pages"]:
            key = (p["file"], p["page"])
            if key not in scanned and key not in real_scans:
                assert _page_text(folder, *key).strip(), key
    assert scans > 0


@pytest.mark.slow
def test_same_seed_same_bytes(tmp_path: Path) -> None:
    def digest(root: Path) -> dict[str, str]:
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    generate(tmp_path / "a", seed=3, count=2)
    generate(tmp_path / "b", seed=3, count=2)
    generate(tmp_path / "c", seed=4, count=2)
    a, b, c = digest(tmp_path / "a"), digest(tmp_path / "b"), digest(tmp_path / "c")
    assert a == b
    assert a != c

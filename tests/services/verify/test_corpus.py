"""The Verifier against labelled sample packages of the shared corpus (read in place, never copied).

Six packages chosen so that together they hold every finding code the public set has, each layout
(combined, one PDF per document, parts) and both work types:

* pkg-016 (combined, ec_corrective): MISSING_SIGNATURE ec_tag, ID_MISMATCH notification, SAFETY_ITEM_UNCHECKED
* pkg-011 (combined, ec_corrective): MISSING_REQUIRED_DOC sketch, MISSING_FIELD ccsc pm_number
* pkg-012 (per_doc, ec_corrective): DUPLICATE_DOC, ID_MISMATCH pm, SKETCH_NO_MARKUP
* pkg-029 (combined, estimated): DUPLICATE_DOC, MISSING_SIGNATURE progress billing, two safety items
* pkg-036 (combined, ec_corrective): OUT_OF_ORDER only (verdict review)
* pkg-031 (parts, estimated): clean (verdict pass)

The public set has no UNREADABLE_PAGE; test_checks covers it on generated scans.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nexa_desktop.bench.verify import MATCH_KEYS, normalise_field
from nexa_desktop.services.verify.pipeline import Verifier

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"
PACKAGES = CORPUS / "packages"
CHOSEN = ("pkg-016", "pkg-011", "pkg-012", "pkg-029", "pkg-036", "pkg-031")
pytestmark = pytest.mark.skipif(
    not PACKAGES.is_dir(), reason=f"the shared sample corpus is not at {CORPUS} (a sibling of the repository)"
)


def _key(finding: dict[str, Any]) -> tuple[Any, ...]:
    keys = MATCH_KEYS[finding["code"]]
    return (finding["code"], *[normalise_field(finding[k]) if k == "field" else finding[k] for k in keys])


def _pages(finding: dict[str, Any]) -> list[tuple[str, int]]:
    return sorted((p["file"], p["page"]) for p in finding["pages"])


@pytest.fixture(scope="module")
def verifier() -> Iterator[Verifier]:
    with Verifier(ocr=False) as v:
        v.warm_up()
        yield v


@pytest.fixture(scope="module")
def reports(verifier: Verifier) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """(report JSON, truth) per chosen package, verified once for the module."""
    out = {}
    for name in CHOSEN:
        truth = json.loads((PACKAGES / f"{name}.truth.json").read_text(encoding="utf-8"))
        report = json.loads(json.dumps(verifier.verify(PACKAGES / name).to_json()))
        out[name] = (report, truth)
    return out


def test_the_chosen_packages_cover_every_finding_code_of_the_corpus() -> None:
    seen: Counter[str] = Counter()
    for name in CHOSEN:
        truth = json.loads((PACKAGES / f"{name}.truth.json").read_text(encoding="utf-8"))
        seen.update(f["code"] for f in truth["findings"])
        seen.update([f"verdict:{truth['verdict']}"])
    assert set(MATCH_KEYS) | {"verdict:pass", "verdict:review", "verdict:fail"} <= set(seen)


@pytest.mark.parametrize("name", CHOSEN)
def test_page_types_match_the_truth(
    reports: dict[str, tuple[dict[str, Any], dict[str, Any]]], name: str
) -> None:
    report, truth = reports[name]
    predicted = {(p["file"], p["page"]): p["doc_type"] for p in report["pages"]}
    expected = {(p["file"], p["page"]): p["doc_type"] for p in truth["pages"]}
    assert predicted == expected


@pytest.mark.parametrize("name", CHOSEN)
def test_documents_match_the_truth(
    reports: dict[str, tuple[dict[str, Any], dict[str, Any]]], name: str
) -> None:
    report, truth = reports[name]
    keys = ("doc_type", "file", "start_page", "end_page")
    assert [tuple(d[k] for k in keys) for d in report["documents"]] == [
        tuple(d[k] for k in keys) for d in truth["documents"]
    ]


@pytest.mark.parametrize("name", CHOSEN)
def test_findings_match_the_truth(
    reports: dict[str, tuple[dict[str, Any], dict[str, Any]]], name: str
) -> None:
    """One to one on the README's matching keys, with the pages the README lists, and the severity."""
    report, truth = reports[name]
    predicted = {_key(f): f for f in report["findings"]}
    expected = {_key(f): f for f in truth["findings"]}
    assert sorted(predicted, key=str) == sorted(expected, key=str)
    for key, finding in expected.items():
        assert _pages(predicted[key]) == _pages(finding), key
        assert predicted[key]["severity"] == finding["severity"], key


@pytest.mark.parametrize("name", CHOSEN)
def test_verdict_work_type_and_numbers_match_the_truth(
    reports: dict[str, tuple[dict[str, Any], dict[str, Any]]], name: str
) -> None:
    report, truth = reports[name]
    keys = ("verdict", "work_type", "pm_number", "notification_number")
    assert {k: report[k] for k in keys} == {k: truth[k] for k in keys}

"""The corpus scorer used by ``nexa bench verify`` follows the corpus README's matching rules."""

from __future__ import annotations

from typing import Any

from nexa_desktop.bench.verify import normalise_field, score_corpus, score_findings


def _f(code: str, doc_type: str | None = None, field: str | None = None, pages: Any = ()) -> dict[str, Any]:
    return {"code": code, "doc_type": doc_type, "field": field, "pages": list(pages)}


def test_field_names_and_item_numbers_are_normalised() -> None:
    assert normalise_field("OH 13") == normalise_field("oh-13") == normalise_field("OH13") == "oh_13"
    assert normalise_field("Crew Lead Signature") == "crew_lead_signature"


def test_matching_is_one_to_one_and_duplicates_count_once() -> None:
    truth = [_f("SAFETY_ITEM_UNCHECKED", "ccsc", "OH-13"), _f("SAFETY_ITEM_UNCHECKED", "ccsc", "UG-9")]
    pred = [_f("SAFETY_ITEM_UNCHECKED", "ccsc", "oh13"), _f("SAFETY_ITEM_UNCHECKED", "ccsc", "OH 13")]
    s = score_findings(pred, truth)
    assert s["tp"]["SAFETY_ITEM_UNCHECKED"] == 1
    assert s["fp"]["SAFETY_ITEM_UNCHECKED"] == 0
    assert s["fn"]["SAFETY_ITEM_UNCHECKED"] == 1


def test_field_only_matters_where_the_truth_has_one() -> None:
    s = score_findings([_f("DUPLICATE_DOC", "permit", "anything")], [_f("DUPLICATE_DOC", "permit")])
    assert s["tp"]["DUPLICATE_DOC"] == 1
    wrong_type = score_findings(
        [_f("MISSING_FIELD", "ccsc", "date")], [_f("MISSING_FIELD", "ec_tag", "date")]
    )
    assert wrong_type["fp"]["MISSING_FIELD"] == 1 and wrong_type["fn"]["MISSING_FIELD"] == 1


def test_unreadable_pages_match_page_by_page() -> None:
    pages = [{"file": "a.pdf", "page": 2}, {"file": "a.pdf", "page": 3}]
    truth = [_f("UNREADABLE_PAGE", pages=[p]) for p in pages]
    s = score_findings([_f("UNREADABLE_PAGE", pages=pages)], truth)
    assert s["tp"]["UNREADABLE_PAGE"] == 2 and not s["fn"]


def test_a_package_that_failed_to_run_counts_everything_wrong() -> None:
    truth = {
        "pages": [{"file": "p.pdf", "page": 1, "doc_type": "ec_tag"}],
        "findings": [_f("MISSING_REQUIRED_DOC", "ccsc")],
        "verdict": "fail",
        "documents": [],
    }
    good = {
        "pages": [{"file": "p.pdf", "page": 1, "doc_type": "ec_tag"}],
        "findings": [_f("MISSING_REQUIRED_DOC", "ccsc")],
        "verdict": "fail",
        "documents": [],
    }
    scores = score_corpus([(None, truth), (good, truth)])
    assert scores["failed_to_run"] == 1
    assert scores["page_accuracy_micro"] == 0.5
    assert scores["verdict_accuracy"] == 0.5
    assert scores["findings"]["recall"] == 0.5 and scores["findings"]["precision"] == 1.0


def test_review_list_rate_and_what_withheld_findings_would_have_scored() -> None:
    pages = [{"file": "a.pdf", "page": n, "doc_type": "ccsc"} for n in (1, 2, 3, 4)]
    truth = {"pages": pages, "findings": [_f("MISSING_FIELD", "ccsc", "date")], "verdict": "fail"}
    pred = {
        "pages": [{**p, "confidence": 0.95} for p in pages],
        "findings": [],
        "verdict": "pass",
        "needs_review": [
            {"file": "a.pdf", "page": 2, "reason": "x"},
            {"file": "a.pdf", "page": 2, "reason": "y"},
        ],
        "withheld_findings": [_f("MISSING_FIELD", "ccsc", "date"), _f("MISSING_FIELD", "ccsc", "lan_id")],
    }
    scores = score_corpus([(pred, truth)])
    assert scores["review_list"] == {
        "pages": 1,
        "rate": 0.25,
        "withheld_findings_right": 1,
        "withheld_findings_wrong": 1,
    }
    assert scores["findings"]["fn"] == 1  # held back is not reported

"""Report exports: JSON round trip, escaped self-contained HTML, a multi-page PDF readable by pypdf."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from nexa_desktop.domain.verify import (
    Box,
    Document,
    Evidence,
    FileProblem,
    Finding,
    PageLabel,
    PageRef,
    Report,
)
from nexa_desktop.services.verify.exports import ExportError, pages_text, render_html, write_report

INJECTED = "<script>alert('pwned')</script>"


def _report(*, findings: bool = True, pages: int = 6) -> Report:
    labels = [PageLabel("package.pdf", n, "ccsc", 0.9) for n in range(1, pages + 1)]
    labels[1] = PageLabel("package.pdf", 2, "cwc", 0.35, alternative="ccsc", reason="few title words")
    found = [
        Finding(
            "OUT_OF_ORDER", "warning", "face_sheet", None,
            [PageRef("package.pdf", 5), PageRef("package.pdf", 6)],
            "The face sheet comes after the CCSC; it belongs right after the EC tag.",
        ),
        Finding(
            "MISSING_SIGNATURE", "error", "ec_tag", "signature", [PageRef("package.pdf", 1)],
            f"The EC tag is not signed. Remark on the page: {INJECTED}",
            [Evidence(PageRef("package.pdf", 1), f"Signature: ______ {INJECTED} & <b>bold</b>")],
        ),
        Finding(
            "SAFETY_ITEM_UNCHECKED", "error", "ccsc", "OH-13", [PageRef("package.pdf", 3)],
            "CCSC item OH-13 (guy guards) is not ticked. " + "It is safety-critical. " * 60,
            [Evidence(PageRef("package.pdf", 3), "[ ] *13. Guy guards installed")],
        ),
    ]  # fmt: skip
    return Report(
        package="Job 46208684 — Oak St",
        work_type="estimated",
        work_type_inferred=True,
        pm_number="46208684",
        notification_number="120533370",
        pages=labels,
        documents=[Document("ccsc", "package.pdf", 1, pages)],
        findings=found if findings else [],
        file_problems=[FileProblem("scan.pdf", "encrypted", "scan.pdf is password-protected.")],
        seconds=3.21,
        root="/packages/job",
    )


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_json_is_exactly_the_report_json(tmp_path: Path) -> None:
    report = _report()
    path = write_report(report, tmp_path / "out" / "report.json")
    raw = path.read_bytes()
    assert json.loads(raw.decode("utf-8")) == report.to_json()
    assert "Job 46208684 — Oak St".encode() in raw  # UTF-8, not \\u escapes
    assert b'\n  "package"' in raw  # indented
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind


def test_html_has_every_finding_and_escapes_package_text(tmp_path: Path) -> None:
    report = _report()
    page = write_report(report, tmp_path / "report.html").read_text(encoding="utf-8")
    parsed = _Collect()
    parsed.feed(page)
    tag_names = [tag for tag, _ in parsed.tags]
    assert "script" not in tag_names and "b" not in tag_names
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    text = "".join(parsed.text)
    assert INJECTED in text  # shown to the reader as text
    for finding in report.findings:
        assert finding.code in text
        assert finding.message in text
        for evidence in finding.evidence:
            assert evidence.snippet in text
    assert "Completion standards checklist (CCSC)" in text and "OH-13" in text
    assert "package.pdf p. 5–6" in text
    assert "scan.pdf is password-protected." in text
    assert "46208684" in text and "120533370" in text and "inferred" in text
    banner = [attrs for tag, attrs in parsed.tags if tag == "header"]
    assert banner == [{"class": "banner verdict-fail"}]
    review_rows = [
        attrs for tag, attrs in parsed.tags if tag == "tr" and attrs.get("class") == "needs-review"
    ]
    assert len(review_rows) == len(report.needs_review) == 1
    assert "http" not in page.replace('http-equiv="Content-Security-Policy"', "")  # self-contained


def test_html_banner_follows_the_verdict() -> None:
    assert 'class="banner verdict-pass"' in render_html(_report(findings=False))
    review = _report()
    review.findings = [f for f in review.findings if f.severity == "warning"]
    assert 'class="banner verdict-review"' in render_html(review)


def test_pdf_opens_and_holds_the_verdict_and_every_code(tmp_path: Path) -> None:
    report = _report(pages=150)  # a long page table: several pages
    path = write_report(report, tmp_path / "report.pdf")
    reader = PdfReader(path)
    assert len(reader.pages) >= 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "FAIL" in text
    for finding in report.findings:
        assert finding.code in text
    assert INJECTED in text  # printed literally, not interpreted as markup
    assert "scan.pdf is password-protected." in text
    assert reader.metadata is not None and "Job 46208684" in str(reader.metadata.title)


def test_pdf_survives_hostile_text(tmp_path: Path) -> None:
    report = _report(findings=False)
    report.findings = [
        Finding(
            "ID_MISMATCH", "error", "lme", "pm_number", [PageRef("a.pdf", 1)],
            "x" * 5000 + " \x00\x07 <para> </b> &amp; ☐ 中文 " + "word " * 3000,
            [
                Evidence(PageRef("a.pdf", 1), "<font name='nope'>" * 50),
                Evidence(PageRef("a.pdf", 2), "\n" * 3000),
            ],
        )
    ]  # fmt: skip
    reader = PdfReader(write_report(report, tmp_path / "hostile.pdf"))
    assert "ID_MISMATCH" in "".join(p.extract_text() for p in reader.pages)


def test_pdf_quotes_check_boxes_as_the_form_shows_them(tmp_path: Path) -> None:
    """Evidence like "Status: ☐ Completed ☒ Canceled" prints as [ ] / [X], not as black squares."""
    report = _report(findings=False)
    report.findings = [
        Finding(
            "MISSING_FIELD", "error", "ec_tag", "status", [PageRef("a.pdf", 2)],
            "EC tag: none of the status boxes is ticked.",
            [Evidence(PageRef("a.pdf", 2), "Status: ☐ Completed ☐ Canceled – “Found” ✓")],
        )
    ]  # fmt: skip
    reader = PdfReader(write_report(report, tmp_path / "boxes.pdf"))
    text = " ".join("".join(p.extract_text() for p in reader.pages).split())  # cells wrap lines
    assert "Status: [ ] Completed [ ] Canceled – “Found” [v]" in text


def test_format_comes_from_the_suffix_or_the_argument(tmp_path: Path) -> None:
    report = _report()
    as_json = write_report(report, tmp_path / "REPORT.JSON")
    assert json.loads(as_json.read_text(encoding="utf-8"))["verdict"] == "fail"
    forced = write_report(report, tmp_path / "report.txt", fmt="html")
    assert forced.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(ExportError, match=r"'\.docx'.*\.json, \.html or \.pdf"):
        write_report(report, tmp_path / "report.docx")
    with pytest.raises(ExportError, match="no file extension"):
        write_report(report, tmp_path / "report")
    with pytest.raises(ExportError, match="'xml'"):
        write_report(report, tmp_path / "report.json", fmt="xml")
    assert not (tmp_path / "report.docx").exists()


def test_an_unwritable_target_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(ExportError, match="Can't write the report"):
        write_report(_report(), blocker / "report.json")


def test_pages_text_groups_ranges_per_file() -> None:
    refs = [PageRef("a.pdf", n) for n in (3, 4, 5, 9)] + [PageRef("b.pdf", 1), PageRef("a.pdf", 10)]
    assert pages_text(refs) == "a.pdf p. 3–5, 9–10; b.pdf p. 1"
    assert pages_text([]) == ""


# -- the review list, withheld findings and confidence -------------------------------------------------


def _review_report() -> Report:
    """An error the check is 64% sure of, a withheld (weak) error, an unsure page type, a turned page."""
    report = _report()
    report.findings[1].confidence = 0.64
    weak = Finding(
        "MISSING_FIELD", "error", "ccsc", "date", [PageRef("package.pdf", 4)],
        "The CCSC date looks blank.",
        [Evidence(PageRef("package.pdf", 4), "Date: ____", Box(72, 500, 300, 520))],
        confidence=0.38,
    )  # fmt: skip
    report.withheld = [weak]
    report.pages[3].turn = 90
    return report


def test_html_lists_pages_to_review_with_their_reasons_and_each_findings_confidence(tmp_path: Path) -> None:
    report = _review_report()
    page = write_report(report, tmp_path / "report.html").read_text(encoding="utf-8")
    parsed = _Collect()
    parsed.feed(page)
    text = "".join(parsed.text)
    assert "Needs review" in text
    for item in report.review:
        for reason in item.reason.split("; "):
            assert reason in text
    assert "weak evidence (38% sure): The CCSC date looks blank." in text
    assert "page type unsure: Contractor work checklist (CWC) or Completion standards checklist" in text
    review_items = [
        attrs for tag, attrs in parsed.tags if tag == "tr" and attrs.get("class") == "review-item"
    ]
    assert len(review_items) == len(report.review) == 2
    withheld = [attrs for tag, attrs in parsed.tags if tag == "tr" and attrs.get("class") == "withheld"]
    assert len(withheld) == 1 and "NEEDS REVIEW" in text
    findings = [
        attrs for tag, attrs in parsed.tags if tag == "tr" and "finding" in (attrs.get("class") or "")
    ]
    assert len(findings) == len(report.findings) == 3, "the withheld finding is not among the findings"
    assert "64%" in text and "100%" in text, "every finding's confidence"
    assert "2 errors, 1 warning, 2 pages to review" in text, "the weak error does not count"
    highlighted = [
        attrs for tag, attrs in parsed.tags if tag == "tr" and attrs.get("class") == "needs-review"
    ]
    assert len(highlighted) == 2, "both review pages are marked in the pages table"
    assert "shown turned 90° to read it upright" in text


def test_pdf_lists_the_review_reasons_and_the_withheld_finding(tmp_path: Path) -> None:
    report = _review_report()
    reader = PdfReader(write_report(report, tmp_path / "report.pdf"))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Needs review" in text and "NEEDS REVIEW" in text
    assert "weak evidence (38% sure): The CCSC date looks blank." in text
    assert "MISSING_FIELD" in text and "64%" in text
    assert "2 pages to review" in text


def test_cli_prints_the_review_items_with_their_reasons_and_unsure_confidences() -> None:
    from rich.console import Console

    from nexa_desktop.cli_verify import _print_report

    report = _review_report()
    console = Console(record=True, width=200)
    _print_report(console, report)
    out = console.export_text()
    assert "Needs review: 2 pages to look at by eye" in out
    assert "package.pdf p.2: page type unsure" in out
    assert "package.pdf p.4: weak evidence (38% sure): The CCSC date looks blank." in out
    assert "(64% sure)" in out and "(100% sure)" not in out, "only unsure findings say how sure"
    assert "MISSING_FIELD" not in out.split("Needs review")[0], "a withheld finding is not in the table"
    assert out.startswith("FAIL"), "the sure errors still fail it"

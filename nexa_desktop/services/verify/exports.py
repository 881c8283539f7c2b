"""Write a verification report as JSON, a self-contained HTML page, or a printable PDF.

All text that came out of a package (messages quote it, snippets are it) is untrusted: it is
escaped for HTML and for reportlab's paragraph markup, and stripped of control characters.

Besides the findings (each with how sure its check is), the HTML and PDF list the pages a person
should look at and why (``Report.review``), and the findings withheld from the verdict for weak
evidence, marked "needs review".
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.verify import (
    DOC_TYPE_TITLES,
    Finding,
    PageLabel,
    PageRef,
    Report,
    ReviewItem,
    Severity,
    Verdict,
)

FORMATS = ("json", "html", "pdf")

#: Longest text put in one table cell of the PDF (a cell taller than a page cannot be laid out).
_PDF_CELL_LIMIT = 1500
_PDF_CELL_LINES = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_VERDICT_HEADLINE = {
    Verdict.PASS: "PASS — nothing found that would get it rejected",
    Verdict.REVIEW: "REVIEW — check the warnings before submitting",
    Verdict.FAIL: "FAIL — would be rejected as it is",
}
_VERDICT_COLOUR = {Verdict.PASS: "#1e7b34", Verdict.REVIEW: "#b26a00", Verdict.FAIL: "#b3261e"}
#: The page may use only its own inline styles: no scripts, images, fonts or requests of any kind.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_WORK_TYPE_TITLES = {"estimated": "Estimated", "ec_corrective": "EC corrective"}


class ExportError(NexaError):
    """The report could not be written (unknown format, folder not writable…)."""


# --------------------------------------------------------------------------- shared helpers


def clean(text: str) -> str:
    """Drop control characters (PDF text can carry anything) but keep tabs and newlines."""
    return _CONTROL.sub("", text)


def doc_title(doc_type: str | None) -> str:
    if not doc_type:
        return ""
    return DOC_TYPE_TITLES.get(doc_type, doc_type)


def pages_text(refs: Sequence[PageRef]) -> str:
    """``part1.pdf p. 3–5, 9; part2.pdf p. 1`` (files in first-seen order, pages as ranges)."""
    by_file: dict[str, list[int]] = {}
    for ref in refs:
        by_file.setdefault(ref.file, []).append(ref.page)
    parts = []
    for file, numbers in by_file.items():
        ranges = []
        ordered = sorted(set(numbers))
        for _, run in groupby(enumerate(ordered), key=lambda pair: pair[1] - pair[0]):
            block = [n for _, n in run]
            ranges.append(str(block[0]) if len(block) == 1 else f"{block[0]}–{block[-1]}")
        parts.append(f"{file} p. {', '.join(ranges)}")
    return "; ".join(parts)


def _evidence_text(finding: Finding) -> str:
    return "\n".join(f"{e.page.file} p. {e.page.page}: {e.snippet}" for e in finding.evidence)


def _sorted_findings(report: Report) -> list[Finding]:
    """Errors first, then warnings, otherwise in the checks' order."""
    return sorted(report.findings, key=lambda f: 0 if f.severity == Severity.ERROR else 1)


def _summary(report: Report) -> str:
    errors = sum(1 for f in report.findings if f.severity == Severity.ERROR)
    warnings = len(report.findings) - errors
    review = len(report.review)
    parts = [_count(errors, "error"), _count(warnings, "warning")]
    if review:
        parts.append(_count(review, "page") + " to review")
    if report.file_problems:
        parts.append(_count(len(report.file_problems), "file problem"))
    return ", ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _review_hint(report: Report) -> str:
    return (
        "Highlighted pages are on the review list: their type is below "
        f"{report.review_threshold:.0%} confidence, or a check found only weak evidence."
    )


_REVIEW_INTRO = (
    "Look at these pages by eye. A page type NEXA is unsure of, or a problem it saw only weak "
    "evidence of, is listed here rather than counted in the verdict."
)
_WITHHELD_INTRO = "Possible problems seen with too little evidence to count (not in the verdict):"


def _sure(confidence: float) -> str:
    return f"{confidence:.0%}"


def _review_rows(report: Report) -> list[tuple[ReviewItem, str]]:
    """Each page to review and its reasons, one per line."""
    return [(item, item.reason.replace("; ", "\n")) for item in report.review]


def _facts(report: Report) -> list[tuple[str, str]]:
    work_type = _WORK_TYPE_TITLES.get(report.work_type, report.work_type)
    if report.work_type_inferred:
        work_type += " (inferred from the documents)"
    return [
        ("Package", report.package),
        ("PM number", report.pm_number or "not found"),
        ("Notification", report.notification_number or "not found"),
        ("Work type", work_type),
        ("Pages", f"{len(report.pages)} in {_count(len(report.documents), 'document')}"),
    ]


# --------------------------------------------------------------------------- entry point


def write_report(report: Report, path: Path, fmt: str | None = None) -> Path:
    """Write ``report`` to ``path`` as JSON, HTML or PDF (``fmt``, else from the suffix)."""
    kind = (fmt or path.suffix).lower().lstrip(".")
    writers: dict[str, Callable[[Report, Path], None]] = {
        "json": _write_json,
        "html": _write_html,
        "htm": _write_html,
        "pdf": _write_pdf,
    }
    if kind not in writers:
        shown = f"'{fmt}'" if fmt else (f"'{path.suffix}'" if path.suffix else "no file extension")
        raise ExportError(f"Can't export a report as {shown}: choose a name ending in .json, .html or .pdf.")
    tmp = path.with_name(f"{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        writers[kind](report, tmp)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ExportError(f"Can't write the report to {path}: {exc.strerror or exc}") from exc
    return path


def _write_json(report: Report, path: Path) -> None:
    path.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- HTML

_CSS = """
body { font: 14px/1.4 "Segoe UI", Helvetica, Arial, sans-serif; color: #1b1b1b; margin: 24px; }
h1 { font-size: 22px; margin: 0; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
.banner { color: #fff; padding: 14px 18px; border-radius: 6px; }
.banner p { margin: 4px 0 0; }
.verdict-pass { background: #1e7b34; } .verdict-review { background: #b26a00; }
.verdict-fail { background: #b3261e; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d0d0d0; padding: 5px 7px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td { white-space: pre-wrap; overflow-wrap: anywhere; }
table.facts { width: auto; margin-top: 14px; } table.facts th { width: 120px; }
.sev-error { color: #b3261e; font-weight: 600; } .sev-warning { color: #b26a00; font-weight: 600; }
tr.needs-review td { background: #fff4c2; }
.code { font-family: Consolas, "Courier New", monospace; font-size: 12px; }
.muted { color: #666; }
@media print {
  body { margin: 0; font-size: 11px; }
  .banner, th, tr.needs-review td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  tr { break-inside: avoid; } h2 { break-after: avoid; }
}
"""


def _h(text: object) -> str:
    return html.escape(clean(str(text)), quote=True)


def _html_table(headers: Iterable[str], rows: Iterable[tuple[str, list[str]]]) -> str:
    """``rows`` are ``(tr class, already-escaped cells)``."""
    head = "".join(f"<th>{_h(h)}</th>" for h in headers)
    body = "".join(
        f'<tr class="{css}">' + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>" for css, cells in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: Report) -> str:
    """The report as one self-contained, printable HTML page (no scripts, no external files)."""
    verdict = report.verdict
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        f"<title>Package check — {_h(report.package)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<header class="banner verdict-{verdict.value}"><h1>{_h(_VERDICT_HEADLINE[verdict])}</h1>',
        f"<p>{_h(_summary(report))}</p></header>",
        '<table class="facts"><tbody>',
        *(f"<tr><th>{_h(k)}</th><td>{_h(v)}</td></tr>" for k, v in _facts(report)),
        "</tbody></table>",
        "<h2>Findings</h2>",
    ]
    findings = _sorted_findings(report)
    if findings:
        out.append(
            _html_table(
                ("Severity", "Code", "Document", "Field", "Pages", "Message", "Sure", "Evidence"),
                (
                    (
                        f"finding sev-{_h(f.severity)}",
                        [
                            f'<span class="sev-{_h(f.severity)}">{_h(f.severity.upper())}</span>',
                            f'<span class="code">{_h(f.code)}</span>',
                            _h(doc_title(f.doc_type)),
                            _h(f.field or ""),
                            _h(pages_text(f.pages)),
                            _h(f.message),
                            _h(_sure(f.confidence)),
                            _h(_evidence_text(f)),
                        ],
                    )
                    for f in findings
                ),
            )
        )
    else:
        out.append('<p class="muted">No findings.</p>')
    out += _html_review(report)
    if report.file_problems:
        out.append("<h2>File problems</h2>")
        out.append(
            _html_table(
                ("File", "Problem", "What happened"),
                (("", [_h(p.file), _h(p.kind), _h(p.message)]) for p in report.file_problems),
            )
        )
    out.append("<h2>Documents</h2>")
    out.append(
        _html_table(
            ("Document", "File", "Pages"),
            (
                ("", [_h(doc_title(d.doc_type)), _h(d.file), _h(_range(d.start_page, d.end_page))])
                for d in report.documents
            ),
        )
    )
    out.append("<h2>Pages</h2>")
    to_review = _review_pages(report)
    if report.review:
        out.append(f'<p class="muted">{_h(_review_hint(report))}</p>')
    out.append(
        _html_table(
            ("File", "Page", "Type", "Confidence", "Note"),
            (
                (
                    "needs-review" if p.ref in to_review else "",
                    [
                        _h(p.file),
                        _h(p.page),
                        _h(doc_title(p.doc_type)),
                        _h(f"{p.confidence:.0%}"),
                        _h(_page_note(report, p)),
                    ],
                )
                for p in report.pages
            ),
        )
    )
    out.append(f'<p class="muted">Checked in {report.seconds:.1f} s.</p></body></html>')
    return "\n".join(out)


def _html_review(report: Report) -> list[str]:
    """The "Needs review" section: pages to look at and why, then the withheld findings."""
    if not report.review and not report.withheld:
        return []
    out = ["<h2>Needs review</h2>", f'<p class="muted">{_h(_REVIEW_INTRO)}</p>']
    if report.review:
        out.append(
            _html_table(
                ("File", "Page", "Why"),
                (
                    ("review-item", [_h(item.page.file), _h(item.page.page), _h(why)])
                    for item, why in _review_rows(report)
                ),
            )
        )
    if report.withheld:
        out.append(f"<p>{_h(_WITHHELD_INTRO)}</p>")
        out.append(
            _html_table(
                ("Status", "Code", "Document", "Field", "Pages", "Message", "Sure", "Evidence"),
                (
                    (
                        "withheld",
                        [
                            '<span class="sev-warning">NEEDS REVIEW</span>',
                            f'<span class="code">{_h(f.code)}</span>',
                            _h(doc_title(f.doc_type)),
                            _h(f.field or ""),
                            _h(pages_text(f.pages)),
                            _h(f.message),
                            _h(_sure(f.confidence)),
                            _h(_evidence_text(f)),
                        ],
                    )
                    for f in report.withheld
                ),
            )
        )
    return out


def _range(start: int, end: int) -> str:
    return str(start) if start == end else f"{start}–{end}"


def _review_pages(report: Report) -> set[PageRef]:
    return {item.page for item in report.review}


def _page_note(report: Report, page: PageLabel) -> str:
    """How the page was read and, when we are unsure, the runner-up type and why."""
    parts = []
    if page.source == "ocr":
        parts.append("read by OCR")
    elif page.source == "none":
        parts.append("no readable text")
    if page.turn:
        parts.append(f"shown turned {page.turn}° to read it upright")
    if page.confidence < report.review_threshold:
        if page.alternative:
            parts.append(f"or {doc_title(page.alternative)}?")
        if page.reason:
            parts.append(page.reason)
    if any(page.ref in f.pages for f in report.withheld):
        parts.append("weak evidence: see Needs review")
    return "; ".join(parts)


def _write_html(report: Report, path: Path) -> None:
    path.write_text(render_html(report), encoding="utf-8")


# --------------------------------------------------------------------------- PDF


_BOX_GLYPHS = str.maketrans(
    {"☐": "[ ]", "□": "[ ]", "☒": "[X]", "☑": "[X]", "✅": "[X]", "■": "[X]", "✓": "[v]", "✔": "[v]"}
)


def standard_font_text(text: str) -> str:
    """Text the PDF report's standard font can show: check boxes as ``[ ]``/``[X]`` (the evidence
    quotes them), anything else outside Windows-1252 as "?" rather than a black box."""
    text = text.translate(_BOX_GLYPHS)
    return text.encode("cp1252", "replace").decode("cp1252")


_PDF_FINDING_HEADERS = ("Severity", "Code", "Document", "Field", "Pages", "Message", "Sure", "Evidence")
_PDF_FINDING_WIDTHS = (0.7, 1.6, 1.0, 0.75, 0.95, 2.6, 0.45, 1.95)


def _write_pdf(report: Report, path: Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_LEFT
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    cell = ParagraphStyle("cell", parent=styles["BodyText"], fontSize=7.5, leading=9, alignment=TA_LEFT)
    cell_bold = ParagraphStyle("cell_bold", parent=cell, fontName="Helvetica-Bold")
    banner_style = ParagraphStyle(
        "banner", parent=styles["Title"], textColor=colors.white, fontSize=16, leading=20, alignment=TA_LEFT
    )
    banner_sub = ParagraphStyle("banner_sub", parent=cell, textColor=colors.white, fontSize=10, leading=12)
    heading = ParagraphStyle("h2", parent=styles["Heading2"], spaceBefore=12, spaceAfter=4)

    def para(text: object, style: ParagraphStyle = cell) -> Paragraph:
        value = standard_font_text(clean(str(text)))
        lines = value.split("\n")
        if len(value) > _PDF_CELL_LIMIT or len(lines) > _PDF_CELL_LINES:
            value = (
                "\n".join(lines[:_PDF_CELL_LINES])[:_PDF_CELL_LIMIT] + " … (cut; see the JSON or HTML report)"
            )
        return Paragraph(html.escape(value, quote=False).replace("\n", "<br/>"), style)

    grid = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b0b0b0")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]

    def table(headers: Sequence[str], rows: list[list[Paragraph]], widths: Sequence[float]) -> Table:
        data = [[para(h, cell_bold) for h in headers], *rows]
        result = Table(data, colWidths=[w * inch for w in widths], repeatRows=1)
        result.setStyle(TableStyle(grid))
        return result

    verdict = report.verdict
    banner = Table(
        [[para(_VERDICT_HEADLINE[verdict], banner_style)], [para(_summary(report), banner_sub)]],
        colWidths=[10 * inch],
    )
    banner.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(_VERDICT_COLOUR[verdict])),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    facts = Table(
        [[para(k, cell_bold), para(v)] for k, v in _facts(report)],
        colWidths=[1.3 * inch, 5 * inch],
        hAlign="LEFT",
    )
    facts.setStyle(TableStyle(grid[:1] + grid[2:]))
    story: list[object] = [banner, Spacer(1, 8), facts, para("Findings", heading)]

    findings = _sorted_findings(report)
    if findings:
        severity_style = {
            Severity.ERROR.value: ParagraphStyle(
                "err", parent=cell_bold, textColor=colors.HexColor("#b3261e")
            ),
            Severity.WARNING.value: ParagraphStyle(
                "warn", parent=cell_bold, textColor=colors.HexColor("#b26a00")
            ),
        }
        rows = [
            [
                para(f.severity.upper(), severity_style.get(f.severity, cell_bold)),
                para(f.code),
                para(doc_title(f.doc_type)),
                para(f.field or ""),
                para(pages_text(f.pages)),
                para(f.message),
                para(_sure(f.confidence)),
                para(_evidence_text(f)),
            ]
            for f in findings
        ]
        story.append(table(_PDF_FINDING_HEADERS, rows, _PDF_FINDING_WIDTHS))
    else:
        story.append(para("No findings."))

    if report.review or report.withheld:
        story.append(para("Needs review", heading))
        story.append(para(_REVIEW_INTRO))
        story.append(Spacer(1, 4))
    if report.review:
        story.append(
            table(
                ("File", "Page", "Why"),
                [
                    [para(item.page.file), para(item.page.page), para(why)]
                    for item, why in _review_rows(report)
                ],
                (3.0, 0.6, 6.4),
            )
        )
    if report.withheld:
        review_style = ParagraphStyle("review", parent=cell_bold, textColor=colors.HexColor("#b26a00"))
        story.append(Spacer(1, 6))
        story.append(para(_WITHHELD_INTRO))
        story.append(Spacer(1, 4))
        withheld_rows = [
            [
                para("NEEDS REVIEW", review_style),
                para(f.code),
                para(doc_title(f.doc_type)),
                para(f.field or ""),
                para(pages_text(f.pages)),
                para(f.message),
                para(_sure(f.confidence)),
                para(_evidence_text(f)),
            ]
            for f in report.withheld
        ]
        story.append(table(("Status", *_PDF_FINDING_HEADERS[1:]), withheld_rows, _PDF_FINDING_WIDTHS))

    if report.file_problems:
        story.append(para("File problems", heading))
        story.append(
            table(
                ("File", "Problem", "What happened"),
                [[para(p.file), para(p.kind), para(p.message)] for p in report.file_problems],
                (2.5, 1.2, 6.3),
            )
        )

    story.append(para("Documents", heading))
    story.append(
        table(
            ("Document", "File", "Pages"),
            [
                [para(doc_title(d.doc_type)), para(d.file), para(_range(d.start_page, d.end_page))]
                for d in report.documents
            ],
            (3.0, 5.0, 2.0),
        )
    )

    story.append(para("Pages", heading))
    if report.review:
        story.append(para(_review_hint(report)))
    page_rows = [
        [
            para(p.file),
            para(p.page),
            para(doc_title(p.doc_type)),
            para(f"{p.confidence:.0%}"),
            para(_page_note(report, p)),
        ]
        for p in report.pages
    ]
    pages_table = table(("File", "Page", "Type", "Confidence", "Note"), page_rows, (3.0, 0.6, 2.4, 0.9, 3.1))
    to_review = _review_pages(report)
    review_rows = [
        ("BACKGROUND", (0, i), (-1, i), colors.HexColor("#fff4c2"))
        for i, p in enumerate(report.pages, start=1)
        if p.ref in to_review
    ]
    if review_rows:
        pages_table.setStyle(TableStyle(review_rows))
    story.append(pages_table)
    story.append(Spacer(1, 6))
    story.append(para(f"Checked in {report.seconds:.1f} s."))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(
            0.5 * inch, 0.35 * inch, clean(f"{report.package} — package check — page {doc.page}")
        )
        canvas.restoreState()

    document = SimpleDocTemplate(
        str(path),
        pagesize=landscape(letter),
        leftMargin=0.5 * inch,
        rightMargin=0.5 * inch,
        topMargin=0.5 * inch,
        bottomMargin=0.6 * inch,
        title=clean(f"Package check — {report.package}"),
        author="NEXA Desktop",
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)

"""Checklist tables with answer columns: a tick means what its column says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

from nexa_desktop.services.verify.pipeline import Verifier

CRITICAL_OH = (1, 2, 4, 13, 14, 17, 18, 21, 24, 25)
COLUMNS = {"YES": 400.0, "NO": 450.0, "N/A": 500.0}


@pytest.fixture(scope="module")
def verifier() -> Iterator[Verifier]:
    with Verifier(ocr=False) as v:
        yield v


def _ccsc(path: Path, answers: dict[int, str], *, glyph: str, empty: str = "") -> None:
    """A CCSC page as a table: item, description, then YES / NO / N/A cells; ``answers`` maps an
    OH item to the column holding its tick (items not listed are ticked YES; "" leaves it blank)."""
    c = canvas.Canvas(str(path), pagesize=LETTER)
    font = "DejaVu" if glyph not in "Xx" else "Helvetica"
    if font == "DejaVu":
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont("DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    c.setFont("Helvetica-Bold", 13)
    c.drawString(40, 750, "CREW SAFETY CHECKLIST - CCSC (TD-2504P-01-F01)")
    c.setFont("Helvetica", 9)
    c.drawString(40, 732, "PM Number: 35589054      Location No.: 1      Date: 12/01/2026")
    y = 705.0
    c.setFont("Helvetica-Bold", 9)
    c.drawString(40, y, "Item")
    c.drawString(80, y, "Overhead work - description")
    for name, x in COLUMNS.items():
        c.drawCentredString(x, y, name)
    c.line(36, y - 4, 540, y - 4)
    for n in range(1, 28):
        y -= 15
        c.setFont("Helvetica", 8)
        star = "*" if n in CRITICAL_OH else ""
        c.drawString(40, y, f"OH-{n}{star}")
        c.drawString(80, y, f"Overhead practice number {n} reviewed with the crew")
        where = answers.get(n, "YES")
        c.setFont(font, 9)
        for name, x in COLUMNS.items():
            if name == where:
                c.drawCentredString(x, y, glyph)
            elif empty:
                c.drawCentredString(x, y, empty)
        c.line(36, y - 4, 540, y - 4)
    c.showPage()
    c.save()


@pytest.mark.parametrize(("glyph", "empty"), [("☒", "☐"), ("✔", ""), ("X", "")], ids=["boxes", "check", "x"])
def test_ticks_are_read_by_their_column(verifier: Verifier, tmp_path: Path, glyph: str, empty: str) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    # OH-4 answered N/A (fine), OH-13 answered NO, OH-14 left blank, OH-3 (not critical) blank.
    _ccsc(package / "ccsc.pdf", {4: "N/A", 13: "NO", 14: "", 3: ""}, glyph=glyph, empty=empty)
    report = verifier.verify(package)
    unchecked = sorted(f.field or "" for f in report.findings if f.code == "SAFETY_ITEM_UNCHECKED")
    assert report.pages[0].doc_type == "ccsc"
    assert unchecked == ["OH-13", "OH-14"], [(f.code, f.field) for f in report.findings]


def test_on_a_scan_a_tick_read_as_another_glyph_still_ticks_its_cell() -> None:
    from nexa_desktop.domain.verify import Box, PageContent, TextLine
    from nexa_desktop.services.verify.answers import row_answer
    from nexa_desktop.services.verify.reading import DocView

    def line(text: str, x: float, y: float, w: float) -> TextLine:
        return TextLine(text, Box(x, y, x + w, y + 11))

    lines = [
        line("OH OVERHEAD", 37.6, 141.0, 76),
        line("Check", 547.1, 140.6, 24),
        line("*24 No vegetation within 18 in of primary", 37.6, 512.4, 147),
        line("<", 554.2, 510.4, 10),
        line("*25 HFTD/SRA: 4 ft clearance vegetation to primary", 37.6, 528.3, 190),
        # OCR joined the tick to the item's line, which runs on into the Check column
        line("*13 Conductor clearance to ground per GO 95 <", 37.6, 560.0, 527),
    ]
    page = PageContent("s.pdf", 1, 612, 792, lines=lines, source="ocr", text_layer=False)
    view = DocView.of([page])
    rows = [r for r in view.rows(0) if r[0].text.startswith("*")]
    assert [row_answer(view, 0, r) for r in rows] == [True, False, True]

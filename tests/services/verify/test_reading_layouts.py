"""Form layouts read by position: other separators, values in grid cells, signatures in cells and
under captions, typed "s/" signatures, and ticks in a lone answer column."""

from __future__ import annotations

from nexa_desktop.domain.verify import OUTLINE, Box, Mark, PageContent, TextLine
from nexa_desktop.services.verify.answers import row_answer
from nexa_desktop.services.verify.reading import DocView, read_value, signature_present

KNOWN = ("printed name", "lan id", "date", "signature", "pm #", "complete date")


def _page(*lines: tuple[str, float, float, float, float], marks: list[Mark] | None = None) -> PageContent:
    """Lines as (text, x0, y0, width, height)."""
    return PageContent(
        "f.pdf",
        1,
        612,
        792,
        0,
        [TextLine(t, Box(x, y, x + w, y + h)) for t, x, y, w, h in lines],
        marks or [],
    )


def _value(page: PageContent, label: str, shape: str) -> str:
    view = DocView.of([page])
    return read_value(view, view.find_labels([label])[0], shape, KNOWN).value


def test_values_after_a_dash_or_a_longer_label() -> None:
    assert (
        _value(_page(("Printed Name - Felix Hollis", 40, 100, 150, 9)), "printed name", "name")
        == "Felix Hollis"
    )
    assert _value(_page(("Lan ID - TXJY", 40, 100, 80, 9)), "lan id", "lan_id") == "TXJY"
    longer = _page(("Date Completed / Canceled - 2/24/26", 40, 100, 200, 9))
    assert _value(longer, "date completed", "date") == "2/24/26"
    blank = _page(("Date Completed / Canceled - ________", 40, 100, 200, 9))
    assert _value(blank, "date completed", "date") == ""
    # words with no separator after a label are the rest of the label: the value is elsewhere
    assert _value(_page(("Printed Name (Foreman)", 40, 100, 120, 9)), "printed name", "name") == ""


def test_grid_cells_label_on_top_value_written_larger_below() -> None:
    page = _page(
        ("LAN ID", 42, 303, 20, 7),
        ("COMPLETE/CANCEL DATE", 152, 303, 63, 7),
        ("35HK", 44, 312, 25, 11.6),
        ("2025-08-30", 154, 312, 51, 11.6),
    )
    assert _value(page, "lan id", "lan_id") == "35HK"
    assert _value(page, "complete/cancel date", "date") == "2025-08-30"
    empty = _page(("LAN ID", 42, 303, 20, 7), ("COMPLETE/CANCEL DATE", 152, 303, 63, 7))
    assert _value(empty, "lan id", "lan_id") == ""


def test_a_label_level_with_ours_further_right_is_not_our_value() -> None:
    page = _page(
        ("CONTRACTOR REPRESENTATIVE PRINTED NAME", 42.5, 579.8, 118, 7),
        ("INSPECTOR NAME + LAN ID", 322.5, 585.8, 70, 7),
        ("Nate Solano", 44, 590.1, 55, 11.6),
    )
    assert _value(page, "printed name", "name") == "Nate Solano"


def _signed(page: PageContent, label: str = "signature") -> bool:
    view = DocView.of([page])
    return signature_present(view, view.find_labels([label])[0], KNOWN)[0]


def test_signature_in_the_cell_under_its_label() -> None:
    cell = Mark("ink", Box(39.5, 113.5, 280.5, 148.5), "black", OUTLINE)
    signed = _page(
        ("FOREMAN SIGNATURE", 42.5, 116, 52, 7), ("s/ Luis Bautista", 50, 133, 68, 12), marks=[cell]
    )
    assert _signed(signed)
    ink = Mark("ink", Box(60, 128, 140, 145), "blue")
    assert _signed(_page(("FOREMAN SIGNATURE", 42.5, 116, 52, 7), marks=[cell, ink]))
    assert not _signed(_page(("FOREMAN SIGNATURE", 42.5, 116, 52, 7), marks=[cell]))


def test_a_printed_name_under_the_line_is_not_a_signature() -> None:
    rule = Mark("ink", Box(40, 500, 240, 501), "black")
    caption = _page(("Luis Bautista", 42, 504, 60, 9), ("Foreman Signature", 42, 516, 80, 8), marks=[rule])
    assert not _signed(caption)
    ink = Mark("ink", Box(60, 482, 150, 499), "black")
    assert _signed(
        _page(("Luis Bautista", 42, 504, 60, 9), ("Foreman Signature", 42, 516, 80, 8), marks=[rule, ink])
    )


def test_a_drawn_tick_in_a_lone_check_column() -> None:
    rows = [("OH OVERHEAD", 40, 155, 72, 9), ("Check", 549.5, 155.8, 19, 8)]
    rows += [("*17 High-voltage warning signs posted", 40, 418.8, 138, 9)]
    rows += [("*18 Ground wire covered by molding", 40, 434.3, 178, 9)]
    cells = [Mark("ink", Box(541.6, y, 576.4, y + 16.3), "black", OUTLINE) for y in (413.1, 428.6)]
    tick = Mark("ink", Box(553.2, 430.9, 564.8, 443.1), "black")  # in row 18 only
    view = DocView.of([_page(*rows, marks=[*cells, tick])])
    by_text = {r[0].text[:3]: r for r in view.rows(0)}
    assert row_answer(view, 0, by_text["*17"]) is False
    assert row_answer(view, 0, by_text["*18"]) is True

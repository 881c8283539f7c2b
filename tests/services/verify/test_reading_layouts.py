"""Form layouts read by position: other separators, values in grid cells, signatures in cells and
under captions, typed "s/" signatures, and ticks in a lone answer column."""

from __future__ import annotations

from nexa_desktop.domain.verify import OUTLINE, Box, Mark, PageContent, TextLine
from nexa_desktop.services.verify.answers import row_answer
from nexa_desktop.services.verify.reading import DocView, drawn_box_before, read_value, signature_present

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


def _rule(x0: float, y: float, x1: float) -> Mark:
    """A thin horizontal line as read from a scan's pixels."""
    return Mark("ink", Box(x0, y, x1, y + 0.8), "black")


def test_scanned_grid_a_rule_over_the_label_bounds_its_column() -> None:
    # The neighbour cell's label sits a little lower (a skewed scan): it is not under our label.
    lines = (
        ("CONTRACTOR REPRESENTATIVE PRINTED NAME", 42.0, 580.5, 113, 6.8),
        ("INSPECTOR NAME + LAN ID", 322.2, 586.9, 75, 6.7),
        ("Luis Thibodeaux", 43.1, 592.0, 92, 9.1),
    )
    rules = [_rule(40.0, 577.4, 280.7), _rule(319.9, 583.7, 572.4)]
    assert _value(_page(*lines, marks=rules), "printed name", "name") == "Luis Thibodeaux"


def test_runs_on_one_skewed_line_are_equally_near_the_aligned_one_wins() -> None:
    page = _page(
        ("ORDER NUMBER", 38.4, 101.8, 37, 7.9),
        ("NOTIF.", 307.6, 102.2, 18.6, 8.3),
        ("35941861", 40.0, 111.7, 48.7, 9.5),
        ("196586497", 309.6, 112.1, 55.0, 9.1),
        marks=[_rule(36.4, 99.6, 577.2)],
    )
    view = DocView.of([page])
    assert read_value(view, view.find_labels(["notif"])[0], "notification", KNOWN).value == "196586497"


def test_a_number_under_its_label_is_the_value_even_with_a_neighbour_beside_it() -> None:
    page = _page(
        ("PM ORDER", 35.8, 90.7, 36, 10.6),
        ("LOCATION", 215.6, 90.7, 34, 10.6),
        ("PM-31257346", 37.8, 101.3, 60, 11.6),
        ("3", 217.1, 101.3, 10, 11.6),
    )
    view = DocView.of([page])
    assert read_value(view, view.find_labels(["pm order"])[0], "pm", KNOWN).value == "PM-31257346"


def test_signature_in_a_scanned_cell_between_two_rules() -> None:
    label = ("CREW LEAD SIGNATURE", 370.2, 855.8, 56, 6.5)
    rules = [
        _rule(286.6, 852.6, 576.7),
        _rule(304.7, 884.7, 577.2),
        Mark("ink", Box(366.2, 852.8, 366.7, 885.5), "black"),  # the cell's sides
        Mark("ink", Box(576.2, 852.3, 576.7, 885.0), "black"),
    ]
    ink = Mark("ink", Box(375.3, 864.4, 426.6, 881.0), "other")
    assert _signed(_page(label, marks=[*rules, ink]), "crew lead signature")
    assert not _signed(_page(label, marks=rules), "crew lead signature")


def test_a_rule_over_the_label_is_the_line_signed_on_not_a_blank_beside_it() -> None:
    # OCR masks the part of the line under the typed signature: only its right end is seen.
    page = _page(
        ("/s/ Jasmine Jorgensen", 44.3, 178.2, 101, 12.7),
        ("Completed by (signature)", 39.6, 192.1, 69, 10.3),
        marks=[_rule(146.9, 191.0, 271.2)],
    )
    assert _signed(page, "completed by")
    blank = _page(("Completed by (signature)", 39.6, 192.1, 69, 10.3), marks=[_rule(112, 199.5, 271.2)])
    assert not _signed(blank, "completed by")


def test_a_tick_overshooting_its_drawn_box_ticks_it() -> None:
    square = Mark("ink", Box(39.4, 407.8, 48.1, 416.5), "black", OUTLINE)
    tick = Mark("ink", Box(38.9, 405.1, 51.6, 417.5), "black")
    empty = Mark("ink", Box(138.0, 407.8, 146.7, 416.5), "black", OUTLINE)
    page = _page(
        ("Built as Designed", 51.0, 406.6, 67.6, 10.7),
        ("Redlined (changes marked on drawing)", 149.6, 406.6, 150, 10.7),
        marks=[square, tick, empty],
    )
    view = DocView.of([page])
    built, redlined = view.segs[0], view.segs[1]
    assert drawn_box_before(page, built) is True
    assert drawn_box_before(page, redlined) is False


def test_value_shapes_as_scans_and_people_write_them() -> None:
    assert _value(_page(("DATE: Oct 19,2025", 40, 100, 90, 9)), "date", "date") == "Oct 19,2025"
    assert _value(_page(("LAN ID: E4W D", 40, 100, 60, 9)), "lan id", "lan_id") != ""


def test_a_line_over_a_caption_is_a_signature_line_not_a_cell() -> None:
    # "Contractor Representative Signature" printed under the line, a printed name further down:
    # the name is not a signature.
    page = _page(
        ("Contractor Representative Signature", 40.0, 564.3, 94.6, 7.3),
        ("Printed Name - Kurt Jorgensen", 40.0, 590.0, 116, 10.2),
        marks=[_rule(39.4, 561.4, 280.6)],
    )
    assert not _signed(page, "contractor representative signature")


def test_a_cell_edge_beside_a_label_on_a_skewed_scan_is_not_an_empty_line() -> None:
    page = _page(
        ("NOTIFICATION", 312.7, 116.4, 45.2, 11.1),
        ("164028565", 315.5, 126.3, 51.1, 12.3),
        marks=[_rule(359.4, 119.0, 582.7)],
    )
    view = DocView.of([page])
    assert read_value(view, view.find_labels(["notification"])[0], "notification", KNOWN).value == "164028565"


def test_on_a_scan_a_label_is_not_the_start_of_a_longer_word() -> None:
    page = _page(
        ("Qualified Professional Certification - Orders with Missing As-Built Docs", 74, 93, 466, 13),
        ("PM# 31241641", 61, 135.8, 69, 9.1),
    )
    page.source = "ocr"
    view = DocView.of([page])
    hits = view.find_labels(["order #", "pm #", "pm"])
    assert [h.seg.text for h in hits] == ["PM# 31241641"]
    assert read_value(view, hits[0], "pm", KNOWN).value == "31241641"


def test_signature_cell_from_the_vertical_lines_of_a_scanned_grid() -> None:
    # The rules over and under the label are broken up where OCR read text; the cell's sides are not.
    label = ("CREW LEAD SIGNATURE", 363.8, 527.1, 61, 12.6)
    sides = [
        Mark("ink", Box(362.6, 526.7, 363.0, 559.5), "black"),
        Mark("ink", Box(572.4, 533.8, 572.8, 563.5), "black"),
    ]
    date = ("Apr 21, 2026", 265.2, 543.3, 57, 13)
    written = _page(label, date, ("X 1. Thibodeaux", 370.1, 542.1, 75, 16.3), marks=sides)
    assert _signed(written, "crew lead signature")
    assert not _signed(_page(label, date, marks=sides), "crew lead signature")


def test_padded_ocr_boxes_overlapping_their_label_are_still_under_it() -> None:
    page = _page(
        ("PM ORDER", 36.8, 91.2, 34.8, 10.6),
        ("LOCATION#", 216.0, 91.2, 36, 10.6),
        ("PM-31257346", 35.8, 99.3, 64.5, 15.1),
        ("3", 217.1, 99.3, 9, 15.1),
    )
    page.source = "ocr"
    view = DocView.of([page])
    assert read_value(view, view.find_labels(["pm order"])[0], "pm", KNOWN).value == "PM-31257346"


def test_a_print_name_line_under_a_signature_caption_is_not_the_signature() -> None:
    page = _page(
        ("Qualified Professional's Signature", 60.0, 249.9, 97.3, 7.6),
        ("Print name: Yvette Hollis", 60.0, 269.0, 109.3, 11.1),
        marks=[_rule(59.4, 247.4, 260.6), _rule(113.0, 279.5, 276.5)],
    )
    assert not _signed(page, "qualified professional signature")


def test_a_date_over_its_format_hint_and_a_value_typed_over_the_underline() -> None:
    page = _page(
        ("05 04 25", 442.0, 335.6, 70, 12.9),
        ("MM DD ) YY", 432.3, 352.0, 74, 13.1),
        ("(Date field verified)", 431.9, 365.5, 80, 14.3),
    )
    assert _value(page, "date field verified", "date") == "05 04 25"
    assert _value(_page(("PM #_ 48427437", 40, 100, 90, 9)), "pm #", "pm") == "48427437"
    assert _value(_page(("PM #_________", 40, 100, 90, 9)), "pm #", "pm") == ""


def test_ink_on_the_line_over_a_caption_signs_it_whatever_runs_beside_the_caption() -> None:
    label = ("Contractor Representative Signature", 40.8, 564.7, 141.3, 14.6)
    lines = [_rule(64.1, 561.2, 124.7), _rule(183.7, 579.1, 283.8)]  # the next cell's edge, beside
    ink = Mark("ink", Box(51.5, 541.3, 152.8, 563.1), "other")
    assert _signed(_page(label, marks=[*lines, ink]), "contractor representative signature")
    assert not _signed(_page(label, marks=lines), "contractor representative signature")


def test_in_a_drawn_grid_the_next_cells_label_is_not_our_value() -> None:
    cells = [
        Mark("ink", Box(35.5, 91.5, 216.5, 116.5), "black", OUTLINE),
        Mark("ink", Box(215.5, 91.5, 396.5, 116.5), "black", OUTLINE),
        Mark("ink", Box(395.5, 91.5, 576.5, 116.5), "black", OUTLINE),
    ]
    labels = (
        ("PM/ORDER #", 38.5, 93.8, 33.6, 7),
        ("LOCATION #", 218.5, 93.8, 29.7, 7),
        ("JOB SCOPE", 398.5, 93.8, 28.7, 7),
        ("49951347", 40.0, 102.0, 44.5, 11.7),
        ("OH / UG", 400.0, 102.0, 38.3, 11.7),
    )
    assert _value(_page(*labels, marks=cells), "location #", "any") == ""
    filled = _page(*labels, ("3", 220.0, 102.0, 5, 11.7), marks=cells)
    assert _value(filled, "location #", "any") == "3"

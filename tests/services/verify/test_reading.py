"""Reading forms from positioned text: values beside/above/below labels, boxes, signature lines."""

from __future__ import annotations

from nexa_desktop.domain.verify import OUTLINE, Box, Mark, PageContent, TextLine
from nexa_desktop.services.verify.reading import (
    DocView,
    drawn_box_state,
    is_blank_line,
    norm,
    read_value,
    row_tick,
    signature_present,
    split_columns,
    ticked_options,
)

KNOWN = ("crew lead name", "lan id", "date", "crew lead signature", "pm #")


def _page(*lines: tuple[str, float, float, float], marks: list[Mark] | None = None) -> PageContent:
    """Lines as (text, x0, y0, width); height 8 pt."""
    return PageContent(
        "f.pdf", 1, 612, 792, 0, [TextLine(t, Box(x, y, x + w, y + 8)) for t, x, y, w in lines], marks or []
    )


def test_norm_and_blank_lines() -> None:
    assert norm("PM / Order  #:") == "pm/order #:"
    assert is_blank_line("__________") and not is_blank_line("/s/ J. Ramirez")


def test_value_after_a_colon_stops_at_the_next_label() -> None:
    view = DocView.of([_page(("LAN ID: GNR6 Complete/Cancel Date: 08/17/2024", 40, 100, 300))])
    hit = view.find_labels(["lan id"])[0]
    assert read_value(view, hit, "lan_id", KNOWN).value == "GNR6"
    blank = DocView.of([_page(("LAN ID: ______ Complete/Cancel Date: 08/17/2024", 40, 100, 300))])
    assert read_value(blank, blank.find_labels(["lan id"])[0], "lan_id", KNOWN).value == ""


def test_value_above_a_label_and_blank_line_above() -> None:
    filled = DocView.of([_page(("Brian Fletcher", 45, 430, 60), ("Crew Lead Name", 40, 445, 62))])
    assert (
        read_value(filled, filled.find_labels(["crew lead name"])[0], "name", KNOWN).value == "Brian Fletcher"
    )
    empty = DocView.of([_page(("______________", 40, 432, 120), ("Crew Lead Name", 40, 445, 62))])
    assert read_value(empty, empty.find_labels(["crew lead name"])[0], "name", KNOWN).value == ""


def test_value_in_the_next_column_and_below() -> None:
    right = DocView.of([_page(("PM #:", 40, 100, 25), ("35589054", 140, 100, 40))])
    assert read_value(right, right.find_labels(["pm #"])[0], "pm", KNOWN).value == "35589054"
    below = DocView.of([_page(("Date:", 40, 100, 25), ("08/20/25", 40, 112, 40))])
    assert read_value(below, below.find_labels(["date"])[0], "date", KNOWN).value == "08/20/25"


def test_a_longer_label_is_not_its_own_value() -> None:
    view = DocView.of([_page(("11/27/2025", 311, 266, 49), ("Date Field Verified", 307, 280, 64))])
    assert read_value(view, view.find_labels(["date"])[0], "date", KNOWN).value == "11/27/2025"


def test_wide_gaps_split_columns() -> None:
    line = TextLine("Brian Fletcher     PDYU     08/17/2024", Box(40, 100, 400, 108))
    assert [r.text for r in split_columns(line)] == ["Brian Fletcher", "PDYU", "08/17/2024"]


def test_check_boxes_in_text_and_glyphs() -> None:
    view = DocView.of(
        [_page(("Status: [ ] Completed [X] Canceled [ ] Found Completed Upon Arrival", 40, 100, 400))]
    )
    assert ticked_options(view, ["completed", "canceled"])[0]
    none = DocView.of([_page(("Status: ☐ Completed ☐ Canceled", 40, 100, 200))])
    ticked, seen, any_box = ticked_options(none, ["completed", "canceled"])
    assert not ticked and any_box and seen
    glyph = DocView.of([_page(("☒ Built as Designed ☐ Redlined", 40, 100, 200))])
    assert ticked_options(glyph, ["built as designed", "redlined"])[0]
    row = DocView.of([_page(("14 * GO 95 clearance met", 40, 100, 200), ("[ ]", 500, 100, 10))]).rows(0)[0]
    assert row_tick(row) is False


def _sig_view(*extra: tuple[str, float, float, float], marks: list[Mark] | None = None) -> DocView:
    return DocView.of([_page(*extra, ("Crew Lead Signature", 440, 449, 75), marks=marks)])


def test_signature_typed_x_ink_and_image_count_blank_does_not() -> None:
    for view in (
        _sig_view(("/s/ B. Fletcher", 445, 433, 70)),
        _sig_view(("X", 445, 433, 8)),
        _sig_view(marks=[Mark("ink", Box(450, 425, 510, 445), "blue")]),
        _sig_view(marks=[Mark("image", Box(445, 420, 515, 446))]),
        _sig_view(marks=[Mark("annotation", Box(445, 420, 515, 446), "black", "Ink")]),
    ):
        hit = view.find_labels(["crew lead signature"])[0]
        assert signature_present(view, hit, KNOWN)[0]
    for view in (
        _sig_view(("______________________", 440, 437, 120)),
        _sig_view(marks=[Mark("ink", Box(439, 446, 565, 447), "black")]),  # the rule alone
        _sig_view(("Crew Lead Name", 40, 449, 62)),  # a label in another column
    ):
        hit = view.find_labels(["crew lead signature"])[0]
        assert not signature_present(view, hit, KNOWN)[0]


def test_grid_cells_key_value_tables_and_other_date_formats() -> None:
    # a ruled grid: labels in a row, each value right-aligned in the cell below its label
    grid = DocView.of(
        [
            _page(
                ("LAN ID", 43, 140, 23),
                ("COMPLETED / CANCELED DATE", 220, 140, 103),
                ("ACTUAL HOURS", 398, 140, 52),
                ("3NLB", 188, 156, 25),
                ("02-NOV-2025", 335, 156, 56),
                ("11", 556, 156, 10),
            )
        ]
    )
    date = grid.find_labels(["completed/canceled date"])[0]
    assert read_value(grid, date, "date", KNOWN).value == "02-NOV-2025"
    assert read_value(grid, grid.find_labels(["lan id"])[0], "lan_id", KNOWN).value == "3NLB"
    # a two-column key/value table with the value far to the right, behind a tall "FAXED" stamp
    table = DocView.of([_page(("LAN-ID", 44, 434, 32), ("FAXED", 373, 414, 72), ("SCRN", 422, 434, 24))])
    next(seg for seg in table.segs if seg.text == "FAXED").box = Box(373, 414, 445, 458)  # stamps are big
    assert read_value(table, table.find_labels(["lan id"])[0], "lan_id", KNOWN).value == "SCRN"


def test_boxes_drawn_as_squares() -> None:
    """Drawn squares are outlines (closed rectangular paths); what is drawn inside them ticks them."""
    ticked = [
        Mark("ink", Box(89, 159, 100, 170), "black", OUTLINE),
        Mark("ink", Box(90, 160, 99, 169), "black"),
    ]
    empty = [Mark("ink", Box(174, 159, 185, 170), "black", OUTLINE)]
    view = DocView.of(
        [_page(("Status: Completed", 40, 160, 117), ("Canceled", 188, 160, 48), marks=ticked + empty)]
    )
    assert ticked_options(view, ["completed", "canceled"])[0]
    none = DocView.of([_page(("Status: Completed", 40, 160, 117), ("Canceled", 188, 160, 48), marks=empty)])
    ticked_any, _seen, any_box = ticked_options(none, ["completed", "canceled"])
    assert any_box and not ticked_any
    cross = [
        Mark("ink", Box(39, 182, 50, 192), "black", OUTLINE),
        Mark("ink", Box(40, 182, 49, 192), "black"),
    ]
    row_ticked = DocView.of([_page(("1. * Visibility strips installed", 53, 183, 120), marks=cross)])
    row_empty = DocView.of(
        [
            _page(
                ("4. * Guys not slack", 53, 183, 90),
                marks=[Mark("ink", Box(39, 182, 50, 192), "black", OUTLINE)],
            )
        ]
    )
    assert drawn_box_state(row_ticked.pages[0], row_ticked.rows(0)[0]) is True
    assert drawn_box_state(row_empty.pages[0], row_empty.rows(0)[0]) is False
    # a lone tick stroke of a box's size is not an empty box
    stroke = DocView.of(
        [_page(("4. * Guys not slack", 53, 183, 90), marks=[Mark("ink", Box(39, 182, 50, 192))])]
    )
    assert drawn_box_state(stroke.pages[0], stroke.rows(0)[0]) is None


def test_labels_in_another_word_order() -> None:
    view = DocView.of(
        [
            _page(
                ("Construction Foreman (Signature)", 40, 188, 121),
                ("LAN ID (FOREMAN)", 43, 202, 61),
                ("______________", 46, 218, 78),
                ("Name (Print): Pritam Oyelaran", 300, 300, 150),
            )
        ]
    )
    lan = view.find_labels(["foreman lan id"])
    assert [h.seg.text for h in lan] == ["LAN ID (FOREMAN)"]
    assert read_value(view, lan[0], "lan_id", KNOWN).value == ""
    printed = view.find_labels(["print name"])[0]
    assert read_value(view, printed, "name", KNOWN).value == "Pritam Oyelaran"
    assert [h.seg.text for h in view.find_labels(["foreman signature"])] == [
        "Construction Foreman (Signature)"
    ]

"""Checklist tables read by their columns: a tick means what its column header says.

A safety checklist is often a table with answer columns (YES / NO / N/A, C / NC, OK). The tick sits
in a cell of the item's row, and only its column tells the answer: a tick under YES or N/A is
"compliant or not applicable", a tick under NO is not, and an empty box under YES next to a ticked
one under N/A is not a missing tick. Reading the row's text left to right cannot tell these apart;
the boxes' positions under the header row can.

Boxes come in every form a page can carry them: tick glyphs and ``[X]`` in the text, a lone ``X`` or
check mark typed in a cell, drawn squares (vector or, on scans, from pixels) with strokes inside,
and form check boxes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from nexa_desktop.domain.verify import OUTLINE, Box
from nexa_desktop.services.verify.reading import (
    TICKED_RE,
    UNTICKED_RE,
    DocView,
    Seg,
    _box_ticked,
    _square,
)

#: Header words of answer columns, by what a tick under them means.
POSITIVE = frozenset(
    {
        "yes",
        "y",
        "n/a",
        "na",
        "n a",
        "ok",
        "c",
        "compliant",
        "complies",
        "not applicable",
        "done",
        "check",
        "checked",
        "verified",
        "complete",
        "completed",
        "tick",
        "✓",
        "✔",
    }
)
NEGATIVE = frozenset({"no", "n", "nc", "non compliant", "not compliant", "deficient", "fail", "x no"})
#: A lone mark typed in a cell.
_LONE_TICK = re.compile(r"^\s*(?:[xX✓✔✗✘√vV]|\(\s*[xX]\s*\))\s*$")
#: On a scan, OCR reads a hand or printed tick in a cell as whatever glyph it resembles ("<", "人",
#: "J", "/"): in an answer cell, any lone short mark that is not a word or a number is a tick.
_READ_MARK = re.compile(r"^\s*(?:[^\w\s]{1,2}|[xXvVJLlI人√✓✔✗✘])\s*$")
#: The same mark read onto the end of the item's line (OCR joined the cell to the text).
_TRAILING_MARK = re.compile(r"\s(?:[^\w\s()\[\]\"'.,:;]{1,2}|[人√✓✔✗✘])\s*$")
#: How far (points) a box may sit from its column header's centre.
COLUMN_SLACK = 28.0


@dataclass(frozen=True, slots=True)
class AnswerColumn:
    cx: float
    positive: bool


def _answer_word(seg: Seg) -> bool | None:
    word = re.sub(r"[^a-z/ ✓✔]", "", seg.low).strip()
    if word in POSITIVE:
        return True
    if word in NEGATIVE:
        return False
    return None


def _header_rows(view: DocView, page: int) -> list[tuple[float, list[AnswerColumn]]]:
    """(y, columns) of each row on the page that heads answer columns: at least two answer words,
    one of them positive, and no boxes (a "[X] Yes [ ] No" question is not a header)."""
    known: list[tuple[float, list[AnswerColumn]]] | None = view.derived.get(("answer_headers", page))
    if known is not None:
        return known
    out: list[tuple[float, list[AnswerColumn]]] = []
    view.derived[("answer_headers", page)] = out
    for row in view.rows(page):
        if any(TICKED_RE.search(s.text) or UNTICKED_RE.search(s.text) for s in row):
            continue
        columns = [AnswerColumn(s.box.cx, kind) for s in row if (kind := _answer_word(s)) is not None]
        if not any(c.positive for c in columns):
            continue
        # One tick column ("Check", "OK") heads the right side of a short header row.
        single = len(columns) == 1 and len(row) <= 3 and columns[0].cx > 0.55 * view.pages[page].width
        if len(columns) >= 2 or single:
            out.append((min(s.box.y0 for s in row), columns))
    return out


def _columns_for(view: DocView, page: int, y: float) -> list[AnswerColumn]:
    """The answer columns heading a row at ``y``: the nearest header above it on its page, else the
    last one on an earlier page of the document (a table continued overleaf)."""
    above = [cols for hy, cols in _header_rows(view, page) if hy < y]
    if above:
        return above[-1]
    for earlier in range(page - 1, -1, -1):
        rows = _header_rows(view, earlier)
        if rows:
            return rows[-1][1]
    return []


def _tick_sized(box: Box) -> bool:
    """About the size of a hand tick or cross in a cell (not a rule, not a table line)."""
    return 3.0 <= box.width <= 22.0 and 3.0 <= box.height <= 22.0


def _boxes_in_row(view: DocView, page: int, row: Sequence[Seg]) -> list[tuple[float, bool]]:
    """(x centre, ticked) of every box or mark on the row."""
    content = view.pages[page]
    out: list[tuple[float, bool]] = []
    scan = content.source == "ocr"
    for seg in row:
        text = seg.text
        if _LONE_TICK.match(text) or (scan and _READ_MARK.match(text)):
            out.append((seg.box.cx, True))
            continue
        trailing = _TRAILING_MARK.search(text) if scan else None
        if trailing is not None:  # its place along the line, as for a glyph in the text
            out.append((seg.box.x0 + seg.box.width * (trailing.start() + len(text)) / 2 / len(text), True))
        for regex, ticked in ((TICKED_RE, True), (UNTICKED_RE, False)):
            for m in regex.finditer(text):
                share = (m.start() + m.end()) / 2 / max(1, len(text))
                out.append((seg.box.x0 + seg.box.width * share, ticked))
    y0 = min(s.box.y0 for s in row) - 3
    y1 = max(s.box.y1 for s in row) + 3
    tick_texts = [s.box for s in row if _LONE_TICK.match(s.text)]
    for mark in content.marks:
        if not y0 <= mark.box.cy <= y1 or mark.kind != "ink":
            continue
        if _square(mark):
            out.append((mark.box.cx, _box_ticked(content, mark, tick_texts)))
        elif mark.subtype != OUTLINE and _tick_sized(mark.box):
            out.append((mark.box.cx, True))  # a tick or cross drawn in the cell, with no box
    for fv in content.form_values:
        if fv.kind == "checkbox" and fv.box is not None and y0 <= fv.box.cy <= y1:
            out.append((fv.box.cx, fv.value == "on"))
    return out


def row_answer(view: DocView, page: int, row: Sequence[Seg]) -> bool | None:
    """Whether a checklist row is answered "compliant or not applicable" in a table with answer
    columns: True / False, or None when the row is not in such a table (read it another way)."""
    if not row:
        return None
    columns = _columns_for(view, page, min(s.box.y0 for s in row))
    if not columns:
        return None
    boxes = _boxes_in_row(view, page, row)
    if not boxes:
        return False  # an item row of an answer table with nothing in any cell: not answered
    placed: list[tuple[AnswerColumn, bool]] = []
    for x, ticked in boxes:
        nearest = min(columns, key=lambda c: abs(c.cx - x))
        if abs(nearest.cx - x) <= COLUMN_SLACK:
            placed.append((nearest, ticked))
    if not placed:
        return None  # its boxes stand elsewhere (before the item, say): not this table's answers
    return any(ticked and column.positive for column, ticked in placed)

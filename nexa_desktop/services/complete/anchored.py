"""Where to write a value on a form NEXA has no calibrated layout for: next to its printed label.

The form is read the way verification reads it (``services/verify/reading.py``): the same labels
from the rules profile, the same idea of "the value beside, above or below its label". A blank
there (underscores, a drawn line, free space after "Label:") is where the value goes; an empty
box (``[ ]``, ``☐``, a drawn square) before an option is where its tick goes. A field that already
shows a value is reported, never written over. So whatever NEXA writes, ``nexa verify`` reads back.

Positions are in displayed-page points, origin top left, like :class:`PageContent`; the writer
turns them into PDF space.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import stringWidth

from nexa_desktop.domain.rules import FieldRule
from nexa_desktop.services.verify.checks import field_candidates
from nexa_desktop.services.verify.reading import (
    TICKED_RE,
    DocView,
    LabelHit,
    Seg,
    drawn_box_before,
    is_blank_line,
    is_rule,
    norm,
    raw_index,
    read_value,
    square_before,
)

FONT = "Helvetica"
#: The least room worth writing in; a value that needs more is refused by the fitting step.
MIN_ROOM = 24.0
_UNDERSCORES = re.compile(r"_{3,}")
_EMPTY_BOX = re.compile(r"\[\s*\]|\(\s*\)|[☐□]")
_LABEL_TAIL = re.compile(r"[A-Za-z(][A-Za-z '&/()#.-]{0,40}:?")


@dataclass(frozen=True, slots=True)
class Spot:
    """Room for one value: ``page`` indexes the document's pages; ``x``/``baseline`` in displayed
    points (origin top left); ``size`` matches the form's own text."""

    page: int
    x: float
    baseline: float
    max_width: float
    size: float
    how: str  # for the preview: "after the label", "on the line above the label"…
    #: A drawn check box (x0, y0, x1, y1) to cross with two strokes, as a pen would, instead of text.
    cross: tuple[float, float, float, float] | None = None


@dataclass(frozen=True, slots=True)
class AlreadyThere:
    """The form already shows something for this field; NEXA leaves it alone."""

    text: str
    page: int


def _width(text: str, size: float = 10.0) -> float:
    return float(stringWidth(text, FONT, size))


def _x_at(seg: Seg, index: int) -> float:
    """Where character ``index`` of a run starts: from extraction's character positions, else by
    the share of the run's width (Helvetica metrics)."""
    if len(seg.xs) == len(seg.text) and seg.xs:
        if index >= len(seg.xs):
            return seg.box.x1
        if index == 0:
            return seg.box.x0
        return (seg.xs[index - 1] + seg.xs[index]) / 2
    total = _width(seg.text)
    if total <= 0:
        return seg.box.x0
    return seg.box.x0 + seg.box.width * _width(seg.text[:index]) / total


def _size_of(seg: Seg) -> float:
    """The font size of a run from its box (loose boxes are about 1.07 em tall), 9 to 11 points:
    what is written stays readable; the fitting step shrinks it where room is short."""
    return max(9.0, min(11.0, round(seg.box.height / 1.07 * 2) / 2))


def _baseline(seg: Seg) -> float:
    return seg.box.y1 - 0.2 * seg.box.height


def _raw_end(seg: Seg, hit: LabelHit) -> int:
    """Index in the raw text just after the label (and its colon): the label's letters and digits
    counted off the raw text, which may spell it with other spaces and hyphens ("LAN-ID")."""
    wanted = sum(ch.isalnum() for ch in seg.low[: hit.end])
    pos = 0
    while pos < len(seg.text) and wanted > 0:
        if seg.text[pos].isalnum():
            wanted -= 1
        pos += 1
    m = re.match(r"[)\]'.]*\s*[#.]?\s*:?", seg.text[pos:])  # "(Print)", "No.", "#:"
    return pos + (m.end() if m else 0)


def value_spot(
    view: DocView, hit: LabelHit, shape: str, known_labels: Sequence[str]
) -> Spot | AlreadyThere | None:
    """Where the value of the field labelled ``hit`` belongs; None when the form shows no room."""
    current = read_value(view, hit, shape, known_labels)
    if current.value:
        return AlreadyThere(current.value, current.page)
    seg = hit.seg
    size = _size_of(seg)
    end = _raw_end(seg, hit)
    after = seg.text[end:]
    colon = hit.colon
    if _LABEL_TAIL.fullmatch(after.strip()):
        # the printed label is longer than ours ("Date Field Verified", "LAN ID (Foreman):")
        colon, after = after.strip().endswith(":"), ""
    if after.strip():
        blank = _UNDERSCORES.match(after.lstrip())
        if blank is None:
            return None  # the next label follows at once, or text NEXA cannot place around
        start = end + (len(after) - len(after.lstrip())) + blank.start()
        x0, x1 = _x_at(seg, start), _x_at(seg, start + len(blank.group()))
        return Spot(seg.page, x0 + 2, _baseline(seg), x1 - x0 - 4, size, "on the line after the label")

    page = view.pages[seg.page]
    b = seg.box
    # a line drawn after the label on its row ("Date: ____" as a rule, or a value column's line)
    row = [o for o in view.segs if o.page == seg.page and o is not seg and abs(o.box.cy - b.cy) <= 4]
    for mark in sorted(page.marks, key=lambda mk: mk.box.x0):
        m = mark.box
        if not (is_rule(mark) and 0 <= m.x0 - b.x1 <= 320 and b.y0 <= m.cy <= b.y1 + 5):
            continue
        if any(b.x1 < o.box.x0 < m.x1 for o in row):
            break  # other text sits between the label and the line (or on it): not our line
        return Spot(seg.page, m.x0 + 3, m.y0 - 1.5, m.width - 6, size, "on the line after the label")
    directions = ("right", "below") if colon else ("above", "right", "below")
    for direction in directions:
        near = view.neighbours(seg, direction=direction, max_gap=26.0 if direction == "above" else 16.0)
        near = [o for o in near if o.box.height <= 2.2 * max(b.height, 4.0)]
        if near and is_blank_line(near[0].text):
            line = near[0]
            where = {"above": "on the line above the label", "right": "on the line after the label"}
            return Spot(
                seg.page,
                line.box.x0 + 3,
                _baseline(line),
                line.box.width - 6,
                _size_of(line),
                where.get(direction, "on the line below the label"),
            )
    if not colon:
        # a label printed under a drawn line ("Foreman LAN ID" under a rule)
        for mark in page.marks:
            m = mark.box
            overlap = min(m.x1, b.x1) - max(m.x0, b.x0)
            if is_rule(mark) and 0 <= b.y0 - m.y1 <= 10 and overlap > 0:
                return Spot(seg.page, m.x0 + 3, m.y0 - 2, m.width - 6, size, "on the line above the label")
        return None
    # "Label:" with free room after it on its row
    right = [o.box.x0 for o in view.neighbours(seg, direction="right")]
    limit = (min(right) - 8) if right else page.width - 36
    x = b.x1 + 6
    if limit - x >= MIN_ROOM:
        return Spot(seg.page, x, _baseline(seg), limit - x, size, "after the label")
    return None


def tick_spot(
    view: DocView, option_labels: Sequence[str], all_options: Sequence[str], *, start: int = 0
) -> Spot | AlreadyThere | None:
    """Where to tick one option of a choice ("Completed", "Built as designed"): its empty box.

    If another option of the choice is already ticked, that is what the form says: AlreadyThere.
    """
    wanted = sorted({norm(o) for o in option_labels}, key=len, reverse=True)
    every = sorted({norm(o) for o in all_options}, key=len, reverse=True)
    for seg in view.segs:
        if seg.order < start:
            continue
        for option in every:
            for m in re.finditer(r"(?<![a-z])" + re.escape(option) + r"(?![a-z])", seg.low):
                before = seg.low[: m.start()].rstrip()
                ticked = TICKED_RE.search(before[-4:]) if before else None
                if ticked and before.endswith(ticked.group()):
                    start_raw = raw_index(seg, m.start())
                    printed = " ".join(seg.text[start_raw:].split()[: len(option.split())])
                    return AlreadyThere(f"{printed} (ticked)", seg.page)
    for seg in view.segs:
        if seg.order < start:
            continue
        for option in wanted:
            found = re.search(r"(?<![a-z])" + re.escape(option) + r"(?![a-z])", seg.low)
            if found is None:
                continue
            raw = raw_index(seg, found.start())
            before = seg.text[:raw]
            box: re.Match[str] | None = None
            for candidate in _EMPTY_BOX.finditer(before):
                box = candidate
            if box is not None and not before[box.end() :].strip():
                centre = (_x_at(seg, box.start()) + _x_at(seg, box.end())) / 2
                size = _size_of(seg)
                return Spot(seg.page, centre - _width("X", size) / 2, _baseline(seg), 12, size, "in its box")
            page = view.pages[seg.page]
            x = _x_at(seg, raw)
            if drawn_box_before(page, seg, x) is False:
                square = square_before(page, seg, x)
                if square is not None:
                    s = square.box
                    size = max(6.0, min(11.0, s.height * 0.9))
                    inset = max(1.5, 0.2 * min(s.width, s.height))
                    return Spot(
                        seg.page,
                        s.cx - _width("X", size) / 2,
                        s.y1 - (s.height - 0.7 * size) / 2,
                        s.width + 2,
                        size,
                        "in its box",
                        cross=(s.x0 + inset, s.y0 + inset, s.x1 - inset, s.y1 - inset),
                    )
    return None


def field_spot(
    view: DocView, rule: FieldRule, rules: Sequence[FieldRule], known_labels: Sequence[str]
) -> Spot | AlreadyThere | None:
    """The spot for a value field of the rules profile, found where verification looks for it."""
    hits = field_candidates(view, rule, rules)
    if not hits:
        return None
    return value_spot(view, hits[0], rule.shape, known_labels)

"""Reading a form the way a person does: labels, the values beside, above or below them, ticked
boxes and signature lines, from the text runs and marks extraction found on each page."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nexa_desktop.domain.verify import OUTLINE, Box, Mark, PageContent, TextLine

_SPACES = re.compile(r"\s+")
_UNDERSCORES = re.compile(r"^[_\s.\-]{3,}$")
_TICKED = r"(?:\[\s*[xX✓✔✗✘■●]\s*\]|☒|☑|✅|■|✓|✔|\(\s*[xX]\s*\))"
_UNTICKED = r"(?:\[\s*\]|☐|□|\(\s*\))"
TICKED_RE = re.compile(_TICKED)
UNTICKED_RE = re.compile(_UNTICKED)
_BOX_BEFORE = re.compile(rf"({_TICKED}|{_UNTICKED})\s*$")
_BOX_AFTER = re.compile(rf"^\s*({_TICKED}|{_UNTICKED})")
_NEXT_LABEL = re.compile(r"\s(?=[A-Za-z][A-Za-z0-9/#&.'()\- ]{0,40}:)")
#: Extraction joins far-apart runs of one visual line with three spaces; we read them apart.
_COLUMN_GAP = re.compile(r"\s{3,}")
_LABEL_TOKENS = re.compile(r"[a-z]+")
_FIELD_TEXT = re.compile(r"^[A-Za-z][\w /#&.'()-]{0,30}:")
_LABEL_WORDS = re.compile(r"[A-Za-z(][A-Za-z '&/()#.-]*")
_LABEL_TAIL = re.compile(r"^[A-Za-z(][A-Za-z '&/()#.-]{0,40}?:\s*")

SHAPES: dict[str, re.Pattern[str]] = {
    "lan_id": re.compile(r"^[A-Za-z0-9](?: ?[A-Za-z0-9]){3}\b"),  # OCR may split it: "E4W D"
    "date": re.compile(
        r"^(\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}\s+\d{1,2}\s+\d{2,4}"
        r"|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:,\s*|\s+)\d{4}|\d{1,2}[\s\-/][A-Za-z]{3,9}[\s\-/]\d{2,4})"
    ),
    "pm": re.compile(r"^(?:PM[-\s]?)?\d{8}\b", re.IGNORECASE),
    "notification": re.compile(r"^\d{9}\b"),
    "name": re.compile(r"^[A-Za-z][A-Za-z.'\-]*(?:\s+[A-Za-z][A-Za-z.'\-]*)*"),
    "any": re.compile(r"^\S"),
}


def norm(text: str) -> str:
    """Lower-case, compatibility-normalised, single-spaced text for matching labels."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("–", "-").replace("—", "-")
    text = re.sub(r"\s*/\s*", "/", text)
    text = re.sub(r"(?<=[a-z])'s\b", "", text)  # "Contractor's Representative"
    text = re.sub(r"(?<=[a-z])\.", "", text)  # "Notif. No." -> "notif no"
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)  # "Sign-Off", "Unit-Price", "Red-Lined"
    text = text.replace(" & ", " and ")
    return _SPACES.sub(" ", text).strip()


def is_blank_line(text: str) -> bool:
    """A run of underscores (an empty field or an unsigned line)."""
    return bool(_UNDERSCORES.match(text.strip())) and "_" in text


def split_columns(line: TextLine) -> list[TextLine]:
    """A visual line split where extraction marked a wide gap, boxes estimated by character share."""
    text = line.text
    if not _COLUMN_GAP.search(text.strip()):
        return [line]
    out: list[TextLine] = []
    total = max(1, len(text))
    width = line.box.width
    xs = line.xs if len(line.xs) == len(text) else ()
    for m in re.finditer(r"\S+(?:\s{1,2}\S+)*", text):
        x0 = line.box.x0 + width * m.start() / total
        x1 = line.box.x0 + width * m.end() / total
        part = xs[m.start() : m.end()]
        out.append(TextLine(m.group(0), Box(x0, line.box.y0, x1, line.box.y1), part))
    return out or [line]


@dataclass(slots=True)
class Seg:
    """A text run of one page of a document, with its position in reading order."""

    text: str
    low: str
    box: Box
    page: int  # index into the document's pages
    order: int
    #: Each character's horizontal centre, when extraction kept them (else empty).
    xs: tuple[float, ...] = ()


@dataclass(slots=True)
class LabelHit:
    seg: Seg
    label: str
    start: int
    end: int
    colon: bool
    rest: str  # raw text after the label (and its colon) in the same run


@dataclass(slots=True)
class ValueResult:
    """What sits in a field: ``value`` is "" when the field is blank; ``hit`` is the label found."""

    found: bool
    value: str = ""
    hit: LabelHit | None = None
    page: int = 0
    snippet: str = ""
    #: Where the value was looked for (the label and the space its value would fill).
    region: Box | None = None
    #: A blank was seen where the value belongs (underscores, an empty rule): strong evidence.
    blank: bool = False


@dataclass(slots=True)
class DocView:
    """The pages of one document, ready for label lookups."""

    pages: list[PageContent]
    segs: list[Seg] = field(default_factory=list)
    #: Per-page results that other readers derive once (answer-table header rows, say).
    derived: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, pages: Sequence[PageContent]) -> DocView:
        view = cls(list(pages))
        order = 0
        for index, page in enumerate(view.pages):
            runs = [run for line in page.lines for run in split_columns(line)]
            for line in sorted(runs, key=lambda ln: (round(ln.box.cy / 4), ln.box.x0)):
                if not line.text.strip():
                    continue
                lead = len(line.text) - len(line.text.lstrip())
                text = line.text.strip()
                xs = line.xs[lead : lead + len(text)] if len(line.xs) == len(line.text) else ()
                view.segs.append(Seg(text, norm(line.text), line.box, index, order, xs))
                order += 1
        return view

    # ------------------------------------------------------------------ structure
    def rows(self, page: int) -> list[list[Seg]]:
        """Runs of one page grouped into visual rows, top to bottom, left to right."""
        segs = sorted((s for s in self.segs if s.page == page), key=lambda s: s.box.cy)
        rows: list[list[Seg]] = []
        for seg in segs:
            if rows:
                last = rows[-1]
                ref = last[0].box
                tol = max(2.5, 0.55 * min(ref.height, seg.box.height) if seg.box.height > 0 else 2.5)
                if abs(seg.box.cy - ref.cy) <= tol:
                    last.append(seg)
                    continue
            rows.append([seg])
        return [sorted(r, key=lambda s: s.box.x0) for r in rows]

    def section_start(self, headings: Iterable[str]) -> int:
        """Order of the first run mentioning one of ``headings`` (0 when none does)."""
        wanted = [norm(h) for h in headings]
        for seg in self.segs:
            if any(w in seg.low for w in wanted):
                return seg.order
        return 0

    # ------------------------------------------------------------------ labels
    def find_labels(
        self, labels: Sequence[str], *, exclude: Sequence[str] = (), start: int = 0, page: int | None = None
    ) -> list[LabelHit]:
        """Occurrences of any of ``labels`` (longest first at each place), in reading order."""
        wanted = sorted({norm(lb) for lb in labels if lb.strip()}, key=len, reverse=True)
        excluded = [norm(e) for e in exclude]
        hits: list[LabelHit] = []
        for seg in self.segs:
            if seg.order < start or (page is not None and seg.page != page):
                continue
            taken: list[tuple[int, int]] = []
            for label in wanted:
                for m in re.finditer(re.escape(label), seg.low):
                    s, e = m.start(), m.end()
                    if s > 0 and seg.low[s - 1].isalnum():
                        continue
                    if e < len(seg.low) and seg.low[e].isalnum() and not label.endswith("#"):
                        continue
                    if any(s < te and e > ts for ts, te in taken):
                        continue
                    context = seg.low[max(0, s - 25) : e + 5]
                    if any(x in context for x in excluded):
                        continue
                    taken.append((s, e))
                    after = seg.low[e:]
                    colon = bool(re.match(r"^\s*[#.]?\s*:", after))
                    hits.append(LabelHit(seg, label, s, e, colon, _raw_after(seg.text, seg.low, e)))
            if not taken and self.pages[seg.page].source == "ocr":
                # OCR drops or adds spaces and small punctuation ("PMOrder#:", "C ontractor"):
                # on a scan, a label also matches on its letters and digits alone.
                squeezed = _squeezed_hits(seg, wanted, excluded)
                taken = [(h.start, h.end) for h in squeezed]
                hits += squeezed
            if not taken:
                hit = self._reordered_label(seg, wanted, excluded)
                if hit is not None:
                    hits.append(hit)
        hits.sort(key=lambda h: (h.seg.order, h.start))
        return hits

    @staticmethod
    def _reordered_label(seg: Seg, wanted: Sequence[str], excluded: Sequence[str]) -> LabelHit | None:
        """A short run that is one of our labels in another order ("LAN ID (Foreman)",
        "Foreman (Signature)"): all the label's words, little else, no value after it."""
        head, colon, _tail = seg.low.partition(":")
        words = _LABEL_TOKENS.findall(head)
        if not words or len(words) > 6 or any(ch.isdigit() for ch in head):
            return None
        if any(x in head for x in excluded):
            return None
        present = set(words)
        for label in wanted:
            need = _LABEL_TOKENS.findall(label)
            if len(need) >= 2 and set(need) <= present and len(words) <= len(need) + 2:
                rest = seg.text.split(":", 1)[1].strip() if colon else ""
                return LabelHit(seg, label, 0, len(head), bool(colon), rest)
        return None

    def is_label_text(self, seg: Seg, known: Sequence[str]) -> bool:
        low = seg.low.rstrip(":").strip().rstrip(")").replace("(", "")
        return any(low == norm(k) or low.endswith(" " + norm(k)) for k in known) or low.endswith(
            ("signature", "name", "date", "lan id", "title", "signed")
        )

    def column_of(self, seg: Seg) -> tuple[float, float]:
        """The horizontal extent of a label's column in a row of labels (a form grid): from the
        label to the next run on its row, so a value right-aligned in the cell below still counts."""
        b = seg.box
        cell = _cell_around(self.pages[seg.page], b)
        if cell is not None:  # a drawn grid: the label's cell is its column
            return (cell.x0 - 1, cell.x1 + 1)
        top = _rule_over(self.pages[seg.page], b)
        if top is not None:  # a scanned grid shows its cells' top edges as rules
            return (top.x0 - 1, top.x1 + 1)
        right = [
            o.box.x0
            for o in self.segs
            if o.page == seg.page and o is not seg and o.box.x0 > b.x1 and abs(o.box.cy - b.cy) <= 3
        ]
        page_right = self.pages[seg.page].width - 18
        return (b.x0 - 6, (min(right) - 4) if right else max(b.x1 + 20, page_right))

    def neighbours(self, seg: Seg, *, direction: str, max_gap: float = 24.0) -> list[Seg]:
        """Runs directly above, below or to the right of ``seg`` on its page, nearest first (and,
        at the same distance, the one best aligned with it)."""
        out: list[tuple[float, float, Seg]] = []
        b = seg.box
        cell = self.column_of(seg) if direction == "below" else None
        for other in self.segs:
            if other.page != seg.page or other is seg:
                continue
            o = other.box
            if direction == "right":
                same_row = abs(o.cy - b.cy) <= max(3.0, 0.6 * b.height)
                if same_row and o.x0 >= b.x1 - 1 and o.x0 - b.x1 <= 420:
                    out.append((o.x0 - b.x1, 0.0, other))
                continue
            overlap = min(o.x1, b.x1) - max(o.x0, b.x0)
            in_cell = direction == "below" and cell is not None and cell[0] <= o.cx <= cell[1]
            if overlap <= 0 and not in_cell and not (b.x0 - 20 <= o.cx <= b.x1 + 20):
                continue
            # same distance: first what lies under the label or in its cell, then the best aligned
            aligned = 0 if overlap > 0 or in_cell else 1
            # OCR boxes are padded: a run whose middle is past the label's edge and whose near edge
            # is past the label's middle is above / below it even when the boxes overlap
            above = o.y1 <= b.y0 + 2 or (o.cy <= b.y0 and o.y1 < b.cy)
            below = o.y0 >= b.y1 - 2 or (o.cy >= b.y1 and o.y0 > b.cy)
            if direction == "above" and above and b.y0 - o.y1 <= max_gap:
                out.append((max(0.0, b.y0 - o.y1), aligned - 0.001 * overlap, other))
            elif direction == "below" and below and o.y0 - b.y1 <= max_gap:
                out.append((max(0.0, o.y0 - b.y1), aligned - 0.001 * overlap, other))
        if direction != "right" and out:
            # runs on the same line of text are equally near (scans are a little skewed): among
            # them, what lies under the label or in its cell first, then the best aligned
            nearest = min(t[0] for t in out)
            line = max(3.0, 0.6 * b.height)
            return [s for _, _, s in sorted(out, key=lambda t: (int((t[0] - nearest) // line), t[1], t[0]))]
        return [s for _, _, s in sorted(out, key=lambda t: (t[0], t[1]))]


def _squeezed_hits(seg: Seg, wanted: Sequence[str], excluded: Sequence[str]) -> list[LabelHit]:
    """Labels found in ``seg`` comparing letters and digits only (longest label first)."""
    kept = [i for i, ch in enumerate(seg.low) if ch.isalnum()]
    squeezed = "".join(seg.low[i] for i in kept)
    hits: list[LabelHit] = []
    taken: list[tuple[int, int]] = []
    for label in wanted:
        key = "".join(ch for ch in label if ch.isalnum())
        if len(key) < 4:
            continue  # too short to find safely without its spaces
        for m in re.finditer(re.escape(key), squeezed):
            s, e = kept[m.start()], kept[m.end() - 1] + 1
            if (m.start() > 0 and s > 0 and seg.low[s - 1].isalpha()) or any(
                s < te and e > ts for ts, te in taken
            ):
                continue
            if key[-1].isalpha() and e < len(seg.low) and seg.low[e].isalpha():
                continue  # the start of a longer word ("order" in "Orders with missing…")
            if any(x in seg.low[max(0, s - 25) : e + 5] for x in excluded):
                continue
            taken.append((s, e))
            colon = bool(re.match(r"^\s*[#.]?\s*:", seg.low[e:]))
            hits.append(LabelHit(seg, label, s, e, colon, _raw_after(seg.text, seg.low, e)))
    return hits


def _raw_after(raw: str, low: str, end: int) -> str:
    """The raw text after position ``end`` of the normalised string (same words, other spacing)."""
    tail_low = low[end:]
    words_tail = len(tail_low.split())
    words = raw.split()
    rest = " ".join(words[len(words) - words_tail :]) if words_tail else ""
    if tail_low and not tail_low[:1].isspace() and words_tail and rest:
        # the label ended inside a word (e.g. "PM#:123"): keep the remainder of that word
        first = tail_low.split()[0]
        rest = first + rest[len(rest.split()[0]) :]
    return rest.lstrip(" :#.-\t").strip()


def leading_value(rest: str) -> str:
    """The value right after a label: up to the next ``Label:`` in the same run."""
    rest = rest.lstrip(" )]}")  # the rest of a bracketed label: "(Date field verified)"
    if not rest:
        return ""
    cut = _NEXT_LABEL.split(rest, maxsplit=1)[0] if ":" in rest else rest
    return cut.strip()


#: Shapes a whole run must have when it stands alone as a field's value (not after a colon).
WHOLE_SHAPES: dict[str, re.Pattern[str]] = {
    "lan_id": re.compile(r"^[A-Za-z0-9]{4}$"),
    "pm": re.compile(r"^(?:PM[-\s]?)?\d{8}$", re.IGNORECASE),
    "notification": re.compile(r"^\d{9}$"),
    "name": re.compile(r"^[A-Za-z][A-Za-z.'\-]*(?:\s+[A-Za-z][A-Za-z.'\-]*){0,4}$"),
}


def value_has_shape(value: str, shape: str, *, whole: bool = False) -> bool:
    if not value or is_blank_line(value) or value.startswith("_"):
        return False
    if whole and shape in WHOLE_SHAPES:
        return bool(WHOLE_SHAPES[shape].match(value.strip()))
    pattern = SHAPES.get(shape, SHAPES["any"])
    return bool(pattern.match(value.strip()))


def read_value(view: DocView, hit: LabelHit, shape: str, known_labels: Sequence[str]) -> ValueResult:
    """The value of the field whose label is ``hit``: beside it, to its right, above or below.

    Fillable forms may carry the value only in a form field: a filled field beside or above the
    label counts even when the page shows blank underscores.
    """
    result = _read_printed_value(view, hit, shape, known_labels)
    if result.value:
        return result
    filled = form_value_near(view, hit.seg, shape)
    if filled:
        return ValueResult(True, filled, hit, hit.seg.page, f"{filled} / {hit.seg.text}")
    return result


def form_value_near(view: DocView, seg: Seg, shape: str = "any") -> str:
    """A filled text form field with the field's shape on the label's row (to its right) or just
    above it, the best aligned first."""
    b = seg.box
    best: tuple[float, str] | None = None
    for fv in view.pages[seg.page].form_values:
        value = fv.value.strip()
        if fv.kind != "text" or fv.box is None or not value or not value_has_shape(value, shape):
            continue
        o = fv.box
        overlap_y = min(o.y1, b.y1) - max(o.y0, b.y0)
        overlap_x = min(o.x1, b.x1) - max(o.x0, b.x0)
        if overlap_y > 0.3 * min(o.height, b.height) and o.x0 >= b.x0:
            distance = max(0.0, o.x0 - b.x1)  # same row, to the right
            if distance > 260:
                continue
        elif 0 <= b.y0 - o.y1 <= 26 and overlap_x >= 0.3 * min(b.width, o.width):
            distance = b.y0 - o.y1 - 0.01 * overlap_x  # just above, the best aligned wins
        else:
            continue
        if best is None or distance < best[0]:
            best = (distance, value)
    return best[1] if best else ""


def _read_printed_value(view: DocView, hit: LabelHit, shape: str, known_labels: Sequence[str]) -> ValueResult:
    seg = hit.seg
    value = leading_value(hit.rest)
    snippet = seg.text
    if not hit.colon:
        longer = _LABEL_TAIL.match(hit.rest)
        if longer:  # the label is longer than ours ("Date Field Verified: 06/25/2025", "No.: 123")
            value = leading_value(hit.rest[longer.end() :])
            if not value:
                hit = LabelHit(seg, hit.label, hit.start, len(seg.low), True, "")
        elif (
            value
            and _LABEL_WORDS.fullmatch(value)
            and not _SEPARATED.match(seg.text[raw_index(seg, hit.end) :])
        ):
            value = ""  # "Date Field Verified", "Name (Print)": the value sits in another run
    if value and not value_has_shape(value, shape):
        # The printed label runs on past ours and another separator introduces the value
        # ("Date Completed / Canceled - 2/24/26", "PM/Order No. - 35992806").
        tail = value
        value = _after_label_tail(tail, shape)
        if not value and not _LABEL_WORDS.fullmatch(tail.lstrip("/ ")):
            value = tail  # something else follows the label: judge it as its value
    zone = value_zone(view, seg)
    if value.startswith("_"):
        # a value typed over the underline, read after it ("PM #_ 48427437")
        over = value.lstrip("_ ")
        if over and value_has_shape(over, shape) and not over.startswith("_"):
            value = over
    if value:
        if value.startswith("_") or is_blank_line(value):
            return ValueResult(True, "", hit, seg.page, snippet, seg.box, blank=True)
        if value.endswith(":") or re.match(r"^[A-Za-z][A-Za-z /#&.'-]{0,30}:", value):
            return ValueResult(True, "", hit, seg.page, snippet, zone)  # the next label follows at once
        return ValueResult(True, value if value_has_shape(value, shape) else "", hit, seg.page, snippet)
    # The value sits in another run: beside it (a column to the right), above it (a line over the
    # label) or below it. Take the nearest run in each direction that has the field's shape.
    # "Label:" is followed by its value (beside or under it); a bare label sits under its value.
    directions: tuple[str, ...] = ("right", "below") if hit.colon else ("above", "right", "below")
    blank = ""
    blank_box: Box | None = None
    if _rule_beside(view, seg):
        blank = "[empty line]"
        directions = tuple(d for d in directions if d != "below")
    cell = _cell_around(view.pages[seg.page], seg.box)
    for direction in directions:
        near = view.neighbours(seg, direction=direction, max_gap=26.0 if direction == "above" else 16.0)
        # stamps and watermarks ("FAXED", "COPY") are much taller than form text, and a format hint
        # ("MM DD YY") is a caption: look past them
        tallest = 2.2 * max(seg.box.height, 4.0)
        near = [o for o in near if o.box.height <= tallest and not _FORMAT_HINT.match(o.text)]
        if direction == "below":  # a run level with the label further right is beside it, not under it
            near = [o for o in near if o.box.y0 >= seg.box.y1 - 0.5 or o.box.x0 < seg.box.x1]
        if cell is not None:  # in a drawn grid the value is in the label's own cell
            near = [o for o in near if _inside(o.box, cell)]
        if not near:
            continue
        text = near[0].text.strip()
        if is_blank_line(text):
            if not blank:
                blank, blank_box = text, near[0].box
            continue
        if view.is_label_text(near[0], known_labels) or text.endswith(":"):
            continue
        distinct = shape in _DISTINCT_SHAPES and value_has_shape(text, shape, whole=True)
        if direction == "below" and (
            _FIELD_TEXT.match(text)
            or (
                not distinct  # a PM number or a date is a value, whatever stands beside it
                and abs(near[0].box.x0 - seg.box.x0) < 3
                and view.neighbours(near[0], direction="right")
                and near[0].box.height <= 1.15 * seg.box.height  # written larger: a cell's value
            )
        ):
            continue  # the next row's label ("Address / GPS: ...", a label column), not our value
        if value_has_shape(text, shape, whole=True):
            return ValueResult(True, text, hit, seg.page, f"{text} / {snippet}")
    if blank:
        region = _union(seg.box, blank_box) if blank_box is not None else zone
        return ValueResult(True, "", hit, seg.page, f"{blank} / {snippet}", region, blank=True)
    for page_value in view.pages[seg.page].form_values:
        if (
            page_value.kind == "text"
            and page_value.value.strip()
            and _label_matches_field(hit.label, page_value.name)
        ):
            return ValueResult(
                True, page_value.value.strip(), hit, seg.page, f"{page_value.value} / {snippet}"
            )
    # Nothing written where the value goes. When that place is drawn (the label's cell, or the line
    # the label is the caption of), we saw it empty; otherwise the value may sit where we did not look.
    line_over = _line_above(view, seg, seg.box.x0 - 12, seg.box.x1 + 12)
    drawn = (
        cell is not None
        or _cell_under_label(view.pages[seg.page], seg) is not None
        or (line_over is not None and seg.box.y0 - line_over <= 10)
    )
    return ValueResult(True, "", hit, seg.page, snippet, zone, blank=drawn)


def _union(a: Box, b: Box) -> Box:
    return Box(min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1))


def value_zone(view: DocView, seg: Seg) -> Box:
    """The label and the space its value fills: its cell when the form is a grid, else the rest of
    its column on the label's row and a line under it."""
    b = seg.box
    page = view.pages[seg.page]
    cell = _cell_around(page, b)
    if cell is not None:
        return _union(b, cell)
    _left, right = view.column_of(seg)
    return Box(b.x0 - 2, b.y0 - 2, min(max(right, b.x1 + 40), b.x1 + 220, page.width), b.y1 + 1.5 * b.height)


def signature_zone(view: DocView, hit: LabelHit, known_labels: Sequence[str]) -> tuple[Box, bool]:
    """Where a signature's ink was looked for (label, line and the space on it), and whether a
    signature line (a rule, underscores or a cell under the label) was seen there."""
    seg = hit.seg
    page = view.pages[seg.page]
    zone = _union(seg.box, _signature_zone(view, seg))
    cell = _cell_under_label(page, seg)
    if cell is not None:
        return _union(zone, cell), True
    beside = _beside_zone(view, seg, known_labels)
    line = _line_above(view, seg, zone.x0, zone.x1) is not None
    line_beside = any(is_rule(m) and _inside(m.box, beside) for m in page.marks) or any(
        o.page == seg.page and is_blank_line(o.text) and _inside(o.box, beside) for o in view.segs
    )
    if line_beside:
        return _union(seg.box, beside), True
    return zone, line or is_blank_line(leading_value(hit.rest) or "x")


#: A printed format hint under or over a field ("MM DD YY", "(mm/dd/yyyy)"), not a value.
_FORMAT_HINT = re.compile(r"^\W*(?:mm|dd|yy|yyyy)(?:\W+(?:mm|dd|yy|yyyy))+\W*$", re.IGNORECASE)
#: A dash or equals sign between a label and its value ("Printed Name - Felix Hollis").
_SEPARATED = re.compile(r"^\s*[-–—=]\s")
#: Label words, then a separator (colon, dash, equals sign), then the value.
_TAIL_THEN_SEPARATOR = re.compile(r"^[A-Za-z /()#.&'’]{0,40}?\s*(?::|[-–—=]\s)\s*")
#: Shapes distinctive enough to be found after any label words, even without a separator.
_DISTINCT_SHAPES = ("date", "pm", "notification")


def _after_label_tail(text: str, shape: str) -> str:
    """The value in ``text`` once the rest of a longer label and its separator are passed."""
    tail = _TAIL_THEN_SEPARATOR.match(text)
    if tail and tail.end() < len(text):
        value = leading_value(text[tail.end() :])
        if value and (value_has_shape(value, shape) or value.startswith("_")):
            return value
    if shape in _DISTINCT_SHAPES:
        words = re.match(r"^[A-Za-z /()#.&'’:\-–—=]{0,40}?(?=\d)", text)
        if words and value_has_shape(text[words.end() :], shape):
            return leading_value(text[words.end() :])
    return ""


def _label_matches_field(label: str, field_name: str) -> bool:
    a = re.sub(r"[^a-z0-9]", "", label.lower())
    b = re.sub(r"[^a-z0-9]", "", field_name.lower())
    return bool(a) and (a in b or b in a)


# ---------------------------------------------------------------------- check boxes


def ticked_options(view: DocView, options: Sequence[str], *, start: int = 0) -> tuple[bool, list[Seg], bool]:
    """(any option ticked, runs showing the options, any option seen with a box at all)."""
    wanted = sorted({norm(o) for o in options}, key=len, reverse=True)
    seen: list[Seg] = []
    any_box = False
    for seg in view.segs:
        if seg.order < start:
            continue
        for option in wanted:
            for m in re.finditer(re.escape(option), seg.low):
                before = seg.text[: raw_index(seg, m.start())]
                after = seg.text[raw_index(seg, m.end()) :]
                box = _BOX_BEFORE.search(before) or _BOX_AFTER.match(after)
                if not box:
                    continue
                any_box = True
                seen.append(seg)
                if TICKED_RE.fullmatch(box.group(1).strip()):
                    return True, [seg], True
    # boxes drawn as squares (no text): the square just left of an option's run
    for seg in view.segs:
        if seg.order < start:
            continue
        for option in wanted:
            index = seg.low.find(option)
            if index < 0:
                continue
            x = seg.box.x0 + seg.box.width * index / max(1, len(seg.low))  # where the option starts
            state = drawn_box_before(view.pages[seg.page], seg, x)
            if state is None:
                continue
            any_box = True
            seen.append(seg)
            if state:
                return True, [seg], True
    # fillable forms: ticked check box fields named after an option, or on an option's row
    for page in view.pages:
        for fv in page.form_values:
            named = any(w.replace(" ", "") in norm(fv.name).replace(" ", "") for w in wanted)
            if fv.kind == "checkbox" and named:
                any_box = True
                if fv.value == "on":
                    return True, seen, True
    for seg in view.segs:
        if seg.order < start or not any(option in seg.low for option in wanted):
            continue
        for fv in view.pages[seg.page].form_values:
            if fv.kind != "checkbox" or fv.box is None:
                continue
            o, b = fv.box, seg.box
            if min(o.y1, b.y1) - max(o.y0, b.y0) > 0 and b.x0 - 30 <= o.x0 <= b.x1:
                any_box = True
                seen.append(seg)
                if fv.value == "on":
                    return True, [seg], True
    return False, seen, any_box


def raw_index(seg: Seg, low_index: int) -> int:
    """Map an index in the normalised text back to the raw text (same words, maybe other spacing)."""
    words_before = len(seg.low[:low_index].split())
    raw_words = seg.text.split()
    if words_before >= len(raw_words):
        return len(seg.text)
    pos = 0
    for i, word in enumerate(raw_words):
        pos = seg.text.index(word, pos)
        if i == words_before:
            return pos
        pos += len(word)
    return len(seg.text)


def row_tick(row: Sequence[Seg]) -> bool | None:
    """Whether a checklist row is ticked (True), unticked (False) or shows no box (None)."""
    text = " ".join(s.text for s in row)
    ticks = list(TICKED_RE.finditer(text))
    empties = list(UNTICKED_RE.finditer(text))
    if not ticks and not empties:
        return None
    last_tick = ticks[-1].start() if ticks else -1
    last_empty = empties[-1].start() if empties else -1
    return last_tick > last_empty


# ---------------------------------------------------------------------- signatures

_SIGNED_TEXT = re.compile(
    r"(/s/|^s/\s*[A-Za-z]|^x$|^\(signed\)|^signed\b|^[A-Za-z][A-Za-z.'\- ]{2,})", re.IGNORECASE
)


def signature_present(view: DocView, hit: LabelHit, known_labels: Sequence[str]) -> tuple[bool, str]:
    """Whether the signature line labelled by ``hit`` is signed, and the evidence snippet.

    Signed: typed ``/s/ Name``, an ``X`` mark, a name, drawn ink strokes, a pasted image, an ink or
    stamp annotation, or a signed signature field in the space just above (or beside) the label. A
    line of underscores or an empty rule is not a signature.
    """
    seg = hit.seg
    page = view.pages[seg.page]
    value = leading_value(hit.rest)
    if value:
        if is_blank_line(value) or value.startswith("_"):
            return False, seg.text
        if _SIGNED_TEXT.search(value):
            return True, seg.text
    beside = _beside_zone(view, seg, known_labels)
    # "Signature: ________" or a rule drawn beside the label: the signature belongs there, and
    # whatever sits above the label is the previous row of the form.
    line_beside = any(
        o.box.x0 >= seg.box.x1 - 2 and _inside(o.box, beside) and is_blank_line(o.text)
        for o in view.segs
        if o.page == seg.page
    ) or any(
        # a rule beside the label runs along its baseline; one over the label's top is the line
        # the signature above was written on
        is_rule(m) and m.box.x0 >= seg.box.x1 - 2 and _inside(m.box, beside) and m.box.cy >= seg.box.cy
        for m in page.marks
    )
    over = _line_above(view, seg, seg.box.x0, seg.box.x1)
    if line_beside and over is not None and seg.box.y0 - over <= 8:
        line_beside = False  # the label is the caption under its own line; beside it is the next cell
    zone = _signature_zone(view, seg)
    for other in [] if line_beside else view.segs:
        if other.page != seg.page or other is seg:
            continue
        if _inside(other.box, zone) and seg.box.y0 - other.box.y1 <= 20:
            text = other.text.strip()
            if is_blank_line(text) or view.is_label_text(other, known_labels):
                continue
            if _SIGNED_TEXT.search(text):
                return True, f"{text} / {seg.text}"
    if not line_beside and page.source != "none" and _marks_in(page.marks, zone):
        return True, f"[drawn or pasted signature] / {seg.text}"
    for other in view.segs:
        if other.page == seg.page and other is not seg and _inside(other.box, beside):
            text = other.text.strip()
            if (
                not is_blank_line(text)
                and not view.is_label_text(other, known_labels)
                and _SIGNED_TEXT.search(text)
            ):
                return True, f"{seg.text} {text}"
    if page.source != "none" and _marks_in(page.marks, beside):
        return True, f"{seg.text} [drawn or pasted signature]"
    cell = _cell_under_label(page, seg)
    if cell is not None:  # a form grid: the label heads its cell and the signature fills the cell
        for other in view.segs:
            if other.page == seg.page and other is not seg and _inside(other.box, cell):
                text = other.text.strip()
                if is_blank_line(text) or view.is_label_text(other, known_labels):
                    continue
                # whatever is written in a signature cell is a signature ("X I. Thibodeaux")
                if _SIGNED_TEXT.search(text) or sum(ch.isalpha() for ch in text) >= 3:
                    return True, f"{seg.text} / {text}"
        if page.source != "none" and _marks_in([m for m in page.marks if m.subtype != OUTLINE], cell):
            return True, f"{seg.text} / [drawn or pasted signature]"
    for fv in page.form_values:
        if fv.kind == "signature" and (fv.box is None or _inside(fv.box, zone)):
            return True, f"[signed signature field] / {seg.text}"
        if fv.kind == "text" and fv.box is not None and _inside(fv.box, zone) and fv.value.strip():
            return True, f"{fv.value.strip()} / {seg.text}"
    right = [o for o in view.neighbours(seg, direction="right") if not view.is_label_text(o, known_labels)]
    if hit.colon and right and not is_blank_line(right[0].text) and _SIGNED_TEXT.search(right[0].text):
        return True, f"{seg.text} {right[0].text}"
    return False, seg.text


def _signature_zone(view: DocView, seg: Seg) -> Box:
    """Where the ink of the signature labelled by ``seg`` would be: just above the label, or, when
    the signature line stands higher (a printed name or caption between line and label), just above
    that line — what is printed under the line is a caption, not a signature."""
    b = seg.box
    x0, x1 = b.x0 - 12, max(b.x1, b.x0 + 90) + 12
    # a signature line drawn as underscores above the label widens the zone to its extent
    for other in view.neighbours(seg, direction="above", max_gap=14):
        if is_blank_line(other.text):
            x0, x1 = min(x0, other.box.x0 - 6), max(x1, other.box.x1 + 6)
            break
    line_y = _line_above(view, seg, x0, x1)
    if line_y is not None and b.y0 - line_y > 6:
        return Box(x0, line_y - 28, x1, line_y + 2)
    return Box(x0, b.y0 - 30, x1, b.y0 + 1.5)


def _line_above(view: DocView, seg: Seg, x0: float, x1: float) -> float | None:
    """The y of the nearest rule or underscore line over the label (within 34 points), if any."""
    b = seg.box
    ys = [
        m.box.cy
        for m in view.pages[seg.page].marks
        if is_rule(m) and 0 < b.y0 - m.box.cy <= 34 and min(m.box.x1, x1) - max(m.box.x0, x0) > 20
    ]
    ys += [
        o.box.cy
        for o in view.segs
        if o.page == seg.page
        and is_blank_line(o.text)
        and 0 < b.y0 - o.box.cy <= 34
        and min(o.box.x1, x1) - max(o.box.x0, x0) > 20
    ]
    return max(ys) if ys else None


def _cell_around(page: PageContent, b: Box) -> Box | None:
    """The smallest drawn cell (an outline) holding the text box ``b``, when the form is a grid."""
    best: Box | None = None
    for mark in page.marks:
        m = mark.box
        holds = m.x0 - 2 <= b.x0 and b.x1 <= m.x1 + 2 and m.y0 - 2 <= b.y0 and b.y1 <= m.y1 + 2
        smaller = best is None or m.width * m.height < best.width * best.height
        if mark.subtype == OUTLINE and holds and m.height >= 1.5 * b.height and smaller:
            best = m
    return best


def _rule_over(page: PageContent, b: Box) -> Box | None:
    """The shortest rule just over a label that spans it: the top edge of the label's cell."""
    best: Box | None = None
    for mark in page.marks:
        m = mark.box
        spans = is_rule(mark) and 0 <= b.y0 - m.cy <= 6 and m.x0 - 2 <= b.x0 and b.x1 <= m.x1 + 2
        if spans and (best is None or m.width < best.width):
            best = m
    return best


def _cell_under_label(page: PageContent, seg: Seg) -> Box | None:
    """The part of a drawn cell below the label that heads it (label at the cell's top), if any."""
    b = seg.box
    best: Box | None = None
    for mark in page.marks:
        m = mark.box
        heads = 0 <= b.y0 - m.y0 <= 8 and m.x0 - 2 <= b.x0 and b.x1 <= m.x1 + 2
        fits = mark.subtype == OUTLINE and heads and m.height >= 2.2 * b.height and m.y1 - b.y1 >= 8
        if fits and (best is None or m.width * m.height < best.width * best.height):
            best = m
    if best is not None:
        return Box(best.x0, b.y1, best.x1, best.y1)
    top = _rule_over(page, b)
    if top is None:
        return _cell_between_verticals(page, b)
    # a scanned grid: the cell runs from the rule over the label down to the next rule under it
    bottoms = [
        m.box.cy
        for m in page.marks
        if is_rule(m)
        and 8 <= m.box.cy - b.y1 <= 60
        and min(m.box.x1, top.x1) - max(m.box.x0, top.x0) >= 0.5 * min(m.box.width, top.width)
    ]
    if not bottoms:
        return None  # a line over a caption is a signature line, not the top of a cell
    bottom = min(bottoms)
    # a cell has sides: a line over a caption with another line further down is not one
    sides = [
        m.box
        for m in page.marks
        if _is_vertical_rule(m)
        and m.box.y0 <= b.y1
        and m.box.y1 >= bottom - 6
        and (top.x0 - 6 <= m.box.cx <= b.x0 + 2 or b.x1 - 2 <= m.box.cx <= top.x1 + 6)
    ]
    if not sides:
        return _cell_between_verticals(page, b)
    return Box(top.x0, b.y1, top.x1, bottom)


def _is_vertical_rule(mark: Mark) -> bool:
    return mark.kind == "ink" and mark.box.width < 2.5 and mark.box.height >= 15


def _cell_between_verticals(page: PageContent, b: Box) -> Box | None:
    """On a scan whose rules are broken up (OCR masks them under the text), a label's cell from the
    vertical lines that bracket it and run on below it."""
    left: Box | None = None
    right: Box | None = None
    for mark in page.marks:
        if not _is_vertical_rule(mark):
            continue
        v = mark.box
        if v.y0 > b.y1 or v.y1 < b.y1 + 8:
            continue  # not a side of the space under the label
        if v.x1 <= b.x0 + 2 and b.x0 - v.cx <= 20 and (left is None or v.cx > left.cx):
            left = v
        elif v.x0 >= b.x1 - 2 and v.cx - b.x1 <= 260 and (right is None or v.cx < right.cx):
            right = v
    if left is None or right is None:
        return None
    return Box(left.cx, b.y1, right.cx, min(left.y1, right.y1))


def _beside_zone(view: DocView, seg: Seg, known_labels: Sequence[str]) -> Box:
    """The space right of a signature label on its row, up to the next label ("Signature: ____")."""
    b = seg.box
    limit = b.x1 + 260
    for other in view.neighbours(seg, direction="right"):
        if view.is_label_text(other, known_labels):
            limit = min(limit, other.box.x0 - 4)
    return Box(b.x1 + 2, b.y0 - 6, max(b.x1 + 3, limit), b.y1 + 4)


def is_rule(mark: Mark) -> bool:
    """A thin horizontal stroke: a signature or field line, not handwriting."""
    return mark.kind == "ink" and mark.box.height < 2.5 and mark.box.width >= 30


def _rule_beside(view: DocView, seg: Seg) -> bool:
    """An empty field drawn as a line right after its label (nothing written on it)."""
    b = seg.box
    for mark in view.pages[seg.page].marks:
        m = mark.box
        # along the label's baseline: a rule level with its top half is a cell edge (a skewed scan)
        if is_rule(mark) and 0 <= m.x0 - b.x1 <= 40 and b.cy <= m.cy <= b.y1 + 5:
            written = any(
                o.page == seg.page
                and o is not seg
                and o.box.x0 >= m.x0 - 4
                and o.box.x0 < m.x1
                and abs(o.box.cy - b.cy) <= max(6.0, b.height)
                for o in view.segs
            )
            if not written:
                return True
    return False


def _inside(box: Box, zone: Box) -> bool:
    ix = min(box.x1, zone.x1) - max(box.x0, zone.x0)
    iy = min(box.y1, zone.y1) - max(box.y0, zone.y0)
    if ix <= 0 or iy <= 0:
        return False
    # mostly inside, or at least half its height inside across a good part of its width
    return ix * iy >= 0.4 * max(1.0, box.width * box.height) or (
        ix >= 0.3 * box.width and iy >= 0.5 * box.height
    )


def _marks_in(marks: Sequence[Mark], zone: Box) -> bool:
    for mark in marks:
        b = mark.box
        if mark.kind == "annotation" and mark.subtype.lower() in {"link", "widget", "popup"}:
            continue
        if b.width > 400 or b.height > 80:
            continue  # table frames, page backgrounds
        if mark.kind == "ink" and (b.height < 2.5 or b.width < 2.5):
            continue  # the signature rule itself, or a dot
        if mark.kind == "ink" and b.y1 >= zone.y1 - 1 and b.width >= 0.9 * zone.width:
            continue  # a table cell framing the label, not something drawn on the line
        if _inside(b, zone):
            return True
    return False


# ---------------------------------------------------------------------- drawn check boxes


def _square(mark: Mark) -> bool:
    """A drawn check box: a small square outline (a tick stroke of the same size is not one)."""
    b = mark.box
    return (
        mark.kind == "ink"
        and mark.subtype == OUTLINE
        and 5.0 <= b.width <= 18.0
        and 5.0 <= b.height <= 18.0
        and 0.7 <= b.width / b.height <= 1.4
    )


def _box_ticked(page: PageContent, square: Mark, segs: Sequence[Box]) -> bool:
    """A drawn square is ticked when strokes or an X/check mark sit inside it."""
    s = square.box
    for mark in page.marks:
        if mark is square or mark.kind == "image":
            continue
        m = mark.box
        if m.width < 2 or m.height < 2 or m.width > 2.2 * s.width or m.height > 2.2 * s.height:
            continue
        ix = min(m.x1, s.x1 + 1.5) - max(m.x0, s.x0 - 1.5)
        iy = min(m.y1, s.y1 + 1.5) - max(m.y0, s.y0 - 1.5)
        if ix > 0 and iy > 0 and ix * iy >= 0.5 * m.width * m.height:
            return True  # a stroke drawn in the box (a tick or a cross, which may overshoot it)
    return any(_inside(box, s) for box in segs)


def drawn_box_state(page: PageContent, row: Sequence[Seg]) -> bool | None:
    """For a checklist row whose box is drawn (no text): ticked (True), empty (False) or no box."""
    if not row:
        return None
    y0 = min(s.box.y0 for s in row)
    y1 = max(s.box.y1 for s in row)
    squares = [m for m in page.marks if _square(m) and m.box.cy >= y0 - 3 and m.box.cy <= y1 + 3]
    if not squares:
        return None
    tick_texts = [
        ln.box
        for ln in page.lines
        if ln.text.strip() in {"X", "x", "✓", "✔", "V", "v"} and y0 - 3 <= ln.box.cy <= y1 + 3
    ]
    return any(_box_ticked(page, sq, tick_texts) for sq in squares)


def square_before(page: PageContent, seg: Seg, x: float | None = None) -> Mark | None:
    """The drawn check box just left of an option's text (starting at ``x``, else the run's start)."""
    b = seg.box
    start = b.x0 if x is None else x
    best: Mark | None = None
    for mark in page.marks:
        m = mark.box
        near = _square(mark) and abs(m.cy - b.cy) <= max(4.0, b.height) and -12 <= start - m.x1 <= 18
        if near and (best is None or m.x1 > best.box.x1):
            best = mark
    return best


def drawn_box_before(page: PageContent, seg: Seg, x: float | None = None) -> bool | None:
    """The drawn check box just left of an option's text (starting at ``x``, else the run's start):
    ticked, empty, or None when there is none."""
    best = square_before(page, seg, x)
    if best is None:
        return None
    ticks = [ln.box for ln in page.lines if ln.text.strip() in {"X", "x", "✓", "✔"}]
    return _box_ticked(page, best, ticks)

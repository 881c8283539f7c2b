"""Read the PDFs of a job package page by page: text lines, drawn marks, form values, OCR.

* :func:`package_pdf_files` gives the package's files in reading order.
* :func:`read_pdf` reads one file in this process with pypdfium2 and yields a
  :class:`~nexa_desktop.domain.verify.PageContent` per page; a file that cannot be read raises
  :class:`PdfProblem` (its ``kind`` and message become a ``FileProblem``).
* :class:`Extractor` runs :func:`read_pdf` in a persistent worker process with a time and memory
  budget per file, so a hostile or broken file costs one file, never the app.

Coordinates are PDF points on the page as displayed (``/Rotate`` applied), origin top left, y down.
"""

from __future__ import annotations

import ctypes
import logging
import math
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import connection
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.verify import (
    OUTLINE,
    Box,
    FileProblem,
    FormValue,
    Mark,
    MarkColour,
    PageContent,
    TextLine,
)
from nexa_desktop.ops.task import Cancelled

logger = logging.getLogger(__name__)

#: Page objects looked at per page for marks (nested form XObjects included).
MAX_OBJECTS = 5000
#: Characters read per page (a dense form has under 10 000; the rest of a hostile page is skipped).
MAX_CHARS = 60000
#: A mark at least this share of the page in both directions is a background, not ink.
BACKGROUND_SHARE = 0.9
#: Marks smaller than this (points) in both directions are dropped.
TINY_MARK = 1.0
#: A page needs at least this many letters or digits in its text layer to count as text.
MIN_TEXT_CHARS = 3
#: A page with fewer letters/digits than this whose images cover :data:`SCAN_COVERAGE` of it is read
#: by OCR as well (a scan with a stamped fax header or page number in its text layer).
SPARSE_TEXT_CHARS = 30
SCAN_COVERAGE = 0.5
#: A page with fewer letters/digits than this and at least :data:`OUTLINED_PATHS` paths has its
#: text drawn as outlines (vector glyphs): it is read by OCR as well.
OUTLINED_TEXT_CHARS = 100
OUTLINED_PATHS = 400
#: OCR rendering: resolution, and the longest side of the bitmap whatever the page size.
OCR_DPI = 200
#: A page whose images cover this share of it is OCR'd as well when they look like a printed form.
MIXED_COVERAGE = 0.15
OCR_MAX_SIDE_PX = 2000
#: A gap wider than this share of the text height between two pieces of a line is a space.
SPACE_GAP = 0.12
#: Pieces of one line further apart than this many text heights are in different columns: each
#: becomes a line of its own (with its own box), which is how the form reader finds values by position.
WIDE_GAP = 2.0

PDF_HEADER_WINDOW = 1024


class PackageNotFound(NexaError):
    """The package path does not exist."""


class NoPdfInPackage(NexaError):
    """The package folder holds no PDF file."""


class ExtractorUnavailable(NexaError):
    """The reading process could not be started."""


class PdfProblem(NexaError):
    """A file that cannot be read; ``kind`` is a ``FileProblem`` kind, the message is for a PM."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


# --------------------------------------------------------------------------- package files


def package_pdf_files(root: Path) -> list[tuple[Path, str]]:
    """The package's PDF files in reading order, each with its path relative to the package."""
    if not root.exists():
        raise PackageNotFound(f"The package {root} does not exist. Check the path and try again.")
    if root.is_file():
        if not root.name.lower().endswith(".pdf"):
            raise NoPdfInPackage(f"{root.name} is not a PDF. Choose a PDF file or a folder of PDFs.")
        return [(root, root.name)]
    found = [
        (path, path.relative_to(root).as_posix())
        for path in root.rglob("*")
        if path.name.lower().endswith(".pdf") and path.is_file()
    ]
    if not found:
        raise NoPdfInPackage(f"The folder {root} holds no PDF file. Choose the folder with the package PDFs.")
    return sorted(found, key=lambda item: item[1])


# --------------------------------------------------------------------------- opening a file


def _sniff(head: bytes) -> str:
    """What a file that is not a PDF seems to be, in words."""
    kinds = (
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"II*\x00", "a TIFF image"),
        (b"MM\x00*", "a TIFF image"),
        (b"PK\x03\x04", "a Word, Excel or ZIP file"),
        (b"\xd0\xcf\x11\xe0", "an old Word or Excel file"),
        (b"{\\rtf", "a rich-text document"),
    )
    for magic, words in kinds:
        if head.startswith(magic):
            return words
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "a web page"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "some other kind of file"
    return "a text file"


def _open_document(path: Path, rel: str) -> pdfium.PdfDocument:
    """Open a PDF with pdfium, or raise :class:`PdfProblem` saying why it cannot be read."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(PDF_HEADER_WINDOW)
    except OSError as exc:
        raise PdfProblem(
            "damaged", f"{rel} could not be opened ({exc.strerror or 'access denied'}). Check the file."
        ) from None
    if size == 0:
        raise PdfProblem("empty", f"{rel} is empty (0 bytes). Add the file again from its original source.")
    if b"%PDF-" not in head:
        raise PdfProblem(
            "not_pdf",
            f"{rel} is not a PDF (it looks like {_sniff(head)}). Save or scan it as a PDF and add it again.",
        )
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise PdfProblem(
                "encrypted",
                f"{rel} is password-protected, so it cannot be checked. "
                "Save a copy without the password and add it again.",
            ) from None
        raise PdfProblem(
            "damaged", f"{rel} is damaged and cannot be opened. Ask for a new copy of the file."
        ) from None


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True, slots=True)
class _Frame:
    """Maps PDF page space to displayed points: x' = a·x + c·y + e, y' = b·x + d·y + f."""

    a: float
    b: float
    c: float
    d: float
    e: float
    f: float

    @staticmethod
    def for_page(bbox: tuple[float, float, float, float], rotation: int) -> _Frame:
        left, bottom, right, top = bbox
        if rotation == 90:
            return _Frame(0, 1, 1, 0, -bottom, -left)
        if rotation == 180:
            return _Frame(-1, 0, 0, 1, right, -bottom)
        if rotation == 270:
            return _Frame(0, -1, -1, 0, top, right)
        return _Frame(1, 0, 0, -1, -left, top)

    def box(self, left: float, bottom: float, right: float, top: float) -> Box:
        x0 = self.a * left + self.c * bottom + self.e
        y0 = self.b * left + self.d * bottom + self.f
        x1 = self.a * right + self.c * top + self.e
        y1 = self.b * right + self.d * top + self.f
        return Box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _turn_box(box: Box, turn: int, width: float, height: float) -> Box:
    """``box`` on a page of ``width`` × ``height`` after turning the page ``turn`` degrees clockwise."""
    if turn == 90:
        return Box(height - box.y1, box.x0, height - box.y0, box.x1)
    if turn == 180:
        return Box(width - box.x1, height - box.y1, width - box.x0, height - box.y0)
    if turn == 270:
        return Box(box.y0, width - box.x1, box.y1, width - box.x0)
    return box


Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _apply(
    m: Matrix, left: float, bottom: float, right: float, top: float
) -> tuple[float, float, float, float]:
    """The bounding box of a rectangle after the PDF matrix ``m``."""
    xs = []
    ys = []
    for x, y in ((left, bottom), (left, top), (right, bottom), (right, top)):
        xs.append(m[0] * x + m[2] * y + m[4])
        ys.append(m[1] * x + m[3] * y + m[5])
    return min(xs), min(ys), max(xs), max(ys)


def _concat(inner: Matrix, outer: Matrix) -> Matrix:
    """``inner`` then ``outer`` (PDF row-vector convention)."""
    a1, b1, c1, d1, e1, f1 = inner
    a2, b2, c2, d2, e2, f2 = outer
    return (
        a1 * a2 + b1 * c2,
        a1 * b2 + b1 * d2,
        c1 * a2 + d1 * c2,
        c1 * b2 + d1 * d2,
        e1 * a2 + f1 * c2 + e2,
        e1 * b2 + f1 * d2 + f2,
    )


# --------------------------------------------------------------------------- text lines


@dataclass(slots=True)
class _Run:
    """Text pieces that belong together on one baseline, and their box."""

    parts: list[str]
    x0: float
    y0: float
    x1: float
    y1: float
    #: Reading direction in degrees clockwise on the displayed page; 0 is normal horizontal text.
    angle: int = 0
    #: Centre of the last character (turned runs chain from it).
    last_x: float = 0.0
    last_y: float = 0.0
    #: Horizontal centre of each entry of ``parts`` (empty when not known, e.g. OCR pieces).
    xs: list[float] = field(default_factory=list)
    #: A blank line (underscores) with a value written on it: still a field of its own.
    on_blank: bool = False

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 0.1)


def _same_band(y0: float, y1: float, other_y0: float, other_y1: float) -> bool:
    overlap = min(y1, other_y1) - max(y0, other_y0)
    return overlap >= 0.5 * max(min(y1 - y0, other_y1 - other_y0), 0.1)


def _is_space(code: int) -> bool:
    """Whitespace, and the invisible characters some PDFs put between words."""
    if code <= 0x20 or code in (0x200B, 0xFEFF, 0xFFFE, 0xFFFF):
        return True
    return code <= 0x10FFFF and chr(code).isspace()


#: Within a run, a gap wider than this many text heights starts a new run (another column).
COLUMN_GAP = 1.0


def _text_runs(textpage: Any, frame: _Frame, rotation: int) -> tuple[list[_Run], int]:
    """Characters in content order, chained into runs along their baseline; also the letter/digit count.

    Horizontal characters chain while they stay on one band and move right by less than a column
    gap. Turned characters (vertical labels, a tilted stamp) chain while they keep their angle and
    follow on along it; their runs stay apart from horizontal lines.
    """
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    get_unicode = pdfium_c.FPDFText_GetUnicode
    get_box = pdfium_c.FPDFText_GetLooseCharBox
    get_angle = pdfium_c.FPDFText_GetCharAngle
    rect = pdfium_c.FS_RECTF()
    fa, fb, fc, fd, fe, ff = frame.a, frame.b, frame.c, frame.d, frame.e, frame.f
    runs: list[_Run] = []
    run: _Run | None = None
    pending_space = False
    letters = 0
    for index in range(min(max(count, 0), MAX_CHARS)):
        code = get_unicode(raw, index)
        if _is_space(code):
            pending_space = True
            continue
        if code > 0x10FFFF or not get_box(raw, index, rect):
            continue
        char = chr(code)
        left, bottom, right, top = rect.left, rect.bottom, rect.right, rect.top
        xa, ya = fa * left + fc * bottom + fe, fb * left + fd * bottom + ff
        xb, yb = fa * right + fc * top + fe, fb * right + fd * top + ff
        x0, x1 = (xa, xb) if xa <= xb else (xb, xa)
        y0, y1 = (ya, yb) if ya <= yb else (yb, ya)
        radians = get_angle(raw, index)
        angle = round(math.degrees(radians) + rotation) % 360 if radians >= 0 else 0
        if angle <= 2 or angle >= 358:
            angle = 0
        if char.isalnum():
            letters += 1
        gap: float | None = None
        if run is not None:
            if angle == 0 and run.angle == 0:
                height = run.y1 - run.y0 if run.y1 - run.y0 > 0.1 else 0.1
                overlap = (y1 if y1 < run.y1 else run.y1) - (y0 if y0 > run.y0 else run.y0)
                shortest = min(y1 - y0, height)
                gap = (x0 - run.x1) / height
                # onwards to the right; a ligature's letters ("ti") share one box, so compare centres
                if (
                    overlap < 0.5 * (shortest if shortest > 0.1 else 0.1)
                    or gap > COLUMN_GAP
                    or (x0 + x1) / 2 < run.last_x - 0.1 * height
                ):
                    gap = None
            else:
                gap = _gap_after(run, Box(x0, y0, x1, y1), angle)
        if run is not None and gap is not None:
            if pending_space or gap > SPACE_GAP:
                run.parts.append(" ")
                run.xs.append(run.x1)
            run.parts.append(char)
            run.xs.append((x0 + x1) / 2)
            if x0 < run.x0:
                run.x0 = x0
            if x1 > run.x1:
                run.x1 = x1
            if y0 < run.y0:
                run.y0 = y0
            if y1 > run.y1:
                run.y1 = y1
        else:
            run = _Run([char], x0, y0, x1, y1, angle, xs=[(x0 + x1) / 2])
            runs.append(run)
        run.last_x, run.last_y = (x0 + x1) / 2, (y0 + y1) / 2
        pending_space = False
    return runs, letters


def _gap_after(run: _Run, box: Box, angle: int) -> float | None:
    """How far (in text heights) a turned character at ``box`` follows ``run``; None when it does not."""
    if abs(angle - run.angle) > 2:
        return None
    turn = math.radians(angle)
    cos, sin = math.cos(turn), math.sin(turn)
    size = max(abs(cos) * box.height + abs(sin) * box.width, 0.1)
    dx, dy = box.cx - run.last_x, box.cy - run.last_y
    along = (dx * cos + dy * sin) / size
    across = (-dx * sin + dy * cos) / size
    if abs(across) > 0.4 or not -0.3 <= along <= 2.5:
        return None
    return max(along - 1.0, 0.0)


def _piece_of(member: _Run, positions: bool) -> tuple[str, list[float] | None]:
    """A run's text with its spaces tidied, and each character's centre when asked (and known)."""
    text = "".join(member.parts)
    if not positions or len(member.xs) != len(member.parts) or len(text) != len(member.parts):
        return " ".join(text.split()), None
    chars: list[str] = []
    xs: list[float] = []
    for char, x in zip(text, member.xs, strict=True):
        if char.isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
                xs.append(x)
            continue
        chars.append(char)
        xs.append(x)
    if chars and chars[-1] == " ":
        chars.pop()
        xs.pop()
    return "".join(chars), xs


def _group_lines(runs: list[_Run], positions: bool = False) -> list[TextLine]:
    """Runs on the same baseline merged left to right into lines, top to bottom.

    Turned runs (``angle`` other than 0) stay lines of their own. With ``positions`` each line
    carries its characters' centres (for writing into a form's blanks).
    """
    lines: list[tuple[float, float, list[_Run]]] = []  # the first run's band, then the runs
    for run in sorted(runs, key=lambda r: (r.y0 + r.y1) / 2):
        best: list[_Run] | None = None
        best_overlap = 0.0
        if run.angle == 0:
            for y0, y1, members in reversed(lines[-12:]):
                if members[0].angle != 0:
                    continue
                overlap = min(y1, run.y1) - max(y0, run.y0)
                if overlap > best_overlap and _same_band(run.y0, run.y1, y0, y1):
                    best, best_overlap = members, overlap
        if best is None:
            lines.append((run.y0, run.y1, [run]))
        else:
            best.append(run)
    result: list[TextLine] = []
    for _y0, _y1, members in lines:
        members.sort(key=lambda r: r.x0)
        if len(members) > 1:
            members = _written_on_blanks(members)
        # Far-apart parts of a visual line (form columns: a value above each label, a label and a
        # value in another cell) become lines of their own, each with its true box.
        group: list[_Run] = []
        pieces: list[str] = []
        xs: list[float] | None = [] if positions else None
        previous: _Run | None = None
        for member in members:
            piece, piece_xs = _piece_of(member, positions)
            if not piece:
                continue
            if previous is not None:
                gap = (member.x0 - previous.x1) / min(member.height, previous.height)
                blank_edge = (_is_blank(piece) or member.on_blank) != (
                    _is_blank("".join(pieces)) or previous.on_blank
                )
                if gap > WIDE_GAP or (blank_edge and gap > SPACE_GAP):
                    result.append(_line_of(group, pieces, xs))
                    group, pieces = [], []
                    xs = [] if positions else None
                elif not -0.25 <= gap <= SPACE_GAP:
                    pieces.append(" ")
                    if xs is not None:
                        xs.append(previous.x1)
            pieces.append(piece)
            xs = xs + piece_xs if xs is not None and piece_xs is not None else None
            group.append(member)
            previous = member
        if group:
            result.append(_line_of(group, pieces, xs))
    result.sort(key=lambda line: (round(line.box.cy, 1), line.box.x0))
    return result


#: Empty places on a form that typed text can be written on: a line of underscores, an empty box.
_SLOT = re.compile(r"_{3,}|\[\s*\]|\(\s*\)|[☐□]")


def _written_on_blanks(members: list[_Run]) -> list[_Run]:
    """Text written over an empty place of another run (a value typed on "PM: ______", an X in
    "[ ] Completed") joins that run at the place: "PM: 12345678", "[X] Completed".

    Without this the written text would come after the whole run and read as something else.
    Only horizontal text of about the same size counts (not a large "COPY" stamp across a field).
    """
    kept = list(members)
    changed = True
    while changed:
        changed = False
        for host in kept:
            for other in kept:
                if other is host or host.angle or other.angle:
                    continue
                if other.x0 >= host.x1 or other.x1 <= host.x0 or other.height > 1.8 * host.height:
                    continue
                joined = _write_into(host, other)
                if joined is not None:
                    kept = [joined if r is host else r for r in kept if r is not other]
                    changed = True
                    break
            if changed:
                break
    return sorted(kept, key=lambda r: r.x0)


def _write_into(host: _Run, written: _Run) -> _Run | None:
    raw = "".join(host.parts)
    if len(host.xs) != len(host.parts) or any(len(p) != 1 for p in host.parts):
        return None
    centre = (written.x0 + written.x1) / 2
    text = " ".join("".join(written.parts).split())
    if not text:
        return None
    for slot in _SLOT.finditer(raw):
        left = host.xs[slot.start()] - 3.0
        right = host.xs[slot.end() - 1] + 3.0
        if not (left <= centre <= right or (slot.group().startswith("_") and left <= written.x0 < right)):
            continue
        if slot.group().startswith("_"):
            filling = [" ", *text, " "]
        elif slot.group() in "☐□":
            filling = ["☒"] if text.upper() in {"X", "✓", "✔"} else [slot.group()]
        else:
            filling = [slot.group()[0], *text, slot.group()[-1]]
        before, after = raw[: slot.start()], raw[slot.end() :]
        parts = [*before, *filling, *after]
        mid = host.xs[slot.start()]
        xs = [*host.xs[: slot.start()], *([mid] * len(filling)), *host.xs[slot.end() :]]
        return _Run(
            parts,
            min(host.x0, written.x0),
            min(host.y0, written.y0),
            max(host.x1, written.x1),
            max(host.y1, written.y1),
            0,
            host.last_x,
            host.last_y,
            xs,
            on_blank=host.on_blank or _is_blank(raw),
        )
    return None


def _is_blank(text: str) -> bool:
    """A run of underscores (an empty field or signature line) stays apart from the text beside it."""
    stripped = text.strip()
    return len(stripped) >= 3 and set(stripped) <= {"_", " "}


def _line_of(members: list[_Run], pieces: list[str], xs: list[float] | None = None) -> TextLine:
    box = Box(
        min(m.x0 for m in members),
        min(m.y0 for m in members),
        max(m.x1 for m in members),
        max(m.y1 for m in members),
    )
    text = "".join(pieces)
    return TextLine(text, box, tuple(xs) if xs is not None and len(xs) == len(text) else ())


def _lines_as_runs(lines: list[TextLine]) -> list[_Run]:
    """Finished lines as runs again, to merge them with OCR pieces; upright-standing lines stay apart."""
    return [
        _Run(
            [line.text],
            line.box.x0,
            line.box.y0,
            line.box.x1,
            line.box.y1,
            90 if line.box.height > 2 * line.box.width and len(line.text) > 1 else 0,
        )
        for line in lines
    ]


# --------------------------------------------------------------------------- marks


def classify_colour(red: int, green: int, blue: int) -> MarkColour:
    """Red, blue, black (dark grey too) or other, from 0–255 RGB."""
    high = max(red, green, blue)
    if high < 110 and high - min(red, green, blue) < 50:
        return "black"
    if red >= 120 and red - max(green, blue) >= 70:
        return "red"
    if blue >= 120 and blue - red >= 60 and blue - green >= 20:
        return "blue"
    return "other"


def _is_white(red: int, green: int, blue: int) -> bool:
    return min(red, green, blue) >= 235


class _MarkCollector:
    """Walks a page's objects (into form XObjects) and keeps the drawn ones as marks."""

    def __init__(self, frame: _Frame, width: float, height: float) -> None:
        self.frame = frame
        self.width = width
        self.height = height
        self.marks: list[Mark] = []
        self.image_area = 0.0
        self.paths = 0
        self.seen = 0
        self._l = ctypes.c_float()
        self._b = ctypes.c_float()
        self._r = ctypes.c_float()
        self._t = ctypes.c_float()
        self._red = ctypes.c_uint()
        self._green = ctypes.c_uint()
        self._blue = ctypes.c_uint()
        self._alpha = ctypes.c_uint()
        self._fill_mode = ctypes.c_int()
        self._stroke = ctypes.c_int()
        self._matrix = pdfium_c.FS_MATRIX()

    def walk_page(self, page: Any) -> None:
        count = pdfium_c.FPDFPage_CountObjects(page)
        self._walk(partial(pdfium_c.FPDFPage_GetObject, page), count, None, 0)

    def _walk(self, get: Callable[[int], Any], count: int, matrix: Matrix | None, depth: int) -> None:
        for index in range(max(count, 0)):
            if self.seen >= MAX_OBJECTS:
                return
            self.seen += 1
            obj = get(index)
            if not obj:
                continue
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                if depth < 8 and pdfium_c.FPDFPageObj_GetMatrix(obj, self._matrix):
                    m = self._matrix
                    own: Matrix = (m.a, m.b, m.c, m.d, m.e, m.f)
                    inner = own if matrix is None else _concat(own, matrix)
                    self._walk(
                        partial(pdfium_c.FPDFFormObj_GetObject, obj),
                        pdfium_c.FPDFFormObj_CountObjects(obj),
                        inner,
                        depth + 1,
                    )
                continue
            if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                self.paths += 1
                colour = self._path_colour(obj)
                if colour is not None:
                    self._add(obj, matrix, "ink", colour, OUTLINE if self._is_rect(obj) else "")
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                self._add(obj, matrix, "image", "other")
            elif kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                colour = self._text_colour(obj)
                if colour is not None:
                    self._add(obj, matrix, "ink", colour)

    def _rgb(self, getter: Any, obj: Any) -> tuple[int, int, int] | None:
        if not getter(obj, self._red, self._green, self._blue, self._alpha) or self._alpha.value == 0:
            return None
        return self._red.value, self._green.value, self._blue.value

    def _path_colour(self, obj: Any) -> MarkColour | None:
        """The colour a path is drawn in (stroke first), None when it draws nothing visible."""
        if not pdfium_c.FPDFPath_GetDrawMode(obj, self._fill_mode, self._stroke):
            return None
        rgb = None
        if self._stroke.value:
            rgb = self._rgb(pdfium_c.FPDFPageObj_GetStrokeColor, obj)
        if rgb is None and self._fill_mode.value:
            rgb = self._rgb(pdfium_c.FPDFPageObj_GetFillColor, obj)
        if rgb is None:
            return None if not (self._stroke.value or self._fill_mode.value) else "other"
        if _is_white(*rgb):
            return None
        return classify_colour(*rgb)

    def _text_colour(self, obj: Any) -> MarkColour | None:
        """Red or blue text is markup (callouts); other text is read as lines, not marks."""
        rgb = self._rgb(pdfium_c.FPDFPageObj_GetFillColor, obj)
        if rgb is None:
            return None
        colour = classify_colour(*rgb)
        return colour if colour in ("red", "blue") else None

    def _is_rect(self, obj: Any) -> bool:
        """A closed path of straight, axis-aligned sides (a box or cell outline), not a stroke such
        as a drawn tick or a signature."""
        count = pdfium_c.FPDFPath_CountSegments(obj)
        if not 4 <= count <= 6:
            return False
        x, y = ctypes.c_float(), ctypes.c_float()
        points: list[tuple[float, float]] = []
        closed = False
        for index in range(count):
            segment = pdfium_c.FPDFPath_GetPathSegment(obj, index)
            if not segment or pdfium_c.FPDFPathSegment_GetType(segment) == pdfium_c.FPDF_SEGMENT_BEZIERTO:
                return False
            if not pdfium_c.FPDFPathSegment_GetPoint(segment, x, y):
                return False
            points.append((x.value, y.value))
            closed = closed or bool(pdfium_c.FPDFPathSegment_GetClose(segment))
        if not closed and math.dist(points[0], points[-1]) > 0.5:
            return False
        sides = zip(points, points[1:] + points[:1], strict=True)
        return all(abs(a[0] - b[0]) < 0.5 or abs(a[1] - b[1]) < 0.5 for a, b in sides)

    def _add(self, obj: Any, matrix: Matrix | None, kind: Any, colour: MarkColour, subtype: str = "") -> None:
        if not pdfium_c.FPDFPageObj_GetBounds(obj, self._l, self._b, self._r, self._t):
            return
        rect = (self._l.value, self._b.value, self._r.value, self._t.value)
        if matrix is not None:
            rect = _apply(matrix, *rect)
        box = _clip(self.frame.box(*rect), self.width, self.height)
        if box is None or (box.width < TINY_MARK and box.height < TINY_MARK):
            return
        covers_page = (
            box.width >= BACKGROUND_SHARE * self.width and box.height >= BACKGROUND_SHARE * self.height
        )
        if kind == "image":
            self.image_area += box.width * box.height
        elif covers_page:
            return
        self.marks.append(Mark(kind=kind, box=box, colour=colour, subtype=subtype))


def _clip(box: Box, width: float, height: float) -> Box | None:
    """``box`` cut to the page; None when it lies outside."""
    x0, y0 = max(box.x0, 0.0), max(box.y0, 0.0)
    x1, y1 = min(box.x1, width), min(box.y1, height)
    if x1 < x0 or y1 < y0:
        return None
    return Box(x0, y0, x1, y1)


# --------------------------------------------------------------------------- annotations and forms

_ANNOT_NAMES: dict[int, str] = {
    getattr(pdfium_c, f"FPDF_ANNOT_{name.upper()}"): name
    for name in (
        "Text",
        "FreeText",
        "Line",
        "Square",
        "Circle",
        "Polygon",
        "PolyLine",
        "Highlight",
        "Underline",
        "Squiggly",
        "StrikeOut",
        "Stamp",
        "Caret",
        "Ink",
        "FileAttachment",
        "Sound",
        "Movie",
        "Screen",
        "PrinterMark",
        "TrapNet",
        "Watermark",
        "ThreeD",
        "RichMedia",
        "Redact",
    )
    if hasattr(pdfium_c, f"FPDF_ANNOT_{name.upper()}")
}
_SKIPPED_ANNOTS = {pdfium_c.FPDF_ANNOT_LINK, pdfium_c.FPDF_ANNOT_POPUP}
_TEXT_FIELDS = {
    pdfium_c.FPDF_FORMFIELD_TEXTFIELD,
    pdfium_c.FPDF_FORMFIELD_COMBOBOX,
    pdfium_c.FPDF_FORMFIELD_LISTBOX,
}
_CHECK_FIELDS = {pdfium_c.FPDF_FORMFIELD_CHECKBOX, pdfium_c.FPDF_FORMFIELD_RADIOBUTTON}


def _utf16(getter: Callable[[Any, int], int]) -> str:
    """Call a pdfium 'fill this UTF-16 buffer' function twice (size, then text) and decode it."""
    size = getter(None, 0)
    if size <= 2:
        return ""
    buffer = (ctypes.c_ushort * (size // 2))()
    getter(buffer, size)
    return bytes(buffer).decode("utf-16-le", errors="replace").rstrip("\x00")


def _annot_string(annot: Any, key: str) -> str:
    return _utf16(lambda buf, n: pdfium_c.FPDFAnnot_GetStringValue(annot, key.encode(), buf, n))


def _annot_colour(annot: Any) -> MarkColour:
    """The annotation's /C colour, else the first coloured object of its appearance."""
    red, green, blue, alpha = (ctypes.c_uint() for _ in range(4))
    if pdfium_c.FPDFAnnot_GetColor(annot, pdfium_c.FPDFANNOT_COLORTYPE_Color, red, green, blue, alpha):
        return classify_colour(red.value, green.value, blue.value)
    fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
    for index in range(min(pdfium_c.FPDFAnnot_GetObjectCount(annot), 50)):
        obj = pdfium_c.FPDFAnnot_GetObject(annot, index)
        if not obj:
            continue
        getter = pdfium_c.FPDFPageObj_GetFillColor
        if pdfium_c.FPDFPageObj_GetType(obj) == pdfium_c.FPDF_PAGEOBJ_PATH:
            pdfium_c.FPDFPath_GetDrawMode(obj, fill_mode, stroke)
            if stroke.value:
                getter = pdfium_c.FPDFPageObj_GetStrokeColor
        if getter(obj, red, green, blue, alpha) and not _is_white(red.value, green.value, blue.value):
            return classify_colour(red.value, green.value, blue.value)
    return "other"


def _annotations(
    page: Any, formenv: Any, frame: _Frame, width: float, height: float
) -> tuple[list[Mark], list[FormValue]]:
    """Visible annotations as marks, and filled form widgets as values."""
    marks: list[Mark] = []
    values: list[FormValue] = []
    rect = pdfium_c.FS_RECTF()
    for index in range(max(pdfium_c.FPDFPage_GetAnnotCount(page), 0)):
        annot = pdfium_c.FPDFPage_GetAnnot(page, index)
        if not annot:
            continue
        try:
            subtype = pdfium_c.FPDFAnnot_GetSubtype(annot)
            if subtype in _SKIPPED_ANNOTS:
                continue
            if pdfium_c.FPDFAnnot_GetFlags(annot) & pdfium_c.FPDF_ANNOT_FLAG_HIDDEN:
                continue
            box = None
            if pdfium_c.FPDFAnnot_GetRect(annot, rect):
                box = _clip(frame.box(rect.left, rect.bottom, rect.right, rect.top), width, height)
            if subtype == pdfium_c.FPDF_ANNOT_WIDGET:
                if formenv is not None:
                    value = _form_value(formenv, annot, box)
                    if value is not None:
                        values.append(value)
                continue
            if box is None or (box.width < TINY_MARK and box.height < TINY_MARK):
                continue
            text = _annot_string(annot, "Contents") or (
                _annot_string(annot, "Name") if subtype == pdfium_c.FPDF_ANNOT_STAMP else ""
            )
            marks.append(
                Mark(
                    kind="annotation",
                    box=box,
                    colour=_annot_colour(annot),
                    subtype=_ANNOT_NAMES.get(subtype, "Unknown"),
                    text=" ".join(text.split()),
                )
            )
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return marks, values


def _form_value(formenv: Any, annot: Any, box: Box | None) -> FormValue | None:
    """A widget's value when it carries one: filled text, a ticked box, a signed signature field."""
    field_type = pdfium_c.FPDFAnnot_GetFormFieldType(formenv, annot)
    name = _utf16(lambda buf, n: pdfium_c.FPDFAnnot_GetFormFieldName(formenv, annot, buf, n))
    if field_type in _TEXT_FIELDS:
        value = " ".join(
            _utf16(lambda buf, n: pdfium_c.FPDFAnnot_GetFormFieldValue(formenv, annot, buf, n)).split()
        )
        return FormValue(name, value, "text", box) if value else None
    if field_type in _CHECK_FIELDS:
        ticked = pdfium_c.FPDFAnnot_IsChecked(formenv, annot)
        return FormValue(name, "on" if ticked else "off", "checkbox", box)
    if field_type == pdfium_c.FPDF_FORMFIELD_SIGNATURE:
        return FormValue(name, "signed", "signature", box) if _is_signed(annot) else None
    return None


def _is_signed(annot: Any) -> bool:
    """A signature field is signed when it (or its parent field) has a /V value."""
    if pdfium_c.FPDFAnnot_HasKey(annot, b"V"):
        return True
    parent = pdfium_c.FPDFAnnot_GetLinkedAnnot(annot, b"Parent")
    if not parent:
        return False
    try:
        return bool(pdfium_c.FPDFAnnot_HasKey(parent, b"V"))
    finally:
        pdfium_c.FPDFPage_CloseAnnot(parent)


# --------------------------------------------------------------------------- pages


def read_pdf(
    path: Path,
    rel: str,
    *,
    max_pages: int = 500,
    ocr: bool = True,
    on_ocr: Callable[[int], None] | None = None,
    positions: bool = False,
) -> Iterator[PageContent]:
    """Read ``path`` page by page in this process; raises :class:`PdfProblem` if it cannot be read.

    ``on_ocr(page)`` is called before a page is sent to OCR (slow: the worker uses it to extend
    its time budget). ``positions`` keeps each character's place on its line (``TextLine.xs``).
    """
    pdf = _open_document(path, rel)
    try:
        count = len(pdf)
        if count > max_pages:
            raise PdfProblem(
                "too_many_pages",
                f"{rel} has {count} pages; the limit is {max_pages} pages per file, so it was not read. "
                "Split it into smaller files and add them again.",
            )
        formenv = None
        try:
            if pdf.init_forms():
                formenv = pdf.formenv.raw
        except pdfium.PdfiumError:
            logger.debug("%s: forms could not be loaded", rel)
        for index in range(count):
            yield _read_page_safely(pdf, index, rel, formenv, ocr, on_ocr, positions)
    finally:
        pdf.close()


def _read_page_safely(
    pdf: pdfium.PdfDocument,
    index: int,
    rel: str,
    formenv: Any,
    ocr: bool,
    on_ocr: Callable[[int], None] | None,
    positions: bool = False,
) -> PageContent:
    """One page; a page that fails comes back unreadable (``source="none"``) instead of failing the file."""
    try:
        page = pdf[index]
    except Exception:
        logger.info("%s page %d could not be loaded", rel, index + 1, exc_info=True)
        try:
            width, height = pdf.get_page_size(index)
        except Exception:
            width, height = 0.0, 0.0
        return PageContent(file=rel, page=index + 1, width=width, height=height, source="none")
    try:
        return _read_page(page, index, rel, formenv, ocr, on_ocr, positions)
    except MemoryError:
        raise
    except Exception:
        logger.info("%s page %d could not be read", rel, index + 1, exc_info=True)
        width, height = _page_size(page)
        return PageContent(file=rel, page=index + 1, width=width, height=height, source="none")
    finally:
        page.close()


def _page_size(page: Any) -> tuple[float, float]:
    try:
        return float(page.get_width()), float(page.get_height())
    except Exception:
        return 0.0, 0.0


def _dominant_turn(runs: list[_Run]) -> int:
    """The direction most of the page's text runs in, when it is not left to right (else 0)."""
    weight: dict[int, int] = {}
    for run in runs:
        weight[run.angle] = weight.get(run.angle, 0) + sum(len(p) for p in run.parts)
    total = sum(weight.values())
    if total < 20:
        return 0
    angle, top = max(weight.items(), key=lambda kv: kv[1])
    return angle if angle in (90, 180, 270) and top >= 0.6 * total else 0


def _read_page(
    page: Any,
    index: int,
    rel: str,
    formenv: Any,
    ocr: bool,
    on_ocr: Callable[[int], None] | None,
    positions: bool = False,
) -> PageContent:
    width, height = _page_size(page)
    try:
        rotation = int(page.get_rotation())
    except Exception:
        rotation = 0
    bbox = page.get_bbox()
    frame = _Frame.for_page(bbox, rotation)
    textpage = page.get_textpage()
    try:
        runs, letters = _text_runs(textpage, frame, rotation)
        turn = _dominant_turn(runs)
        if turn:
            # Upright content shown sideways (or a page whose text all runs down it): read it in
            # the text's own frame so lines, columns and "value above label" work as on paper.
            for candidate in ((rotation + turn) % 360, (rotation - turn) % 360):
                turned_frame = _Frame.for_page(bbox, candidate)
                turned_runs, turned_letters = _text_runs(textpage, turned_frame, candidate)
                if _dominant_turn(turned_runs) == 0:
                    rotation, frame, runs, letters = candidate, turned_frame, turned_runs, turned_letters
                    if turn in (90, 270):
                        width, height = height, width
                    break
    finally:
        textpage.close()
    lines = _group_lines(runs, positions)
    collector = _MarkCollector(frame, width, height)
    collector.walk_page(page.raw)
    annot_marks, form_values = _annotations(page.raw, formenv, frame, width, height)
    content = PageContent(
        file=rel,
        page=index + 1,
        width=width,
        height=height,
        rotation=rotation,
        lines=lines,
        marks=collector.marks + annot_marks,
        form_values=form_values,
        source="text",
    )
    page_area = max(width * height, 1.0)
    scanned = letters < SPARSE_TEXT_CHARS and collector.image_area >= SCAN_COVERAGE * page_area
    outlined = letters < OUTLINED_TEXT_CHARS and collector.paths >= OUTLINED_PATHS
    content.text_layer = letters >= MIN_TEXT_CHARS and not scanned
    if letters >= MIN_TEXT_CHARS and not scanned and not outlined:
        # A form printed as an image with a few typed lines over it (a real form filled in a PDF
        # editor): its labels are pixels only, so OCR reads them too.
        if ocr and collector.image_area >= MIXED_COVERAGE * page_area and _images_look_printed(page, content):
            if on_ocr is not None:
                on_ocr(index + 1)
            _add_ocr(page, content)
        return content
    if ocr:
        if on_ocr is not None:
            on_ocr(index + 1)
        _add_ocr(page, content)
    if content.source != "ocr" and letters < MIN_TEXT_CHARS:
        content.source = "none"
        content.lines = []
    return content


def _images_look_printed(page: Any, content: PageContent) -> bool:
    """Whether the page's large images hold a printed form (mostly white paper with dark print),
    not photographs (mid-tones everywhere): judged on a coarse render, in a few milliseconds."""
    import numpy as np

    boxes = [m.box for m in content.marks if m.kind == "image" and m.box.width * m.box.height >= 10_000]
    if not boxes:
        return False
    scale = 36 / 72
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        grey = bitmap.to_numpy()
    finally:
        bitmap.close()
    grey = grey[:, :, 0] if grey.ndim == 3 else grey
    parts = [
        grey[int(b.y0 * scale) : int(b.y1 * scale) + 1, int(b.x0 * scale) : int(b.x1 * scale) + 1].ravel()
        for b in boxes
    ]
    pixels = np.concatenate([p for p in parts if p.size]) if any(p.size for p in parts) else None
    if pixels is None:
        return False
    white = float((pixels >= 200).mean())
    dark = float((pixels < 110).mean())
    return white >= 0.75 and 0.003 <= dark <= 0.2


def _add_ocr(page: Any, content: PageContent) -> None:
    """OCR the page and merge what it reads with the text layer; turns the page if the scan is turned."""
    import numpy as np

    from nexa_desktop.services.verify import ocr as ocr_engine
    from nexa_desktop.services.verify.pixels import marks_from_pixels

    if not ocr_engine.ocr_installed():
        return
    longest = max(content.width, content.height, 1.0)
    scale = min(OCR_DPI / 72.0, OCR_MAX_SIDE_PX / longest)
    bitmap = page.render(scale=scale, draw_annots=True)
    try:
        image = bitmap.to_numpy().copy()
    finally:
        bitmap.close()
    result = ocr_engine.read_image(image)
    if not result.boxes:
        return
    turn = result.turn
    width, height = content.width, content.height
    if turn:
        content.lines = [
            TextLine(line.text, _turn_box(line.box, turn, width, height)) for line in content.lines
        ]
        content.marks = [_turned_mark(m, turn, width, height) for m in content.marks]
        content.form_values = [
            FormValue(v.name, v.value, v.kind, _turn_box(v.box, turn, width, height) if v.box else None)
            for v in content.form_values
        ]
        if turn in (90, 270):
            content.width, content.height = height, width
        content.rotation = (content.rotation + turn) % 360
    px_scale_x = result.width / max(content.width, 1.0)
    px_scale_y = result.height / max(content.height, 1.0)
    ocr_runs = [
        _Run([b.text], b.x0 / px_scale_x, b.y0 / px_scale_y, b.x1 / px_scale_x, b.y1 / px_scale_y)
        for b in result.boxes
    ]
    text_boxes = [line.box for line in content.lines]
    fresh = [run for run in ocr_runs if not any(_mostly_inside(run, box) for box in text_boxes)]
    if not fresh:
        return
    content.lines = _group_lines(_lines_as_runs(content.lines) + fresh)
    content.source = "ocr"
    # The scan's rules, boxes, ticks and ink, read from its pixels in the upright frame.
    upright = np.ascontiguousarray(np.rot90(image, k=-(turn // 90))) if turn else image
    content.marks += marks_from_pixels(
        upright, [(b.x0, b.y0, b.x1, b.y1) for b in result.boxes], (1 / px_scale_x, 1 / px_scale_y)
    )


def _turned_mark(mark: Mark, turn: int, width: float, height: float) -> Mark:
    return Mark(mark.kind, _turn_box(mark.box, turn, width, height), mark.colour, mark.subtype, mark.text)


def _mostly_inside(run: _Run, box: Box) -> bool:
    """The OCR run and a text-layer line overlap by half of the smaller one (already read)."""
    overlap_w = min(run.x1, box.x1) - max(run.x0, box.x0)
    overlap_h = min(run.y1, box.y1) - max(run.y0, box.y0)
    if overlap_w <= 0 or overlap_h <= 0:
        return False
    smaller = min((run.x1 - run.x0) * (run.y1 - run.y0), box.width * box.height)
    return overlap_w * overlap_h >= 0.5 * max(smaller, 1e-6)


# --------------------------------------------------------------------------- the worker


@dataclass(frozen=True)
class Budget:
    """What one file may cost before it is stopped."""

    seconds_per_file: float = 60.0
    max_memory_mb: int = 1500
    max_pages: int = 500
    #: Extra seconds a file gets for each page that needs OCR (2–20 s a page, by machine and page).
    seconds_per_ocr_page: float = 30.0


@dataclass
class FileExtraction:
    """The pages read from one file, and the problem that stopped it, if any."""

    file: str
    pages: list[PageContent] = field(default_factory=list)
    problem: FileProblem | None = None


def _problem_message(kind: str, rel: str, budget: Budget, pages: int) -> str:
    read = (
        "no page was read" if not pages else "1 page was read" if pages == 1 else f"{pages} pages were read"
    )
    if kind == "timeout":
        return (
            f"Reading {rel} took longer than {budget.seconds_per_file:.0f} seconds and was stopped "
            f"({read}). The file may be damaged or unusually complex; try printing it to a new PDF."
        )
    if kind == "too_much_memory":
        return (
            f"Reading {rel} needed more than {budget.max_memory_mb} MB of memory and was stopped "
            f"({read}). The file may be damaged; ask for a new copy."
        )
    return f"The reader stopped on {rel} ({read}). The file is probably damaged; ask for a new copy."


def _worker_main(conn: connection.Connection) -> None:
    """Entry point of the extraction process: read files on request until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    try:
        conn.send(("ready",))
        while True:
            request = conn.recv()
            if request[0] != "read":
                break
            _, path, rel, max_pages, ocr, positions = request
            conn.send(("done", _serve(conn, Path(path), rel, max_pages, ocr, positions)))
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


def _serve(
    conn: connection.Connection, path: Path, rel: str, max_pages: int, ocr: bool, positions: bool = False
) -> FileProblem | None:
    """Stream the pages of one file to the parent; the problem that stopped it, if any."""
    try:
        for page in read_pdf(
            path,
            rel,
            max_pages=max_pages,
            ocr=ocr,
            on_ocr=lambda number: conn.send(("ocr", number)),
            positions=positions,
        ):
            conn.send(("page", page))
    except PdfProblem as problem:
        return FileProblem(rel, problem.kind, str(problem))
    except MemoryError:
        return FileProblem(rel, "too_much_memory", f"Reading {rel} needed too much memory and was stopped.")
    except (EOFError, OSError):
        raise
    except Exception:
        logger.warning("%s could not be read", rel, exc_info=True)
        return FileProblem(
            rel, "damaged", f"{rel} is damaged and cannot be read. Ask for a new copy of the file."
        )
    return None


class _WorkerDied(Exception):
    pass


class _Worker:
    """The spawned extraction process and its pipe."""

    def __init__(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe(duplex=True)
        self.process: SpawnProcess = ctx.Process(
            target=_worker_main, args=(child,), name="nexa-pdf-reader", daemon=True
        )
        self.process.start()
        child.close()
        self._psutil: Any = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def receive(self, timeout: float) -> tuple[Any, ...] | None:
        """The next message, None after ``timeout`` seconds; raises :class:`_WorkerDied`."""
        ready = connection.wait([self.conn, self.process.sentinel], max(timeout, 0.0))
        if not ready:
            return None
        if self.conn in ready or self.conn.poll():
            try:
                message: tuple[Any, ...] = self.conn.recv()
                return message
            except (EOFError, OSError):
                pass
        raise _WorkerDied()

    def rss_mb(self) -> float:
        """Resident memory of the process in MB (0 when unknown)."""
        try:
            if self._psutil is None:
                import psutil

                self._psutil = psutil.Process(self.process.pid)
            return float(self._psutil.memory_info().rss) / (1024 * 1024)
        except Exception:
            return 0.0

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5.0)
        self.conn.close()

    def stop(self, timeout: float = 3.0) -> None:
        if self.process.is_alive():
            try:
                self.conn.send(("stop",))
            except (BrokenPipeError, EOFError, OSError):
                pass
            self.process.join(timeout)
        self.kill()


#: How long a fresh worker may take to start (importing pdfium on a slow, virus-scanned laptop).
STARTUP_SECONDS = 120.0
#: How often the parent looks at the clock, the worker's memory and the cancel flag while waiting.
POLL_SECONDS = 0.02


class Extractor:
    """Reads files in a persistent worker process with a budget per file (a context manager).

    The worker starts on first use and stays warm across files and packages; a file that runs
    over its budget, or crashes the worker, gets a ``FileProblem`` and the worker is restarted
    for the next file. ``in_process=True`` reads here instead (tests, debugging): the same typed
    problems, the time budget checked between pages, no memory budget.
    """

    def __init__(
        self,
        budget: Budget = Budget(),
        *,
        ocr: bool = True,
        in_process: bool = False,
        positions: bool = False,
    ) -> None:
        self.budget = budget
        self.ocr = ocr
        self.in_process = in_process
        #: Keep each character's place on its line (``TextLine.xs``): for writing into a form.
        self.positions = positions
        self._worker: _Worker | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id, None when no worker is running."""
        return self._worker.pid if self._worker is not None else None

    def start(self, cancel: Callable[[], bool] | None = None) -> None:
        """Start the worker now (it otherwise starts on the first file)."""
        if not self.in_process:
            with self._lock:
                self._ensure_worker(cancel)

    def close(self) -> None:
        """Stop the worker."""
        with self._lock:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None

    def extract(
        self,
        path: Path,
        rel: str,
        *,
        on_page: Callable[[PageContent], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> FileExtraction:
        """Read one file; pages go to ``on_page`` as they come. Raises ``Cancelled`` on cancel."""
        with self._lock:
            if self.in_process:
                return self._extract_here(path, rel, on_page, cancel)
            return self._extract_in_worker(path, rel, on_page, cancel)

    # -- in this process

    def _extract_here(
        self,
        path: Path,
        rel: str,
        on_page: Callable[[PageContent], None] | None,
        cancel: Callable[[], bool] | None,
    ) -> FileExtraction:
        result = FileExtraction(rel)
        deadline = time.monotonic() + self.budget.seconds_per_file

        def extend(_page: int) -> None:
            nonlocal deadline
            deadline += self.budget.seconds_per_ocr_page

        try:
            for page in read_pdf(
                path,
                rel,
                max_pages=self.budget.max_pages,
                ocr=self.ocr,
                on_ocr=extend,
                positions=self.positions,
            ):
                result.pages.append(page)
                if on_page is not None:
                    on_page(page)
                if cancel is not None and cancel():
                    raise Cancelled()
                if time.monotonic() > deadline:
                    result.problem = self._problem("timeout", rel, len(result.pages))
                    break
        except PdfProblem as problem:
            result.problem = FileProblem(rel, problem.kind, str(problem))
        except MemoryError:
            result.problem = self._problem("too_much_memory", rel, len(result.pages))
        except Cancelled:
            raise
        except Exception:
            logger.warning("%s could not be read", rel, exc_info=True)
            result.problem = self._problem("damaged", rel, len(result.pages))
        return result

    # -- in the worker

    def _ensure_worker(self, cancel: Callable[[], bool] | None) -> _Worker:
        if self._worker is not None and self._worker.process.is_alive():
            return self._worker
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
        worker = _Worker()
        deadline = time.monotonic() + STARTUP_SECONDS
        try:
            while True:
                if cancel is not None and cancel():
                    raise Cancelled()
                if time.monotonic() > deadline:
                    raise ExtractorUnavailable(
                        "The PDF reader did not start in time. Close other programs and try again."
                    )
                message = worker.receive(0.1)
                if message is not None and message[0] == "ready":
                    break
        except _WorkerDied:
            worker.kill()
            raise ExtractorUnavailable(
                "The PDF reader could not be started. Reinstall NEXA Desktop if this keeps happening."
            ) from None
        except BaseException:
            worker.kill()
            raise
        self._worker = worker
        return worker

    def _discard_worker(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

    def _problem(self, kind: str, rel: str, pages: int) -> FileProblem:
        return FileProblem(rel, kind, _problem_message(kind, rel, self.budget, pages))

    def _extract_in_worker(
        self,
        path: Path,
        rel: str,
        on_page: Callable[[PageContent], None] | None,
        cancel: Callable[[], bool] | None,
    ) -> FileExtraction:
        worker = self._ensure_worker(cancel)
        result = FileExtraction(rel)
        try:
            worker.conn.send(("read", str(path), rel, self.budget.max_pages, self.ocr, self.positions))
        except (BrokenPipeError, EOFError, OSError):
            self._discard_worker()
            result.problem = self._problem("damaged", rel, 0)
            return result
        deadline = time.monotonic() + self.budget.seconds_per_file
        next_memory_check = 0.0
        try:
            while True:
                if cancel is not None and cancel():
                    self._discard_worker()
                    raise Cancelled()
                now = time.monotonic()
                if now > deadline:
                    self._discard_worker()
                    result.problem = self._problem("timeout", rel, len(result.pages))
                    return result
                if now >= next_memory_check:
                    next_memory_check = now + POLL_SECONDS
                    if worker.rss_mb() > self.budget.max_memory_mb:
                        self._discard_worker()
                        result.problem = self._problem("too_much_memory", rel, len(result.pages))
                        return result
                message = worker.receive(min(POLL_SECONDS, max(deadline - now, 0.0)))
                if message is None:
                    continue
                if message[0] == "page":
                    result.pages.append(message[1])
                    if on_page is not None:
                        called = time.monotonic()
                        on_page(message[1])
                        deadline += time.monotonic() - called  # the caller's time is not the file's
                elif message[0] == "ocr":
                    deadline += self.budget.seconds_per_ocr_page
                elif message[0] == "done":
                    result.problem = message[1]
                    return result
        except _WorkerDied:
            logger.warning("the PDF reader stopped while reading %s", rel)
            self._discard_worker()
            result.problem = self._problem("damaged", rel, len(result.pages))
            return result
        except BaseException:
            # on_page failed or the caller is going away: the worker is mid-file, start afresh.
            self._discard_worker()
            raise


__all__ = [
    "Budget",
    "Extractor",
    "ExtractorUnavailable",
    "FileExtraction",
    "NoPdfInPackage",
    "PackageNotFound",
    "PdfProblem",
    "classify_colour",
    "package_pdf_files",
    "read_pdf",
]

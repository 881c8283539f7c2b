"""Marks read from a rendered page's pixels: what a scan draws, in the vocabulary of vector pages.

A scanned page has no path objects, so rules, drawn check boxes, ticks and signature ink are only
pixels. This module turns them into the same :class:`Mark` records the extraction walker makes for
vector pages (thin rules, small squares, strokes), so one reading logic serves both:

1. binarise the page (Otsu), blank out what OCR read as text;
2. take long horizontal and vertical lines out with a morphological opening — they are rules and
   table lines, and without them a signature crossing its line or a tick touching its box would be
   one blob with the line;
3. every remaining connected blob is a stroke (ink); a hollow square is a check box, and whatever
   fills its inside is reported again as a stroke inside it (a tick or a cross).

Runs in the extraction worker (the untrusted page is rendered there). OpenCV comes with the OCR
package; without it, a scan simply has no marks (as before).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nexa_desktop.domain.verify import OUTLINE, Box, Mark, MarkColour

#: Blobs smaller than this (points, both sides) are specks of scanner noise.
MIN_BLOB_PT = 1.6
#: A line at least this long (points) is a rule or a table line, not handwriting.
MIN_LINE_PT = 28.0
#: Thicker than this (points) a horizontal run is a filled bar, not a rule.
MAX_RULE_THICKNESS_PT = 3.0
#: Padding (pixels) around OCR text boxes blanked before looking for marks.
TEXT_PAD_PX = 2
#: At most this many marks per page (a photo or a halftone would otherwise give thousands).
MAX_MARKS = 600


def _cv2() -> Any:
    try:
        import cv2

        return cv2
    except Exception:  # not installed, or a broken native library
        return None


def marks_from_pixels(
    image: Any,
    text_boxes_px: Sequence[tuple[float, float, float, float]],
    pt_per_px: tuple[float, float],
) -> list[Mark]:
    """Marks on a rendered page (``uint8`` H×W×3 BGR or H×W grey), in page points.

    ``text_boxes_px`` are OCR's text boxes in the same pixels (blanked first, so letters are not
    taken for strokes); ``pt_per_px`` converts pixels to points along x and y.
    """
    cv2 = _cv2()
    if cv2 is None:
        return []
    import numpy as np

    colour_image = image if image.ndim == 3 and image.shape[2] >= 3 else None
    grey = cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2GRAY) if colour_image is not None else image
    _t, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    if float(ink.mean()) > 0.5 * 255:
        return []  # mostly dark: a photo or a negative, nothing form-like to read
    height, width = ink.shape
    for x0, y0, x1, y1 in text_boxes_px:
        ink[
            max(0, int(y0) - TEXT_PAD_PX) : min(height, int(y1) + TEXT_PAD_PX + 1),
            max(0, int(x0) - TEXT_PAD_PX) : min(width, int(x1) + TEXT_PAD_PX + 1),
        ] = 0
    sx, sy = pt_per_px
    line_px_x = max(8, int(MIN_LINE_PT / sx))
    line_px_y = max(8, int(MIN_LINE_PT / sy))
    rect = cv2.MORPH_RECT
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, (line_px_x, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, (1, line_px_y)))
    strokes = cv2.subtract(ink, cv2.bitwise_or(horizontal, vertical))
    # Openings leave a pixel or two of a line's ragged edge: thin them away before counting blobs.
    strokes = cv2.morphologyEx(strokes, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))

    marks: list[Mark] = []
    marks += _line_marks(cv2, horizontal, sx, sy, horizontal_lines=True)
    marks += _line_marks(cv2, vertical, sx, sy, horizontal_lines=False)
    marks += _stroke_marks(cv2, strokes, colour_image, sx, sy)
    return marks[:MAX_MARKS]


def _line_marks(cv2: Any, lines: Any, sx: float, sy: float, *, horizontal_lines: bool) -> list[Mark]:
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(lines, connectivity=8)
    out: list[Mark] = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if horizontal_lines:
            # thickness from the pixel count, so a slightly skewed rule still reads as thin
            thickness = area / max(w, 1) * sy
            if thickness > MAX_RULE_THICKNESS_PT:
                continue
            cy = (y + h / 2) * sy
            box = Box(x * sx, cy - thickness / 2, (x + w) * sx, cy + thickness / 2)
        else:
            thickness = area / max(h, 1) * sx
            cx = (x + w / 2) * sx
            box = Box(cx - thickness / 2, y * sy, cx + thickness / 2, (y + h) * sy)
        out.append(Mark(kind="ink", box=box, colour="black"))
    return out


def _stroke_marks(cv2: Any, strokes: Any, colour_image: Any, sx: float, sy: float) -> list[Mark]:
    count, labels, stats, _centroids = cv2.connectedComponentsWithStats(strokes, connectivity=8)
    out: list[Mark] = []
    for i in range(1, count):
        x, y, w, h, _area = (int(v) for v in stats[i])
        if w * sx < MIN_BLOB_PT and h * sy < MIN_BLOB_PT:
            continue
        colour = _blob_colour(colour_image, labels, i, x, y, w, h) if colour_image is not None else "black"
        box = Box(x * sx, y * sy, (x + w) * sx, (y + h) * sy)
        outline, inner = _square_outline(labels, i, x, y, w, h, sx, sy)
        out.append(Mark(kind="ink", box=box, colour=colour, subtype=OUTLINE if outline else ""))
        if inner is not None:
            out.append(Mark(kind="ink", box=inner, colour=colour))
    return out


def _square_outline(
    labels: Any, index: int, x: int, y: int, w: int, h: int, sx: float, sy: float
) -> tuple[bool, Box | None]:
    """Whether a check-box-sized blob is a square outline (its border band mostly ink on all four
    sides) and, when ink fills its inside too (a tick or cross touching its box), that ink's box."""
    wpt, hpt = w * sx, h * sy
    if not (5.0 <= wpt <= 18.0 and 5.0 <= hpt <= 18.0 and 0.7 <= wpt / max(hpt, 1e-6) <= 1.4):
        return False, None
    import numpy as np

    own = labels[y : y + h, x : x + w] == index
    border = max(2, min(w, h) // 6)
    if own.shape[0] <= 2 * border or own.shape[1] <= 2 * border:
        return False, None
    sides = (own[:border, :], own[-border:, :], own[:, :border], own[:, -border:])
    if min(float(side.mean()) for side in sides) < 0.35:
        return False, None
    inside = own[border:-border, border:-border]
    if float(inside.mean()) < 0.06:
        return True, None
    ys, xs = np.nonzero(inside)
    return True, Box(
        (x + border + int(xs.min())) * sx,
        (y + border + int(ys.min())) * sy,
        (x + border + int(xs.max()) + 1) * sx,
        (y + border + int(ys.max()) + 1) * sy,
    )


def _blob_colour(image: Any, labels: Any, index: int, x: int, y: int, w: int, h: int) -> MarkColour:
    from nexa_desktop.services.verify.extraction import classify_colour

    own = labels[y : y + h, x : x + w] == index
    pixels = image[y : y + h, x : x + w, :3][own]
    if not len(pixels):
        return "black"
    blue, green, red = (int(v) for v in pixels.mean(axis=0))
    return classify_colour(red, green, blue)

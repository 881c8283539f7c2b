"""Offline OCR of rendered pages with rapidocr-onnxruntime (its models ship inside the wheel).

One engine per process, created on first use. :func:`read_image` finds which way up the page is
(scans come in turned by 90, 180 or 270 degrees), reads it upright and returns the text boxes in the
pixel frame of the upright image, together with the clockwise turn that made it upright.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from nexa_desktop.services.verify.ocrwords import respace

logger = logging.getLogger(__name__)

#: Results below this recognition score are dropped by the engine.
MIN_SCORE = 0.5
#: The engine shrinks larger images to this longest side before detecting text.
MAX_SIDE_PX = 2000
#: A box at least this much taller than wide is a line of text running up or down the page.
VERTICAL_RATIO = 1.5
#: A first pass with fewer characters or a lower mean score than this is "poor": try other turns.
POOR_CHARS = 12
POOR_MEAN_SCORE = 0.75
#: How many of the longest boxes the orientation classifier looks at.
ORIENTATION_SAMPLE = 24

#: The Chinese recognition model reads check box glyphs as look-alike CJK characters.
_LOOKALIKES = str.maketrans({"口": "☐", "区": "☒", "図": "☒", "√": "✓"})

_engine: Any = None
_engine_failed = False
_engine_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class OcrBox:
    """One recognised piece of text, in pixels of the upright image."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float


@dataclass(frozen=True, slots=True)
class OcrResult:
    """What OCR read, and the clockwise turn (0/90/180/270) applied to the image to read it upright."""

    turn: int
    width: int
    height: int
    boxes: list[OcrBox]

    @property
    def char_count(self) -> int:
        return sum(len(b.text) for b in self.boxes)


def _get_engine() -> Any:
    """The process-wide RapidOCR engine, or None when it cannot be loaded."""
    global _engine, _engine_failed
    with _engine_lock:
        if _engine is None and not _engine_failed:
            try:
                from rapidocr_onnxruntime import RapidOCR

                _engine = RapidOCR(text_score=MIN_SCORE, max_side_len=MAX_SIDE_PX)
            except Exception:  # ImportError, a broken onnxruntime, missing models…
                logger.warning("OCR is not available", exc_info=True)
                _engine_failed = True
        return _engine


def ocr_installed() -> bool:
    """True when the OCR package is installed (cheap: nothing is loaded)."""
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def ocr_available() -> bool:
    """True when the OCR engine can be (or has been) loaded in this process."""
    return _get_engine() is not None


def read_image(image: Any) -> OcrResult:
    """Read a page image (numpy ``uint8`` array, height × width × 3), whichever way up it is."""
    engine = _get_engine()
    height, width = int(image.shape[0]), int(image.shape[1])
    if engine is None:
        return OcrResult(0, width, height, [])
    first = _run(engine, image)
    if not first:
        return OcrResult(0, width, height, [])
    turn = _orientation(engine, image, first)
    best = OcrResult(0, width, height, first)
    if turn:
        candidate = _read_turned(engine, image, turn)
        if _quality(candidate.boxes) >= 0.9 * _quality(first):
            best = candidate
    elif _is_poor(first):
        for other in (90, 180, 270):
            candidate = _read_turned(engine, image, other)
            if _quality(candidate.boxes) > 1.2 * _quality(best.boxes):
                best = candidate
    return best


def _read_turned(engine: Any, image: Any, turn: int) -> OcrResult:
    import numpy as np

    turned = np.ascontiguousarray(np.rot90(image, k=-(turn // 90)))
    return OcrResult(turn, int(turned.shape[1]), int(turned.shape[0]), _run(engine, turned))


def _run(engine: Any, image: Any) -> list[OcrBox]:
    result, _elapsed = engine(image, return_word_box=True)
    boxes: list[OcrBox] = []
    for points, text, score, *words in result or []:
        if len(words) >= 2 and words[0] and len(words[0]) == len(words[1]):
            text = _spaced(words[1], words[0]) or text
        clean = unicodedata.normalize("NFKC", str(text)).translate(_LOOKALIKES)
        clean = respace(" ".join(_BOX_TOKEN.sub(r" \1 ", clean).split()))
        if not clean:
            continue
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        boxes.append(OcrBox(clean, min(xs), min(ys), max(xs), max(ys), float(score)))
    return boxes


#: A check box read as text ("[X]Completed", "[]Canceled"): a word of its own, as on paper.
_BOX_TOKEN = re.compile(r"(\[\s*[xX✓✔]?\s*\]|[☐☒☑])")

#: A gap between two recognised characters wider than this share of the line's median character
#: width is a space (the recogniser itself rarely emits spaces in Latin text).
SPACE_GAP = 0.7


def _spaced(chars: list[str], char_boxes: list[Any]) -> str:
    """The line's text with the spaces put back where the characters stand apart on the page.

    ``char_boxes`` are the recogniser's per-character quadrilaterals in image pixels. Vertical
    lines are left as read.
    """
    spans = []
    for quad in char_boxes:
        xs = [float(p[0]) for p in quad]
        ys = [float(p[1]) for p in quad]
        spans.append((min(xs), max(xs), min(ys), max(ys)))
    widths = sorted(x1 - x0 for x0, x1, _y0, _y1 in spans)
    if not widths or spans[-1][0] - spans[0][0] < spans[-1][3] - spans[0][2]:
        return ""  # a single character, or a line running down the page
    threshold = SPACE_GAP * max(widths[len(widths) // 2], 1.0)
    out = [chars[0]]
    for prev, cur, char in zip(spans, spans[1:], chars[1:], strict=False):
        if cur[0] - prev[1] > threshold and out[-1] != " " and char != " ":
            out.append(" ")
        out.append(char)
    return "".join(out)


def _is_vertical(box: OcrBox) -> bool:
    return (box.y1 - box.y0) > VERTICAL_RATIO * (box.x1 - box.x0) and len(box.text) >= 2


def _quality(boxes: list[OcrBox]) -> float:
    """Confident characters on horizontal lines: upright text scores highest."""
    return sum(len(b.text) * b.score for b in boxes if not _is_vertical(b))


def _is_poor(boxes: list[OcrBox]) -> bool:
    chars = sum(len(b.text) for b in boxes)
    mean = sum(b.score for b in boxes) / len(boxes) if boxes else 0.0
    return chars < POOR_CHARS or mean < POOR_MEAN_SCORE


def _orientation(engine: Any, image: Any, boxes: list[OcrBox]) -> int:
    """The clockwise turn that makes the page upright, from the lines' shape and the 0/180 classifier.

    The engine reads a tall box after turning it a quarter counter-clockwise, then its classifier says
    whether that crop is upright or upside down; the majority over the longest boxes decides.
    """
    import numpy as np

    vertical_chars = sum(len(b.text) for b in boxes if _is_vertical(b))
    horizontal_chars = sum(len(b.text) for b in boxes if not _is_vertical(b))
    vertical = vertical_chars > horizontal_chars
    sample = sorted(
        (b for b in boxes if _is_vertical(b) == vertical), key=lambda b: len(b.text), reverse=True
    )[:ORIENTATION_SAMPLE]
    crops = []
    weights = []
    for box in sample:
        crop = image[int(box.y0) : int(box.y1) + 1, int(box.x0) : int(box.x1) + 1]
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            continue
        crops.append(np.ascontiguousarray(np.rot90(crop) if vertical else crop))
        weights.append(len(box.text))
    if not crops:
        return 0
    try:
        _imgs, labels, _elapsed = engine.text_cls(crops)
    except Exception:
        logger.debug("orientation classifier failed", exc_info=True)
        return 90 if vertical else 0
    upside_down = sum(w for w, (label, _score) in zip(weights, labels, strict=False) if "180" in str(label))
    flipped = upside_down * 2 > sum(weights)
    if vertical:
        # Turned a quarter counter-clockwise the crop reads upright: the page needs 270 clockwise.
        return 90 if flipped else 270
    return 180 if flipped else 0

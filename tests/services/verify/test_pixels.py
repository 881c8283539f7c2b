"""Marks from a scan's pixels: rules, check boxes (empty or ticked), ink crossing a line, colour."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from nexa_desktop.domain.verify import Box, Mark
from nexa_desktop.services.verify.pixels import marks_from_pixels
from nexa_desktop.services.verify.reading import _square, is_rule

DPI = 200
PT = DPI / 72  # pixels per point


def _page() -> Any:
    return np.full((int(792 * PT), int(612 * PT), 3), 255, np.uint8)


def _px(v: float) -> int:
    return round(v * PT)


def _marks(image: Any, text: list[tuple[float, float, float, float]] | None = None) -> list[Mark]:
    return marks_from_pixels(image, text or [], (1 / PT, 1 / PT))


def _within(box: Box, x0: float, y0: float, x1: float, y1: float, slack: float = 2.5) -> bool:
    return box.x0 >= x0 - slack and box.y0 >= y0 - slack and box.x1 <= x1 + slack and box.y1 <= y1 + slack


def _box(image: Any, x: float, y: float, size: float = 10) -> None:
    cv2.rectangle(image, (_px(x), _px(y)), (_px(x + size), _px(y + size)), (0, 0, 0), 3)


def test_rule_and_empty_box_and_ticked_box() -> None:
    image = _page()
    cv2.line(image, (_px(100), _px(200)), (_px(300), _px(201)), (0, 0, 0), 3)  # slightly skewed rule
    _box(image, 100, 300)  # empty
    _box(image, 100, 340)  # ticked: a cross touching its sides
    cv2.line(image, (_px(100), _px(340)), (_px(110), _px(350)), (0, 0, 0), 3)
    cv2.line(image, (_px(110), _px(340)), (_px(100), _px(350)), (0, 0, 0), 3)
    marks = _marks(image)
    rules = [m for m in marks if is_rule(m)]
    assert len(rules) == 1 and _within(rules[0].box, 100, 198, 300, 203)
    outlines = [m for m in marks if _square(m) and m.box.width > 9]
    assert sorted(round(m.box.y0 / 10) for m in outlines) == [30, 34]
    inside_empty = [m for m in marks if _within(m.box, 101, 301, 109, 309, slack=0)]
    inside_ticked = [m for m in marks if _within(m.box, 101, 341, 109, 349, slack=1.0)]
    assert inside_empty == [] and inside_ticked != []


def test_signature_crossing_its_line_is_ink_apart_from_the_line() -> None:
    image = _page()
    cv2.line(image, (_px(100), _px(500)), (_px(300), _px(500)), (0, 0, 0), 2)
    points = np.array([[_px(120 + 6 * i), _px(488 + (10 if i % 2 else 0))] for i in range(20)], np.int32)
    cv2.polylines(image, [points], False, (200, 40, 20), 3)  # blue ink (BGR)
    marks = _marks(image)
    assert any(is_rule(m) and m.box.width > 190 for m in marks)
    ink = [m for m in marks if not is_rule(m) and m.box.height > 5]
    assert ink and all(m.colour == "blue" for m in ink)
    assert _within(Box(min(m.box.x0 for m in ink), 0, max(m.box.x1 for m in ink), 1), 118, 0, 240, 1)


def test_text_read_by_ocr_is_not_a_mark_and_a_dark_photo_gives_none() -> None:
    image = _page()
    cv2.putText(image, "PM 35589054", (_px(100), _px(120)), cv2.FONT_HERSHEY_SIMPLEX, 2, (0, 0, 0), 4)
    text_box = (_px(95), _px(95), _px(100) + 420, _px(125))
    assert [m for m in _marks(image, [text_box]) if m.box.y0 < 130] == []
    assert [m for m in _marks(image) if m.box.y0 < 130] != []  # unread text stays visible as ink
    assert _marks(np.zeros_like(image)) == []

"""Render PDF pages to ``QImage`` with pypdfium2 off the GUI thread, behind a bounded LRU cache.

PDFium is not thread-safe, so every call into it in this process goes through one lock, and the
pool renders one page at a time. Pages are rendered upright: the PDF's own /Rotate, then the
reader's extra ``turn`` for pages scanned or saved sideways. Evidence is highlighted in translucent
yellow: the region a check looked at (a box in upright page points) when it names one, else the
snippet's text searched in the page's text layer.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from PySide6.QtCore import QObject, QRect, QRectF, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from nexa_desktop.domain.verify import Box

log = logging.getLogger(__name__)

#: One lock for every PDFium call made by the UI (PDFium keeps global state).
PDFIUM_LOCK = threading.Lock()
_HIGHLIGHT_FILL = QColor(255, 213, 0, 90)
#: QImage text key: "x,y" (pixels) of the first highlight, so a view can scroll to it.
HIGHLIGHT_AT = "nexa-highlight-at"
#: QImage text key: "x,y,w,h" (pixels) of that highlight, so a view can bring all of it into view.
HIGHLIGHT_RECT = "nexa-highlight-rect"
_HIGHLIGHT_EDGE = QColor(230, 120, 0)
#: Regions of the findings not in focus: the same colours, fainter, with a dashed edge.
_LIGHT_FILL = QColor(255, 213, 0, 55)
_LIGHT_EDGE = QColor(230, 120, 0, 150)
_TURNS = (0, 90, 180, 270)


@dataclass(frozen=True, slots=True)
class Region:
    """An evidence region to draw: a box in upright page points (origin top left); ``strong`` for the
    finding in focus, else drawn fainter."""

    box: Box
    strong: bool = True


@dataclass(frozen=True, slots=True)
class ImageKey:
    """Which rendering: the file, its 1-based page, the pixel width, the texts and regions to
    highlight, and the clockwise turn (on top of the PDF's /Rotate) that shows the page upright."""

    path: str
    page: int
    width: int
    highlights: tuple[str, ...] = ()
    turn: int = 0
    regions: tuple[Region, ...] = ()


def _search_needles(snippet: str) -> list[str]:
    """The pieces of a snippet worth looking for: each non-empty line, and its first words."""
    needles: list[str] = []
    for line in snippet.splitlines():
        text = " ".join(line.split())[:80]
        if len(text) >= 3:
            needles.append(text)
            words = text.split()
            if len(words) > 4:
                needles.append(" ".join(words[:4]))
    return needles


def _text_rects(page: Any, posconv: Any, snippets: Sequence[str]) -> list[QRect]:
    """Bitmap rectangles of every occurrence of the snippets (or their first words) on the page."""
    textpage = page.get_textpage()
    rects: list[QRect] = []
    try:
        for snippet in snippets:
            for needle in _search_needles(snippet):
                searcher = textpage.search(needle, match_case=False)
                found = False
                try:
                    while (hit := searcher.get_next()) is not None:
                        found = True
                        start, count = hit
                        for i in range(textpage.count_rects(start, count)):
                            left, bottom, right, top = textpage.get_rect(i)
                            x0, y0 = posconv.to_bitmap(left, top)
                            x1, y1 = posconv.to_bitmap(right, bottom)
                            rect = QRect(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
                            rects.append(rect.adjusted(-2, -2, 2, 2))
                finally:
                    searcher.close()
                if found:
                    break  # the whole line matched; its first words would only repeat it
    finally:
        textpage.close()
    return rects


def upright_size(page: Any, turn: int) -> tuple[float, float]:
    """The page's width and height in points as shown upright (PDFium's size has /Rotate applied)."""
    width, height = float(page.get_width()), float(page.get_height())
    return (height, width) if turn in (90, 270) else (width, height)


def region_rect(box: Box, scale: float, pad: int = 3) -> QRect:
    """``box`` (upright page points) in the pixels of a rendering ``scale`` pixels per point."""
    rect = QRectF(box.x0 * scale, box.y0 * scale, box.width * scale, box.height * scale).toAlignedRect()
    return rect.adjusted(-pad, -pad, pad, pad)


def render_page(
    path: str | Path,
    page_number: int,
    width: int,
    highlights: Sequence[str] = (),
    *,
    turn: int = 0,
    regions: Sequence[Region] = (),
) -> QImage:
    """Render one page (1-based, form fields applied) upright and ``width`` pixels wide.

    ``turn`` is the clockwise quarter turn on top of the page's /Rotate that shows it upright.
    ``regions`` are drawn first-class; ``highlights`` are snippets searched in the text layer."""
    turn = turn % 360 if turn % 360 in _TURNS else 0
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(path))
        try:
            pdf.init_forms()
            page = pdf[page_number - 1]
            try:
                upright_width, _ = upright_size(page, turn)
                scale = max(width, 16) / max(upright_width, 1.0)
                bitmap = page.render(
                    scale=scale, rotation=turn, prefer_bgrx=True, rev_byteorder=True, may_draw_forms=True
                )
                rects = _text_rects(page, bitmap.get_posconv(page), highlights) if highlights else []
                image = QImage(
                    bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride, QImage.Format.Format_RGBX8888
                ).copy()  # own the pixels: the bitmap's buffer goes away with it
                bitmap.close()
            finally:
                page.close()
        finally:
            pdf.close()
    strong = [region_rect(r.box, scale) for r in regions if r.strong]
    faint = (region_rect(r.box, scale) for r in regions if not r.strong)
    light = [rect for rect in faint if rect not in strong]  # a box shared with the focus is drawn once
    _paint_highlights(image, strong + rects, light)
    return image


def _paint_highlights(image: QImage, strong: list[QRect], light: list[QRect]) -> None:
    """Draw the regions (faint ones under the ones in focus) and note where the first one is."""
    if not strong and not light:
        return
    first = min(strong or light, key=lambda r: (r.top(), r.left()))
    image.setText(HIGHLIGHT_AT, f"{first.center().x()},{first.center().y()}")
    image.setText(HIGHLIGHT_RECT, f"{first.x()},{first.y()},{first.width()},{first.height()}")
    painter = QPainter(image)
    painter.setPen(QPen(_LIGHT_EDGE, 1, Qt.PenStyle.DashLine))
    painter.setBrush(_LIGHT_FILL)
    for rect in light:
        painter.drawRect(rect)
    painter.setPen(QPen(_HIGHLIGHT_EDGE, 2))
    painter.setBrush(_HIGHLIGHT_FILL)
    for rect in strong:
        painter.drawRect(rect)
    painter.end()


class _Emitter(QObject):
    done = Signal(object, object, object)  # key, QImage | None, error text | None


class _RenderJob(QRunnable):
    def __init__(self, key: ImageKey, emitter: _Emitter, render: Callable[[ImageKey], QImage]) -> None:
        super().__init__()
        self.key = key
        self.emitter = emitter
        self.render = render
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            image = self.render(self.key)
        except Exception as exc:  # a damaged page must not take the strip down
            log.info("could not render %s page %s: %s", self.key.path, self.key.page, exc)
            self.emitter.done.emit(self.key, None, str(exc))
            return
        self.emitter.done.emit(self.key, image, None)


def _render_key(key: ImageKey) -> QImage:
    return render_page(key.path, key.page, key.width, key.highlights, turn=key.turn, regions=key.regions)


class PageImages(QObject):
    """Lazily rendered page images: ask with :meth:`image`; ``imageReady`` says when one arrived."""

    #: A requested image is ready (or failed; then :meth:`failed` is true for its key).
    imageReady = Signal(object)  # ImageKey

    def __init__(
        self, max_images: int = 160, max_bytes: int = 192 * 1024 * 1024, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.max_images = max_images
        self.max_bytes = max_bytes  # large zoomed previews count for what they weigh
        self._bytes = 0
        self._images: OrderedDict[ImageKey, QImage] = OrderedDict()
        self._pending: set[ImageKey] = set()
        self._failed: set[ImageKey] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # PDFium serialises anyway; keep a core for the verifier
        self._emitter = _Emitter()
        self._emitter.done.connect(self._arrived, Qt.ConnectionType.QueuedConnection)
        self._render: Callable[[ImageKey], QImage] = _render_key

    def image(self, key: ImageKey) -> QImage | None:
        """The cached image for ``key``, or ``None`` while it renders (a request is queued once)."""
        cached = self._images.get(key)
        if cached is not None:
            self._images.move_to_end(key)
            return cached
        if key not in self._pending and key not in self._failed:
            self._pending.add(key)
            self._pool.start(_RenderJob(key, self._emitter, self._render))
        return None

    def failed(self, key: ImageKey) -> bool:
        return key in self._failed

    def is_pending(self, key: ImageKey) -> bool:
        return key in self._pending

    def __len__(self) -> int:
        return len(self._images)

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        """Forget every image (a new package); renders still queued are dropped."""
        self._pool.clear()
        self._images.clear()
        self._bytes = 0
        self._pending.clear()
        self._failed.clear()

    def wait(self, msecs: int = 5000) -> bool:
        """Block until queued renders are done (shutting down, tests)."""
        return bool(self._pool.waitForDone(msecs))

    def shutdown(self) -> None:
        self._pool.clear()
        self._pool.waitForDone(10_000)

    def _arrived(self, key: ImageKey, image: QImage | None, _error: str | None) -> None:
        if key not in self._pending:
            return  # cleared meanwhile
        self._pending.discard(key)
        if image is None:
            self._failed.add(key)
        else:
            self._images[key] = image
            self._bytes += image.sizeInBytes()
            while len(self._images) > 1 and (
                len(self._images) > self.max_images or self._bytes > self.max_bytes
            ):
                _, dropped = self._images.popitem(last=False)
                self._bytes -= dropped.sizeInBytes()
        self.imageReady.emit(key)

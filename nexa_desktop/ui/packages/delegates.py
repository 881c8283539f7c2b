"""Paints one page card of the strip: thumbnail (upright; or a placeholder while it renders), the
page's type and confidence, a red/amber badge for findings, and a "Needs review" chip (an unsure
type, or a finding too weakly evidenced to count). Pages of one document share a background band;
a new document starts after a small gap."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from nexa_desktop.ui.packages.models import REVIEW_COLOR, SEVERITY_COLORS, PageRoles

THUMB_WIDTH = 124
THUMB_HEIGHT = 160  # a letter page at THUMB_WIDTH; landscape sheets sit centred in the box
DOC_GAP = 12
_PAD = 7
_TEXT_LINES = 3  # the type (up to two lines), then page and confidence
DOC_BANDS = ("#dde5ec", "#c9d5df")  # alternate per document
CORRECTED_COLOR = "#1565c0"


def card_size(font: QFont) -> QSize:
    line = QFontMetrics(font).height()
    return QSize(THUMB_WIDTH + 2 * _PAD, THUMB_HEIGHT + 2 * _PAD + _TEXT_LINES * (line + 2) + 4)


def wrap_two_lines(text: str, fm: QFontMetrics, width: int) -> list[str]:
    """``text`` on at most two lines of ``width`` pixels (words kept whole; the rest elided)."""
    words = text.split()
    first = ""
    while words and fm.horizontalAdvance(f"{first} {words[0]}".strip()) <= width:
        first = f"{first} {words.pop(0)}".strip()
    if not first:  # one long word: elide it on the first line
        return [fm.elidedText(text, Qt.TextElideMode.ElideRight, width)]
    if not words:
        return [first]
    return [first, fm.elidedText(" ".join(words), Qt.TextElideMode.ElideRight, width)]


class PageCardDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = card_size(option.font)
        if index.row() > 0 and index.data(PageRoles.DOC_START):
            size.setWidth(size.width() + DOC_GAP)
        return size

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        ref = index.data(PageRoles.REF)
        if ref is None:
            super().paint(painter, option, index)
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRect(option.rect)
        starts_doc = bool(index.data(PageRoles.DOC_START)) and index.row() > 0
        if starts_doc:  # the gap that separates documents, with a thin rule in it
            gap = QRect(rect.left(), rect.top(), DOC_GAP, rect.height())
            painter.fillRect(gap, QColor("#eef2f5"))
            painter.fillRect(
                QRect(gap.center().x(), rect.top() + 10, 2, rect.height() - 20), QColor("#90a4ae")
            )
            rect.setLeft(rect.left() + DOC_GAP)
        band = QColor(DOC_BANDS[int(index.data(PageRoles.DOC_INDEX) or 0) % len(DOC_BANDS)])
        painter.fillRect(rect, band)

        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        needs_review = bool(index.data(PageRoles.NEEDS_REVIEW))
        card = QRectF(rect.adjusted(3, 3, -3, -3))
        border = QColor("#1e88e5") if selected else QColor(REVIEW_COLOR if needs_review else "#b0bec5")
        painter.setPen(QPen(border, 3 if selected else 1))
        painter.setBrush(QColor("#e3f2fd" if selected else "#ffffff"))
        painter.drawRoundedRect(card, 6, 6)
        if focused and not selected:
            painter.setPen(QPen(QColor("#1e88e5"), 1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(card.adjusted(2, 2, -2, -2), 5, 5)

        thumb_box = QRect(rect.left() + _PAD, rect.top() + _PAD, THUMB_WIDTH, THUMB_HEIGHT)
        self._paint_thumbnail(painter, option, index, thumb_box)
        self._paint_badge(painter, option, index, thumb_box)
        self._paint_text(painter, option, index, thumb_box, needs_review)
        painter.restore()

    def _paint_thumbnail(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
        box: QRect,
    ) -> None:  # fmt: skip
        image = index.data(PageRoles.THUMBNAIL)
        if isinstance(image, QImage) and not image.isNull():
            scaled = image.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(box.center())
            painter.drawImage(target, image)
            painter.setPen(QPen(QColor("#cfd8dc"), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(target)
            return
        painter.setPen(QPen(QColor("#cfd8dc"), 1))
        painter.setBrush(QColor("#f5f7f8"))
        painter.drawRect(box)
        painter.setPen(QColor("#78909c"))
        ref = index.data(PageRoles.REF)
        text = f"Page {ref.page}\n" + (
            "no preview" if index.data(PageRoles.THUMBNAIL_FAILED) else "rendering…"
        )
        painter.setFont(option.font)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_badge(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
        box: QRect,
    ) -> None:  # fmt: skip
        severity = index.data(PageRoles.SEVERITY)
        if not severity:
            return
        count = int(index.data(PageRoles.FINDING_COUNT) or 0)
        bold = QFont(option.font)
        bold.setBold(True)
        text = "!" if count <= 1 else str(count)
        diameter = max(22, QFontMetrics(bold).height() + 6)
        badge = QRect(box.right() - diameter + 4, box.top() - 4, diameter, diameter)
        painter.setPen(QPen(QColor("#ffffff"), 2))
        painter.setBrush(QColor(SEVERITY_COLORS.get(severity, "#546e7a")))
        painter.drawEllipse(badge)
        painter.setFont(bold)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_text(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
        box: QRect, needs_review: bool,
    ) -> None:  # fmt: skip
        base = QFont(option.font)
        bold = QFont(base)
        bold.setBold(True)
        fm = QFontMetrics(base)
        line = fm.height() + 2
        width = box.width()
        y = box.bottom() + 6
        painter.setFont(bold)
        painter.setPen(QColor("#102027"))
        title = str(index.data(PageRoles.DOC_TITLE) or "")
        for text in wrap_two_lines(title, QFontMetrics(bold), width):
            painter.drawText(
                QRect(box.left(), y, width, line),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
            y += line
        y = box.bottom() + 6 + 2 * line
        confidence = float(index.data(PageRoles.CONFIDENCE) or 0.0)
        percent = f"{confidence:.0%}"
        percent_w = fm.horizontalAdvance(percent) + 6
        painter.setFont(base)
        painter.setPen(QColor("#37474f"))
        painter.drawText(
            QRect(box.left(), y, width - percent_w, line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(
                str(index.data(PageRoles.CAPTION) or ""), Qt.TextElideMode.ElideRight, width - percent_w
            ),
        )
        type_unsure = bool(index.data(PageRoles.TYPE_UNSURE))  # weak evidence leaves the type's percent grey
        painter.setPen(QColor(REVIEW_COLOR if type_unsure else "#37474f"))
        painter.drawText(
            QRect(box.left(), y, width, line),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            percent,
        )
        self._paint_chip(painter, fm, index, box, needs_review)

    def _paint_chip(
        self, painter: QPainter, fm: QFontMetrics, index: QModelIndex | QPersistentModelIndex, box: QRect,
        needs_review: bool,
    ) -> None:  # fmt: skip
        """ "Needs review" (or "Type set by you") across the bottom of the thumbnail."""
        if index.data(PageRoles.CORRECTED):
            text, colour = "Type set by you", CORRECTED_COLOR
        elif needs_review:
            text, colour = "⚑ Needs review", REVIEW_COLOR
        else:
            return
        height = fm.height() + 4
        chip_w = min(box.width() - 8, fm.horizontalAdvance(text) + 14)
        chip = QRect(box.left() + (box.width() - chip_w) // 2, box.bottom() - height - 4, chip_w, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        painter.drawRoundedRect(chip, 4, 4)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)

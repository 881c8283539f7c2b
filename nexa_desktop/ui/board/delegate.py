"""Paints a job card: PM #, priority chip, address, due date (overdue red, soon amber), crew,
dependency chips. Fixed height so the views can use uniform item sizes (fast with 10k cards)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from nexa_desktop.domain.jobs import DependencyStatus, DueState, Job, Priority
from nexa_desktop.ui.board.model import Roles

CARD_HEIGHT = 96
_MARGIN = 5

PRIORITY_COLORS = {
    Priority.EMERGENCY: "#b71c1c",
    Priority.A: "#d32f2f",
    Priority.E: "#ef6c00",
    Priority.B: "#1565c0",
    Priority.C: "#546e7a",
    Priority.D: "#78909c",
}
DUE_COLORS = {DueState.OVERDUE: "#c62828", DueState.SOON: "#b26a00"}
DEP_COLORS = {
    DependencyStatus.REQUIRED: ("#fdecea", "#b71c1c"),
    DependencyStatus.CHECK: ("#fff4e0", "#8a4b00"),
    DependencyStatus.SCHEDULED: ("#e8f5e9", "#1b5e20"),
}


class CardDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(max(option.rect.width(), 180), CARD_HEIGHT)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        job: Job | None = index.data(Roles.JOB)
        if job is None:
            super().paint(painter, option, index)
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QRectF(option.rect.adjusted(_MARGIN, _MARGIN // 2 + 1, -_MARGIN, -(_MARGIN // 2 + 1)))
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        painter.setPen(QPen(QColor("#1e88e5" if selected else "#cfd8dc"), 2 if selected else 1))
        painter.setBrush(QColor("#e3f2fd" if selected else "#ffffff"))
        painter.drawRoundedRect(card, 6, 6)
        if focused and not selected:
            painter.setPen(QPen(QColor("#1e88e5"), 1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(card.adjusted(1, 1, -1, -1), 5, 5)

        stripe = QRectF(card.left(), card.top(), 4, card.height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(PRIORITY_COLORS[job.priority]))
        painter.drawRoundedRect(stripe, 2, 2)

        inner = card.adjusted(10, 5, -8, -5).toRect()
        base = QFont(option.font)
        bold = QFont(base)
        bold.setBold(True)
        small = QFont(base)
        small.setPointSizeF(max(base.pointSizeF() - 1.0, 7.0))
        fm = QFontMetrics(base)
        line_h = fm.height()

        # line 1: PM number + priority chip
        chip_text = "EMERG" if job.priority is Priority.EMERGENCY else job.priority.value
        painter.setFont(small)
        sfm = QFontMetrics(small)
        chip_w = sfm.horizontalAdvance(chip_text) + 12
        chip = QRect(inner.right() - chip_w, inner.top(), chip_w, sfm.height() + 2)
        painter.setBrush(QColor(PRIORITY_COLORS[job.priority]))
        painter.drawRoundedRect(chip, 7, 7)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, chip_text)

        painter.setFont(bold)
        painter.setPen(QColor("#102027"))
        title = job.pm_number or f"N {job.notification_number}"
        painter.drawText(
            QRect(inner.left(), inner.top(), inner.width() - chip_w - 6, line_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            title,
        )

        # line 2: address
        painter.setFont(base)
        painter.setPen(QColor("#37474f"))
        address = f"{job.address}, {job.city}" if job.city else job.address
        y = inner.top() + line_h + 2
        painter.drawText(
            QRect(inner.left(), y, inner.width(), line_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(address, Qt.TextElideMode.ElideRight, inner.width()),
        )

        # line 3: due date + crew
        y += line_h + 1
        due = DueState(index.data(Roles.DUE_STATE))
        due_text = f"Due {job.due_date:%b %d}" if job.due_date else "No due date"
        if due is DueState.OVERDUE:
            due_text = f"Overdue · {job.due_date:%b %d}"
        due_font = bold if due in DUE_COLORS else small
        painter.setFont(due_font)
        painter.setPen(QColor(DUE_COLORS.get(due, "#546e7a")))
        due_w = QFontMetrics(due_font).horizontalAdvance(due_text) + 2
        painter.drawText(
            QRect(inner.left(), y, due_w, line_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            due_text,
        )
        crew = index.data(Roles.CREW_NAME) or ""
        if crew:
            painter.setFont(small)
            painter.setPen(QColor("#455a64"))
            crew_rect = QRect(inner.left() + due_w + 8, y, inner.width() - due_w - 8, line_h)
            painter.drawText(
                crew_rect,
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                sfm.elidedText(crew, Qt.TextElideMode.ElideRight, crew_rect.width()),
            )

        # line 4: dependency chips (open ones first), or the stuck reason
        y += line_h + 3
        painter.setFont(small)
        x = inner.left()
        if job.stuck_reason:
            painter.setPen(QColor("#b71c1c"))
            painter.drawText(
                QRect(x, y, inner.width(), sfm.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                sfm.elidedText("Stuck: " + job.stuck_reason, Qt.TextElideMode.ElideRight, inner.width()),
            )
        else:
            deps = sorted(
                (d for d in job.dependencies if d.status is not DependencyStatus.NOT_REQUIRED),
                key=lambda d: d.status.resolved,
            )
            for dep in deps:
                text = dep.kind.label
                w = sfm.horizontalAdvance(text) + 10
                if x + w > inner.right():
                    painter.setPen(QColor("#546e7a"))
                    painter.drawText(
                        QRect(x, y, inner.right() - x, sfm.height()), Qt.AlignmentFlag.AlignLeft, "…"
                    )
                    break
                bg, fg = DEP_COLORS[dep.status]
                painter.setPen(QPen(QColor(fg), 1))
                painter.setBrush(QColor(bg))
                painter.drawRoundedRect(QRect(x, y, w, sfm.height() + 1), 4, 4)
                painter.drawText(QRect(x, y, w, sfm.height() + 1), Qt.AlignmentFlag.AlignCenter, text)
                x += w + 4
        painter.restore()

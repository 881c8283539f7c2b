"""The review list under the findings: pages a person should look at once, and why (a page type we
are unsure of, or a finding too weakly evidenced to count towards the verdict).

Choosing an item (click, arrow keys, Enter) emits ``itemChosen``; the Packages page then shows the
page with the weak finding's region highlighted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from nexa_desktop.domain.verify import ReviewItem
from nexa_desktop.ui.packages.models import REVIEW_COLOR
from nexa_desktop.ui.tables import RowsTableModel, rows_view

REVIEW_ROLE = Qt.ItemDataRole.UserRole + 1
#: Rows shown before the list scrolls: the list is meant to stay short.
_VISIBLE_ROWS = 4


class ReviewModel(RowsTableModel[ReviewItem]):
    """One row per page to review: where (``p. 3``, with the file when there are several) and why."""

    HEADERS = ("Page", "Why it needs a look")

    def __init__(self) -> None:
        super().__init__()
        self._several_files = False

    def set_items(self, items: Sequence[ReviewItem], *, several_files: bool = False) -> None:
        self._several_files = several_files
        self.set_rows(items)

    def item(self, row: int) -> ReviewItem:
        return self.rows[row]

    def where(self, item: ReviewItem) -> str:
        return f"{item.page.file} p. {item.page.page}" if self._several_files else f"p. {item.page.page}"

    def cell(self, item: ReviewItem, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self.where(item) if column == 0 else item.reason.replace("; ", "\n")
        if role == REVIEW_ROLE:
            return item
        if role == Qt.ItemDataRole.ForegroundRole and column == 0:
            return QColor(REVIEW_COLOR)
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{item.page.file}, page {item.page.page}: {item.reason}"
        return None


class ReviewPanel(QWidget):
    """The "Needs review" group: a title with the count and the short list; hidden when empty."""

    itemChosen = Signal(object)  # ReviewItem

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewPanel")
        self.model = ReviewModel()
        self.title = QLabel()
        self.title.setObjectName("reviewTitle")
        self.title.setAccessibleName("Pages to review")
        self.view: QTableView = rows_view(self.model, wrap=True)
        self.view.setObjectName("reviewTable")
        self.view.setAccessibleName("Pages to review")
        self.view.setToolTip("Pages to look at by eye; these do not count towards the verdict")
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.activated.connect(self._activated)  # Enter, double-click: show it again
        self.view.clicked.connect(self._activated)  # a click on the current item, after another page
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.view)
        self.set_items([])

    def set_items(self, items: Sequence[ReviewItem], *, several_files: bool = False) -> None:
        """Show ``items``; the selection is cleared (a re-check brings a new list)."""
        self.model.set_items(items, several_files=several_files)
        count = len(items)
        self.title.setText(
            f"<b style='color:{REVIEW_COLOR}'>⚑ Needs review</b> · {count} page{'s' if count != 1 else ''}"
            " to look at by eye (not counted in the verdict)"
        )
        self.setVisible(count > 0)
        self._fit_height()

    def items(self) -> list[ReviewItem]:
        return list(self.model.rows)

    def clear_selection(self) -> None:
        blocked = self.view.selectionModel().blockSignals(True)
        try:
            self.view.clearSelection()
            self.view.setCurrentIndex(QModelIndex())
        finally:
            self.view.selectionModel().blockSignals(blocked)

    def _fit_height(self) -> None:
        """As tall as its rows, up to a few: the findings keep the room."""
        self.view.resizeRowsToContents()
        rows = min(self.model.rowCount(), _VISIBLE_ROWS)
        height = sum(self.view.rowHeight(r) for r in range(rows)) or self.view.fontMetrics().height() + 10
        height += self.view.horizontalHeader().sizeHint().height() + 2 * self.view.frameWidth() + 2
        if self.view.height() != height or self.view.minimumHeight() != height:
            self.view.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_height()  # reasons wrap differently at another width

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.itemChosen.emit(self.model.item(current.row()))

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.itemChosen.emit(self.model.item(index.row()))

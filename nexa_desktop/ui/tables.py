"""Read-only tables: a model over a list of rows (subclasses name the columns and format a cell)
and the view that shows such rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QStyledItemDelegate, QStyleOptionViewItem, QTableView

R = TypeVar("R")


class RowsTableModel(QAbstractTableModel, Generic[R]):
    HEADERS: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row(self, index: int) -> R:
        return self.rows[index]

    def cell(self, row: R, column: int, role: int) -> Any:
        """The value for ``role`` (display, foreground, tooltip…) of one cell; ``None`` if none."""
        raise NotImplementedError

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        return self.cell(self.rows[index.row()], index.column(), role)


class RoomyDelegate(QStyledItemDelegate):
    """Cells with air around the text (the sizes Qt computes for ResizeToContents are tight)."""

    def __init__(
        self, parent: QObject | None = None, *, extra_width: int = 24, extra_height: int = 10
    ) -> None:
        super().__init__(parent)
        self._extra = QSize(extra_width, extra_height)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return super().sizeHint(option, index) + self._extra


def rows_view(model: QAbstractItemModel, *, wrap: bool, extra_width: int = 24) -> QTableView:
    """A read-only table of whole rows, one selectable at a time, roomy cells, no row numbers."""
    view = QTableView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(wrap)
    view.setItemDelegate(RoomyDelegate(view, extra_width=extra_width))
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return view

"""Qt models over a verification report: the page strip (one row per page) and the findings table.

Pages stream in while the package is read (:meth:`PageStripModel.add_page` inserts one row); the
final report and every re-check merge into the rows in place, so views never reset mid-run. The
strip also keeps the report's review list (pages a person should look at, and why) and the findings
withheld from the verdict for weak evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from nexa_desktop.domain.verify import (
    DOC_TYPE_TITLES,
    Document,
    Finding,
    FindingCode,
    PageLabel,
    PageRef,
    Report,
    ReviewItem,
    Severity,
)
from nexa_desktop.ui.packages.thumbnails import ImageKey, PageImages
from nexa_desktop.ui.tables import RowsTableModel

Index = QModelIndex | QPersistentModelIndex

#: Finding codes in words a PM uses.
CODE_TITLES: dict[str, str] = {
    FindingCode.MISSING_REQUIRED_DOC: "Required document missing",
    FindingCode.OUT_OF_ORDER: "Out of order",
    FindingCode.ID_MISMATCH: "Number does not match",
    FindingCode.MISSING_SIGNATURE: "Signature missing",
    FindingCode.MISSING_FIELD: "Field left blank",
    FindingCode.SAFETY_ITEM_UNCHECKED: "Safety item not ticked",
    FindingCode.SKETCH_NO_MARKUP: "Sketch has no redline/blueline",
    FindingCode.UNREADABLE_PAGE: "Page cannot be read",
    FindingCode.DUPLICATE_DOC: "Duplicate document",
    FindingCode.FILE_ERROR: "File cannot be read",
}
SEVERITY_COLORS = {Severity.ERROR.value: "#c62828", Severity.WARNING.value: "#b26a00"}
SEVERITY_TITLES = {Severity.ERROR.value: "Error", Severity.WARNING.value: "Warning"}
#: A finding's confidence is shown beside it only below this: sure findings stay uncluttered.
CONFIDENCE_SHOWN_BELOW = 0.9
REVIEW_COLOR = "#b26a00"


def doc_title(doc_type: str | None) -> str:
    if not doc_type:
        return "Package"
    return DOC_TYPE_TITLES.get(doc_type, doc_type.replace("_", " "))


def code_title(code: str) -> str:
    return CODE_TITLES.get(code, code.replace("_", " ").capitalize())


def field_title(field: str | None) -> str:
    return field.replace("_", " ") if field else ""


def sure_text(confidence: float) -> str:
    """``72% sure`` for a finding the check is not sure of, else "" (see CONFIDENCE_SHOWN_BELOW)."""
    return f"{confidence:.0%} sure" if confidence < CONFIDENCE_SHOWN_BELOW else ""


def review_items(report: Report, corrected: Iterable[PageRef] = ()) -> list[ReviewItem]:
    """``report.review`` less "type unsure" for pages whose type the user set (they are sure now)."""
    fixed = set(corrected)
    if not fixed:
        return report.review
    pages = [replace(p, confidence=1.0) if p.ref in fixed else p for p in report.pages]
    return replace(report, pages=pages).review


def pages_text(refs: Sequence[PageRef], *, several_files: bool) -> str:
    """``p. 5``, ``p. 6–7`` or ``crew.pdf p. 2`` (consecutive pages of one file are a range)."""
    if not refs:
        return "—"
    groups: list[tuple[str, int, int]] = []
    for ref in refs:
        if groups and groups[-1][0] == ref.file and groups[-1][2] + 1 == ref.page:
            groups[-1] = (ref.file, groups[-1][1], ref.page)
        else:
            groups.append((ref.file, ref.page, ref.page))
    parts = []
    for file, first, last in groups:
        span = f"p. {first}" if first == last else f"p. {first}–{last}"
        parts.append(f"{file} {span}" if several_files else span)
    return ", ".join(parts)


def severity_icon(severity: str) -> QIcon:
    """A filled dot in the severity's colour (cached per severity)."""
    icon = _ICONS.get(severity)
    if icon is None:
        pixmap = QPixmap(14, 14)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(SEVERITY_COLORS.get(severity, "#546e7a")))
        painter.drawEllipse(1, 1, 12, 12)
        painter.end()
        icon = QIcon(pixmap)
        _ICONS[severity] = icon
    return icon


_ICONS: dict[str, QIcon] = {}


def resolve_page_file(root: str, file: str) -> str:
    """The absolute path of ``file`` (relative to the package) given the package's root."""
    base = Path(root)
    if base.suffix.lower() == ".pdf" and (file == base.name or not file):
        return str(base)
    if base.suffix.lower() == ".pdf":
        base = base.parent
    return str(base / file)


class PageRoles(IntEnum):
    LABEL = Qt.ItemDataRole.UserRole + 1
    REF = Qt.ItemDataRole.UserRole + 2
    DOC_TYPE = Qt.ItemDataRole.UserRole + 3
    DOC_TITLE = Qt.ItemDataRole.UserRole + 4
    CONFIDENCE = Qt.ItemDataRole.UserRole + 5
    NEEDS_REVIEW = Qt.ItemDataRole.UserRole + 6
    SEVERITY = Qt.ItemDataRole.UserRole + 7  # worst finding on the page: "error", "warning" or ""
    FINDING_COUNT = Qt.ItemDataRole.UserRole + 8
    THUMBNAIL = Qt.ItemDataRole.UserRole + 9  # QImage, or None while it renders
    DOC_INDEX = Qt.ItemDataRole.UserRole + 10  # 0, 1, 2… per document, in reading order
    DOC_START = Qt.ItemDataRole.UserRole + 11  # first page of its document
    PATH = Qt.ItemDataRole.UserRole + 12  # absolute path of the page's PDF
    CORRECTED = Qt.ItemDataRole.UserRole + 13  # the user set this page's type
    THUMBNAIL_FAILED = Qt.ItemDataRole.UserRole + 14
    CAPTION = Qt.ItemDataRole.UserRole + 15  # "p. 3", or "p. 3 · crew.pdf" when there are several files
    REVIEW_REASON = Qt.ItemDataRole.UserRole + 16  # why the page is on the review list, or ""
    TURN = Qt.ItemDataRole.UserRole + 17  # clockwise turn that shows the page upright
    TYPE_UNSURE = (
        Qt.ItemDataRole.UserRole + 18
    )  # the page's type is below the review threshold (not set by you)


def documents_of(labels: Sequence[PageLabel]) -> list[Document]:
    """Provisional documents while pages stream in: runs of one file and one type."""
    documents: list[Document] = []
    for label in labels:
        last = documents[-1] if documents else None
        if (
            last
            and last.file == label.file
            and last.doc_type == label.doc_type
            and last.end_page + 1 == label.page
        ):
            last.end_page = label.page
        else:
            documents.append(Document(label.doc_type, label.file, label.page, label.page))
    return documents


class PageStripModel(QAbstractListModel):
    """One row per page of the package, in reading order."""

    def __init__(self, images: PageImages, thumb_width: int = 132, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.images = images
        self.thumb_width = thumb_width
        self.root = ""
        self.review_threshold = 0.6
        self._labels: list[PageLabel] = []
        self._rows: dict[PageRef, int] = {}
        self._documents: list[Document] | None = None  # None: derive from the labels
        self._doc_of: dict[PageRef, int] = {}
        self._findings: dict[PageRef, list[Finding]] = {}
        self._withheld: dict[PageRef, list[Finding]] = {}
        self._report: Report | None = None
        self._review: list[ReviewItem] = []
        self._reasons: dict[PageRef, str] = {}
        self._corrected: set[PageRef] = set()
        images.imageReady.connect(self._image_ready)

    # -- content ---------------------------------------------------------------------------------

    def clear(self, root: str = "", review_threshold: float | None = None) -> None:
        """Empty the strip for a new package (rows are removed, not reset)."""
        if self._labels:
            self.beginRemoveRows(QModelIndex(), 0, len(self._labels) - 1)
            self._labels = []
            self._rows = {}
            self.endRemoveRows()
        self.root = root
        if review_threshold is not None:
            self.review_threshold = review_threshold
        self._documents = None
        self._doc_of = {}
        self._findings = {}
        self._withheld = {}
        self._report = None
        self._review = []
        self._reasons = {}
        self._corrected = set()

    def add_page(self, label: PageLabel) -> None:
        """A page was classified: insert it (or update it when it is already shown)."""
        row = self._rows.get(label.ref)
        if row is not None:
            self._labels[row] = label
            self._refresh_documents()
            self._changed(row, row)
            return
        row = len(self._labels)
        self.beginInsertRows(QModelIndex(), row, row)
        self._labels.append(label)
        self._rows[label.ref] = row
        self.endInsertRows()
        old_docs = dict(self._doc_of)
        self._refresh_documents()
        self._changed_docs(old_docs)

    def apply_report(self, report: Report, corrected: Iterable[PageRef] = ()) -> None:
        """Show ``report``: update rows in place, insert the pages not streamed, drop extra rows."""
        self.root = report.root or self.root
        self.review_threshold = report.review_threshold
        self._corrected = set(corrected)
        self._findings = {}
        for finding in report.findings:
            for ref in finding.pages:
                self._findings.setdefault(ref, []).append(finding)
        self._withheld = {}
        for finding in report.withheld:
            for ref in finding.pages:
                self._withheld.setdefault(ref, []).append(finding)
        self._report = report
        self._refresh_review()
        wanted = [p.ref for p in report.pages]
        if [label.ref for label in self._labels] != wanted:
            self._merge_rows(report.pages)
        else:
            self._labels = list(report.pages)
        self._documents = list(report.documents) or None
        self._refresh_documents()
        if self._labels:
            self._changed(0, len(self._labels) - 1)

    def set_doc_type(self, ref: PageRef, doc_type: str, *, corrected: bool = True) -> None:
        """Show a corrected type at once (the re-check brings the findings after)."""
        row = self._rows.get(ref)
        if row is None:
            return
        self._labels[row] = replace(self._labels[row], doc_type=doc_type)
        if corrected:
            self._corrected.add(ref)
        else:
            self._corrected.discard(ref)
        self._refresh_review()
        self._documents = None
        self._refresh_documents()
        self._changed(0, len(self._labels) - 1)

    # -- lookups ---------------------------------------------------------------------------------

    def labels(self) -> list[PageLabel]:
        return list(self._labels)

    def label(self, row: int) -> PageLabel:
        return self._labels[row]

    def row_of(self, ref: PageRef) -> int | None:
        return self._rows.get(ref)

    def index_of(self, ref: PageRef) -> QModelIndex:
        row = self._rows.get(ref)
        return self.index(row, 0) if row is not None else QModelIndex()

    def path_of(self, ref: PageRef) -> str:
        return resolve_page_file(self.root, ref.file)

    def findings_on(self, ref: PageRef) -> list[Finding]:
        return list(self._findings.get(ref, []))

    def withheld_on(self, ref: PageRef) -> list[Finding]:
        """Findings on ``ref`` too weakly evidenced to count: the page is on the review list instead."""
        return list(self._withheld.get(ref, []))

    def review_items(self) -> list[ReviewItem]:
        """The pages a person should look at, with why (the report's list, less corrected types)."""
        return list(self._review)

    def review_reason(self, ref: PageRef) -> str:
        return self._reasons.get(ref, "")

    def document_count(self) -> int:
        return len(set(self._doc_of.values()))

    # -- Qt --------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._labels)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._labels):
            return None
        label = self._labels[index.row()]
        ref = label.ref
        if role == Qt.ItemDataRole.DisplayRole:
            return f"p. {label.page} · {doc_title(label.doc_type)}"
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._describe(label)
        if role == PageRoles.LABEL:
            return label
        if role == PageRoles.REF:
            return ref
        if role == PageRoles.DOC_TYPE:
            return label.doc_type
        if role == PageRoles.DOC_TITLE:
            return doc_title(label.doc_type)
        if role == PageRoles.CONFIDENCE:
            return float(label.confidence)
        if role == PageRoles.NEEDS_REVIEW:
            return ref in self._withheld or self._type_unsure(label)
        if role == PageRoles.REVIEW_REASON:
            return self._reasons.get(ref, "")
        if role == PageRoles.TURN:
            return label.turn
        if role == PageRoles.TYPE_UNSURE:
            return self._type_unsure(label)
        if role == PageRoles.SEVERITY:
            return self._severity(ref)
        if role == PageRoles.FINDING_COUNT:
            return len(self._findings.get(ref, []))
        if role in (PageRoles.THUMBNAIL, Qt.ItemDataRole.DecorationRole):
            return self.images.image(self._thumb_key(label))
        if role == PageRoles.THUMBNAIL_FAILED:
            return self.images.failed(self._thumb_key(label))
        if role == PageRoles.DOC_INDEX:
            return self._doc_of.get(ref, 0)
        if role == PageRoles.DOC_START:
            row = index.row()
            return row == 0 or self._doc_of.get(ref) != self._doc_of.get(self._labels[row - 1].ref)
        if role == PageRoles.PATH:
            return self.path_of(ref)
        if role == PageRoles.CORRECTED:
            return ref in self._corrected
        if role == PageRoles.CAPTION:
            return f"p. {label.page} · {label.file}" if self._several_files else f"p. {label.page}"
        return None

    # -- internals -------------------------------------------------------------------------------

    def _thumb_key(self, label: PageLabel) -> ImageKey:
        return ImageKey(self.path_of(label.ref), label.page, self.thumb_width, turn=label.turn)

    def _type_unsure(self, label: PageLabel) -> bool:
        return label.ref not in self._corrected and label.confidence < self.review_threshold

    def _refresh_review(self) -> None:
        self._review = review_items(self._report, self._corrected) if self._report is not None else []
        self._reasons = {item.page: item.reason for item in self._review}

    def _severity(self, ref: PageRef) -> str:
        severities = {f.severity for f in self._findings.get(ref, [])}
        if Severity.ERROR.value in severities:
            return Severity.ERROR.value
        return Severity.WARNING.value if severities else ""

    def _describe(self, label: PageLabel) -> str:
        parts = [
            f"{label.file}, page {label.page}: {doc_title(label.doc_type)}",
            f"confidence {label.confidence:.0%}",
        ]
        if label.ref in self._corrected:
            parts.append("type set by you")
        elif label.confidence < self.review_threshold:
            parts.append("needs review")
            if label.alternative:
                parts.append(f"or maybe {doc_title(label.alternative)}")
        if label.source == "ocr":
            parts.append("read by OCR")
        elif label.source == "none":
            parts.append("no readable text")
        for finding in self._findings.get(label.ref, []):
            sure = sure_text(finding.confidence)
            parts.append(
                f"{SEVERITY_TITLES.get(finding.severity, finding.severity)}: {finding.message}"
                + (f" ({sure})" if sure else "")
            )
        reason = self._reasons.get(label.ref)
        if reason:
            parts.append(f"Needs review: {reason}")
        return "\n".join([parts[0], "; ".join(parts[1:3]), *parts[3:]])

    def _merge_rows(self, pages: Sequence[PageLabel]) -> None:
        """Make the rows equal ``pages`` with row inserts/removes only (streamed rows stay put)."""
        for i, label in enumerate(pages):
            if i < len(self._labels) and self._labels[i].ref == label.ref:
                self._labels[i] = label
                continue
            existing = self._rows.get(label.ref)
            if existing is not None and existing > i:
                self.beginRemoveRows(QModelIndex(), i, existing - 1)
                del self._labels[i:existing]
                self._reindex()
                self.endRemoveRows()
                self._labels[i] = label
                continue
            self.beginInsertRows(QModelIndex(), i, i)
            self._labels.insert(i, label)
            self._reindex()
            self.endInsertRows()
        if len(self._labels) > len(pages):
            self.beginRemoveRows(QModelIndex(), len(pages), len(self._labels) - 1)
            del self._labels[len(pages) :]
            self._reindex()
            self.endRemoveRows()

    def _reindex(self) -> None:
        self._rows = {label.ref: row for row, label in enumerate(self._labels)}

    @property
    def _several_files(self) -> bool:
        return bool(self._labels) and any(label.file != self._labels[0].file for label in self._labels)

    def _refresh_documents(self) -> None:
        documents = self._documents if self._documents is not None else documents_of(self._labels)
        self._doc_of = {}
        for i, document in enumerate(documents):
            for ref in document.pages:
                self._doc_of[ref] = i
        # pages no document names (should not happen) get their neighbour's document
        last = 0
        for label in self._labels:
            last = self._doc_of.setdefault(label.ref, last)

    def _changed_docs(self, before: dict[PageRef, int]) -> None:
        rows = [
            self._rows[ref]
            for ref, doc in self._doc_of.items()
            if before.get(ref) != doc and ref in self._rows
        ]
        if rows:
            self._changed(min(rows), max(rows))

    def _changed(self, first: int, last: int) -> None:
        self.dataChanged.emit(self.index(first, 0), self.index(last, 0))

    def _image_ready(self, key: ImageKey) -> None:
        if key.width != self.thumb_width or key.highlights or key.regions:
            return
        for row, label in enumerate(self._labels):
            if label.page == key.page and label.turn == key.turn and self.path_of(label.ref) == key.path:
                idx = self.index(row, 0)
                self.dataChanged.emit(
                    idx,
                    idx,
                    [PageRoles.THUMBNAIL, Qt.ItemDataRole.DecorationRole, PageRoles.THUMBNAIL_FAILED],
                )


class ReviewFilterModel(QSortFilterProxyModel):
    """The strip's "Needs review" filter: only pages under the report's review threshold."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._only_review = False
        self.setDynamicSortFilter(True)

    @property
    def only_review(self) -> bool:
        return self._only_review

    def set_only_review(self, on: bool) -> None:
        if on == self._only_review:
            return
        self.beginFilterChange()
        self._only_review = on
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._only_review:
            return True
        source = self.sourceModel()
        return bool(source.index(source_row, 0, source_parent).data(PageRoles.NEEDS_REVIEW))


FINDING_ROLE = Qt.ItemDataRole.UserRole + 1


def sort_findings(findings: Iterable[Finding], page_order: Sequence[PageRef]) -> list[Finding]:
    """Errors first, then by where they show in the package (package-wide ones first), then code."""
    position = {ref: i for i, ref in enumerate(page_order)}

    def key(f: Finding) -> tuple[int, int, str]:
        first = min((position.get(ref, len(position)) for ref in f.pages), default=-1)
        return (0 if f.severity == Severity.ERROR else 1, first, f.code)

    return sorted(findings, key=key)


class FindingsModel(RowsTableModel[Finding]):
    """The findings table: severity, problem in words, document, field, pages, message."""

    HEADERS = ("Severity", "Problem", "Document", "Field", "Pages", "Message")

    def __init__(self) -> None:
        super().__init__()
        self._several_files = False

    def set_findings(self, findings: Iterable[Finding], page_order: Sequence[PageRef] = ()) -> None:
        self._several_files = len({ref.file for ref in page_order}) > 1
        self.set_rows(sort_findings(findings, page_order))

    def finding(self, row: int) -> Finding:
        return self.rows[row]

    def cell(self, f: Finding, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            sure = sure_text(f.confidence)
            return (
                SEVERITY_TITLES.get(f.severity, f.severity),
                code_title(f.code),
                doc_title(f.doc_type),
                field_title(f.field),
                pages_text(f.pages, several_files=False),
                f"{f.message} · {sure}" if sure else f.message,
            )[column]
        if role == FINDING_ROLE:
            return f
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return severity_icon(f.severity)
        if role == Qt.ItemDataRole.ForegroundRole and column == 0:
            return QColor(SEVERITY_COLORS.get(f.severity, "#37474f"))
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"{code_title(f.code)}: {f.message}"]
            if f.pages and self._several_files:
                lines.append("In " + pages_text(f.pages, several_files=True))
            lines += [f"{e.page.file} p. {e.page.page}: “{e.snippet}”" for e in f.evidence]
            lines.append(f"How sure the check is: {f.confidence:.0%}")
            return "\n".join(lines)
        if role == Qt.ItemDataRole.AccessibleTextRole and column == 0:
            return f"{SEVERITY_TITLES.get(f.severity, f.severity)}: {code_title(f.code)}"
        return None

"""The Packages page: drop a job package, see page by page what would get it rejected.

Verification runs in the background (``OpRunner.task``); pages stream into the strip as they are
classified. The verdict banner, the findings table and the page preview follow the report. A PM
corrects a page's type from the strip's context menu or the preview's combo: the package is
re-checked at once and the page is remembered as an exemplar (Ctrl+Z puts the old type back).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nexa_desktop.domain.errors import NotFound
from nexa_desktop.domain.jobs import Job
from nexa_desktop.domain.verify import (
    DOC_TYPE_TITLES,
    DOC_TYPES,
    Finding,
    PageLabel,
    PageRef,
    Report,
    ReviewItem,
    Severity,
    Verdict,
)
from nexa_desktop.errors import user_message
from nexa_desktop.ops import Cancelled, TaskState
from nexa_desktop.services.board import BoardService
from nexa_desktop.services.complete.naming import (
    RenameBatch,
    RenameProposal,
    UndoRefused,
    apply_renames,
)
from nexa_desktop.services.complete.naming import undo as undo_renames
from nexa_desktop.services.verify import exports, fix_export, intake
from nexa_desktop.services.verify.naming import propose_package_names
from nexa_desktop.services.verify.profile import load_profile
from nexa_desktop.services.verify.watch import FolderWatcher
from nexa_desktop.settings import Settings, save_settings
from nexa_desktop.store.db import Database
from nexa_desktop.ui.ops import OpRunner
from nexa_desktop.ui.packages.delegates import THUMB_WIDTH, PageCardDelegate, card_size
from nexa_desktop.ui.packages.models import (
    FINDING_ROLE,
    FindingsModel,
    PageRoles,
    PageStripModel,
    ReviewFilterModel,
    doc_title,
    resolve_page_file,
)
from nexa_desktop.ui.packages.preview import PagePreview
from nexa_desktop.ui.packages.review import ReviewPanel
from nexa_desktop.ui.packages.thumbnails import PageImages
from nexa_desktop.ui.tables import RowsTableModel

log = logging.getLogger(__name__)

WATCH_INTERVAL_MS = 4000
VERDICT_STYLES = {
    Verdict.PASS: ("PASS", "#1b5e20", "#e8f5e9", "#a5d6a7"),
    Verdict.REVIEW: ("REVIEW", "#7a4500", "#fff4e0", "#ffcc80"),
    Verdict.FAIL: ("FAIL", "#8e1b14", "#fdecea", "#f5c6c2"),
}
_NEUTRAL_STYLE = ("", "#263238", "#ffffff", "#cfd8dc")
_WORK_TYPE_TITLES = {"estimated": "Estimated", "ec_corrective": "EC corrective"}


class PackageVerifier(Protocol):
    """What the page needs from ``services.verify.pipeline.Verifier``."""

    def verify(
        self,
        path: Path,
        *,
        work_type: str | None = None,
        state: TaskState | None = None,
        on_page: Callable[[PageLabel], None] | None = None,
    ) -> Report: ...

    def recheck(self, report: Report, overrides: Mapping[PageRef, str]) -> Report: ...

    def learn(self, report: Report, ref: PageRef, doc_type: str) -> tuple[str, str]: ...

    def forget(self, doc_type: str, text: str) -> bool: ...

    def close(self) -> None: ...


VerifierFactory = Callable[[Sequence[tuple[str, str]]], PackageVerifier]


def default_verifier(exemplars: Sequence[tuple[str, str]], *, ocr: bool = True) -> PackageVerifier:
    """The real pipeline, warm for the session, with the exemplars users taught it."""
    from nexa_desktop.services.verify.pipeline import Verifier

    return Verifier(exemplars=exemplars, ocr=ocr)


def package_files(root: Path) -> list[tuple[Path, str]]:
    """The package's PDFs in reading order: ``(absolute path, path inside the package)``."""
    from nexa_desktop.services.verify.extraction import package_pdf_files

    return [(Path(path), str(rel)) for path, rel in package_pdf_files(root)]


def packages_in(paths: Sequence[Path]) -> list[Path]:
    """Dropped items that can be packages: folders and PDF files (others are ignored)."""
    found: list[Path] = []
    for path in paths:
        is_package = path.is_dir() or (path.is_file() and path.suffix.lower() == ".pdf")
        if is_package and path not in found:
            found.append(path)
    return found


def _dropped_packages(event: QDropEvent | QDragEnterEvent) -> list[Path]:
    """The packages (folders, PDFs) among the local files being dragged."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return packages_in([Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()])


def _accept_file_drag(event: QDragMoveEvent) -> None:
    """Keep accepting a drag of files while it moves (what it holds was judged on enter)."""
    if event.mimeData().hasUrls():
        event.acceptProposedAction()
    else:
        event.ignore()


@dataclass(slots=True)
class _Run:
    """One verification in flight."""

    id: int
    path: Path
    state: TaskState
    from_watch: bool = False


@dataclass(slots=True)
class _Verified:
    run_id: int
    report: Report
    files: list[tuple[Path, str]]
    known: dict[Path, intake.KnownFile] = field(default_factory=dict)


@dataclass(slots=True)
class _Correction:
    ref: PageRef
    old_type: str
    new_type: str
    previous_override: str | None
    #: What the classifier learned from the page, and the stored exemplar, so undo forgets both.
    learned: tuple[str, str] | None = None
    exemplar_id: int | None = None


@dataclass(frozen=True, slots=True)
class _Renames:
    """One "Rename files" that can be undone, and the package's path before and after it."""

    batch: RenameBatch
    root_before: Path
    root_after: Path


def _carry(
    overrides: Mapping[PageRef, str], moves: Mapping[Path, Path], root: Path, new_root: Path
) -> dict[PageRef, str]:
    """Page types set by the user, under the files' new names (``moves``: old path → new path)."""

    def new_file(rel: str) -> str | None:
        old = root / rel if root.is_dir() or not root.suffix else root
        moved = moves.get(old, old)
        for base in (new_root, root):
            if moved == base:
                return moved.name
            try:
                return moved.relative_to(base).as_posix()
            except ValueError:
                continue
        return None

    out: dict[PageRef, str] = {}
    for ref, doc_type in overrides.items():
        file = new_file(ref.file)
        if file is not None:
            out[PageRef(file, ref.page)] = doc_type
    return out


class PageStripView(QListView):
    """The horizontal page strip; also the drop zone (shows how to start while empty)."""

    pathsDropped = Signal(list)
    contextMenuForPage = Signal(object, object)  # PageRef, global QPoint

    EMPTY_TEXT = "Drop a job package here: a folder, or its PDF files.\nOr use “Open package…” above."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pageStrip")
        self.setAccessibleName("Pages of the package")
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSpacing(0)
        self.setItemDelegate(PageCardDelegate(self))
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.setProperty("dropTarget", False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.setFixedHeight(
            card_size(self.font()).height() + self.horizontalScrollBar().sizeHint().height() + 6
        )

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_packages(event):
            self._set_drop_target(True)
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        _accept_file_drag(event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drop_target(False)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drop_target(False)
        paths = _dropped_packages(event)
        if not paths:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.pathsDropped.emit(paths)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(Qt.GlobalColor.darkGray)
            rect = self.viewport().rect().adjusted(12, 12, -12, -12)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text())
            painter.end()

    def empty_text(self) -> str:
        text = self.property("emptyText")
        return str(text) if text else self.EMPTY_TEXT

    def _set_drop_target(self, on: bool) -> None:
        self.setProperty("dropTarget", on)
        self.style().unpolish(self)
        self.style().polish(self)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.indexAt(pos)
        if not index.isValid():
            index = self.currentIndex()
            if not index.isValid():
                return
            pos = self.visualRect(index).center()
        self.setCurrentIndex(index)
        self.contextMenuForPage.emit(index.data(PageRoles.REF), self.viewport().mapToGlobal(pos))


class LinkJobDialog(QDialog):
    """Pick the board job a package belongs to; the suggested job (same PM) comes first."""

    def __init__(
        self, jobs: Sequence[Job], suggested: Job | None, package: str, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Link package to a job")
        self.combo = QComboBox()
        self.combo.setAccessibleName("Job")
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        ordered = ([suggested] if suggested else []) + [
            j for j in jobs if not suggested or j.id != suggested.id
        ]
        for job in ordered:
            self.combo.addItem(_job_text(job), job.id)
        completer = self.combo.completer()
        if completer is not None:
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        if suggested is not None:
            pm = html.escape(suggested.pm_number or "")
            intro = f"{html.escape(package)} prints PM {pm}: the job with that PM is suggested below."
        elif ordered:
            intro = f"No job on the board has the PM number of {html.escape(package)}. Pick one:"
        else:
            intro = "There are no jobs on the board to link to."
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Link")
        ok.setEnabled(bool(ordered))
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.combo)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())

    def job_id(self) -> int | None:
        data = self.combo.currentData()
        return int(data) if data is not None else None


def _job_text(job: Job) -> str:
    number = f"PM {job.pm_number}" if job.pm_number else f"Notification {job.notification_number}"
    where = ", ".join(p for p in (job.address, job.city) if p)
    return f"{number} · {where}" if where else number


class FixDialog(QDialog):
    """Shows what "Fix & export" will write (new order, dropped duplicates, file name)."""

    def __init__(self, summary: list[str], file_name: str, out_dir: Path, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fix & export")
        self.out_dir = out_dir
        intro = QLabel(
            "NEXA writes a corrected copy of the package. <b>Your original files are not changed.</b>"
        )
        intro.setWordWrap(True)
        self.steps = QListWidget()
        self.steps.setAccessibleName("What the fix does")
        self.steps.addItems(summary)
        self.target = QLabel()
        self.target.setWordWrap(True)
        self.target.setAccessibleName("Output file")
        self.file_name = file_name
        self._show_target()
        choose = QPushButton("Choose folder…")
        choose.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.target, 1)
        row.addWidget(choose)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Write fixed package")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.steps, 1)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.resize(560, 420)

    def _show_target(self) -> None:
        self.target.setText(
            f"Writes <b>{html.escape(self.file_name)}</b> in {html.escape(str(self.out_dir))}"
        )

    def _choose(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder for the fixed package", str(self.out_dir))
        if chosen:
            self.out_dir = Path(chosen)
            self._show_target()


_KEPT_COLOUR = "#78909c"


class RenameProposalsModel(RowsTableModel[RenameProposal]):
    """The rename preview: each file's name now and the name it gets (files that keep theirs in grey)."""

    HEADERS = ("Current name", "New name")

    def __init__(self, proposals: Sequence[RenameProposal], folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.set_rows(proposals)

    def current_name(self, proposal: RenameProposal) -> str:
        """The file's path inside the package (its name, for files at the top)."""
        try:
            return proposal.source.relative_to(self.folder).as_posix()
        except ValueError:
            return proposal.source.name

    def cell(self, proposal: RenameProposal, column: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.current_name(proposal) if column == 0 else proposal.new_name
        if role == Qt.ItemDataRole.ForegroundRole and not proposal.changes:
            return QColor(_KEPT_COLOUR)
        if role == Qt.ItemDataRole.FontRole and not proposal.changes and column == 1:
            font = QApplication.font()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if not proposal.changes and proposal.doc_type == "other":
                return "Keeps its name: it holds several kinds of documents, or none NEXA recognises."
            if not proposal.changes:
                return "Already named by the convention."
            return f"{doc_title(proposal.doc_type)}: named {proposal.pattern}"
        return None


class RenameDialog(QDialog):
    """Previews "Rename files": old name → new name for every PDF of the package; renames on OK."""

    def __init__(self, proposals: Sequence[RenameProposal], folder: Path, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rename files")
        self.proposals = list(proposals)
        changing = sum(1 for p in self.proposals if p.changes)
        kept = len(self.proposals) - changing
        intro = QLabel(
            f"NEXA gives the files in <b>{html.escape(folder.name)}</b> their PG&amp;E names, "
            "by the document each one holds. Nothing is overwritten, and “Undo rename” puts the "
            "old names back."
        )
        intro.setWordWrap(True)
        self.model = RenameProposalsModel(self.proposals, folder)
        self.table = QTableView()
        self.table.setObjectName("renameTable")
        self.table.setAccessibleName("Old and new file names")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        if kept:
            note = (
                f"{changing} file{'s get' if changing != 1 else ' gets'} a new name. "
                f"{kept} keep{'s' if kept == 1 else ''} {'its' if kept == 1 else 'their'} name "
                "(in grey): a file that holds several kinds of documents, or none NEXA recognises, "
                "is not renamed."
            )
        else:
            note = f"{changing} file{'s get' if changing != 1 else ' gets'} a new name."
        if not changing:
            note = "Every file already has its conventional name, or holds several kinds of documents."
        self.note = QLabel(note)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("What the rename does")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(f"Rename {changing} file{'s' if changing != 1 else ''}")
        self.ok_button.setEnabled(changing > 0)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        if changing:
            self.ok_button.setFocus()  # Enter renames; the table is one Tab away
        self.resize(760, 520)


class PackagesPage(QWidget):
    statusMessage = Signal(str)
    #: A verification finished and its report is shown (tests and the window listen).
    verified = Signal(object)
    #: A run ended: "done", "cancelled" or "failed".
    runFinished = Signal(str)
    #: A re-check after a type correction is shown.
    rechecked = Signal(object)
    #: The report (or the fixed package) was written: the path.
    exported = Signal(object)
    #: The verification was recorded in the database (the PackageRecord).
    recorded = Signal(object)
    #: A correction was stored as an exemplar (its id, or None when the page had no text).
    exemplarSaved = Signal(object)
    #: "Rename files" renamed files (the RenameBatch); the package is being checked again.
    renamed = Signal(object)
    #: "Undo rename" put the old names back; the package is being checked again.
    renameUndone = Signal()
    _pageArrived = Signal(int, object)  # run id, PageLabel (from the worker thread)

    def __init__(
        self,
        runner: OpRunner,
        db: Database,
        settings: Settings,
        *,
        board: BoardService | None = None,
        verifier: PackageVerifier | None = None,
        verifier_factory: VerifierFactory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("packagesPage")
        self.runner = runner
        self.db = db
        self.settings = settings
        self.board = board
        self._verifier = verifier
        self._owns_verifier = verifier is None
        #: The default verifier follows the OCR setting (``_ocr_used``: what the current one was made with).
        self._verifier_factory = verifier_factory or (
            lambda exemplars: default_verifier(exemplars, ocr=self.settings.ocr_enabled)
        )
        self._ocr_used = settings.ocr_enabled
        self._verifier_lock = threading.Lock()
        self._closing = False

        self.report: Report | None = None
        self._base_report: Report | None = None  # as verified, before corrections
        self._overrides: dict[PageRef, str] = {}
        self._corrections: list[_Correction] = []
        self._recheck_seq = 0
        self._record: intake.PackageRecord | None = None
        self._known: dict[Path, intake.KnownFile] = {}
        self._queue: deque[tuple[Path, bool]] = deque()
        self._run: _Run | None = None
        self._run_ids = 0
        self._syncing = False
        self.fix_dialog: FixDialog | None = None
        self.link_dialog: LinkJobDialog | None = None
        self.rename_dialog: RenameDialog | None = None
        #: The last message about renaming (why an undo was refused, files that were skipped).
        self.rename_message: QMessageBox | None = None
        self._renames: list[_Renames] = []
        #: Page types the user set, carried to the re-check after a rename: (package path, types).
        self._carried: tuple[Path, dict[PageRef, str]] | None = None
        self._pending_overrides: dict[PageRef, str] = {}
        self._renaming = False
        self._watcher: FolderWatcher | None = None
        self._watch_polling = False
        self._last_watch_folder = settings.watch_folder
        #: A package in the watch folder is checked once its files stopped changing this long.
        self.watch_settle_seconds = 3.0

        self.images = PageImages(parent=self)
        self.strip_model = PageStripModel(self.images, thumb_width=THUMB_WIDTH, parent=self)
        self.review_filter = ReviewFilterModel(self)
        self.review_filter.setSourceModel(self.strip_model)
        self.findings_model = FindingsModel()

        self._build_banner()
        self._build_toolbar()
        self._build_progress()
        self._build_views()
        self._build_actions()
        self._layout()
        self._pageArrived.connect(self._page_arrived, Qt.ConnectionType.QueuedConnection)
        self.setAcceptDrops(True)

        self.watch_timer = QTimer(self)
        self.watch_timer.setInterval(WATCH_INTERVAL_MS)
        self.watch_timer.timeout.connect(self.poll_watch_folder)
        if settings.watch_folder:
            self.watch_check.setChecked(True)  # starts watching
        self._update_buttons()

    # -- building ----------------------------------------------------------------------------------

    def _build_banner(self) -> None:
        self.banner = QFrame()
        self.banner.setObjectName("verdictBanner")
        self.banner.setAccessibleName("Verdict")
        self.verdict_label = QLabel("")
        self.verdict_label.setObjectName("verdictChip")
        self.verdict_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.verdict_label.setMinimumWidth(92)
        self.verdict_label.setVisible(False)
        self.summary_label = QLabel(
            "<b>No package checked yet.</b> Drop a job package to check it page by page."
        )
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setAccessibleName("Package summary")
        self.problems_label = QLabel()
        self.problems_label.setObjectName("fileProblems")
        self.problems_label.setWordWrap(True)
        self.problems_label.setAccessibleName("Files that could not be read")
        self.problems_label.setVisible(False)
        self.known_label = QLabel()
        self.known_label.setObjectName("knownFiles")
        self.known_label.setWordWrap(True)
        self.known_label.setAccessibleName("Checked before")
        self.known_label.setVisible(False)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.summary_label)
        text.addWidget(self.problems_label)
        text.addWidget(self.known_label)
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(10, 6, 10, 6)
        row.setSpacing(12)
        row.addWidget(self.verdict_label, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)
        self._style_banner(None)

    def _build_toolbar(self) -> None:
        self.open_button = QPushButton("Open package…")
        self.open_button.setAccessibleName("Open package")
        self.open_button.setToolTip("Check a package folder, or one or more PDF files")
        open_menu = QMenu(self.open_button)
        open_menu.addAction("Package folder…", self.choose_folder)
        open_menu.addAction("PDF file(s)…", self.choose_files)
        self.open_button.setMenu(open_menu)
        self.export_button = QPushButton("Export report…")
        self.export_button.setAccessibleName("Export report")
        self.export_button.setToolTip("Save the report as JSON, HTML or PDF")
        self.export_button.clicked.connect(lambda: self.export_report())
        self.fix_button = QPushButton("Fix && export…")
        self.fix_button.setAccessibleName("Fix and export")
        self.fix_button.setToolTip("Write a corrected copy: documents in order, duplicates dropped")
        self.fix_button.clicked.connect(lambda: self.fix_and_export())
        self.rename_button = QPushButton("Rename files…")
        self.rename_button.setAccessibleName("Rename files")
        self.rename_button.setToolTip("Give the package's files their PG&E names (you see them first)")
        self.rename_button.clicked.connect(lambda: self.rename_files())
        self.undo_rename_button = QPushButton("Undo rename")
        self.undo_rename_button.setAccessibleName("Undo rename")
        self.undo_rename_button.setToolTip("Put the old file names back (Ctrl+Shift+Z)")
        self.undo_rename_button.clicked.connect(lambda: self.undo_rename())
        self.undo_rename_button.setVisible(False)
        self.link_button = QPushButton("Link to job…")
        self.link_button.setAccessibleName("Link to job")
        self.link_button.setToolTip("Link this package to its job on the board")
        self.link_button.clicked.connect(self.link_to_job)
        self.review_check = QCheckBox("Needs review only")
        self.review_check.setAccessibleName("Show only pages that need review")
        self.review_check.toggled.connect(self.set_review_only)
        self.watch_check = QCheckBox("Watch folder")
        self.watch_check.setAccessibleName("Watch a folder for new packages")
        self.watch_check.setToolTip("Check every new package that appears in a folder")
        self.watch_check.toggled.connect(self._watch_toggled)
        self.watch_label = QLabel()
        self.watch_label.setAccessibleName("Watched folder")
        self.watch_label.setMaximumWidth(220)
        self.watch_choose = QPushButton("Choose…")
        self.watch_choose.setAccessibleName("Choose watch folder")
        self.watch_choose.clicked.connect(lambda: self.choose_watch_folder())
        self._show_watch_folder()

    def _build_progress(self) -> None:
        self.progress_row = QWidget()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Verification progress")
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(220)
        self.progress_status = QLabel()
        self.progress_status.setAccessibleName("Verification status")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel verification")
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress)
        row.addWidget(self.progress_status, 1)
        row.addWidget(self.cancel_button)
        self.progress_row.setVisible(False)

    def _build_views(self) -> None:
        self.strip = PageStripView()
        self.strip.setModel(self.review_filter)
        self.strip.pathsDropped.connect(self.open_paths)
        self.strip.contextMenuForPage.connect(self._page_menu)
        self.strip.selectionModel().currentChanged.connect(self._page_current_changed)

        self.findings_view = QTableView()
        self.findings_view.setObjectName("findingsTable")
        self.findings_view.setModel(self.findings_model)
        self.findings_view.setAccessibleName("Findings")
        self.findings_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.findings_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.findings_view.setWordWrap(True)
        self.findings_view.setAlternatingRowColors(True)
        self.findings_view.verticalHeader().setVisible(False)
        self.findings_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.findings_view.horizontalHeader()
        header.setMinimumSectionSize(40)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for column, width in ((1, 124), (2, 120), (3, 96), (4, 72)):  # long titles wrap onto a second line
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.findings_view.selectionModel().currentRowChanged.connect(self._finding_current_changed)

        self.findings_title = QLabel("<b>Findings</b>")
        self.review_panel = ReviewPanel()
        self.review_panel.itemChosen.connect(self._review_chosen)
        self.preview = PagePreview(self.images)
        self.preview.typeChosen.connect(self.correct_page)

    def _build_actions(self) -> None:
        self.undo_action = QAction("Undo type change", self)
        self.undo_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.undo_action.triggered.connect(lambda: self.undo_correction())
        self.addAction(self.undo_action)
        self.undo_rename_action = QAction("Undo rename", self)
        self.undo_rename_action.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        self.undo_rename_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.undo_rename_action.triggered.connect(lambda: self.undo_rename())
        self.addAction(self.undo_rename_action)

    def _layout(self) -> None:
        bar = QHBoxLayout()
        bar.setSpacing(8)
        for button in (
            self.open_button,
            self.export_button,
            self.fix_button,
            self.rename_button,
            self.link_button,
        ):
            bar.addWidget(button)
        banner_row = self.banner.layout()
        if isinstance(banner_row, QHBoxLayout):  # "Undo rename" shows beside the package it is about
            banner_row.addWidget(self.undo_rename_button, 0, Qt.AlignmentFlag.AlignVCenter)
        bar.addSpacing(12)
        bar.addWidget(self.review_check)
        bar.addStretch(1)
        bar.addWidget(self.watch_check)
        bar.addWidget(self.watch_label)
        bar.addWidget(self.watch_choose)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(6)
        left_layout.addWidget(self.strip)
        left_layout.addWidget(self.findings_title)
        left_layout.addWidget(self.findings_view, 1)
        left_layout.addWidget(self.review_panel)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([690, 430])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addWidget(self.banner)
        layout.addLayout(bar)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.splitter, 1)

    def minimumSizeHint(self) -> QSize:
        return QSize(900, 600)

    # -- opening and running -------------------------------------------------------------------------

    def choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Open a job package folder")
        if chosen:
            self.open_paths([Path(chosen)])

    def choose_files(self) -> None:
        chosen, _ = QFileDialog.getOpenFileNames(self, "Open job package PDFs", "", "PDF files (*.pdf)")
        if chosen:
            self.open_paths([Path(p) for p in chosen])

    def open_paths(self, paths: Sequence[Path], *, from_watch: bool = False) -> None:
        """Queue each folder or PDF as a package and start checking (one at a time)."""
        packages = packages_in(list(paths))
        if not packages:
            self.statusMessage.emit("Nothing to check there: drop a folder or PDF files.")
            return
        for package in packages:
            if all(package != queued for queued, _ in self._queue):
                self._queue.append((package, from_watch))
        loose_pdfs = [p for p in packages if p.is_file()]
        if len(loose_pdfs) > 1 and not from_watch:
            self.statusMessage.emit(
                f"{len(loose_pdfs)} PDFs are checked one by one, each as its own package. "
                "To check files as one package, drop the folder that holds them."
            )
        if self._run is not None:
            waiting = len(self._queue)
            self.statusMessage.emit(f"{waiting} package{'s' if waiting != 1 else ''} waiting to be checked.")
        self._start_next()

    @property
    def running(self) -> bool:
        return self._run is not None

    def queued(self) -> list[Path]:
        return [path for path, _ in self._queue]

    def _start_next(self) -> None:
        if self._run is not None or not self._queue or self._closing:
            return
        path, from_watch = self._queue.popleft()
        self._run_ids += 1
        run_id = self._run_ids
        self._show_starting(path)

        def progress(state: TaskState) -> None:
            if self._run is not None and self._run.id == run_id:
                self._show_progress(state)

        state = self.runner.task(
            self._verify_work,
            path,
            run_id,
            on_progress=progress,
            on_done=self._verify_done,
            on_error=lambda exc: self._verify_failed(run_id, exc),
        )
        self._run = _Run(run_id, path, state, from_watch)
        self._update_buttons()

    def _verify_work(self, state: TaskState, path: Path, run_id: int) -> _Verified:
        """Worker thread: find files seen before, then verify (pages stream to the strip)."""
        files = package_files(path)
        known = intake.find_known(self.db, [p for p, _ in files])
        state.check_cancelled()
        verifier = self._ensure_verifier()
        try:
            report = verifier.verify(
                path, state=state, on_page=lambda label: self._pageArrived.emit(run_id, label)
            )
        finally:
            if self._closing:
                self._close_verifier()
        return _Verified(run_id, report, files, known)

    def _ensure_verifier(self) -> PackageVerifier:
        with self._verifier_lock:
            if (
                self._verifier is not None
                and self._owns_verifier
                and self._ocr_used != self.settings.ocr_enabled
            ):
                self._verifier.close()  # OCR was switched in Settings: the next package uses the new choice
                self._verifier = None
            if self._verifier is None:
                self._ocr_used = self.settings.ocr_enabled
                self._verifier = self._verifier_factory(intake.load_exemplars(self.db))
                self._owns_verifier = True
            return self._verifier

    def _close_verifier(self) -> None:
        with self._verifier_lock:
            if self._verifier is not None and self._owns_verifier:
                self._verifier.close()
                self._verifier = None

    def _page_arrived(self, run_id: int, label: PageLabel) -> None:
        if self._run is None or self._run.id != run_id:
            return  # a cancelled run still finishing its page
        self.strip_model.add_page(label)
        if self.strip_model.rowCount() == 1 and not self.strip.currentIndex().isValid():
            self.strip.setCurrentIndex(self.review_filter.index(0, 0))

    def _verify_done(self, result: _Verified) -> None:
        if self._run is None or self._run.id != result.run_id:
            return
        self._run = None
        self._show_report(result.report)
        self._known = result.known
        self._show_known()
        self.runner.write(
            intake.record_report,
            self.db,
            result.report,
            result.files,
            on_done=self._recorded,
            on_error=lambda exc: self.statusMessage.emit(f"The check was not saved: {user_message(exc)}"),
        )
        self.verified.emit(result.report)
        self.runFinished.emit("done")
        self._update_buttons()
        self._start_next()

    def _verify_failed(self, run_id: int, exc: BaseException) -> None:
        if self._run is None or self._run.id != run_id:
            return
        run = self._run
        self._run = None
        self.progress_row.setVisible(False)
        if isinstance(exc, Cancelled):
            pages = self.strip_model.rowCount()
            self._set_summary(
                None,
                f"<b>Check of {html.escape(run.path.name)} cancelled</b> after {pages} "
                f"page{'s' if pages != 1 else ''}. Nothing was saved; open or drop it again to check it.",
            )
            self.runFinished.emit("cancelled")
        else:
            log.warning("verification of %s failed", run.path, exc_info=exc)
            self._set_summary(
                None,
                f"<b>Could not check {html.escape(run.path.name)}.</b> {html.escape(user_message(exc))}",
            )
            self.runFinished.emit("failed")
        self._update_buttons()
        self._start_next()

    def cancel(self) -> None:
        """Stop the running check; packages waiting from the watch folder are reported again later."""
        if self._run is None:
            return
        self._run.state.cancel()
        self.progress_status.setText("Cancelling…")
        self.cancel_button.setEnabled(False)
        for path, from_watch in self._queue:
            if from_watch and self._watcher is not None:
                self._watcher.forget(path)
        self._queue.clear()

    # -- showing -----------------------------------------------------------------------------------

    def _show_starting(self, path: Path) -> None:
        if self._renames and path != self._renames[-1].root_after:
            self._renames.clear()  # another package: its renames are no longer undone from here
        self.report = None
        self._base_report = None
        self._overrides = {}
        self._pending_overrides = {}
        if self._carried is not None:
            carried_root, carried = self._carried
            self._carried = None
            if carried_root == path:
                self._pending_overrides = carried
        self._corrections = []
        self._record = None
        self._known = {}
        self.images.clear()
        self.strip_model.clear(str(path))
        self.findings_model.set_findings([])
        self.review_panel.set_items([])
        self.preview.clear("Pages appear here as they are read.")
        self._set_summary(None, f"<b>Checking {html.escape(path.name)}…</b>")
        self.problems_label.setVisible(False)
        self.known_label.setVisible(False)
        self.progress.setValue(0)
        self.progress_status.setText("Starting…")
        self.cancel_button.setEnabled(True)
        self.progress_row.setVisible(True)
        self.strip.setProperty("emptyText", "Reading the package…")
        self.strip.viewport().update()

    def _show_progress(self, state: TaskState) -> None:
        self.progress.setValue(int(state.progress * 1000))
        if state.status:
            self.progress_status.setText(state.status)

    def _show_report(self, report: Report) -> None:
        self.progress_row.setVisible(False)
        self.strip.setProperty("emptyText", "")
        self.report = report
        if self._base_report is None:
            self._base_report = report
            carried = {
                p.ref: self._pending_overrides[p.ref]
                for p in report.pages
                if p.ref in self._pending_overrides and self._pending_overrides[p.ref] != p.doc_type
            }
            self._pending_overrides = {}
            if carried:  # the types the user set before a rename: they still hold
                self._overrides.update(carried)
                self._recheck()
        self.strip_model.apply_report(report, corrected=self._overrides.keys())
        self.findings_model.set_findings(report.findings, [p.ref for p in report.pages])
        self.review_panel.set_items(
            self.strip_model.review_items(), several_files=len({p.file for p in report.pages}) > 1
        )
        self._show_verdict(report)
        self._update_review_check()
        current = self.strip.currentIndex()
        if not current.isValid() and self.review_filter.rowCount() > 0:
            self.strip.setCurrentIndex(self.review_filter.index(0, 0))
        else:
            self._page_current_changed(current, QModelIndex())

    def _show_verdict(self, report: Report) -> None:
        verdict = report.verdict
        errors = sum(1 for f in report.findings if f.severity == Severity.ERROR)
        warnings = len(report.findings) - errors
        counts = (
            f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
            if report.findings
            else "nothing found that would get it rejected"
        )
        review = len(self.strip_model.review_items())  # unsure types not set by the user, weak evidence
        work_type = _WORK_TYPE_TITLES.get(report.work_type, report.work_type.replace("_", " "))
        if report.work_type_inferred:
            work_type += " (inferred)"
        pages = f"{len(report.pages)} pages in {len(report.documents)} documents"
        line1 = f"<b>{html.escape(report.package)}</b> · {counts} · {pages}"
        if review:
            line1 += (
                f" · <span style='color:#7a4500'>{review} page{'s' if review != 1 else ''} to review</span>"
            )
        line2 = (
            f"PM {html.escape(report.pm_number or 'not found')} · "
            f"Notification {html.escape(report.notification_number or 'not found')} · "
            f"Work type: {html.escape(work_type)}"
        )
        if report.seconds:
            line2 += f" · checked in {report.seconds:.1f} s"
        if self._record is not None and self._record.job_id is not None:
            line2 += " · linked to a board job"
        self._set_summary(verdict, f"{line1}<br>{line2}")
        if report.file_problems:
            items = "".join(
                f"<li><b>{html.escape(p.file)}</b>: {html.escape(p.message)}</li>"
                for p in report.file_problems
            )
            count = len(report.file_problems)
            self.problems_label.setText(
                f"<span style='color:#8e1b14'><b>{count} file{'s' if count != 1 else ''} could not be read"
                f"</b></span><ul style='margin:0'>{items}</ul>"
            )
            self.problems_label.setVisible(True)
        else:
            self.problems_label.setVisible(False)

    def _set_summary(self, verdict: Verdict | None, text: str) -> None:
        self.summary_label.setText(text)
        self._style_banner(verdict)

    def _style_banner(self, verdict: Verdict | None) -> None:
        chip, fg, bg, edge = VERDICT_STYLES.get(verdict, _NEUTRAL_STYLE) if verdict else _NEUTRAL_STYLE
        self.banner.setProperty("verdict", verdict.value if verdict else "")
        self.banner.setStyleSheet(
            f"QFrame#verdictBanner {{ background: {bg}; border: 1px solid {edge}; border-radius: 6px; }}"
            f" QFrame#verdictBanner QLabel {{ color: #102027; }}"
            f" QFrame#verdictBanner QLabel#verdictChip {{ background: {fg}; color: #ffffff;"
            f" border-radius: 4px; font-size: 15pt; font-weight: bold; padding: 6px 12px; }}"
        )
        self.verdict_label.setText(chip)
        self.verdict_label.setVisible(bool(chip))
        self.verdict_label.setAccessibleName(f"Verdict: {chip}" if chip else "Verdict")

    def _show_known(self) -> None:
        if not self._known:
            self.known_label.setVisible(False)
            return
        sightings = sorted(self._known.values(), key=lambda k: k.checked_at, reverse=True)
        newest = sightings[0]
        count = len(sightings)
        when = newest.checked_at.astimezone().strftime("%b %d, %Y %H:%M")
        what = "This file was" if count == 1 else f"{count} of these files were"
        self.known_label.setText(
            f"ⓘ {what} checked before: <b>{html.escape(newest.package_name)}</b> on {when}"
            + (f" (PM {html.escape(newest.pm_number)})" if newest.pm_number else "")
            + "."
        )
        self.known_label.setVisible(True)

    def _recorded(self, record: intake.PackageRecord) -> None:
        self._record = record
        self._update_buttons()
        self.recorded.emit(record)

    def _update_review_check(self) -> None:
        count = sum(
            1
            for row in range(self.strip_model.rowCount())
            if self.strip_model.index(row, 0).data(PageRoles.NEEDS_REVIEW)
        )
        self.review_check.setText(f"Needs review only ({count})")

    def _update_buttons(self) -> None:
        done = self.report is not None and self._run is None
        self.export_button.setEnabled(done)
        self.fix_button.setEnabled(done)
        self.link_button.setEnabled(done and self._record is not None)
        self.rename_button.setEnabled(done and not self._renaming)
        can_undo = bool(self._renames) and self._run is None and not self._renaming
        self.undo_rename_button.setVisible(bool(self._renames))
        self.undo_rename_button.setEnabled(can_undo)
        self.undo_rename_action.setEnabled(can_undo)
        self.preview.set_editable(done)

    def set_review_only(self, on: bool) -> None:
        self.review_filter.set_only_review(on)
        if self.review_check.isChecked() != on:
            self.review_check.setChecked(on)

    # -- selection -----------------------------------------------------------------------------------

    def select_page(self, ref: PageRef) -> bool:
        """Make ``ref`` the strip's current page (and scroll to it); False when it is filtered out."""
        source = self.strip_model.index_of(ref)
        index = self.review_filter.mapFromSource(source) if source.isValid() else QModelIndex()
        if not index.isValid():
            return False
        self.strip.setCurrentIndex(index)
        self.strip.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def current_page(self) -> PageRef | None:
        index = self.strip.currentIndex()
        ref = index.data(PageRoles.REF) if index.isValid() else None
        return ref if isinstance(ref, PageRef) else None

    def _page_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing:
            return
        label = current.data(PageRoles.LABEL) if current.isValid() else None
        if not isinstance(label, PageLabel):
            return
        focus = self._current_finding()
        if focus is not None and label.ref not in focus.pages:
            focus = None
            self._syncing = True
            self.findings_view.clearSelection()
            self.findings_view.setCurrentIndex(QModelIndex())
            self._syncing = False
        self._show_preview(label, focus)

    def _current_finding(self) -> Finding | None:
        index = self.findings_view.currentIndex()
        finding = index.data(FINDING_ROLE) if index.isValid() else None
        return finding if isinstance(finding, Finding) else None

    def _finding_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        finding = current.data(FINDING_ROLE)
        if not isinstance(finding, Finding):
            return
        self.review_panel.clear_selection()
        if not finding.pages:
            self.preview.clear(f"{finding.message}\n\nThis is about the package as a whole, not one page.")
            return
        ref = finding.pages[0]
        if (
            self.review_filter.only_review
            and not self.review_filter.mapFromSource(self.strip_model.index_of(ref)).isValid()
        ):
            self.set_review_only(False)  # show the page the finding points at
        self._syncing = True
        try:
            self.select_page(ref)
        finally:
            self._syncing = False
        row = self.strip_model.row_of(ref)
        if row is not None:
            self._show_preview(self.strip_model.label(row), finding)

    def _show_preview(self, label: PageLabel, focus: Finding | None) -> None:
        self.preview.show_page(
            resolve_page_file(self.strip_model.root, label.file),
            label,
            self.strip_model.findings_on(label.ref),
            focus,
            editable=self.report is not None and self._run is None,
            withheld=self.strip_model.withheld_on(label.ref),
            review=self.strip_model.review_reason(label.ref),
        )

    def _review_chosen(self, item: ReviewItem) -> None:
        """A page of the review list: show it, its weak finding (if any) in focus."""
        row = self.strip_model.row_of(item.page)
        if row is None:
            return
        self._syncing = True
        try:
            self.findings_view.clearSelection()
            self.findings_view.setCurrentIndex(QModelIndex())
            if not self.select_page(item.page):
                self.set_review_only(False)
                self.select_page(item.page)
        finally:
            self._syncing = False
        withheld = self.strip_model.withheld_on(item.page)
        self._show_preview(self.strip_model.label(row), withheld[0] if withheld else None)

    # -- corrections ----------------------------------------------------------------------------------

    def _page_menu(self, ref: PageRef, where: QPoint) -> None:
        menu = self.page_menu(ref)
        menu.popup(where)

    def page_menu(self, ref: PageRef) -> QMenu:
        """The strip's context menu for ``ref``: set its type, or undo a change."""
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        types = menu.addMenu("Set page type")
        types.setEnabled(self.report is not None and self._run is None)
        row = self.strip_model.row_of(ref)
        current = self.strip_model.label(row).doc_type if row is not None else ""
        for doc_type in DOC_TYPES:
            action = types.addAction(DOC_TYPE_TITLES[doc_type])
            action.setCheckable(True)
            action.setChecked(doc_type == current)
            action.setData(doc_type)
            action.triggered.connect(lambda _=False, t=doc_type: self.correct_page(ref, t))
        undo = menu.addAction("Undo type change")
        undo.setEnabled(any(c.ref == ref for c in self._corrections))
        undo.triggered.connect(lambda: self.undo_correction(ref))
        if self._renames:
            menu.addAction(self.undo_rename_action)
        return menu

    def correct_page(self, ref: PageRef, doc_type: str) -> None:
        """The user says ``ref`` is a ``doc_type``: re-check at once and learn from the page."""
        row = self.strip_model.row_of(ref)
        if self.report is None or self._run is not None or row is None or doc_type not in DOC_TYPES:
            return
        old = self.strip_model.label(row).doc_type
        if old == doc_type:
            return
        correction = _Correction(ref, old, doc_type, self._overrides.get(ref))
        self._corrections.append(correction)
        self._set_override(ref, doc_type)
        self._learn(correction)
        self.statusMessage.emit(
            f"Page {ref.page} of {ref.file} is now {doc_title(doc_type)}; re-checking (Ctrl+Z puts it back)."
        )

    def undo_correction(self, ref: PageRef | None = None) -> None:
        """Put back the type a page had before its last correction (the current page's, else the last)."""
        if not self._corrections or self._run is not None:
            return
        target = ref if ref is not None else self.current_page()
        index = next(
            (i for i in range(len(self._corrections) - 1, -1, -1) if self._corrections[i].ref == target), None
        )
        if index is None:
            if ref is not None:
                return
            index = len(self._corrections) - 1
        correction = self._corrections.pop(index)
        self._set_override(correction.ref, correction.previous_override)
        self._forget(correction)
        ref = correction.ref
        self.statusMessage.emit(f"Page {ref.page} of {ref.file} is back to {doc_title(correction.old_type)}.")

    def overrides(self) -> dict[PageRef, str]:
        return dict(self._overrides)

    def _set_override(self, ref: PageRef, doc_type: str | None) -> None:
        base = self._base_report
        original = next((p.doc_type for p in base.pages if p.ref == ref), None) if base else None
        if doc_type is None or doc_type == original:
            self._overrides.pop(ref, None)
            shown = original or doc_type or "other"
        else:
            self._overrides[ref] = doc_type
            shown = doc_type
        self.strip_model.set_doc_type(ref, shown, corrected=ref in self._overrides)
        self.preview.set_type(shown)
        self._recheck()

    def _recheck(self) -> None:
        base, latest = self._base_report, self.report
        verifier = self._verifier
        if base is None or verifier is None:
            return
        self._recheck_seq += 1
        seq = self._recheck_seq
        overrides = dict(self._overrides)
        wanted = {p.ref: overrides.get(p.ref, p.doc_type) for p in base.pages}

        def work() -> Report:
            try:
                return verifier.recheck(base, overrides)
            except LookupError:
                if latest is None or latest is base:
                    raise
                # The verifier let go of the first report's pages: correct the latest report instead.
                changed = {
                    p.ref: wanted[p.ref] for p in latest.pages if wanted.get(p.ref, p.doc_type) != p.doc_type
                }
                return verifier.recheck(latest, changed)

        self.runner.read(
            work,
            on_done=lambda report: self._rechecked(seq, report),
            on_error=lambda exc: self.statusMessage.emit(f"Re-check failed: {user_message(exc)}"),
        )

    def _rechecked(self, seq: int, report: Report) -> None:
        if seq != self._recheck_seq or self._base_report is None or self._run is not None:
            return  # a newer correction is on its way, or another package is shown
        current = self.current_page()
        self._show_report(report)
        if current is not None:
            self.select_page(current)
        self.rechecked.emit(report)

    def _forget(self, correction: _Correction) -> None:
        """Undo also takes the page back out of what the classifier learned (memory and database)."""
        verifier = self._verifier
        learned = correction.learned
        if verifier is not None and learned is not None:
            self.runner.read(verifier.forget, *learned)
        if correction.exemplar_id is not None:
            self.runner.write(
                intake.delete_exemplar,
                self.db,
                correction.exemplar_id,
                on_error=lambda exc: self.statusMessage.emit(
                    f"The correction was not forgotten: {user_message(exc)}"
                ),
            )

    def _learn(self, correction: _Correction) -> None:
        ref, doc_type = correction.ref, correction.new_type
        base = self._base_report
        verifier = self._verifier
        if base is None or verifier is None:
            return
        path = Path(resolve_page_file(self.strip_model.root, ref.file))

        latest = self.report

        def work() -> tuple[str, str, str, int]:
            try:
                learned_type, text = verifier.learn(base, ref, doc_type)
            except LookupError:
                if latest is None or latest is base:
                    raise
                learned_type, text = verifier.learn(latest, ref, doc_type)
            return learned_type, text, intake.hash_file(path), ref.page

        def saved(exemplar_id: int | None) -> None:
            correction.exemplar_id = exemplar_id
            if correction not in self._corrections:
                self._forget(correction)  # undone while it was being saved
            self.exemplarSaved.emit(exemplar_id)

        def store(learned: tuple[str, str, str, int]) -> None:
            correction.learned = (learned[0], learned[1])
            self.runner.write(
                intake.save_exemplar,
                self.db,
                *learned,
                on_done=saved,
                on_error=lambda exc: self.statusMessage.emit(
                    f"The correction was not saved: {user_message(exc)}"
                ),
            )

        self.runner.read(
            work,
            on_done=store,
            on_error=lambda exc: self.statusMessage.emit(
                f"Could not learn from the page: {user_message(exc)}"
            ),
        )

    # -- exports and links ------------------------------------------------------------------------------

    def export_report(self, path: Path | None = None) -> None:
        """Write the report (JSON, HTML or PDF by the file's suffix); asks where when no path."""
        report = self.report
        if report is None:
            return
        if path is None:
            chosen, chosen_filter = QFileDialog.getSaveFileName(
                self,
                "Export the report",
                str(Path(report.root).parent / f"{report.package}-report.html") if report.root else "",
                "HTML report (*.html);;PDF report (*.pdf);;JSON (*.json)",
            )
            if not chosen:
                return
            path = Path(chosen)
            if not path.suffix:
                path = path.with_suffix("." + chosen_filter.split("*.")[-1].rstrip(")"))
        self.runner.read(
            exports.write_report,
            report,
            path,
            on_done=self._written,
            on_error=lambda exc: self._show_error("The report was not written", exc),
        )

    def fix_and_export(self, out_dir: Path | None = None, *, confirm: bool = True) -> None:
        """Show the fix plan (new order, duplicates dropped, file name) and write it on OK."""
        report = self.report
        if report is None:
            return

        def plan() -> fix_export.FixPlan:
            return fix_export.plan_fix(report, load_profile())

        def planned(fix_plan: fix_export.FixPlan) -> None:
            target = out_dir or (Path(report.root).parent if report.root else Path.home())
            if not confirm:
                self._write_fix(fix_plan, target)
                return
            dialog = FixDialog(fix_summary(fix_plan), fix_plan.output_name, target, self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.fix_dialog = dialog
            dialog.accepted.connect(lambda: self._write_fix(fix_plan, dialog.out_dir))
            dialog.open()

        self.runner.read(plan, on_done=planned, on_error=lambda exc: self._show_error("No fix possible", exc))

    def _write_fix(self, fix_plan: fix_export.FixPlan, out_dir: Path) -> None:
        self.runner.read(
            fix_export.export_fixed,
            fix_plan,
            out_dir,
            on_done=self._written,
            on_error=lambda exc: self._show_error("The fixed package was not written", exc),
        )

    def _written(self, path: Any) -> None:
        self.statusMessage.emit(f"Written: {path}")
        self.exported.emit(path)

    def link_to_job(self) -> None:
        """Suggest the board job with the package's PM number, or let the user pick one."""
        report, record = self.report, self._record
        if report is None or record is None:
            return
        board = self.board

        def find() -> tuple[Job | None, list[Job]]:
            suggested = intake.suggest_job(self.db, report.pm_number, report.notification_number)
            jobs = sorted(board.load().jobs, key=lambda j: j.pm_number or "") if board is not None else []
            if suggested is not None and not jobs:
                jobs = [suggested]
            return suggested, jobs

        def offer(found: tuple[Job | None, list[Job]]) -> None:
            suggested, jobs = found
            dialog = LinkJobDialog(jobs, suggested, report.package, self)
            self.link_dialog = dialog
            dialog.accepted.connect(lambda: self._link(record.id, dialog.job_id()))
            dialog.open()

        self.runner.read(find, on_done=offer, on_error=lambda exc: self._show_error("Can't list jobs", exc))

    def _link(self, package_id: int, job_id: int | None) -> None:
        if job_id is None:
            return

        def linked(record: intake.PackageRecord) -> None:
            self._record = record
            if self.report is not None:
                self._show_verdict(self.report)
            self.statusMessage.emit("Package linked to its job.")
            self.recorded.emit(record)

        self.runner.write(
            intake.link_job,
            self.db,
            package_id,
            job_id,
            on_done=linked,
            on_error=lambda exc: self._show_error("Not linked", exc),
        )

    # -- renaming files --------------------------------------------------------------------------------

    def rename_files(self, *, today: dt.date | None = None) -> None:
        """Propose PG&E names for the package's files and show them; the files are renamed on OK."""
        report, record, board = self.report, self._record, self.board
        if report is None or self._run is not None or self._renaming:
            return
        day = today or dt.date.today()
        self.rename_dialog = None

        def propose() -> list[RenameProposal]:
            job = None
            if record is not None and record.job_id is not None and board is not None:
                try:
                    job = board.job(record.job_id)  # the linked job's numbers win over what the pages print
                except NotFound:
                    job = None  # the job was deleted since: name by what the pages print
            return propose_package_names(report, day, job)

        def offer(proposals: list[RenameProposal]) -> None:
            if self.report is not report or self._run is not None:
                return  # another package is shown by now
            dialog = RenameDialog(proposals, _package_folder(report), self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.rename_dialog = dialog
            dialog.accepted.connect(lambda: self._apply_renames(report, proposals))
            dialog.open()

        self.runner.read(
            propose, on_done=offer, on_error=lambda exc: self._show_error("The files cannot be renamed", exc)
        )

    def _apply_renames(self, report: Report, proposals: list[RenameProposal]) -> None:
        if self.report is not report or self._run is not None or self._renaming:
            self.statusMessage.emit("Nothing was renamed: another package is being checked.")
            return
        self._renaming = True
        self._update_buttons()
        self.statusMessage.emit("Renaming the files…")
        self.runner.task(
            _rename_work,
            proposals,
            on_done=lambda batch: self._renamed(report, batch),
            on_error=self._rename_failed,
        )

    def _renamed(self, report: Report, batch: RenameBatch) -> None:
        self._renaming = False
        root = Path(report.root)
        new_root = next((r.renamed for r in batch.renamed if r.original == root), root)
        if batch.renamed:
            self._renames.append(_Renames(batch, root, new_root))
            moves = {record.original: record.renamed for record in batch.renamed}
            self._carried = (new_root, _carry(self._overrides, moves, root, new_root))
            self.statusMessage.emit(
                f"{batch.summary} Checking the package again with the new names; "
                "“Undo rename” (Ctrl+Shift+Z) puts the old names back."
            )
            self.open_paths([new_root])
        else:
            self.statusMessage.emit("No file was renamed.")
        if batch.skipped:
            reasons = "\n".join(f"• {why}" for _, why in batch.skipped)
            self._show_rename_message(
                f"{len(batch.skipped)} file{'s were' if len(batch.skipped) != 1 else ' was'} not renamed:"
                f"\n\n{reasons}"
            )
        self._update_buttons()
        self.renamed.emit(batch)

    def _rename_failed(self, exc: BaseException) -> None:
        self._renaming = False
        self._update_buttons()
        self._show_error("The files were not renamed", exc)

    def undo_rename(self) -> None:
        """Put back the names the files had before the last "Rename files" (if nothing changed since)."""
        if not self._renames or self._run is not None or self._renaming:
            return
        entry = self._renames[-1]
        self._renaming = True
        self._update_buttons()
        self.statusMessage.emit("Putting the old file names back…")
        self.runner.read(
            undo_renames,
            entry.batch,
            on_done=lambda restored: self._rename_undone(entry, restored),
            on_error=lambda exc: self._undo_failed(entry, exc),
        )

    def _rename_undone(self, entry: _Renames, restored: list[Path]) -> None:
        self._renaming = False
        if entry in self._renames:
            self._renames.remove(entry)
        count = len(restored)
        self.statusMessage.emit(
            f"The old names are back ({count} file{'s' if count != 1 else ''}). Checking the package again."
        )
        moves = {record.renamed: record.original for record in entry.batch.renamed}
        self._carried = (
            entry.root_before,
            _carry(self._overrides, moves, entry.root_after, entry.root_before),
        )
        self.open_paths([entry.root_before])
        self._update_buttons()
        self.renameUndone.emit()

    def _undo_failed(self, entry: _Renames, exc: BaseException) -> None:
        self._renaming = False
        if isinstance(exc, UndoRefused):
            self.statusMessage.emit("The old names were not put back: files changed since the rename.")
            self._show_rename_message(f"{exc}\n\nNo file was renamed back.")
        else:  # some files may have their old names back: the batch cannot be undone again
            if entry in self._renames:
                self._renames.remove(entry)
            self._show_error("The old names were not all put back", exc)
            root = entry.root_before if entry.root_before.exists() else entry.root_after
            self.open_paths([root])
        self._update_buttons()

    def _show_rename_message(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Rename files", text, parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.rename_message = box
        box.open()

    def _show_error(self, what: str, exc: BaseException) -> None:
        self.statusMessage.emit(f"{what}: {user_message(exc)}")
        box = QMessageBox(
            QMessageBox.Icon.Warning, "NEXA Desktop", f"{what}.\n\n{user_message(exc)}", parent=self
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # -- watch folder ------------------------------------------------------------------------------------

    def choose_watch_folder(self, folder: Path | None = None) -> bool:
        """Pick the watch folder (asks when not given) and start watching it."""
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, "Folder to watch for new packages")
            if not chosen:
                return False
            folder = Path(chosen)
        self.settings.watch_folder = self._last_watch_folder = str(folder)
        self._save_settings()
        self._watcher = None
        self._show_watch_folder()
        if not self.watch_check.isChecked():
            self.watch_check.setChecked(True)
        else:
            self._start_watching()
        return True

    def _watch_toggled(self, on: bool) -> None:
        if on:
            if not self.settings.watch_folder and not self.choose_watch_folder():
                self.watch_check.setChecked(False)
                return
            self._start_watching()
        else:
            self.watch_timer.stop()
            self._watcher = None
            if self.settings.watch_folder:
                self._last_watch_folder = self.settings.watch_folder
                self.settings.watch_folder = ""
                self._save_settings()
        self._show_watch_folder()

    def _start_watching(self) -> None:
        if self._watcher is None and self.settings.watch_folder:
            self._watcher = FolderWatcher(
                Path(self.settings.watch_folder),
                settle_seconds=self.watch_settle_seconds,
                ignore_existing=True,
            )
        self.watch_timer.start()
        self.poll_watch_folder()

    def poll_watch_folder(self) -> None:
        """Look for new packages in the watch folder (in the background) and queue them."""
        watcher = self._watcher
        if watcher is None or self._watch_polling:
            return
        self._watch_polling = True

        def polled(found: list[Path]) -> None:
            self._watch_polling = False
            if watcher is not self._watcher:
                return
            self._show_watch_folder(watcher.error)
            if found:
                names = ", ".join(p.name for p in found)
                self.statusMessage.emit(f"New in the watch folder: {names}")
                self.open_paths(found, from_watch=True)

        def failed(exc: BaseException) -> None:
            self._watch_polling = False
            self._show_watch_folder(user_message(exc))

        self.runner.read(watcher.poll, on_done=polled, on_error=failed)

    def _show_watch_folder(self, error: str | None = None) -> None:
        folder = self.settings.watch_folder or self._last_watch_folder
        if folder:
            name = Path(folder).name or folder
            self.watch_label.setText(
                self.watch_label.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, 200)
            )
            self.watch_label.setToolTip(error or folder)
        else:
            self.watch_label.setText("no folder chosen")
            self.watch_label.setToolTip("")
        self.watch_label.setStyleSheet("color: #8e1b14;" if error else "color: #455a64;")

    def _save_settings(self) -> None:
        self.runner.read(
            save_settings,
            self.settings,
            on_error=lambda exc: self.statusMessage.emit(f"Settings not saved: {user_message(exc)}"),
        )

    # -- drops on the page (outside the strip) and shutdown -----------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_packages(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        _accept_file_drag(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _dropped_packages(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_paths(paths)

    def shutdown(self) -> None:
        """Stop watching, cancel the running check, and let the verifier go (its worker processes too)."""
        self._closing = True
        self.watch_timer.stop()
        self._queue.clear()
        if self._run is not None:
            self._run.state.cancel()  # the worker closes the verifier when it stops
        else:
            self._close_verifier()
        self.images.shutdown()


def _package_folder(report: Report) -> Path:
    """The folder that holds the package's files."""
    root = Path(report.root)
    return root.parent if root.suffix.lower() == ".pdf" else root


def _rename_work(state: TaskState, proposals: list[RenameProposal]) -> RenameBatch:
    """Worker thread: rename the files (each stays in its folder and never replaces another).

    Not cancellable: a batch is renamed whole, so that one undo takes all of it back."""
    state.set_progress(0.0, "Renaming the files…")
    return apply_renames(proposals)


def _pages(pages: Sequence[int]) -> str:
    return f"p. {pages[0]}" if len(pages) == 1 else f"p. {pages[0]}–{pages[-1]}"


def fix_summary(plan: fix_export.FixPlan) -> list[str]:
    """The plan in lines a PM reads: the new order, what is left out and why."""
    lines = [
        "Documents put in PG&E order:" if plan.reordered else "The documents are already in order:",
    ]
    lines += [
        f"  {n}. {item.title} ({item.document.file} {_pages(item.pages)})"
        + (f": {item.note}" if item.note else "")
        for n, item in enumerate(plan.items, start=1)
    ]
    for left in plan.dropped:
        lines.append(f"Left out: {left.file} {_pages(left.pages)}, {left.reason}")
    for left in plan.skipped:
        lines.append(f"Cannot copy: {left.file} {_pages(left.pages)}, {left.reason}")
    lines.append(f"{plan.page_count} pages in the new PDF.")
    return lines

"""The large view of one page: the page upright and fitted to the panel's width with the finding's
evidence highlighted, the findings on that page in words (with how sure each check is, when it is
not), why the page is on the review list, and a combo to correct the page's type.

Evidence that names a region (a box in upright page points) is drawn as that region, the finding in
focus strongly and the page's other findings faintly; evidence without one falls back to searching
its snippet in the page's text layer."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nexa_desktop.domain.verify import DOC_TYPE_TITLES, DOC_TYPES, Finding, PageLabel, PageRef
from nexa_desktop.ui.packages.models import REVIEW_COLOR, SEVERITY_COLORS, code_title, doc_title, sure_text
from nexa_desktop.ui.packages.thumbnails import HIGHLIGHT_AT, HIGHLIGHT_RECT, ImageKey, PageImages, Region

_WIDTH_STEP = 40
_MAX_WIDTH = 3200
_ZOOM_STEP = 1.25


def evidence_marks(
    ref: PageRef, findings: Sequence[Finding], focus: Finding | None
) -> tuple[tuple[Region, ...], tuple[str, ...]]:
    """What to highlight on page ``ref``: the regions of the findings' evidence (the focus's strong,
    the others' faint; all strong when nothing is in focus), and the snippets of the evidence that
    names no region (searched in the page's text), for the focus only when there is one."""
    regions: list[Region] = []
    for finding in findings:
        strong = focus is None or finding is focus
        for e in finding.evidence:
            if e.page == ref and e.box is not None and Region(e.box, strong) not in regions:
                regions.append(Region(e.box, strong))
    regions.sort(key=lambda r: r.strong)  # faint ones first; the view scrolls to the first strong one
    searched = [focus] if focus is not None else list(findings)
    snippets = [
        e.snippet
        for f in searched
        for e in f.evidence
        if e.page == ref and e.box is None and e.snippet.strip()
    ]
    return tuple(regions), tuple(snippets)


def _quotes(snippets: Sequence[str]) -> str:
    """The first two snippets, quoted in monospace under their finding."""
    return "".join(
        f"<div style='margin-left:10px; color:#37474f; font-family:monospace'>“{html.escape(s)}”</div>"
        for s in snippets[:2]
    )


def _holds(findings: Sequence[Finding], finding: Finding | None) -> bool:
    return finding is not None and any(f is finding for f in findings)


class PagePreview(QWidget):
    """Shows one page large. ``typeChosen(ref, doc_type)`` when the user picks another type."""

    typeChosen = Signal(object, str)

    def __init__(self, images: PageImages, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pagePreview")
        self.images = images
        self.ref: PageRef | None = None
        self.path = ""
        self._highlights: tuple[str, ...] = ()
        self._regions: tuple[Region, ...] = ()
        self._turn = 0
        self._findings_html = ""
        self._key: ImageKey | None = None
        self._zoom = 1.0  # 1.0: the page fills the panel's width

        self.title = QLabel("No page selected")
        self.title.setObjectName("previewTitle")
        self.title.setWordWrap(True)
        self.title.setAccessibleName("Page shown")
        self.type_combo = QComboBox()
        self.type_combo.setAccessibleName("Page type")
        self.type_combo.setToolTip("Correct this page's document type; the package is re-checked at once")
        for doc_type in DOC_TYPES:
            self.type_combo.addItem(DOC_TYPE_TITLES[doc_type], doc_type)
        self.type_combo.setEnabled(False)
        self.type_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.type_combo.setMinimumContentsLength(20)
        self.type_combo.activated.connect(self._type_activated)
        type_label = QLabel("Page &type:")
        type_label.setBuddy(self.type_combo)
        type_row = QHBoxLayout()
        type_row.setContentsMargins(0, 0, 0, 0)
        type_row.addWidget(type_label)
        type_row.addWidget(self.type_combo, 1)
        self.zoom_out = QToolButton()
        self.zoom_out.setText("−")
        self.zoom_out.setAccessibleName("Zoom out")
        self.zoom_out.setToolTip("Zoom out (Ctrl+minus, Ctrl+wheel)")
        self.zoom_in = QToolButton()
        self.zoom_in.setText("+")
        self.zoom_in.setAccessibleName("Zoom in")
        self.zoom_in.setToolTip("Zoom in (Ctrl+plus, Ctrl+wheel); Ctrl+0 fits the width")
        self.zoom_out.clicked.connect(lambda: self.set_zoom(self._zoom / _ZOOM_STEP))
        self.zoom_in.clicked.connect(lambda: self.set_zoom(self._zoom * _ZOOM_STEP))
        type_row.addWidget(self.zoom_out)
        type_row.addWidget(self.zoom_in)
        for keys, factor in (
            ((QKeySequence.StandardKey.ZoomIn,), _ZOOM_STEP),
            ((QKeySequence.StandardKey.ZoomOut,), 1 / _ZOOM_STEP),
        ):
            action = QAction(self)
            action.setShortcuts(QKeySequence.keyBindings(keys[0]))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _=False, f=factor: self.set_zoom(self._zoom * f))
            self.addAction(action)
        fit = QAction(self)
        fit.setShortcut(QKeySequence("Ctrl+0"))
        fit.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        fit.triggered.connect(lambda: self.set_zoom(1.0))
        self.addAction(fit)
        header = QVBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.setSpacing(4)
        header.addWidget(self.title)
        header.addLayout(type_row)

        self.image = QLabel("Select a page or a finding to see it here.")
        self.image.setObjectName("previewImage")
        self.image.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.image.setAccessibleName("Page image")
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(self.image)
        self.scroll_area.setWidgetResizable(False)
        self.scroll_area.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.scroll_area.setFrameShape(QFrame.Shape.StyledPanel)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll_area.setAccessibleName("Page preview")
        self.scroll_area.viewport().installEventFilter(self)

        self.evidence = QLabel()
        self.evidence.setObjectName("previewEvidence")
        self.evidence.setWordWrap(True)
        self.evidence.setTextFormat(Qt.TextFormat.RichText)
        self.evidence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.evidence.setAccessibleName("Findings on this page")
        self.evidence.setStyleSheet(
            "QLabel#previewEvidence { background: #ffffff; border: 1px solid #cfd8dc; border-radius: 4px;"
            " padding: 6px 8px; }"
        )
        self.evidence.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.evidence)
        layout.addWidget(self.scroll_area, 1)

        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(120)
        self._resize_timer.timeout.connect(self._request)
        images.imageReady.connect(self._image_ready)

    # -- what to show ----------------------------------------------------------------------------

    def show_page(
        self,
        path: str,
        label: PageLabel,
        findings: list[Finding],
        focus: Finding | None = None,
        *,
        editable: bool = True,
        withheld: Sequence[Finding] = (),
        review: str = "",
    ) -> None:
        """Show ``label``'s page from ``path``, upright, with the findings on it (``focus`` first,
        highlighted; it may be one of ``withheld``, the findings too weakly evidenced to count) and
        ``review``, why the page is on the review list."""
        self.ref = label.ref
        self.path = path
        self.title.setText(
            f"<b>{html.escape(doc_title(label.doc_type))}</b> · {html.escape(label.file)}, page {label.page}"
            f" · {label.confidence:.0%} sure"
        )
        self.set_type(label.doc_type)
        self.type_combo.setEnabled(editable)
        counted = _holds(findings, focus)
        ordered = ([focus] if focus is not None and counted else []) + [f for f in findings if f is not focus]
        self._show_findings(ordered, label.ref, focus if counted else None)
        self._show_review(review, list(withheld), label.ref, bool(focus and not counted))
        shown = [*ordered, *withheld]
        if focus is not None and not _holds(shown, focus):
            shown.insert(0, focus)
        self._regions, self._highlights = evidence_marks(label.ref, shown, focus)
        self._turn = label.turn
        self._key = None
        self._show_text("Rendering page…")
        self._request()

    def set_type(self, doc_type: str) -> None:
        i = self.type_combo.findData(doc_type)
        if i >= 0:
            self.type_combo.setCurrentIndex(i)

    def set_editable(self, on: bool) -> None:
        self.type_combo.setEnabled(on and self.ref is not None)

    def clear(self, text: str = "Select a page or a finding to see it here.") -> None:
        self.ref = None
        self.path = ""
        self._key = None
        self._highlights = ()
        self._regions = ()
        self._turn = 0
        self.title.setText("No page selected")
        self.type_combo.setEnabled(False)
        self.evidence.setVisible(False)
        self._show_text(text)

    @property
    def highlights(self) -> tuple[str, ...]:
        return self._highlights

    @property
    def regions(self) -> tuple[Region, ...]:
        return self._regions

    def shown_image_key(self) -> ImageKey | None:
        """The rendering on screen now (``None`` while it renders)."""
        return self._key

    # -- internals -------------------------------------------------------------------------------

    def _show_findings(self, findings: list[Finding], ref: PageRef, focus: Finding | None) -> None:
        parts = []
        for f in findings:
            colour = SEVERITY_COLORS.get(f.severity, "#37474f")
            weight = "bold" if f is focus else "normal"
            snippets = [e.snippet for e in f.evidence if e.page == ref and e.snippet.strip()]
            quote = _quotes(snippets)
            sure = sure_text(f.confidence)
            sure_html = f" <span style='color:#607d8b; font-weight:normal'>· {sure}</span>" if sure else ""
            parts.append(
                f"<div style='font-weight:{weight}'><span style='color:{colour}'>●</span> "
                f"{html.escape(code_title(f.code))}: {html.escape(f.message)}{sure_html}</div>{quote}"
            )
        self._findings_html = "".join(parts)

    def _show_review(self, review: str, withheld: list[Finding], ref: PageRef, focused: bool) -> None:
        """Why the page is on the review list (each reason on its line) and what the weak checks read."""
        parts = [self._findings_html]
        if review:
            note = " (weak evidence does not count towards the verdict)" if withheld else ""
            reasons = "".join(
                f"<div style='margin-left:10px'>{html.escape(r)}</div>" for r in review.split("; ")
            )
            snippets = [
                e.snippet for f in withheld for e in f.evidence if e.page == ref and e.snippet.strip()
            ]
            quote = _quotes(snippets)
            weight = "bold" if focused else "normal"
            parts.append(
                f"<div style='color:{REVIEW_COLOR}; font-weight:{weight}; margin-top:4px'>⚑ Needs review"
                f"<span style='font-weight:normal'>{note}</span></div>"
                f"<div style='color:#4e342e'>{reasons}</div>{quote}"
            )
        text = "".join(parts)
        self.evidence.setText(text)
        self.evidence.setVisible(bool(text))

    def _target_width(self) -> int:
        # the area's width less a vertical scroll bar, so a scroll bar coming and going changes nothing
        scrollbar = self.scroll_area.verticalScrollBar().sizeHint().width()
        available = self.scroll_area.width() - 2 * self.scroll_area.frameWidth() - scrollbar - 8
        ratio = self.devicePixelRatioF()
        width = max(_WIDTH_STEP * 4, (int(available * ratio * self._zoom) // _WIDTH_STEP) * _WIDTH_STEP)
        return min(width, _MAX_WIDTH)

    def _request(self) -> None:
        if not self.path or self.ref is None:
            return
        key = ImageKey(
            self.path, self.ref.page, self._target_width(), self._highlights, self._turn, self._regions
        )
        image = self.images.image(key)
        if image is not None:
            self._show_image(key)
        elif self.images.failed(key):
            self._show_text("This page cannot be shown.")

    def _image_ready(self, key: ImageKey) -> None:
        if self.ref is None or key.path != self.path or key.page != self.ref.page:
            return
        if (key.highlights, key.regions, key.turn) != (self._highlights, self._regions, self._turn):
            return
        if self.images.failed(key):
            self._show_text("This page cannot be shown.")
            return
        if key.width != self._target_width():
            if self._key is None:
                self._show_image(key)  # better a size off than nothing while the right one renders
            self._request()
            return
        self._show_image(key)

    def _show_text(self, text: str) -> None:
        self.image.setPixmap(QPixmap())
        self.image.setWordWrap(True)
        self.image.setText(text)
        width = max(self.scroll_area.viewport().width() - 8, 120)
        self.image.resize(width, self.image.heightForWidth(width) + 16)

    def _show_image(self, key: ImageKey) -> None:
        image = self.images.image(key)
        if image is None:
            return
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self.image.setWordWrap(False)
        self.image.setText("")
        self.image.setPixmap(pixmap)
        ratio = self.devicePixelRatioF()
        self.image.resize(QSize(int(image.width() / ratio), int(image.height() / ratio)))
        new_page = self._key is None
        self._key = key
        spot = image.text(HIGHLIGHT_AT)
        if new_page and spot:  # bring the evidence into view, all of it when it fits
            x, y = (int(v) for v in spot.split(","))
            extent = image.text(HIGHLIGHT_RECT)
            w, h = (int(v) for v in extent.split(",")[2:]) if extent else (0, 0)
            self.scroll_area.ensureVisible(
                int(x / ratio), int(y / ratio), int(w / ratio / 2) + 40, int(h / ratio / 2) + 60
            )

    @property
    def zoom(self) -> float:
        return self._zoom

    def set_zoom(self, zoom: float) -> None:
        """Zoom relative to fitting the width (1.0), between a half and four times."""
        self._zoom = min(max(zoom, 0.5), 4.0)
        if self.ref is not None:
            self._request()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.scroll_area.viewport()
            and isinstance(event, QWheelEvent)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            steps = event.angleDelta().y() / 120
            if steps:
                self.set_zoom(self._zoom * _ZOOM_STEP**steps)
            return True
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.ref is not None:
            self._resize_timer.start()

    def _type_activated(self, row: int) -> None:
        doc_type = self.type_combo.itemData(row)
        if self.ref is not None and isinstance(doc_type, str):
            self.typeChosen.emit(self.ref, doc_type)

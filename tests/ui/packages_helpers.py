"""Helpers for the Packages view tests: real PDFs, hand-made reports, real drag-and-drop events."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from nexa_desktop.domain.verify import Document, Evidence, Finding, PageLabel, PageRef, Report

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
PACKAGES = CORPUS / "packages"


def write_pdf(path: Path, pages: Sequence[Sequence[str]]) -> Path:
    """A real PDF with one page per entry, each line of text drawn down the page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=letter)
    for lines in pages:
        y = 720.0
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 18
        pdf.showPage()
    pdf.save()
    return path


def small_package(folder: Path) -> Path:
    """A two-file package: an EC tag without signature, a face sheet, a sketch, a letter."""
    write_pdf(
        folder / "01-tag.pdf",
        [
            ["ELECTRIC OVERHEAD TAG", "PM/Order #: 35589054", "Signature: __________"],
            ["FACE SHEET", "PM/Order #: 35589054", "Foreman: J. Ramirez"],
        ],
    )
    write_pdf(folder / "02-rest.pdf", [["CONSTRUCTION SKETCH", "SCALE: 1:100"], ["Dear PM, transmittal"]])
    return folder


def small_report(folder: Path) -> Report:
    """A hand-made report over :func:`small_package` (page 4 is unsure, one error, one warning)."""
    pages = [
        PageLabel("01-tag.pdf", 1, "ec_tag", 0.95),
        PageLabel("01-tag.pdf", 2, "face_sheet", 0.9),
        PageLabel("02-rest.pdf", 1, "construction_sketch", 0.8),
        PageLabel("02-rest.pdf", 2, "other", 0.41, alternative="permit"),
    ]
    documents = [
        Document("ec_tag", "01-tag.pdf", 1, 1),
        Document("face_sheet", "01-tag.pdf", 2, 2),
        Document("construction_sketch", "02-rest.pdf", 1, 1),
        Document("other", "02-rest.pdf", 2, 2),
    ]
    findings = [
        Finding(
            "SKETCH_NO_MARKUP", "warning", "construction_sketch", None, [PageRef("02-rest.pdf", 1)],
            "The sketch has no red or blue markup.",
        ),
        Finding(
            "MISSING_SIGNATURE", "error", "ec_tag", "signature", [PageRef("01-tag.pdf", 1)],
            "The EC tag is not signed.", [Evidence(PageRef("01-tag.pdf", 1), "Signature: __________")],
        ),
        Finding("MISSING_REQUIRED_DOC", "error", "ccsc", None, [], "No CCSC in the package."),
    ]  # fmt: skip
    return Report(
        package=folder.name,
        work_type="estimated",
        work_type_inferred=True,
        pm_number="35589054",
        notification_number=None,
        pages=pages,
        documents=documents,
        findings=findings,
        root=str(folder),
    )


def url_mime(paths: Sequence[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drop_paths(target: QWidget, paths: Sequence[Path]) -> tuple[bool, bool]:
    """Drag ``paths`` (as a file manager does: URLs) onto ``target`` and drop them.

    Returns whether the drag-enter and the drop were accepted.
    """
    mime = url_mime(paths)
    pos = QPointF(target.rect().center())
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False, False
    move = QDragMoveEvent(QPoint(pos.toPoint()), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(target, move)
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(target, drop)
    return True, drop.isAccepted()

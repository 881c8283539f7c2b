"""The Packages view with real Qt events, real PDFs, real pypdfium2 and the real verifier."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QTableView, QWidget
from pytestqt.qtbot import QtBot

from nexa_desktop.domain.board import BoardConfig
from nexa_desktop.domain.verify import Finding, PageLabel, PageRef
from nexa_desktop.services.board import BoardService
from nexa_desktop.services.complete.naming import RenameBatch
from nexa_desktop.services.verify import intake
from nexa_desktop.services.verify.classify import Embedder, PageClassifier
from nexa_desktop.services.verify.pipeline import Verifier
from nexa_desktop.settings import Settings, load_settings
from nexa_desktop.store import packages as store
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database
from nexa_desktop.ui.main_window import MainWindow
from nexa_desktop.ui.ops import OpRunner
from nexa_desktop.ui.packages.models import (
    FINDING_ROLE,
    FindingsModel,
    PageRoles,
    PageStripModel,
    ReviewFilterModel,
    pages_text,
)
from nexa_desktop.ui.packages.page import PackagesPage, RenameDialog
from nexa_desktop.ui.packages.thumbnails import ImageKey, PageImages
from tests.ui.packages_helpers import PACKAGES, drop_paths, small_package, small_report, write_pdf

VERIFY_TIMEOUT_MS = 120_000

# -- models, delegates, thumbnails (hand-made reports over real PDFs) ------------------------------


@pytest.fixture
def images(qtbot: QtBot) -> Any:
    cache = PageImages(max_images=3)
    yield cache
    cache.shutdown()


def test_strip_model_streams_pages_then_merges_the_report(
    qtbot: QtBot, qtmodeltester: Any, tmp_path: Path, images: PageImages
) -> None:
    folder = small_package(tmp_path / "pkg")
    report = small_report(folder)
    model = PageStripModel(images)
    qtmodeltester.check(model)
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.clear(str(folder))
    for label in report.pages[:3]:
        model.add_page(label)  # streamed while the package is read
    assert model.rowCount() == 3
    qtmodeltester.check(model)
    model.apply_report(report)
    qtmodeltester.check(model)
    assert not resets, "streaming and the final report insert rows; they never reset the strip"
    assert [model.index(r, 0).data(PageRoles.REF) for r in range(4)] == [p.ref for p in report.pages]
    first, sketch, letter = model.index(0, 0), model.index(2, 0), model.index(3, 0)
    assert first.data(PageRoles.SEVERITY) == "error" and first.data(PageRoles.FINDING_COUNT) == 1
    assert sketch.data(PageRoles.SEVERITY) == "warning"
    assert letter.data(PageRoles.SEVERITY) == "" and letter.data(PageRoles.NEEDS_REVIEW) is True
    assert first.data(PageRoles.DOC_TITLE) == "EC tag"
    assert [model.index(r, 0).data(PageRoles.DOC_START) for r in range(4)] == [True, True, True, True]
    assert model.index(1, 0).data(PageRoles.DOC_INDEX) == 1
    assert "needs review" in letter.data(Qt.ItemDataRole.ToolTipRole)
    assert model.path_of(PageRef("02-rest.pdf", 1)) == str(folder / "02-rest.pdf")

    # a correction shows at once and takes the page out of "needs review"
    model.set_doc_type(PageRef("02-rest.pdf", 2), "permit")
    assert letter.data(PageRoles.DOC_TYPE) == "permit" and letter.data(PageRoles.NEEDS_REVIEW) is False
    assert letter.data(PageRoles.CORRECTED) is True
    qtmodeltester.check(model)

    # a report with fewer pages removes rows (a re-check of another package never happens in place)
    shorter = small_report(folder)
    shorter.pages = shorter.pages[:2]
    model.apply_report(shorter)
    assert model.rowCount() == 2
    # pages streamed out of order (or not at all) end up in the report's order
    model.clear(str(folder))
    for label in (report.pages[2], report.pages[0]):
        model.add_page(label)
    model.apply_report(small_report(folder))
    assert [model.label(r).ref for r in range(model.rowCount())] == [p.ref for p in report.pages]
    assert [model.row_of(p.ref) for p in report.pages] == [0, 1, 2, 3]
    model.clear()
    assert model.rowCount() == 0 and not resets


def test_thumbnails_render_off_the_gui_thread_and_the_cache_is_bounded(
    qtbot: QtBot, tmp_path: Path, images: PageImages
) -> None:
    folder = small_package(tmp_path / "pkg")
    model = PageStripModel(images, thumb_width=90)
    model.apply_report(small_report(folder))
    index = model.index(0, 0)
    assert index.data(PageRoles.THUMBNAIL) is None, "a placeholder until the page is rendered"
    with qtbot.waitSignal(model.dataChanged, timeout=10000) as changed:
        pass
    assert changed.args[0].row() == 0 and PageRoles.THUMBNAIL in changed.args[2]
    image = index.data(PageRoles.THUMBNAIL)
    assert isinstance(image, QImage) and image.width() == 90 and image.height() > 100
    assert image.pixelColor(2, 2).name() == "#ffffff"
    for row in range(1, 4):
        model.index(row, 0).data(PageRoles.THUMBNAIL)
    qtbot.waitUntil(lambda: not any(images.is_pending(ImageKey(model.path_of(p.ref), p.page, 90))
                                    for p in model.labels()), timeout=10000)  # fmt: skip
    assert len(images) == 3, "the LRU keeps at most max_images"
    assert images.image(ImageKey(model.path_of(model.label(0).ref), 1, 90)) is None, "the oldest went first"
    images.max_bytes = image.sizeInBytes() * 2
    big = ImageKey(model.path_of(model.label(1).ref), 2, 400)
    images.image(big)
    qtbot.waitUntil(lambda: not images.is_pending(big), timeout=10000)
    assert images.image(big) is not None and len(images) == 1, "a large preview pushes thumbnails out"
    assert images.cached_bytes == images.image(big).sizeInBytes()
    missing = ImageKey(str(tmp_path / "gone.pdf"), 1, 90)
    assert images.image(missing) is None
    qtbot.waitUntil(lambda: images.failed(missing), timeout=10000)


def test_review_filter_and_findings_model(
    qtbot: QtBot, qtmodeltester: Any, tmp_path: Path, images: PageImages
) -> None:
    folder = small_package(tmp_path / "pkg")
    report = small_report(folder)
    strip = PageStripModel(images)
    proxy = ReviewFilterModel()
    proxy.setSourceModel(strip)
    strip.apply_report(report)
    assert proxy.rowCount() == 4
    proxy.set_only_review(True)
    assert proxy.rowCount() == 1 and proxy.index(0, 0).data(PageRoles.REF) == PageRef("02-rest.pdf", 2)
    strip.add_page(PageLabel("02-rest.pdf", 3, "other", 0.2))
    assert proxy.rowCount() == 2, "streamed pages pass through the filter"
    qtmodeltester.check(proxy)

    findings = FindingsModel()
    findings.set_findings(report.findings, [p.ref for p in report.pages])
    qtmodeltester.check(findings)
    severities = [findings.index(r, 0).data() for r in range(findings.rowCount())]
    assert severities == ["Error", "Error", "Warning"], "errors first"
    assert findings.index(0, 1).data() == "Required document missing", "package-wide errors lead"
    assert findings.index(1, 4).data() == "p. 1"
    assert "01-tag.pdf p. 1" in findings.index(1, 4).data(Qt.ItemDataRole.ToolTipRole), "several files: named"
    assert findings.index(1, 3).data() == "signature"
    assert findings.index(1, 0).data(FINDING_ROLE).code == "MISSING_SIGNATURE"
    assert "Signature: ____" in findings.index(1, 2).data(Qt.ItemDataRole.ToolTipRole)
    assert findings.headerData(5, Qt.Orientation.Horizontal) == "Message"
    assert pages_text([PageRef("a.pdf", 6), PageRef("a.pdf", 7)], several_files=False) == "p. 6–7"


# -- the page with the real verifier ------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The embedding model, loaded once for the module (each test gets its own classifier)."""
    return Embedder()


@pytest.fixture
def settings() -> Settings:
    return load_settings()


@pytest.fixture
def page(
    qtbot: QtBot, sqlite_db: Database, runner: OpRunner, settings: Settings, embedder: Embedder,
    board_config: BoardConfig,
) -> Iterator[PackagesPage]:  # fmt: skip
    def real_verifier(exemplars: Sequence[tuple[str, str]]) -> Verifier:
        return Verifier(classifier=PageClassifier(embedder=embedder, exemplars=exemplars))

    widget = PackagesPage(
        runner, sqlite_db, settings, board=BoardService(sqlite_db, board_config, "pm"),
        verifier_factory=real_verifier,
    )  # fmt: skip
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    yield widget
    widget.shutdown()


def check_by_drop(qtbot: QtBot, page: PackagesPage, package: Path, target: QWidget | None = None) -> None:
    """Drop ``package`` with real drag events and wait until its check is shown."""
    with qtbot.waitSignal(page.runFinished, timeout=VERIFY_TIMEOUT_MS) as finished:
        entered, dropped = drop_paths(target or page.strip.viewport(), [package])
        assert entered and dropped, "the strip accepts a dragged folder"
        assert page.running and page.progress_row.isVisible() and page.cancel_button.isEnabled()
    assert finished.args == ["done"]


def click_row(qtbot: QtBot, view: QTableView, row: int) -> None:
    rect = view.visualRect(view.model().index(row, 1))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def finding_rows(page: PackagesPage) -> list[Finding]:
    model = page.findings_model
    return [model.index(r, 0).data(FINDING_ROLE) for r in range(model.rowCount())]


def test_dropping_a_package_streams_its_pages_and_shows_what_fails(
    qtbot: QtBot, page: PackagesPage, sqlite_db: Database
) -> None:
    package = PACKAGES / "pkg-016"
    streamed: list[int] = []
    page.strip_model.rowsInserted.connect(lambda _p, first, last: streamed.append(last - first + 1))
    with qtbot.waitSignal(page.recorded, timeout=VERIFY_TIMEOUT_MS):
        check_by_drop(qtbot, page, package)
    assert sum(streamed) == 8 and page.strip_model.rowCount() == 8, "every page, inserted as it came"
    assert not page.running and not page.progress_row.isVisible()
    assert page.verdict_label.text() == "FAIL" and page.banner.property("verdict") == "fail"
    summary = page.summary_label.text()
    assert "pkg-016" in summary and "39381444" in summary and "inferred" in summary

    findings = finding_rows(page)
    assert findings and findings[0].severity == "error"
    errors = [f.severity == "error" for f in findings]
    assert errors == sorted(errors, reverse=True), "errors come first"
    with sqlite_db.connect() as conn:
        assert [p.name for p in store.list_packages(conn, 5)] == ["pkg-016"]

    # the strip starts on page 1; a finding elsewhere moves the strip and the preview to its page
    qtbot.waitUntil(lambda: page.preview.shown_image_key() is not None, timeout=10000)
    assert page.current_page() == PageRef("package.pdf", 1)
    row, finding = next((i, f) for i, f in enumerate(findings) if f.pages and f.pages[0].page > 1)
    click_row(qtbot, page.findings_view, row)
    target = finding.pages[0]
    assert page.current_page() == target
    assert page.preview.ref == target and page.preview.evidence.isVisible()
    assert finding.message in page.preview.evidence.text()
    qtbot.waitUntil(lambda: (key := page.preview.shown_image_key()) is not None and key.page == target.page,
                    timeout=10000)  # fmt: skip
    assert page.strip.visualRect(page.strip.currentIndex()).intersects(page.strip.viewport().rect())

    # thumbnails arrive for the pages on screen
    first = page.review_filter.index(0, 0)
    qtbot.waitUntil(lambda: isinstance(first.data(PageRoles.THUMBNAIL), QImage), timeout=10000)

    # keyboard: the strip walks page by page and the preview follows
    page.strip.setFocus()
    page.strip.setCurrentIndex(page.review_filter.index(2, 0))
    qtbot.keyClick(page.strip, Qt.Key.Key_Right)
    assert page.current_page() == PageRef("package.pdf", 4) and page.preview.ref == PageRef("package.pdf", 4)


def test_cancel_mid_run_leaves_the_view_usable(qtbot: QtBot, page: PackagesPage) -> None:
    many_files = PACKAGES / "pkg-003"  # 17 files: pages stream in file by file
    with qtbot.waitSignal(page.runFinished, timeout=VERIFY_TIMEOUT_MS) as finished:
        drop_paths(page.strip.viewport(), [many_files])
        qtbot.waitUntil(lambda: page.strip_model.rowCount() > 0, timeout=VERIFY_TIMEOUT_MS)
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
        assert page.progress_status.text() == "Cancelling…"
    assert finished.args == ["cancelled"]
    truth_pages = 23
    assert 0 < page.strip_model.rowCount() < truth_pages
    assert "cancelled" in page.summary_label.text() and not page.verdict_label.isVisible()
    assert not page.running and not page.progress_row.isVisible()
    assert page.open_button.isEnabled() and not page.export_button.isEnabled()

    check_by_drop(qtbot, page, PACKAGES / "pkg-016")
    assert page.strip_model.rowCount() == 8 and page.verdict_label.text() == "FAIL"


def test_correcting_a_page_type_rechecks_learns_and_undoes(
    qtbot: QtBot, page: PackagesPage, sqlite_db: Database
) -> None:
    check_by_drop(qtbot, page, PACKAGES / "pkg-016")
    ccsc = PageRef("package.pdf", 6)
    assert page.strip_model.label(5).doc_type == "ccsc"
    assert any(f.code == "SAFETY_ITEM_UNCHECKED" and ccsc in f.pages for f in finding_rows(page))
    assert page.select_page(ccsc)

    menu = page.page_menu(ccsc)
    type_menu = menu.actions()[0].menu()
    assert isinstance(type_menu, QMenu)
    other = next(a for a in type_menu.actions() if a.data() == "other")
    saved: list[object] = []
    page.exemplarSaved.connect(saved.append)
    with qtbot.waitSignals([page.rechecked, page.exemplarSaved], timeout=20000):
        other.trigger()
        assert page.strip_model.label(5).doc_type == "other", "the strip shows the correction at once"
    menu.close()
    assert len(saved) == 1 and isinstance(saved[0], int), "stored with its exemplar id"
    assert page.strip_model.label(5).doc_type == "other" and page.overrides() == {ccsc: "other"}
    assert page.strip_model.index(5, 0).data(PageRoles.CORRECTED) is True
    assert not any(f.code == "SAFETY_ITEM_UNCHECKED" and ccsc in f.pages for f in finding_rows(page))
    assert page.preview.type_combo.currentData() == "other"
    assert [t for t, _ in intake.load_exemplars(sqlite_db)] == ["other"], "the correction is remembered"

    page.strip.setFocus()
    with qtbot.waitSignal(page.rechecked, timeout=20000):
        qtbot.keyClick(page.strip, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert page.strip_model.label(5).doc_type == "ccsc" and page.overrides() == {}
    assert any(f.code == "SAFETY_ITEM_UNCHECKED" and ccsc in f.pages for f in finding_rows(page))
    qtbot.waitUntil(lambda: intake.load_exemplars(sqlite_db) == [], timeout=10000)  # undo forgets it too

    # the preview's combo corrects the page it shows, too
    page.preview.type_combo.setFocus()
    with qtbot.waitSignal(page.rechecked, timeout=20000):
        qtbot.keyClick(page.preview.type_combo, Qt.Key.Key_Up)
    assert page.strip_model.label(5).doc_type != "ccsc" and ccsc in page.overrides()


def test_export_fix_and_link_after_a_check(
    qtbot: QtBot, page: PackagesPage, sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite_db.begin() as conn:
        repo.insert_jobs(conn, [{"pm_number": "39381444", "address": "4413 Shields Ave", "city": "Salinas"}])
        repo.insert_jobs(conn, [{"pm_number": "35000001", "address": "1 Elm St", "city": "Fresno"}])
        job_id = repo.find_job_ids_by_pm(conn, ["39381444"])["39381444"]
    package = PACKAGES / "pkg-016"
    original = intake.hash_file(package / "package.pdf")
    with qtbot.waitSignal(page.recorded, timeout=VERIFY_TIMEOUT_MS):
        check_by_drop(qtbot, page, package)
    assert not page.known_label.isVisible()

    # Export report: the save dialog's choice decides the format
    target = tmp_path / "out" / "pkg-016-report.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PDF report (*.pdf)"))
    with qtbot.waitSignal(page.exported, timeout=30000):
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert target.read_bytes().startswith(b"%PDF")

    # Fix & export: the plan is shown first, written on OK, the original stays as it was
    qtbot.mouseClick(page.fix_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.fix_dialog is not None, timeout=10000)
    dialog = page.fix_dialog
    assert dialog is not None
    steps = [dialog.steps.item(i).text() for i in range(dialog.steps.count())]
    assert any("EC tag" in s for s in steps) and steps[-1] == "8 pages in the new PDF."
    assert "39381444_ASBUILT_" in dialog.target.text()
    dialog.out_dir = tmp_path / "fixed"
    with qtbot.waitSignal(page.exported, timeout=30000) as written:
        dialog.accept()
    fixed = Path(written.args[0])
    assert fixed.parent == tmp_path / "fixed" and len(PdfReader(fixed).pages) == 8
    assert intake.hash_file(package / "package.pdf") == original, "originals untouched"

    # Link to job: the job with the package's PM is suggested first
    qtbot.mouseClick(page.link_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.link_dialog is not None, timeout=10000)
    link = page.link_dialog
    assert link is not None
    assert link.combo.count() == 2 and link.job_id() == job_id and "39381444" in link.combo.currentText()
    with qtbot.waitSignal(page.recorded, timeout=10000) as linked:
        link.accept()
    assert linked.args[0].job_id == job_id and "linked" in page.summary_label.text()

    # The same file again: the page says it was checked before
    check_by_drop(qtbot, page, package)
    assert page.known_label.isVisible() and "pkg-016" in page.known_label.text()


def test_unreadable_files_are_listed_and_the_whole_page_takes_drops(
    qtbot: QtBot, page: PackagesPage, tmp_path: Path
) -> None:
    folder = small_package(tmp_path / "mixed")
    (folder / "03-scan.pdf").write_bytes(b"%PDF-1.7\n garbage that is not a PDF at all")
    check_by_drop(qtbot, page, folder, target=page)
    assert page.strip_model.rowCount() == 4
    assert page.problems_label.isVisible() and "03-scan.pdf" in page.problems_label.text()
    assert page.verdict_label.text() == "FAIL"

    # the "Needs review" filter and a non-package drop
    page.review_check.setChecked(True)
    needing = (
        [p for p in page.report.pages if p.confidence < page.report.review_threshold] if page.report else []
    )
    assert page.review_filter.rowCount() == len(needing)
    page.review_check.setChecked(False)
    assert page.review_filter.rowCount() == 4
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a package", encoding="utf-8")
    assert drop_paths(page.strip.viewport(), [text_file]) == (False, False)


def test_watch_folder_checks_new_packages(qtbot: QtBot, page: PackagesPage, tmp_path: Path) -> None:
    watch = tmp_path / "incoming"
    watch.mkdir()
    small_package(watch / "already-there")
    page.watch_settle_seconds = 0.2
    page.watch_timer.setInterval(150)
    assert page.choose_watch_folder(watch)
    assert page.watch_check.isChecked() and page.settings.watch_folder == str(watch)
    qtbot.waitUntil(lambda: load_settings().watch_folder == str(watch), timeout=5000)
    with qtbot.waitSignal(page.runFinished, timeout=VERIFY_TIMEOUT_MS) as finished:
        shutil.copytree(PACKAGES / "pkg-016", watch / "pkg-016")
    assert finished.args == ["done"] and page.report is not None and page.report.package == "pkg-016"
    page.watch_check.setChecked(False)
    assert not page.watch_timer.isActive() and page.settings.watch_folder == ""


def test_packages_rail_entry_opens_the_page(
    qtbot: QtBot, sqlite_db: Database, board_config: BoardConfig, runner: OpRunner
) -> None:
    window = MainWindow(BoardService(sqlite_db, board_config, "me"), runner, Settings())
    qtbot.addWidget(window)
    window.show()
    row = next(i for i in range(window.rail.count()) if window.rail.item(i).text() == "Packages")
    item = window.rail.item(row)
    assert item.flags() & Qt.ItemFlag.ItemIsEnabled
    qtbot.mouseClick(window.rail.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.rail.visualItemRect(item).center())  # fmt: skip
    assert window.pages.currentWidget() is window.packages
    assert window.packages.isVisible() and window.packages.strip.isVisible()
    window.close()


# -- renaming files -----------------------------------------------------------------------------------


def open_rename_dialog(qtbot: QtBot, page: PackagesPage) -> RenameDialog:
    qtbot.mouseClick(page.rename_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.rename_dialog is not None and page.rename_dialog.isVisible(), timeout=10000)
    assert page.rename_dialog is not None
    return page.rename_dialog


def rename_rows(dialog: RenameDialog) -> dict[str, str]:
    model = dialog.model
    return {model.index(r, 0).data(): model.index(r, 1).data() for r in range(model.rowCount())}


def test_rename_files_previews_renames_rechecks_and_undoes(
    qtbot: QtBot, page: PackagesPage, qtmodeltester: Any, tmp_path: Path
) -> None:
    package = Path(shutil.copytree(PACKAGES / "pkg-003", tmp_path / "pkg-003"))  # one PDF per document
    original = sorted(p.name for p in package.glob("*.pdf"))
    assert not page.rename_button.isEnabled(), "nothing to rename before a check"
    check_by_drop(qtbot, page, package)
    assert page.rename_button.isEnabled() and not page.undo_rename_button.isVisible()

    # the preview lists every PDF: old name → new name, files that keep theirs in grey
    dialog = open_rename_dialog(qtbot, page)
    qtmodeltester.check(dialog.model)
    rows = rename_rows(dialog)
    assert sorted(rows) == original
    assert rows["02_ECTAG.pdf"] == "131337916_ECTAG.pdf" and rows["16_CCSC_1.pdf"] == "43457425_CCSC_1.pdf"
    assert rows["01_MISC.pdf"] == "01_MISC.pdf"
    misc = dialog.model.index(0, 1)
    assert misc.data(Qt.ItemDataRole.ForegroundRole).name() == "#78909c" and "Keeps its name" in misc.data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert dialog.model.index(1, 1).data(Qt.ItemDataRole.ForegroundRole) is None
    assert dialog.ok_button.text() == "Rename 16 files" and dialog.ok_button.isEnabled()

    # Cancel changes nothing
    dialog.reject()
    assert sorted(p.name for p in package.glob("*.pdf")) == original

    # OK renames on disk, and the re-check shows the new names in the strip
    dialog = open_rename_dialog(qtbot, page)
    batches: list[RenameBatch] = []
    page.renamed.connect(batches.append)
    with qtbot.waitSignals([page.renamed, page.runFinished], timeout=VERIFY_TIMEOUT_MS):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    [batch] = batches
    assert len(batch.renamed) == 16 and not batch.skipped
    renamed = sorted(p.name for p in package.glob("*.pdf"))
    assert "131337916_ECTAG.pdf" in renamed and "02_ECTAG.pdf" not in renamed and "01_MISC.pdf" in renamed
    assert page.report is not None and Path(page.report.root) == package.resolve()
    assert sorted({label.file for label in page.strip_model.labels()}) == renamed
    assert page.undo_rename_button.isVisible() and page.undo_rename_button.isEnabled()

    # Ctrl+Shift+Z puts the old names back and checks again (the window manager reactivates the
    # window when the dialog closes; offscreen, the test does)
    page.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is page, timeout=5000)
    page.strip.setFocus()
    with qtbot.waitSignals([page.renameUndone, page.runFinished], timeout=VERIFY_TIMEOUT_MS):
        qtbot.keyClick(
            page.strip, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        )
    assert sorted(p.name for p in package.glob("*.pdf")) == original
    assert sorted({label.file for label in page.strip_model.labels()}) == original
    assert not page.undo_rename_button.isVisible()

    # a file changed after the rename: undo refuses, says why, and nothing changes
    dialog = open_rename_dialog(qtbot, page)
    with qtbot.waitSignals([page.renamed, page.runFinished], timeout=VERIFY_TIMEOUT_MS):
        dialog.accept()
    tag = package / "131337916_ECTAG.pdf"
    with tag.open("ab") as stream:
        stream.write(b"\n% signed on site\n")
    messages: list[str] = []
    page.statusMessage.connect(messages.append)
    qtbot.mouseClick(page.undo_rename_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.rename_message is not None and page.rename_message.isVisible(), timeout=9000)
    assert page.rename_message is not None
    assert "131337916_ECTAG.pdf was changed since it was renamed" in page.rename_message.text()
    assert sorted(p.name for p in package.glob("*.pdf")) == renamed, "no file got its old name back"
    assert any("not put back" in m for m in messages)
    assert page.undo_rename_button.isVisible() and page.undo_rename_button.isEnabled()


def test_renaming_a_single_pdf_package_follows_the_file(
    qtbot: QtBot, page: PackagesPage, tmp_path: Path
) -> None:
    single = Path(shutil.copy(PACKAGES / "pkg-016" / "package.pdf", tmp_path / "scan.pdf"))
    check_by_drop(qtbot, page, single)
    dialog = open_rename_dialog(qtbot, page)
    assert rename_rows(dialog) == {"scan.pdf": f"39381444_ASBUILT_{dt.date.today():%Y%m%d}.pdf"}
    with qtbot.waitSignals([page.renamed, page.runFinished], timeout=VERIFY_TIMEOUT_MS):
        dialog.accept()
    renamed = tmp_path / f"39381444_ASBUILT_{dt.date.today():%Y%m%d}.pdf"
    assert renamed.is_file() and not single.exists()
    assert page.report is not None and Path(page.report.root) == renamed.resolve()
    assert page.strip_model.rowCount() == 8
    with qtbot.waitSignals([page.renameUndone, page.runFinished], timeout=VERIFY_TIMEOUT_MS):
        page.undo_rename_action.trigger()
    assert single.is_file() and not renamed.exists()
    assert page.report is not None and Path(page.report.root) == single.resolve()


def test_rename_files_without_a_pm_or_notification_says_why(
    qtbot: QtBot, page: PackagesPage, tmp_path: Path
) -> None:
    folder = tmp_path / "no-numbers"
    write_pdf(folder / "sheet.pdf", [["FACE SHEET", "Foreman: J. Ramirez", "Crew: 4"]])
    check_by_drop(qtbot, page, folder)
    assert page.report is not None and not page.report.pm_number and not page.report.notification_number
    with qtbot.waitSignal(page.statusMessage, timeout=10000) as said:
        qtbot.mouseClick(page.rename_button, Qt.MouseButton.LeftButton)
    assert "No PM or notification number found: cannot name the files" in said.args[0]
    assert page.rename_dialog is None and [p.name for p in folder.iterdir()] == ["sheet.pdf"]


def test_page_types_set_before_a_rename_still_hold_after_it_and_after_its_undo(
    qtbot: QtBot, page: PackagesPage, tmp_path: Path
) -> None:
    package = Path(shutil.copytree(PACKAGES / "pkg-003", tmp_path / "pkg-003"))
    check_by_drop(qtbot, page, package)
    assert page.report is not None
    tag = next(p.ref for p in page.report.pages if p.file == "02_ECTAG.pdf" and p.page == 2)
    with qtbot.waitSignal(page.rechecked, timeout=20000):
        page.correct_page(tag, "other")
    assert page.overrides() == {tag: "other"}

    dialog = open_rename_dialog(qtbot, page)
    with qtbot.waitSignals([page.renamed, page.runFinished, page.rechecked], timeout=VERIFY_TIMEOUT_MS):
        dialog.accept()
    moved = PageRef("131337916_ECTAG.pdf", 2)
    assert page.overrides() == {moved: "other"}, "the type the user set follows the file's new name"
    row = page.strip_model.row_of(moved)
    assert row is not None and page.strip_model.label(row).doc_type == "other"
    assert page.strip_model.index(row, 0).data(PageRoles.CORRECTED) is True

    with qtbot.waitSignals([page.renameUndone, page.runFinished, page.rechecked], timeout=VERIFY_TIMEOUT_MS):
        page.undo_rename_action.trigger()
    assert page.overrides() == {tag: "other"}

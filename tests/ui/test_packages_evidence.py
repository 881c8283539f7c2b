"""Evidence regions, confidence, the review list and upright pages in the Packages view, with real
PDFs, real pypdfium2 renders, real Qt events and, for the page, the real verifier."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader, PdfWriter
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QAbstractItemView
from pytestqt.qtbot import QtBot
from reportlab.pdfgen import canvas

from nexa_desktop.domain.verify import (
    Box,
    Document,
    Evidence,
    Finding,
    PageLabel,
    PageRef,
    Report,
    ReviewItem,
    Verdict,
    verdict_of,
)
from nexa_desktop.services.verify.pipeline import Verifier
from nexa_desktop.services.verify.profile import load_profile
from nexa_desktop.settings import load_settings
from nexa_desktop.store.db import Database
from nexa_desktop.ui.ops import OpRunner
from nexa_desktop.ui.packages.models import FINDING_ROLE, FindingsModel, PageRoles, PageStripModel
from nexa_desktop.ui.packages.page import PackagesPage
from nexa_desktop.ui.packages.preview import PagePreview
from nexa_desktop.ui.packages.review import REVIEW_ROLE
from nexa_desktop.ui.packages.thumbnails import HIGHLIGHT_AT, PDFIUM_LOCK, PageImages, Region, render_page
from tests.ui.packages_helpers import PACKAGES

UPRIGHT = (612.0, 792.0)  # letter, portrait, as read upright
BAR = 40.0  # a black bar across the top of the upright page
MARK = Box(0, 40, 60, 100)  # a red square under the bar, at the upright page's left
TEXT_AT = (72.0, 192.0)  # baseline of the line of text, upright points from the top left
TEXT = "SIGNATURE OF FOREMAN"


def _draw_upright(c: Any) -> None:
    """The upright page, in reportlab's upright coordinates (origin bottom left)."""
    width, height = UPRIGHT
    c.setFillColorRGB(0, 0, 0)
    c.rect(0, height - BAR, width, BAR, stroke=0, fill=1)
    c.setFillColorRGB(1, 0, 0)
    c.rect(MARK.x0, height - MARK.y1, MARK.width, MARK.height, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    c.setFont("Helvetica", 14)
    c.drawString(TEXT_AT[0], height - TEXT_AT[1], TEXT)


def sideways_pdf(path: Path) -> Path:
    """A page saved sideways: stored landscape, the upright content turned a quarter anticlockwise
    (its top runs down the left edge); a reader shows it upright with a 90° clockwise turn."""
    width, height = UPRIGHT
    c = canvas.Canvas(str(path), pagesize=(height, width))
    c.transform(0, 1, -1, 0, height, 0)  # upright (x, y) -> stored (height - y, x)
    _draw_upright(c)
    c.showPage()
    c.save()
    return path


def rotated_pdf(path: Path) -> Path:
    """An upright portrait page carrying ``/Rotate 90``: PDF viewers show it sideways (top at the
    right), so reading it upright needs a further 270° clockwise turn."""
    plain = path.with_name("plain-" + path.name)
    c = canvas.Canvas(str(plain), pagesize=UPRIGHT)
    _draw_upright(c)
    c.showPage()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.pages[0].rotate(90)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def is_black(colour: QColor) -> bool:
    return max(colour.red(), colour.green(), colour.blue()) < 60


def is_red(colour: QColor) -> bool:
    return colour.red() > 200 and colour.green() < 60 and colour.blue() < 60


def is_highlight(colour: QColor) -> bool:
    """The translucent yellow over white paper."""
    return colour.red() > 240 and colour.green() > 200 and colour.blue() < 215


def highlighted_share(image: QImage, box: Box, page_width: float = UPRIGHT[0]) -> float:
    """The share of the pixels in ``box`` (upright points of a page ``page_width`` points wide)
    painted in the highlight's yellow."""
    scale = image.width() / page_width
    xs = range(int(box.x0 * scale), int(box.x1 * scale))
    ys = range(int(box.y0 * scale), int(box.y1 * scale))
    hits = sum(1 for x in xs for y in ys if is_highlight(image.pixelColor(x, y)))
    return hits / max(len(xs) * len(ys), 1)


def at(image: QImage, x_pt: float, y_pt: float) -> QColor:
    """The pixel at upright page point (x, y) of a rendering of an upright letter page."""
    scale = image.width() / UPRIGHT[0]
    return image.pixelColor(int(x_pt * scale), int(y_pt * scale))


# -- rendering -----------------------------------------------------------------------------------------


def test_a_sideways_page_renders_upright_with_its_turn(tmp_path: Path) -> None:
    pdf = sideways_pdf(tmp_path / "sideways.pdf")
    as_saved = render_page(pdf, 1, 240)
    assert as_saved.width() == 240 and as_saved.height() < as_saved.width(), "stored landscape"
    assert is_black(as_saved.pixelColor(3, as_saved.height() // 2)), "the upright top runs down the left"

    upright = render_page(pdf, 1, 240, turn=90)
    assert upright.width() == 240 and upright.height() == pytest.approx(240 * 792 / 612, abs=2)
    assert is_black(at(upright, 306, 20)), "the bar is across the top"
    assert not is_black(at(upright, 306, 780)) and not is_black(at(upright, 5, 400))
    assert is_red(at(upright, 30, 70)), "the mark sits at the upright page's top left"
    assert not is_red(at(upright, 582, 70))

    upside_down = render_page(pdf, 1, 240, turn=270)
    assert is_black(at(upside_down, 306, 780)), "a wrong turn puts the bar at the bottom"


def test_the_turn_adds_to_the_pages_own_rotate(tmp_path: Path) -> None:
    pdf = rotated_pdf(tmp_path / "rotated.pdf")
    shown = render_page(pdf, 1, 240)
    assert shown.width() == 240, "the requested width holds for a page with /Rotate"
    assert shown.height() < shown.width() and is_black(shown.pixelColor(236, shown.height() // 2))
    upright = render_page(pdf, 1, 240, turn=270)
    assert upright.width() == 240 and upright.height() > 300
    assert is_black(at(upright, 306, 20)) and is_red(at(upright, 30, 70))


def test_evidence_regions_are_drawn_where_the_box_says_on_the_upright_page(tmp_path: Path) -> None:
    pdf = sideways_pdf(tmp_path / "sideways.pdf")
    focus, other = Box(300, 400, 420, 440), Box(100, 600, 200, 640)
    image = render_page(pdf, 1, 612, turn=90, regions=(Region(other, strong=False), Region(focus)))
    inside, outside, faint = at(image, 360, 420), at(image, 360, 480), at(image, 150, 620)
    assert is_highlight(inside), inside.name()
    assert outside.name() == "#ffffff"
    assert is_highlight(faint) and faint.blue() > inside.blue(), "other findings are drawn fainter"
    x, y = (int(v) for v in image.text(HIGHLIGHT_AT).split(","))
    assert abs(x - 360) <= 2 and abs(y - 420) <= 2, "the view scrolls to the focused region"
    edge = at(image, 297, 420)  # the edge runs 3 px outside the box
    assert edge.green() < 200, f"the region has an orange edge, got {edge.name()}"


def test_text_search_still_highlights_on_a_turned_page(tmp_path: Path) -> None:
    pdf = sideways_pdf(tmp_path / "sideways.pdf")
    image = render_page(pdf, 1, 612, [TEXT], turn=90)
    x, y = (int(v) for v in image.text(HIGHLIGHT_AT).split(","))
    assert 72 < x < 260 and 175 < y < 200, (x, y)  # on the line, in upright pixels (1 px per point)
    assert highlighted_share(image, Box(TEXT_AT[0], TEXT_AT[1] - 12, TEXT_AT[0] + 150, TEXT_AT[1])) > 0.3
    assert highlighted_share(image, Box(TEXT_AT[0], TEXT_AT[1] + 40, TEXT_AT[0] + 150, TEXT_AT[1] + 52)) == 0


# -- preview, strip and findings models ---------------------------------------------------------------


@pytest.fixture
def images(qtbot: QtBot) -> Iterator[PageImages]:
    cache = PageImages()
    yield cache
    cache.shutdown()


WEAK_BOX = Box(60, 560, 400, 620)
SIGN_BOX = Box(60, 170, 330, 200)


def evidence_report(folder: Path) -> tuple[Report, Finding]:
    """Two files: ``a.pdf`` upright with a weak error (withheld: the page goes to the review list),
    ``b.pdf`` sideways (turn 90) with a 72 %-sure warning. Also returns a sure finding for ``a.pdf``
    that is not in the report."""
    folder.mkdir(parents=True, exist_ok=True)
    plain = canvas.Canvas(str(folder / "a.pdf"), pagesize=UPRIGHT)
    _draw_upright(plain)
    plain.showPage()
    plain.save()
    sideways_pdf(folder / "b.pdf")
    pages = [
        PageLabel("a.pdf", 1, "ec_tag", 0.95),
        PageLabel("b.pdf", 1, "ccsc", 0.9, turn=90),
    ]
    sure = Finding(
        "MISSING_SIGNATURE",
        "error",
        "ec_tag",
        "signature",
        [PageRef("a.pdf", 1)],
        "The EC tag is not signed.",
        [Evidence(PageRef("a.pdf", 1), TEXT, SIGN_BOX)],
        confidence=0.97,
    )
    unsure = Finding(
        "MISSING_FIELD",
        "warning",
        "ccsc",
        "date",
        [PageRef("b.pdf", 1)],
        "The CCSC date is blank.",
        [Evidence(PageRef("b.pdf", 1), "Date: ____", SIGN_BOX)],
        confidence=0.72,
    )
    weak = Finding(
        "SAFETY_ITEM_UNCHECKED", "error", "ec_tag", "OH-13", [PageRef("a.pdf", 1)],
        "Item OH-13 looks unticked.", [Evidence(PageRef("a.pdf", 1), "[ ] OH-13", WEAK_BOX)], confidence=0.41,
    )  # fmt: skip
    return Report(
        package=folder.name,
        work_type="estimated",
        work_type_inferred=False,
        pm_number="35589054",
        notification_number=None,
        pages=pages,
        documents=[Document("ec_tag", "a.pdf", 1, 1), Document("ccsc", "b.pdf", 1, 1)],
        findings=[unsure],
        withheld=[weak],
        root=str(folder),
    ), sure


def test_preview_draws_the_focused_box_strong_and_scrolls_to_it(
    qtbot: QtBot, tmp_path: Path, images: PageImages
) -> None:
    report, sure = evidence_report(tmp_path / "pkg")
    preview = PagePreview(images)
    qtbot.addWidget(preview)
    preview.resize(520, 420)
    preview.show()
    label = report.pages[0]
    weak = report.withheld[0]
    preview.set_zoom(2.0)  # the page is taller than the panel: the region must be scrolled to
    preview.show_page(
        str(tmp_path / "pkg" / "a.pdf"),
        label,
        [sure],
        weak,
        withheld=[weak],
        review="weak evidence (41% sure)",
    )
    assert [r.strong for r in preview.regions] == [False, True] and preview.highlights == ()
    qtbot.waitUntil(lambda: preview.shown_image_key() is not None, timeout=10000)
    pixmap = preview.image.pixmap()
    image = pixmap.toImage()
    assert is_highlight(at(image, 200, 590)), "the focused (weak) finding's region"
    bar = preview.scroll_area.verticalScrollBar()
    scale = image.width() / UPRIGHT[0] / pixmap.devicePixelRatio()
    viewport = preview.scroll_area.viewport().height()
    assert bar.value() > 0 and bar.value() <= 590 * scale <= bar.value() + viewport, "the region is in view"
    text = preview.evidence.text()
    assert "Needs review" in text and "weak evidence (41% sure)" in text
    assert "The EC tag is not signed." in text and "97%" not in text, "a sure finding shows no percentage"


def test_preview_shows_a_turned_page_upright_and_the_confidence_of_an_unsure_finding(
    qtbot: QtBot, tmp_path: Path, images: PageImages
) -> None:
    report, _ = evidence_report(tmp_path / "pkg")
    preview = PagePreview(images)
    qtbot.addWidget(preview)
    preview.resize(520, 700)
    preview.show()
    finding = report.findings[0]
    preview.show_page(str(tmp_path / "pkg" / "b.pdf"), report.pages[1], [finding], finding)
    qtbot.waitUntil(lambda: preview.shown_image_key() is not None, timeout=10000)
    key = preview.shown_image_key()
    assert key is not None and key.turn == 90
    image = preview.image.pixmap().toImage()
    assert image.height() > image.width(), "portrait, as read"
    assert is_black(at(image, 306, 15)) and is_red(at(image, 30, 70))
    assert is_highlight(at(image, 300, 185)), "the box is in upright points"
    assert "72% sure" in preview.evidence.text()


def test_strip_thumbnails_are_upright_and_review_pages_carry_their_reason(
    qtbot: QtBot, qtmodeltester: Any, tmp_path: Path, images: PageImages
) -> None:
    report, _ = evidence_report(tmp_path / "pkg")
    model = PageStripModel(images, thumb_width=100)
    model.apply_report(report)
    qtmodeltester.check(model)
    turned = model.index(1, 0)
    assert turned.data(PageRoles.TURN) == 90
    assert turned.data(PageRoles.THUMBNAIL) is None
    qtbot.waitUntil(lambda: isinstance(turned.data(PageRoles.THUMBNAIL), QImage), timeout=10000)
    thumb = turned.data(PageRoles.THUMBNAIL)
    assert thumb.width() == 100 and thumb.height() > 120 and is_black(at(thumb, 306, 15))

    first = model.index(0, 0)
    assert first.data(PageRoles.NEEDS_REVIEW) is True, "a weak finding puts the page on the review list"
    assert first.data(PageRoles.SEVERITY) == "", "but it is not a finding on the page"
    assert first.data(PageRoles.TYPE_UNSURE) is False, "its type is sure: the percent stays grey"
    assert "Item OH-13 looks unticked." in first.data(PageRoles.REVIEW_REASON)
    assert "Needs review: weak evidence" in first.data(Qt.ItemDataRole.ToolTipRole)
    assert turned.data(PageRoles.NEEDS_REVIEW) is False
    assert [i.page for i in model.review_items()] == [PageRef("a.pdf", 1)]
    assert model.withheld_on(PageRef("a.pdf", 1)) == report.withheld

    # an unsure type too: both reasons; once the user sets the type only the weak evidence is left
    report.pages[0].confidence = 0.3
    model.apply_report(report)
    a = PageRef("a.pdf", 1)
    assert "page type unsure" in model.review_reason(a) and "weak evidence" in model.review_reason(a)
    assert first.data(PageRoles.TYPE_UNSURE) is True
    model.set_doc_type(a, "ec_tag")
    assert "page type unsure" not in model.review_reason(a) and "weak evidence" in model.review_reason(a)
    assert first.data(PageRoles.NEEDS_REVIEW) is True and first.data(PageRoles.TYPE_UNSURE) is False

    findings = FindingsModel()
    findings.set_findings([*report.findings, report.withheld[0]], [p.ref for p in report.pages])
    unsure = next(r for r in range(2) if findings.index(r, 0).data(FINDING_ROLE) is report.findings[0])
    assert findings.index(unsure, 5).data() == "The CCSC date is blank. · 72% sure"
    assert "How sure the check is: 72%" in findings.index(unsure, 1).data(Qt.ItemDataRole.ToolTipRole)


# -- the Packages page, with the real verifier under a strict profile ----------------------------------

PKG_016 = PACKAGES / "pkg-016"
needs_corpus = pytest.mark.skipif(not PKG_016.is_dir(), reason=f"sample corpus not found at {PKG_016}")
VERIFY_TIMEOUT_MS = 120_000
#: Stricter than any finding on text pages (0.75–0.95): every real finding is withheld.
STRICT = 0.99

CheckPackage = Callable[[float], PackagesPage]


@pytest.fixture
def check_pkg_016(qtbot: QtBot, sqlite_db: Database, runner: OpRunner) -> Iterator[CheckPackage]:
    """Shows pkg-016 on a Packages page whose real pipeline withholds findings less sure than the
    threshold given (the rules profile's ``finding_threshold``)."""
    pages: list[PackagesPage] = []

    def check(threshold: float) -> PackagesPage:
        profile = load_profile().model_copy(update={"finding_threshold": threshold})

        def factory(exemplars: Sequence[tuple[str, str]]) -> Verifier:
            return Verifier(profile=profile, exemplars=exemplars, warm=False)

        page = PackagesPage(runner, sqlite_db, load_settings(), verifier_factory=factory)
        pages.append(page)
        qtbot.addWidget(page)
        page.resize(1280, 800)
        page.show()
        with qtbot.waitSignal(page.runFinished, timeout=VERIFY_TIMEOUT_MS) as finished:
            page.open_paths([PKG_016])
        assert finished.args == ["done"] and page.report is not None
        return page

    yield check
    for page in pages:
        page.shutdown()


def key(finding: Finding) -> tuple[str, tuple[tuple[str, int], ...], str]:
    """What tells a finding apart across two runs of the pipeline (sortable)."""
    return finding.code, tuple((p.file, p.page) for p in finding.pages), finding.message


def table_findings(page: PackagesPage) -> list[Finding]:
    model = page.findings_model
    return [model.index(r, 0).data(FINDING_ROLE) for r in range(model.rowCount())]


def review_items(page: PackagesPage) -> list[ReviewItem]:
    model = page.review_panel.model
    return [model.index(r, 0).data(REVIEW_ROLE) for r in range(model.rowCount())]


def box_on(finding: Finding, ref: PageRef) -> Box:
    boxes = [e.box for e in finding.evidence if e.page == ref and e.box is not None]
    assert boxes, f"the real pipeline gives {finding.code} an evidence region on {ref}"
    return boxes[0]


def upright_width(path: Path, label: PageLabel) -> float:
    """The page's width in points as read upright (its ``/Rotate`` and the label's turn applied)."""
    with PDFIUM_LOCK:  # PDFium is not thread-safe: the page's renderers use it meanwhile
        pdf = pdfium.PdfDocument(path)
        try:
            width, height = pdf[label.page - 1].get_size()
        finally:
            pdf.close()
    return float(height if label.turn % 180 else width)


def overlaps(a: Box, b: Box) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def assert_region_drawn(qtbot: QtBot, page: PackagesPage, box: Box) -> None:
    """The preview's rendering of its page paints ``box`` in the highlight, and paper away from every
    region on the page stays unpainted."""
    preview = page.preview
    qtbot.waitUntil(
        lambda: (k := preview.shown_image_key()) is not None and Region(box) in k.regions, timeout=10000
    )
    image = preview.image.pixmap().toImage()
    assert page.report is not None and preview.ref is not None
    label = next(p for p in page.report.pages if p.ref == preview.ref)
    width = upright_width(PKG_016 / label.file, label)
    assert image.width() < width * 2 and image.height() > 0
    assert highlighted_share(image, box, width) > 0.3, f"{box} is highlighted"
    step = max(3 * box.height, 60.0)
    height = width * image.height() / image.width()
    away = [
        b
        for dy in (step, -step, 2 * step, -2 * step)
        if (b := Box(box.x0, box.y0 + dy, box.x1, box.y1 + dy)).y0 > 0 and b.y1 < height
        if not any(overlaps(b, r.box) for r in preview.regions)
    ]
    assert away, "the page has paper outside its regions to compare with"
    assert highlighted_share(image, away[0], width) < 0.02, "only the region is painted"


def click_cell(qtbot: QtBot, view: QAbstractItemView, row: int) -> None:
    index = view.model().index(row, 1)
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center())


@needs_corpus
def test_under_a_strict_profile_real_findings_are_listed_for_review_not_counted(
    qtbot: QtBot, check_pkg_016: CheckPackage
) -> None:
    page = check_pkg_016(STRICT)
    report = page.report
    assert report is not None
    assert report.withheld and all(f.confidence < STRICT for f in report.withheld), "real, weak findings"
    assert verdict_of(report.withheld) is Verdict.FAIL, "counted, they would fail the package"

    # the findings table leaves them out, and the package is not rejected on them: it is not a
    # clean pass either, a person looks at those pages first
    assert not report.findings and page.findings_model.rowCount() == 0
    assert page.verdict_label.text() == "REVIEW" and page.banner.property("verdict") == "review"
    weak_pages = list(dict.fromkeys(f.pages[0] for f in report.withheld))
    summary = page.summary_label.text()
    assert "nothing found that would get it rejected" in summary
    assert f"{len(weak_pages)} pages to review" in summary

    # the review list holds one row per page, with the weak check's message
    panel = page.review_panel
    assert panel.isVisible() and f"{len(weak_pages)} pages" in panel.title.text()
    assert {i.page for i in review_items(page)} == set(weak_pages)
    for row, item in enumerate(review_items(page)):
        on_page = [f for f in report.withheld if f.pages[0] == item.page]
        text = panel.model.index(row, 1).data()
        assert panel.model.index(row, 0).data() == f"p. {item.page.page}", "one file: no file name"
        assert "weak evidence" in text and all(f.message in text for f in on_page)
        strip_row = page.strip_model.index_of(item.page)
        assert strip_row.data(PageRoles.NEEDS_REVIEW) is True and strip_row.data(PageRoles.SEVERITY) == ""
    assert page.review_check.text() == f"Needs review only ({len(weak_pages)})"

    # a click on the last row, then the arrow keys up the list: each shows its page, its region drawn
    last = panel.model.rowCount() - 1
    assert page.current_page() != review_items(page)[last].page, "the strip starts elsewhere"
    click_cell(qtbot, panel.view, last)
    for row in range(last, -1, -1):
        if row != last:
            qtbot.keyClick(panel.view, Qt.Key.Key_Up)
        item = panel.view.currentIndex().data(REVIEW_ROLE)
        assert item == review_items(page)[row]
        assert page.current_page() == item.page and page.preview.ref == item.page
        weak = next(f for f in report.withheld if f.pages[0] == item.page)
        box = box_on(weak, item.page)
        assert [r.box for r in page.preview.regions if r.strong] == [box]
        assert not page.findings_view.currentIndex().isValid()
        evidence = page.preview.evidence.text()
        assert "Needs review" in evidence and "weak evidence" in evidence and weak.message in evidence
        assert_region_drawn(qtbot, page, box)


@needs_corpus
def test_findings_below_the_threshold_are_reviewed_and_those_above_counted(
    qtbot: QtBot, check_pkg_016: CheckPackage
) -> None:
    with Verifier(warm=False) as verifier:  # the default profile: what the real checks find, how sure
        reference = verifier.verify(PKG_016)
    found = [*reference.findings, *reference.withheld]
    strengths = sorted({f.confidence for f in found})
    assert len(strengths) > 1, "the premise: real findings of different strengths"
    threshold = (strengths[0] + strengths[-1]) / 2
    counted = [f for f in found if f.confidence >= threshold]
    weak = [f for f in found if f.confidence < threshold]

    page = check_pkg_016(threshold)
    report = page.report
    assert report is not None
    assert sorted(map(key, report.findings)) == sorted(map(key, counted))
    assert sorted(map(key, report.withheld)) == sorted(map(key, weak))
    assert sorted(map(key, table_findings(page))) == sorted(map(key, counted)), "only counted ones"
    expected = verdict_of(counted)
    if expected is Verdict.PASS and weak:
        expected = Verdict.REVIEW  # held-back findings make a pass a review
    assert page.verdict_label.text() == expected.value.upper()
    errors = sum(f.severity == "error" for f in counted)
    all_errors = sum(f.severity == "error" for f in found)
    assert errors != all_errors, "the premise: a withheld error"
    summary = page.summary_label.text()
    assert f"{errors} error{'s' if errors != 1 else ''}," in summary
    assert f"{all_errors} errors" not in summary

    weak_pages = list(dict.fromkeys(f.pages[0] for f in weak))
    panel = page.review_panel
    assert [i.page for i in review_items(page)] == weak_pages
    assert all("weak evidence" in i.reason for i in review_items(page))
    review_page = weak_pages[0]
    weak_box = box_on(next(f for f in weak if f.pages[0] == review_page), review_page)

    # the strip starts elsewhere; choosing the review item with the keyboard shows its page
    assert page.current_page() != review_page
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_Down)
    assert page.current_page() == review_page and page.preview.ref == review_page
    assert [r.box for r in page.preview.regions if r.strong] == [weak_box]
    assert not page.findings_view.currentIndex().isValid()
    assert_region_drawn(qtbot, page, weak_box)

    # a counted finding in the table clears the review choice and shows its own region
    shown = table_findings(page)[0]
    click_cell(qtbot, page.findings_view, 0)
    assert not panel.view.currentIndex().isValid()
    assert page.preview.ref == shown.pages[0]
    assert [r.box for r in page.preview.regions if r.strong] == [box_on(shown, shown.pages[0])]
    assert_region_drawn(qtbot, page, box_on(shown, shown.pages[0]))

    # back to the review item with the keyboard; after another page, Enter shows it again
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_Down)
    assert page.preview.ref == review_page
    page.select_page(shown.pages[0])
    assert page.preview.ref == shown.pages[0]
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_Return)
    assert page.preview.ref == review_page

    # walking the strip onto the page shows its weak region and why it is on the list
    refs = [p.ref for p in report.pages]
    at_row = refs.index(review_page)
    before, step = (refs[at_row - 1], Qt.Key.Key_Right) if at_row else (refs[1], Qt.Key.Key_Left)
    page.select_page(before)
    assert page.preview.ref == before
    page.strip.setFocus()
    qtbot.keyClick(page.strip, step)
    assert page.preview.ref == review_page and page.preview.regions == (Region(weak_box),)
    assert all(f.message in page.preview.evidence.text() for f in weak if f.pages[0] == review_page)

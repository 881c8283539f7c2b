"""PDF extraction: reading order, lines and boxes, rotation, marks, form values, OCR, bad files,
the worker process and its budgets. Real PDFs (corpus and generated), real pdfium, real OCR."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from nexa_desktop.domain.verify import Box, PageContent
from nexa_desktop.ops import Cancelled
from nexa_desktop.services.verify import extraction
from nexa_desktop.services.verify.extraction import (
    Budget,
    Extractor,
    NoPdfInPackage,
    PackageNotFound,
    classify_colour,
    package_pdf_files,
    read_pdf,
)
from tests.services.verify import badpdfs

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"
PACKAGES = SHARED / "packages"
REAL_FORMS = SHARED / "real-forms"
needs_corpus = pytest.mark.skipif(not PACKAGES.is_dir(), reason=f"sample corpus not found at {PACKAGES}")


def read_all(path: Path, rel: str | None = None, **kwargs: object) -> list[PageContent]:
    return list(read_pdf(path, rel or path.name, **kwargs))  # type: ignore[arg-type]


def corners(box: Box) -> tuple[float, float, float, float]:
    return (box.x0, box.y0, box.x1, box.y1)


def near(box: Box, expected: Box, tolerance: float) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(corners(box), corners(expected), strict=True))


def squash(text: str) -> str:
    """Lower case without spaces: OCR often drops the spaces between upper-case words."""
    return re.sub(r"\s+", "", text).lower()


@pytest.fixture(scope="module")
def extractor() -> Iterator[Extractor]:
    """One warm worker for the module; tests that change the budget get it restored."""
    with Extractor(Budget(seconds_per_file=30, max_memory_mb=1500, max_pages=500)) as shared:
        shared.start()
        yield shared


@pytest.fixture
def budget(extractor: Extractor) -> Iterator[Extractor]:
    saved = extractor.budget
    yield extractor
    extractor.budget = saved


# --------------------------------------------------------------------------- reading order


@needs_corpus
@pytest.mark.parametrize(
    ("package", "expected"),
    [
        ("pkg-001", ["part1.pdf", "part2.pdf", "part3.pdf", "part4.pdf"]),
        ("pkg-002", ["package.pdf"]),
        ("pkg-003", sorted(p.name for p in (PACKAGES / "pkg-003").glob("*.pdf"))),
    ],
)
def test_reading_order_of_the_three_corpus_layouts(package: str, expected: list[str]) -> None:
    files = package_pdf_files(PACKAGES / package)
    assert [rel for _path, rel in files] == expected
    assert all(path == PACKAGES / package / rel for path, rel in files)
    if package == "pkg-003":
        assert expected[0] == "01_MISC.pdf" and expected[-1] == "17_PHOTOS.pdf" and len(expected) == 17


def test_reading_order_is_recursive_plain_string_order_and_ignores_other_files(tmp_path: Path) -> None:
    root = tmp_path / "package"
    (root / "sub").mkdir(parents=True)
    (root / "b-extra").mkdir()
    for rel in ["b.pdf", "A.PDF", "sub/c.Pdf", "b-extra/z.pdf", "a2.pdf"]:
        badpdfs.text_pdf(root, rel, [["x"]])
    (root / "notes.txt").write_text("not a pdf")
    (root / "scan.png").write_bytes(b"\x89PNG")
    (root / "old.pdf.bak").write_bytes(b"%PDF-1.4")
    (root / "folder.pdf").mkdir()  # a folder named like a PDF is not a file

    files = package_pdf_files(root)

    assert [rel for _path, rel in files] == ["A.PDF", "a2.pdf", "b-extra/z.pdf", "b.pdf", "sub/c.Pdf"]
    assert files[2][0] == root / "b-extra" / "z.pdf"


def test_a_single_pdf_is_its_own_package(tmp_path: Path) -> None:
    path = badpdfs.text_pdf(tmp_path, "Package.PDF", [["x"]])
    assert package_pdf_files(path) == [(path, "Package.PDF")]


def test_missing_path_or_folder_without_pdf_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PackageNotFound, match="does not exist"):
        package_pdf_files(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("hi")
    with pytest.raises(NoPdfInPackage, match="no PDF"):
        package_pdf_files(tmp_path / "empty")


# --------------------------------------------------------------------------- lines and boxes


@needs_corpus
def test_corpus_page_lines_boxes_and_order() -> None:
    pages = read_all(PACKAGES / "pkg-016" / "package.pdf", "package.pdf", ocr=False)
    first = pages[0]

    assert (first.file, first.page, first.width, first.height, first.rotation) == (
        "package.pdf",
        1,
        612,
        792,
        0,
    )
    assert first.source == "text" and first.readable
    pm = next(line for line in first.lines if line.text.startswith("PM/Order #: 39381444"))
    notification = next(line for line in first.lines if line.text == "Notification #: 123061275")
    assert abs(notification.box.cy - pm.box.cy) < 2 and notification.box.x0 > pm.box.x1  # its own column
    assert 30 < pm.box.x0 < 50 and 80 < pm.box.y0 < pm.box.y1 < 120  # top left, y grows downwards
    tops = [line.box.cy for line in first.lines]
    assert tops == sorted(tops)
    assert all(0 <= ln.box.x0 < ln.box.x1 <= 612 and 0 <= ln.box.y0 < ln.box.y1 <= 792 for ln in first.lines)
    assert any(
        line.text == "Status: [X] Completed [ ] Canceled [ ] Found Completed Upon Arrival"
        for line in first.lines
    )
    assert all("  " not in line.text for line in first.lines)
    assert [p.page for p in pages] == list(range(1, len(pages) + 1))


@needs_corpus
def test_typed_signature_sits_above_its_label() -> None:
    page = read_all(PACKAGES / "pkg-003" / "02_ECTAG.pdf", ocr=False)[1]
    signed = next(line for line in page.lines if line.text.startswith("/s/ "))
    label = next(line for line in page.lines if line.text == "Signature")
    assert signed.text == "/s/ I. Underwood"
    assert signed.box.y1 <= label.box.y0 + 1 and abs(signed.box.x0 - label.box.x0) < 20


def test_check_box_glyphs_and_columns_are_kept(tmp_path: Path) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font = next(
        (
            p
            for p in map(
                Path, ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "C:/Windows/Fonts/seguisym.ttf"]
            )
            if p.is_file()
        ),
        None,
    )
    if font is None:
        pytest.skip("no font with check box glyphs on this machine")
    pdfmetrics.registerFont(TTFont("Boxes", str(font)))
    path = tmp_path / "boxes.pdf"
    page = canvas.Canvas(str(path))
    page.setFont("Boxes", 11)
    page.drawString(72, 700, "Night work: ☐ Yes ☒ No")
    page.drawString(72, 680, "Built as designed ✓")
    page.drawString(400, 680, "Date: 08/17/2024")
    page.save()

    lines = [line.text for line in read_all(path)[0].lines]

    assert lines == [
        "Night work: ☐ Yes ☒ No",
        "Built as designed ✓",
        "Date: 08/17/2024",
    ]


@needs_corpus
def test_real_form_keeps_its_check_box_characters() -> None:
    page = read_all(REAL_FORMS / "unit_price_completion.pdf", ocr=False)[0]
    division = next(line for line in page.lines if line.text.startswith("DIVISION:"))
    assert "☐" in division.text and "SJ" in division.text


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_rotate_key_gives_displayed_size_and_boxes(tmp_path: Path, turn: int) -> None:
    upright = badpdfs.text_pdf(tmp_path, "upright.pdf", [["PM/Order #: 12345678", "Second line"]])
    writer = PdfWriter(clone_from=PdfReader(upright))
    writer.pages[0].rotate(turn)
    turned = tmp_path / "turned.pdf"
    writer.write(turned)

    before = read_all(upright)[0]
    after = read_all(turned)[0]

    # Upright content shown turned is read in the text's own frame, exactly as on paper, so that
    # "value above its label" and columns work whatever the /Rotate key says.
    assert after.rotation == 0
    assert (after.width, after.height) == (612, 792)
    assert sorted(line.text for line in after.lines) == sorted(line.text for line in before.lines)
    for line in before.lines:
        match = next(x for x in after.lines if x.text == line.text)
        assert corners(match.box) == pytest.approx(corners(line.box), abs=0.5)


@needs_corpus
def test_landscape_form_with_rotate_90_reads_as_normal_lines() -> None:
    page = read_all(REAL_FORMS / "lme.pdf", ocr=False)[0]

    assert page.rotation == 90 and page.width > page.height
    title = next(
        line for line in page.lines if "Daily Statement of Labor, Material, and Equipment" in line.text
    )
    assert title.box.width > 10 * title.box.height and title.box.y0 < 100
    assert any(line.text == "Pacific Gas and Electric" for line in page.lines)
    craft = next(line for line in page.lines if line.text.startswith("CRAFT"))
    hours = next(line for line in page.lines if line.text.startswith("HRS/DYS"))
    assert abs(craft.box.cy - hours.box.cy) < 3 and hours.box.x0 > craft.box.x1  # one row, two columns
    # a label printed up the column stays one line of its own, not letters scattered over rows
    vertical = next(line for line in page.lines if line.text == "Missed Meal(s) in HOURS")
    assert vertical.box.height > 5 * vertical.box.width


# --------------------------------------------------------------------------- marks


def _marks_pdf(folder: Path) -> Path:
    from PIL import Image

    path = folder / "marks.pdf"
    page = canvas.Canvas(str(path), pagesize=(612, 792))
    page.setFillColorRGB(1, 1, 1)
    page.rect(0, 0, 612, 792, stroke=0, fill=1)  # white page background: not ink
    page.setFillColorRGB(0, 0, 0)
    page.drawString(72, 750, "CONSTRUCTION DRAWING  SCALE: 1 in = 50 ft")  # a text layer: no OCR
    page.setStrokeColorRGB(0.86, 0.05, 0.05)
    page.setLineWidth(2)
    page.line(100, 700, 300, 700)  # red stroke
    page.setStrokeColorRGB(0.05, 0.25, 0.85)
    page.rect(100, 500, 150, 80, stroke=1, fill=0)  # blue box
    page.setStrokeColorRGB(0.2, 0.2, 0.2)
    page.line(100, 400, 400, 400)  # dark grey signature line
    page.beginForm("callout")
    page.setStrokeColorRGB(1, 0, 0)
    page.line(0, 0, 50, 0)
    page.endForm()
    page.saveState()
    page.translate(300, 300)
    page.scale(2, 2)
    page.doForm("callout")  # red, inside a form XObject: 100 pt long at (300, 300)
    page.restoreState()
    page.drawImage(ImageReader(Image.new("RGB", (20, 10), (90, 90, 200))), 400, 600, width=100, height=50)
    page.save()

    writer = PdfWriter(clone_from=PdfReader(path))
    ink = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Ink"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (300, 100, 400, 150)]),
            NameObject("/InkList"): ArrayObject(
                [ArrayObject([FloatObject(v) for v in (300, 100, 350, 150, 400, 120)])]
            ),
            NameObject("/C"): ArrayObject([FloatObject(0), FloatObject(0), FloatObject(1)]),
            NameObject("/Contents"): TextStringObject("new pole"),
        }
    )
    stamp = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/FreeText"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (50, 200, 250, 230)]),
            NameObject("/C"): ArrayObject([FloatObject(0.9), FloatObject(0.1), FloatObject(0.1)]),
            NameObject("/DA"): TextStringObject("/Helv 12 Tf 1 0 0 rg"),
            NameObject("/Contents"): TextStringObject("BUILT AS  DESIGNED"),
        }
    )
    link = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (10, 10, 60, 30)]),
        }
    )
    for annotation in (ink, stamp, link):
        writer.add_annotation(0, annotation)
    writer.write(path)
    return path


def test_marks_ink_colours_images_and_annotations(tmp_path: Path) -> None:
    page = read_all(_marks_pdf(tmp_path))[0]
    assert page.source == "text"
    ink = [m for m in page.marks if m.kind == "ink"]
    annotations = [m for m in page.marks if m.kind == "annotation"]

    red = [m for m in ink if m.colour == "red"]
    assert any(abs(m.box.x0 - 100) < 3 and abs(m.box.x1 - 300) < 3 and abs(m.box.cy - 92) < 2 for m in red)
    # the red callout inside a form XObject, placed by the form's matrix: 100 pt long at (300, 300)
    assert any(abs(m.box.x0 - 300) < 5 and abs(m.box.x1 - 400) < 5 and abs(m.box.cy - 492) < 3 for m in red)
    blue = next(m for m in ink if m.colour == "blue")
    assert near(blue.box, Box(100, 792 - 580, 250, 792 - 500), 2.5)
    assert any(m.colour == "black" and m.box.width > 290 for m in ink)
    assert not any(m.box.width > 600 for m in ink)  # the white background is not ink

    image = next(m for m in page.marks if m.kind == "image")
    assert near(image.box, Box(400, 792 - 650, 500, 792 - 600), 0.5)

    assert sorted(m.subtype for m in annotations) == ["FreeText", "Ink"]  # the link is not a mark
    pen = next(m for m in annotations if m.subtype == "Ink")
    assert (pen.colour, pen.text) == ("blue", "new pole")
    assert near(pen.box, Box(300, 792 - 150, 400, 792 - 100), 0.5)
    note = next(m for m in annotations if m.subtype == "FreeText")
    assert (note.colour, note.text) == ("red", "BUILT AS DESIGNED")


@needs_corpus
def test_corpus_sketch_markup_is_red_and_blue_ink() -> None:
    sketch = read_all(PACKAGES / "pkg-003" / "08_SKETCH_R0.pdf", ocr=False)[0]
    colours = {m.colour for m in sketch.marks if m.kind == "ink"}
    assert {"red", "blue", "black"} <= colours
    assert sketch.width > sketch.height  # 11x17 landscape


@pytest.mark.parametrize(
    ("rgb", "colour"),
    [
        ((255, 0, 0), "red"),
        ((140, 0, 0), "red"),
        ((219, 13, 13), "red"),
        ((0, 0, 255), "blue"),
        ((13, 64, 217), "blue"),
        ((0, 112, 192), "blue"),
        ((0, 0, 0), "black"),
        ((80, 80, 80), "black"),
        ((140, 140, 140), "other"),
        ((26, 89, 26), "other"),
        ((40, 160, 40), "other"),
        ((0, 200, 200), "other"),
    ],
)
def test_colour_classes(rgb: tuple[int, int, int], colour: str) -> None:
    assert classify_colour(*rgb) == colour


# --------------------------------------------------------------------------- form values


@needs_corpus
def test_form_values_of_a_real_form_filled_with_pypdf(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(REAL_FORMS / "cwc.pdf"))
    writer.update_page_form_field_values(
        writer.pages[0], {"NOTIFICATION": "123061275", "NONTEST": "/On"}, auto_regenerate=False
    )
    filled = tmp_path / "cwc-filled.pdf"
    writer.write(filled)

    blank = {v.name: v for v in read_all(REAL_FORMS / "cwc.pdf", ocr=False)[0].form_values}
    values = {v.name: v for v in read_all(filled, ocr=False)[0].form_values}

    assert "NOTIFICATION" not in blank and blank["NONTEST"].value == "off"
    assert (values["NOTIFICATION"].value, values["NOTIFICATION"].kind) == ("123061275", "text")
    assert (values["NONTEST"].value, values["NONTEST"].kind) == ("on", "checkbox")
    assert values["CLEARANCE"].value == "off"  # unticked boxes are reported as such
    box = values["NOTIFICATION"].box
    assert box is not None and 250 < box.x0 < box.x1 < 400 and 70 < box.y0 < box.y1 < 110


def _signature_form(folder: Path) -> Path:
    source = badpdfs.text_pdf(folder, "sig-source.pdf", [["Foreman signature:"]])
    writer = PdfWriter(clone_from=PdfReader(source))
    fields = ArrayObject()
    for name, signed, rect in (
        ("Foreman", True, (72, 600, 272, 640)),
        ("Inspector", False, (72, 500, 272, 540)),
    ):
        widget = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/FT"): NameObject("/Sig"),
                NameObject("/T"): TextStringObject(name),
                NameObject("/F"): NumberObject(4),
                NameObject("/Rect"): ArrayObject([FloatObject(v) for v in rect]),
                NameObject("/P"): writer.pages[0].indirect_reference,
            }
        )
        if signed:
            widget[NameObject("/V")] = DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Sig"),
                    NameObject("/Filter"): NameObject("/Adobe.PPKLite"),
                    NameObject("/Name"): TextStringObject("J. Ramirez"),
                }
            )
        fields.append(writer.add_annotation(0, widget).indirect_reference)
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject({NameObject("/Fields"): fields})
    path = folder / "signature-form.pdf"
    writer.write(path)
    return path


def test_signed_signature_field_is_a_form_value(tmp_path: Path) -> None:
    values = read_all(_signature_form(tmp_path))[0].form_values
    assert [(v.name, v.value, v.kind) for v in values] == [("Foreman", "signed", "signature")]
    assert values[0].box is not None and near(values[0].box, Box(72, 792 - 640, 272, 792 - 600), 0.5)


# --------------------------------------------------------------------------- OCR

SCAN_LINES = [
    "PROJECT COMPLETION FORM",
    "PM Order #: 35589054",
    "Notification #: 120533370",
    "Signed by J. Ramirez",
]


@pytest.mark.slow
@pytest.mark.parametrize("turn", [0, 90])
def test_ocr_reads_a_scan_and_turns_a_sideways_one_upright(tmp_path: Path, turn: int) -> None:
    scan = badpdfs.scanned_pdf(tmp_path, "scan.pdf", SCAN_LINES, turn=turn, size=(300, 200), font_size=12)

    page = read_all(scan)[0]

    assert page.source == "ocr" and page.readable
    texts = [squash(line.text) for line in page.lines]
    assert len(texts) == 4, texts
    assert "projectcompletionform" in texts[0] and "35589054" in texts[1]
    assert "120533370" in texts[2] and "ramirez" in texts[3]
    assert page.rotation == (270 if turn == 90 else 0)
    assert (page.width, page.height) == (300, 200)  # the upright page, whichever way it was scanned
    first, last = page.lines[0].box, page.lines[-1].box
    assert 0 < first.y0 < last.y0 < page.height and first.x0 < 0.25 * page.width


@pytest.mark.slow
def test_scan_with_a_typed_fax_header_is_read_by_ocr_and_text_layer_once(tmp_path: Path) -> None:
    header = "FAX 04/02/2025 09:14 FROM 209-555-0142"
    scan = badpdfs.scanned_pdf(tmp_path, "fax.pdf", SCAN_LINES, size=(300, 200), font_size=12, header=header)

    page = read_all(scan)[0]

    assert page.source == "ocr"
    assert page.lines[0].text == header  # the text layer's line, kept as typed
    assert sum("209" in line.text for line in page.lines) == 1  # not read a second time by OCR
    assert "35589054" in squash(page.text) and "ramirez" in squash(page.text)


@needs_corpus
@pytest.mark.slow
def test_ocr_reads_the_real_scanned_form() -> None:
    page = read_all(REAL_FORMS / "pole_bill.pdf")[0]
    text = squash(page.text)
    assert page.source == "ocr" and page.readable
    assert "exhibitb" in text and "projectcompletionform" in text and "notification" in text
    assert len(page.lines) > 30
    header = next(line for line in page.lines if "completion" in squash(line.text))
    assert header.box.y0 < 60 and 150 < header.box.cx < 450


@needs_corpus
def test_scan_without_ocr_is_unreadable_not_guessed() -> None:
    page = read_all(REAL_FORMS / "pole_bill.pdf", ocr=False)[0]
    assert (page.source, page.lines, page.readable) == ("none", [], False)
    assert any(m.kind == "image" for m in page.marks)  # the full-page scan is one image mark


def test_without_the_ocr_package_a_scan_is_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nexa_desktop.services.verify import ocr

    monkeypatch.setattr(ocr, "ocr_installed", lambda: False)
    scan = badpdfs.scanned_pdf(tmp_path, "scan.pdf", SCAN_LINES, size=(300, 200), font_size=12)
    page = read_all(scan)[0]
    assert (page.source, page.lines) == ("none", [])


# --------------------------------------------------------------------------- bad input

BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty": (badpdfs.empty_file, "empty (0 bytes)"),
    "text": (badpdfs.text_file_named_pdf, "not a PDF (it looks like a text file)"),
    "png": (badpdfs.png_named_pdf, "not a PDF (it looks like a PNG image)"),
    "encrypted": (badpdfs.encrypted_pdf, "password-protected"),
    "truncated": (lambda folder: badpdfs.truncated_pdf(folder, keep=0.02), "damaged"),
}
KINDS = {
    "empty": "empty",
    "text": "not_pdf",
    "png": "not_pdf",
    "encrypted": "encrypted",
    "truncated": "damaged",
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_a_typed_problem_and_the_next_file_still_reads(
    tmp_path: Path, extractor: Extractor, case: str
) -> None:
    make, words = BAD_FILES[case]
    bad = make(tmp_path)
    good = badpdfs.text_pdf(tmp_path, "good.pdf", [["PM/Order #: 12345678"]])

    result = extractor.extract(bad, "docs/" + bad.name)
    after = extractor.extract(good, "good.pdf")

    assert result.problem is not None and result.pages == []
    assert result.problem.kind == KINDS[case] and result.problem.file == "docs/" + bad.name
    assert words in result.problem.message and "docs/" + bad.name in result.problem.message
    assert "Traceback" not in result.problem.message
    assert after.problem is None and after.pages[0].text == "PM/Order #: 12345678"


def test_same_problems_in_process(tmp_path: Path) -> None:
    with Extractor(in_process=True) as here:
        for case, (make, words) in BAD_FILES.items():
            result = here.extract(make(tmp_path), "f.pdf")
            assert (
                result.problem is not None
                and result.problem.kind == KINDS[case]
                and words in result.problem.message
            )


def test_too_many_pages_is_refused_unread(tmp_path: Path, budget: Extractor) -> None:
    budget.budget = Budget(max_pages=10)
    seen: list[PageContent] = []
    result = budget.extract(badpdfs.many_pages_pdf(tmp_path, 12), "big.pdf", on_page=seen.append)
    assert result.problem is not None and result.problem.kind == "too_many_pages"
    assert "12 pages" in result.problem.message and "limit is 10" in result.problem.message
    assert result.pages == seen == []


def test_truncated_file_that_pdfium_repairs_is_read(tmp_path: Path) -> None:
    whole = badpdfs.text_pdf(tmp_path, "whole.pdf", [["PM/Order #: 12345678"]])
    cut = tmp_path / "cut.pdf"
    data = whole.read_bytes()
    cut.write_bytes(data[: data.rindex(b"xref")])  # the xref table and trailer are gone
    pages = read_all(cut)
    assert [p.text for p in pages] == ["PM/Order #: 12345678"]


@pytest.mark.parametrize("make", [badpdfs.broken_xref_pdf, badpdfs.cyclic_xref_pdf])
def test_broken_or_cyclic_xref_is_repaired(tmp_path: Path, extractor: Extractor, make: object) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    result = extractor.extract(path, path.name)
    assert result.problem is None
    assert [p.text for p in result.pages] == ["PM/Order #: 12345678"]


def test_cyclic_page_tree_ends_as_damaged_or_unreadable(tmp_path: Path, extractor: Extractor) -> None:
    result = extractor.extract(badpdfs.cyclic_pages_pdf(tmp_path), "loop.pdf")
    if result.problem is not None:
        assert result.problem.kind == "damaged"
    else:
        assert result.pages and all(not p.readable and p.source == "none" for p in result.pages)


def test_page_that_fails_is_unreadable_and_the_rest_of_the_file_reads(
    tmp_path: Path, extractor: Extractor
) -> None:
    result = extractor.extract(badpdfs.missing_page_pdf(tmp_path), "holes.pdf")
    assert result.problem is None
    assert [(p.page, p.source, p.text) for p in result.pages] == [
        (1, "text", "Page 1 of the tree"),
        (2, "text", "Page 2 of the tree"),
        (3, "none", ""),
    ]


def test_page_that_throws_in_our_code_is_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = badpdfs.text_pdf(tmp_path, "two.pdf", [["one"], ["two"]])
    real = extraction._group_lines
    calls = iter([True, False])

    def flaky(runs: list[extraction._Run], positions: bool = False) -> list[object]:
        if next(calls):
            raise RuntimeError("boom")
        return real(runs, positions)  # type: ignore[return-value]

    monkeypatch.setattr(extraction, "_group_lines", flaky)
    pages = read_all(path)
    assert [(p.page, p.source, p.text, p.width) for p in pages] == [
        (1, "none", "", 612),
        (2, "text", "two", 612),
    ]


def test_content_bomb_is_stopped_by_the_memory_budget(tmp_path: Path, budget: Extractor) -> None:
    bomb = badpdfs.content_bomb_pdf(tmp_path, gigabytes=1.5)
    budget.budget = Budget(seconds_per_file=20, max_memory_mb=350)
    old_pid = budget.worker_pid

    started = time.monotonic()
    result = budget.extract(bomb, "bomb.pdf")
    elapsed = time.monotonic() - started

    assert result.problem is not None and result.problem.kind in {"too_much_memory", "timeout", "damaged"}
    assert result.problem.kind == "too_much_memory" and "350 MB" in result.problem.message
    assert elapsed < 20
    assert old_pid is not None and budget.worker_pid is None and not psutil.pid_exists(old_pid)
    good = badpdfs.text_pdf(tmp_path, "good.pdf", [["after the bomb"]])
    assert budget.extract(good, "good.pdf").pages[0].text == "after the bomb"
    assert budget.worker_pid not in (None, old_pid)


@pytest.mark.slow
def test_image_bomb_on_a_scanned_page_ends_within_its_budget(tmp_path: Path, budget: Extractor) -> None:
    bomb = badpdfs.image_bomb_pdf(tmp_path)
    budget.budget = Budget(seconds_per_file=1.0, seconds_per_ocr_page=1.0, max_memory_mb=800)
    started = time.monotonic()
    result = budget.extract(bomb, "image-bomb.pdf")
    assert time.monotonic() - started < 4.0
    if result.problem is not None:
        assert result.problem.kind in {"too_much_memory", "timeout", "damaged"}
    else:
        assert [p.readable for p in result.pages] == [False]


def test_timeout_kills_the_worker_and_the_next_file_gets_a_fresh_one(
    tmp_path: Path, budget: Extractor
) -> None:
    slow = badpdfs.slow_pdf(tmp_path)
    budget.budget = Budget(seconds_per_file=0.4, max_memory_mb=4000)
    old_pid = budget.worker_pid

    started = time.monotonic()
    result = budget.extract(slow, "slow.pdf")

    assert time.monotonic() - started < 3.0
    assert result.problem is not None and result.problem.kind == "timeout"
    assert "slow.pdf" in result.problem.message and "no page was read" in result.problem.message
    assert budget.worker_pid is None
    budget.budget = Budget()
    good = budget.extract(badpdfs.text_pdf(tmp_path, "ok.pdf", [["fine"]]), "ok.pdf")
    assert good.problem is None and good.pages[0].text == "fine"
    assert budget.worker_pid not in (None, old_pid)


def test_timeout_in_process_is_checked_between_pages(tmp_path: Path) -> None:
    many = badpdfs.many_pages_pdf(tmp_path, 30)
    with Extractor(Budget(seconds_per_file=0.0), in_process=True) as here:
        result = here.extract(many, "many.pdf")
    assert result.problem is not None and result.problem.kind == "timeout"
    assert len(result.pages) == 1 and "(1 page was read)" in result.problem.message


# --------------------------------------------------------------------------- streaming, cancel, crash


def test_pages_stream_in_order_across_files(tmp_path: Path, extractor: Extractor) -> None:
    files = [badpdfs.many_pages_pdf(tmp_path, n, f"f{n}.pdf") for n in (3, 1, 5)]
    seen: list[tuple[str, int]] = []
    results = [extractor.extract(f, f.name, on_page=lambda p: seen.append((p.file, p.page))) for f in files]
    assert seen == [(r.file, p.page) for r in results for p in r.pages]
    assert seen == [("f3.pdf", 1), ("f3.pdf", 2), ("f3.pdf", 3), ("f1.pdf", 1)] + [
        ("f5.pdf", n) for n in range(1, 6)
    ]
    assert [p.text for p in results[2].pages] == [f"Page {n}" for n in range(1, 6)]


def test_cancel_stops_mid_file_and_the_extractor_goes_on(tmp_path: Path, extractor: Extractor) -> None:
    many = badpdfs.many_pages_pdf(tmp_path, 300)
    seen: list[PageContent] = []
    with pytest.raises(Cancelled):
        extractor.extract(many, "many.pdf", on_page=seen.append, cancel=lambda: bool(seen))
    assert 1 <= len(seen) < 300  # pages arrived while the worker was still reading
    assert extractor.worker_pid is None
    again = extractor.extract(badpdfs.text_pdf(tmp_path, "next.pdf", [["next"]]), "next.pdf")
    assert again.pages[0].text == "next"


def test_worker_crash_reports_damaged_keeps_pages_and_restarts(tmp_path: Path, extractor: Extractor) -> None:
    many = badpdfs.many_pages_pdf(tmp_path, 300)
    pid = extractor.worker_pid
    assert pid is not None

    def crash(page: PageContent) -> None:
        if page.page == 1:
            psutil.Process(pid).kill()

    result = extractor.extract(many, "many.pdf", on_page=crash)

    assert result.problem is not None and result.problem.kind == "damaged"
    assert "many.pdf" in result.problem.message and "Traceback" not in result.problem.message
    assert 1 <= len(result.pages) < 300
    assert [p.page for p in result.pages] == list(range(1, len(result.pages) + 1))
    after = extractor.extract(badpdfs.text_pdf(tmp_path, "after.pdf", [["after"]]), "after.pdf")
    assert after.problem is None and extractor.worker_pid not in (None, pid)


def test_a_failing_page_callback_propagates_and_the_worker_is_replaced(
    tmp_path: Path, extractor: Extractor
) -> None:
    def fail(_page: PageContent) -> None:
        raise ValueError("callback broke")

    with pytest.raises(ValueError, match="callback broke"):
        extractor.extract(badpdfs.many_pages_pdf(tmp_path, 20), "x.pdf", on_page=fail)
    after = extractor.extract(badpdfs.text_pdf(tmp_path, "y.pdf", [["why not"]]), "y.pdf")
    assert after.pages[0].text == "why not"


@needs_corpus
def test_warm_worker_reads_corpus_text_pages_fast(extractor: Extractor) -> None:
    packages = [PACKAGES / f"pkg-00{n}" for n in range(1, 6)]
    extractor.extract(*package_pdf_files(packages[0])[0])  # warm
    pages = 0
    started = time.perf_counter()
    for package in packages:
        for path, rel in package_pdf_files(package):
            result = extractor.extract(path, rel)
            assert result.problem is None and all(p.source == "text" for p in result.pages)
            pages += len(result.pages)
    per_second = pages / (time.perf_counter() - started)
    assert pages > 60 and per_second >= 30, f"{per_second:.0f} pages/s"


def test_results_travel_through_the_pipe_intact(tmp_path: Path, extractor: Extractor) -> None:
    path = _marks_pdf(tmp_path)
    remote = extractor.extract(path, "marks.pdf").pages
    assert remote == read_all(path, "marks.pdf")


def _page_with(path: Path, draw: Callable[[canvas.Canvas], None]) -> Path:
    page = canvas.Canvas(str(path), pagesize=(612, 792))
    draw(page)
    page.save()
    return path


def test_a_value_typed_on_a_blank_line_joins_it_at_its_place(tmp_path: Path) -> None:
    """Text written over underscores or into "[ ]" (a form filled by stamping) reads in place."""

    def draw(c: canvas.Canvas) -> None:
        c.setFont("Helvetica", 10)
        c.drawString(72, 700, "PM Number: ______________________ Location #: 3")
        c.drawString(72, 680, "Status: [ ] Completed [ ] Canceled")
        c.drawString(72, 650, "____________________")
        c.drawString(72, 638, "Foreman LAN ID")
        c.drawString(300, 650, "06/23/2025")
        # written afterwards, over the blanks (what the form writer's overlay does)
        c.drawString(140, 700, "35589054")
        c.drawString(76, 651, "GZVC")

    path = _page_with(tmp_path / "typed.pdf", draw)
    # the tick: at the centre of the first "[ ]"
    reader_lines = [
        line for line in read_all(path, positions=True)[0].lines if line.text.startswith("Status")
    ]
    (status,) = reader_lines
    start = status.text.index("[")
    centre = (status.xs[start] + status.xs[start + 2]) / 2

    def tick(c: canvas.Canvas) -> None:
        draw(c)
        c.drawString(centre - 3.3, 680, "X")

    lines = [line.text for line in read_all(_page_with(tmp_path / "ticked.pdf", tick))[0].lines]
    assert "PM Number: 35589054 Location #: 3" in lines
    assert "Status: [X] Completed [ ] Canceled" in lines
    assert "GZVC" in lines and "06/23/2025" in lines  # the value on the line stays its own field


def test_a_big_stamp_across_a_blank_is_not_a_value(tmp_path: Path) -> None:
    def draw(c: canvas.Canvas) -> None:
        c.setFont("Helvetica", 10)
        c.drawString(72, 700, "PM Number: ______________________________")
        c.setFont("Helvetica-Bold", 30)
        c.drawString(150, 694, "COPY")

    lines = [line.text for line in read_all(_page_with(tmp_path / "copy.pdf", draw))[0].lines]
    # the blank stays whole (the stamp is not written into it): the field still reads as empty
    assert any(line.startswith("PM Number: ______________________________") for line in lines), lines


def test_character_positions_follow_the_text(tmp_path: Path) -> None:
    def draw(c: canvas.Canvas) -> None:
        c.setFont("Helvetica", 10)
        c.drawString(72, 700, "LAN ID:   ____")

    (line,) = read_all(_page_with(tmp_path / "xs.pdf", draw), positions=True)[0].lines
    assert len(line.xs) == len(line.text)
    assert list(line.xs) == sorted(line.xs)
    assert line.box.x0 <= line.xs[0] < line.xs[-1] <= line.box.x1
    (plain,) = read_all(tmp_path / "xs.pdf")[0].lines
    assert plain.xs == () and plain.text == line.text  # only when asked for

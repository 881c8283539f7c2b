"""Writing fills into PDFs: AcroForm fields on the real CWC, stamps on the real (image-only) Field
Verification Certification Sheet, originals untouched, and no partial files on any failure."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader, PdfWriter

from nexa_desktop.domain.jobs import Crew, Job, JobStatus, Person, Role
from nexa_desktop.services.complete import writeback
from nexa_desktop.services.complete.fills import Fill, FillInvalid, draft_fill
from nexa_desktop.services.complete.forms import FORMS
from nexa_desktop.services.complete.writeback import (
    EncryptedPdf,
    LayoutFileError,
    MissingPage,
    NoPlaceForForm,
    NotAPdf,
    SourceMissing,
    TextDoesNotFit,
    WriteBackError,
    load_form_layout,
    plan_write,
    write_fill,
)

REAL_FORMS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "real-forms"
CWC = REAL_FORMS / "cwc.pdf"
FVC_BLANK = REAL_FORMS / "field_verification_cert_fuca.pdf"
FVC_SAMPLE = REAL_FORMS / "field_verification_cert_fcua.pdf"
UNIT_PRICE = REAL_FORMS / "unit_price_completion.pdf"

pytestmark = pytest.mark.skipif(not CWC.is_file(), reason=f"real forms not found at {REAL_FORMS}")

TODAY = dt.date(2025, 2, 10)
JOB = Job(
    id=7,
    pm_number="35589054",
    notification_number="119080350",
    status=JobStatus.IN_PROGRESS,
    version=1,
    address="1200 W Lane Ave",
    city="Stockton",
    foreman_id=2,
    crew_id=1,
    due_date=dt.date(2025, 3, 1),
    scheduled_start=dt.date(2025, 2, 12),
    scheduled_end=dt.date(2025, 2, 13),
)
PEOPLE = {2: Person(2, "Dana Reyes", Role.FOREMAN, lan_id="DR1X")}
CREWS = {1: Crew(1, "Line crew 1", foreman_id=2)}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fill(form_id: str, **answers: Any) -> Fill:
    return draft_fill(form_id, JOB, PEOPLE, CREWS, generator=None, today=TODAY, answers=answers)


def cwc_fill() -> Fill:
    return fill("cwc_header", purpose="Replace pole 1 (45 ft) and transfer primary; clearance on CB 1102.")


def fvc_fill(built_as: str = "redlined") -> Fill:
    return fill("field_verification_cert", built_as=built_as, comments="Pole set 5 ft east of design.")


def page_text(path: Path, page: int = 0) -> tuple[str, Any]:
    pdf = pdfium.PdfDocument(str(path))
    textpage = pdf[page].get_textpage()
    return textpage.get_text_range(), textpage


def char_box(path: Path, needle: str, *, after: str = "") -> tuple[float, float, float, float]:
    """The box of the first character of ``needle`` (searched after ``after``) on page 1."""
    text, textpage = page_text(path)
    index = text.find(needle, text.find(after) if after else 0)
    assert index >= 0, f"{needle!r} not found in {text!r}"
    return tuple(textpage.get_charbox(index))  # type: ignore[return-value]


# -- AcroForm: the real, fillable CWC ---------------------------------------------------------


def test_acroform_fill_of_the_real_cwc(tmp_path: Path) -> None:
    before = sha256(CWC)
    out = write_fill(cwc_fill(), CWC, tmp_path / "out")
    assert out == tmp_path / "out" / "35589054_CWC.pdf"
    assert sha256(CWC) == before  # the original is untouched

    fields = PdfReader(out).get_fields()
    assert fields is not None
    values = {name: f.get("/V") for name, f in fields.items()}
    assert values["PM"] == "35589054"
    assert values["NOTIFICATION"] == "119080350"
    assert values["DATE"] == "02/10/2025"
    assert values["DUE DATE"] == "03/01/2025"
    assert values["START DATE"] == "02/12/2025"
    assert values["END DATE"] == "02/13/2025"
    assert values["WORK ADDRESS LOC"] == "1200 W Lane Ave, Stockton"
    # Matched by the fuzzy fallback: the layout file only says "Purpose".
    long_name = "PURPOSE PROVIDE A BRIEF DESCRIPTION AND REFERENCE EQUIPMENT VERIFIED MATERIAL FOR AFW WORK"
    assert values[long_name].startswith("Replace pole 1 (45 ft)")
    # Pre-printed values stay; fields we have nothing for stay empty.
    assert values["CONTRACTOR"] == "ALVAH CONTRACTORS"
    assert values["EQUIPMENT"] is None
    assert values["Reason For Outage"] is None


def test_the_plan_shows_where_each_value_goes_without_writing(tmp_path: Path) -> None:
    before = set(tmp_path.iterdir())
    plan = plan_write(cwc_fill(), CWC)
    assert plan.mode == "acroform"
    where = {p.field: p.where for p in plan.placements}
    assert where["pm_number"] == "PM" and where["date"] == "DATE" and where["due_date"] == "DUE DATE"
    assert plan.unplaced == ()
    assert set(tmp_path.iterdir()) == before


def test_a_second_write_never_overwrites_the_first(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    first = write_fill(cwc_fill(), CWC, tmp_path)
    first_hash = sha256(first)
    second = write_fill(cwc_fill().with_value("purpose", "Second draft."), CWC, tmp_path)
    assert second == tmp_path / "35589054_CWC_2.pdf"
    assert sha256(first) == first_hash
    assert sorted(p.name for p in tmp_path.iterdir()) == ["35589054_CWC.pdf", "35589054_CWC_2.pdf"]


def test_an_explicit_name_is_sanitised_and_stays_in_the_folder(tmp_path: Path) -> None:
    out = write_fill(cwc_fill(), CWC, tmp_path / "out", name="../../etc/CON")
    assert out.parent == tmp_path / "out"
    assert out.name == "etc_CON.pdf"


# -- stamps: the real, non-fillable Field Verification Certification Sheet ---------------------


def test_stamp_on_the_real_non_fillable_sheet(tmp_path: Path) -> None:
    before = sha256(FVC_BLANK)
    out = write_fill(fvc_fill(), FVC_BLANK, tmp_path)
    assert out.name == "35589054_FIELD_VERIFICATION_CERT_20250210.pdf"
    assert sha256(FVC_BLANK) == before
    assert PdfReader(out).get_fields() in (None, {})  # stamped, not turned into a form
    text, _ = page_text(out)
    for stamped in ("35589054", "DR1X", "02", "10", "25", "X"):
        assert stamped in text.split("Figure 10")[-1] + text, stamped
    # The signature line is never filled, and the original text is all still there.
    assert "Dana Reyes" not in text
    original, _ = page_text(FVC_BLANK)
    assert original.strip() in text


def test_stamps_land_where_the_real_sample_has_its_values(tmp_path: Path) -> None:
    """Calibration: on the filled sample, our values sit on top of the sample's typed ones."""
    other = fill("field_verification_cert", built_as="built_as_designed").with_value("pm_number", "46357356")
    out = write_fill(other, FVC_SAMPLE, tmp_path)
    theirs = char_box(FVC_SAMPLE, "35482492")
    ours = char_box(out, "46357356")
    assert abs(ours[0] - theirs[0]) < 1.5 and abs(ours[1] - theirs[1]) < 1.5
    theirs_lan = char_box(FVC_SAMPLE, "AQBX")
    ours_lan = char_box(out, "DR1X")
    assert abs(ours_lan[0] - theirs_lan[0]) < 1.5 and abs(ours_lan[1] - theirs_lan[1]) < 2.5
    theirs_tick = char_box(FVC_SAMPLE, "x", after="AQBX")
    text, textpage = page_text(out)
    our_ticks = [textpage.get_charbox(i) for i, ch in enumerate(text) if ch == "X"]
    assert any(abs(box[0] - theirs_tick[0]) < 1.5 and abs(box[1] - theirs_tick[1]) < 1.5 for box in our_ticks)


def test_redlined_ticks_the_other_box(tmp_path: Path) -> None:
    designed = plan_write(fvc_fill("built_as_designed"), FVC_BLANK)
    redlined = plan_write(fvc_fill("redlined"), FVC_BLANK)
    tick = {p.field: p.where for p in designed.placements}["built_as"]
    other = {p.field: p.where for p in redlined.placements}["built_as"]
    assert tick != other
    assert designed.mode == "stamp"
    # The name (signature line) and the comments (no box) have no place on this form.
    assert set(redlined.unplaced) == {"name", "comments"}


def test_a_pdf_of_another_form_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NoPlaceForForm, match="does not know where to write"):
        write_fill(fvc_fill(), UNIT_PRICE, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# -- bad input --------------------------------------------------------------------------------


def test_non_pdf_damaged_missing_and_encrypted_inputs(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.pdf"
    text_file.write_text("just some notes", encoding="utf-8")
    with pytest.raises(NotAPdf, match="not a PDF"):
        write_fill(cwc_fill(), text_file, tmp_path / "out")

    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(b"%PDF-1.7\n" + b"\x00" * 200)
    with pytest.raises(NotAPdf):
        write_fill(cwc_fill(), truncated, tmp_path / "out")

    with pytest.raises(SourceMissing, match="does not exist"):
        write_fill(cwc_fill(), tmp_path / "gone.pdf", tmp_path / "out")

    writer = PdfWriter(clone_from=CWC)
    writer.encrypt(user_password="secret", owner_password="owner")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(EncryptedPdf, match="password-protected"):
        write_fill(cwc_fill(), locked, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _layouts(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "layouts"
    folder.mkdir(exist_ok=True)
    (folder / "field_verification_cert.toml").write_text(body, encoding="utf-8")
    return folder


def test_a_layout_page_the_pdf_lacks_is_a_missing_page(tmp_path: Path) -> None:
    layouts = _layouts(
        tmp_path,
        """
form = "field_verification_cert"
[[layouts]]
name = "three-page variant"
[[layouts.stamps]]
field = "pm_number"
page = 3
x = 100
y = 100
max_width = 100
""",
    )
    with pytest.raises(MissingPage, match="page 3"):
        write_fill(fvc_fill(), FVC_BLANK, tmp_path / "out", layouts=layouts)
    assert not (tmp_path / "out").exists()


def test_text_too_long_for_its_box_is_refused_not_cut(tmp_path: Path) -> None:
    layouts = _layouts(
        tmp_path,
        """
form = "field_verification_cert"
[[layouts]]
name = "tiny comments box"
[[layouts.stamps]]
field = "comments"
page = 1
x = 60
y = 300
max_width = 25
max_lines = 2
""",
    )
    with pytest.raises(TextDoesNotFit, match="Comments is too long"):
        write_fill(fvc_fill(), FVC_BLANK, tmp_path / "out", layouts=layouts)
    assert not (tmp_path / "out").exists()


def test_multi_line_stamps_wrap(tmp_path: Path) -> None:
    layouts = _layouts(
        tmp_path,
        """
form = "field_verification_cert"
[[layouts]]
name = "notes below the figure"
[[layouts.stamps]]
field = "comments"
page = 1
x = 60
y = 300
size = 10
max_width = 80
max_lines = 4
""",
    )
    out = write_fill(fvc_fill(), FVC_BLANK, tmp_path, layouts=layouts)
    text, _ = page_text(out)
    assert "Pole set 5 ft" in text and "design." in text
    lines = [ln for ln in text.splitlines() if "Pole" in ln or "design." in ln]
    assert len(lines) >= 2  # wrapped


def test_a_damaged_layout_file_is_reported(tmp_path: Path) -> None:
    layouts = _layouts(tmp_path, "form = 'field_verification_cert'\n[[layouts]]\nname = 1\n")
    with pytest.raises(LayoutFileError, match="damaged"):
        plan_write(fvc_fill(), FVC_BLANK, layouts=layouts)


def test_a_fill_that_is_not_ready_is_never_written(tmp_path: Path) -> None:
    not_ready = fill("field_verification_cert")  # nobody ticked Built as designed / Redlined
    with pytest.raises(FillInvalid, match="Built as designed"):
        write_fill(not_ready, FVC_BLANK, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# -- failures mid-write -----------------------------------------------------------------------


def test_failure_while_writing_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def write_half_then_fail(self: PdfWriter, stream: io.BufferedWriter) -> None:
        stream.write(b"%PDF-1.7\n% half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(PdfWriter, "write", write_half_then_fail)
    out = tmp_path / "out"
    with pytest.raises(WriteBackError, match="No space left"):
        write_fill(cwc_fill(), CWC, out)
    assert list(out.iterdir()) == []  # neither the PDF nor the temporary file


def test_failure_while_renaming_into_place_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: Path, target: Path) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(writeback, "move_no_overwrite", refuse)
    out = tmp_path / "out"
    with pytest.raises(WriteBackError, match="Permission denied"):
        write_fill(fvc_fill(), FVC_BLANK, out)
    assert list(out.iterdir()) == []


def test_an_unexpected_error_also_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: PdfWriter, stream: io.BufferedWriter) -> None:
        stream.write(b"%PDF-")
        raise RuntimeError("bug")

    monkeypatch.setattr(PdfWriter, "write", explode)
    with pytest.raises(RuntimeError):
        write_fill(cwc_fill(), CWC, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="needs a folder the user cannot write")
def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(WriteBackError, match="cannot write"):
            write_fill(cwc_fill(), CWC, locked)
    finally:
        locked.chmod(0o700)


# -- the shipped layout files -----------------------------------------------------------------


def test_every_shipped_layout_file_matches_its_form() -> None:
    for form_id, spec in FORMS.items():
        layout = load_form_layout(form_id)
        assert layout.form == form_id
        assert set(layout.acroform) <= set(spec.model.model_fields), form_id
        for tick in layout.acroform_ticks:
            assert tick.field in spec.model.model_fields
        for lay in layout.layouts:
            for stamp in lay.stamps:
                assert stamp.field in spec.model.model_fields, (form_id, stamp.field)
                assert stamp.field not in {"name"}, "the name on the FVC is the signature line"


def test_output_names_follow_the_convention_with_edited_values(tmp_path: Path) -> None:
    ccsc = fill("ccsc_header").with_value("location_number", "3")
    assert writeback.output_name(ccsc) == "35589054_CCSC_3.pdf"
    ec = fill("ec_tag_completion", completion_notes="Replaced fuse.")
    assert writeback.output_name(ec) == "119080350_ECTAG.pdf"

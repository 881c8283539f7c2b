"""Writing on forms NEXA has no calibrated layout for, by their printed labels.

The oracle is verification itself: a form with a blank field is written, then the written PDF is
verified again. The blank must be gone, the value must be ours, and nothing the form already
showed may be written over. Forms come from the package builder in several looks (the corpus's,
other labels and titles with ☐ boxes on legal paper, value columns with drawn rules and squares),
and from the sample corpus itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader, PdfWriter

from nexa_desktop.domain.jobs import Crew, Job, JobStatus, Person, Role
from nexa_desktop.domain.verify import Report
from nexa_desktop.services.complete.fills import Fill, draft_fill
from nexa_desktop.services.complete.writeback import NoPlaceForForm, plan_write, write_fill
from nexa_desktop.services.verify.extraction import read_pdf
from nexa_desktop.services.verify.pipeline import Verifier
from tests.services.verify import pkgbuilder as pb

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "packages"
PB_JOB = pb.Job()
TODAY = dt.date(2025, 6, 23)
STYLES = [pb.CORPUS, pb.SYNONYMS, pb.COLUMNS]

#: (package builder doc type, its blank field, our form, our field, the text NEXA writes)
CASES = [
    ("ec_tag", "lan_id", "ec_tag_completion", "lan_id", "GZVC"),
    ("ec_tag", "complete_date", "ec_tag_completion", "complete_date", "06/23/2025"),
    ("ec_tag", "status", "ec_tag_completion", "status", "X"),
    ("face_sheet", "foreman_lan_id", "face_sheet_signoff", "lan_id", "GZVC"),
    ("face_sheet", "date", "face_sheet_signoff", "date", "06/23/2025"),
    ("face_sheet", "built_as_designed_or_redlined", "face_sheet_signoff", "built_as", "X"),
    ("ccsc", "pm_number", "ccsc_header", "pm_number", "35589054"),
    ("ccsc", "location_number", "ccsc_header", "location_number", "1"),
    ("ccsc", "crew_lead_name", "ccsc_header", "crew_lead_name", "Brian Fletcher"),
    ("ccsc", "lan_id", "ccsc_header", "lan_id", "PDYU"),
    ("ccsc", "date", "ccsc_header", "date", "06/23/2025"),
    ("progress_billing", "pm_number", "progress_billing_header", "pm_number", "35589054"),
    (
        "progress_billing",
        "notification_number",
        "progress_billing_header",
        "notification_number",
        "119080350",
    ),
    ("progress_billing", "printed_name", "progress_billing_header", "contractor_rep_name", "Pat Harper"),
    ("field_verification_cert", "lan_id", "field_verification_cert", "lan_id", "LEGN"),
    ("field_verification_cert", "pm_number", "field_verification_cert", "pm_number", "35589054"),
    ("field_verification_cert", "date", "field_verification_cert", "date", "06/23/2025"),
]


def the_job(**changes: Any) -> Job:
    values: dict[str, Any] = dict(
        id=1,
        pm_number=PB_JOB.pm,
        notification_number=PB_JOB.notification,
        status=JobStatus.IN_PROGRESS,
        version=1,
        address=PB_JOB.address,
        city=PB_JOB.city,
        foreman_id=2,
        crew_id=1,
        due_date=dt.date(2025, 7, 1),
    )
    values.update(changes)
    return Job(**values)


PEOPLE = {2: Person(2, PB_JOB.crew_lead, Role.FOREMAN, lan_id=PB_JOB.crew_lead_lan)}
CREWS = {1: Crew(1, "Line crew 1", foreman_id=2)}


def fill_for(form: str, field: str, job: Job | None = None) -> Fill:
    """The fill a user would accept: facts from the job, the rest as the package's people."""
    answers: dict[str, Any] = {
        "ec_tag_completion": {"status": "Completed", "lan_id": PB_JOB.foreman_lan},
        "face_sheet_signoff": {
            "foreman_name": PB_JOB.foreman,
            "lan_id": PB_JOB.foreman_lan,
            "built_as": "built_as_designed",
        },
        "ccsc_header": {"location_number": PB_JOB.location, "crew_lead_name": PB_JOB.crew_lead},
        "progress_billing_header": {"contractor_rep_name": PB_JOB.rep},
        "field_verification_cert": {
            "name": PB_JOB.verifier,
            "lan_id": PB_JOB.verifier_lan,
            "built_as": "built_as_designed",
        },
    }[form]
    fill = draft_fill(form, job or the_job(), PEOPLE, CREWS, generator=None, today=TODAY, answers=answers)
    assert fill.ready, fill.problems
    return fill


@pytest.fixture(scope="module")
def verifier() -> Iterator[Verifier]:
    with Verifier(ocr=False) as v:
        v.warm_up()
        yield v


def blanks(report: Report, doc_type: str) -> list[str]:
    return sorted(
        str(f.field) for f in report.findings if f.doc_type == doc_type and f.code == "MISSING_FIELD"
    )


def page_text(path: Path) -> str:
    return "\n".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(str(path)))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("style", STYLES, ids=[s.name for s in STYLES])
@pytest.mark.parametrize(
    ("doc_type", "blank", "form", "field", "written"), CASES, ids=[f"{c[0]}.{c[1]}" for c in CASES]
)
def test_a_blank_field_is_written_where_verification_reads_it(
    verifier: Verifier,
    tmp_path: Path,
    style: pb.Style,
    doc_type: str,
    blank: str,
    form: str,
    field: str,
    written: str,
) -> None:
    source_dir = tmp_path / "blank"
    pb.write_package(source_dir, [pb.build(doc_type, PB_JOB, style, missing={blank})], "combined")
    (source,) = sorted(source_dir.glob("*.pdf"))
    assert blanks(verifier.verify(source_dir), doc_type) == [blank]  # the premise
    before = sha(source)

    fill = fill_for(form, field)
    plan = plan_write(fill, source)
    placed = {p.field: p for p in plan.placements}
    assert field in placed, (plan, style.name)
    assert placed[field].text == written
    out_dir = tmp_path / "written"
    out = write_fill(fill, source, out_dir)

    report = verifier.verify(out_dir)
    assert blanks(report, doc_type) == [], [f.message for f in report.findings]
    assert not [f for f in report.findings if f.code == "ID_MISMATCH"]
    assert sha(source) == before  # the original is untouched
    # Everything else the form showed was left alone: only our field was written.
    assert [p.field for p in plan.placements] == [field], plan
    if written != "X":
        assert page_text(out).count(written) == page_text(source).count(written) + 1


def test_a_value_already_on_the_form_is_reported_not_written_over(tmp_path: Path) -> None:
    """A complete face sheet: nothing to write; the plan says what the form shows."""
    pb.write_package(tmp_path / "src", [pb.build("face_sheet", PB_JOB, pb.CORPUS)], "combined")
    (source,) = sorted((tmp_path / "src").glob("*.pdf"))
    other = the_job()
    fill = draft_fill(
        "face_sheet_signoff",
        other,
        PEOPLE,
        CREWS,
        generator=None,
        today=dt.date(2025, 1, 2),
        answers={"foreman_name": "Dana Reyes", "lan_id": "DR1X", "built_as": "redlined"},
    )
    plan = plan_write(fill, source)
    shows = dict(plan.already)
    assert shows["lan_id"] == PB_JOB.foreman_lan
    assert shows["date"] == PB_JOB.date
    assert shows["built_as"].endswith("(ticked)")  # a box is ticked already: not ours to change
    assert [p for p in plan.placements if p.field in {"lan_id", "date", "built_as"}] == []
    out = write_fill(fill, source, tmp_path / "out")
    assert "DR1X" not in page_text(out) and "01/02/2025" not in page_text(out)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="sample corpus not found")
@pytest.mark.parametrize(
    ("package", "file", "form", "doc_type"),
    [
        ("pkg-015", "02_FACESHEET.pdf", "face_sheet_signoff", "face_sheet"),
        ("pkg-011", "package.pdf", "ccsc_header", "ccsc"),
        ("pkg-035", "13_CCSC_1.pdf", "ccsc_header", "ccsc"),
        ("pkg-023", "package.pdf", "progress_billing_header", "progress_billing"),
        ("pkg-010", "11_scan.pdf", "progress_billing_header", "progress_billing"),
    ],
)
def test_the_corpus_blanks_are_filled(
    verifier: Verifier, tmp_path: Path, package: str, file: str, form: str, doc_type: str
) -> None:
    """Every MISSING_FIELD of these sample packages is gone once the fill is written."""
    original = CORPUS / package
    before = verifier.verify(original)
    assert blanks(before, doc_type)
    pm, notification = before.pm_number, before.notification_number
    assert pm and notification
    work = tmp_path / package
    shutil.copytree(original, work)
    fill = fill_for(form, "", the_job(pm_number=pm, notification_number=notification))
    out = write_fill(fill, work / file, tmp_path / "out")
    out.replace(work / file)  # the written copy in place of the original, as a PM would file it
    after = verifier.verify(work)
    assert blanks(after, doc_type) == []
    assert not [f for f in after.findings if f.code == "ID_MISMATCH" and f.doc_type == doc_type]


def test_a_turned_page_gets_its_values_the_right_way_up(verifier: Verifier, tmp_path: Path) -> None:
    """A CCSC stored landscape with /Rotate 90: the PM lands after its label and reads back."""
    pb.write_package(
        tmp_path / "src", [pb.build("ccsc", PB_JOB, pb.CORPUS, missing={"pm_number"})], "combined"
    )
    (source,) = sorted((tmp_path / "src").glob("*.pdf"))
    writer = PdfWriter(clone_from=PdfReader(source))
    for page in writer.pages:
        page.rotate(90)
    turned_dir = tmp_path / "turned"
    turned_dir.mkdir()
    turned = turned_dir / "ccsc.pdf"
    writer.write(turned)
    assert blanks(verifier.verify(turned_dir), "ccsc") == ["pm_number"]
    out = write_fill(fill_for("ccsc_header", "pm_number"), turned, tmp_path / "out")
    assert blanks(verifier.verify(tmp_path / "out"), "ccsc") == []
    page = next(iter(read_pdf(out, "x", ocr=False)))
    assert (page.width, page.height) == (612, 792)  # read upright, like the form
    label = next(line.box for line in page.lines if line.text.startswith("PM/Order #:"))
    value = next(line.box for line in page.lines if "35589054" in line.text)
    assert abs(label.cy - value.cy) < 3 and value.x0 >= label.x0, (label, value)  # upright, on its row


def test_a_pdf_without_the_form_is_refused_with_the_reason(tmp_path: Path) -> None:
    pb.write_package(tmp_path / "src", [pb.build("crew_materials", PB_JOB, pb.CORPUS)], "combined")
    (source,) = sorted((tmp_path / "src").glob("*.pdf"))
    with pytest.raises(NoPlaceForForm, match="title"):
        plan_write(fill_for("ccsc_header", ""), source)
    assert not (tmp_path / "out").exists()


def test_a_drawn_check_box_gets_a_drawn_cross(tmp_path: Path) -> None:
    """Boxes drawn as squares (no text) are crossed with two strokes, which verification reads as a
    tick; the other boxes stay empty."""
    from reportlab.pdfgen import canvas

    from nexa_desktop.services.verify.reading import DocView, ticked_options

    source = tmp_path / "tag.pdf"
    c = canvas.Canvas(str(source), pagesize=(612, 792))
    c.setFont("Helvetica-Bold", 14)
    c.drawString(72, 740, "ELECTRIC OVERHEAD TAG")
    c.setFont("Helvetica", 10)
    c.drawString(72, 715, "COMPLETED OR CANCELED IN FIELD")
    c.drawString(72, 695, "LAN ID: GZVC")
    c.drawString(300, 695, "Complete/Cancel Date: 06/23/2025")
    c.drawString(72, 675, "Status:")
    for x, option in ((120, "Completed"), (200, "Canceled"), (270, "Found Completed Upon Arrival")):
        c.rect(x, 674, 9, 9)
        c.drawString(x + 13, 675, option)
    c.save()

    def status(path: Path) -> tuple[bool, bool]:
        view = DocView.of(list(read_pdf(path, "x", ocr=False)))
        return (
            ticked_options(view, ["completed"])[0],
            ticked_options(view, ["canceled", "found completed upon arrival"])[0],
        )

    assert status(source) == (False, False)
    plan = plan_write(fill_for("ec_tag_completion", "status"), source)
    assert [(p.field, p.where) for p in plan.placements] == [("status", "page 1, in its box")]
    out = write_fill(fill_for("ec_tag_completion", "status"), source, tmp_path / "out")
    assert status(out) == (True, False)
    assert "X" not in page_text(out)  # a drawn cross, not a letter


def test_the_form_is_read_by_the_budgeted_reader_process(tmp_path: Path) -> None:
    """A form PDF is untrusted: PDFium reads it in the reader worker (time and memory budget), not
    in the app's process."""
    import os

    from nexa_desktop.services.complete import writeback

    pb.write_package(tmp_path / "src", [pb.build("ccsc", PB_JOB, pb.CORPUS, missing={"pm_number"})])
    (source,) = sorted((tmp_path / "src").glob("*.pdf"))
    plan_write(fill_for("ccsc_header", "pm_number"), source)
    pid = writeback._form_reader().worker_pid
    assert pid is not None and pid != os.getpid()

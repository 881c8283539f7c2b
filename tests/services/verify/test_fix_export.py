"""Fix and export: real PDFs in, one canonically ordered PDF out, originals untouched."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from nexa_desktop.domain.rules import RulesProfile
from nexa_desktop.domain.verify import Document, FileProblem, Finding, PageLabel, PageRef, Report
from nexa_desktop.ops.task import Cancelled, TaskState
from nexa_desktop.services.verify.fix_export import (
    FixExportError,
    export_fixed,
    output_name,
    plan_fix,
    sanitise_name,
)
from nexa_desktop.services.verify.profile import load_profile

TODAY = dt.date(2026, 12, 8)
CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "packages"


@pytest.fixture
def profile() -> RulesProfile:
    return load_profile()


def _pdf(path: Path, *labels: str, form_value: str | None = None) -> Path:
    """One page per label, each printing ``PAGE <label>``; optionally a filled text field on page 1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path))
    for index, label in enumerate(labels):
        pdf.drawString(72, 720, f"PAGE {label}")
        if index == 0 and form_value is not None:
            pdf.acroForm.textfield(name="pm_number", value=form_value, x=72, y=600, width=200, height=20)
        pdf.showPage()
    pdf.save()
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _page_labels(path: Path) -> list[str]:
    return [page.extract_text().strip().removeprefix("PAGE ") for page in PdfReader(path).pages]


def _report(
    root: Path, documents: list[Document], findings: list[Finding] | None = None, **extra: object
) -> Report:
    pages = [
        PageLabel(d.file, n, d.doc_type, 0.9) for d in documents for n in range(d.start_page, d.end_page + 1)
    ]
    report = Report(
        package=root.name,
        work_type="estimated",
        work_type_inferred=False,
        pm_number="46208684",
        notification_number="120533370",
        pages=pages,
        documents=documents,
        findings=findings or [],
        root=str(root),
    )
    for key, value in extra.items():
        setattr(report, key, value)
    return report


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """Three files, documents out of order, a transmittal letter first and a duplicate copy."""
    root = tmp_path / "Job 46208684"
    _pdf(root / "a.pdf", "ccsc-1", "ccsc-2", "photos-a")
    _pdf(root / "b.pdf", "letter", "ec_tag", "face_sheet-1", "face_sheet-2")
    _pdf(root / "sub" / "c.pdf", "equipment", "equipment-copy", "pole_bill", "photos-c", "field-notes")
    return root


DOCUMENTS = [
    Document("ccsc", "a.pdf", 1, 2),
    Document("photos", "a.pdf", 3, 3),
    Document("other", "b.pdf", 1, 1),
    Document("ec_tag", "b.pdf", 2, 2),
    Document("face_sheet", "b.pdf", 3, 4),
    Document("equipment_info", "sub/c.pdf", 1, 1),
    Document("equipment_info", "sub/c.pdf", 2, 2),
    Document("pole_bill", "sub/c.pdf", 3, 3),
    Document("photos", "sub/c.pdf", 4, 4),
    Document("other", "sub/c.pdf", 5, 5),
]
DUPLICATE = Finding(
    "DUPLICATE_DOC", "warning", "equipment_info", None, [PageRef("sub/c.pdf", 2)], "Second copy."
)
CANONICAL = [
    "pole_bill", "ec_tag", "face_sheet-1", "face_sheet-2", "equipment", "ccsc-1", "ccsc-2",
    "photos-a", "photos-c", "letter", "field-notes",
]  # fmt: skip


def test_export_puts_documents_in_canonical_order_and_drops_the_duplicate(
    package: Path, profile: RulesProfile, tmp_path: Path
) -> None:
    before = {p: _sha(p) for p in package.rglob("*.pdf")}
    plan = plan_fix(_report(package, DOCUMENTS, [DUPLICATE]), profile, today=TODAY)

    assert plan.output_name == "46208684_ASBUILT_20261208.pdf"
    assert [(i.document.doc_type, i.source.name, i.pages) for i in plan.items][:3] == [
        ("pole_bill", "c.pdf", (3,)),
        ("ec_tag", "b.pdf", (2,)),
        ("face_sheet", "b.pdf", (3, 4)),
    ]
    assert [(d.file, d.pages) for d in plan.dropped] == [("sub/c.pdf", (2,))]
    assert plan.skipped == () and plan.reordered and plan.page_count == 11

    out = export_fixed(plan, tmp_path / "out")
    assert out == tmp_path / "out" / "46208684_ASBUILT_20261208.pdf"
    assert _page_labels(out) == CANONICAL
    assert {p: _sha(p) for p in package.rglob("*.pdf")} == before  # originals untouched
    outline = [item.title for item in PdfReader(out).outline]  # type: ignore[union-attr]
    assert outline[:2] == ["Pole bill (sub/c.pdf)", "EC tag (b.pdf)"]


def test_keep_duplicates_keeps_the_second_copy_in_place(
    package: Path, profile: RulesProfile, tmp_path: Path
) -> None:
    plan = plan_fix(_report(package, DOCUMENTS, [DUPLICATE]), profile, today=TODAY, keep_duplicates=True)
    assert plan.dropped == ()
    labels = _page_labels(export_fixed(plan, tmp_path / "out"))
    assert labels[4:6] == ["equipment", "equipment-copy"]


def test_a_duplicate_inside_a_longer_document_drops_only_its_pages(
    package: Path, profile: RulesProfile, tmp_path: Path
) -> None:
    """Segmentation merged both copies into one document: only the named copy's page goes."""
    merged = [d for d in DOCUMENTS if d.doc_type != "equipment_info"] + [
        Document("equipment_info", "sub/c.pdf", 1, 2)
    ]
    merged.sort(key=lambda d: (d.file, d.start_page))
    plan = plan_fix(_report(package, merged, [DUPLICATE]), profile, today=TODAY)
    assert _page_labels(export_fixed(plan, tmp_path / "out")) == CANONICAL


def test_same_type_documents_keep_the_reports_reading_order(tmp_path: Path, profile: RulesProfile) -> None:
    """The report read 2.pdf before 10.pdf (natural order); plain string order would swap them."""
    root = tmp_path / "pkg"
    _pdf(root / "2.pdf", "photos-2", "notes-2")
    _pdf(root / "10.pdf", "photos-10", "ec_tag")
    documents = [
        Document("photos", "2.pdf", 1, 1),
        Document("other", "2.pdf", 2, 2),
        Document("photos", "10.pdf", 1, 1),
        Document("ec_tag", "10.pdf", 2, 2),
    ]
    out = export_fixed(plan_fix(_report(root, documents), profile, today=TODAY), tmp_path / "out")
    assert _page_labels(out) == ["ec_tag", "photos-2", "photos-10", "notes-2"]


def test_never_overwrites_and_numbers_the_next_copies(
    package: Path, profile: RulesProfile, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    plan = plan_fix(_report(package, DOCUMENTS), profile, today=TODAY)
    first = export_fixed(plan, out_dir)
    first_bytes = first.read_bytes()
    second = export_fixed(plan, out_dir)
    third = export_fixed(plan, out_dir)
    assert [first.name, second.name, third.name] == [
        "46208684_ASBUILT_20261208.pdf",
        "46208684_ASBUILT_20261208_2.pdf",
        "46208684_ASBUILT_20261208_3.pdf",
    ]
    assert first.read_bytes() == first_bytes
    assert len(PdfReader(third).pages) == 12


def test_without_a_pm_the_package_name_is_used_safely() -> None:
    report = _report(Path("x"), [], package="Job #12 / Oak St. <draft>", pm_number=None)
    assert output_name(report, TODAY) == "Job_12_Oak_St._draft_ASBUILT_20261208.pdf"
    assert sanitise_name("../../etc/passwd") == "etc_passwd"
    assert sanitise_name("///") == "package"
    assert sanitise_name("É" * 200) == "package"
    assert len(sanitise_name("a" * 300)) == 80


def test_unreadable_files_are_skipped_and_readable_problem_files_copied_as_is(
    package: Path, profile: RulesProfile, tmp_path: Path
) -> None:
    (package / "damaged.pdf").write_bytes(b"%PDF-1.7\n this is not really a PDF at all")
    locked = PdfWriter(clone_from=_pdf(tmp_path / "plain.pdf", "secret"))
    locked.encrypt(user_password="s3cret", owner_password="owner")
    locked.write(package / "locked.pdf")
    _pdf(package / "slow.pdf", "slow-1", "slow-2")  # extraction timed out: nothing labelled
    owner_only = PdfWriter(clone_from=_pdf(tmp_path / "owner.pdf", "owner-only"))
    owner_only.encrypt(user_password="", owner_password="owner")
    owner_only.write(package / "restricted.pdf")

    documents = [*DOCUMENTS, Document("permit", "damaged.pdf", 1, 1), Document("lme", "restricted.pdf", 1, 1)]
    problems = [
        FileProblem("damaged.pdf", "damaged", "damaged.pdf is damaged."),
        FileProblem("locked.pdf", "encrypted", "locked.pdf needs a password."),
        FileProblem("slow.pdf", "timeout", "slow.pdf took too long to read."),
    ]
    plan = plan_fix(_report(package, documents, file_problems=problems), profile, today=TODAY)

    assert [(s.file, s.pages) for s in plan.skipped] == [("locked.pdf", ()), ("damaged.pdf", (1,))]
    # The check's own words for the problem are kept.
    assert [s.reason for s in plan.skipped] == ["locked.pdf needs a password.", "damaged.pdf is damaged."]
    as_is = [i for i in plan.items if i.note]
    assert [(i.document.file, i.pages, i.note) for i in as_is] == [
        ("slow.pdf", (1, 2), "copied as it is: slow.pdf took too long to read.")
    ]
    labels = _page_labels(export_fixed(plan, tmp_path / "out"))
    assert "owner-only" in labels  # an owner password alone does not stop copying
    # Unlabelled pages go last, like `other`; a file the report has no pages of comes after the rest.
    assert labels[-4:] == ["letter", "field-notes", "slow-1", "slow-2"]
    assert "secret" not in labels


def test_a_password_protected_document_is_listed_as_skipped(
    package: Path, profile: RulesProfile, tmp_path: Path
) -> None:
    locked = PdfWriter(clone_from=_pdf(tmp_path / "plain.pdf", "secret"))
    locked.encrypt(user_password="s3cret", owner_password="owner")
    locked.write(package / "locked.pdf")
    plan = plan_fix(
        _report(package, [*DOCUMENTS, Document("permit", "locked.pdf", 1, 1)]), profile, today=TODAY
    )
    assert [(s.file, s.reason) for s in plan.skipped] == [("locked.pdf", "locked.pdf is password-protected")]


def test_pages_the_documents_do_not_cover_are_kept(
    package: Path, profile: RulesProfile, tmp_path: Path
) -> None:
    partial = [d for d in DOCUMENTS if d.file != "sub/c.pdf"]  # the report lost c.pdf's documents…
    report = _report(package, partial)
    report.pages.append(PageLabel("sub/c.pdf", 3, "pole_bill", 0.5))  # …but labelled one page of it
    labels = _page_labels(export_fixed(plan_fix(report, profile, today=TODAY), tmp_path / "out"))
    assert labels[0] == "pole_bill"
    assert sorted(labels) == sorted([*CANONICAL, "equipment-copy"])


def test_rotation_and_form_values_travel_with_the_pages(tmp_path: Path, profile: RulesProfile) -> None:
    root = tmp_path / "pkg"
    _pdf(root / "1.pdf", "ccsc")
    rotated = PdfWriter(clone_from=_pdf(tmp_path / "r.pdf", "sketch"))
    rotated.pages[0].rotate(90)
    root.mkdir(exist_ok=True)
    rotated.write(root / "2.pdf")
    _pdf(root / "3.pdf", "billing", form_value="46208684")
    report = _report(
        root,
        [Document("ccsc", "1.pdf", 1, 1), Document("construction_sketch", "2.pdf", 1, 1),
         Document("progress_billing", "3.pdf", 1, 1)],
    )  # fmt: skip
    out = export_fixed(plan_fix(report, profile, today=TODAY), tmp_path / "out")
    reader = PdfReader(out)
    assert [p.extract_text().strip() for p in reader.pages] == ["PAGE sketch", "PAGE billing", "PAGE ccsc"]
    assert reader.pages[0].rotation == 90
    fields = reader.get_fields() or {}
    assert fields["pm_number"].get("/V") == "46208684"


def test_a_single_pdf_package_can_be_exported_beside_itself(tmp_path: Path, profile: RulesProfile) -> None:
    single = _pdf(tmp_path / "job.pdf", "ccsc", "ec_tag")
    report = _report(single, [Document("ccsc", "job.pdf", 1, 1), Document("ec_tag", "job.pdf", 2, 2)])
    out = export_fixed(plan_fix(report, profile, today=TODAY), tmp_path)
    assert out.parent == tmp_path and _page_labels(out) == ["ec_tag", "ccsc"]


def test_refuses_an_output_folder_inside_the_package(package: Path, profile: RulesProfile) -> None:
    plan = plan_fix(_report(package, DOCUMENTS), profile, today=TODAY)
    with pytest.raises(FixExportError, match="outside the package folder"):
        export_fixed(plan, package / "fixed")
    assert not (package / "fixed").exists()


def test_missing_package_and_missing_root_are_clear_errors(tmp_path: Path, profile: RulesProfile) -> None:
    with pytest.raises(FixExportError, match="no longer there"):
        plan_fix(_report(tmp_path / "gone", DOCUMENTS), profile, today=TODAY)
    nowhere = _report(tmp_path, DOCUMENTS)
    nowhere.root = ""
    with pytest.raises(FixExportError, match="does not say where"):
        plan_fix(nowhere, profile, today=TODAY)


def test_a_report_path_escaping_the_package_is_not_followed(
    package: Path, profile: RulesProfile, tmp_path: Path
) -> None:
    _pdf(tmp_path / "outside.pdf", "outside")
    plan = plan_fix(_report(package, [Document("ccsc", "../outside.pdf", 1, 1)]), profile, today=TODAY)
    assert plan.items == () and "not inside the package folder" in plan.skipped[0].reason
    with pytest.raises(FixExportError, match="no readable pages"):
        export_fixed(plan, tmp_path / "out")


def test_cancel_writes_nothing(package: Path, profile: RulesProfile, tmp_path: Path) -> None:
    plan = plan_fix(_report(package, DOCUMENTS), profile, today=TODAY)
    task = TaskState()
    task.cancel()
    with pytest.raises(Cancelled):
        export_fixed(plan, tmp_path / "out", task=task)
    assert list((tmp_path / "out").iterdir()) == []
    progress = TaskState()
    export_fixed(plan, tmp_path / "out", task=progress)
    assert progress.progress == 1.0 and "Saved" in progress.status


# --------------------------------------------------------------------------- corpus packages


def _truth_report(name: str) -> tuple[Report, dict[str, object]]:
    root = CORPUS / name
    if not root.is_dir():
        pytest.skip(f"sample corpus not found at {CORPUS}")
    truth = json.loads((CORPUS / f"{name}.truth.json").read_text(encoding="utf-8"))
    report = Report(
        package=truth["package"],
        work_type=truth["work_type"],
        work_type_inferred=False,
        pm_number=truth["pm_number"],
        notification_number=truth["notification_number"],
        pages=[PageLabel(p["file"], p["page"], p["doc_type"], 1.0) for p in truth["pages"]],
        documents=[Document(**d) for d in truth["documents"]],
        findings=[
            Finding(
                f["code"], f["severity"], f["doc_type"], f["field"], [PageRef(**r) for r in f["pages"]], ""
            )
            for f in truth["findings"]
        ],
        root=str(root),
    )
    return report, truth


def _source_texts(root: Path, refs: list[tuple[str, int]]) -> list[str]:
    readers: dict[str, PdfReader] = {}
    out = []
    for file, page in refs:
        reader = readers.setdefault(file, PdfReader(root / file))
        out.append(reader.pages[page - 1].extract_text())
    return out


@pytest.mark.parametrize("name", ["pkg-024", "pkg-002", "pkg-012"])
def test_corpus_package_ends_in_canonical_order(name: str, profile: RulesProfile, tmp_path: Path) -> None:
    report, truth = _truth_report(name)
    root = Path(report.root)
    before = {p: _sha(p) for p in root.rglob("*.pdf")}
    plan = plan_fix(report, profile, today=TODAY)
    out = export_fixed(plan, tmp_path / "fixed")
    assert out.name == f"{truth['pm_number']}_ASBUILT_20261208.pdf"

    expected_refs = [(i.document.file, n) for i in plan.items for n in i.pages]
    written = [page.extract_text() for page in PdfReader(out).pages]
    assert written == _source_texts(root, expected_refs)

    types = [i.document.doc_type for i in plan.items]
    ranked = [profile.rank(t) for t in types if t != "other"]
    assert ranked == sorted(ranked)  # type: ignore[type-var]
    assert types[len(ranked) :] == ["other"] * (len(types) - len(ranked))
    duplicates = {(r.file, r.page) for f in report.findings if f.code == "DUPLICATE_DOC" for r in f.pages}
    assert len(written) == len(report.pages) - len(duplicates)
    assert not {(f, n) for f, n in expected_refs} & duplicates
    assert {p: _sha(p) for p in root.rglob("*.pdf")} == before

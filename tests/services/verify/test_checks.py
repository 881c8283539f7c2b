"""The package checks on generated packages, one finding code at a time, in the corpus's look and in styles
that are not the corpus's (other titles and labels, value columns, ☒/☐ boxes, drawn or pasted signatures,
AcroForm values, annotations, rotated and scanned pages).

Every positive case asserts the finding's code, doc_type, field and pages; every negative case asserts the
clean variant has no such finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from nexa_desktop.domain.verify import Finding, PageRef, Report, verdict_of
from nexa_desktop.services.verify.pipeline import UnknownWorkType, Verifier
from tests.services.verify import pkgbuilder as pb

JOB = pb.Job()
STYLES = [pb.CORPUS, pb.SYNONYMS, pb.COLUMNS]
STYLE_IDS = [s.name for s in STYLES]
#: Optional documents added to the clean packages (the checked forms among them).
EXTRAS = ("field_verification_cert", "crew_materials", "lme", "photos")


@pytest.fixture(scope="module")
def verifier() -> Iterator[Verifier]:
    """One Verifier for the module (the embedding model takes seconds to load); OCR off."""
    with Verifier(ocr=False) as v:
        v.warm_up()
        yield v


@pytest.fixture(scope="module")
def clean(
    verifier: Verifier, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Report, pb.Package]]:
    """A clean estimated package (required documents plus ``EXTRAS``) per style, verified once."""
    out = {}
    for style in [*STYLES, pb.FILLABLE]:
        folder = tmp_path_factory.mktemp(f"clean-{style.name}")
        package = pb.write_package(folder, pb.clean_package(JOB, style, "estimated", extra=EXTRAS), "per_doc")
        out[style.name] = (verifier.verify(folder), package)
    return out


@pytest.fixture(scope="module")
def clean_reports(clean: dict[str, tuple[Report, pb.Package]]) -> dict[str, Report]:
    return {name: report for name, (report, _) in clean.items()}


def run(
    verifier: Verifier,
    folder: Path,
    docs: Sequence[pb.Doc],
    layout: pb.Layout = "combined",
    *,
    subfolder: str = "",
    junk: bool = False,
) -> tuple[Report, pb.Package]:
    """Write ``docs`` as a package in ``folder``/package and verify it (work type inferred)."""
    root = folder / "package"
    package = pb.write_package(root, docs, layout, subfolder=subfolder, junk=junk)
    return verifier.verify(root), package


def of_code(report: Report, code: str, doc_type: str | None = None) -> list[Finding]:
    return [f for f in report.findings if f.code == code and (doc_type is None or f.doc_type == doc_type)]


def refs(placed: pb.Placed, *indexes: int) -> list[PageRef]:
    chosen = indexes or tuple(range(len(placed.doc.pages)))
    return [PageRef(*placed.ref(i)) for i in chosen]


def summary(report: Report) -> list[tuple[str, str | None, str | None, list[tuple[str, int]]]]:
    """Findings in a readable shape for assertion messages."""
    return [(f.code, f.doc_type, f.field, [(r.file, r.page) for r in f.pages]) for f in report.findings]


# --------------------------------------------------------------------------- clean packages and verdict


@pytest.mark.parametrize("style", [*STYLES, pb.FILLABLE], ids=[*STYLE_IDS, "fillable"])
def test_clean_package_passes(clean: dict[str, tuple[Report, pb.Package]], style: pb.Style) -> None:
    report, package = clean[style.name]
    assert {(p.file, p.page): p.doc_type for p in report.pages} == package.page_types
    assert report.findings == [], summary(report)
    assert report.verdict.value == "pass"
    assert (report.work_type, report.work_type_inferred) == ("estimated", True)
    assert (report.pm_number, report.notification_number) == (JOB.pm, JOB.notification)


def test_verdict_rules() -> None:
    error = Finding("MISSING_FIELD", "error", "ccsc", "date", [], "")
    warning = Finding("OUT_OF_ORDER", "warning", "ccsc", None, [], "")
    assert verdict_of([]).value == "pass"
    assert verdict_of([warning]).value == "review"
    assert verdict_of([warning, error]).value == "fail"


def test_report_json_contract(clean_reports: dict[str, Report]) -> None:
    data = json.loads(json.dumps(clean_reports["corpus"].to_json()))
    assert {"package", "work_type", "pm_number", "notification_number", "pages", "documents", "findings",
            "verdict"} <= set(data)  # fmt: skip
    assert set(data["pages"][0]) >= {"file", "page", "doc_type", "confidence"}
    assert {d["doc_type"] for d in data["documents"]} >= set(pb.REQUIRED["estimated"])
    assert all(not Path(p["file"]).is_absolute() and "\\" not in p["file"] for p in data["pages"])


# --------------------------------------------------------------------------- required documents


def test_missing_required_doc(verifier: Verifier, tmp_path: Path) -> None:
    docs = [d for d in pb.clean_package(JOB, pb.CORPUS, "estimated") if d.doc_type != "equipment_info"]
    report, _ = run(verifier, tmp_path, docs)
    found = of_code(report, "MISSING_REQUIRED_DOC")
    assert [(f.doc_type, f.field, f.pages, f.severity) for f in found] == [
        ("equipment_info", None, [], "error")
    ]
    assert report.verdict.value == "fail"


def test_missing_required_docs_of_ec_corrective(verifier: Verifier, tmp_path: Path) -> None:
    docs = [pb.ec_tag(JOB), pb.equipment_info(JOB), pb.crew_materials(JOB)]
    report, _ = run(verifier, tmp_path, docs)
    assert report.work_type == "ec_corrective"
    assert sorted(f.doc_type or "" for f in of_code(report, "MISSING_REQUIRED_DOC")) == [
        "ccsc",
        "construction_sketch",
    ]


def test_clean_packages_miss_no_required_doc(clean_reports: dict[str, Report]) -> None:
    for name, report in clean_reports.items():
        assert of_code(report, "MISSING_REQUIRED_DOC") == [], name


# --------------------------------------------------------------------------- order


@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
def test_out_of_order_names_the_misplaced_document(
    verifier: Verifier, tmp_path: Path, style: pb.Style
) -> None:
    docs = pb.clean_package(JOB, style, "estimated")
    face = next(d for d in docs if d.doc_type == "face_sheet")
    docs.remove(face)
    docs.insert(3, face)  # after the equipment info and the sketch
    report, package = run(verifier, tmp_path, docs, "parts")
    found = of_code(report, "OUT_OF_ORDER")
    assert [(f.doc_type, f.pages) for f in found] == [("face_sheet", refs(package.find("face_sheet")))], (
        summary(report)
    )
    assert found[0].severity == "warning"
    assert report.verdict.value == "review", summary(report)


def test_other_documents_do_not_break_order(verifier: Verifier, tmp_path: Path) -> None:
    docs = pb.clean_package(JOB, pb.CORPUS, "ec_corrective")
    docs.insert(0, pb.other(JOB, kind="transmittal"))
    docs.insert(3, pb.other(JOB, kind="field_notes"))
    docs.append(pb.other(JOB, kind="fax_cover"))
    report, _ = run(verifier, tmp_path, docs, "per_doc")
    assert of_code(report, "OUT_OF_ORDER") == [], summary(report)
    assert report.verdict.value == "pass", summary(report)


# --------------------------------------------------------------------------- identifiers


def _id_package(odd: pb.Doc) -> list[pb.Doc]:
    """EC tag, face sheet, crew instructions, equipment info, sketch, ``odd``, billing, CCSC: ≥ 3 agree."""
    docs = pb.clean_package(JOB, pb.CORPUS, "estimated", extra=["crew_instructions"])
    docs.append(odd)
    docs.sort(key=lambda d: pb.CANONICAL_ORDER.index(d.doc_type))
    return docs


def test_id_mismatch_pm(verifier: Verifier, tmp_path: Path) -> None:
    odd = pb.crew_materials(replace(JOB, pm="35589045"))
    report, package = run(verifier, tmp_path, _id_package(odd), "per_doc")
    found = of_code(report, "ID_MISMATCH")
    assert [(f.doc_type, f.field, f.pages) for f in found] == [
        ("crew_materials", "pm_number", refs(package.find("crew_materials")))
    ], summary(report)
    assert (report.pm_number, report.notification_number) == (JOB.pm, JOB.notification)


def test_id_mismatch_notification(verifier: Verifier, tmp_path: Path) -> None:
    odd = pb.lme(replace(JOB, notification="191080350"))
    report, package = run(verifier, tmp_path, _id_package(odd))
    found = of_code(report, "ID_MISMATCH")
    assert [(f.doc_type, f.field, f.pages) for f in found] == [
        ("lme", "notification_number", refs(package.find("lme")))
    ], summary(report)
    assert report.notification_number == JOB.notification


@pytest.mark.parametrize("style", [pb.SYNONYMS, pb.COLUMNS], ids=["synonyms", "columns"])
def test_id_mismatch_with_other_label_spellings(verifier: Verifier, tmp_path: Path, style: pb.Style) -> None:
    docs = pb.clean_package(JOB, style, "estimated", extra=["crew_instructions", "photos"])
    odd = pb.photos(replace(JOB, pm="45589054"), style)
    docs[-1] = odd  # photos come last
    report, package = run(verifier, tmp_path, docs)
    found = of_code(report, "ID_MISMATCH")
    assert [(f.doc_type, f.field, f.pages) for f in found] == [
        ("photos", "pm_number", refs(package.find("photos")))
    ], summary(report)


def test_prefixed_pm_counts_as_the_same_number(verifier: Verifier, tmp_path: Path) -> None:
    docs = _id_package(pb.crew_materials(replace(JOB, pm_prefix="PM-")))
    report, _ = run(verifier, tmp_path, docs)
    assert of_code(report, "ID_MISMATCH") == [], summary(report)
    assert report.pm_number == JOB.pm


def test_clean_packages_have_no_id_mismatch(clean_reports: dict[str, Report]) -> None:
    for name, report in clean_reports.items():
        assert of_code(report, "ID_MISMATCH") == [], (name, summary(report))
        assert (report.pm_number, report.notification_number) == (JOB.pm, JOB.notification), name


# --------------------------------------------------------------------------- fields and signatures

FIELD_CASES = [
    (doc_type, name, "MISSING_SIGNATURE" if kind == "signature" else "MISSING_FIELD")
    for doc_type, fields in pb.CHECKED_FIELDS.items()
    for name, kind in fields.items()
]


@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
@pytest.mark.parametrize(
    ("doc_type", "field_name", "code"), FIELD_CASES, ids=[f"{d}.{f}" for d, f, _ in FIELD_CASES]
)
def test_blank_checked_field_is_reported(
    verifier: Verifier, tmp_path: Path, style: pb.Style, doc_type: str, field_name: str, code: str
) -> None:
    doc = pb.build(doc_type, JOB, style, missing={field_name})
    report, package = run(verifier, tmp_path, [doc])
    placed = package.find(doc_type)
    expected_page = doc.defects[0].pages[0]
    got = [
        (f.code, f.field, f.pages)
        for f in report.findings
        if f.doc_type == doc_type and f.code in ("MISSING_FIELD", "MISSING_SIGNATURE")
    ]
    assert got == [(code, field_name, refs(placed, expected_page))], summary(report)
    assert report.verdict.value == "fail"


@pytest.mark.parametrize("style", [*STYLES, pb.FILLABLE], ids=[*STYLE_IDS, "fillable"])
def test_filled_forms_have_no_missing_field_or_signature(
    clean_reports: dict[str, Report], style: pb.Style
) -> None:
    report = clean_reports[style.name]
    blanks = [f for f in report.findings if f.code in ("MISSING_FIELD", "MISSING_SIGNATURE")]
    assert blanks == [], summary(report)


@pytest.mark.parametrize("doc_type", ["ccsc", "progress_billing", "field_verification_cert", "face_sheet"])
def test_values_only_in_form_fields(verifier: Verifier, tmp_path: Path, doc_type: str) -> None:
    """Fillable forms: filled AcroForm text fields count as values, empty ones are blanks."""
    value_fields = [
        n for n, kind in pb.CHECKED_FIELDS[doc_type].items() if kind == "value" and n != "pm_number"
    ]
    blank = value_fields[0]
    report, _ = run(verifier, tmp_path, [pb.build(doc_type, JOB, pb.FILLABLE, missing={blank})])
    got = [(f.code, f.field) for f in report.findings if f.doc_type == doc_type and f.code == "MISSING_FIELD"]
    assert got == [("MISSING_FIELD", blank)], summary(report)


@pytest.mark.parametrize("kind", ["typed", "x", "ink", "image"])
@pytest.mark.parametrize("doc_type", ["ccsc", "progress_billing", "face_sheet"])
def test_any_kind_of_signature_counts(verifier: Verifier, tmp_path: Path, kind: str, doc_type: str) -> None:
    style = replace(pb.CORPUS, signature=kind)  # type: ignore[arg-type]
    report, _ = run(verifier, tmp_path, [pb.build(doc_type, JOB, style)])
    assert of_code(report, "MISSING_SIGNATURE") == [], summary(report)


@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
def test_optional_blanks_are_not_findings(verifier: Verifier, tmp_path: Path, style: pb.Style) -> None:
    """Supervisor and inspector lines empty, non-safety CCSC items and optional boxes unticked: no finding."""
    docs = [
        pb.ec_tag(JOB, style),
        pb.face_sheet(JOB, style, supervisor_signed=False),
        pb.equipment_info(JOB, style),
        pb.construction_sketch(JOB, style, markup="blue"),
        pb.job_package_checklist(JOB, style),
        pb.unit_price_completion(JOB, style),
        pb.progress_billing(JOB, style, inspector_signed=False),
        pb.ccsc(JOB, style, unticked={"OH-3", "OH-12", "OH-27", "UG-4", "UG-13", "UG-24"}),
    ]
    report, _ = run(verifier, tmp_path, docs, "per_doc")
    assert report.findings == [], summary(report)
    assert report.verdict.value == "pass"


# --------------------------------------------------------------------------- CCSC safety items


@pytest.mark.parametrize("style", [*STYLES, pb.FILLABLE], ids=[*STYLE_IDS, "fillable"])
@pytest.mark.parametrize(
    "items", [("OH-14",), ("UG-9",), ("OH-1", "OH-25", "UG-1", "UG-15")], ids=lambda i: "+".join(i)
)
def test_unticked_safety_item_is_reported(
    verifier: Verifier, tmp_path: Path, style: pb.Style, items: tuple[str, ...]
) -> None:
    doc = pb.ccsc(JOB, style, unticked=set(items) | {"OH-3", "UG-5"})  # non-safety items too
    report, package = run(verifier, tmp_path, [pb.ec_tag(JOB, style), doc])
    placed = package.find("ccsc")
    expected = sorted((item, refs(placed, 0 if item.startswith("OH") else 1)[0]) for item in items)
    got = sorted((f.field or "", f.pages[0]) for f in of_code(report, "SAFETY_ITEM_UNCHECKED"))
    assert got == expected, summary(report)
    assert all(f.doc_type == "ccsc" and len(f.pages) == 1 for f in of_code(report, "SAFETY_ITEM_UNCHECKED"))


@pytest.mark.parametrize("style", [*STYLES, pb.FILLABLE], ids=[*STYLE_IDS, "fillable"])
def test_ticked_safety_items_are_not_findings(clean_reports: dict[str, Report], style: pb.Style) -> None:
    assert of_code(clean_reports[style.name], "SAFETY_ITEM_UNCHECKED") == []


# --------------------------------------------------------------------------- sketch markup


@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
@pytest.mark.parametrize("turned", [False, True], ids=["landscape", "portrait-rotate90"])
def test_sketch_without_markup_is_reported(
    verifier: Verifier, tmp_path: Path, style: pb.Style, turned: bool
) -> None:
    docs = [pb.ec_tag(JOB, style), pb.construction_sketch(JOB, style, markup="none", turned=turned)]
    report, package = run(verifier, tmp_path, docs)
    placed = package.find("construction_sketch")
    assert [p.doc_type for p in report.pages][-1] == "construction_sketch"
    found = of_code(report, "SKETCH_NO_MARKUP")
    assert [(f.doc_type, f.pages, f.severity) for f in found] == [
        ("construction_sketch", refs(placed), "error")
    ], summary(report)


@pytest.mark.parametrize("markup", [m for m in pb.MARKUPS if m != "none"])
@pytest.mark.parametrize("turned", [False, True], ids=["landscape", "portrait-rotate90"])
def test_sketch_markup_passes(verifier: Verifier, tmp_path: Path, markup: pb.Markup, turned: bool) -> None:
    docs = [pb.ec_tag(JOB), pb.construction_sketch(JOB, markup=markup, turned=turned)]
    report, _ = run(verifier, tmp_path, docs)
    assert [p.doc_type for p in report.pages][-1] == "construction_sketch"
    assert of_code(report, "SKETCH_NO_MARKUP") == [], summary(report)


def test_received_stamp_is_not_sketch_markup(verifier: Verifier, tmp_path: Path) -> None:
    """A purple RECEIVED stamp and a COPY watermark are noise, not red or blue markup."""
    style = replace(pb.CORPUS, noise=frozenset({"stamp", "copy", "fax"}))
    report, _ = run(verifier, tmp_path, [pb.ec_tag(JOB), pb.construction_sketch(JOB, style, markup="none")])
    assert [f.doc_type for f in of_code(report, "SKETCH_NO_MARKUP")] == ["construction_sketch"], summary(
        report
    )


# --------------------------------------------------------------------------- unreadable pages


def test_an_illegible_scan_is_unreadable_and_the_run_finishes(verifier: Verifier, tmp_path: Path) -> None:
    docs = pb.clean_package(JOB, pb.CORPUS, "ec_corrective", extra=["photos"])
    pb.illegible(docs[-1], [1])  # the second photo sheet is a coarse grey smear
    report, package = run(verifier, tmp_path, docs)
    scan = PageRef(*package.find("photos").ref(1))
    found = of_code(report, "UNREADABLE_PAGE")
    assert [(f.pages, f.severity) for f in found] == [([scan], "warning")], summary(report)
    assert len(report.pages) == sum(len(d.pages) for d in docs)
    assert report.verdict.value == "review", summary(report)


def test_pages_with_text_are_not_unreadable(clean_reports: dict[str, Report]) -> None:
    for name, report in clean_reports.items():
        assert of_code(report, "UNREADABLE_PAGE") == [], name


# --------------------------------------------------------------------------- duplicates


@pytest.mark.parametrize("layout", ["combined", "per_doc"])
def test_duplicate_document(verifier: Verifier, tmp_path: Path, layout: pb.Layout) -> None:
    docs = pb.clean_package(JOB, pb.CORPUS, "estimated")
    index = next(i for i, d in enumerate(docs) if d.doc_type == "face_sheet")
    docs.insert(index + 1, docs[index].copy())
    report, package = run(verifier, tmp_path, docs, layout)
    second = package.find("face_sheet", 1)
    found = of_code(report, "DUPLICATE_DOC")
    assert [(f.doc_type, f.pages, f.severity) for f in found] == [("face_sheet", refs(second), "warning")], (
        summary(report)
    )
    assert of_code(report, "OUT_OF_ORDER") == [], "a duplicate never creates an OUT_OF_ORDER"
    assert report.verdict.value == "review", summary(report)


def test_one_page_duplicate_in_another_style(verifier: Verifier, tmp_path: Path) -> None:
    docs = pb.clean_package(JOB, pb.SYNONYMS, "ec_corrective", extra=["crew_instructions"])
    index = next(i for i, d in enumerate(docs) if d.doc_type == "crew_instructions")
    docs.insert(index + 1, docs[index].copy())
    report, package = run(verifier, tmp_path, docs, "per_doc")
    found = of_code(report, "DUPLICATE_DOC")
    assert [(f.doc_type, f.pages) for f in found] == [
        ("crew_instructions", refs(package.find("crew_instructions", 1)))
    ], summary(report)


def test_two_different_permits_are_not_duplicates(verifier: Verifier, tmp_path: Path) -> None:
    docs = pb.clean_package(JOB, pb.CORPUS, "estimated")
    at = next(i for i, d in enumerate(docs) if d.doc_type == "progress_billing")
    docs[at:at] = [pb.permit(JOB), pb.permit(JOB, number="CO-88-1203", agency="COUNTY OF ALAMEDA - ROADS")]
    report, _ = run(verifier, tmp_path, docs)
    assert of_code(report, "DUPLICATE_DOC") == [], summary(report)
    assert report.verdict.value == "pass", summary(report)


def test_clean_packages_have_no_duplicates_or_order_warnings(clean_reports: dict[str, Report]) -> None:
    for name, report in clean_reports.items():
        assert of_code(report, "DUPLICATE_DOC") == [], name
        assert of_code(report, "OUT_OF_ORDER") == [], name


# --------------------------------------------------------------------------- work type


def test_work_type_inferred_ec_corrective(verifier: Verifier, tmp_path: Path) -> None:
    report, _ = run(verifier, tmp_path, pb.clean_package(JOB, pb.CORPUS, "ec_corrective"))
    assert (report.work_type, report.work_type_inferred) == ("ec_corrective", True)
    assert report.findings == [], summary(report)


@pytest.mark.parametrize(
    ("present", "missing"), [("progress_billing", "face_sheet"), ("face_sheet", "progress_billing")]
)
def test_work_type_inferred_estimated_from_either_form(
    verifier: Verifier, tmp_path: Path, present: str, missing: str
) -> None:
    docs = [d for d in pb.clean_package(JOB, pb.CORPUS, "estimated") if d.doc_type != missing]
    report, _ = run(verifier, tmp_path, docs)
    assert (report.work_type, report.work_type_inferred) == ("estimated", True)
    assert [f.doc_type for f in of_code(report, "MISSING_REQUIRED_DOC")] == [missing]
    assert present in {p.doc_type for p in report.pages}


def test_work_type_override(verifier: Verifier, tmp_path: Path) -> None:
    root = tmp_path / "package"
    pb.write_package(root, pb.clean_package(JOB, pb.CORPUS, "ec_corrective"))
    report = verifier.verify(root, work_type="estimated")
    assert (report.work_type, report.work_type_inferred) == ("estimated", False)
    assert sorted(f.doc_type or "" for f in of_code(report, "MISSING_REQUIRED_DOC")) == [
        "face_sheet",
        "progress_billing",
    ]
    again = verifier.verify(root, work_type="ec_corrective")
    assert (again.work_type, again.work_type_inferred, again.findings) == ("ec_corrective", False, [])
    with pytest.raises(UnknownWorkType):
        verifier.verify(root, work_type="capital")


# --------------------------------------------------------------------------- files, rotation, noise


def test_parts_in_a_subfolder_with_other_files(verifier: Verifier, tmp_path: Path) -> None:
    """Pages are named by path relative to the package, with '/'; files that are not PDFs are ignored."""
    docs = pb.clean_package(JOB, pb.CORPUS, "ec_corrective")
    docs[-1] = pb.ccsc(JOB, missing={"date"})
    report, package = run(verifier, tmp_path, docs, "parts", subfolder="scans", junk=True)
    placed = package.find("ccsc")
    assert placed.file.startswith("scans/part")
    assert [(p.file, p.page) for p in report.pages] == list(package.page_types)
    found = of_code(report, "MISSING_FIELD", "ccsc")
    assert [(f.field, f.pages) for f in found] == [("date", refs(placed, 1))], summary(report)
    assert report.file_problems == []


def test_landscape_page_stored_turned(verifier: Verifier, tmp_path: Path) -> None:
    """A portrait media box with /Rotate 90 whose content reads upright (a landscape LME)."""
    docs = pb.clean_package(JOB, pb.CORPUS, "ec_corrective", extra=["lme"])
    lme = next(d for d in docs if d.doc_type == "lme")
    pb.turned_upright(lme)
    report, package = run(verifier, tmp_path, docs)
    page = PageRef(*package.find("lme").ref(0))
    assert next(p.doc_type for p in report.pages if p.ref == page) == "lme"
    assert report.findings == [], summary(report)


def test_page_displayed_sideways(verifier: Verifier, tmp_path: Path) -> None:
    """An upright page given /Rotate 90 (pypdf ``page.rotate(90)``) is still read: type and sign-off."""
    docs = pb.clean_package(JOB, pb.CORPUS, "estimated")
    face = next(d for d in docs if d.doc_type == "face_sheet")
    pb.sideways(face, page=2)
    report, package = run(verifier, tmp_path, docs)
    placed = package.find("face_sheet")
    assert [p.doc_type for p in report.pages if p.file == placed.file][
        placed.start - 1 : placed.start + 2
    ] == ["face_sheet"] * 3
    assert report.findings == [], summary(report)


def test_sideways_page_with_a_blank_still_reports_it(verifier: Verifier, tmp_path: Path) -> None:
    docs = pb.clean_package(JOB, pb.CORPUS, "estimated")
    at = next(i for i, d in enumerate(docs) if d.doc_type == "progress_billing")
    docs[at] = pb.sideways(pb.progress_billing(JOB, missing={"contractor_rep_signature"}))
    report, package = run(verifier, tmp_path, docs)
    found = of_code(report, "MISSING_SIGNATURE")
    assert [(f.doc_type, f.field, f.pages) for f in found] == [
        ("progress_billing", "contractor_rep_signature", refs(package.find("progress_billing")))
    ], summary(report)


# --------------------------------------------------------------------------- the generators themselves


def _page_text(path: Path, index: int) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        text: str = pdf[index].get_textpage().get_text_bounded()
        return text
    finally:
        pdf.close()


def test_builder_knobs_end_up_in_the_pdf(tmp_path: Path) -> None:
    """Scans have no text layer, fillable values live only in fields, turned pages show landscape."""
    import pypdfium2 as pdfium

    docs = [
        pb.progress_billing(JOB, pb.FILLABLE),
        pb.scanned(pb.crew_instructions(JOB)),
        pb.turned_upright(pb.lme(JOB)),
        pb.sideways(pb.permit(JOB)),
    ]
    package = pb.write_package(tmp_path, docs)
    pdf_path = tmp_path / package.placed[0].file
    assert JOB.pm not in _page_text(pdf_path, 0)
    assert _page_text(pdf_path, 1).strip() == ""
    assert "DAILY STATEMENT" in _page_text(pdf_path, 2)
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        assert [(pdf[i].get_rotation(), round(pdf[i].get_width())) for i in (2, 3)] == [(90, 792), (90, 792)]
    finally:
        pdf.close()
    assert JOB.pm in _form_values(pdf_path)


def _form_values(path: Path) -> list[str]:
    from pypdf import PdfReader

    fields = PdfReader(str(path)).get_fields() or {}
    return [str(f.get("/V")) for f in fields.values() if f.get("/V")]


@pytest.mark.skipif(pb.symbol_font() is None, reason="no font with ☐/☒ glyphs on this machine")
def test_glyph_boxes_are_text(tmp_path: Path) -> None:
    package = pb.write_package(tmp_path, [pb.ec_tag(JOB, pb.SYNONYMS, pages=1)])
    text = _page_text(tmp_path / package.placed[0].file, 0)
    assert "☒" in text and "☐" in text and "[X]" not in text


def test_truth_follows_the_readme_rules(tmp_path: Path) -> None:
    docs = pb.clean_package(JOB, pb.CORPUS, "estimated", extra=["crew_materials", "photos"])
    docs = [d for d in docs if d.doc_type != "equipment_info"]  # missing required
    docs[1] = pb.face_sheet(JOB, missing={"date"})
    docs.insert(2, docs[1].copy())  # duplicate face sheet (its blank is reported once)
    odd = next(i for i, d in enumerate(docs) if d.doc_type == "crew_materials")
    docs[odd] = pb.crew_materials(replace(JOB, pm="35589045"))
    docs.append(pb.scanned(pb.photos(JOB, pages=1)))  # a second photos document, scanned
    package = pb.write_package(tmp_path / "pkg-900", docs, "parts")
    truth = pb.Truth("estimated", generator={"style": "test"}).build(package)
    assert set(truth) == {"package", "work_type", "pm_number", "notification_number", "verdict", "pages",
                          "documents", "findings", "generator"}  # fmt: skip
    assert (truth["package"], truth["pm_number"], truth["verdict"]) == ("pkg-900", JOB.pm, "fail")
    codes = sorted((f["code"], f["doc_type"], f["field"]) for f in truth["findings"])
    assert codes == [
        ("DUPLICATE_DOC", "face_sheet", None),
        ("ID_MISMATCH", "crew_materials", "pm_number"),
        ("MISSING_FIELD", "face_sheet", "date"),
        ("MISSING_REQUIRED_DOC", "equipment_info", None),
    ]  # the scanned photo sheet is legible: read by OCR, not UNREADABLE_PAGE
    assert len(truth["pages"]) == sum(len(d.pages) for d in docs)
    assert [d["doc_type"] for d in truth["documents"]] == [d.doc_type for d in docs]


def test_stress_set_generator(tmp_path: Path) -> None:
    from tests.services.verify import stress

    out = tmp_path / "stress"
    truths = stress.generate(out, 3, seed=7)
    assert sorted(p.name for p in out.iterdir()) == [
        "pkg-001", "pkg-001.truth.json", "pkg-002", "pkg-002.truth.json", "pkg-003", "pkg-003.truth.json",
    ]  # fmt: skip
    for truth in truths:
        types = {p["doc_type"] for p in truth["pages"]}
        estimated = bool(types & {"face_sheet", "progress_billing"})
        assert truth["work_type"] == ("estimated" if estimated else "ec_corrective")
        assert 6 <= len(truth["pages"]) <= 30
        assert json.loads((out / f"{truth['package']}.truth.json").read_text(encoding="utf-8")) == truth

"""Package verification vocabulary and results: pages, documents, findings, the report.

Plain data shared by extraction, classification, checks, the report exports, the CLI and the
Packages view. Coordinates are PDF points in the page *as displayed* (rotation applied), with the
origin at the top left and y growing downwards.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

#: Every document type id (domain.md "Product decisions"); ``other`` covers everything else.
DOC_TYPES: tuple[str, ...] = (
    "ec_tag",
    "face_sheet",
    "crew_instructions",
    "crew_materials",
    "equipment_info",
    "construction_feedback",
    "construction_sketch",
    "circuit_map_change",
    "permit",
    "traffic_control_plan",
    "job_package_checklist",
    "unit_price_completion",
    "progress_billing",
    "paving_form",
    "cwc",
    "ccsc",
    "photos",
    "field_verification_cert",
    "lme",
    "pole_bill",
    "tailboard",
    "other",
)

DOC_TYPE_TITLES: dict[str, str] = {
    "ec_tag": "EC tag",
    "face_sheet": "Face sheet",
    "crew_instructions": "Crew instructions",
    "crew_materials": "Crew materials",
    "equipment_info": "Equipment / pole information",
    "construction_feedback": "Construction feedback",
    "construction_sketch": "Construction sketch",
    "circuit_map_change": "Circuit map change sheet",
    "permit": "Permit",
    "traffic_control_plan": "Traffic control plan",
    "job_package_checklist": "Job package checklist",
    "unit_price_completion": "Unit price completion form",
    "progress_billing": "Progress billing form",
    "paving_form": "Paving form",
    "cwc": "Contractor work checklist (CWC)",
    "ccsc": "Completion standards checklist (CCSC)",
    "photos": "Photos",
    "field_verification_cert": "Field verification certification",
    "lme": "Labor, material and equipment (LME)",
    "pole_bill": "Pole bill",
    "tailboard": "Tailboard / JHA",
    "other": "Other",
}

WORK_TYPES: tuple[str, ...] = ("estimated", "ec_corrective")


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Verdict(StrEnum):
    PASS = "pass"
    REVIEW = "review"
    FAIL = "fail"


class FindingCode(StrEnum):
    MISSING_REQUIRED_DOC = "MISSING_REQUIRED_DOC"
    OUT_OF_ORDER = "OUT_OF_ORDER"
    ID_MISMATCH = "ID_MISMATCH"
    MISSING_SIGNATURE = "MISSING_SIGNATURE"
    MISSING_FIELD = "MISSING_FIELD"
    SAFETY_ITEM_UNCHECKED = "SAFETY_ITEM_UNCHECKED"
    SKETCH_NO_MARKUP = "SKETCH_NO_MARKUP"
    UNREADABLE_PAGE = "UNREADABLE_PAGE"
    DUPLICATE_DOC = "DUPLICATE_DOC"
    FILE_ERROR = "FILE_ERROR"


# --------------------------------------------------------------------------- page content


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in displayed-page points, origin top left."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True, slots=True)
class TextLine:
    """One visual line of text (words left to right) and where it sits; ``xs``, when extraction
    was asked for it, is the horizontal centre of each character of ``text``."""

    text: str
    box: Box
    xs: tuple[float, ...] = ()


MarkKind = Literal["ink", "image", "annotation"]
#: ``Mark.subtype`` of ink that outlines a box, a cell or a frame (a closed path of straight
#: axis-aligned sides, or on a scan a hollow square), as opposed to a stroke (a tick, a signature).
OUTLINE = "outline"
MarkColour = Literal["red", "blue", "black", "other"]


@dataclass(frozen=True, slots=True)
class Mark:
    """Something drawn on the page that is not text: stroked paths (ink), images, annotations."""

    kind: MarkKind
    box: Box
    colour: MarkColour = "other"
    #: Annotation subtype (``Ink``, ``FreeText``, ``Stamp``…); for page content :data:`OUTLINE` or "".
    subtype: str = ""
    #: Text carried by an annotation (FreeText contents, stamp name), if any.
    text: str = ""


FormValueKind = Literal["text", "checkbox", "signature"]


@dataclass(frozen=True, slots=True)
class FormValue:
    """An AcroForm widget's value: filled text fields, check boxes (``"on"``/``"off"``), signed
    signature fields. Fillable forms may carry their values only here."""

    name: str
    value: str
    kind: FormValueKind
    box: Box | None = None


TextSource = Literal["text", "ocr", "none"]


@dataclass(slots=True)
class PageContent:
    """What extraction found on one page."""

    file: str  # relative to the package folder, '/' separators
    page: int  # 1-based within the file
    width: float
    height: float
    rotation: int = 0
    lines: list[TextLine] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    form_values: list[FormValue] = field(default_factory=list)
    source: TextSource = "text"
    #: Whether the PDF page itself carries text (a scan does not, even when OCR reads it).
    text_layer: bool = True
    #: Clockwise turn applied on top of the PDF's /Rotate to read the page upright (see PageLabel.turn).
    turn: int = 0

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def readable(self) -> bool:
        return self.source != "none" and any(line.text.strip() for line in self.lines)


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A file of the package that could not be read (or only partly), in words a PM understands."""

    file: str
    kind: str  # not_pdf | empty | encrypted | damaged | too_many_pages | timeout | too_much_memory
    message: str


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class PageRef:
    file: str
    page: int


@dataclass(slots=True)
class PageLabel:
    """A page's document type, how sure we are, and why."""

    file: str
    page: int
    doc_type: str
    confidence: float
    source: TextSource = "text"
    #: The runner-up type and its score, shown in "Needs review".
    alternative: str = ""
    reason: str = ""
    #: Clockwise quarter turn (0/90/180/270) that shows the page upright, on top of the PDF's own
    #: /Rotate: a page scanned or saved sideways is read upright and shown upright.
    turn: int = 0

    @property
    def ref(self) -> PageRef:
        return PageRef(self.file, self.page)


@dataclass(slots=True)
class Document:
    """Consecutive pages of one file and one type."""

    doc_type: str
    file: str
    start_page: int
    end_page: int

    @property
    def pages(self) -> list[PageRef]:
        return [PageRef(self.file, n) for n in range(self.start_page, self.end_page + 1)]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a check read on a page, and the region (upright page points) it looked at."""

    page: PageRef
    snippet: str
    box: Box | None = None


@dataclass(slots=True)
class Finding:
    code: str
    severity: str
    doc_type: str | None
    field: str | None
    pages: list[PageRef]
    message: str
    evidence: list[Evidence] = dataclasses.field(default_factory=list)
    #: How sure the check is (0–1). Below the profile's finding threshold the finding is withheld
    #: from the verdict and its page goes to the review list instead.
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A page a person should look at, and why (an unsure page type, or weak evidence)."""

    page: PageRef
    reason: str


@dataclass(slots=True)
class Report:
    """The verification report: what `nexa verify --json` prints and the Packages view shows."""

    package: str
    work_type: str
    work_type_inferred: bool
    pm_number: str | None
    notification_number: str | None
    pages: list[PageLabel]
    documents: list[Document]
    findings: list[Finding]
    file_problems: list[FileProblem] = field(default_factory=list)
    review_threshold: float = 0.6
    seconds: float = 0.0
    #: Findings whose evidence was too weak to reject a package on: their pages are on the review
    #: list, and they do not count towards the verdict.
    withheld: list[Finding] = field(default_factory=list)
    #: Absolute path of the package (folder or single PDF) the report was made from.
    root: str = ""

    @property
    def verdict(self) -> Verdict:
        """From the findings (the contract); a package that would pass but has findings held back
        for review is "review", never a clean pass."""
        verdict = verdict_of(self.findings)
        if verdict == Verdict.PASS and self.withheld:
            return Verdict.REVIEW
        return verdict

    @property
    def needs_review(self) -> list[PageLabel]:
        """Pages whose type we are unsure of."""
        return [p for p in self.pages if p.confidence < self.review_threshold]

    @property
    def review(self) -> list[ReviewItem]:
        """Every page a person should look at, once, with the reasons: an unsure type, weak evidence."""
        reasons: dict[PageRef, list[str]] = {}
        for p in self.needs_review:
            other = f" or {DOC_TYPE_TITLES.get(p.alternative, p.alternative)}" if p.alternative else ""
            reasons.setdefault(p.ref, []).append(
                f"page type unsure: {DOC_TYPE_TITLES.get(p.doc_type, p.doc_type)}{other} "
                f"({p.confidence:.0%} sure)"
            )
        for f in self.withheld:
            for ref in f.pages[:1]:
                reasons.setdefault(ref, []).append(f"weak evidence ({f.confidence:.0%} sure): {f.message}")
        return [ReviewItem(ref, "; ".join(rs)) for ref, rs in reasons.items()]

    def to_json(self) -> dict[str, Any]:
        """The CLI contract (issue 3), plus extra keys consumers may ignore."""
        return {
            "package": self.package,
            "work_type": self.work_type,
            "pm_number": self.pm_number,
            "notification_number": self.notification_number,
            "pages": [
                {
                    "file": p.file,
                    "page": p.page,
                    "doc_type": p.doc_type,
                    "confidence": round(p.confidence, 3),
                    "turn": p.turn,
                }
                for p in self.pages
            ],
            "documents": [asdict(d) for d in self.documents],
            "findings": [
                {
                    "code": f.code,
                    "severity": f.severity,
                    "doc_type": f.doc_type,
                    "field": f.field,
                    "pages": [{"file": r.file, "page": r.page} for r in f.pages],
                    "message": f.message,
                    "confidence": round(f.confidence, 3),
                    "evidence": [_evidence_json(e) for e in f.evidence],
                }
                for f in self.findings
            ],
            "verdict": self.verdict.value,
            "work_type_inferred": self.work_type_inferred,
            "file_problems": [asdict(p) for p in self.file_problems],
            "needs_review": [
                {"file": r.page.file, "page": r.page.page, "reason": r.reason} for r in self.review
            ],
            "withheld_findings": [
                {
                    "code": f.code,
                    "doc_type": f.doc_type,
                    "field": f.field,
                    "pages": [{"file": r.file, "page": r.page} for r in f.pages],
                    "message": f.message,
                    "confidence": round(f.confidence, 3),
                    "evidence": [_evidence_json(e) for e in f.evidence],
                }
                for f in self.withheld
            ],
            "seconds": round(self.seconds, 3),
        }


def _evidence_json(e: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {"file": e.page.file, "page": e.page.page, "snippet": e.snippet}
    if e.box is not None:
        out["box"] = [round(v, 1) for v in (e.box.x0, e.box.y0, e.box.x1, e.box.y1)]
    return out


def verdict_of(findings: list[Finding]) -> Verdict:
    """fail on any error, review on any warning, else pass."""
    if any(f.severity == Severity.ERROR for f in findings):
        return Verdict.FAIL
    if findings:
        return Verdict.REVIEW
    return Verdict.PASS

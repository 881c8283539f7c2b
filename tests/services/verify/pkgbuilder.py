"""Build job-package PDFs for the verification tests: one function per document type, a ``Style`` that moves
wording and layout away from the sample corpus, ``write_package`` and a ``Truth`` builder that writes the
corpus truth JSON shape.

Every document builder returns a :class:`Doc`: its pages (drawn with reportlab, then post-processed with
pypdf for form fields, annotations and ``/Rotate``, or rasterised into a scan) and what a correct verifier
must report about it (the page holding each blank field, the identifiers it prints). ``Truth`` derives the
package-level findings (required documents, order, identifiers, duplicates) from the README's rules.
"""

from __future__ import annotations

import io
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import FreeText
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

Size = tuple[float, float]
LETTER: Size = (612.0, 792.0)
LEGAL: Size = (612.0, 1008.0)
LETTER_LANDSCAPE: Size = (792.0, 612.0)
TABLOID_LANDSCAPE: Size = (1224.0, 792.0)

# fmt: off
CANONICAL_ORDER: tuple[str, ...] = (
    "pole_bill", "ec_tag", "face_sheet", "crew_instructions", "crew_materials", "equipment_info",
    "construction_feedback", "construction_sketch", "circuit_map_change", "permit", "traffic_control_plan",
    "job_package_checklist", "unit_price_completion", "progress_billing", "paving_form", "cwc", "lme",
    "tailboard", "field_verification_cert", "ccsc", "photos",
)
REQUIRED: dict[str, tuple[str, ...]] = {
    "estimated": (
        "ec_tag", "face_sheet", "equipment_info", "construction_sketch", "ccsc", "progress_billing",
    ),
    "ec_corrective": ("ec_tag", "equipment_info", "construction_sketch", "ccsc"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "estimated": (
        "paving_form", "permit", "traffic_control_plan", "crew_instructions", "crew_materials",
        "unit_price_completion", "cwc", "construction_feedback", "circuit_map_change",
        "job_package_checklist", "field_verification_cert", "lme", "tailboard", "photos", "pole_bill",
    ),
    "ec_corrective": (
        "progress_billing", "unit_price_completion", "cwc", "crew_instructions", "crew_materials",
        "field_verification_cert", "photos", "lme", "tailboard",
    ),
}
# fmt: on
SEVERITY: dict[str, str] = {
    "MISSING_REQUIRED_DOC": "error",
    "OUT_OF_ORDER": "warning",
    "ID_MISMATCH": "error",
    "MISSING_SIGNATURE": "error",
    "MISSING_FIELD": "error",
    "SAFETY_ITEM_UNCHECKED": "error",
    "SKETCH_NO_MARKUP": "error",
    "UNREADABLE_PAGE": "warning",
    "DUPLICATE_DOC": "warning",
}
SAFETY_CRITICAL: dict[str, tuple[int, ...]] = {
    "OH": (1, 2, 4, 13, 14, 17, 18, 21, 24, 25),
    "UG": (1, 2, 9, 12, 15),
}
#: The checked fields and signatures of each form (README table): field -> "value" | "choice" | "signature".
CHECKED_FIELDS: dict[str, dict[str, str]] = {
    "ec_tag": {"lan_id": "value", "complete_date": "value", "status": "choice", "signature": "signature"},
    "face_sheet": {
        "foreman_lan_id": "value",
        "date": "value",
        "built_as_designed_or_redlined": "choice",
        "foreman_signature": "signature",
    },
    "ccsc": {
        "pm_number": "value",
        "location_number": "value",
        "crew_lead_name": "value",
        "lan_id": "value",
        "date": "value",
        "crew_lead_signature": "signature",
    },
    "progress_billing": {
        "pm_number": "value",
        "notification_number": "value",
        "printed_name": "value",
        "contractor_rep_signature": "signature",
    },
    "field_verification_cert": {
        "name": "value",
        "lan_id": "value",
        "pm_number": "value",
        "date": "value",
        "signature": "signature",
    },
}

# --------------------------------------------------------------------------- style

BoxStyle = Literal["brackets", "glyphs", "checks"]
SignatureStyle = Literal["typed", "ink", "image", "x"]


@dataclass(frozen=True)
class Style:
    """How pages look. ``Style()`` imitates the sample corpus; every knob moves away from it."""

    name: str = "corpus"
    #: 0 = the corpus's titles; 1, 2… pick other synonyms (see ``TITLES``).
    titles: int = 0
    #: 0 = the corpus's labels; 1, 2… pick other spellings ("PM #", "PM/Order No.", "Order Number"…).
    labels: int = 0
    #: "inline": ``Label: value``; "column": label, then the value in a column to its right.
    layout: Literal["inline", "column"] = "inline"
    #: Sign-off blocks: "above": value or signature above its label (corpus); "right": beside it.
    block: Literal["above", "right"] = "above"
    boxes: BoxStyle = "brackets"
    signature: SignatureStyle = "typed"
    #: Empty fields and unsigned lines: a run of underscores (corpus) or a drawn rule with no text.
    blanks: Literal["underscores", "rules"] = "underscores"
    font: str = "Helvetica"
    page: Literal["letter", "legal"] = "letter"
    noise: frozenset[str] = frozenset()  # "fax", "copy", "stamp"
    company: bool = True  # the "PACIFIC GAS AND ELECTRIC COMPANY" header line
    footer: bool = True  # "Page i of n"
    #: Values typed into AcroForm fields (filled with pypdf), not into the page content.
    fillable: bool = False

    @property
    def size(self) -> Size:
        return LEGAL if self.page == "legal" else LETTER

    @property
    def colon(self) -> str:
        return ":" if self.layout == "inline" else ""


CORPUS = Style()
#: Other titles and label spellings, ☒/☐ boxes, ink signatures, Times, legal paper, fax header and COPY mark.
SYNONYMS = Style(
    name="synonyms",
    titles=1,
    labels=1,
    boxes="glyphs",
    signature="ink",
    font="Times-Roman",
    page="legal",
    noise=frozenset({"fax", "copy"}),
)
#: Values in a column to the right of their labels, signatures beside labels, pasted image signatures,
#: drawn rules for blanks, ✓/☐ boxes, Courier, a received stamp, no company header or page footer.
COLUMNS = Style(
    name="columns",
    titles=2,
    labels=2,
    layout="column",
    block="right",
    boxes="checks",
    signature="image",
    blanks="rules",
    font="Courier",
    noise=frozenset({"stamp"}),
    company=False,
    footer=False,
)
#: Values only in filled AcroForm fields.
FILLABLE = Style(name="fillable", labels=3, fillable=True, signature="ink")

PRESETS: dict[str, Style] = {s.name: s for s in (CORPUS, SYNONYMS, COLUMNS, FILLABLE)}


def _pick(options: Sequence[str], index: int) -> str:
    return options[index % len(options)]


#: Title synonyms per type; index 0 is what the corpus prints.
TITLES: dict[str, tuple[str, ...]] = {
    "ec_tag": ("ELECTRIC OVERHEAD TAG", "ELECTRIC UNDERGROUND TAG", "EC TAG", "Electric Corrective Tag"),
    "face_sheet": ("CONTRACTOR FACE SHEET", "JOB FACE SHEET", "Face Sheet - Estimated Job"),
    "crew_instructions": ("CREW INSTRUCTIONS", "INSTRUCTIONS TO CREW", "Job Instructions"),
    "crew_materials": ("CREW MATERIALS - Material List", "MATERIAL LIST", "Bill of Materials"),
    "equipment_info": ("ELECTRIC EQUIPMENT/POLE INFORMATION", "POLE INFORMATION", "Equipment Information"),
    "construction_feedback": ("CONSTRUCTION FEEDBACK FORM", "FEEDBACK TO ESTIMATING", "Field Feedback"),
    "construction_sketch": ("CONSTRUCTION DRAWING", "AS-BUILT SKETCH", "Job Sketch"),
    "circuit_map_change": ("CIRCUIT MAP CHANGE SHEET", "MAP CHANGE SHEET", "Circuit Map Correction"),
    "permit": ("ENCROACHMENT PERMIT", "STREET OPENING PERMIT", "Right-of-Way Permit"),
    "traffic_control_plan": ("TRAFFIC CONTROL PLAN", "TEMPORARY TRAFFIC CONTROL", "Lane Closure Plan"),
    "job_package_checklist": (
        "ELECTRIC JOB PACKAGE CHECKLIST",
        "AS-BUILT PACKAGE CHECKLIST",
        "Document Checklist",
    ),
    "unit_price_completion": (
        "DISTRIBUTION UNIT PRICE COMPLETION FORM - EXHIBIT B",
        "UNIT PRICE COMPLETION FORM",
        "Exhibit B - Unit Completion Form",
    ),
    "progress_billing": (
        "POLE REPLACEMENT PROGRESS BILLING / PROJECT COMPLETION FORM",
        "PROJECT COMPLETION FORM",
        "Progress Billing",
    ),
    "paving_form": ("FIELD PAVING FORM", "PAVING & RESTORATION", "Restoration Form"),
    "cwc": (
        "CONTRACTOR WORK CHECKLIST",
        "CWC - CONTRACTOR WORK CHECK LIST",
        "Contractor Work Checklist (CWC)",
    ),
    "ccsc": (
        "DISTRIBUTION CONSTRUCTION COMPLETION STANDARDS CHECKLIST (CCSC)",
        "CONSTRUCTION COMPLETION STANDARDS CHECKLIST",
        "Completion Standards Checklist - TD-2504P-01-F01",
    ),
    "photos": ("SITE PHOTOGRAPHS", "PHOTO LOG", "Job Photos"),
    "field_verification_cert": (
        "FIELD VERIFICATION CERTIFICATION SHEET",
        "FIELD VERIFICATION CERTIFICATION",
        "Field Verification Certification Sheet",
    ),
    "lme": (
        "DAILY STATEMENT OF LABOR, MATERIAL AND EQUIPMENT",
        "LME - LABOR, MATERIAL & EQUIPMENT",
        "Daily LME",
    ),
    "pole_bill": ("NEW BUSINESS POLE BILL", "POLE BILL", "NB/WRO Pole Bill"),
    "tailboard": ("TAILBOARD / JOB HAZARD ANALYSIS", "JHA", "Tailboard Briefing"),
}
PM_LABELS = ("PM/Order #", "PM #", "PM/Order No.", "Order Number", "PM Number")
NOTIF_LABELS = ("Notification #", "Notif. No.", "Notification No.", "Notification Number")
#: Label spellings of the checked fields, per form and field; index 0 is the corpus's.
FIELD_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "ec_tag": {
        "lan_id": ("LAN ID", "LAN-ID", "Lan Id"),
        "complete_date": ("Complete/Cancel Date", "Date Completed", "Completion Date"),
        "status": ("Status", "Status", "Job Status"),
        "signature": ("Signature", "Crew Signature", "Completed By Signature"),
        "heading": ("COMPLETED OR CANCELED IN FIELD", "FIELD COMPLETION", "Close Out - Completed/Canceled"),
    },
    "face_sheet": {
        "foreman_signature": ("Foreman Signature", "Construction Foreman Signature", "Signature of Foreman"),
        "foreman_lan_id": ("Foreman LAN ID", "Foreman LAN-ID", "Construction Foreman LAN ID"),
        "date": ("Date", "Date Signed", "Date"),
        "heading": ("CONSTRUCTION FOREMAN SIGN-OFF", "FOREMAN SIGN OFF", "Construction Foreman Sign-Off"),
        "built": ("Built as Designed", "As Designed", "Built As Designed"),
        "redlined": ("Redlined", "Red-Lined", "Redlined"),
    },
    "ccsc": {
        "location_number": ("Location #", "Loc. No.", "Location Number"),
        "crew_lead_name": ("Crew Lead Name", "Crew Lead (Print)", "Name of Crew Lead"),
        "lan_id": ("LAN ID", "Crew Lead LAN ID", "LAN-ID"),
        "date": ("Date", "Date Completed", "Date"),
        "crew_lead_signature": ("Crew Lead Signature", "Signature of Crew Lead", "Crew Leader Signature"),
    },
    "progress_billing": {
        "printed_name": (
            "Contractor Representative Printed Name",
            "Printed Name",
            "Contractor Rep. Name (Print)",
        ),
        "contractor_rep_signature": (
            "Contractor Representative Signature",
            "Contractor Rep. Signature",
            "Signature of Contractor Representative",
        ),
    },
    "field_verification_cert": {
        "name": ("Name", "Printed Name", "Field Verifier Name"),
        "lan_id": ("LAN ID", "LAN-ID", "Field Verifier LAN ID"),
        "date": ("Date Field Verified", "Date Verified", "Date"),
        "signature": ("Qualified Professional's Signature", "Field Verifier Signature", "Signature"),
    },
}


def field_label(doc_type: str, name: str, style: Style) -> str:
    return _pick(FIELD_LABELS[doc_type][name], style.labels)


# --------------------------------------------------------------------------- fonts


@cache
def symbol_font() -> str | None:
    """A registered TrueType font with ☐ ☒ ✓ glyphs, or None where the machine has none."""
    candidates = [
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
        Path("/Library/Fonts/Arial Unicode.ttf"),
        Path("C:/Windows/Fonts/seguisym.ttf"),
    ]
    for path in candidates:
        if path.is_file():
            try:
                pdfmetrics.registerFont(TTFont("NexaTestSymbols", str(path)))
            except Exception:  # a font that reportlab cannot read is just not used
                continue
            return "NexaTestSymbols"
    return None


_BOLD = {"Helvetica": "Helvetica-Bold", "Times-Roman": "Times-Bold", "Courier": "Courier-Bold"}
#: Placeholders in page text for check boxes, replaced by the style's glyphs when drawn.
TICK = "\x01"
EMPTY = "\x02"


def box(ticked: bool) -> str:
    return TICK if ticked else EMPTY


# --------------------------------------------------------------------------- the pen


@dataclass
class Pen:
    """Draws one page top-down with a cursor; keeps the AcroForm fields to fill and annotations to add."""

    c: Any
    style: Style
    width: float
    height: float
    y: float = 0.0
    margin: float = 42.0
    size: float = 9.5
    #: Prefix of the AcroForm field names drawn on this page (names are unique per file).
    prefix: str = ""
    form_values: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.y = self.height - 48

    # -- text
    def _glyphs(self, ticked: bool) -> tuple[str, str | None]:
        if self.style.boxes == "brackets":
            return ("[X]" if ticked else "[ ]"), None
        font = symbol_font()
        if font is None:
            return ("[X]" if ticked else "[ ]"), None
        if self.style.boxes == "glyphs":
            return ("☒" if ticked else "☐"), font
        return ("✓" if ticked else "☐"), font

    def text(
        self,
        x: float,
        y: float,
        s: str,
        *,
        size: float | None = None,
        bold: bool = False,
        colour: tuple[float, float, float] = (0, 0, 0),
    ) -> float:
        """Draw ``s`` at (x, y) from the bottom left; returns the x where it ends. Box placeholders become
        the style's check boxes."""
        size = size or self.size
        font = _BOLD.get(self.style.font, self.style.font) if bold else self.style.font
        self.c.setFillColorRGB(*colour)
        for part in re.split(f"([{TICK}{EMPTY}])", s):
            if not part:
                continue
            if part in (TICK, EMPTY):
                glyph, glyph_font = self._glyphs(part == TICK)
                use = glyph_font or font
            else:
                glyph, use = part, font
            self.c.setFont(use, size)
            self.c.drawString(x, y, glyph)
            x += pdfmetrics.stringWidth(glyph, use, size)
        self.c.setFillColorRGB(0, 0, 0)
        return x

    def line(
        self,
        s: str = "",
        *,
        size: float | None = None,
        bold: bool = False,
        x: float | None = None,
        gap: float = 1.55,
    ) -> None:
        size = size or self.size
        if s:
            self.text(self.margin if x is None else x, self.y, s, size=size, bold=bold)
        self.y -= size * gap

    def skip(self, points: float) -> None:
        self.y -= points

    def title(self, s: str, *, size: float = 13) -> None:
        self.line(s, size=size, bold=True, gap=1.5)

    def header(self, doc_type: str, right: str = "") -> None:
        """Company line (if the style prints it) and the document title."""
        if self.style.company:
            self.text(self.margin, self.y, "PACIFIC GAS AND ELECTRIC COMPANY", size=8.5, bold=True)
            if right:
                self.text(self.width - self.margin - 90, self.y, right, size=8.5)
            self.y -= 16
        self.title(title_of(doc_type, self.style))

    # -- fields
    def form_text(self, name: str, x: float, y: float, width: float, value: str | None) -> None:
        """An AcroForm text field at (x, y); ``value`` is filled in later with pypdf."""
        full = self.prefix + name
        self.c.acroForm.textfield(
            name=full,
            x=x,
            y=y - 4,
            width=width,
            height=14,
            borderWidth=0.5,
            value="",
            fontSize=9,
            forceBorder=False,
        )
        if value:
            self.form_values[full] = value

    def form_check(self, name: str, x: float, y: float, ticked: bool, *, button: str = "cross") -> None:
        """An AcroForm check box at (x, y), ticked later with pypdf."""
        full = self.prefix + name
        self.c.acroForm.checkbox(
            name=full, x=x, y=y - 2, size=9, checked=False, buttonStyle=button, borderWidth=0.6
        )
        if ticked:
            self.form_values[full] = "/Yes"

    def blank(self, x: float, y: float, width: float = 110) -> None:
        """An empty field: underscores or a drawn rule."""
        if self.style.blanks == "underscores":
            n = max(6, int(width / pdfmetrics.stringWidth("_", self.style.font, self.size)))
            self.text(x, y, "_" * n)
        else:
            self.c.setLineWidth(0.6)
            self.c.line(x, y - 1.5, x + width, y - 1.5)

    def field_at(
        self, x: float, y: float, label: str, value: str | None, *, width: float = 110, name: str = ""
    ) -> float:
        """``label`` and its value (``None``: blank) at (x, y); returns where the field ends."""
        shown = f"{label}{self.style.colon}"
        end = self.text(x, y, shown)
        vx = end + 4 if self.style.layout == "inline" else x + max(150.0, end - x + 24)
        if self.style.fillable and name:
            self.form_text(name, vx, y, width, value)
            return vx + width
        if value:
            return self.text(vx, y, value)
        self.blank(vx, y, width)
        return vx + width

    def fields(self, pairs: Sequence[tuple[str, str | None]], *, names: Sequence[str] = ()) -> None:
        """Several fields: side by side on one row (inline layout) or one per row (column layout)."""
        if self.style.layout == "inline":
            step = (self.width - 2 * self.margin) / max(1, len(pairs))
            for i, (label, value) in enumerate(pairs):
                name = names[i] if i < len(names) else ""
                self.field_at(
                    self.margin + i * step, self.y, label, value, width=min(110.0, step * 0.45), name=name
                )
            self.y -= self.size * 1.7
        else:
            for i, (label, value) in enumerate(pairs):
                name = names[i] if i < len(names) else ""
                self.field_at(self.margin, self.y, label, value, name=name)
                self.y -= self.size * 1.8

    def options(self, label: str, opts: Sequence[tuple[str, bool]], *, name_prefix: str = "") -> None:
        """``Label: [X] A [ ] B`` (or check box form fields with a fillable style)."""
        x = self.text(self.margin, self.y, f"{label}:" if label else "")
        x += 6
        for opt, ticked in opts:
            if self.style.fillable and name_prefix:
                self.form_check(f"{name_prefix} {opt}", x, self.y, ticked)
                x = self.text(x + 12, self.y, opt) + 10
            else:
                x = self.text(x, self.y, f"{box(ticked)} {opt}") + 10
        self.y -= self.size * 1.8

    def signature_mark(self, x: float, y: float, name: str, *, kind: SignatureStyle | None = None) -> None:
        """A signature whose baseline is ``y``: typed, an X, drawn ink strokes or a pasted image."""
        kind = kind or self.style.signature
        if kind == "typed":
            self.text(x, y, f"/s/ {short_name(name)}")
        elif kind == "x":
            self.text(x, y, "X")
        elif kind == "ink":
            draw_ink_signature(self.c, x, y, seed=len(name), blue=len(name) % 2 == 0)
        else:
            self.c.drawImage(signature_image(len(name)), x, y - 2, width=92, height=22, mask="auto")

    def _block_rows(
        self, items: Sequence[tuple[str, str, str | None]]
    ) -> list[list[tuple[int, float, float]]]:
        """Columns (item index, x, width) of a sign-off block, each wide enough for its label; rows wrap."""
        available = self.width - 2 * self.margin
        natural = [
            max(120.0, pdfmetrics.stringWidth(label, self.style.font, 8) + 28) for label, _, _ in items
        ]
        rows: list[list[int]] = [[]]
        for i, width in enumerate(natural):
            if rows[-1] and sum(natural[j] for j in rows[-1]) + width > available:
                rows.append([])
            rows[-1].append(i)
        out = []
        for row in rows:
            extra = (available - sum(natural[j] for j in row)) / len(row)
            x = self.margin
            columns = []
            for j in row:
                columns.append((j, x, natural[j] + extra))
                x += natural[j] + extra
            out.append(columns)
        return out

    def sign_block(self, items: Sequence[tuple[str, str, str | None]], *, names: Sequence[str] = ()) -> None:
        """A sign-off block of (label, kind "sig"/"value", value or None when blank).

        "above": values side by side on one row with their labels underneath (the corpus);
        "right": one item per row, the value or signature beside its label.
        """
        if self.style.block == "above":
            for row in self._block_rows(items):
                value_y = self.y - 16
                label_y = value_y - 14
                for i, x, width in row:
                    label, kind, value = items[i]
                    name = names[i] if i < len(names) else ""
                    blank_width = min(width - 16, 150.0)
                    if kind == "sig":
                        if value:
                            self.signature_mark(x + 2, value_y + 1, value)
                        else:
                            self.blank(x, value_y, blank_width)
                    elif self.style.fillable and name:
                        self.form_text(name, x, value_y, blank_width, value)
                    elif value:
                        self.text(x + 2, value_y, value)
                    else:
                        self.blank(x, value_y, blank_width)
                    self.text(x, label_y, label, size=8)
                self.y = label_y - 22
        else:
            for i, (label, kind, value) in enumerate(items):
                name = names[i] if i < len(names) else ""
                if kind == "sig":
                    self.y -= 12  # room for the signature above the baseline
                    end = self.text(self.margin, self.y, f"{label}{self.style.colon}")
                    vx = self.margin + max(150.0, end - self.margin + 24)
                    if value:
                        self.signature_mark(vx, self.y, value)
                    else:
                        self.blank(vx, self.y, 140)
                    self.y -= 22
                else:
                    self.field_at(self.margin, self.y, label, value, name=name)
                    self.y -= self.size * 1.9

    # -- page furniture
    def footer(self, index: int, count: int, form: str = "") -> None:
        if not self.style.footer:
            return
        text = f"{form}  Page {index} of {count}".strip() if form else f"Page {index} of {count}"
        self.text(self.margin, 30, text, size=7.5)

    def noise(self, page_no: int) -> None:
        if "fax" in self.style.noise:
            self.text(
                self.margin,
                self.height - 16,
                f"FROM: SIERRA LINE CONST (209) 555-0142   NOV-21-2025 08:14   #4471   P.{page_no:03d}",
                size=7,
            )
        if "stamp" in self.style.noise:
            x0, y0 = self.width - 170, self.height - 92
            self.c.setStrokeColorRGB(0.5, 0.2, 0.6)
            self.c.setLineWidth(1.4)
            self.c.rect(x0, y0, 128, 40)
            self.text(x0 + 14, y0 + 24, "RECEIVED", size=11, bold=True, colour=(0.5, 0.2, 0.6))
            self.text(x0 + 22, y0 + 9, "NOV 24 2025", size=9, colour=(0.5, 0.2, 0.6))
            self.c.setStrokeColorRGB(0, 0, 0)
        if "copy" in self.style.noise:
            self.c.saveState()
            self.c.setFillColorRGB(0.82, 0.82, 0.82)
            self.c.setFont(_BOLD.get(self.style.font, "Helvetica-Bold"), 96)
            self.c.translate(self.width / 2, self.height / 2)
            self.c.rotate(40)
            self.c.drawCentredString(0, 0, "COPY")
            self.c.restoreState()


def title_of(doc_type: str, style: Style) -> str:
    return _pick(TITLES[doc_type], style.titles)


def short_name(name: str) -> str:
    first, _, last = name.partition(" ")
    return f"{first[:1]}. {last}" if last else name


def draw_ink_signature(c: Any, x: float, y: float, *, seed: int = 0, blue: bool = True) -> None:
    """A handwritten-looking signature: a few bezier strokes about 100 x 18 points above ``y``."""
    rnd = random.Random(seed)
    c.saveState()
    c.setStrokeColorRGB(0.05, 0.15, 0.7) if blue else c.setStrokeColorRGB(0.05, 0.05, 0.05)
    c.setLineWidth(1.1)
    px, py = x, y + 4
    for _ in range(4):
        nx, ny = px + rnd.uniform(18, 30), y + rnd.uniform(1, 16)
        c.bezier(px, py, px + 6, py + rnd.uniform(6, 14), nx - 6, ny - rnd.uniform(6, 14), nx, ny)
        px, py = nx, ny
    c.line(x + 4, y + 2, px, y + 5)
    c.restoreState()


@cache
def _signature_png(seed: int) -> bytes:
    rnd = random.Random(seed)
    image = Image.new("RGB", (368, 88), "white")
    draw = ImageDraw.Draw(image)
    points = [(10 + i * 22, 44 + int(30 * math.sin(i * 1.3 + rnd.random()))) for i in range(16)]
    draw.line(points, fill=(20, 40, 150), width=5, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def signature_image(seed: int) -> Any:
    """A scanned-signature image (PNG), as a reportlab image."""
    return ImageReader(io.BytesIO(_signature_png(seed)))


@cache
def _photo_jpeg(seed: int) -> bytes:
    rnd = random.Random(seed)
    image = Image.new("RGB", (240, 160), (120 + rnd.randrange(60), 150, 190))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 110, 240, 160), fill=(90, 110 + rnd.randrange(40), 70))
    draw.line((120, 20, 120, 130), fill=(80, 60, 40), width=8)
    draw.line((85, 35, 155, 35), fill=(80, 60, 40), width=5)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


# --------------------------------------------------------------------------- documents

Draw = Callable[[Pen], None]


@dataclass
class PageSpec:
    """One page: how to draw it and what to do to it after drawing."""

    draw: Draw
    size: Size = LETTER
    #: Degrees for ``/Rotate`` added with pypdf after drawing. With ``turned`` False the upright content
    #: displays turned (a page fed sideways); with ``turned`` True the content is drawn counter-turned in a
    #: portrait media box so that it displays upright (how scanners store landscape pages).
    rotate: int = 0
    turned: bool = False
    #: Rasterised into an image-only page (no text layer), like a scan.
    scan: bool = False
    #: Scanned so coarsely that neither a person nor OCR can read it (UNREADABLE_PAGE).
    illegible: bool = False
    #: Annotations to add (display coordinates, origin bottom left): built by ``annotation_*``.
    annotations: list[Callable[[AnnotContext], DictionaryObject]] = field(default_factory=list)
    #: Replaces the whole page with page ``index`` of this PDF (real forms).
    source: tuple[Path, int] | None = None


@dataclass(frozen=True)
class Defect:
    """A finding the document itself causes: code, field and the page indexes (0-based in the doc)."""

    code: str
    field: str | None
    pages: tuple[int, ...]


@dataclass
class Doc:
    doc_type: str
    pages: list[PageSpec]
    style: Style = CORPUS
    #: Identifiers the document prints, and on which of its pages.
    pm: str | None = None
    notification: str | None = None
    pm_pages: tuple[int, ...] = ()
    notif_pages: tuple[int, ...] = ()
    defects: list[Defect] = field(default_factory=list)
    #: A second copy of the previous document (DUPLICATE_DOC names this one's pages).
    duplicate: bool = False
    slug: str = ""

    def copy(self) -> Doc:
        """The same document again (to place right after the first copy)."""
        return replace(self, duplicate=True, defects=list(self.defects), pages=list(self.pages))


@dataclass(frozen=True)
class Job:
    """The job the package is for (numbers, address, people)."""

    pm: str = "35589054"
    notification: str = "119080350"
    address: str = "1165 Blossom Hill Rd"
    city: str = "Fremont"
    division: str = "MI"
    location: str = "1"
    date: str = "06/23/2025"
    contractor: str = "SIERRA LINE CONSTRUCTORS"
    foreman: str = "Paul Novak"
    foreman_lan: str = "GZVC"
    supervisor: str = "Rita Ortega"
    supervisor_lan: str = "HWLC"
    crew_lead: str = "Brian Fletcher"
    crew_lead_lan: str = "PDYU"
    rep: str = "Pat Harper"
    verifier: str = "Sarah Vasquez"
    verifier_lan: str = "LEGN"
    #: Printed before the PM in identifier headers, e.g. "PM-" (the number stays the same).
    pm_prefix: str = ""

    @staticmethod
    def random(rng: random.Random) -> Job:
        first = ["Ana", "Brian", "Carla", "Derek", "Elena", "Frank", "Gina", "Hugo", "Ivan", "Jade", "Kyle"]
        last = ["Novak", "Ortega", "Fletcher", "Castillo", "Moreno", "Chavez", "Nguyen", "Patel", "Reyes"]
        streets = ["Shields Ave", "Cherokee Rd", "Blossom Hill Rd", "Oak Park Blvd", "Mission St", "Elm Ct"]
        cities = ["Salinas", "Fremont", "San Mateo", "Stockton", "Fresno", "Chico", "Eureka"]
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

        def person() -> str:
            return f"{rng.choice(first)} {rng.choice(last)}"

        def lan() -> str:
            return "".join(rng.choice(letters) for _ in range(4))

        return Job(
            pm=str(rng.randrange(30_000_000, 47_000_000)),
            notification=str(rng.randrange(119_000_000, 132_000_000)),
            address=f"{rng.randrange(100, 9999)} {rng.choice(streets)}",
            city=rng.choice(cities),
            division=rng.choice(["SJ", "DA", "CC", "MI", "PN", "EB", "ST", "FR", "NV"]),
            location=str(rng.choice([1, 1, 1, 2, 3])),
            date=f"{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}/2025",
            contractor=rng.choice(["SIERRA LINE CONSTRUCTORS", "CENTRAL VALLEY POWERLINE INC", "ALVAH"]),
            foreman=person(),
            foreman_lan=lan(),
            supervisor=person(),
            supervisor_lan=lan(),
            crew_lead=person(),
            crew_lead_lan=lan(),
            rep=person(),
            verifier=person(),
            verifier_lan=lan(),
        )


def _ids(
    pen: Pen, job: Job, *, pm: bool = True, notif: bool = True, extra: Sequence[tuple[str, str]] = ()
) -> None:
    pairs: list[tuple[str, str | None]] = []
    if pm:
        pairs.append((_pick(PM_LABELS, pen.style.labels), f"{job.pm_prefix}{job.pm}"))
    if notif:
        pairs.append((_pick(NOTIF_LABELS, pen.style.labels), job.notification))
    pairs.extend(extra)
    if pairs:
        pen.fields(pairs)


def _defects(doc_type: str, missing: Collection[str], page_of: dict[str, int]) -> list[Defect]:
    unknown = set(missing) - set(CHECKED_FIELDS[doc_type])
    if unknown:
        raise ValueError(f"{doc_type} has no checked field {sorted(unknown)}")
    out = []
    for name in missing:
        code = "MISSING_SIGNATURE" if CHECKED_FIELDS[doc_type][name] == "signature" else "MISSING_FIELD"
        out.append(Defect(code, name, (page_of[name],)))
    return out


def _size(style: Style) -> Size:
    return style.size


# -- ec tag --------------------------------------------------------------------------------------


def ec_tag(job: Job, style: Style = CORPUS, *, missing: Collection[str] = (), pages: int = 2) -> Doc:
    """EC tag: notification page(s), then the completion block (LAN ID, date, status, signature), FDA grid."""
    labels = FIELD_LABELS["ec_tag"]
    count = max(1, pages)

    def first(pen: Pen) -> None:
        pen.header("ec_tag", right="KAA E460")
        pen.line("Estimated/Corrective Notification - Work Request")
        _ids(pen, job)
        pen.fields([("Priority", "B"), ("MAT Code", "KAA")])
        pen.fields([("Date Identified", "04/11/2025"), ("Required Date", "12/17/2025")])
        pen.fields([("Address", job.address), ("City", job.city)])
        pen.fields([("Division", job.division), ("Location #", job.location)])
        pen.line("Problem Description", bold=True)
        pen.line("Crossarm split at center phase; insulator leaning. Replace crossarm and insulators.")
        pen.line("Comments History", bold=True)
        pen.line("05/01/2025 SPAK: Field verified condition, photos taken.")
        pen.line("05/16/2025 EX5B: Priority changed per supervisor.")
        if count == 1:
            completion(pen)
        pen.footer(1, count, "TD-2050 Electric Tag")

    def completion(pen: Pen) -> None:
        pen.skip(6)
        pen.line(_pick(labels["heading"], style.labels), bold=True)
        pen.fields(
            [
                (_pick(labels["lan_id"], style.labels), None if "lan_id" in missing else job.foreman_lan),
                (
                    _pick(labels["complete_date"], style.labels),
                    None if "complete_date" in missing else job.date,
                ),
            ],
            names=["LAN ID", "Complete Date"],
        )
        pen.fields([("Actual Hours", "6"), ("Crew Size", "3")])
        done = "status" not in missing
        pen.options(
            _pick(labels["status"], style.labels),
            [("Completed", done), ("Canceled", False), ("Found Completed Upon Arrival", False)],
            name_prefix="Status",
        )
        pen.options("Crew Type", [("PG&E Crew", False), ("T-Man", False), ("Contractor", True)])
        pen.options("Emergency Cause", [("Animal", False), ("Equip. Failed", False), ("Tree Contact", False)])
        pen.sign_block(
            [
                (
                    _pick(labels["signature"], style.labels),
                    "sig",
                    None if "signature" in missing else job.foreman,
                )
            ]
        )
        pen.line("FDA - FIELD DATA ACQUISITION ATTRIBUTES", bold=True)
        pen.line("Category Condition Action New Priority Comp")
        for row, a, b in (("Crossarm Damaged Replace", True, False), ("Insulator OK Install", False, True)):
            pen.line(f"{row} {box(a)} {box(b)} {box(False)}")

    def second(pen: Pen) -> None:
        pen.title(title_of("ec_tag", style))
        _ids(pen, job, pm=False)
        completion(pen)
        pen.footer(2, count, "TD-2050 Electric Tag")

    specs = [PageSpec(first, _size(style))]
    if count >= 2:
        specs.append(PageSpec(second, _size(style)))
    for n in range(3, count + 1):
        specs.append(PageSpec(_fda_page(job, style, n, count), _size(style)))
    where = 0 if count == 1 else 1
    return Doc(
        "ec_tag",
        specs,
        style,
        job.pm,
        job.notification,
        (0,),
        tuple(range(count)),
        _defects("ec_tag", missing, dict.fromkeys(CHECKED_FIELDS["ec_tag"], where)),
        slug="ECTAG",
    )


def _fda_page(job: Job, style: Style, n: int, count: int) -> Draw:
    def draw(pen: Pen) -> None:
        pen.title(title_of("ec_tag", style))
        _ids(pen, job, pm=False)
        pen.line("FDA - FIELD DATA ACQUISITION ATTRIBUTES (continued)", bold=True)
        for row in ("Pole Damaged Replace", "Guy OK Repair", "Riser Broken None", "Switch OK Remove"):
            pen.line(f"{row} {box(False)} {box(n % 2 == 0)} {box(True)}")
        pen.footer(n, count, "TD-2050 Electric Tag")

    return draw


# -- face sheet ------------------------------------------------------------------------------------


def face_sheet(
    job: Job,
    style: Style = CORPUS,
    *,
    missing: Collection[str] = (),
    pages: int = 3,
    supervisor_signed: bool = True,
) -> Doc:
    """Face sheet: job information, job totals, and the construction foreman sign-off on the last page."""
    labels = FIELD_LABELS["face_sheet"]
    count = max(1, min(3, pages))

    def info(pen: Pen) -> None:
        pen.header("face_sheet", right="E460")
        pen.line("Estimated Job Package")
        _ids(pen, job)
        pen.fields([("Order Type", "E460"), ("MAT Code", "07D")])
        pen.fields([("Division", job.division), ("Location #", job.location)])
        pen.fields([("Address", job.address), ("City", job.city)])
        pen.fields([("Estimator", "Rosa Mendoza"), ("Contractor", job.contractor)])
        pen.line("Job Description", bold=True)
        pen.line("Replace overhead transformer with like kVA; install new cutout and arrester.")

    def totals(pen: Pen) -> None:
        pen.line("JOB TOTALS", bold=True)
        pen.line("Unit Description Qty UOM")
        pen.line("07D-T1-ACC Pole replacement Type 1 1 EA")
        pen.line("TAG-1 Capital OH replacement tag 1 TAG")

    def signoff(pen: Pen) -> None:
        pen.skip(6)
        pen.line(_pick(labels["heading"], style.labels), bold=True)
        choice = "built_as_designed_or_redlined" not in missing
        pen.options(
            "",
            [
                (_pick(labels["built"], style.labels), False),
                (_pick(labels["redlined"], style.labels), choice),
                ("Construction Feedback Form Completed", False),
            ],
            name_prefix="Sign-off",
        )
        pen.sign_block(
            [
                (
                    _pick(labels["foreman_signature"], style.labels),
                    "sig",
                    None if "foreman_signature" in missing else job.foreman,
                ),
                (
                    _pick(labels["foreman_lan_id"], style.labels),
                    "value",
                    None if "foreman_lan_id" in missing else job.foreman_lan,
                ),
                (_pick(labels["date"], style.labels), "value", None if "date" in missing else job.date),
            ],
            names=["", "Foreman LAN ID", "Foreman Date"],
        )
        pen.sign_block(
            [
                ("Supervisor Signature", "sig", job.supervisor if supervisor_signed else None),
                ("Supervisor LAN ID", "value", job.supervisor_lan if supervisor_signed else None),
                ("Date", "value", job.date if supervisor_signed else None),
            ],
            names=["", "Supervisor LAN ID", "Supervisor Date"],
        )

    def page(parts: Sequence[Callable[[Pen], None]], index: int) -> Draw:
        def draw(pen: Pen) -> None:
            if index > 1:
                pen.title(title_of("face_sheet", style))
                _ids(pen, job)
            for part in parts:
                part(pen)
            pen.footer(index, count, "Contractor Face Sheet Rev 03/2023")

        return draw

    layouts: dict[int, list[list[Draw]]] = {
        1: [[info, signoff]],
        2: [[info, totals], [signoff]],
        3: [[info], [totals], [signoff]],
    }
    layout = layouts[count]
    specs = [PageSpec(page(parts, i + 1), _size(style)) for i, parts in enumerate(layout)]
    return Doc(
        "face_sheet",
        specs,
        style,
        job.pm,
        job.notification,
        tuple(range(count)),
        tuple(range(count)),
        _defects("face_sheet", missing, dict.fromkeys(CHECKED_FIELDS["face_sheet"], count - 1)),
        slug="FACESHEET",
    )


# -- simple one- or two-page documents -----------------------------------------------------------------


def _simple(
    doc_type: str,
    job: Job,
    style: Style,
    bodies: Sequence[Callable[[Pen], None]],
    *,
    pm: bool = True,
    notif: bool = True,
    size: Size | None = None,
    slug: str = "",
    right: str = "",
    ids_on_later_pages: bool = True,
) -> Doc:
    count = len(bodies)
    specs = []
    for index, body in enumerate(bodies, 1):

        def draw(pen: Pen, body: Callable[[Pen], None] = body, index: int = index) -> None:
            if index == 1:
                pen.header(doc_type, right=right)
                _ids(pen, job, pm=pm, notif=notif)
            else:
                pen.title(title_of(doc_type, style))
                if ids_on_later_pages:
                    _ids(pen, job, pm=pm, notif=False)
            body(pen)
            if count > 1:
                pen.footer(index, count)

        specs.append(PageSpec(draw, size or _size(style)))
    pm_pages = tuple(range(count)) if ids_on_later_pages else (0,)
    return Doc(
        doc_type,
        specs,
        style,
        job.pm if pm else None,
        job.notification if notif else None,
        pm_pages if pm else (),
        (0,) if notif else (),
        slug=slug or doc_type.upper(),
    )


def crew_instructions(job: Job, style: Style = CORPUS, *, pages: int = 1) -> Doc:
    steps = [
        "Hold tailboard with all crew members; review hazards, energy sources and escape routes.",
        "Replace rotten crossarm at Loc 1; reuse existing insulators where serviceable.",
        "Transfer primary conductors from old pole to new pole; install new crossarm.",
        "Install new 25 KVA transformer; connect primary through new fuse cutout.",
        "Transfer secondary and service drops; verify clearances to ground per GO 95.",
        "Take before, during and after photos with pole number and GPS visible.",
    ]

    def body(part: int) -> Callable[[Pen], None]:
        def draw(pen: Pen) -> None:
            if part == 0:
                pen.fields([("Address", f"{job.address}, {job.city}"), ("Location #", job.location)])
                pen.line("Scope", bold=True)
                pen.line("Replace 45' pole with new 55' Class 4 DF pole; transfer primary and secondary.")
            for n, step in enumerate(steps, 1 + part * len(steps)):
                pen.line(f"{n}. {step}")
            pen.line("Redline any changes on this sheet and return it with the as-built package.")

        return draw

    return _simple("crew_instructions", job, style, [body(i) for i in range(pages)], slug="CREW_INSTRUCTIONS")


def crew_materials(job: Job, style: Style = CORPUS) -> Doc:
    def body(pen: Pen) -> None:
        pen.line("Qty Unit M-Code Description", bold=True)
        for row in (
            "1 EA M146985 TAG, POLE NUMBER, ALUMINUM",
            "40 FT M694952 WIRE, GROUND, #4 CU, SD",
            "250 FT M562687 CONDUCTOR, 1/0 AAC",
            "2 EA M163545 SIGN, HIGH VOLTAGE",
            "1 EA M633311 POLE, WOOD, DF, 45 FT, CL 2, PENTA",
        ):
            pen.line(row)

    return _simple(
        "crew_materials",
        job,
        style,
        [body],
        notif=False,
        slug="CREW_MATERIALS",
        right=f"Division {job.division}",
    )


def equipment_info(job: Job, style: Style = CORPUS) -> Doc:
    def body(pen: Pen) -> None:
        pen.fields([("Location #", job.location), ("Address", job.address)])
        pen.line("POLE INFORMATION", bold=True)
        pen.line("LOC# Height Class Inst. Rem. Aband. Pole Number Joint")
        pen.line(f"1 45 5 {box(False)} {box(True)} {box(False)} 1501489 Y")
        pen.line(f"1 45 1 {box(True)} {box(False)} {box(False)} 2275095 Y")
        pen.fields([("Old Pole SAP #", "101974116"), ("New Pole SAP #", "107821789")])
        pen.line("EQUIPMENT INFORMATION", bold=True)
        pen.line("LOC# EQP# Size Inst. Rem. Serial # Mfg Mfg Date")
        pen.line(f"1 T14614 37.5 KVA {box(True)} {box(False)} CEN989028 Central Moloney 1996")
        pen.fields([("Meter #", "1087212257"), ("Transformer Serial #", "CEN989028")])

    return _simple("equipment_info", job, style, [body], slug="EQUIPMENT_INFO")


def construction_feedback(job: Job, style: Style = CORPUS) -> Doc:
    def body(pen: Pen) -> None:
        pen.fields([("Foreman", job.foreman)])
        pen.line("Was the job constructible as designed? Yes")
        pen.line("Were materials on the crew materials list correct? No - short 2 bolts")
        pen.line("Pole location changed from design? No")
        pen.line("Estimated hours vs actual hours 3 / 4")
        pen.line("Comments to Estimating", bold=True)
        pen.line("Secondary was not on the design; transferred anyway.")

    return _simple("construction_feedback", job, style, [body], notif=False, slug="FEEDBACK")


def circuit_map_change(job: Job, style: Style = CORPUS) -> Doc:
    def body(pen: Pen) -> None:
        pen.fields([("Circuit", "MODESTO 2104"), ("CIRMAP #", "4278-70")])
        pen.line("Loc Existing Changed To Remarks", bold=True)
        pen.line("1 45-5 POLE 45-1 POLE Replaced")
        pen.line("1 - 37.5 KVA XFMR New equipment #T14614")
        pen.line("Submit to the Distribution Operator / mapping with the as-built package.")
        pen.sign_block([("Submitted by", "sig", job.foreman)])

    return _simple("circuit_map_change", job, style, [body], notif=False, slug="CMCS")


def permit(
    job: Job, style: Style = CORPUS, *, pages: int = 1, number: str = "ENC-2025-0412", agency: str = ""
) -> Doc:
    """An encroachment permit; two permits with other ``number`` and ``agency`` are different documents."""

    def first(pen: Pen) -> None:
        pen.line(agency or f"CITY OF {job.city.upper()} - DEPARTMENT OF PUBLIC WORKS")
        pen.fields([("Permit No.", number), ("Permittee", "Pacific Gas and Electric Company")])
        pen.fields([("Location of Work", f"{job.address}, {job.city}")])
        pen.fields([("Valid From", "06/01/2025"), ("Valid To", "08/31/2025")])
        if agency:
            pen.line(
                "Description: Bore under county road for new secondary conduit; traffic control required."
            )
            pen.line("Fee: $1,150.00 Issued by: M. Ferreira, County Roads Inspector")
        else:
            pen.line("Description: Replace utility pole and restore sidewalk.")
            pen.line("Fee: $412.00 Issued by: J. Whitaker, Permit Engineer")

    def provisions(pen: Pen) -> None:
        pen.line("GENERAL PROVISIONS", bold=True)
        for n in range(1, 7):
            pen.line(f"{n}. The permittee shall restore the right of way to its original condition.")

    bodies: list[Draw] = [first, *[provisions] * (pages - 1)]
    return _simple("permit", job, style, bodies, notif=False, slug="PERMIT")


def traffic_control_plan(job: Job, style: Style = CORPUS) -> Doc:
    def body(pen: Pen) -> None:
        pen.fields([("Location", f"{job.address}, {job.city}"), ("Speed Limit", "35 MPH")])
        pen.line("MUTCD Typical Application TA-10: lane closure on a two-lane road using flaggers.")
        pen.line("Signs: ROAD WORK AHEAD (500 ft), BE PREPARED TO STOP, FLAGGER SYMBOL.")
        pen.line("Cone spacing 25 ft in taper; 2 flaggers with radios.")
        pen.c.setStrokeColorRGB(0.2, 0.2, 0.2)
        pen.c.rect(pen.margin, pen.y - 120, pen.width - 2 * pen.margin, 110)
        for i in range(8):
            pen.c.circle(pen.margin + 60 + i * 40, pen.y - 60, 4)
        pen.y -= 130

    return _simple("traffic_control_plan", job, style, [body], notif=False, slug="TCP")


def job_package_checklist(job: Job, style: Style = CORPUS) -> Doc:
    def body(pen: Pen) -> None:
        pen.line("Document Included N/A", bold=True)
        for name, included in (
            ("EC Tag", True),
            ("Face Sheet", True),
            ("Construction Sketch", True),
            ("CCSC", True),
            ("Permits", False),
            ("Traffic Control Plan", True),
            ("Photos", True),
        ):
            pen.line(f"{name} {box(included)} {box(not included)}")
        pen.fields([("Checked by", job.foreman)])

    return _simple("job_package_checklist", job, style, [body], slug="CHECKLIST")


def unit_price_completion(job: Job, style: Style = CORPUS) -> Doc:
    def body(pen: Pen) -> None:
        pen.fields([("Date", job.date), ("Location #", job.location)])
        divisions = ["SJ", "DA", "CC", "LP", "DI", "MI", "PN", "EB", "SF", "NB"]
        pen.line("Division: " + " ".join(f"{box(d == job.division)} {d}" for d in divisions))
        pen.line(f"ACCESSIBILITY: {box(True)} ACCESSIBLE {box(False)} INACCESSIBLE")
        pen.line(f"FIRE WATCH: {box(False)} R4 (ENERGIZED WORK ONLY) {box(False)} R5")
        pen.line(f"TAG TYPE: {box(True)} POLES 1 {box(False)} POLES 2 {box(False)} LUMP SUM {box(False)} 2AA")
        pen.line(f"EXCAVATION: {box(False)} HAND DIG {box(True)} MACHINE DIG {box(False)} VAC TRUCK")
        pen.line("ELECTRIC CREW HEADCOUNT: 3 STANDARD TIME HOURS: 8 PREMIUM TIME HOURS: 0")
        pen.sign_block([("PG&E Inspector", "sig", None), ("Contractor Representative", "sig", job.rep)])

    return _simple("unit_price_completion", job, style, [body], slug="UNIT_PRICE")


def progress_billing(
    job: Job, style: Style = CORPUS, *, missing: Collection[str] = (), inspector_signed: bool = False
) -> Doc:
    """Progress billing / project completion form: PM, notification, contractor rep signature and name."""
    labels = FIELD_LABELS["progress_billing"]

    def draw(pen: Pen) -> None:
        pen.header("progress_billing")
        pen.line("Types 1-4")
        pen.fields([("Contractor", job.contractor), ("PO #", "CWA-2599402192")])
        pen.fields(
            [
                (_pick(PM_LABELS, style.labels), None if "pm_number" in missing else job.pm),
                (
                    _pick(NOTIF_LABELS, style.labels),
                    None if "notification_number" in missing else job.notification,
                ),
            ],
            names=["PM Number", "Notification Number"],
        )
        pen.fields([("Address", job.address), ("Location #", job.location)])
        pen.fields([("Date", job.date), ("Division", job.division)])
        pen.options("Pole Type", [("Type 1", True), ("Type 2", False), ("Type 3", False), ("Type 4", False)])
        pen.options("Access", [("Accessible", True), ("Inaccessible", False)])
        pen.line("Unit Description Qty UOM Complete", bold=True)
        pen.line("07D-T1-ACC Pole replacement Type 1 1 EA 100%")
        pen.line("TAG-1 Capital OH replacement tag 1 TAG 100%")
        signed = "contractor_rep_signature" not in missing
        pen.sign_block(
            [
                (_pick(labels["contractor_rep_signature"], style.labels), "sig", job.rep if signed else None),
                ("PG&E Inspector Signature", "sig", "Ian Keller" if inspector_signed else None),
            ]
        )
        pen.sign_block(
            [
                (
                    _pick(labels["printed_name"], style.labels),
                    "value",
                    None if "printed_name" in missing else job.rep,
                ),
                (
                    "PG&E Inspector Printed Name + LAN ID",
                    "value",
                    "Ian Keller KLR2" if inspector_signed else None,
                ),
            ],
            names=["Printed Name", "Inspector Printed Name"],
        )

    return Doc(
        "progress_billing",
        [PageSpec(draw, _size(style))],
        style,
        None if "pm_number" in missing else job.pm,
        None if "notification_number" in missing else job.notification,
        () if "pm_number" in missing else (0,),
        () if "notification_number" in missing else (0,),
        _defects("progress_billing", missing, dict.fromkeys(CHECKED_FIELDS["progress_billing"], 0)),
        slug="BILLING",
    )


def paving_form(job: Job, style: Style = CORPUS) -> Doc:
    def body(pen: Pen) -> None:
        pen.fields([("Address", job.address), ("City", job.city)])
        pen.fields([("Requested By", job.foreman), ("Date", job.date)])
        pen.line(
            f"Surface: {box(False)} Asphalt {box(True)} Concrete {box(False)} Sidewalk {box(False)} Landscape"
        )
        pen.line("Length (ft): 9 Width (ft): 3 Depth (in): 8 Total Sq Ft: 27")
        pen.line(f"Temporary paving placed: {box(True)} Yes {box(False)} No")

    return _simple("paving_form", job, style, [body], notif=False, slug="PAVING")


def cwc(job: Job, style: Style = CORPUS) -> Doc:
    def body(pen: Pen) -> None:
        pen.line("Project & Contract Management")
        pen.fields([("DUE DATE", "12/17/2025"), ("Date", job.date)])
        pen.fields([("Contractor", job.contractor)])
        pen.fields([("FOREMAN (NAME, TITLE)", f"{job.foreman}, Foreman")])
        pen.line(f"APPLICATION FOR: {box(False)} CLEARANCE {box(True)} NON-TEST {box(False)} NEW EQUIPMENT")
        pen.line("EQUIPMENT: T14614 CIRCUIT: MODESTO 2104")
        pen.line("START DATE: 11/21/2025 START TIME: 07:00 END TIME: 15:30")
        pen.line(f"WEATHER: {box(True)} NOT A FACTOR {box(False)} CLEAR WEATHER ONLY")
        pen.line(f"CUSTOMER OUTAGE: {box(False)} YES {box(True)} NO")
        pen.line(
            "CONSTRUCTION SKETCHES (BEFORE & AFTER) AND PHOTO(S) OF CLEARANCE LIMIT(S) MUST BE ATTACHED."
        )

    return _simple("cwc", job, style, [body], slug="CWC", right="Rev. 7/15")


def lme(job: Job, style: Style = CORPUS) -> Doc:
    """LME on a landscape page; the corpus prints ``PM / NOTIF NO.: pm / notif`` on one label."""

    def body(pen: Pen) -> None:
        pen.line(f"Furnished by Contractor - {job.contractor}")
        if style.labels == 0:
            pen.line(f"JOB LOCATION: {job.address} PM / NOTIF NO.: {job.pm} / {job.notification}")
        else:
            _ids(pen, job, extra=[("Job Location", job.address)])
        pen.fields([("Date", job.date), ("START TIME", "07:00"), ("END", "15:30")])
        pen.line("CRAFT NAME HRS ST/OT/DT RATE AMOUNT", bold=True)
        pen.line(f"Foreman {job.foreman} 8 ST 79.04 632.32")
        pen.line(f"Journeyman Lineman {job.crew_lead} 8 ST 73.78 590.24")
        pen.line("CONTRACTOR OWNED EQUIPMENT HRS RATE", bold=True)
        pen.line("Digger derrick 8 40.00")
        pen.line("TOTAL LABOR: $1222.56 Missed Meals (hrs): 0 SUBSISTENCE (count): 2")
        pen.sign_block(
            [
                ("PG&E Inspector or Foreman - Verification of Hours", "sig", job.foreman),
                ("Signature of Contractor", "sig", job.rep),
            ]
        )

    doc = _simple(
        "lme",
        job,
        style,
        [body],
        pm=False,
        notif=False,
        size=LETTER_LANDSCAPE,
        slug="LME",
        right="LME No. 45865",
    )
    doc.pm, doc.notification, doc.pm_pages, doc.notif_pages = job.pm, job.notification, (0,), (0,)
    return doc


def tailboard(job: Job, style: Style = CORPUS, *, pages: int = 2) -> Doc:
    def hazards(pen: Pen) -> None:
        pen.fields([("Date", job.date), ("Address", job.address)])
        pen.line("Hazards Identified", bold=True)
        for hazard in (
            "Energized primary overhead",
            "Excavation / trench",
            "Third-party communication lines",
        ):
            pen.line(f"{hazard} {box(True)} Cover-up / spotter")
        pen.line(
            f"PPE: {box(True)} Hard hat {box(True)} FR clothing {box(True)} Gloves {box(False)} Hi-vis vest"
        )

    def sign_in(pen: Pen) -> None:
        pen.line("Crew Sign-In", bold=True)
        pen.line("Name LAN ID Signature")
        for name, lan in ((job.foreman, job.foreman_lan), (job.crew_lead, job.crew_lead_lan)):
            pen.line(f"{name} {lan} /s/ {short_name(name)}")
        pen.line("__________________ ____ __________________")

    def both(pen: Pen) -> None:
        hazards(pen)
        sign_in(pen)

    bodies: list[Draw] = [hazards, sign_in] if pages >= 2 else [both]
    return _simple("tailboard", job, style, bodies, notif=False, slug="TAILBOARD")


def pole_bill(job: Job, style: Style = CORPUS) -> Doc:
    def body(pen: Pen) -> None:
        pen.fields([("Applicant", "Greenfield Homes LLC"), ("Division", job.division)])
        pen.fields([("Address", f"{job.address}, {job.city}")])
        pen.line("Pole Height Class Species M-Code Qty Joint Pole", bold=True)
        pen.line("P1 45 2 DF M633311 1 Y")
        pen.line("P2 40 4 DF M633309 1 N")
        pen.fields([("Prepared by", "Rosa Mendoza"), ("Date", "03/02/2025")])

    return _simple("pole_bill", job, style, [body], notif=False, slug="POLE_BILL")


def photos(job: Job, style: Style = CORPUS, *, pages: int = 2) -> Doc:
    def sheet(first: int) -> Callable[[Pen], None]:
        def draw(pen: Pen) -> None:
            for n in (first, first + 1):
                top = pen.y - 170
                pen.c.drawImage(
                    ImageReader(io.BytesIO(_photo_jpeg(n))), pen.margin, top, width=240, height=160
                )
                pen.y = top - 14
                pen.line(f"Photo {n} - {'BEFORE' if n == 1 else 'AFTER'} - Loc {job.location} - looking N")

        return draw

    return _simple(
        "photos", job, style, [sheet(1 + 2 * i) for i in range(pages)], slug="PHOTOS", ids_on_later_pages=True
    )


def field_verification_cert(job: Job, style: Style = CORPUS, *, missing: Collection[str] = ()) -> Doc:
    """TD-2051P-10 Appendix A: name, LAN ID, PM, date and the verifier's signature."""
    labels = FIELD_LABELS["field_verification_cert"]

    def draw(pen: Pen) -> None:
        pen.header("field_verification_cert")
        pen.line("TD-2051P-10 As-Built Procedure - Appendix A")
        pen.fields(
            [
                (_pick(PM_LABELS, style.labels), None if "pm_number" in missing else job.pm),
                (_pick(NOTIF_LABELS, style.labels), job.notification),
            ],
            names=["PM Number", "Notification Number"],
        )
        pen.line("I certify that the construction work referenced in the attached as-built documentation")
        pen.line("has been field verified and:")
        pen.line(f"{box(True)} Built as designed")
        pen.line(f"{box(False)} As-built redlined (redlines must be shown on the construction drawing)")
        pen.skip(6)
        pen.sign_block(
            [
                (
                    _pick(labels["signature"], style.labels),
                    "sig",
                    None if "signature" in missing else job.verifier,
                ),
                (_pick(labels["name"], style.labels), "value", None if "name" in missing else job.verifier),
                (
                    _pick(labels["lan_id"], style.labels),
                    "value",
                    None if "lan_id" in missing else job.verifier_lan,
                ),
                (_pick(labels["date"], style.labels), "value", None if "date" in missing else job.date),
            ],
            names=["", "Name", "LAN ID", "Date"],
        )

    return Doc(
        "field_verification_cert",
        [PageSpec(draw, _size(style))],
        style,
        None if "pm_number" in missing else job.pm,
        job.notification,
        () if "pm_number" in missing else (0,),
        (0,),
        _defects(
            "field_verification_cert", missing, dict.fromkeys(CHECKED_FIELDS["field_verification_cert"], 0)
        ),
        slug="FIELD_VERIFICATION",
    )


# -- ccsc --------------------------------------------------------------------------------------------

# fmt: off
OH_ITEMS = (
    "Pole visibility strips installed where required", "Lowest pole step at least 8 1/2 ft above ground",
    "Guy markers installed", "No broken or slack guys", "Guy preforms properly applied",
    "Guy insulators at least 3 in apart", "Guy insulators at least 8 ft above ground",
    "Guys at least 3 in from comm, secondary and service", "Anchor installed and in line with guy",
    "Anchor ID tag installed", "Bolt covers installed in climbing space", "All hardware tight",
    "GO 95 conductor clearance to ground met", "GO 95 clearance to other facilities met",
    "Connectors installed per standard", "Riser lags and standoffs installed",
    "High-voltage signs installed", "Grounds not exposed (molding installed)", "Service clearances met",
    "Services free of vegetation strain", "HFTD: 10 ft radial clearance around pole base",
    "Equipment locked", "Third-party conditions noted / notification sent",
    "No vegetation within 18 in of primary", "No vegetation within 4 ft of primary in HFTD/SRA",
    "No vegetation strain or abrasion on conductors", "Site clean, idle material removed",
)
UG_ITEMS = (
    "Enclosure lids secured", "Enclosure lids at grade", "Enclosure lids marked",
    "Pad-mount equipment anchored", "Pad-mount caulked", "Pad-mount grouted",
    "High-voltage / 8 ft clearance label installed", "Equipment number installed", "Pad-mount door locked",
    "8 ft working space clear in front of doors", "Barrier posts installed where required",
    "Live-front barricade in place", "Stress cones installed", "Operating number displayed",
    "Equipment grounding connected", "Ground rod installed and tested", "Neutral bonded",
    "Cable tags installed", "Cable identified at both ends", "Cable protectors installed",
    "Terminations made per standard", "Elbows fully seated", "Unused bushings capped",
    "Site clean, idle material removed",
)
# fmt: on


def ccsc(
    job: Job, style: Style = CORPUS, *, missing: Collection[str] = (), unticked: Collection[str] = ()
) -> Doc:
    """CCSC (TD-2504P-01-F01): 27 OH items on page 1, 24 UG items and the crew lead block on page 2.

    ``unticked`` names items left unticked, e.g. ``{"OH-14", "UG-3"}``; safety-critical ones are findings.
    """
    labels = FIELD_LABELS["ccsc"]
    left_open = {item.upper().replace(" ", "-") for item in unticked}
    pm_label = _pick(PM_LABELS, style.labels)

    def items(pen: Pen, section: str, texts: Sequence[str]) -> None:
        heading = "OVERHEAD (OH)" if section == "OH" else "UNDERGROUND (UG)"
        pen.line(heading, bold=True)
        pen.line("# Item Check", size=8)
        right = pen.width - pen.margin - 30
        for n, text in enumerate(texts, 1):
            star = "* " if n in SAFETY_CRITICAL[section] else ""
            ticked = f"{section}-{n}" not in left_open
            number = f"{n}" if style.labels == 0 else f"{section}-{n}"
            if style.fillable:
                pen.text(pen.margin, pen.y, f"{number} {star}{text}", size=8.5)
                pen.form_check(f"{section}{n}", right, pen.y, ticked, button="check")
            elif style.layout == "column":
                pen.text(pen.margin, pen.y, f"{number} {star}{text}", size=8.5)
                pen.text(right, pen.y, box(ticked), size=8.5)
            else:
                pen.text(pen.margin, pen.y, f"{number} {star}{text} {box(ticked)}", size=8.5)
            pen.y -= 12.6

    def first(pen: Pen) -> None:
        pen.header("ccsc")
        pen.line("TD-2504P-01-F01 Rev 6 (04/06/2024)", size=8)
        pen.fields(
            [
                (pm_label, None if "pm_number" in missing else job.pm),
                (
                    _pick(labels["location_number"], style.labels),
                    None if "location_number" in missing else job.location,
                ),
            ],
            names=["PM Number", "Location Number"],
        )
        pen.fields([("Address / GPS", f"{job.address} / 37.15105, -122.05385")])
        pen.line("* Safety-critical item. A check means compliant or not applicable.", size=8)
        items(pen, "OH", OH_ITEMS)
        pen.footer(1, 2, "TD-2504P-01-F01 Rev 6 (04/06/2024)")

    def second(pen: Pen) -> None:
        header = title_of("ccsc", style)
        if "pm_number" not in missing:
            header += f" {pm_label}{':' if style.colon else ''} {job.pm}"
        pen.line(header, size=9, bold=True)
        items(pen, "UG", UG_ITEMS)
        pen.line("Comments: Guy marker replaced.")
        pen.sign_block(
            [
                (
                    _pick(labels["crew_lead_name"], style.labels),
                    "value",
                    None if "crew_lead_name" in missing else job.crew_lead,
                ),
                (
                    _pick(labels["lan_id"], style.labels),
                    "value",
                    None if "lan_id" in missing else job.crew_lead_lan,
                ),
                (_pick(labels["date"], style.labels), "value", None if "date" in missing else job.date),
                (
                    _pick(labels["crew_lead_signature"], style.labels),
                    "sig",
                    None if "crew_lead_signature" in missing else job.crew_lead,
                ),
            ],
            names=["Crew Lead Name", "LAN ID", "Date", ""],
        )
        pen.footer(2, 2, "TD-2504P-01-F01 Rev 6 (04/06/2024)")

    page_of = {
        "pm_number": 0,
        "location_number": 0,
        "crew_lead_name": 1,
        "lan_id": 1,
        "date": 1,
        "crew_lead_signature": 1,
    }
    defects = _defects("ccsc", missing, page_of)
    for item in sorted(left_open):
        section, _, number = item.partition("-")
        if int(number) in SAFETY_CRITICAL[section]:
            defects.append(
                Defect("SAFETY_ITEM_UNCHECKED", f"{section}-{int(number)}", (0 if section == "OH" else 1,))
            )
    size = LEGAL if style.page == "legal" else LETTER
    return Doc(
        "ccsc",
        [PageSpec(first, size), PageSpec(second, size)],
        style,
        None if "pm_number" in missing else job.pm,
        None,
        () if "pm_number" in missing else (0, 1),
        (),
        defects,
        slug="CCSC",
    )


# -- construction sketch ------------------------------------------------------------------------------

Markup = Literal["none", "red", "blue", "ink_annot", "freetext_annot", "stamp", "stamp_annot", "red_text"]
MARKUPS: tuple[str, ...] = (
    "none",
    "red",
    "blue",
    "ink_annot",
    "freetext_annot",
    "stamp",
    "stamp_annot",
    "red_text",
)


def construction_sketch(
    job: Job, style: Style = CORPUS, *, markup: Markup = "red", turned: bool = False
) -> Doc:
    """An 11x17 landscape drawing with a SCALE: title block. ``markup`` "none" is black line work only.

    ``turned``: stored as a portrait media box with ``/Rotate 90`` (content counter-turned), shown landscape.
    """

    def draw(pen: Pen) -> None:
        c = pen.c
        w, h = pen.width, pen.height
        c.setStrokeColorRGB(0, 0, 0)
        c.setLineWidth(1.2)
        c.rect(24, 24, w - 48, h - 48)
        c.line(60, 420, w - 330, 420)
        c.line(60, 380, w - 330, 380)
        pen.text(300, 398, job.address.split(" ", 1)[-1].upper(), size=10)
        for i, x in enumerate(range(120, int(w) - 360, 130)):
            c.circle(x, 450, 7)
            pen.text(x - 8, 465, f"P{i + 1}", size=8)
        c.line(250, 450, 230, 520)
        pen.text(260, 480, "EXIST 45-5", size=8)
        pen.text(w - 380, h - 90, "N", size=14, bold=True)
        # title block
        x0 = w - 300
        c.rect(x0, 24, 276, 200)
        y = 200.0
        for text, bold in (
            (title_of("construction_sketch", style), True),
            (f"{_pick(PM_LABELS, style.labels)}: {job.pm}", False),
            (f"{_pick(NOTIF_LABELS, style.labels)}: {job.notification}", False),
            (f"{job.address}, {job.city}", False),
            ("SCALE: 1\" = 50'", False),
            (f"DRAWN BY: Lena Okafor {job.date}", False),
            ("SHEET 1 OF 1", False),
        ):
            pen.text(x0 + 10, y, text, size=11 if bold else 9, bold=bold)
            y -= 17
        pen.text(60, 150, "LEGEND", size=9, bold=True)
        c.circle(66, 133, 4)
        pen.text(78, 130, "Wood pole", size=8)
        c.line(60, 115, 74, 115)
        pen.text(78, 112, "Guy / anchor", size=8)
        if markup in ("red", "blue"):
            rgb = (0.85, 0.05, 0.05) if markup == "red" else (0.05, 0.2, 0.85)
            c.setStrokeColorRGB(*rgb)
            c.setLineWidth(2)
            c.line(240, 440, 260, 460)
            c.line(240, 460, 260, 440)
            c.bezier(380, 450, 420, 520, 470, 520, 510, 450)
            pen.text(
                400,
                530,
                "REMOVE OLD XARM" if markup == "red" else "INSTALL NEW 25 KVA XFMR",
                size=10,
                colour=rgb,
            )
            c.setStrokeColorRGB(0, 0, 0)
        elif markup == "red_text":
            pen.text(400, 530, "NEW 45' CL2 DF POLE - SEE NOTE", size=10, colour=(0.85, 0.05, 0.05))
        elif markup == "stamp":
            c.setLineWidth(2)
            c.rect(500, 250, 210, 60)
            pen.text(515, 282, "BUILT AS DESIGNED", size=15, bold=True)
            pen.text(530, 262, f"{short_name(job.foreman)} {job.date}", size=9)

    spec = PageSpec(draw, TABLOID_LANDSCAPE, rotate=90 if turned else 0, turned=turned)
    if markup == "ink_annot":
        spec.annotations.append(
            lambda size: ink_annotation(size, [(230, 430), (300, 520), (380, 470), (420, 540)])
        )
    elif markup == "freetext_annot":
        spec.annotations.append(
            lambda size: freetext_annotation(size, (380, 500, 620, 530), "NEW 45' CL2 DF POLE")
        )
    elif markup == "stamp_annot":
        spec.annotations.append(
            lambda size: stamp_annotation(size, (480, 240, 720, 310), "BUILT AS DESIGNED")
        )
    defects = [Defect("SKETCH_NO_MARKUP", None, (0,))] if markup == "none" else []
    return Doc(
        "construction_sketch", [spec], style, job.pm, job.notification, (0,), (0,), defects, slug="SKETCH"
    )


# -- other -------------------------------------------------------------------------------------------


def other(
    job: Job,
    style: Style = CORPUS,
    *,
    kind: Literal["transmittal", "field_notes", "fax_cover"] = "transmittal",
) -> Doc:
    def draw(pen: Pen) -> None:
        if style.company:
            pen.line("PACIFIC GAS AND ELECTRIC COMPANY", size=8.5, bold=True)
        if kind == "transmittal":
            pen.title("PACKAGE TRANSMITTAL")
            pen.line(job.contractor)
            pen.line(f"To: PG&E Construction Management, {job.city}")
            pen.line(f"From: {job.rep}, {job.contractor}")
            pen.line(f"Re: As-built submittal for {job.address}, {job.city}")
            pen.line("Please find enclosed the as-built package for the job referenced above.")
            pen.line("Thank you.")
        elif kind == "field_notes":
            pen.title("FIELD NOTES")
            for note in (
                "Arrived on site 0700, customer notified.",
                "Waited 45 min for flagger.",
                "Old pole had woodpecker damage.",
                "Comm company to transfer within 30 days.",
            ):
                pen.line(note)
        else:
            pen.title("FAX COVER SHEET")
            pen.line(f"To: Construction Management   From: {job.rep}")
            pen.line("Pages (including cover): 12")
            pen.line("Message: As-built package attached. Originals to follow by courier.")

    return Doc("other", [PageSpec(draw, _size(style))], style, slug=kind.upper())


def real_form(doc_type: str, pdf: Path, *, pages: Sequence[int] = (0,)) -> Doc:
    """Pages of one of the real forms (``shared/corpus/real-forms``), used as they are."""
    specs = [PageSpec(lambda pen: None, LETTER, source=(pdf, index)) for index in pages]
    return Doc(doc_type, specs, CORPUS, slug=doc_type.upper())


BUILDERS: dict[str, Callable[..., Doc]] = {
    "ec_tag": ec_tag,
    "face_sheet": face_sheet,
    "crew_instructions": crew_instructions,
    "crew_materials": crew_materials,
    "equipment_info": equipment_info,
    "construction_feedback": construction_feedback,
    "construction_sketch": construction_sketch,
    "circuit_map_change": circuit_map_change,
    "permit": permit,
    "traffic_control_plan": traffic_control_plan,
    "job_package_checklist": job_package_checklist,
    "unit_price_completion": unit_price_completion,
    "progress_billing": progress_billing,
    "paving_form": paving_form,
    "cwc": cwc,
    "ccsc": ccsc,
    "photos": photos,
    "field_verification_cert": field_verification_cert,
    "lme": lme,
    "pole_bill": pole_bill,
    "tailboard": tailboard,
    "other": other,
}


def build(doc_type: str, job: Job, style: Style = CORPUS, **options: Any) -> Doc:
    return BUILDERS[doc_type](job, style, **options)


def clean_package(
    job: Job, style: Style = CORPUS, work_type: str = "estimated", extra: Sequence[str] = ()
) -> list[Doc]:
    """The required documents of ``work_type`` (plus ``extra`` types), clean, in canonical order."""
    types = set(REQUIRED[work_type]) | set(extra)
    return [build(t, job, style) for t in CANONICAL_ORDER if t in types]


# --------------------------------------------------------------------------- page post-processing


def _display_to_media(size: Size, turned: bool, x: float, y: float) -> tuple[float, float]:
    """A display point (origin bottom left) in media coordinates for a page stored turned by 90 degrees."""
    if not turned:
        return x, y
    media_width = size[1]
    return media_width - y, x


def _rect(size: Size, turned: bool, rect: tuple[float, float, float, float]) -> ArrayObject:
    x0, y0 = _display_to_media(size, turned, rect[0], rect[1])
    x1, y1 = _display_to_media(size, turned, rect[2], rect[3])
    return ArrayObject(
        [
            FloatObject(min(x0, x1)),
            FloatObject(min(y0, y1)),
            FloatObject(max(x0, x1)),
            FloatObject(max(y0, y1)),
        ]
    )


@dataclass(frozen=True)
class AnnotContext:
    """Where an annotation goes: the page's display size, whether it is stored turned, and the writer
    (appearance streams must be indirect objects of it)."""

    size: Size
    turned: bool = False
    writer: Any = None

    def appearance(self, width: float, height: float, content: str, *, upright: bool = False) -> Any:
        """A /AP /N form XObject (Helvetica as /Helv) drawing ``content``, as an indirect object.

        ``upright``: ``content`` is laid out in display orientation (``width`` x ``height`` as shown) and
        turned to stay upright on a page stored turned.
        """
        stream = DecodedStreamObject()
        stream.set_data(content.encode("latin-1"))
        stream.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject(
                    [FloatObject(0), FloatObject(0), FloatObject(width), FloatObject(height)]
                ),
                NameObject("/Resources"): DictionaryObject(
                    {NameObject("/Font"): DictionaryObject({NameObject("/Helv"): _helvetica()})}
                ),
            }
        )
        if upright and self.turned:
            stream[NameObject("/Matrix")] = ArrayObject([FloatObject(v) for v in (0, 1, -1, 0, 0, 0)])
        ref = self.writer._add_object(stream)
        return DictionaryObject({NameObject("/N"): ref})


def _helvetica() -> DictionaryObject:
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )


def ink_annotation(
    ctx: AnnotContext, points: Sequence[tuple[float, float]], *, rgb: tuple[float, float, float] = (1, 0, 0)
) -> DictionaryObject:
    """A red /Ink annotation through ``points`` (display coordinates), as a pen tool writes it."""
    media = [_display_to_media(ctx.size, ctx.turned, x, y) for x, y in points]
    xs, ys = [p[0] for p in media], [p[1] for p in media]
    rect = (min(xs) - 2, min(ys) - 2, max(xs) + 2, max(ys) + 2)
    path = " ".join(
        f"{x - rect[0]:.1f} {y - rect[1]:.1f} {'m' if i == 0 else 'l'}" for i, (x, y) in enumerate(media)
    )
    colour = " ".join(f"{v:g}" for v in rgb)
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Ink"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in rect]),
            NameObject("/InkList"): ArrayObject([ArrayObject([FloatObject(v) for p in media for v in p])]),
            NameObject("/C"): ArrayObject([FloatObject(v) for v in rgb]),
            NameObject("/BS"): DictionaryObject({NameObject("/W"): NumberObject(2)}),
            NameObject("/F"): NumberObject(4),
            NameObject("/AP"): ctx.appearance(
                rect[2] - rect[0], rect[3] - rect[1], f"{colour} RG 2 w {path} S"
            ),
        }
    )


def freetext_annotation(
    ctx: AnnotContext, rect: tuple[float, float, float, float], text: str
) -> DictionaryObject:
    """A /FreeText callout typed in red (colour in /DA as PDF editors write it, no /C), with an appearance."""
    media = _rect(ctx.size, ctx.turned, rect)
    width, height = rect[2] - rect[0], rect[3] - rect[1]
    annot = FreeText(
        text=text,
        rect=(float(media[0]), float(media[1]), float(media[2]), float(media[3])),
        font_color="ff0000",
        border_color="ff0000",
        background_color=None,
    )
    annot[NameObject("/F")] = NumberObject(4)
    annot[NameObject("/DA")] = TextStringObject("/Helv 12 Tf 1 0 0 rg")
    annot[NameObject("/AP")] = ctx.appearance(
        width,
        height,
        f"1 0 0 RG 1 w 0.5 0.5 {width - 1:.1f} {height - 1:.1f} re S "
        f"BT /Helv 12 Tf 1 0 0 rg 4 {height / 2 - 4:.1f} Td ({text}) Tj ET",
        upright=True,
    )
    return annot  # type: ignore[no-any-return]


def stamp_annotation(
    ctx: AnnotContext, rect: tuple[float, float, float, float], text: str
) -> DictionaryObject:
    """A rubber /Stamp annotation: ``text`` in its /Contents and drawn by its appearance (green)."""
    media = _rect(ctx.size, ctx.turned, rect)
    width, height = rect[2] - rect[0], rect[3] - rect[1]
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Stamp"),
            NameObject("/Rect"): media,
            NameObject("/Name"): NameObject("/Approved"),
            NameObject("/Contents"): TextStringObject(text),
            NameObject("/C"): ArrayObject([FloatObject(0.1), FloatObject(0.5), FloatObject(0.1)]),
            NameObject("/F"): NumberObject(4),
            NameObject("/AP"): ctx.appearance(
                width,
                height,
                f"0.1 0.5 0.1 RG 3 w 2 2 {width - 4:.1f} {height - 4:.1f} re S "
                f"BT /Helv 18 Tf 0.1 0.5 0.1 rg 12 {height / 2 - 6:.1f} Td ({text}) Tj ET",
                upright=True,
            ),
        }
    )


def _render_pages(
    specs: Sequence[PageSpec], styles: Sequence[Style], prefixes: Sequence[str], start_no: int
) -> tuple[bytes, list[dict[str, str]]]:
    """Draw the pages with reportlab; return the PDF bytes and, per page, the form values to fill."""
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=LETTER)
    values: list[dict[str, str]] = []
    for index, (spec, style, prefix) in enumerate(zip(specs, styles, prefixes, strict=True)):
        width, height = spec.size
        if spec.turned:
            c.setPageSize((height, width))
            c.saveState()
            c.transform(0, 1, -1, 0, height, 0)
        else:
            c.setPageSize((width, height))
        pen = Pen(c, style, width, height, prefix=prefix)
        if spec.source is None:
            pen.noise(start_no + index)
            spec.draw(pen)
        if spec.turned:
            c.restoreState()
        values.append(pen.form_values)
        c.showPage()
    c.save()
    return out.getvalue(), values


#: A scan this coarse is a grey smear: no letter survives.
ILLEGIBLE_DPI = 9


def _scan_page(pdf_bytes: bytes, index: int, *, dpi: int = 110) -> Any:
    """Page ``index`` of ``pdf_bytes`` rasterised (grey JPEG) into an image-only page (pypdf page)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        page = pdf[index]
        bitmap = page.render(scale=dpi / 72, draw_annots=True, grayscale=True)
        image = bitmap.to_pil().convert("L")
        width, height = page.get_size()
    finally:
        pdf.close()
    jpeg = io.BytesIO()
    image.save(jpeg, format="JPEG", quality=55)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(width, height))
    c.drawImage(ImageReader(io.BytesIO(jpeg.getvalue())), 0, 0, width=width, height=height)
    c.showPage()
    c.save()
    return PdfReader(io.BytesIO(out.getvalue())).pages[0]


def write_pdf(path: Path, docs: Sequence[Doc], *, first_page_no: int = 1) -> int:
    """Write the pages of ``docs`` into one PDF; returns its page count."""
    specs = [spec for doc in docs for spec in doc.pages]
    styles = [doc.style for doc in docs for _ in doc.pages]
    prefixes = [
        f"{doc.slug or doc.doc_type}{d}.Page{n + 1}."
        for d, doc in enumerate(docs)
        for n in range(len(doc.pages))
    ]
    raw, values = _render_pages(specs, styles, prefixes, first_page_no)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw)))
    for index, (spec, page_values) in enumerate(zip(specs, values, strict=True)):
        if page_values:
            writer.update_page_form_field_values(writer.pages[index], page_values, auto_regenerate=False)
        ctx = AnnotContext(spec.size, spec.turned, writer)
        for make in spec.annotations:
            writer.add_annotation(page_number=index, annotation=make(ctx))
    if any(values):
        writer.set_need_appearances_writer(True)
    replaced = [i for i, spec in enumerate(specs) if spec.scan or spec.illegible or spec.source is not None]
    if replaced:
        staged = io.BytesIO()
        writer.write(staged)
        staged_bytes = staged.getvalue()
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(staged_bytes)))
        for index in replaced:
            spec = specs[index]
            if spec.source is not None:
                page = PdfReader(spec.source[0]).pages[spec.source[1]]
            else:
                page = _scan_page(staged_bytes, index, dpi=ILLEGIBLE_DPI if spec.illegible else 110)
            writer.insert_page(page, index)
            writer.remove_page(index + 1)
    for index, spec in enumerate(specs):
        if spec.rotate and spec.source is None:
            writer.pages[index].rotate(spec.rotate)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        writer.write(handle)
    return len(specs)


# --------------------------------------------------------------------------- page-level knobs


def scanned(doc: Doc, pages: Sequence[int] | None = None) -> Doc:
    """Make pages of ``doc`` image-only (no text layer)."""
    for index in range(len(doc.pages)) if pages is None else pages:
        doc.pages[index] = replace(doc.pages[index], scan=True)
    return doc


def illegible(doc: Doc, pages: Sequence[int] | None = None) -> Doc:
    """Make pages of ``doc`` image-only and too coarse to read (the one kind of UNREADABLE_PAGE)."""
    for index in range(len(doc.pages)) if pages is None else pages:
        doc.pages[index] = replace(doc.pages[index], illegible=True)
    return doc


def sideways(doc: Doc, page: int = 0, degrees: int = 90) -> Doc:
    """``/Rotate`` one upright page, so that it displays turned (pypdf ``page.rotate``)."""
    doc.pages[page] = replace(doc.pages[page], rotate=degrees, turned=False)
    return doc


def turned_upright(doc: Doc, page: int = 0) -> Doc:
    """Store one page portrait with ``/Rotate 90`` and counter-turned content: it displays upright."""
    doc.pages[page] = replace(doc.pages[page], rotate=90, turned=True)
    return doc


# --------------------------------------------------------------------------- packages and truth

Layout = Literal["combined", "per_doc", "parts"]


@dataclass
class Placed:
    doc: Doc
    file: str
    start: int  # 1-based page in its file

    @property
    def refs(self) -> list[dict[str, Any]]:
        return [{"file": self.file, "page": self.start + i} for i in range(len(self.doc.pages))]

    def ref(self, page_index: int = 0) -> tuple[str, int]:
        return self.file, self.start + page_index


@dataclass
class Package:
    folder: Path
    placed: list[Placed]

    def find(self, doc_type: str, nth: int = 0) -> Placed:
        hits = [p for p in self.placed if p.doc.doc_type == doc_type]
        return hits[nth]

    @property
    def page_types(self) -> dict[tuple[str, int], str]:
        return {(r["file"], r["page"]): p.doc.doc_type for p in self.placed for r in p.refs}


def _chunks(docs: Sequence[Doc], size: int) -> list[list[Doc]]:
    return [list(docs[i : i + size]) for i in range(0, len(docs), size)]


def write_package(
    folder: Path,
    docs: Sequence[Doc],
    layout: Layout = "combined",
    *,
    names: Callable[[int, Doc], str] | None = None,
    part_size: int = 3,
    subfolder: str = "",
    junk: bool = False,
) -> Package:
    """Write ``docs`` as a package folder: one combined PDF, one PDF per document, or a few parts.

    ``names(index, first_doc)`` names each file (sorting by name must keep reading order); ``subfolder`` puts
    the files one level down; ``junk`` adds files that are not PDFs (to be ignored).
    """
    folder.mkdir(parents=True, exist_ok=True)
    if layout == "combined":
        groups = [list(docs)]
    elif layout == "per_doc":
        groups = [[d] for d in docs]
    else:
        groups = _chunks(docs, part_size)

    def default_name(index: int, first: Doc) -> str:
        if layout == "combined":
            return "package.pdf"
        if layout == "per_doc":
            return f"{index + 1:02d}_{first.slug or first.doc_type.upper()}.pdf"
        return f"part{index + 1}.pdf"

    namer = names or default_name
    placed: list[Placed] = []
    page_no = 1
    for index, group in enumerate(groups):
        rel = f"{subfolder.strip('/')}/{namer(index, group[0])}" if subfolder else namer(index, group[0])
        write_pdf(folder / rel, group, first_page_no=page_no)
        start = 1
        for doc in group:
            placed.append(Placed(doc, rel, start))
            start += len(doc.pages)
            page_no += len(doc.pages)
    if junk:
        (folder / "notes.txt").write_text("call the inspector before noon\n", encoding="utf-8")
        (folder / "Thumbs.db").write_bytes(b"\x00\x01junk")
    return Package(folder, placed)


def _finding(
    code: str, doc_type: str | None, field_name: str | None, pages: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "code": code,
        "severity": SEVERITY[code],
        "doc_type": doc_type,
        "field": field_name,
        "pages": list(pages),
    }


def verdict_from(findings: Sequence[dict[str, Any]]) -> str:
    if any(f["severity"] == "error" for f in findings):
        return "fail"
    return "review" if findings else "pass"


@dataclass
class Truth:
    """The corpus truth JSON for a written package, derived with the README's rules."""

    work_type: str
    generator: dict[str, Any] = field(default_factory=dict)

    def findings(self, package: Package) -> list[dict[str, Any]]:
        placed = package.placed
        counted = [p for p in placed if not p.doc.duplicate]
        present = {p.doc.doc_type for p in placed}
        out: list[dict[str, Any]] = []
        for doc_type in REQUIRED[self.work_type]:
            if doc_type not in present:
                out.append(_finding("MISSING_REQUIRED_DOC", doc_type, None, []))
        # order: the first document ranked lower than one already seen (others and copies skipped)
        best = -1
        for p in counted:
            if p.doc.doc_type == "other":
                continue
            rank = CANONICAL_ORDER.index(p.doc.doc_type)
            if rank < best:
                out.append(_finding("OUT_OF_ORDER", p.doc.doc_type, None, p.refs))
                break
            best = max(best, rank)
        # identifiers: the majority of documents (others and copies not counted)
        for attr, pages_attr, name in (
            ("pm", "pm_pages", "pm_number"),
            ("notification", "notif_pages", "notification_number"),
        ):
            votes = Counter(
                getattr(p.doc, attr) for p in counted if p.doc.doc_type != "other" and getattr(p.doc, attr)
            )
            if not votes:
                continue
            majority = votes.most_common(1)[0][0]
            for p in counted:
                number = getattr(p.doc, attr)
                if p.doc.doc_type != "other" and number and number != majority:
                    pages = [p.refs[i] for i in getattr(p.doc, pages_attr)]
                    out.append(_finding("ID_MISMATCH", p.doc.doc_type, name, pages))
        for p in placed:
            if p.doc.duplicate:
                out.append(_finding("DUPLICATE_DOC", p.doc.doc_type, None, p.refs))
                continue
            for defect in p.doc.defects:
                pages = p.refs if defect.code == "SKETCH_NO_MARKUP" else [p.refs[i] for i in defect.pages]
                doc_type = p.doc.doc_type
                out.append(_finding(defect.code, doc_type, defect.field, pages))
        # Scans are legible renders (the image-only real forms too): under the corpus contract
        # OCR reads them and they are checked like text pages. Only illegible ones are unreadable.
        for p in placed:
            for i, spec in enumerate(p.doc.pages):
                if spec.illegible:
                    out.append(_finding("UNREADABLE_PAGE", None, None, [p.refs[i]]))
        return out

    def majority(self, package: Package, attr: str) -> str | None:
        votes = Counter(
            getattr(p.doc, attr)
            for p in package.placed
            if not p.doc.duplicate and p.doc.doc_type != "other" and getattr(p.doc, attr)
        )
        return votes.most_common(1)[0][0] if votes else None

    def build(self, package: Package, name: str | None = None) -> dict[str, Any]:
        findings = self.findings(package)
        return {
            "package": name or package.folder.name,
            "work_type": self.work_type,
            "pm_number": self.majority(package, "pm"),
            "notification_number": self.majority(package, "notification"),
            "verdict": verdict_from(findings),
            "pages": [
                {"file": r["file"], "page": r["page"], "doc_type": p.doc.doc_type}
                for p in package.placed
                for r in p.refs
            ],
            "documents": [
                {
                    "doc_type": p.doc.doc_type,
                    "file": p.file,
                    "start_page": p.start,
                    "end_page": p.start + len(p.doc.pages) - 1,
                }
                for p in package.placed
            ],
            "findings": findings,
            "generator": self.generator,
        }

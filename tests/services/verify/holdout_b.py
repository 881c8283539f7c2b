"""Independent holdout-like package generator "B" (other division, other form designer).

Writes labelled PG&E job packages in the corpus format (``pkg-NNN/`` + ``pkg-NNN.truth.json``):
ruled-cell and key/value forms, other titles and labels, Times/Courier fonts, A4/legal/landscape pages,
drawn and image signatures, drawn check boxes, stamps, fax headers, watermarks, rotated and scanned pages,
sketch markup as annotations, and pages from the real forms.

Usage: ``python -m tests.services.verify.holdout_b OUT --n 40 --seed 7``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFilter
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from reportlab.lib.pagesizes import A4, LEGAL, LETTER
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

REAL_FORMS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "real-forms"
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
TABLOID_LANDSCAPE = (1224.0, 792.0)

CANONICAL = [
    "pole_bill",
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
    "lme",
    "tailboard",
    "field_verification_cert",
    "ccsc",
    "photos",
]
REQUIRED = {
    "estimated": [
        "ec_tag",
        "face_sheet",
        "equipment_info",
        "construction_sketch",
        "ccsc",
        "progress_billing",
    ],
    "ec_corrective": ["ec_tag", "equipment_info", "construction_sketch", "ccsc"],
}
OPTIONAL = {
    "estimated": [
        "paving_form",
        "permit",
        "traffic_control_plan",
        "crew_instructions",
        "crew_materials",
        "unit_price_completion",
        "cwc",
        "construction_feedback",
        "circuit_map_change",
        "job_package_checklist",
        "field_verification_cert",
        "lme",
        "tailboard",
        "photos",
        "pole_bill",
    ],
    "ec_corrective": [
        "unit_price_completion",
        "cwc",
        "crew_instructions",
        "crew_materials",
        "field_verification_cert",
        "photos",
        "lme",
        "tailboard",
    ],
}
OH_SAFETY = [1, 2, 4, 13, 14, 17, 18, 21, 24, 25]
UG_SAFETY = [1, 2, 9, 12, 15]
CHECKED_FIELDS = {
    "ec_tag": ["lan_id", "complete_date", "status", "signature"],
    "face_sheet": ["foreman_lan_id", "date", "built_as_designed_or_redlined", "foreman_signature"],
    "ccsc": ["pm_number", "location_number", "crew_lead_name", "lan_id", "date", "crew_lead_signature"],
    "progress_billing": ["pm_number", "notification_number", "printed_name", "contractor_rep_signature"],
    "field_verification_cert": ["name", "lan_id", "pm_number", "date", "signature"],
}
SIGNATURE_FIELDS = {"signature", "foreman_signature", "crew_lead_signature", "contractor_rep_signature"}
#: Doc types whose pages may be scanned or turned sideways (no checked field on them).
PLAIN_TYPES = {
    "crew_instructions",
    "crew_materials",
    "permit",
    "traffic_control_plan",
    "photos",
    "paving_form",
    "tailboard",
    "construction_feedback",
    "job_package_checklist",
    "circuit_map_change",
    "lme",
    "other",
}

TITLES: dict[str, list[str]] = {
    "ec_tag": [
        "EC Notification Tag",
        "Electric Distribution Tag",
        "ELECTRIC CORRECTIVE TAG - OVERHEAD",
        "Electric Underground Tag",
        "EC Tag / Field Disposition Activity",
    ],
    "face_sheet": [
        "Job Package Face Sheet",
        "CONTRACTOR FACE SHEET",
        "Face Sheet - Estimated Job",
        "Estimated Job Package - Face Sheet",
    ],
    "crew_instructions": ["Crew Work Instructions", "INSTRUCTIONS TO CREW", "Construction Crew Instructions"],
    "crew_materials": ["Crew Materials List", "Job Material List (Crew)", "CREW MATERIAL REQUIREMENTS"],
    "equipment_info": [
        "Electric Equipment & Pole Data",
        "Pole / Equipment Information Sheet",
        "ELECTRIC EQUIPMENT AND POLE INFORMATION",
    ],
    "construction_feedback": [
        "Construction Feedback to Estimating",
        "Construction Feedback Form",
        "FIELD-TO-ESTIMATING CONSTRUCTION FEEDBACK",
    ],
    "construction_sketch": ["CONSTRUCTION DRAWING", "As-Built Construction Sketch", "JOB SKETCH"],
    "circuit_map_change": [
        "Circuit Map Change Request",
        "CMCS - Circuit Map Change Sheet",
        "Circuit Map Correction / Change Sheet",
    ],
    "permit": ["Permit to Excavate", "Encroachment Permit", "STREET OPENING PERMIT"],
    "traffic_control_plan": [
        "Traffic Control Plan",
        "TCP - Lane Closure Layout",
        "Work Zone Traffic Control Plan",
    ],
    "job_package_checklist": [
        "Electric Job Package Checklist",
        "Job Package Contents Checklist",
        "JOB PACKET CHECKLIST",
    ],
    "unit_price_completion": [
        "Unit Price Completion Form (Exhibit B)",
        "Distribution Unit-Price Completion Form - Exh. B",
    ],
    "progress_billing": [
        "Progress Billing Form",
        "Project Completion / Progress Billing",
        "POLE REPLACEMENT PROGRESS BILLING",
    ],
    "paving_form": ["Paving Restoration Request", "Field Paving Form", "PAVEMENT REPAIR ORDER"],
    "cwc": ["Contractor Work Checklist", "CWC - Clearance Request (Contractor Work Checklist)"],
    "lme": [
        "Daily LME",
        "Daily Statement of Labor, Material & Equipment",
        "LABOR / MATERIAL / EQUIPMENT DAILY",
    ],
    "tailboard": ["Job Hazard Analysis / Tailboard", "Tailboard Briefing", "PRE-JOB SAFETY BRIEFING (JHA)"],
    "field_verification_cert": [
        "As-Built Field Verification",
        "Field Verification Certification Sheet",
        "CERTIFICATION OF FIELD VERIFICATION",
    ],
    "ccsc": [
        "Construction Completion Checklist (CCSC)",
        "Distribution Construction Completion Standards Checklist",
        "CCSC - Completion Standards",
    ],
    "photos": ["Photo Log", "Site Photographs", "BEFORE / AFTER PHOTOS"],
    "pole_bill": ["Pole Bill", "NEW BUSINESS POLE BILL"],
}
PM_LABELS = ["PM #", "PM No.", "PM/Order No.", "Order Number", "PM Number", "PM/ORDER #", "Order #"]
NOTIF_LABELS = ["Notification #", "Notif. No.", "Notification Number", "NOTIFICATION NO.", "Notif #"]
LAN_LABELS = ["LAN ID", "LAN-ID", "Lan Id", "LANID"]
CLOSE_HEADINGS = ["CLOSE-OUT", "Completion Information", "Field Completion", "COMPLETION BLOCK"]
OH_ITEMS = [
    "Visibility strips installed on pole",
    "Lowest step 8-1/2 ft or more above grade",
    "Guy markers in place",
    "Guys not broken or slack",
    "Guy preforms applied correctly",
    "Guy insulators 3 in or more apart",
    "Guy insulators 8 ft or more above grade",
    "Guys clear of comm / secondary / service by 3 in",
    "Anchor in line with guy",
    "Anchor ID tag in place",
    "Bolt covers in climbing space",
    "Hardware tight",
    "Conductor-to-ground clearance per GO 95",
    "Clearance to other facilities per GO 95",
    "Connectors per standard",
    "Riser lags / standoffs",
    "High voltage signs in place",
    "Ground molding installed - grounds not exposed",
    "Service clearances",
    "No vegetation strain on services",
    "HFTD radial clearance 10 ft at pole base",
    "Equipment locked",
    "Third-party conditions reported",
    "Vegetation clear 18 in from primary",
    "Vegetation clear 4 ft from primary (HFTD/SRA)",
    "No strain / abrasion from vegetation",
    "Site clean, idle material removed",
]
UG_ITEMS = [
    "Enclosure lids secured",
    "Lids at grade",
    "Lids marked",
    "Pad-mount anchored",
    "Pad-mount caulked",
    "Pad-mount grouted",
    "HV / 8 ft label",
    "Equipment number shown",
    "Door locked and secured",
    "8 ft working space in front",
    "Barrier posts",
    "Live-front barricade in place",
    "Stress cones",
    "Operating number",
    "Equipment grounded",
    "Ground rod connection",
    "Ground wire protected",
    "Cable tags",
    "Cable protectors",
    "Cable identified",
    "Terminations",
    "Elbows seated",
    "Bushings capped",
    "Site clean",
]
FIRST = ["Marisol", "Trent", "Keoni", "Dana", "Ruben", "Olga", "Pritam", "Wes", "Camila", "Bao", "Greer"]
LAST = ["Albright", "Castellanos", "Nakamura", "Fitzgerald", "Oyelaran", "Brandt", "Quintero", "Halvorsen"]
STREETS = ["Lone Tree Way", "Old Stage Rd", "Calaveras Blvd", "Vine Hill Ln", "Zinfandel Ct", "Ridgecrest Dr"]
CITIES = ["Lodi, CA 95240", "Watsonville, CA 95076", "Turlock, CA 95380", "Paso Robles, CA 93446"]
CONTRACTORS = ["SIERRA LINE CONSTRUCTORS, INC.", "Delta Powerline Services LLC", "COASTAL GRID BUILDERS"]


# --------------------------------------------------------------------------- styles and job facts


@dataclass
class Style:
    """How a package's forms are drawn."""

    font: str
    bold: str
    page: tuple[float, float]
    layout: str  # grid | kv | inline
    caps: bool
    date_fmt: str
    check: str  # bracket | glyph | drawn
    sig: str  # typed | initials | xmark | strokes | image
    pager: str | None
    logo: bool
    right_values: bool


@dataclass
class Job:
    """The invented facts a package prints."""

    pm: str
    notif: str
    street: str
    city: str
    foreman: str
    crew_lead: str
    rep: str
    verifier: str
    lans: list[str]
    contractor: str
    day: tuple[int, int, int]


@dataclass
class DocSpec:
    """One document to render and what is wrong with it."""

    doc_type: str
    blank: set[str] = field(default_factory=set)
    pm: str | None = None
    notif: str | None = None
    unchecked: list[str] = field(default_factory=list)
    markup: str = "strokes"  # strokes | annot | stamp | none
    real: str | None = None
    field_pages: dict[str, int] = field(default_factory=dict)
    id_pages: dict[str, list[int]] = field(default_factory=dict)
    n_pages: int = 0
    pdf: bytes = b""
    page_fx: dict[int, str] = field(default_factory=dict)  # scan | rotate_attr | sideways | stamp | fax


def fmt_date(day: tuple[int, int, int], fmt: str) -> str:
    """A date in one of several office spellings."""
    y, m, d = day
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    if fmt == "iso":
        return f"{y:04d}-{m:02d}-{d:02d}"
    if fmt == "mon":
        return f"{months[m - 1]} {d} {y}"
    if fmt == "short":
        return f"{m}/{d}/{y % 100:02d}"
    if fmt == "dmy":
        return f"{d:02d}-{months[m - 1].upper()}-{y}"
    return f"{m:02d}/{d:02d}/{y}"


# --------------------------------------------------------------------------- drawing


class Sheet:
    """A reportlab canvas with a top-down cursor and this package's drawing conventions."""

    def __init__(self, st: Style, rng: random.Random, size: tuple[float, float] | None = None) -> None:
        self.st = st
        self.rng = rng
        self.buf = io.BytesIO()
        self.size = size or st.page
        self.c = Canvas(self.buf, pagesize=self.size)
        self.page_no = 0
        self.y = 0.0
        self.total = 1
        self.title = ""

    # -- pages
    def start(self, title: str, total: int, logo: bool = True) -> None:
        """Open the next page with its header."""
        if self.page_no:
            self.c.showPage()
            self.c.setPageSize(self.size)
        self.page_no += 1
        self.total = total
        self.title = title
        w, h = self.size
        self.y = 40.0
        if logo and self.st.logo:
            self.c.setFillColorRGB(0.15, 0.35, 0.2)
            self.c.rect(40, h - 70, 46, 30, stroke=0, fill=1)
            self.c.setFillColorRGB(1, 1, 1)
            self.c.setFont(self.st.bold, 9)
            self.c.drawString(46, h - 58, "SLC")
            self.c.setFillColorRGB(0, 0, 0)
            self.c.setFont(self.st.font, 8)
            self.c.drawString(94, h - 50, "Sierra Line Constructors - Electric Division")
            self.y = 84.0
        t = title.upper() if self.st.caps else title
        self.c.setFont(self.st.bold, 15)
        self.c.drawCentredString(w / 2, h - self.y - 10, t)
        self.y += 30

    def finish_page(self) -> None:
        """Footer with the page counter in this package's spelling."""
        if self.st.pager:
            txt = self.st.pager.format(i=self.page_no, n=self.total)
            self.c.setFont(self.st.font, 8)
            self.c.drawRightString(self.size[0] - 40, 26, txt)

    def done(self) -> bytes:
        self.finish_page()
        self.c.save()
        return self.buf.getvalue()

    # -- primitives
    def _ty(self, top: float) -> float:
        return self.size[1] - top

    def text(self, x: float, s: str, size: float = 10, bold: bool = False, dy: float = 14) -> None:
        self.c.setFont(self.st.bold if bold else self.st.font, size)
        self.c.drawString(x, self._ty(self.y + size), s)
        self.y += dy

    def heading(self, s: str) -> None:
        self.y += 6
        self.text(40, s.upper() if self.st.caps else s, 11, bold=True, dy=18)

    def para(self, s: str, size: float = 9) -> None:
        width = self.size[0] - 80
        self.c.setFont(self.st.font, size)
        line = ""
        for word in s.split():
            trial = (line + " " + word).strip()
            if self.c.stringWidth(trial, self.st.font, size) > width:
                self.text(40, line, size, dy=size + 3)
                line = word
            else:
                line = trial
        if line:
            self.text(40, line, size, dy=size + 3)
        self.y += 4

    def fields(self, pairs: list[tuple[str, str | None]], layout: str | None = None) -> None:
        """Labelled values (None = blank, drawn as underscores) in this package's layout."""
        layout = layout or self.st.layout
        blank = "______________"
        c = self.c
        x0, x1 = 40.0, self.size[0] - 40
        if layout == "grid":
            per_row = 3 if len(pairs) >= 3 else len(pairs)
            cw = (x1 - x0) / per_row
            for r in range(0, len(pairs), per_row):
                row = pairs[r : r + per_row]
                top = self.y
                for i, (label, value) in enumerate(row):
                    cx = x0 + i * cw
                    c.setLineWidth(0.6)
                    c.rect(cx, self._ty(top + 32), cw, 32, stroke=1, fill=0)
                    c.setFont(self.st.bold, 6.5)
                    c.drawString(cx + 3, self._ty(top + 8), label.upper())
                    c.setFont(self.st.font, 10)
                    v = value if value is not None else blank
                    if self.st.right_values:
                        c.drawRightString(cx + cw - 4, self._ty(top + 27), v)
                    else:
                        c.drawString(cx + 6, self._ty(top + 27), v)
                self.y = top + 34
        elif layout == "kv":
            lw = 190.0
            for label, value in pairs:
                top = self.y
                c.setLineWidth(0.5)
                c.rect(x0, self._ty(top + 18), lw, 18, stroke=1, fill=0)
                c.rect(x0 + lw, self._ty(top + 18), min(220.0, x1 - x0 - lw), 18, stroke=1, fill=0)
                c.setFont(self.st.bold, 9)
                c.drawString(x0 + 4, self._ty(top + 13), label)
                c.setFont(self.st.font, 10)
                v = value if value is not None else blank
                if self.st.right_values:
                    c.drawRightString(x0 + lw + min(220.0, x1 - x0 - lw) - 4, self._ty(top + 13), v)
                else:
                    c.drawString(x0 + lw + 6, self._ty(top + 13), v)
                self.y = top + 18
            self.y += 6
        else:
            x = x0
            c.setFont(self.st.font, 10)
            for label, value in pairs:
                v = value if value is not None else blank
                txt = f"{label}: {v}"
                width = c.stringWidth(txt, self.st.font, 10)
                if x > x0 and x + width > x1:
                    x = x0
                    self.y += 16
                c.drawString(x, self._ty(self.y + 10), txt)
                x += max(width + 30, (x1 - x0) / 2 if width < (x1 - x0) / 2 - 30 else 0)
            self.y += 18

    def checks(self, items: list[tuple[str, bool]], x: float = 40, size: float = 10) -> None:
        """A row of check boxes in this package's style."""
        c = self.c
        base = self._ty(self.y + size)
        for label, ticked in items:
            if self.st.check == "bracket":
                s = f"[{'X' if ticked else ' '}] {label}"
                c.setFont(self.st.font, size)
                c.drawString(x, base, s)
                x += c.stringWidth(s, self.st.font, size) + 18
            elif self.st.check == "glyph":
                c.setFont("DejaVu", size)
                g = "\u2612" if ticked else "\u2610"
                c.drawString(x, base, g)
                c.setFont(self.st.font, size)
                c.drawString(x + 13, base, label)
                x += 13 + c.stringWidth(label, self.st.font, size) + 18
            else:
                c.setLineWidth(0.8)
                c.rect(x, base - 1, 9, 9, stroke=1, fill=0)
                if ticked:
                    c.setLineWidth(1.4)
                    c.line(x + 1.5, base + 0.5, x + 7.5, base + 6.5)
                    c.line(x + 1.5, base + 6.5, x + 7.5, base + 0.5)
                c.setFont(self.st.font, size)
                c.drawString(x + 13, base, label)
                x += 13 + c.stringWidth(label, self.st.font, size) + 18
        self.y += size + 8

    def signature(self, label: str, name: str | None, x: float = 40, width: float = 200) -> None:
        """A signature line: the mark above, underscores or a rule, the label below."""
        c = self.c
        line_y = self._ty(self.y + 30)
        if name is None:
            c.setFont(self.st.font, 10)
            c.drawString(x, line_y, "_" * 30)
        else:
            c.setLineWidth(0.7)
            c.line(x, line_y, x + width, line_y)
            kind = self.st.sig
            if kind == "typed":
                c.setFont(self.st.font, 11)
                c.drawString(x + 6, line_y + 4, f"/s/ {name}")
            elif kind == "initials":
                ini = "".join(p[0] for p in name.replace(".", " ").split() if p)
                c.setFont(self.st.font, 11)
                c.drawString(x + 6, line_y + 4, f"/s/ {ini}")
            elif kind == "xmark":
                c.setFont(self.st.bold, 14)
                c.drawString(x + 6, line_y + 4, "X")
            elif kind == "strokes":
                c.setStrokeColorRGB(0.05, 0.08, 0.35)
                c.setLineWidth(1.3)
                px = x + 10
                for _ in range(4):
                    dx = self.rng.uniform(18, 34)
                    c.bezier(
                        px,
                        line_y + 4,
                        px + dx * 0.3,
                        line_y + self.rng.uniform(14, 24),
                        px + dx * 0.7,
                        line_y - 2,
                        px + dx,
                        line_y + self.rng.uniform(4, 12),
                    )
                    px += dx
                c.setStrokeColorRGB(0, 0, 0)
            else:
                c.drawImage(ImageReader(scribble_png(self.rng)), x + 8, line_y + 2, 120, 26, mask="auto")
        c.setFont(self.st.font, 8)
        c.drawString(x, line_y - 10, label)
        self.y += 44

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        """A plain ruled table."""
        c = self.c
        x0, x1 = 40.0, self.size[0] - 40
        cw = (x1 - x0) / len(header)
        for r, row in enumerate([header, *rows]):
            top = self.y
            for i, cell in enumerate(row):
                c.setLineWidth(0.4)
                c.rect(x0 + i * cw, self._ty(top + 15), cw, 15, stroke=1, fill=0)
                c.setFont(self.st.bold if r == 0 else self.st.font, 8)
                c.drawString(x0 + i * cw + 3, self._ty(top + 11), cell)
            self.y = top + 15
        self.y += 8


def scribble_png(rng: random.Random) -> io.BytesIO:
    """A handwriting-like scribble on a transparent background, as PNG."""
    img = Image.new("RGBA", (480, 104), (255, 255, 255, 0))
    d = ImageDraw.Draw(img)
    pts = []
    x = 10.0
    while x < 460:
        pts.append((x, 52 + 34 * math.sin(x / rng.uniform(9, 16)) * rng.uniform(0.4, 1.0)))
        x += rng.uniform(3, 7)
    d.line(pts, fill=(20, 20, 90, 255), width=5)
    out = io.BytesIO()
    img.save(out, "PNG")
    out.seek(0)
    return out


# --------------------------------------------------------------------------- documents


def _lbl(rng: random.Random, options: list[str]) -> str:
    return rng.choice(options)


def _val(spec: DocSpec, name: str, value: str) -> str | None:
    return None if name in spec.blank else value


def _ids(
    s: Sheet, job: Job, spec: DocSpec, notif: bool = True, extra: list[tuple[str, str | None]] | None = None
) -> None:
    pairs: list[tuple[str, str | None]] = []
    if "pm_number" in spec.blank:
        pairs.append((_lbl(s.rng, PM_LABELS), None))
    else:
        pm = spec.pm or job.pm
        pairs.append((_lbl(s.rng, PM_LABELS), f"PM-{pm}" if s.rng.random() < 0.15 else pm))
        spec.id_pages.setdefault("pm_number", []).append(s.page_no)
    if notif:
        if "notification_number" in spec.blank:
            pairs.append((_lbl(s.rng, NOTIF_LABELS), None))
        else:
            pairs.append((_lbl(s.rng, NOTIF_LABELS), spec.notif or job.notif))
            spec.id_pages.setdefault("notification_number", []).append(s.page_no)
    pairs.extend(extra or [])
    s.fields(pairs)


def _address(s: Sheet, job: Job) -> None:
    if s.rng.random() < 0.5:
        s.text(40, "Job Site Address:", 9, bold=True)
        s.text(52, job.street, 10)
        s.text(52, job.city, 10)
        s.y += 4
    else:
        s.fields([("Address", job.street), ("City / ZIP", job.city)])


def _boiler(s: Sheet) -> None:
    s.para(
        "This form is part of the as-built record. The contractor is responsible for the accuracy of all "
        "entries. Incomplete forms may be returned. Retain a copy for seven (7) years per Exhibit 5."
    )


def render_ec_tag(s: Sheet, job: Job, spec: DocSpec) -> None:
    rng = s.rng
    title = rng.choice(TITLES["ec_tag"])
    n = rng.choice([2, 3])
    s.start(title, n)
    s.text(40, "Field Disposition Activity - Corrective Notification", 10)
    _ids(
        s,
        job,
        spec,
        extra=[("Priority", rng.choice("ABCE")), ("MAT Code", rng.choice(["2AA", "KAA", "2AJ"]))],
    )
    _address(s, job)
    s.heading("Problem Description")
    s.para("Pole top rot at crossarm bolt; crossarm split at center phase. Replace pole and crossarm.")
    s.heading("Comment History")
    s.para(
        f"{fmt_date(job.day, 'us')} KX3P: field verified, photos attached. Priority confirmed by supervisor."
    )
    s.finish_page()
    s.start(title + " (continued)", n)
    s.heading(rng.choice(CLOSE_HEADINGS))
    day = fmt_date(job.day, s.st.date_fmt)
    s.fields(
        [
            (_lbl(rng, LAN_LABELS), _val(spec, "lan_id", job.lans[0])),
            (
                rng.choice(["Complete Date", "Completed / Canceled Date", "Date Completed"]),
                _val(spec, "complete_date", day),
            ),
            ("Actual Hours", str(rng.randint(3, 11))),
        ]
    )
    spec.field_pages.update({"lan_id": s.page_no, "complete_date": s.page_no, "status": s.page_no})
    s.text(40, "Status:", 10, bold=True, dy=4)
    ticked = "status" not in spec.blank
    s.checks([("Completed", ticked), ("Canceled", False), ("Found Completed Upon Arrival", False)], x=90)
    s.text(40, "Crew Type:", 10, bold=True, dy=4)
    s.checks([("PG&E Crew", False), ("T-Man", False), ("Contractor", True)], x=100)
    s.signature(
        rng.choice(["Signature", "Completed By (Signature)", "Crew Foreman Signature"]),
        None if "signature" in spec.blank else job.foreman,
    )
    spec.field_pages["signature"] = s.page_no
    if n == 3:
        s.finish_page()
        s.start("FDA Attributes", n)
        s.table(
            ["Category", "Condition", "Action", "New", "Priority"],
            [
                ["Pole", "Rotten", "Replace", "X", "B"],
                ["Crossarm", "Split", "Replace", "X", "B"],
                ["Guy", "OK", "No change", "", ""],
            ],
        )


def render_face_sheet(s: Sheet, job: Job, spec: DocSpec) -> None:
    rng = s.rng
    title = rng.choice(TITLES["face_sheet"])
    n = 2
    s.start(title, n)
    _ids(s, job, spec, extra=[("Order Type", "E460"), ("Division", "ST")])
    _address(s, job)
    s.fields([("Estimator", f"{rng.choice(FIRST)} {rng.choice(LAST)}"), ("Contractor", job.contractor)], "kv")
    s.heading("Job Description")
    s.para(
        "Replace 45-4 pole with 50-3 DF pole; transfer primary, secondary and services; new guy and anchor."
    )
    s.table(
        ["Unit", "Description", "Qty", "UOM"],
        [["07D", "Pole replacement", "1", "EA"], ["ANCH", "Anchor", "1", "EA"]],
    )
    s.finish_page()
    s.start(title + " - Sign-Off", n)
    s.heading(rng.choice(["Construction Foreman Sign-Off", "Foreman Sign-Off", "FIELD COMPLETION"]))
    bad = "built_as_designed_or_redlined" not in spec.blank
    s.checks(
        [("Built as Designed", bad), ("Redlined", False), ("Feedback Form completed", rng.random() < 0.5)]
    )
    s.signature(
        rng.choice(["Foreman Signature", "Construction Foreman (Signature)"]),
        None if "foreman_signature" in spec.blank else job.foreman,
    )
    s.fields(
        [
            (
                rng.choice(["Foreman LAN ID", "Foreman LAN-ID", "LAN ID (Foreman)"]),
                _val(spec, "foreman_lan_id", job.lans[0]),
            ),
            ("Date", _val(spec, "date", fmt_date(job.day, s.st.date_fmt))),
        ]
    )
    s.signature("Supervisor Signature", None)
    s.fields([("Supervisor LAN ID", None), ("Date", None)])
    for k in ("foreman_signature", "foreman_lan_id", "date", "built_as_designed_or_redlined"):
        spec.field_pages[k] = s.page_no


def render_ccsc(s: Sheet, job: Job, spec: DocSpec) -> None:
    rng = s.rng
    title = rng.choice(TITLES["ccsc"])
    s.start(title, 2)
    s.text(40, "TD-2504P-01-F01 Rev 7", 8)
    s.fields(
        [
            (rng.choice(PM_LABELS), None if "pm_number" in spec.blank else (spec.pm or job.pm)),
            (
                rng.choice(["Location #", "Loc. No.", "Location Number", "LOC #"]),
                _val(spec, "location_number", "2"),
            ),
            (
                "Address / GPS",
                f"{job.street} / 38.1{rng.randint(1000, 9999)}, -121.2{rng.randint(1000, 9999)}",
            ),
        ]
    )
    if "pm_number" not in spec.blank:
        spec.id_pages.setdefault("pm_number", []).append(s.page_no)
    spec.field_pages.update({"pm_number": s.page_no, "location_number": s.page_no})
    s.text(40, "* = safety-critical. Tick = compliant or not applicable.", 8)
    noise_untick = {n for n in range(1, 28) if n not in OH_SAFETY and rng.random() < 0.1}

    def section(name: str, items: list[str], safety: list[int], prefix: str, skip: set[int]) -> None:
        s.heading(name)
        for i, item in enumerate(items, 1):
            star = "* " if i in safety else ""
            ticked = f"{prefix}-{i}" not in spec.unchecked and i not in skip
            s.checks([(f"{i}. {star}{item}", ticked)], size=8.5)
            s.y -= 5.5

    section(rng.choice(["OVERHEAD (OH)", "Overhead Construction"]), OH_ITEMS, OH_SAFETY, "OH", noise_untick)
    s.finish_page()
    s.start(title + " (page 2)", 2)
    ug_noise = {n for n in range(1, 25) if n not in UG_SAFETY and rng.random() < 0.1}
    section(rng.choice(["UNDERGROUND (UG)", "Underground Construction"]), UG_ITEMS, UG_SAFETY, "UG", ug_noise)
    s.y += 8
    s.fields(
        [
            (
                rng.choice(["Crew Lead Name", "Crew Leader (Print)", "Foreman / Crew Lead Name"]),
                _val(spec, "crew_lead_name", job.crew_lead),
            ),
            (_lbl(rng, LAN_LABELS), _val(spec, "lan_id", job.lans[1])),
            ("Date", _val(spec, "date", fmt_date(job.day, s.st.date_fmt))),
        ]
    )
    s.signature(
        rng.choice(["Crew Lead Signature", "Signature of Crew Lead"]),
        None if "crew_lead_signature" in spec.blank else job.crew_lead,
    )
    for k in ("crew_lead_name", "lan_id", "date", "crew_lead_signature"):
        spec.field_pages[k] = s.page_no
    s.text(40, "Comments: Built as designed.", 9)


def render_progress_billing(s: Sheet, job: Job, spec: DocSpec) -> None:
    rng = s.rng
    s.start(rng.choice(TITLES["progress_billing"]), 1)
    s.text(40, "Types 1 - 4", 9)
    s.fields([("Contractor", job.contractor), ("PO #", f"CWA-{rng.randint(10**9, 10**10 - 1)}")], "kv")
    _ids(s, job, spec, extra=[("Location #", "2"), ("Date", fmt_date(job.day, s.st.date_fmt))])
    _address(s, job)
    s.checks([("Type 1", False), ("Type 2", True), ("Type 3", False), ("Type 4", False)])
    s.table(["Unit", "Description", "Qty", "% Complete"], [["07D", "Pole replacement", "1", "100%"]])
    _boiler(s)
    s.signature(
        rng.choice(["Contractor Representative Signature", "Contractor Rep. Signature"]),
        None if "contractor_rep_signature" in spec.blank else job.rep,
    )
    s.fields(
        [(rng.choice(["Printed Name", "Print Name", "Name (Print)"]), _val(spec, "printed_name", job.rep))]
    )
    s.signature("PG&E Inspector Signature", None)
    for k in CHECKED_FIELDS["progress_billing"]:
        spec.field_pages[k] = s.page_no


def render_fvc(s: Sheet, job: Job, spec: DocSpec) -> None:
    rng = s.rng
    s.start(rng.choice(TITLES["field_verification_cert"]), 1)
    s.text(40, "TD-2051P-10 As-Built Procedure, Appendix A", 9)
    _ids(s, job, spec, notif=rng.random() < 0.5)
    s.para("I certify that the work shown in the attached as-built documents was verified in the field and:")
    s.checks([("Built as designed", True), ("Redlined (see construction drawing)", False)])
    s.signature(
        rng.choice(["Signature", "Qualified Professional's Signature"]),
        None if "signature" in spec.blank else job.verifier,
    )
    s.fields(
        [
            (
                rng.choice(["Name", "Print Name", "Qualified Professional Name"]),
                _val(spec, "name", job.verifier),
            ),
            (_lbl(rng, LAN_LABELS), _val(spec, "lan_id", job.lans[2])),
            (
                rng.choice(["Date Field Verified", "Verification Date", "Date"]),
                _val(spec, "date", fmt_date(job.day, s.st.date_fmt)),
            ),
        ]
    )
    for k in CHECKED_FIELDS["field_verification_cert"]:
        spec.field_pages[k] = s.page_no


def render_sketch(s: Sheet, job: Job, spec: DocSpec) -> None:
    rng = s.rng
    c = s.c
    s.start(rng.choice(TITLES["construction_sketch"]), 1, logo=False)
    w, _h = s.size
    c.setStrokeColorRGB(0, 0, 0)
    c.setLineWidth(1)
    c.line(60, 420, w - 300, 420)
    c.line(60, 380, w - 300, 380)
    c.setFont(s.st.font, 10)
    c.drawString(300, 398, job.street.upper())
    for i, px in enumerate(range(120, int(w - 320), 150)):
        c.circle(px, 450, 7, stroke=1, fill=0)
        c.drawString(px - 8, 465, f"P{i + 1}")
        c.line(px, 450, px + 150 if px + 150 < w - 320 else px, 450)
    # title block
    c.rect(w - 280, 40, 240, 160, stroke=1, fill=0)
    c.setFont(s.st.font, 9)
    ty = 184
    for line in [
        f"PM {spec.pm or job.pm}",
        f"Notif {spec.notif or job.notif}",
        job.street,
        f"SCALE: 1\" = {rng.choice([20, 30, 40])}'",
        f"DRAWN: {fmt_date(job.day, 'us')}",
        "SHEET 1 OF 1",
    ]:
        c.drawString(w - 272, ty, line)
        ty -= 16
    spec.id_pages["pm_number"] = [1]
    spec.id_pages["notification_number"] = [1]
    if spec.markup == "strokes":
        c.setStrokeColorRGB(0.85, 0.05, 0.05)
        c.setLineWidth(2)
        c.line(262, 440, 282, 460)
        c.line(262, 460, 282, 440)
        c.setStrokeColorRGB(0.05, 0.15, 0.85)
        c.circle(420, 450, 18, stroke=1, fill=0)
        c.setFillColorRGB(0.05, 0.15, 0.85)
        c.drawString(400, 490, "NEW 50' CL3 DF POLE")
        c.setFillColorRGB(0, 0, 0)
        c.setStrokeColorRGB(0, 0, 0)
    elif spec.markup == "stamp":
        c.setLineWidth(2)
        c.rect(80, 560, 220, 40, stroke=1, fill=0)
        c.setFont(s.st.bold, 16)
        c.drawString(92, 574, "BUILT AS DESIGNED")


def add_sketch_annotations(page: PageObject, rng: random.Random) -> None:
    """Red ink strokes and a blue FreeText callout as PDF annotations (no page content)."""
    ink = DictionaryObject()
    pts = [FloatObject(v) for v in (300, 300, 340, 330, 380, 300, 420, 335)]
    ink.update(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Ink"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (295, 295, 425, 340)]),
            NameObject("/C"): ArrayObject([FloatObject(0.9), FloatObject(0), FloatObject(0)]),
            NameObject("/InkList"): ArrayObject([ArrayObject(pts)]),
            NameObject("/BS"): DictionaryObject({NameObject("/W"): NumberObject(2)}),
            NameObject("/F"): NumberObject(4),
        }
    )
    ap = DecodedStreamObject()
    ap.set_data(b"0.9 0 0 RG 2 w 300 300 m 340 330 l 380 300 l 420 335 l S")
    ap.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject([FloatObject(v) for v in (295, 295, 425, 340)]),
        }
    )
    ink[NameObject("/AP")] = DictionaryObject({NameObject("/N"): ap})
    free = DictionaryObject()
    free.update(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/FreeText"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (500, 520, 700, 545)]),
            NameObject("/Contents"): TextStringObject("INSTALL NEW 25 KVA XFMR"),
            NameObject("/DA"): TextStringObject("0 0 1 rg /Helv 11 Tf"),
            NameObject("/C"): ArrayObject([FloatObject(0), FloatObject(0), FloatObject(1)]),
            NameObject("/F"): NumberObject(4),
        }
    )
    annots = ArrayObject([ink, free] if rng.random() < 0.6 else [ink])
    page[NameObject("/Annots")] = annots


def _generic(
    kind: str, body: Callable[[Sheet, Job, DocSpec], None], notif: bool = True, pages: int = 1
) -> Callable[[Sheet, Job, DocSpec], None]:
    """A renderer for a form with an ID header and a simple body."""

    def render(s: Sheet, job: Job, spec: DocSpec) -> None:
        title = s.rng.choice(TITLES[kind])
        n = pages if pages > 0 else s.rng.choice([1, 2])
        s.start(title, n)
        _ids(s, job, spec, notif=notif)
        body(s, job, spec)
        for _ in range(n - 1):
            s.finish_page()
            s.start(title + " - continued", n)
            _boiler(s)
            s.para(
                "Notes: "
                + " ".join(
                    s.rng.sample(
                        [
                            "no change",
                            "see sketch",
                            "per design",
                            "field verified",
                            "customer notified",
                            "USA ticket active",
                        ],
                        3,
                    )
                )
            )

    return render


def _body_instructions(s: Sheet, job: Job, spec: DocSpec) -> None:
    _address(s, job)
    for i, step in enumerate(
        [
            "Hold tailboard; review energized work and escape routes.",
            "Set new pole 8 ft from existing; transfer primary and secondary.",
            "Install new guy and anchor as drawn.",
            "Redline any change on the drawing.",
        ],
        1,
    ):
        s.text(40, f"Step {i}) {step}", 10)


def _body_materials(s: Sheet, job: Job, spec: DocSpec) -> None:
    s.table(
        ["Qty", "UOM", "Material Code", "Description"],
        [
            ["1", "EA", "M294371", "POLE, WOOD, 50 FT CL3"],
            ["2", "EA", "M118826", "BOLT, MACHINE 5/8"],
            ["120", "FT", "M550193", "WIRE, GUY 3/8 EHS"],
        ],
    )


def _body_equipment(s: Sheet, job: Job, spec: DocSpec) -> None:
    s.heading("Pole Data")
    s.table(
        ["Loc", "Height", "Class", "Installed", "Removed", "Pole No."],
        [["2", "45", "4", "", "X", "1184402"], ["2", "50", "3", "X", "", "2290517"]],
    )
    s.heading("Equipment Data")
    s.table(["Loc", "Equip No.", "Size", "Serial", "Mfr"], [["2", "T88102", "25 KVA", "HX771203", "Howard"]])


def _body_feedback(s: Sheet, job: Job, spec: DocSpec) -> None:
    s.fields(
        [("Foreman", job.foreman), ("Constructible as designed?", "Yes"), ("Material list correct?", "No")],
        "kv",
    )
    s.para("Comments to estimator: anchor moved 6 ft east to avoid driveway.")


def _body_generic(s: Sheet, job: Job, spec: DocSpec) -> None:
    _address(s, job)
    _boiler(s)
    s.checks([("Reviewed", True), ("Attached", True), ("N/A", False)])


def _body_lme(s: Sheet, job: Job, spec: DocSpec) -> None:
    s.fields([("Date", fmt_date(job.day, s.st.date_fmt)), ("Start", "07:00"), ("End", "15:30")])
    s.table(
        ["Craft", "ST Hrs", "OT Hrs", "Rate", "Amount"],
        [["Foreman", "8", "0", "142.10", "1136.80"], ["Lineman", "8", "1", "131.55", "1249.73"]],
    )
    s.signature("Signature of Contractor", job.rep)


def _body_photos(s: Sheet, job: Job, spec: DocSpec) -> None:
    c = s.c
    for i in range(2):
        c.setFillColorRGB(0.55 + 0.1 * i, 0.6, 0.5)
        c.rect(60 + i * 250, s._ty(s.y + 150), 220, 150, stroke=0, fill=1)
        c.setFillColorRGB(0, 0, 0)
    s.y += 160
    s.text(60, "Photo 1 - BEFORE - wide view          Photo 2 - AFTER - close-up", 9)


def _body_checklist(s: Sheet, job: Job, spec: DocSpec) -> None:
    for doc in ["EC Tag", "Face Sheet", "Construction Drawing", "CCSC", "Photos"]:
        s.checks([(doc, True)])


def _body_tcp(s: Sheet, job: Job, spec: DocSpec) -> None:
    c = s.c
    c.line(60, s._ty(s.y + 60), s.size[0] - 60, s._ty(s.y + 60))
    c.line(60, s._ty(s.y + 120), s.size[0] - 60, s._ty(s.y + 120))
    for i in range(6):
        c.circle(120 + i * 50, s._ty(s.y + 90), 5, stroke=1, fill=0)
    s.y += 140
    s.text(40, "Cones at 50 ft spacing; flagger at each end. ROAD WORK AHEAD signs 500 ft.", 9)


RENDERERS: dict[str, Callable[[Sheet, Job, DocSpec], None]] = {
    "ec_tag": render_ec_tag,
    "face_sheet": render_face_sheet,
    "ccsc": render_ccsc,
    "progress_billing": render_progress_billing,
    "field_verification_cert": render_fvc,
    "construction_sketch": render_sketch,
    "crew_instructions": _generic("crew_instructions", _body_instructions, pages=0),
    "crew_materials": _generic("crew_materials", _body_materials, notif=False),
    "equipment_info": _generic("equipment_info", _body_equipment),
    "construction_feedback": _generic("construction_feedback", _body_feedback, notif=False),
    "circuit_map_change": _generic("circuit_map_change", _body_generic, notif=False),
    "permit": _generic("permit", _body_generic, pages=0),
    "traffic_control_plan": _generic("traffic_control_plan", _body_tcp, notif=False),
    "job_package_checklist": _generic("job_package_checklist", _body_checklist),
    "unit_price_completion": _generic("unit_price_completion", _body_generic),
    "paving_form": _generic("paving_form", _body_generic, notif=False),
    "cwc": _generic("cwc", _body_generic),
    "lme": _generic("lme", _body_lme, notif=False),
    "tailboard": _generic("tailboard", _body_generic, notif=False),
    "photos": _generic("photos", _body_photos, pages=0),
    "pole_bill": _generic("pole_bill", _body_generic, notif=False),
}


def render_other(s: Sheet, job: Job, spec: DocSpec) -> None:
    kind = s.rng.choice(["transmittal", "fax", "notes"])
    if kind == "transmittal":
        s.start("Transmittal Letter", 1)
        s.para(
            f"To: PG&E As-Built Processing. Enclosed please find the as-built package for the work at "
            f"{job.street}. Please contact our office with any questions. Sincerely, {job.rep}"
        )
    elif kind == "fax":
        s.start("FAX COVER SHEET", 1)
        s.fields([("To", "PG&E Mapping"), ("From", job.contractor), ("Pages", "incl. cover")], "kv")
        s.para(
            "CONFIDENTIALITY NOTICE: the documents accompanying this transmission contain information "
            "belonging to the sender."
        )
    else:
        s.start("Foreman's Field Notes", 1)
        s.para("Crew on site 06:45. Customer advised of outage window. Dog in backyard - owner secured it.")


# --------------------------------------------------------------------------- page effects


def scan_page(pdf: bytes, index: int, rng: random.Random) -> bytes:
    """The page rendered at 150 dpi with noise and slight skew, as an image-only one-page PDF."""
    doc = pdfium.PdfDocument(pdf)
    page = doc[index]
    w, h = page.get_size()
    img = page.render(scale=150 / 72).to_pil().convert("L")
    img = img.rotate(rng.uniform(-1.5, 1.5), expand=False, fillcolor=255)
    noise = Image.effect_noise(img.size, 22)
    img = Image.blend(img, noise, 0.12).filter(ImageFilter.GaussianBlur(0.4))
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(w, h))
    jpg = io.BytesIO()
    img.save(jpg, "JPEG", quality=70)
    jpg.seek(0)
    c.drawImage(ImageReader(jpg), 0, 0, w, h)
    c.showPage()
    c.save()
    return buf.getvalue()


def overlay(page: PageObject, draw: Callable[[Canvas, float, float], None]) -> None:
    """Draw extra content (stamps, fax header, watermark) over a page."""
    w, h = float(page.mediabox.width), float(page.mediabox.height)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(w, h))
    draw(c, w, h)
    c.save()
    page.merge_page(PdfReader(io.BytesIO(buf.getvalue())).pages[0])


def stamp(text: str, rgb: tuple[float, float, float]) -> Callable[[Canvas, float, float], None]:
    def draw(c: Canvas, w: float, h: float) -> None:
        c.saveState()
        c.translate(w * 0.62, h * 0.55)
        c.rotate(18)
        c.setStrokeColorRGB(*rgb)
        c.setFillColorRGB(*rgb)
        c.setLineWidth(2.5)
        c.rect(-10, -10, 150, 38, stroke=1, fill=0)
        c.setFont("Helvetica-Bold", 20)
        c.drawString(0, 0, text)
        c.restoreState()

    return draw


def fax_header(c: Canvas, w: float, h: float) -> None:
    c.setFont("Courier", 7)
    c.drawString(
        20, h - 12, "MAR-14-2025 10:42  FROM: SLC YARD OFFICE  (209)555-0182   TO: ASBUILT DESK    P.003/017"
    )


def watermark(c: Canvas, w: float, h: float) -> None:
    c.saveState()
    c.setFillColorRGB(0.82, 0.82, 0.82)
    c.translate(w / 2, h / 2)
    c.rotate(40)
    c.setFont("Helvetica-Bold", 54)
    c.drawCentredString(0, 0, "CONTROLLED COPY")
    c.restoreState()


def rotate_attr(page: PageObject) -> None:
    """Store the page turned a quarter (portrait box) with /Rotate 90 so it still displays upright."""
    w, h = float(page.mediabox.width), float(page.mediabox.height)
    page.add_transformation(Transformation().rotate(90).translate(h, 0))
    page.mediabox.lower_left = (0, 0)
    page.mediabox.upper_right = (h, w)
    page.cropbox.lower_left = (0, 0)
    page.cropbox.upper_right = (h, w)
    page.rotate(90)


def sideways(page: PageObject) -> None:
    """Leave the content as is but mark the page /Rotate 90: it displays turned (a sideways feed)."""
    page.rotate(90)


# --------------------------------------------------------------------------- packages


PM_PRINTERS = {
    "crew_instructions",
    "crew_materials",
    "equipment_info",
    "construction_feedback",
    "circuit_map_change",
    "permit",
    "traffic_control_plan",
    "job_package_checklist",
    "unit_price_completion",
    "paving_form",
    "cwc",
    "lme",
    "tailboard",
    "photos",
    "ccsc",
    "progress_billing",
    "field_verification_cert",
}
NOTIF_PRINTERS = {
    "crew_instructions",
    "equipment_info",
    "job_package_checklist",
    "unit_price_completion",
    "permit",
    "cwc",
    "photos",
    "progress_billing",
}
DEFECTS = (
    [
        "missing_doc",
        "out_of_order",
        "id_pm",
        "id_notif",
        "sketch_bare",
        "duplicate",
        "scan",
        "oh_safety",
        "ug_safety",
    ]
    + [f"sig:{d}" for d in CHECKED_FIELDS]
    + [f"field:{d}:{f}" for d, fs in CHECKED_FIELDS.items() for f in fs if f not in SIGNATURE_FIELDS]
)


def make_style(rng: random.Random) -> Style:
    font, bold = rng.choice(
        [("Times-Roman", "Times-Bold"), ("Courier", "Courier-Bold"), ("Helvetica", "Helvetica-Bold")]
    )
    return Style(
        font=font,
        bold=bold,
        page=rng.choice([LETTER, A4, LEGAL]),
        layout=rng.choice(["grid", "kv", "inline"]),
        caps=rng.random() < 0.5,
        date_fmt=rng.choice(["iso", "mon", "short", "dmy", "us"]),
        check=rng.choice(["bracket", "glyph", "drawn"]),
        sig=rng.choice(["typed", "initials", "xmark", "strokes", "image"]),
        pager=rng.choice(["Page {i} of {n}", "Pg {i}/{n}", "Sheet {i} of {n}", "p. {i} / {n}", None]),
        logo=rng.random() < 0.6,
        right_values=rng.random() < 0.4,
    )


def make_job(rng: random.Random) -> Job:
    def person() -> str:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"

    def lan() -> str:
        return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(4))

    return Job(
        pm=str(rng.randint(30_000_000, 49_999_999)),
        notif=str(rng.randint(110_000_000, 139_999_999)),
        street=f"{rng.randint(100, 9999)} {rng.choice(STREETS)}",
        city=rng.choice(CITIES),
        foreman=person(),
        crew_lead=person(),
        rep=person(),
        verifier=person(),
        lans=[lan(), lan(), lan()],
        contractor=rng.choice(CONTRACTORS),
        day=(2025, rng.randint(1, 12), rng.randint(1, 28)),
    )


@dataclass
class Built:
    """A rendered document placed in the package."""

    spec: DocSpec
    file: str = ""
    start: int = 0


def build_package(out: Path, index: int, seed: int, defects: list[str]) -> None:
    """Render one package and write its truth beside it."""
    rng = random.Random(seed * 1000 + index)
    st = make_style(rng)
    job = make_job(rng)
    name = f"pkg-{index:03d}"
    wt = "ec_corrective" if rng.random() < 0.3 else "estimated"
    if any(
        d.startswith(("sig:progress_billing", "field:progress_billing", "sig:face_sheet", "field:face_sheet"))
        for d in defects
    ):
        wt = "estimated"
    types = set(REQUIRED[wt]) | set(rng.sample(OPTIONAL[wt], rng.randint(3, 7)))
    if any("field_verification_cert" in d for d in defects):
        types.add("field_verification_cert")
    findings: list[dict[str, Any]] = []
    applied: list[str] = []
    missing_doc = None
    if "missing_doc" in defects:
        candidates = [t for t in REQUIRED[wt] if t not in ("face_sheet", "progress_billing")]
        if wt == "estimated":
            candidates.append(rng.choice(["face_sheet", "progress_billing"]))
        candidates = [t for t in candidates if not any(t in d for d in defects if d != "missing_doc")]
        candidates = [t for t in candidates if t != "ccsc" or "safety" not in str(defects)]
        candidates = [t for t in candidates if t != "construction_sketch" or "sketch_bare" not in defects]
        missing_doc = rng.choice(candidates)
        types.discard(missing_doc)
        findings.append(
            {
                "code": "MISSING_REQUIRED_DOC",
                "severity": "error",
                "doc_type": missing_doc,
                "field": None,
                "pages": [],
            }
        )
        applied.append("missing_doc")
    specs = [DocSpec(t) for t in CANONICAL if t in types]
    by_type = {sp.doc_type: sp for sp in specs}
    # real forms replace some synthetic documents
    for t, fname in (
        ("cwc", "cwc.pdf"),
        ("unit_price_completion", "unit_price_completion.pdf"),
        ("lme", "lme.pdf"),
        ("pole_bill", "pole_bill.pdf"),
    ):
        if t in by_type and rng.random() < 0.5:
            by_type[t].real = fname
    for d in defects:
        if d.startswith("sig:") or d.startswith("field:"):
            parts = d.split(":")
            dt, fld = parts[1], (parts[2] if d.startswith("field:") else CHECKED_FIELDS[parts[1]][-1])
            if dt in by_type:
                by_type[dt].blank.add(fld)
                applied.append(d)
        elif d in ("oh_safety", "ug_safety") and "ccsc" in by_type:
            pre, pool = ("OH", OH_SAFETY) if d == "oh_safety" else ("UG", UG_SAFETY)
            for n in rng.sample(pool, rng.choice([1, 2])):
                by_type["ccsc"].unchecked.append(f"{pre}-{n}")
            applied.append(d)
    sk = by_type.get("construction_sketch")
    if sk:
        sk.markup = "none" if "sketch_bare" in defects else rng.choice(["strokes", "annot", "stamp"])
        if sk.markup == "none":
            applied.append("sketch_bare")
    # ID mismatch target: prints the ID, not ec_tag/face_sheet, not blanked, not a real form
    for d, key in (("id_pm", "pm_number"), ("id_notif", "notification_number")):
        if d not in defects:
            continue
        printers = PM_PRINTERS if key == "pm_number" else NOTIF_PRINTERS
        id_pool = [
            sp
            for sp in specs
            if sp.doc_type in printers
            and sp.real is None
            and not sp.blank
            and sp.pm is None
            and sp.notif is None
        ]
        if not id_pool:
            continue
        target = rng.choice(id_pool)
        if key == "pm_number":
            target.pm = str(int(job.pm) + rng.choice([1, 10, 1000, -7]))
        else:
            target.notif = str(int(job.notif) + rng.choice([1, 100, -3]))
        applied.append(d)
    # render
    for sp in specs:
        if sp.real:
            sp.pdf = (REAL_FORMS / sp.real).read_bytes()
            sp.n_pages = len(PdfReader(io.BytesIO(sp.pdf)).pages)
            continue
        size = (
            TABLOID_LANDSCAPE
            if sp.doc_type == "construction_sketch"
            else (
                (st.page[1], st.page[0])
                if sp.doc_type in ("lme", "traffic_control_plan") and rng.random() < 0.6
                else st.page
            )
        )
        sheet = Sheet(st, rng, size)
        RENDERERS[sp.doc_type](sheet, job, sp)
        sp.pdf = sheet.done()
        sp.n_pages = sheet.page_no
    # other pages
    for _ in range(rng.choice([0, 0, 1, 2])):
        o = DocSpec("other")
        sheet = Sheet(st, rng)
        render_other(sheet, job, o)
        o.pdf, o.n_pages = sheet.done(), 1
        specs.insert(rng.randint(0, len(specs)), o)
    # duplicate
    if "duplicate" in defects:
        dup_pool = [
            i
            for i, sp in enumerate(specs)
            if sp.doc_type not in ("other", "construction_sketch")
            and not sp.blank
            and not sp.unchecked
            and sp.pm is None
            and sp.notif is None
        ]
        i = rng.choice(dup_pool)
        specs.insert(
            i + 1, DocSpec(specs[i].doc_type, pdf=specs[i].pdf, n_pages=specs[i].n_pages, real=specs[i].real)
        )
        specs[i + 1].id_pages = specs[i].id_pages
        specs[i + 1].page_fx = {1: "stamp_copy"} if specs[i].doc_type != "construction_sketch" else {}
        applied.append("duplicate")
    # out of order: move one ranked document later, past at least one higher-ranked document
    moved = None
    if "out_of_order" in defects:
        ranked = [i for i, sp in enumerate(specs) if sp.doc_type != "other"]
        for _ in range(30):
            a = rng.choice(ranked[:-1])
            later = [
                j
                for j in ranked
                if j > a + 1
                and specs[j].doc_type != specs[a].doc_type
                and (j + 1 >= len(specs) or specs[j + 1].doc_type != specs[j].doc_type)
            ]
            if (
                not later
                or (a > 0 and specs[a - 1].doc_type == specs[a].doc_type)
                or (a + 1 < len(specs) and specs[a + 1].doc_type == specs[a].doc_type)
            ):
                continue
            dest = rng.choice(later)
            moved = specs.pop(a)
            specs.insert(dest, moved)  # b shifted by pop: lands after the original specs[b]
            applied.append("out_of_order")
            break
    # page effects
    for sp in specs:
        if sp.real:
            continue
        for p in range(1, sp.n_pages + 1):
            if p in sp.page_fx:
                continue
            r = rng.random()
            if sp.doc_type in PLAIN_TYPES and r < 0.07:
                sp.page_fx[p] = "sideways"
            elif sp.doc_type != "construction_sketch" and r < 0.15:
                sp.page_fx[p] = "rotate_attr"
            elif sp.doc_type != "construction_sketch" and r < 0.25:
                sp.page_fx[p] = rng.choice(["stamp_recv", "fax", "watermark"])
    if "scan" in defects:
        scan_pool = [
            sp
            for sp in specs
            if sp.doc_type in PLAIN_TYPES and not sp.real and sp.pm is None and sp.notif is None
        ]
        if scan_pool:
            scanned = rng.choice(scan_pool)
            for p in range(1, scanned.n_pages + 1):
                scanned.page_fx[p] = "scan"
            applied.append("scan")
    # files
    mode = rng.choice(["combined", "per_doc", "chunks"])
    groups: list[list[DocSpec]]
    if mode == "combined":
        groups = [specs]
    elif mode == "per_doc":
        groups = [[sp] for sp in specs]
    else:
        groups, cur = [], []
        for sp in specs:
            cur.append(sp)
            if rng.random() < 0.3:
                groups.append(cur)
                cur = []
        if cur:
            groups.append(cur)
    pkg = out / name
    pkg.mkdir(parents=True, exist_ok=True)
    stem = rng.choice(["scan", "asbuilt_", "JOB " + job.pm + " - part ", "doc"])
    built: list[Built] = []
    truth_pages: list[dict[str, Any]] = []
    for gi, group in enumerate(groups, 1):
        fname = f"{stem}{gi:02d}.pdf" if len(groups) > 1 else f"{stem}{job.pm}.pdf"
        writer = PdfWriter()
        for sp in group:
            placed = Built(sp, fname, len(writer.pages) + 1)
            built.append(placed)
            for p in range(1, sp.n_pages + 1):
                fx = sp.page_fx.get(p, "")
                src = scan_page(sp.pdf, p - 1, rng) if fx == "scan" else sp.pdf
                page = PdfReader(io.BytesIO(src)).pages[0 if fx == "scan" else p - 1]
                writer.add_page(page)
                page = writer.pages[-1]
                if fx == "rotate_attr":
                    rotate_attr(page)
                elif fx == "sideways":
                    sideways(page)
                elif fx == "stamp_copy":
                    overlay(page, stamp("COPY", (0.8, 0.1, 0.1)))
                elif fx == "stamp_recv":
                    overlay(
                        page,
                        stamp(
                            rng.choice(["RECEIVED", "FAXED"]), rng.choice([(0.1, 0.2, 0.8), (0.8, 0.1, 0.1)])
                        ),
                    )
                elif fx == "fax":
                    overlay(page, fax_header)
                elif fx == "watermark":
                    overlay(page, watermark)
                if sp.doc_type == "construction_sketch" and sp.markup == "annot":
                    add_sketch_annotations(page, rng)
                truth_pages.append({"file": fname, "page": len(writer.pages), "doc_type": sp.doc_type})
        with (pkg / fname).open("wb") as fh:
            writer.write(fh)
    if rng.random() < 0.2:
        (pkg / "readme.txt").write_text("Scanned at yard office.\n", encoding="utf-8")

    def refs(b: Built, pages: list[int]) -> list[dict[str, Any]]:
        return [{"file": b.file, "page": b.start + p - 1} for p in pages]

    for k, b in enumerate(built):
        sp = b.spec
        for fld in sorted(sp.blank):
            code = "MISSING_SIGNATURE" if fld in SIGNATURE_FIELDS else "MISSING_FIELD"
            findings.append(
                {
                    "code": code,
                    "severity": "error",
                    "doc_type": sp.doc_type,
                    "field": fld,
                    "pages": refs(b, [sp.field_pages[fld]]),
                }
            )
        for item in sp.unchecked:
            pg = 1 if item.startswith("OH") else 2
            findings.append(
                {
                    "code": "SAFETY_ITEM_UNCHECKED",
                    "severity": "error",
                    "doc_type": "ccsc",
                    "field": item,
                    "pages": refs(b, [pg]),
                }
            )
        if sp.doc_type == "construction_sketch" and sp.markup == "none":
            findings.append(
                {
                    "code": "SKETCH_NO_MARKUP",
                    "severity": "error",
                    "doc_type": sp.doc_type,
                    "field": None,
                    "pages": refs(b, list(range(1, sp.n_pages + 1))),
                }
            )
        if sp.pm:
            findings.append(
                {
                    "code": "ID_MISMATCH",
                    "severity": "error",
                    "doc_type": sp.doc_type,
                    "field": "pm_number",
                    "pages": refs(b, sp.id_pages.get("pm_number", [1])),
                }
            )
        if sp.notif:
            findings.append(
                {
                    "code": "ID_MISMATCH",
                    "severity": "error",
                    "doc_type": sp.doc_type,
                    "field": "notification_number",
                    "pages": refs(b, sp.id_pages.get("notification_number", [1])),
                }
            )
        if k > 0 and built[k - 1].spec.pdf == sp.pdf and sp.doc_type != "other":
            findings.append(
                {
                    "code": "DUPLICATE_DOC",
                    "severity": "warning",
                    "doc_type": sp.doc_type,
                    "field": None,
                    "pages": refs(b, list(range(1, sp.n_pages + 1))),
                }
            )
        if sp is moved:
            findings.append(
                {
                    "code": "OUT_OF_ORDER",
                    "severity": "warning",
                    "doc_type": sp.doc_type,
                    "field": None,
                    "pages": refs(b, list(range(1, sp.n_pages + 1))),
                }
            )
        # Scanned pages (page_fx "scan", the image-only real pole bill) are legible: under the
        # corpus contract they are read by OCR and checked, not reported UNREADABLE_PAGE.
    verdict = (
        "fail" if any(f["severity"] == "error" for f in findings) else ("review" if findings else "pass")
    )
    truth = {
        "package": name,
        "work_type": wt,
        "pm_number": job.pm,
        "notification_number": job.notif,
        "verdict": verdict,
        "pages": truth_pages,
        "documents": [
            {
                "doc_type": b.spec.doc_type,
                "file": b.file,
                "start_page": b.start,
                "end_page": b.start + b.spec.n_pages - 1,
            }
            for b in built
        ],
        "findings": findings,
        "generator": {
            "style": "holdout_b",
            "seed": seed,
            "index": index,
            "version": 1,
            "file_mode": mode,
            "defects_applied": applied,
            "layout": st.layout,
            "check": st.check,
            "sig": st.sig,
            "font": st.font,
            "page": list(st.page),
            "date_fmt": st.date_fmt,
            "page_fx": {f"{b.file}:{b.start + p - 1}": fx for b in built for p, fx in b.spec.page_fx.items()},
            "real": {f"{b.file}:{b.start}": b.spec.real for b in built if b.spec.real},
            "markup": sk.markup if sk else None,
        },
    }
    (out / f"{name}.truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Command line: write N packages to OUT."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    pdfmetrics.registerFont(TTFont("DejaVu", str(_DEJAVU)))
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    n_clean = max(1, args.n // 4)
    cycle = list(DEFECTS)
    rng.shuffle(cycle)
    for i in range(1, args.n + 1):
        if i % 4 == 0 and n_clean > 0:
            defects: list[str] = []
            n_clean -= 1
        else:
            defects = [cycle.pop()] if cycle else []
            if not cycle:
                cycle = list(DEFECTS)
                rng.shuffle(cycle)
            extra = rng.choice(DEFECTS)
            if defects and rng.random() < 0.35 and extra.split(":")[:2] != defects[0].split(":")[:2]:
                defects.append(extra)
        build_package(args.out, i, args.seed, defects)


if __name__ == "__main__":
    main()

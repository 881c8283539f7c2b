"""One renderer per document type, each with a few layouts (ruled grids, underlines, dash separators)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import date, timedelta

from . import data
from .draw import (
    A4,
    BLACK,
    BLUE,
    GREY,
    LEGAL,
    LETTER,
    LIGHT,
    RED,
    TABLOID_LANDSCAPE,
    AnnotReq,
    Color,
    Doc,
    PageInfo,
    fmt_date,
    image_reader,
    photo_jpeg,
)
from .model import DocSpec, Job


class R:
    """Render context for one document: the Doc, the job, the spec and id bookkeeping per page."""

    def __init__(self, spec: DocSpec, job: Job) -> None:
        self.spec = spec
        self.job = job
        self.rng = random.Random(spec.seed)
        self.d = Doc(self.rng, spec.style, spec.noise)
        self.hdr = self.rng.choice(("bar", "logo", "band", "plain"))
        self.titles = data.TITLES.get(spec.doc_type, ("",))

    @property
    def st(self) -> object:
        return self.spec.style

    def page(self, size: tuple[float, float], i: int) -> None:
        self.d.page(size, self.spec.rotate.get(i, 0))

    def pm(self, prefixed: bool = True) -> str:
        """The PM as printed on this document (marks the current page as printing it)."""
        self.d.info.prints_pm = True
        v = self.spec.pm or self.job.pm
        return f"PM-{v}" if prefixed and self.spec.style.pm_prefix else v

    def notif(self) -> str:
        self.d.info.prints_notif = True
        return self.spec.notif or self.job.notif

    def date(self, d: date) -> str:
        return fmt_date(d, self.spec.style.date_fmt)

    def miss(self, name: str) -> bool:
        return name in self.spec.missing

    def title(self) -> str:
        return self.rng.choice(self.titles)

    def footer(self, i: int, n: int, left: str = "", force: bool = False) -> None:
        if n > 1 or force:
            self.d.footer(i + 1, n, left)
        elif left:
            self.d.t(36, 22, left, 6.5)


# ---------------------------------------------------------------------------------------------------
# shared blocks


def head(r: R, title: str, sub: str | None = None, right: str | None = None) -> float:
    d = r.d
    W, H = d.W, d.H  # noqa: N806
    company = r.rng.choice(data.COMPANY_LINES)
    y = H - 38

    def fit(text: str, size: float, room: float) -> float:
        while d.width(text, size, "B") > room and size > 6.5:
            size -= 0.5
        return size

    if r.hdr == "logo":
        d.rect(36, y - 22, 40, 30, fill=(0.0, 0.35, 0.65), stroke=None)
        d.t(56, y - 12, "PG&E", 10, "B", color=(1, 1, 1), align="c")
        d.t(84, y, company, 8)
        d.t(84, y - 17, title, fit(title, 14, W - 84 - 40), "B")
        y -= 34
    elif r.hdr == "band":
        d.t(36, y, company, 8, "B")
        d.rect(36, y - 26, W - 72, 20, fill=LIGHT, stroke=BLACK)
        d.t(W / 2, y - 20, title.upper(), fit(title.upper(), 12, W - 84), "B", align="c")
        y -= 40
    elif r.hdr == "bar":
        d.t(W / 2, y, company, 9, "B", align="c")
        d.t(W / 2, y - 18, title, fit(title, 15, W - 80), "B", align="c")
        d.line(36, y - 25, W - 36, y - 25, 1.4)
        y -= 38
    else:
        size = fit(title, 13, W - 80)
        if d.width(title, size, "B") + d.width(company, 7) > W - 90:
            d.t(W - 36, y + 10, company, 7, align="r")
        else:
            d.t(W - 36, y - 4, company, 7, align="r")
        d.t(36, y - 4, title, size, "B")
        d.line(36, y - 10, W - 36, y - 10, 0.6)
        y -= 24
    if sub:
        d.t(W / 2 if r.hdr == "bar" else 36, y, sub, 8, "I", align="c" if r.hdr == "bar" else "l")
        y -= 14
    if right:
        d.t(W - 36, H - 24, right, 7, align="r")
    return y


def cont_head(r: R, title: str, ids: str = "pm") -> float:
    """Running header on a continuation page."""
    d = r.d
    y = d.H - 34
    parts = [title]
    if "pm" in ids:
        parts.append(f"{r.spec.style.pm_label} {r.pm()}")
    if "notif" in ids:
        parts.append(f"{r.spec.style.notif_label} {r.notif()}")
    d.t(36, y, "   ".join(parts), 8.5, "B")
    d.line(36, y - 6, d.W - 36, y - 6, 0.5)
    return y - 22


def grid_row(r: R, x: float, y: float, cols: list[tuple[float, str, str | None]], h: float = 24) -> float:
    """A row of ruled cells (widths, labels, values); returns the y under the row."""
    for w, lab, val in cols:
        r.d.cell(x, y, w, h, lab, val)
        x += w
    return y - h


def id_block(r: R, y: float, rows: list[list[tuple[str, str | None]]], widths: float | None = None) -> float:
    """Label/value pairs laid out per the style's field mode, several per row."""
    d = r.d
    total = widths or d.W - 72
    for row in rows:
        w = total / len(row)
        if d.st.field_mode == "cell":
            y = grid_row(r, 36, y, [(w, lab, val) for lab, val in row])
            if row is rows[-1]:
                y -= 12
        else:
            for k, (lab, val) in enumerate(row):
                d.fld(36 + k * w, y - 12, w - 6, lab, val)
            y -= 20
    return y - 6


def table(
    r: R,
    x: float,
    y: float,
    cols: list[tuple[str, float]],
    rows: list[list[str]],
    rh: float = 14,
    size: float = 8,
    shade_header: bool = True,
) -> float:
    d = r.d
    wtot = sum(w for _, w in cols)
    d.rect(x, y - rh, wtot, rh, fill=LIGHT if shade_header else None, lw=0.6)
    cx = x
    for name, w in cols:
        d.t(cx + 3, y - rh + 4, name, size, "B")
        cx += w
    y -= rh
    for row in rows:
        cx = x
        for (_, w), val in zip(cols, row, strict=False):
            d.rect(cx, y - rh, w, rh, lw=0.4)
            if val:
                d.t(cx + 3, y - rh + 4, val, size)
            cx += w
        y -= rh
    return y


def tick_in_cell(r: R, x: float, y: float, w: float, h: float, kind: str) -> None:
    """A tick sitting in a table cell (no box of its own)."""
    d = r.d
    cx, cy = x + w / 2, y + h / 2
    if kind == "zapf":
        d.c.setFont("ZapfDingbats", 8)
        d.c.drawCentredString(cx, cy - 3, "✔")
    elif kind == "glyph":
        from .draw import glyph_font

        gf = glyph_font()
        if gf:
            d.c.setFont(gf, 9)
            d.c.drawCentredString(cx, cy - 3, "☒")
        else:
            d.t(cx, cy - 3, "X", 8, "B", align="c")
    elif kind == "stroke":
        d.check_stroke(cx - 4, cy - 4, 8)
    else:
        d.t(cx, cy - 3, "X", 8.5, "B", align="c")


def signoff(
    r: R,
    x: float,
    y: float,
    w: float,
    caption: str,
    signed: bool,
    who_name: str,
    printed: bool = True,
    kind: str | None = None,
) -> None:
    r.d.sig_line(x, y, w, caption, signed, who_name, who_name if printed else None, kind)


# ---------------------------------------------------------------------------------------------------
# EC tag


def ec_tag(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    n = s.pages
    comp_page = 0 if n == 1 or r.rng.random() < 0.45 else 1
    title = r.title()
    if "UNDERGROUND" in title.upper() and j.mat == "2AA":
        title = title.replace("Underground", "Overhead")
    fda = fda_rows(r)
    fda_pos = 0
    for i in range(n):
        r.page(LETTER, i)
        if i == 0:
            y = head(
                r,
                title,
                r.rng.choice(
                    (
                        f"Order Type E460   MAT {j.mat}",
                        "Field Disposition Activity",
                        "Corrective notification - work request",
                    )
                ),
                right=f"Priority {j.priority}",
            )
            y = id_block(
                r,
                y,
                [
                    [
                        (s.style.notif_label, r.notif()),
                        (s.style.pm_label, r.pm()),
                        ("Priority", j.priority),
                        ("MAT Code", j.mat),
                    ],
                    [
                        ("Date Identified", r.date(j.identified)),
                        ("Required By", r.date(j.required)),
                        ("Division", j.division),
                        ("Location #", str(j.loc)),
                    ],
                    [
                        (
                            "Functional Location",
                            f"ED.{r.rng.randint(10, 99)}-N{r.rng.randint(10**8, 10**9 - 1)}.STRU.POLE",
                        ),
                        ("SAP Equipment", j.sap_old),
                    ],
                    [("Street Address", j.address), ("City", j.city)],
                ],
            )
            d.t(36, y, "PROBLEM DESCRIPTION", 8, "B")
            y = d.wrap(
                40,
                y - 12,
                d.W - 80,
                r.rng.choice(
                    (
                        "Crossarm split at insulator pin; primary conductor sagging toward comm space.",
                        "Pole butt rot confirmed by sounding; replace pole and transfer all facilities.",
                        "Guy slack and anchor eye exposed; pole leaning into roadway.",
                        "Transformer leaking oil onto crossarm; replace transformer and cutout.",
                    )
                ),
                9,
            )
            d.t(36, y - 4, "COMMENT HISTORY", 8, "B")
            y -= 16
            for k in range(r.rng.randint(2, 4)):
                when = j.identified + timedelta(days=9 * (k + 1))
                who = r.rng.choice([j.gf, j.estimator, j.inspector])
                d.t(
                    40,
                    y,
                    f"{r.date(when)}  {who.lan}:  "
                    + r.rng.choice(
                        (
                            "R02 returned - location does not match map, re-verify.",
                            "Field checked; condition confirmed, photos attached.",
                            "Assigned to contractor crew.",
                            "Customer contacted for yard access.",
                            "R05 returned - before photos missing.",
                        )
                    ),
                    8,
                    family="courier",
                )
                y -= 11
            if comp_page == 0:
                y = ec_completion(r, y - 12)
            if n == 1 and y > 150:
                fda_pos = fda_table(r, y - 10, fda, fda_pos, 120)
        else:
            y = cont_head(r, title, "notif" if r.rng.random() < 0.4 else "notif pm")
            if i == comp_page:
                y = ec_completion(r, y)
            per_page = -(-len(fda) // max(1, n - 1))
            fda_pos = fda_table(r, y - 6, fda, fda_pos, 60, per_page)
        r.footer(i, n, left=r.rng.choice(("EC TAG", "Field Disposition Activity", "")))


def ec_completion(r: R, y: float) -> float:
    d, j = r.d, r.job
    info = d.info
    info.fields |= {"lan_id", "complete_date", "status", "signature"}
    x0, w0 = 36, d.W - 72
    top = y
    caption = r.rng.choice(
        ("COMPLETED OR CANCELED IN FIELD", "FIELD COMPLETION", "TAG CLOSE-OUT (FIELD USE)")
    )
    if r.hdr == "band" or d.st.field_mode == "cell":
        d.band(x0, y - 16, w0, 16, caption)
    else:
        d.t(x0, y - 12, caption, 10, "B")
    y -= 22
    lan = None if r.miss("lan_id") else j.foreman.lan
    cdate = None if r.miss("complete_date") else r.date(j.work_date)
    hrs = str(r.rng.choice((4, 5, 6, 7.5, 8, 10)))
    lan_lab = d.st.lan_label
    date_lab = r.rng.choice(("Complete/Cancel Date", "Completion Date", "Date Completed / Canceled"))
    if d.st.field_mode == "cell":
        y = grid_row(
            r,
            x0 + 4,
            y,
            [
                (110, lan_lab, lan),
                (150, date_lab, cdate),
                (100, "Actual Hours", hrs),
                (90, "Crew Size", str(len(j.crew) + 1)),
            ],
        )
    else:
        d.fld(x0 + 4, y - 12, 150, lan_lab, lan)
        d.fld(x0 + 160, y - 12, 220, date_lab, cdate)
        d.fld(x0 + 385, y - 12, 150, "Actual Hrs", hrs)
        y -= 22
    status_opts = ["Completed", "Canceled", "Found Completed Upon Arrival"]
    sel = set() if r.miss("status") else {0 if r.rng.random() < 0.85 else 2}
    y -= 14
    mode = r.rng.choice(("boxes", "boxes", "circle", "word"))
    if mode == "boxes":
        end = d.t(x0 + 4, y, "Status:", 9, "B")
        d.options(end + 8, y, status_opts, sel)
    elif mode == "circle":
        x = d.t(x0 + 4, y, "STATUS (circle one):", 9, "B") + 12
        for k, o in enumerate(status_opts):
            x = (d.circle_word(x, y, o) if k in sel else d.t(x, y, o, 9)) + 16
    else:
        word = next((status_opts[k].upper() for k in sel), None)
        d.fld(x0 + 4, y, 300, "Tag Status", word, mode="dash" if d.st.field_mode == "dash" else "rule")
    y -= 18
    end = d.t(x0 + 4, y, "Crew Type:", 9, "B")
    d.options(end + 8, y, ["PG&E Crew", "T-Man", "Contractor"], {2})
    y -= 18
    end = d.t(x0 + 4, y, "Cause:", 8)
    d.options(
        end + 6,
        y,
        ["Animal", "Equip. Failed", "Lightning", "Third Party", "Tree", "Pole Rotten", "Unknown"],
        {r.rng.randrange(7)},
        size=7.5,
        gap=8,
    )
    y -= 40
    signed = not r.miss("signature")
    cap = r.rng.choice(("Signature", "Signature of Crew Foreman", "Completed by (signature)"))
    d.sig_line(x0 + 4, y, 230, cap, signed, j.foreman.name, j.foreman.name if r.rng.random() < 0.6 else None)
    d.rect(x0, y - 26, w0, top - y + 26, lw=1.0)
    return y - 34


def fda_rows(r: R) -> list[tuple[str, str, str, int]]:
    cats = (
        "Anchor",
        "Arrester",
        "Bolt Covers",
        "Conductor - Primary",
        "Conductor - Secondary",
        "Crossarm",
        "Cutout",
        "Ground",
        "Guy",
        "Insulator",
        "Pole",
        "Riser",
        "Service",
        "Sign - HV",
        "Step",
        "Switch",
        "Transformer",
        "Vegetation",
        "Visibility Strip",
    )
    rows = []
    for c in cats:
        cond = r.rng.choice(("OK", "Damaged", "Broken", "Missing", "Deteriorated", "Leaking"))
        act = r.rng.choice(("No Action", "Replace", "Install", "Remove", "Repair"))
        rows.append((c, cond, act, r.rng.randrange(4)))
    return rows


def fda_table(
    r: R, y: float, rows: list[tuple[str, str, str, int]], start: int, bottom: float, limit: int = 99
) -> int:
    d = r.d
    if start >= len(rows) or y < bottom + 40:
        return start
    d.t(36, y, r.rng.choice(("FDA - FIELD DATA ACQUISITION", "FDA ATTRIBUTES")), 9, "B")
    y -= 6
    cols = [
        ("Category", 150),
        ("Condition", 100),
        ("Action", 100),
        ("New", 50),
        ("Priority", 50),
        ("Comp", 50),
    ]
    x = 36
    d.rect(x, y - 13, 500, 13, fill=LIGHT)
    cx = x
    for name, w in cols:
        d.t(cx + 3, y - 9.5, name, 7.5, "B")
        cx += w
    y -= 13
    i = start
    while i < len(rows) and y - 13 > bottom and i - start < limit:
        cat, cond, act, which = rows[i]
        cx = x
        for k, (_, w) in enumerate(cols):
            d.rect(cx, y - 13, w, 13, lw=0.4)
            if k == 0:
                d.t(cx + 3, y - 9.5, cat, 7.5)
            elif k == 1:
                d.t(cx + 3, y - 9.5, cond, 7.5)
            elif k == 2:
                d.t(cx + 3, y - 9.5, act, 7.5)
            elif k - 3 == which:
                tick_in_cell(r, cx, y - 13, w, 13, d.st.tick)
            cx += w
        y -= 13
        i += 1
    return i


# ---------------------------------------------------------------------------------------------------
# Face sheet


def face_sheet(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    n = s.pages
    size = A4 if r.rng.random() < 0.4 else LETTER
    title = r.title()
    for i in range(n):
        r.page(size, i)
        last = i == n - 1
        if i == 0:
            y = head(
                r,
                title,
                r.rng.choice(
                    (
                        "Estimated Job Package",
                        "Contractor copy - return with as-built",
                        "Electric Distribution",
                    )
                ),
                right="E460",
            )
            y = id_block(
                r,
                y,
                [
                    [(s.style.pm_label, r.pm()), (s.style.notif_label, r.notif())],
                    [("Order Type", "E460"), ("MAT", j.mat), ("Division", j.division), ("Loc #", str(j.loc))],
                    [("Job Address", f"{j.address}, {j.city}")],
                    [("Estimator", j.estimator.name), ("Contractor", j.contractor)],
                ],
            )
            d.t(36, y, "SCOPE OF WORK", 8.5, "B")
            y = d.wrap(
                40,
                y - 12,
                d.W - 80,
                r.rng.choice(
                    (
                        f"Replace {j.height - 5}' pole at Loc {j.loc} with {j.height}' class {j.klass}; "
                        "transfer primary, secondary and services; install new guy and anchor.",
                        f"Replace {j.kva} kVA overhead transformer and cutouts; re-sag secondary; "
                        "install HV signs.",
                        "Replace deteriorated crossarm and insulators; install bolt covers and "
                        "visibility strip.",
                    )
                ),
                9,
            )
            if n < 3:
                y = job_totals(r, y - 8)
        elif i == 1 and n == 3:
            y = cont_head(r, title, "pm notif")
            y = job_totals(r, y)
        if last:
            y = y if i == 0 else cont_head(r, title, r.rng.choice(("pm", "pm notif")))
            face_signoff(r, min(y - 10, d.H * 0.55) if i == 0 else y)
        r.footer(i, n, left=r.rng.choice(("Contractor Face Sheet Rev 04/2024", "Face Sheet", "")))


def job_totals(r: R, y: float) -> float:
    rows = [
        ["TAG-1", "Capital OH replacement (2AA), accessible", "1", "TAG"],
        ["POLE-T2", "Pole replacement Type 2", "1", "EA"],
        ["TCON-2", "Traffic control, 2 man crew", str(r.rng.randint(2, 8)), "HR"],
        ["ANCH", "Anchor and guy install", str(r.rng.randint(1, 2)), "EA"],
        ["PREM-4E", "4 man electric crew - premium time", str(r.rng.randint(0, 4)), "HR"],
    ]
    r.d.t(36, y, r.rng.choice(("JOB TOTALS", "UNIT SUMMARY", "Estimated Units")), 8.5, "B")
    return (
        table(
            r,
            36,
            y - 4,
            [("Unit", 80), ("Description", 250), ("Qty", 50), ("UOM", 60)],
            r.rng.sample(rows, r.rng.randint(3, 5)),
        )
        - 10
    )


def face_signoff(r: R, y: float) -> None:
    d, j = r.d, r.job
    d.info.fields |= {"foreman_lan_id", "date", "built_as_designed_or_redlined", "foreman_signature"}
    cap = r.rng.choice(("CONSTRUCTION FOREMAN SIGN-OFF", "Foreman Sign-Off", "CREW FOREMAN SIGN-OFF SHEET"))
    if d.st.field_mode == "cell":
        d.band(36, y - 16, d.W - 72, 16, cap)
    else:
        d.t(36, y - 12, cap, 11, "B")
    y -= 36
    redlined = r.rng.random() < 0.35
    choice_missing = r.miss("built_as_designed_or_redlined")
    mode = r.rng.choice(("boxes", "boxes", "words"))
    if mode == "boxes":
        sel = set() if choice_missing else {1 if redlined else 0}
        x = d.options(40, y, ["Built as Designed", "Redlined (changes marked on drawing)"], sel, 9.5, 20)
        d.options(x, y, ["Construction Feedback Form completed"], {0} if r.rng.random() < 0.5 else set(), 9.5)
    else:
        val = None if choice_missing else ("REDLINED - see drawing" if redlined else "BUILT AS DESIGNED")
        if d.st.field_mode == "cell":
            d.cell(40, y + 12, 330, 24, "As-built condition (built as designed / redlined)", val)
        else:
            d.fld(40, y, 420, "As-built condition (Built as Designed / Redlined)", val)
        d.options(40, y - 22, ["Feedback form attached"], {0} if r.rng.random() < 0.5 else set(), 8.5)
    y -= 52
    lan = None if r.miss("foreman_lan_id") else j.foreman.lan
    dt = None if r.miss("date") else r.date(j.work_date)
    signed = not r.miss("foreman_signature")
    lay = r.rng.choice(("row", "stack"))
    if lay == "row" or d.st.field_mode != "cell":
        d.sig_line(
            40,
            y,
            210,
            r.rng.choice(("Foreman Signature", "Signature of Foreman", "Crew Foreman")),
            signed,
            j.foreman.name,
            j.foreman.name if r.rng.random() < 0.7 else None,
        )
        d.line(270, y, 350, y)
        d.t(270, y - 8, f"Foreman {d.st.lan_label}", 6.5)
        if lan:
            d.t(274, y + 3, lan, 10, family="courier")
        d.line(370, y, d.W - 50, y)
        d.t(370, y - 8, "Date", 6.5)
        if dt:
            d.t(374, y + 3, dt, 10)
    else:
        grid_row(
            r,
            40,
            y + 30,
            [
                (240, "Foreman signature", None),
                (100, f"Foreman {d.st.lan_label}", lan),
                (150, "Date signed", dt),
            ],
            h=34,
        )
        if signed:
            d.ink(46, y - 2, 120, 22, d.st.sig_kind, j.foreman.name)
        d.t(44, y - 12, j.foreman.name, 8)
    y -= 56
    sup_signed = r.rng.random() < 0.4
    d.sig_line(40, y, 210, "Supervisor Signature", sup_signed, j.gf.name, None)
    d.line(270, y, 350, y)
    d.t(270, y - 8, f"Supervisor {d.st.lan_label}", 6.5)
    if sup_signed:
        d.t(274, y + 3, j.gf.lan, 10, family="courier")
    d.line(370, y, d.W - 50, y)
    d.t(370, y - 8, "Date", 6.5)


# ---------------------------------------------------------------------------------------------------
# Crew instructions / materials / equipment / feedback / circuit map change


def crew_instructions(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    steps = [
        t.format(
            ht=j.height,
            cl=j.klass,
            ft=r.rng.choice((3, 5, 8)),
            dir=r.rng.choice(("N", "S", "E", "W")),
            kva=j.kva,
            loc=j.loc,
        )
        for t in r.rng.sample(data.INSTRUCTION_STEPS, 12)
    ]
    per = (len(steps) + s.pages - 1) // s.pages
    title = r.title()
    for i in range(s.pages):
        r.page(LETTER, i)
        if i == 0:
            y = head(r, title, f"{j.address}, {j.city}   Loc {j.loc}")
            y = id_block(r, y, [[(s.style.pm_label, r.pm()), ("Foreman", j.foreman.name)]])
        else:
            y = cont_head(r, title)
        for k, st in enumerate(steps[i * per : (i + 1) * per], start=i * per + 1):
            y = d.wrap(58, y, d.W - 110, st, 9.5)
            d.t(40, y + 12.35, f"{k}.", 9.5, "B")
            y -= 6
        if i == s.pages - 1:
            d.t(36, 60, "Field changes: redline this sheet and return it with the as-built package.", 8, "I")
            if r.rng.random() < 0.3:  # a crew redline note (not checked)
                d.t(300, y - 20, "moved anchor 6 ft E - see dwg", 10, "I", color=RED, family="times")
        r.footer(i, s.pages)


def crew_materials(r: R) -> None:
    j, s = r.job, r.spec
    items = r.rng.sample(data.MATERIALS, min(len(data.MATERIALS), 10 + 6 * (s.pages - 1)))
    rows = [
        [
            str(r.rng.choice((1, 1, 2, 3, 6, 40, 120, 300))),
            u,
            f"M{r.rng.randint(100000, 999999)}",
            desc.format(ht=j.height, cl=j.klass, kva=j.kva),
        ]
        for u, desc in items
    ]
    per = (len(rows) + s.pages - 1) // s.pages
    title = r.title()
    for i in range(s.pages):
        r.page(LETTER, i)
        if i == 0:
            y = head(r, title, f"Division {j.division_name}")
            y = id_block(r, y, [[(s.style.pm_label, r.pm()), ("Job Address", j.address)]])
        else:
            y = cont_head(r, title)
        y = table(
            r,
            36,
            y,
            [("Qty", 45), ("Unit", 40), ("Mat'l Code", 80), ("Description", 300), ("Used", 75)],
            rows[i * per : (i + 1) * per],
            rh=16,
            size=8,
        )
        r.footer(i, s.pages)


def equipment_info(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    title = r.title()
    for i in range(s.pages):
        landscape = s.pages == 1 and r.rng.random() < 0.3
        r.page((792.0, 612.0) if landscape else LETTER, i)
        if i == 0:
            y = head(r, title)
            y = id_block(
                r,
                y,
                [
                    [(s.style.pm_label, r.pm()), (s.style.notif_label, r.notif()), ("Loc #", str(j.loc))],
                    [("Address", f"{j.address}, {j.city}")],
                ],
                widths=d.W - 72,
            )
            d.t(36, y, "POLE INFORMATION", 9, "B")
            y = table(
                r,
                36,
                y - 4,
                [
                    ("Loc #", 40),
                    ("Height", 50),
                    ("Class", 45),
                    ("Inst.", 40),
                    ("Rem.", 40),
                    ("Aband.", 45),
                    ("Pole No.", 90),
                    ("Joint", 45),
                    ("SAP #", 90),
                ],
                [
                    [
                        str(j.loc),
                        str(j.height - 5),
                        str(j.klass + 1),
                        "",
                        "X",
                        "",
                        j.pole_old,
                        "Y",
                        j.sap_old,
                    ],
                    [str(j.loc), str(j.height), str(j.klass), "X", "", "", j.pole_new, "Y", j.sap_new],
                ],
                rh=15,
            )
            y -= 10
            spec_line = (
                f"Species / Treatment: DF / {r.rng.choice(('Penta', 'Cu-NAP', 'CCA'))}    Year set: "
                f"{j.work_date.year}"
            )
            d.t(36, y, spec_line, 8.5)
            y -= 22
        else:
            y = cont_head(r, title, "pm notif")
        if i == s.pages - 1:
            d.t(36, y, "EQUIPMENT INFORMATION", 9, "B")
            y = table(
                r,
                36,
                y - 4,
                [
                    ("Loc #", 40),
                    ("Eqp #", 60),
                    ("Size", 55),
                    ("Inst.", 35),
                    ("Rem.", 35),
                    ("Serial #", 95),
                    ("Mfr", 90),
                    ("Mfg Date", 60),
                ],
                [
                    [
                        str(j.loc),
                        f"T{r.rng.randint(10000, 99999)}",
                        f"{j.kva} KVA",
                        "X",
                        "",
                        f"{r.rng.choice(('HX', 'ERM', 'CM'))}{r.rng.randint(100000, 999999)}",
                        r.rng.choice(("Howard", "Ermco", "Central Moloney")),
                        str(r.rng.randint(2019, 2025)),
                    ],
                    [
                        str(j.loc),
                        f"T{r.rng.randint(10000, 99999)}",
                        f"{j.kva} KVA",
                        "",
                        "X",
                        f"{r.rng.randint(100000, 999999)}",
                        "GE",
                        str(r.rng.randint(1975, 1999)),
                    ],
                ],
                rh=15,
            )
            d.t(36, y - 14, f"Meter #: 10{r.rng.randint(10**7, 10**8 - 1)}", 8.5)
        r.footer(i, s.pages)


def construction_feedback(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    r.page(LETTER, 0)
    y = head(r, r.title(), "Return to Estimating with the as-built package")
    y = id_block(
        r,
        y,
        [
            [(s.style.pm_label, r.pm()), ("Estimator", j.estimator.name)],
            [("Foreman", j.foreman.name), ("Date", r.date(j.work_date))],
        ],
    )
    for q in data.FEEDBACK_QUESTIONS:
        y = d.wrap(40, y, 330, q, 9.5)
        yes = r.rng.random() < 0.6
        d.options(400, y + 12, ["Yes", "No"], {0 if yes else 1}, 9)
        y -= 8
    d.t(36, y - 4, "Comments / suggested design changes:", 9, "B")
    for k in range(5):
        d.line(40, y - 24 - k * 18, d.W - 40, y - 24 - k * 18, 0.4, GREY)
    d.t(
        44,
        y - 21,
        r.rng.choice(
            (
                "Anchor location moved due to driveway.",
                "Material list short 2 bolt covers.",
                "Job built as designed, no issues.",
            )
        ),
        10,
        "I",
        family="times",
    )
    d.sig_line(40, 110, 200, "Foreman", True, j.foreman.name, j.foreman.name)


def circuit_map_change(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    r.page(LETTER, 0)
    y = head(r, r.title(), f"Circuit {j.circuit}")
    y = id_block(
        r,
        y,
        [
            [(s.style.pm_label, r.pm()), ("Circuit", j.circuit)],
            [
                ("Map / Block", f"{r.rng.randint(100, 999)}-{r.rng.randint(10, 99)}"),
                ("Date", r.date(j.work_date)),
            ],
        ],
    )
    d.t(36, y, "CHANGES", 9, "B")
    y = table(
        r,
        36,
        y - 4,
        [("Item", 40), ("Existing (map shows)", 200), ("Field condition / change", 240)],
        [
            ["1", f"Pole {j.pole_old} 40-4", f"Replaced - new pole {j.pole_new} {j.height}-{j.klass}"],
            ["2", "Fuse 65T at tap", "Fuse 40K installed"],
            ["3", f"{j.kva - 10 if j.kva > 25 else 15} kVA xfmr", f"{j.kva} kVA xfmr"],
        ],
        rh=18,
    )
    d.t(36, y - 20, "Reason:", 9, "B")
    d.t(80, y - 20, r.rng.choice(("Field change during construction.", "Map error found in field.")), 9)
    d.sig_line(40, 130, 200, "Submitted by", True, j.foreman.name, j.foreman.name)
    d.sig_line(330, 130, 200, "Mapping (PG&E use)", False, "", None)


# ---------------------------------------------------------------------------------------------------
# Sketch


def construction_sketch(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    n = s.pages
    mark_page = r.rng.randrange(n)
    title = r.title()
    for i in range(n):
        r.page(TABLOID_LANDSCAPE, i)
        d.info.colour_critical = True
        d.info.scan_ok = False
        W, H = d.W, d.H  # noqa: N806
        d.rect(24, 24, W - 48, H - 48, lw=1.6)
        # title block
        tx, tw = W - 24 - 340, 340
        d.rect(tx, 24, tw, 170, lw=1.2)
        ty = 180.0
        d.t(tx + 8, ty, r.rng.choice(data.COMPANY_LINES), 8, "B")
        d.t(tx + 8, ty - 18, title, 12, "B")
        d.t(tx + 8, ty - 36, f"{s.style.pm_label} {r.pm()}", 9.5)
        if r.rng.random() < 0.6:
            d.t(tx + 180, ty - 36, f"Notif. {r.notif()}", 9.5)
        d.t(tx + 8, ty - 52, f"{j.address}, {j.city}", 9)
        d.t(tx + 8, ty - 70, r.rng.choice(("SCALE: 1\" = 40'", "SCALE: 1\" = 50'", "SCALE: NTS")), 9, "B")
        d.t(tx + 180, ty - 70, f"DIV: {j.division}", 9)
        d.t(tx + 8, ty - 88, f"DRAWN: {j.estimator.name}   {r.date(j.identified)}", 8.5)
        d.t(tx + 8, ty - 106, f"CIRCUIT: {j.circuit}", 8.5)
        d.t(tx + 8, ty - 124, f"SHEET {i + 1} OF {n}", 9, "B")
        d.t(tx + 180, ty - 124, "REV 0", 8.5)
        # map
        ry = H * r.rng.uniform(0.45, 0.58)
        d.line(40, ry + 16, W - 40, ry + 16, 1.0)
        d.line(40, ry - 16, tx - 20 if ry - 16 < 200 else W - 40, ry - 16, 1.0)
        road = r.rng.choice(data.STREETS).upper()
        d.t(W * 0.3, ry - 3, road, 10, "B", color=GREY)
        sx = -1000.0
        if r.rng.random() < 0.6:
            sx = W * r.rng.uniform(0.15, 0.3)
            d.line(sx - 16, ry + 16, sx - 16, H - 40, 1.0)
            d.line(sx + 16, ry + 16, sx + 16, H - 40, 1.0)
            d.t(sx + 4, H - 120, r.rng.choice(data.STREETS).upper(), 8, "B", color=GREY)
        lot_w = (W - 460) / 8
        for k in range(8):
            lx = 60 + k * lot_w
            if lx - 20 < sx < lx + lot_w + 4:
                continue
            d.rect(lx, ry + 60, lot_w - 14, 90, lw=0.4, stroke=GREY)
            d.t(lx + 6, ry + 136, str(100 + 4 * k + r.rng.randint(0, 3)), 7, color=GREY)
            d.rect(lx + 14, ry + 80, lot_w * 0.45, 34, lw=0.3, stroke=GREY)  # house outline
        poles = []
        n_poles = r.rng.randint(3, 5)
        for k in range(n_poles):
            px = 90 + k * (W - 560) / (n_poles - 1) + r.rng.uniform(-20, 20)
            poles.append((px, ry + 32))
        for a, b in itertools.pairwise(poles):
            d.line(a[0] + 6, a[1], b[0] - 6, b[1], 1.1)
            d.t((a[0] + b[0]) / 2, a[1] + 4, f"{r.rng.randint(90, 180)}'", 7, align="c")
        for k, (px, py) in enumerate(poles):
            d.c.setLineWidth(1)
            d.c.circle(px, py, 6, stroke=1, fill=0)
            d.t(px - 10, py + 10, f"P{k + 1}", 7.5, "B")
            d.t(px - 16, py - 18, f"EX {r.rng.choice((35, 40, 45))}-{r.rng.randint(2, 5)}", 7)
            if k % 2 == 0:
                d.c.setDash(3, 2)
                d.line(px, py + 6, px + 14, py + 48, 0.5)  # service drop
                d.c.setDash()
            if k == 1:  # transformer symbol
                p = d.c.beginPath()
                p.moveTo(px + 10, py + 2)
                p.lineTo(px + 22, py + 2)
                p.lineTo(px + 16, py + 12)
                p.close()
                d.c.drawPath(p, stroke=1, fill=0)
                d.t(px + 24, py + 3, f"{j.kva} KVA", 6.5)
        target = r.rng.randrange(len(poles))
        px, py = poles[target]
        d.t(px - 14, py - 28, f"LOC {j.loc}", 7.5, "B")
        d.line(px, py - 6, px - 30, py - 40, 0.8)  # down guy
        d.c.circle(px - 30, py - 40, 3, stroke=1, fill=1)
        # north arrow + legend
        nx, ny = W - 80, H - 90
        d.line(nx, ny, nx, ny + 40, 1.2)
        d.line(nx, ny + 40, nx - 6, ny + 30, 1.2)
        d.line(nx, ny + 40, nx + 6, ny + 30, 1.2)
        d.t(nx, ny - 12, "N", 10, "B", align="c")
        lx0, ly0 = 40, 40
        d.rect(lx0, ly0, 190, 84, lw=0.5)
        d.t(lx0 + 6, ly0 + 70, "LEGEND", 8, "B")
        d.c.circle(lx0 + 14, ly0 + 54, 5, stroke=1, fill=0)
        d.t(lx0 + 26, ly0 + 51, "Wood pole (existing)", 7.5)
        d.line(lx0 + 8, ly0 + 36, lx0 + 22, ly0 + 36, 1.1)
        d.t(lx0 + 26, ly0 + 33, "Primary OH", 7.5)
        d.t(lx0 + 110, ly0 + 51, "Tx = transformer", 7)
        d.t(lx0 + 110, ly0 + 33, "- - - service", 7)
        d.t(lx0 + 6, ly0 + 14, "Red = remove   Blue = new   Black = existing", 6.5)
        if i == mark_page:
            sketch_markup(r, s.markup, px, py, poles)


def sketch_markup(r: R, kind: str, px: float, py: float, poles: list[tuple[float, float]]) -> None:
    d, j = r.d, r.job
    nx, ny = px + r.rng.choice((-1, 1)) * r.rng.uniform(22, 40), py + r.rng.uniform(-4, 10)
    new_txt = f"INSTALL NEW {j.height}' CL{j.klass} DF POLE"
    old_txt = r.rng.choice(("REMOVE EXIST POLE", "REMOVE EX 40-4", "OLD POLE - TOPPED & REMOVED"))
    if kind == "drawn":
        d.line(px - 10, py - 10, px + 10, py + 10, 2.0, RED)
        d.line(px - 10, py + 10, px + 10, py - 10, 2.0, RED)
        d.t(px - 60, py + 58, old_txt, 9, "B", color=RED)
        d.line(px - 5, py + 55, px, py + 12, 0.8, RED)
        d.c.setFillColorRGB(*BLUE)
        d.c.circle(nx, ny, 6, stroke=0, fill=1)
        d.c.setFillColorRGB(*BLACK)
        d.t(nx + 12, ny + 70, new_txt, 9, "B", color=BLUE)
        d.line(nx + 10, ny + 66, nx, ny + 8, 0.8, BLUE)
        d.c.setStrokeColorRGB(*BLUE)
        d.c.setLineWidth(1.2)
        d.c.ellipse(nx - 30, ny - 25, nx + 30, ny + 25, stroke=1, fill=0)
        if r.rng.random() < 0.5:
            d.line(nx, ny - 6, nx + 34, ny - 48, 1.2, BLUE)
            d.t(nx + 36, ny - 58, "NEW GUY & ANCHOR", 8, "B", color=BLUE)
        d.c.setStrokeColorRGB(*BLACK)
    elif kind == "annot":
        info: PageInfo = d.info
        info.annots.append(
            AnnotReq(
                "ink",
                RED,
                points=[[(px - 11, py - 11), (px + 11, py + 11)], [(px - 11, py + 11), (px + 11, py - 11)]],
                width=2,
            )
        )
        info.annots.append(AnnotReq("circle", BLUE, rect=(nx - 28, ny - 24, nx + 28, ny + 24), width=1.5))
        info.annots.append(
            AnnotReq("freetext", BLUE, rect=(nx + 10, ny + 60, nx + 250, ny + 78), text=new_txt)
        )
        info.annots.append(
            AnnotReq("freetext", RED, rect=(px - 70, py + 50, px + 110, py + 68), text=old_txt)
        )
        if r.rng.random() < 0.5:
            info.annots.append(AnnotReq("line", BLUE, points=[[(nx, ny - 6), (nx + 34, ny - 48)]], width=1.2))
    elif kind == "stamp":
        color: Color = r.rng.choice((RED, BLUE, BLACK))
        word = r.rng.choice((["BUILT AS DESIGNED"], ["BUILT AS DESIGNED", "NO CHANGES"]))
        sx, sy = d.W * r.rng.uniform(0.4, 0.55), d.H * r.rng.uniform(0.7, 0.8)
        d.stamp(
            sx, sy, [*word, f"{j.foreman.short}  {r.date(j.work_date)}"], color, r.rng.uniform(-10, 6), 16
        )


# ---------------------------------------------------------------------------------------------------
# Permit / TCP / job package checklist / paving


def permit(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    agency = r.rng.choice(
        (f"CITY OF {j.city.upper()}", f"COUNTY OF {data.COUNTY[j.division].upper()}", "CALTRANS DISTRICT 10")
    )
    kind = r.rng.choice(
        ("ENCROACHMENT PERMIT", "EXCAVATION PERMIT", "RIGHT-OF-WAY PERMIT", "STREET OPENING PERMIT")
    )
    permit_no = f"{r.rng.choice(('ENC', 'EX', 'ROW'))}-{j.work_date.year % 100}-{r.rng.randint(1000, 9999)}"
    for i in range(s.pages):
        r.page(LEGAL if r.rng.random() < 0.3 else LETTER, i)
        if i == 0:
            d.t(d.W / 2, d.H - 44, agency, 13, "B", align="c", family="times")
            d.t(
                d.W / 2,
                d.H - 60,
                "Department of Public Works - Engineering Division",
                9,
                align="c",
                family="times",
            )
            d.t(d.W / 2, d.H - 90, kind, 15, "B", align="c", family="times")
            y = d.H - 118
            d.t(36, y, f"Permit No. {permit_no}", 10, "B")
            y -= 18
            d.t(36, y, "Permittee: Pacific Gas and Electric Company", 9.5)
            d.t(330, y, f"c/o {j.contractor}", 9.5)
            y -= 15
            if r.rng.random() < 0.6:
                d.t(36, y, f"Applicant reference: {s.style.pm_label} {r.pm()}", 9.5)
                y -= 15
            d.t(36, y, f"Location: {j.address}, {j.city}", 9.5)
            y -= 15
            valid = j.work_date - timedelta(days=r.rng.randint(5, 30))
            d.t(36, y, f"Valid from {r.date(valid)} to {r.date(valid + timedelta(days=90))}", 9.5)
            y -= 24
            d.t(36, y, "Description of work", 9.5, "B")
            y = d.wrap(
                40,
                y - 13,
                d.W - 80,
                "Replace utility pole and associated overhead facilities; excavate "
                "one pole hole approx. 2 ft dia x 7 ft deep in the parkway; restore surface.",
                9.5,
            )
        else:
            y = d.H - 50
            d.t(36, y, f"{kind} {permit_no} - continued", 9.5, "B")
            y -= 20
        d.t(36, y - 8, "GENERAL PROVISIONS" if i == 0 else "SPECIAL PROVISIONS", 9.5, "B")
        y -= 24
        for k, cond in enumerate(r.rng.sample(data.PERMIT_CONDITIONS, 5), start=1):
            y = d.wrap(54, y, d.W - 100, cond, 9)
            d.t(38, y + 11.7, f"{k}.", 9)
            y -= 4
        if i == s.pages - 1:
            d.sig_line(
                330,
                100,
                220,
                "Issued by",
                r.rng.random() < 0.7,
                j.inspector.name,
                r.rng.choice(("Permit Engineer", "For the City Engineer")),
            )
            d.t(36, 100, f"Fee paid: ${r.rng.randint(150, 900)}.00", 9)
        r.footer(i, s.pages, force=s.pages > 1)


def traffic_control_plan(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    for i in range(s.pages):
        r.page((792.0, 612.0) if r.rng.random() < 0.5 else LETTER, i)
        W = d.W  # noqa: N806
        if i == 0:
            y = head(
                r,
                r.title(),
                r.rng.choice(
                    ("CA MUTCD TA-10 lane closure", "CA MUTCD TA-18 flagging", "Shoulder work, TA-6")
                ),
            )
            if r.rng.random() < 0.7:
                d.t(36, y, f"{s.style.pm_label} {r.pm()}     {j.address}, {j.city}", 9)
            else:
                d.t(36, y, f"{j.address}, {j.city}", 9)
            y -= 20
        else:
            y = cont_head(r, "TRAFFIC CONTROL - NOTES")
        ry = y - 130
        d.rect(40, ry - 30, W - 80, 60, fill=(0.82, 0.82, 0.82), stroke=None)
        d.line(40, ry, W - 80, ry, 1.0, (1, 1, 1))
        for k in range(14):
            cx = W * 0.35 + k * 16
            d.c.setFillColorRGB(0.95, 0.5, 0.1)
            d.c.circle(cx, ry - 12 + (k % 2), 3, stroke=0, fill=1)
        d.c.setFillColorRGB(*BLACK)
        for k, sign in enumerate(("ROAD WORK AHEAD", "ONE LANE ROAD AHEAD", "FLAGGER AHEAD")):
            sx = 60 + k * 110
            d.rect(sx, ry + 44, 90, 26, fill=(0.98, 0.65, 0.2))
            d.t(sx + 45, ry + 54, sign, 6, "B", align="c")
        d.t(40, ry - 52, "Notes:", 9, "B")
        d.wrap(
            80,
            ry - 52,
            W - 130,
            "Flaggers certified. Cone taper per posted speed. Keep one lane open at all "
            "times; emergency vehicles to be waved through.",
            8.5,
        )
        r.footer(i, s.pages)


def job_package_checklist(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    r.page(LETTER, 0)
    y = head(r, r.title())
    y = id_block(r, y, [[(s.style.pm_label, r.pm()), ("Prepared by", j.gf.name)]])
    items = [
        "EC Tag / Notification",
        "Face Sheet",
        "Crew Instructions",
        "Crew Material List",
        "Equipment / Pole Information",
        "Construction Drawing(s)",
        "Circuit Map Change",
        "Permits",
        "Traffic Control Plan",
        "Unit Price Completion Form",
        "Progress Billing Form",
        "CWC",
        "CCSC",
        "Photos",
    ]
    x1 = r.rng.choice((40, 60))
    d.t(x1, y, "Document", 9, "B")
    d.t(360, y, "Included", 9, "B")
    d.t(440, y, "N/A", 9, "B")
    y -= 16
    for it in items:
        d.t(x1, y, it, 9.5)
        inc = r.rng.random() < 0.7
        d.box(370, y - 1, inc, 8)
        d.box(446, y - 1, not inc, 8)
        d.line(x1, y - 4, 480, y - 4, 0.3, GREY)
        y -= 18
    d.sig_line(40, 90, 200, "Reviewed by (GF)", r.rng.random() < 0.6, j.gf.name, j.gf.name)


def paving_form(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    r.page(LETTER, 0)
    y = head(r, r.title(), "Restoration of pavement, curb, gutter and sidewalk")
    y = id_block(
        r,
        y,
        [
            [(s.style.pm_label, r.pm()), ("Agency / Permit", f"{j.city} ROW")],
            [("Address", j.address), ("Date excavated", r.date(j.work_date))],
        ],
    )
    rows = []
    for k in range(r.rng.randint(2, 4)):
        l_, w_ = r.rng.randint(3, 12), r.rng.randint(2, 6)
        rows.append(
            [
                str(k + 1),
                r.rng.choice(("AC", "PCC", "Sidewalk", "Curb & gutter")),
                f"{l_} x {w_}",
                str(l_ * w_),
                r.rng.choice(('4"', '6"', '8"')),
                "",
            ]
        )
    y = table(
        r,
        36,
        y,
        [("Cut", 40), ("Surface", 110), ("L x W (ft)", 90), ("Sq Ft", 60), ("Depth", 60), ("Restored", 110)],
        rows,
        rh=18,
    )
    d.t(36, y - 20, "Temporary patch placed:", 9)
    d.options(160, y - 20, ["Yes", "No"], {0})
    d.sig_line(40, 110, 200, "Requested by", True, j.foreman.name, j.foreman.name)


# ---------------------------------------------------------------------------------------------------
# Billing forms


def unit_price_completion(r: R) -> None:
    d, j = r.d, r.job
    r.page(LETTER, 0)
    y = head(r, r.title())
    y = id_block(
        r,
        y,
        [
            [
                ("Date", r.date(j.work_date)),
                ("PM/Order #", r.pm()),
                ("Notification #", r.notif()),
                ("Location #", str(j.loc)),
            ]
        ],
    )
    d.t(36, y, "DIVISION:", 8.5, "B")
    x = 90.0
    for code in ("SJ", "DA", "CC", "LP", "DI", "EB", "NB", "SO", "FR", "KE", "ST", "YO"):
        x = d.options(x, y, [code], {0} if code == j.division else set(), 8, 6)
    y -= 20
    d.t(36, y, "ACCESSIBILITY:", 8.5, "B")
    d.options(120, y, ["Accessible", "Inaccessible"], {0})
    y -= 20
    d.t(36, y, "TAG TYPE:", 8.5, "B")
    d.options(
        100,
        y,
        ["Pole 1", "Pole 2", "Pole 3", "Pole 4", "Lump Sum", "2AA", "KAA", "2AJ"],
        {5 if j.mat == "2AA" else 6},
        8,
        8,
    )
    y -= 20
    d.t(36, y, "ELECTRIC CREW (STANDARD TIME):", 8.5, "B")
    d.fld(230, y, 130, "Headcount", str(len(j.crew) + 1), mode="rule")
    d.fld(370, y, 160, "Hours", str(r.rng.randint(4, 10)), mode="rule")
    y -= 30
    d.t(36, y, "COMMENTS:", 8.5, "B")
    d.t(
        100, y, r.rng.choice(("Work complete.", "Built as designed.", "Anchor added per field condition.")), 9
    )
    d.sig_line(40, 110, 230, "PG&E Inspector - Print Name, LAN ID", False, "", None)
    d.sig_line(
        320,
        110,
        230,
        "Contractor Representative - Print Name, LAN ID",
        True,
        j.rep.name,
        f"{j.rep.name}, {j.rep.lan}",
    )
    d.t(d.W / 2, 60, "Submit signed form with as-built documents and invoice.", 7.5, "B", align="c")


def progress_billing(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    n = s.pages
    title = r.title()
    sig_kind = d.st.sig_kind
    if r.miss("printed_name") and sig_kind in ("typed", "xmark"):
        sig_kind = "drawn"
    for i in range(n):
        r.page(LETTER, i)
        if i == 0:
            d.info.fields |= {"pm_number", "notification_number"}
            y = head(r, title, "Types 1 - 4")
            pm = None if r.miss("pm_number") else r.pm()
            nt = None if r.miss("notification_number") else r.notif()
            y = id_block(
                r,
                y,
                [
                    [("Contractor", j.contractor), ("PO #", j.po)],
                    [(s.style.pm_label, pm), (s.style.notif_label, nt)],
                    [("Address", j.address), ("Location #", str(j.loc)), ("Date", r.date(j.work_date))],
                ],
            )
            d.t(36, y, "Pole Type:", 9, "B")
            d.options(100, y, ["Type 1", "Type 2", "Type 3", "Type 4"], {r.rng.randrange(4)})
            y -= 18
            d.t(36, y, "Access:", 9, "B")
            d.options(100, y, ["Accessible", "Inaccessible"], {r.rng.randrange(2)})
            y -= 14
            y = table(
                r,
                36,
                y,
                [("Unit", 70), ("Description", 240), ("Qty", 50), ("UOM", 50), ("% Comp.", 70)],
                [
                    ["TAG-1", "Capital OH replacement tag", "1", "TAG", "100%"],
                    ["TCON-2", "Traffic control - 2 man", str(r.rng.randint(1, 6)), "HR", "100%"],
                    ["ANCHOR", "Install anchor and guy", "1", "EA", f"{r.rng.choice((50, 100))}%"],
                ],
                rh=16,
            )
        else:
            y = cont_head(r, title, "pm" if not r.miss("pm_number") else "")
            d.t(36, y, "Remarks:", 9, "B")
            d.wrap(
                90, y, d.W - 130, "All units complete per face sheet; anchor added per field condition.", 9
            )
            y -= 40
        if i == n - 1:
            d.info.fields |= {"printed_name", "contractor_rep_signature"}
            y = min(y - 30, 230)
            signed = not r.miss("contractor_rep_signature")
            d.line(40, y, 280, y)
            d.t(
                40,
                y - 8,
                r.rng.choice(("Contractor Representative Signature", "Signature - Contractor Rep.")),
                6.5,
            )
            if signed:
                d.ink(44, y + 1, 130, 24, sig_kind, j.rep.name)
            name = None if r.miss("printed_name") else j.rep.name
            if d.st.field_mode == "cell":
                d.cell(40, y - 16, 240, 26, "Contractor Representative Printed Name", name)
            else:
                d.fld(40, y - 36, 240, "Printed Name", name)
            d.line(320, y, d.W - 40, y)
            d.t(320, y - 8, "PG&E Inspector Signature", 6.5)
            d.fld(320, y - 36, d.W - 360, "Inspector Name + LAN ID", None)
        r.footer(i, n)


def cwc(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    for i in range(s.pages):
        r.page(LETTER, i)
        if i == 0:
            y = head(r, r.title(), "Project & Contract Management - Rev. 7/15")
            y = id_block(
                r,
                y,
                [
                    [("PM #", r.pm()), ("Notification #", r.notif()), ("Due Date", r.date(j.required))],
                    [("Contractor", j.contractor), ("Date", r.date(j.work_date - timedelta(days=10)))],
                    [
                        ("Foreman (name, title)", f"{j.foreman.name}, Foreman"),
                        ("Phone #", f"(209) 555-{r.rng.randint(1000, 9999)}"),
                    ],
                ],
            )
            d.t(36, y, "APPLICATION FOR:", 8.5, "B")
            d.options(
                130,
                y,
                ["Clearance", "Non-Test", "Other/Notification", "New Equipment"],
                {r.rng.randrange(4)},
                8,
            )
            y -= 22
            y = id_block(
                r,
                y,
                [
                    [("Equipment", f"T{r.rng.randint(1000, 9999)}"), ("Circuit", j.circuit)],
                    [("Start Date", r.date(j.work_date)), ("End Date", r.date(j.work_date))],
                ],
            )
            d.t(36, y, "CLEARANCE LIMIT(S):", 8.5, "B")
            for k in range(3):
                d.t(
                    50,
                    y - 14 - k * 13,
                    f"{k + 1}. Open {r.rng.choice(('fuse', 'switch', 'cutout'))} {r.rng.randint(1000, 9999)}",
                    8.5,
                )
            y -= 60
            d.t(36, y, "WEATHER:", 8.5, "B")
            d.options(100, y, ["Not a factor", "Clear weather only", "Light precipitation"], {0}, 8)
            y -= 18
            d.t(36, y, "CUSTOMER OUTAGE:", 8.5, "B")
            d.options(130, y, ["Yes", "No"], {1}, 8)
            d.t(
                36,
                60,
                "Construction sketches (before & after) and photo(s) of clearance limit(s) must be attached.",
                7,
                "I",
            )
        else:
            y = cont_head(r, "CWC - MITIGATIONS", "pm")
            d.t(36, y, "MITIGATIONS TO BE APPLIED:", 9, "B")
            for k, m in enumerate(
                (
                    "Grounds installed both sides of work",
                    "Cover-up on adjacent phases",
                    "Bypass jumpers",
                    "Mobile generation",
                )
            ):
                d.options(50, y - 18 - 16 * k, [m], {0} if r.rng.random() < 0.5 else set(), 8.5)
        r.footer(i, s.pages)


def lme(r: R) -> None:
    d, j = r.d, r.job
    r.page((792.0, 612.0), 0)
    W, H = d.W, d.H  # noqa: N806
    d.t(36, H - 40, "Pacific Gas and Electric Company", 10, "B")
    d.t(36, H - 58, r.title(), 12, "B")
    d.t(W - 36, H - 40, f"LME No. {r.rng.randint(10000, 99999)}", 10, "B", align="r")
    d.t(W - 36, H - 58, j.contractor, 9, align="r")
    y = H - 84
    pairs = [
        ("Job Location", f"{j.address}, {j.city}"),
        ("PM / Notif No.", f"{r.pm(False)} / {r.notif()}"),
        ("PO / CWA No.", j.po),
        ("Date", r.date(j.work_date)),
    ]
    for k, (lab, val) in enumerate(pairs):
        d.fld(36 + (k % 2) * 370, y - (k // 2) * 18, 360, lab, val, mode="rule")
    y -= 50
    crew = [j.foreman, *j.crew]
    rows = []
    for k, p in enumerate(crew):
        craft = "Foreman" if k == 0 else r.rng.choice(("Journeyman Lineman", "Apprentice", "Groundman"))
        h = r.rng.choice((6, 8, 8, 10))
        rate = 79.04 if k == 0 else r.rng.choice((73.78, 49.39, 59.02))
        rows.append([craft, p.name, str(h), "ST", f"{rate:.2f}", f"{h * rate:.2f}"])
    y = table(
        r,
        36,
        y,
        [("Craft", 110), ("Name", 150), ("Hrs", 40), ("ST/OT/DT", 60), ("Rate", 60), ("Amount", 80)],
        rows,
        rh=15,
    )
    y2 = table(
        r,
        560,
        H - 140,
        [("Contractor Owned Equipment", 140), ("Hrs", 30), ("Rate", 40)],
        [["Digger derrick", "6", "40.00"], ["Pickup", "8", "30.00"], ["55 ft bucket", "6", "50.00"]],
        rh=14,
        size=7,
    )
    d.t(560, y2 - 16, "Missed Meals (0.5 hr each): 0    Subsistence: 0", 7)
    d.sig_line(36, 80, 230, "PG&E Inspector or Foreman - Verification of Hours", True, j.foreman.name, None)
    d.sig_line(300, 80, 230, "Signature of Contractor", r.rng.random() < 0.8, j.rep.name, None)
    d.t(560, 80, "Approved as a true copy of certified payroll", 6.5, "I")
    del y


def tailboard(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    title = r.title()
    for i in range(s.pages):
        r.page(LETTER, i)
        last = i == s.pages - 1
        if i == 0:
            y = head(r, title, "Complete before work starts - all crew members sign")
            y = id_block(
                r,
                y,
                [
                    [("Date", r.date(j.work_date)), (s.style.pm_label, r.pm())],
                    [("Location", j.address), ("Foreman / Crew Lead", j.foreman.name)],
                ],
            )
            rows = [[hz, "", mit] for hz, mit in r.rng.sample(data.HAZARDS, 6)]
            y = table(
                r, 36, y, [("Hazard", 200), ("Discussed", 60), ("Mitigation / Control", 280)], rows, rh=17
            )
            for k in range(len(rows)):
                tick_in_cell(r, 236, y + (len(rows) - k - 1) * 17, 60, 17, d.st.tick)
            y -= 16
            d.t(36, y, "PPE:", 9, "B")
            d.options(
                70,
                y,
                ["Hard hat", "FR clothing", "Rubber gloves", "Safety glasses", "Hi-vis"],
                {0, 1, 2, 3},
                8.5,
            )
            y -= 26
        else:
            y = cont_head(r, title)
        if last:
            d.t(36, y, "CREW SIGN-IN", 9, "B")
            y -= 6
            crew = [j.foreman, *j.crew]
            d.rect(36, y - 14, 500, 14, fill=LIGHT)
            d.t(40, y - 10, "Name", 8, "B")
            d.t(220, y - 10, d.st.lan_label, 8, "B")
            d.t(300, y - 10, "Signature", 8, "B")
            y -= 14
            for p in crew:
                d.rect(36, y - 26, 500, 26, lw=0.4)
                d.t(40, y - 16, p.name, 9)
                d.t(220, y - 16, p.lan, 9, family="courier")
                if r.rng.random() < 0.85:
                    d.ink(302, y - 24, 110, 20, r.rng.choice(("drawn", "typed", "image")), p.name)
                y -= 26
        r.footer(i, s.pages)


# ---------------------------------------------------------------------------------------------------
# Field verification cert (own layout), CCSC, photos, pole bill, other


def field_verification_cert(r: R) -> None:
    d, j = r.d, r.job
    r.page(LETTER, 0)
    d.info.fields |= {"name", "lan_id", "pm_number", "date", "signature"}
    y = head(r, r.title(), "TD-2051P-10 As-Built Procedure - Appendix A")
    d.rect(48, y - 250, d.W - 96, 240, lw=0.8)
    y -= 26
    d.t(
        d.W / 2,
        y,
        "Qualified Professional Certification - Orders with Missing or Incomplete As-Built Docs",
        9,
        "B",
        align="c",
    )
    y -= 26
    pm = None if r.miss("pm_number") else r.pm()
    d.t(
        60, y, "I certify that the construction work referenced in the attached as-built documentation for", 9
    )
    y -= 16
    d.fld(60, y, 220, "PM#", pm, mode="rule")
    d.t(285, y, "has been field verified and:", 9)
    y -= 22
    bad = r.rng.random() < 0.7
    d.options(66, y, ["Built as designed"], {0} if bad else set(), 9)
    y -= 18
    d.options(66, y, ["As-built redlined (changes shown on construction drawing)"], set() if bad else {0}, 9)
    y -= 48
    name = None if r.miss("name") else j.rep.name
    lan = None if r.miss("lan_id") else j.rep.lan
    dt = None if r.miss("date") else r.date(j.work_date + timedelta(days=r.rng.randint(1, 9)))
    kind = d.st.sig_kind if name else r.rng.choice(("drawn", "image", "annot"))
    if d.st.field_mode == "cell":
        grid_row(
            r,
            60,
            y + 30,
            [
                (200, "Qualified professional signature", None),
                (80, "LAN ID", lan),
                (110, "Date field verified", dt),
            ],
            h=34,
        )
        if not r.miss("signature"):
            d.ink(66, y - 2, 110, 22, kind, j.rep.name)
        d.cell(60, y - 10, 200, 26, "Printed name", name)
    else:
        d.line(60, y, 260, y)
        d.t(60, y - 8, "Qualified Professional's Signature", 6.5)
        if not r.miss("signature"):
            d.ink(62, y + 1, 120, 22, kind, j.rep.name)
        d.fld(60, y - 30, 220, "Print name", name, mode="rule")
        d.line(290, y, 360, y)
        d.t(290, y - 8, "LAN ID", 6.5)
        if lan:
            d.t(294, y + 3, lan, 10, family="courier")
        d.line(380, y, d.W - 70, y)
        d.t(380, y - 8, "Date field verified", 6.5)
        if dt:
            d.t(384, y + 3, dt, 10)
    d.t(60, 80, "NOTE: if a location was superseded by a later job, attach field notes.", 8, "I")


def ccsc(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    n = s.pages
    cols_mode = r.rng.choice(("ynn", "ynn", "okna", "single"))
    mark = r.rng.choice(("star", "star", "dagger", "sc", "shade"))
    tick_kind = r.rng.choice(("zapf", "glyph", "x", "stroke"))
    unchecked = set(s.unchecked)
    title = r.title()
    size = LEGAL if n == 1 else LETTER
    rh = 11.2 if n == 1 else 15.5
    plan: list[list[str]] = (
        [["head", "OH", "UG", "foot"]]
        if n == 1
        else ([["head", "OH"], ["UG", "foot"]] if n == 2 else [["head", "OH"], ["UG"], ["foot"]])
    )
    for i, parts in enumerate(plan):
        r.page(size, i)
        y = d.H - 36
        if "head" in parts:
            y = head(r, title, "TD-2504P-01-F01 Rev 7" if r.rng.random() < 0.5 else "Form TD-2504P-01-F01")
            d.info.fields |= {"pm_number", "location_number"}
            pm = None if r.miss("pm_number") else r.pm()
            loc = None if r.miss("location_number") else str(j.loc)
            y = id_block(
                r,
                y,
                [
                    [("PM/Order #", pm), ("Location #", loc), ("Job Scope", "OH / UG")],
                    [("Address / GPS", f"{j.address} / {j.gps}")],
                ],
            )
            legend = {
                "star": "* = safety-critical item.",
                "dagger": "† = safety-critical item.",
                "sc": "(SC) = safety-critical item.",
                "shade": "Shaded rows are safety-critical items.",
            }[mark]
            d.t(
                36,
                y,
                f"{legend} A tick means compliant or not applicable. All safety-critical items must be "
                "ticked before submittal.",
                7,
                "I",
            )
            y -= 14
        else:
            ids = "" if r.miss("pm_number") else "pm"
            y = cont_head(r, "CCSC (continued)", ids)
        for sec in ("OH", "UG"):
            if sec in parts:
                y = ccsc_table(r, y, sec, rh, cols_mode, mark, tick_kind, unchecked)
                y -= 8
        if "foot" in parts:
            ccsc_footer(r, y)
        d.t(36, 22, "TD-2504P-01-F01", 6.5)
        r.footer(i, n)


def ccsc_table(
    r: R, y: float, sec: str, rh: float, cols_mode: str, mark: str, tick_kind: str, unchecked: set[str]
) -> float:
    d = r.d
    items = data.OH_ITEMS if sec == "OH" else data.UG_ITEMS
    safety = data.OH_SAFETY if sec == "OH" else data.UG_SAFETY
    heads = {"ynn": ["YES", "NO", "N/A"], "okna": ["OK", "N/A"], "single": ["Check"]}[cols_mode]
    x0 = 36
    colw = 34
    item_w = d.W - 72 - 26 - colw * len(heads)
    d.rect(x0, y - rh, d.W - 72, rh, fill=LIGHT)
    d.t(x0 + 4, y - rh + 3.5, sec, 8, "B")
    d.t(x0 + 30, y - rh + 3.5, "OVERHEAD" if sec == "OH" else "UNDERGROUND", 8, "B")
    for k, h in enumerate(heads):
        d.t(x0 + 26 + item_w + colw * k + colw / 2, y - rh + 3.5, h, 7, "B", align="c")
    y -= rh
    for num, text in enumerate(items, start=1):
        sc = num in safety
        key = f"{sec}-{num}"
        d.info.items.add(key)
        if sc and mark == "shade":
            d.rect(x0, y - rh, d.W - 72, rh, fill=(0.86, 0.86, 0.86), stroke=None)
        d.rect(x0, y - rh, 26, rh, lw=0.4)
        label = str(num)
        shown = text
        if sc and mark == "star":
            label = f"*{num}"
        elif sc and mark == "dagger":
            label = f"{num}†"
        elif sc and mark == "sc":
            shown = f"{text} (SC)"
        d.t(x0 + 4, y - rh + 3.2, label, 7.5, "B" if sc else "R")
        d.rect(x0 + 26, y - rh, item_w, rh, lw=0.4)
        d.t(x0 + 30, y - rh + 3.2, shown, 7.5 if rh < 12 else 8)
        # which column is ticked
        if key in unchecked:
            col = None
        elif sc:
            col = 0 if r.rng.random() < 0.85 or len(heads) == 1 else len(heads) - 1  # YES/OK or N/A
        else:
            p = r.rng.random()
            col = None if p < 0.05 else (0 if p < 0.85 or len(heads) == 1 else len(heads) - 1)
            if cols_mode == "ynn" and 0.05 <= p < 0.08:
                col = 1  # a non-safety item answered NO (not a finding)
        for k in range(len(heads)):
            cx = x0 + 26 + item_w + colw * k
            d.rect(cx, y - rh, colw, rh, lw=0.4)
            if col == k:
                tick_in_cell(r, cx, y - rh, colw, rh, tick_kind)
        y -= rh
    return y


def ccsc_footer(r: R, y: float) -> None:
    d, j = r.d, r.job
    d.info.fields |= {"crew_lead_name", "lan_id", "date", "crew_lead_signature"}
    y = min(y - 6, d.H - 70)
    d.t(36, y - 10, "Comments:", 8.5, "B")
    d.t(90, y - 10, r.rng.choice(("Built as designed.", "Anchor relocated 6 ft, see redline.", "")), 9)
    for k in range(2):
        d.line(90, y - 26 - 14 * k, d.W - 36, y - 26 - 14 * k, 0.3, GREY)
    y -= 52
    y = d.wrap(
        36,
        y,
        d.W - 72,
        "Crew lead: I have inspected the completed work at this location and it meets the "
        "standards listed on this checklist, except as noted in the comments.",
        7.5,
        kind="I",
    )
    y -= 26
    name = None if r.miss("crew_lead_name") else j.foreman.name
    lan = None if r.miss("lan_id") else j.foreman.lan
    dt = None if r.miss("date") else r.date(j.work_date)
    signed = not r.miss("crew_lead_signature")
    kind = d.st.sig_kind if name else r.rng.choice(("drawn", "image", "annot"))
    if d.st.field_mode == "cell":
        yy = grid_row(
            r,
            36,
            y + 20,
            [
                (150, "Crew Lead Name", name),
                (80, "LAN ID", lan),
                (100, "Date", dt),
                (210, "Crew Lead Signature", None),
            ],
            h=32,
        )
        if signed:
            d.ink(36 + 336, yy + 2, 120, 20, kind, j.foreman.name)
    else:
        d.line(36, y, 200, y)
        d.t(36, y - 8, "Crew Lead Name (print)", 6.5)
        if name:
            d.t(40, y + 3, name, 10, family="courier" if d.st.family == "courier" else None)
        d.line(215, y, 285, y)
        d.t(215, y - 8, "LAN ID", 6.5)
        if lan:
            d.t(219, y + 3, lan, 10)
        d.line(300, y, 380, y)
        d.t(300, y - 8, "Date", 6.5)
        if dt:
            d.t(302, y + 3, dt, 9.5)
        d.line(395, y, d.W - 36, y)
        d.t(395, y - 8, "Crew Lead Signature", 6.5)
        if signed:
            d.ink(398, y + 1, 120, 22, kind, j.foreman.name)


def photos(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    k = 1
    title = r.title()
    for i in range(s.pages):
        r.page(LETTER, i)
        if i == 0:
            y = head(r, title)
            d.t(36, y, f"{s.style.pm_label} {r.pm()}    {s.style.notif_label} {r.notif()}    Loc {j.loc}", 9)
            y -= 14
        else:
            y = cont_head(r, title, "pm")
        per = r.rng.choice((2, 4))
        cols = 1 if per == 2 else 2
        rows = per // cols
        cw = (d.W - 72 - (cols - 1) * 12) / cols
        ch = (y - 60 - rows * 18) / rows
        for rr in range(rows):
            for cc in range(cols):
                x = 36 + cc * (cw + 12)
                top = y - rr * (ch + 18)
                iw, ih = (cw, min(ch, cw * 0.75))
                img = photo_jpeg(r.rng, 360, 270)
                d.c.drawImage(image_reader(img), x, top - ih, iw, ih)
                phase = "BEFORE" if k <= 2 else "AFTER"
                d.t(
                    x,
                    top - ih - 11,
                    f"Photo {k} - {phase} - Loc {j.loc} - "
                    f"{r.rng.choice(('looking N', 'looking S', 'pole tag', 'close-up crossarm', 'wide'))}",
                    8,
                )
                k += 1
        r.footer(i, s.pages)


def pole_bill(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    r.page(LETTER, 0)
    y = head(r, r.title(), "Joint pole ownership and billing")
    y = id_block(
        r,
        y,
        [
            [(s.style.pm_label, r.pm()), (s.style.notif_label, r.notif())],
            [("Division", j.division), ("Address", j.address)],
        ],
    )
    rows = []
    for k in range(r.rng.randint(2, 4)):
        rows.append(
            [
                str(k + 1),
                j.pole_new if k == 0 else str(r.rng.randint(10**6, 10**7 - 1)),
                f"{r.rng.choice((40, 45, 50))}-{r.rng.randint(2, 4)}",
                r.rng.choice(("PG&E", "AT&T", "Joint")),
                r.rng.choice(("50/50", "PG&E 100", "60/40")),
                r.rng.choice(("Set", "Replace", "Transfer")),
            ]
        )
    y = table(
        r,
        36,
        y,
        [("Line", 35), ("Pole No.", 90), ("Ht-Cl", 60), ("Owner", 80), ("Billing %", 80), ("Action", 100)],
        rows,
        rh=17,
    )
    d.t(36, y - 20, "Joint owners notified:", 9)
    d.options(150, y - 20, ["Telephone", "CATV", "City"], {0, 1})


def other(r: R) -> None:
    d, j, s = r.d, r.job, r.spec
    kind = s.other_kind or r.rng.choice(("transmittal", "notes", "fax"))
    r.page(LETTER, 0)
    W, H = d.W, d.H  # noqa: N806
    if kind == "transmittal":
        d.t(36, H - 50, j.contractor, 14, "B", family="times")
        d.t(36, H - 64, f"{r.rng.randint(100, 9999)} Industrial Way, {j.city}, CA", 8.5, family="times")
        y = H - 110
        d.t(36, y, r.date(j.work_date + timedelta(days=3)), 10, family="times")
        y -= 30
        for ln in (
            "PG&E Electric Distribution",
            "As-Built / Closeout Coordinator",
            f"{j.division_name} Division",
        ):
            d.t(36, y, ln, 10, family="times")
            y -= 13
        y -= 14
        d.t(
            36,
            y,
            f"RE: Closeout submittal - {s.style.pm_label} {r.pm()}, {j.address}",
            10,
            "B",
            family="times",
        )
        y -= 28
        y = d.wrap(
            36,
            y,
            W - 72,
            "Please find enclosed the closeout paperwork for the job referenced above. The "
            "work was completed by our crew and all documents required for billing are attached. Contact the "
            "undersigned with any questions about this submittal.",
            10.5,
            kind="R",
        )
        y -= 40
        d.t(36, y, "Sincerely,", 10.5, family="times")
        d.ink(36, y - 40, 120, 26, "drawn", j.rep.name)
        d.t(36, y - 54, j.rep.name, 10.5, family="times")
        d.t(36, y - 67, "Project Coordinator", 9.5, family="times")
    elif kind == "notes":
        d.t(36, H - 50, "FIELD NOTES", 14, "B", family="courier")
        d.t(W - 36, H - 50, r.date(j.work_date), 10, family="courier", align="r")
        y = H - 80
        for k in range(18):
            d.line(36, y - k * 24 - 4, W - 36, y - k * 24 - 4, 0.3, (0.6, 0.7, 0.9))
        notes = (
            "arrived 0700, tailboard held",
            f"foreman {j.foreman.name}",
            "cust. gate code 4411",
            "dog in back yd - notified owner",
            "old pole butt rotted, topped @ 1130",
            "anchor moved 6' east - driveway",
            "AT&T to transfer own facilities",
            "cleaned up, left 1545",
        )
        for k, nt in enumerate(notes):
            d.t(44, y - k * 24, nt, 12, "I", color=(0.1, 0.1, 0.35), family="times")
    else:
        d.t(36, H - 60, "FAX", 36, "B")
        d.t(W - 36, H - 50, j.contractor, 10, "B", align="r")
        y = H - 110
        for lab, val in (
            ("To:", "PG&E As-Built Intake"),
            ("From:", j.rep.name),
            ("Pages:", str(r.rng.randint(8, 25))),
            ("Date:", r.date(j.work_date + timedelta(days=2))),
            ("Re:", "Closeout paperwork"),
        ):
            d.t(36, y, lab, 11, "B")
            d.t(110, y, val, 11)
            d.line(108, y - 3, 400, y - 3, 0.4)
            y -= 24
        d.wrap(
            36,
            y - 20,
            W - 72,
            "The documents accompanying this facsimile are confidential. If you received "
            "this in error please call the sender and destroy all copies.",
            8.5,
        )


RENDERERS: dict[str, Callable[[R], None]] = {
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

#: Fixed page counts of some renderers (others follow the spec).
FIXED_PAGES = {
    "construction_feedback": 1,
    "circuit_map_change": 1,
    "job_package_checklist": 1,
    "paving_form": 1,
    "unit_price_completion": 1,
    "lme": 1,
    "field_verification_cert": 1,
    "pole_bill": 1,
    "other": 1,
}


def render(spec: DocSpec, job: Job) -> tuple[bytes, list[PageInfo]]:
    r = R(spec, job)
    RENDERERS[spec.doc_type](r)
    return r.d.finish()

"""Pages built from the real forms in ``shared/corpus/real-forms`` (read at generation time, never copied).

Values are typed over the form (an overlay merged onto the page), put into the form's own AcroForm fields,
or left out (blank form). Coordinates were measured on the real files.
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import cast

from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.generic import BooleanObject, DictionaryObject, NameObject

from .draw import LETTER, Doc, PageInfo, fmt_date
from .model import DocSpec, Job

KINDS = ("field_verification_cert", "unit_price_completion", "cwc", "lme", "pole_bill")


def real_forms_dir() -> Path | None:
    """Where the real forms live: $NEXA_REAL_FORMS, else the shared corpus beside the checkout."""
    env = os.environ.get("NEXA_REAL_FORMS")
    cands = [Path(env)] if env else []
    here = Path(__file__).resolve()
    cands += [p / "shared" / "corpus" / "real-forms" for p in here.parents]
    for c in cands:
        if (c / "cwc.pdf").is_file():
            return c
    return None


def available() -> bool:
    return real_forms_dir() is not None


def _reader(name: str) -> PdfReader:
    base = real_forms_dir()
    if base is None:
        raise FileNotFoundError("real-forms folder not found")
    return PdfReader(str(base / name))


def _bytes(writer: PdfWriter) -> bytes:
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _overlay(
    draw_fn: Callable[[Doc], None], size: tuple[float, float], rng: random.Random, spec: DocSpec
) -> tuple[PdfReader, PageInfo]:
    """A one-page PDF drawn by ``draw_fn`` (to merge onto a real form) and what it recorded."""
    d = Doc(rng, spec.style, spec.noise)
    d.page(size)
    draw_fn(d)
    data, pages = d.finish()
    return PdfReader(io.BytesIO(data)), pages[0]


def render_real(spec: DocSpec, job: Job) -> tuple[bytes, list[PageInfo]]:
    rng = random.Random(spec.seed)
    fn = {
        "field_verification_cert": _fvc,
        "unit_price_completion": _unit_price,
        "cwc": _cwc,
        "lme": _lme,
        "pole_bill": _pole_bill,
    }[spec.doc_type]
    return fn(spec, job, rng)


def _x(d: Doc, x: float, y: float, size: float = 9) -> None:
    d.t(x, y, "X", size, "B", family="helv")


# --- Field Verification Certification Sheet (TD-2051P-10 App. A) ------------------------------------


def _fvc(spec: DocSpec, job: Job, rng: random.Random) -> tuple[bytes, list[PageInfo]]:
    reader = _reader("field_verification_cert_fcua.pdf")
    writer = PdfWriter()
    page = writer.add_page(reader.pages[0])
    content = page.get_contents()
    raw = content.get_data() if content is not None else b""
    cut = raw.find(b"/ADBE_FillSign BMC")
    if cut > 0:  # drop the sample's typed values, keep the printed form
        from pypdf.generic import ContentStream

        cs = ContentStream(None, writer)
        cs.set_data(raw[:cut])
        page[NameObject("/Contents")] = writer._add_object(cs)
    if "/Annots" in page:
        del page[NameObject("/Annots")]
    miss = spec.missing
    who = job.rep
    when = job.work_date + timedelta(days=rng.randint(1, 9))
    pm = spec.pm or job.pm

    def draw(d: Doc) -> None:
        d.info.fields |= {"name", "lan_id", "pm_number", "date", "signature"}
        if "pm_number" not in miss:
            d.t(447, 581, pm, 11, family="helv")
            d.info.prints_pm = True
        bad = rng.random() < 0.7
        if len(miss) < 5:  # a blank sheet carries no tick either
            _x(d, 68.6, 535.2 if bad else 507.5, 8)
        if "signature" not in miss:
            d.ink(104, 444, 110, 22, rng.choice(("drawn", "image", "annot")), who.name)
        if "name" not in miss:
            d.t(104, 412, f"Print: {who.name}", 8.5, family="helv")
        if "lan_id" not in miss:
            d.t(336, 446, who.lan, 11, family="helv")
        if "date" not in miss:
            mm, dd, yy = fmt_date(when, "spaced").split()
            d.t(442, 446, mm, 11, family="helv")
            d.t(478.5, 446, dd, 11, family="helv")
            d.t(500, 446, yy, 11, family="helv")

    ov, info = _overlay(draw, LETTER, rng, spec)
    page.merge_page(ov.pages[0])
    return _bytes(writer), [info]


# --- Distribution Unit Price Completion Form - Exhibit B --------------------------------------------

_DIV_BOX = {
    "SJ": (102, 648),
    "DA": (129, 648),
    "CC": (161, 648),
    "LP": (191, 648),
    "DI": (239, 648),
    "MI": (267, 648),
    "PN": (299, 648),
    "EB": (330, 648),
    "SF": (363, 648),
    "NB": (411, 648),
    "SO": (443, 648),
    "HM": (471, 648),
    "NC": (504, 648),
    "NV": (167, 625),
    "SA": (199, 625),
    "SI": (230, 625),
    "FR": (286, 625),
    "KE": (313, 625),
    "ST": (348, 625),
    "YO": (377, 625),
}


def _unit_price(spec: DocSpec, job: Job, rng: random.Random) -> tuple[bytes, list[PageInfo]]:
    reader = _reader("unit_price_completion.pdf")
    writer = PdfWriter()
    page = writer.add_page(reader.pages[0])
    filled = spec.variant != "real_blank"

    def draw(d: Doc) -> None:
        if not filled:
            return
        fam = "courier" if rng.random() < 0.5 else "helv"
        d.t(60, 696, fmt_date(job.work_date, spec.style.date_fmt), 9, family=fam)
        d.t(206, 696, spec.pm or job.pm, 9, family=fam)
        d.t(381, 696, spec.notif or job.notif, 9, family=fam)
        d.t(554, 696, str(job.loc), 9, family=fam)
        d.info.prints_pm = d.info.prints_notif = True
        bx, by = _DIV_BOX.get(job.division, (102, 648))
        _x(d, bx + 0.8, by + 0.5, 8)
        _x(d, 108.8, 601.5, 8)  # accessible
        _x(d, (359 if job.mat == "2AA" else 396) + 0.8, 555.5, 8)
        d.t(335, 301, str(1 + len(job.crew)), 9, family=fam)
        d.t(506, 301, str(rng.randint(4, 10)), 9, family=fam)
        d.t(
            95,
            225,
            rng.choice(("Work complete - built as designed.", "Anchor added, see redline.")),
            9,
            family=fam,
        )
        d.t(345, 102, f"{job.rep.name}, {job.rep.lan}", 9, family=fam)
        d.ink(360, 112, 110, 22, rng.choice(("drawn", "image")), job.rep.name)

    ov, info = _overlay(draw, LETTER, rng, spec)
    page.merge_page(ov.pages[0])
    return _bytes(writer), [info]


_PURPOSE_FIELD = "PURPOSE PROVIDE A BRIEF DESCRIPTION AND REFERENCE EQUIPMENT VERIFIED MATERIAL FOR AFW WORK"

# --- CWC (fillable, 2 pages) ------------------------------------------------------------------------


def _cwc(spec: DocSpec, job: Job, rng: random.Random) -> tuple[bytes, list[PageInfo]]:
    reader = _reader("cwc.pdf")
    writer = PdfWriter(clone_from=reader)
    infos = [PageInfo(size=LETTER), PageInfo(size=LETTER)]
    for inf in infos:
        inf.scan_ok = False
    pm, notif = spec.pm or job.pm, spec.notif or job.notif
    values = {
        "PM": pm,
        "NOTIFICATION": notif,
        "DUE DATE": fmt_date(job.required, "us"),
        "DATE": fmt_date(job.work_date - timedelta(days=12), "us"),
        "EQUIPMENT": f"T{rng.randint(1000, 9999)}",
        "CIRCUIT": job.circuit,
        "START DATE": fmt_date(job.work_date, "us"),
        "END DATE": fmt_date(job.work_date, "us"),
        "START TIME": "07:00",
        "END TIME": "15:30",
        "1": f"Open fuse {rng.randint(1000, 9999)}",
        "2": f"Open switch {rng.randint(100, 999)}",
        "WORK ADDRESS LOC": f"{job.address}, {job.city} (Loc {job.loc})",
        _PURPOSE_FIELD: "Replace pole and transfer facilities; clearance needed on tap.",
    }
    if spec.variant == "real_fields":
        writer.update_page_form_field_values(writer.pages[0], values, auto_regenerate=True)
        for p in writer.pages[:1]:
            for a in p.get("/Annots") or []:
                w = a.get_object()
                if w.get("/T") in ("NONTEST", "NOT A FACTOR RAIN OR SHINE", "Cust No"):
                    on = [k for k in (w.get("/AP", {}).get("/N", {}) or {}) if k != "/Off"]
                    if on:
                        w[NameObject("/V")] = NameObject(on[0])
                        w[NameObject("/AS")] = NameObject(on[0])
        infos[0].prints_pm = infos[0].prints_notif = True
        infos[0].form_only = True
    elif spec.variant == "real_flat":
        # values typed into the page content at the field positions; the widgets are removed
        rects: dict[str, list[float]] = {}
        for a in writer.pages[0].get("/Annots") or []:
            w = a.get_object()
            name = w.get("/T") or (w["/Parent"].get_object().get("/T") if "/Parent" in w else None)
            if name in values and name not in rects:
                rects[str(name)] = [float(v) for v in w["/Rect"]]

        def draw(d: Doc) -> None:
            for name, val in values.items():
                if name in rects:
                    x0, y0, _, _ = rects[name]
                    d.t(x0 + 2, y0 + 4, val, 8.5, family="courier")
            _x(d, 284, 622.5, 8)  # non-test
            _x(d, 110, 351.5, 8)  # weather not a factor
            _x(d, 212, 335.5, 8)  # customer outage: no
            d.info.prints_pm = d.info.prints_notif = True

        ov, info = _overlay(draw, LETTER, rng, spec)
        for p in writer.pages:
            if "/Annots" in p:
                del p[NameObject("/Annots")]
        if "/AcroForm" in writer._root_object:
            del writer._root_object[NameObject("/AcroForm")]
        writer.pages[0].merge_page(ov.pages[0])
        info.scan_ok = True
        infos[0] = info
        infos[1].scan_ok = True
    else:  # blank as issued
        acro = cast(DictionaryObject, writer._root_object["/AcroForm"].get_object())
        acro[NameObject("/NeedAppearances")] = BooleanObject(False)
    return _bytes(writer), infos


# --- LME (landscape via /Rotate 90, fillable) -------------------------------------------------------


def _lme(spec: DocSpec, job: Job, rng: random.Random) -> tuple[bytes, list[PageInfo]]:
    reader = _reader("lme.pdf")
    writer = PdfWriter()
    page = writer.add_page(reader.pages[0])
    if "/Annots" in page:  # the empty widgets would hide nothing, but keep the page simple to read
        del page[NameObject("/Annots")]
    filled = spec.variant != "real_blank"
    pm, notif = spec.pm or job.pm, spec.notif or job.notif

    def draw(d: Doc) -> None:
        if not filled:
            return
        fam = "courier" if rng.random() < 0.5 else "helv"
        d.t(116, 508.5, f"{job.address}, {job.city}", 8, family=fam)
        d.t(116, 498.5, f"{pm} / {notif}", 8, family=fam)
        d.info.prints_pm = d.info.prints_notif = True
        d.t(116, 478.5, job.po, 8, family=fam)
        d.t(612, 508.5, fmt_date(job.work_date, spec.style.date_fmt), 8, family=fam)
        d.t(614, 498.5, "07:00", 8, family=fam)
        d.t(684, 498.5, "15:30", 8, family=fam)
        d.t(640, 534, str(rng.randint(10000, 99999)), 9, family=fam)
        for k, p in enumerate([job.foreman, *job.crew][:6]):
            yy = 424 - 29.8 * k - 8
            craft = "FORE" if k == 0 else rng.choice(("JL", "APPR", "GRD"))
            hrs = rng.choice((6, 8, 10))
            rate = 79.04 if k == 0 else 73.78
            d.t(41, yy, craft, 7, family=fam)
            d.t(82, yy, p.name, 7.5, family=fam)
            d.t(230, yy, str(hrs), 7, family=fam)
            d.t(282, yy, f"{rate:.2f}", 7, family=fam)
            d.t(322, yy, f"{hrs * rate:.2f}", 7, family=fam)
        d.ink(440, 128, 100, 20, rng.choice(("drawn", "image")), job.rep.name)
        d.ink(410, 90, 100, 18, rng.choice(("drawn", "image")), job.foreman.name)

    ov, info = _overlay(draw, (792.0, 612.0), rng, spec)
    # display (X, Y) on the landscape page -> user space of the portrait media box with /Rotate 90
    page.merge_transformed_page(ov.pages[0], Transformation().rotate(90).translate(612, 0))
    info.size = (792.0, 612.0)
    info.rotate = 90
    return _bytes(writer), [info]


# --- Pole bill (a scan without text layer) ----------------------------------------------------------


def _pole_bill(spec: DocSpec, job: Job, rng: random.Random) -> tuple[bytes, list[PageInfo]]:
    reader = _reader("pole_bill.pdf")
    writer = PdfWriter()
    page = writer.add_page(reader.pages[0])
    filled = spec.variant != "real_blank"

    def draw(d: Doc) -> None:
        d.info.scan_ok = False
        if not filled:
            return
        d.t(112, 736, job.po, 10, family="courier")
        d.t(112, 720, spec.pm or job.pm, 10, family="courier")
        d.t(112, 703, spec.notif or job.notif, 10, family="courier")
        d.info.prints_pm = d.info.prints_notif = True
        d.t(390, 736, job.division_name, 10, family="courier")
        d.t(390, 720, f"{job.address}, {job.city}", 9, family="courier")
        d.t(212.5, 650, "X", 9, "B", align="c", family="helv")  # night work: no
        d.t(142.5, 635, "X", 9, "B", align="c", family="helv")  # accessible
        d.t(328, 617.5, "X", 9, "B", align="c", family="helv")  # energized
        d.ink(335, 56, 110, 20, rng.choice(("drawn", "image")), job.rep.name)
        d.t(335, 29, job.rep.name, 9, family="courier")

    ov, info = _overlay(draw, LETTER, rng, spec)
    page.merge_page(ov.pages[0])
    info.scan_ok = False
    return _bytes(writer), [info]

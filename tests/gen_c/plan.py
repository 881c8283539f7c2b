"""What each package contains (documents, defects, layout) and the truth derived from the README rules."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from . import data, realforms
from .draw import BLACK_INK, BLUE_INK, PageInfo, Style
from .model import DocSpec, Job, Person

Defect = tuple[str, ...]

PAGE_RANGE: dict[str, tuple[int, int]] = {
    "ec_tag": (1, 3),
    "face_sheet": (1, 3),
    "crew_instructions": (1, 2),
    "crew_materials": (1, 2),
    "equipment_info": (1, 2),
    "construction_feedback": (1, 1),
    "construction_sketch": (1, 2),
    "circuit_map_change": (1, 1),
    "permit": (1, 3),
    "traffic_control_plan": (1, 2),
    "job_package_checklist": (1, 1),
    "unit_price_completion": (1, 1),
    "progress_billing": (1, 2),
    "paving_form": (1, 1),
    "cwc": (1, 2),
    "ccsc": (1, 3),
    "photos": (1, 3),
    "field_verification_cert": (1, 1),
    "lme": (1, 1),
    "pole_bill": (1, 1),
    "tailboard": (1, 2),
    "other": (1, 1),
}
#: Types whose pages may be made unreadable: nothing on them is checked and none is required.
UNREADABLE_MODES = ("faint", "smear", "coarse")
UNREADABLE_OK = (
    "photos",
    "permit",
    "traffic_control_plan",
    "crew_instructions",
    "crew_materials",
    "tailboard",
    "paving_form",
    "other",
    "construction_feedback",
    "circuit_map_change",
    "lme",
)
#: Types that surely print the PM / the notification in this generator's own layouts.
PM_VOTERS = (
    "ec_tag",
    "face_sheet",
    "crew_instructions",
    "crew_materials",
    "equipment_info",
    "construction_feedback",
    "construction_sketch",
    "circuit_map_change",
    "job_package_checklist",
    "paving_form",
    "unit_price_completion",
    "cwc",
    "lme",
    "tailboard",
    "photos",
    "pole_bill",
    "progress_billing",
    "ccsc",
    "field_verification_cert",
)
NOTIF_VOTERS = (
    "ec_tag",
    "face_sheet",
    "equipment_info",
    "unit_price_completion",
    "cwc",
    "lme",
    "photos",
    "pole_bill",
    "progress_billing",
)
MISMATCH_TARGETS = (
    "crew_instructions",
    "crew_materials",
    "equipment_info",
    "construction_feedback",
    "circuit_map_change",
    "job_package_checklist",
    "paving_form",
    "unit_price_completion",
    "lme",
    "tailboard",
    "photos",
    "progress_billing",
    "ccsc",
    "construction_sketch",
    "cwc",
    "pole_bill",
)


@dataclass
class PkgPlan:
    index: int
    category: str  # clean | review | fail
    work_type: str
    errors: list[Defect] = field(default_factory=list)
    warnings: list[Defect] = field(default_factory=list)
    force: list[str] = field(default_factory=list)


@dataclass
class Package:
    plan: PkgPlan
    name: str
    job: Job
    docs: list[DocSpec]
    file_mode: str
    files: list[tuple[str, list[int]]]  # file name -> indexes into docs
    extras: list[tuple[str, bytes]]
    scan_rate: float
    applied: list[str]


# ---------------------------------------------------------------------------------------------------
# set level


def plan_set(seed: int, count: int) -> list[PkgPlan]:
    """Categories, work types and defects of every package, balanced over the set."""
    rng = random.Random(f"genc-set:{seed}")
    if count < 3:
        cats = ["fail", "clean", "review"][:count]
    else:
        n_clean = max(1, round(count * 0.25))
        n_review = max(1, round(count * 0.1))
        cats = ["clean"] * n_clean + ["review"] * n_review + ["fail"] * (count - n_clean - n_review)
    rng.shuffle(cats)
    plans: list[PkgPlan] = []
    for i, cat in enumerate(cats):
        wt = "estimated" if rng.random() < 0.65 else "ec_corrective"
        plans.append(PkgPlan(index=i, category=cat, work_type=wt))
    for cat in ("fail", "clean"):  # both work types in each big category
        group = [p for p in plans if p.category == cat]
        if len(group) >= 4:
            group[0].work_type, group[1].work_type = "estimated", "ec_corrective"
            group[2].work_type = "estimated"
    fails = [p for p in plans if p.category == "fail"]
    est_fails = [p for p in fails if p.work_type == "estimated"]
    pool: list[Defect] = []
    for doc, (fields, sig) in data.CHECKED.items():
        for f in (*fields, sig):
            pool.append(("field", doc, f))
    rng.shuffle(pool)
    scale = max(1, count // 10)
    extra: list[Defect] = list(
        [("sketch",)] * scale
        + [("safety",)] * max(1, count // 7)
        + [("idm", "pm_number")] * scale
        + [("idm", "notification_number")] * scale
        + [("missing_doc",)] * scale
    )
    if count >= 20:
        extra.append(("blank_fvc",))
    rng.shuffle(extra)
    pool = (
        [x for pair in zip(pool, extra, strict=False) for x in pair] + pool[len(extra) :] + extra[len(pool) :]
    )
    pool = pool[: max(len(fails), round(len(fails) * 2.0))]  # about two errors per failing package
    if fails:
        cursor = 0
        for item in pool:
            needs_est = item[0] == "field" and item[1] in ("face_sheet", "progress_billing")
            cands = est_fails if needs_est else fails
            if not cands:
                continue
            if needs_est:
                target = min(cands, key=lambda p: (len(p.errors), p.index))
            else:
                for _ in range(len(fails)):  # the same kind of defect twice in one package reads as one
                    target = fails[cursor % len(fails)]
                    cursor += 1
                    if item not in target.errors:
                        break
            target.errors.append(item)
        for p in fails:
            if not p.errors:
                fallback: list[Defect] = [("sketch",), ("safety",), ("missing_doc",)]
                p.errors.append(rng.choice(fallback))
    warn_pool: list[Defect] = list(
        [("dup",)] * max(1, count // 5)
        + [("order",)] * max(1, count // 8)
        + [("unreadable",)] * max(1, count // 8)
    )
    rng.shuffle(warn_pool)
    reviews = [p for p in plans if p.category == "review"]
    for k, p in enumerate(reviews):
        p.warnings.append(warn_pool[k % len(warn_pool)])
    for item in warn_pool[len(reviews) :]:
        if fails:
            rng.choice(fails).warnings.append(item)
        elif reviews:
            rng.choice(reviews).warnings.append(item)
    # every document type somewhere: hand out the optional types round-robin
    est = [p for p in plans if p.work_type == "estimated"]
    ecc = [p for p in plans if p.work_type == "ec_corrective"]
    for k, t in enumerate(data.OPTIONAL["estimated"]):
        if est:
            est[k % len(est)].force.append(t)
    for k, t in enumerate(data.OPTIONAL["ec_corrective"]):
        if ecc:
            ecc[(k * 3) % len(ecc)].force.append(t)
    if plans:
        plans[rng.randrange(len(plans))].force.append("other")
    return plans


# ---------------------------------------------------------------------------------------------------
# package level


def _lan(rng: random.Random) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(4))
        if any(c.isalpha() for c in s):
            return s


def _person(rng: random.Random, used: set[str]) -> Person:
    while True:
        name = f"{rng.choice(data.FIRST)} {rng.choice(data.LAST)}"
        if name not in used:
            used.add(name)
            return Person(name, _lan(rng))


def make_style(rng: random.Random) -> Style:
    return Style(
        family=rng.choices(("helv", "times", "courier"), (5, 3, 2))[0],
        field_mode=rng.choices(("cell", "rule", "dash", "colon"), (4, 4, 2, 2))[0],
        tick=rng.choices(("glyph", "zapf", "xlines", "stroke", "brackets"), (3, 3, 3, 3, 1))[0],
        sig_kind=rng.choices(("drawn", "image", "annot", "typed", "xmark"), (4, 3, 2, 2, 1))[0],
        date_fmt=rng.choice(("us", "iso", "long", "mil", "short")),
        pm_label=rng.choice(data.PM_LABELS),
        notif_label=rng.choice(data.NOTIF_LABELS),
        lan_label=rng.choice(data.LAN_LABELS),
        footer=rng.choice(
            ("Page {i} of {n}", "Page {i} of {n}", "Pg. {i}/{n}", "Sheet {i} of {n}", "{i} of {n}")
        ),
        ink=rng.choice((BLUE_INK, BLUE_INK, BLACK_INK)),
        pm_prefix=rng.random() < 0.15,
    )


def vary_style(rng: random.Random, base: Style) -> Style:
    """Documents come from different offices: sometimes another font, field layout or tick style."""
    st = Style(**base.__dict__)
    if rng.random() < 0.3:
        st.family = rng.choice(("helv", "times", "courier"))
    if rng.random() < 0.3:
        st.field_mode = rng.choice(("cell", "rule", "dash", "colon"))
    if rng.random() < 0.3:
        st.tick = rng.choice(("glyph", "zapf", "xlines", "stroke"))
    if rng.random() < 0.25:
        st.date_fmt = rng.choice(("us", "iso", "long", "mil", "short"))
    if rng.random() < 0.3:
        st.sig_kind = rng.choice(("drawn", "image", "annot", "typed"))
    return st


def make_job(rng: random.Random, index: int, work_type: str, pm: str | None = None) -> Job:
    div = rng.choice(sorted(data.DIVISIONS))
    div_name, cities = data.DIVISIONS[div]
    used: set[str] = set()
    start = date(2025, 1, 6) + timedelta(days=rng.randint(0, 560))
    work = start + timedelta(days=rng.randint(20, 90))
    return Job(
        index=index,
        work_type=work_type,
        pm=pm or f"{rng.choice((3, 4))}{rng.randint(0, 9999999):07d}",
        notif=f"1{rng.randint(0, 99999999):08d}",
        contractor=rng.choice(data.CONTRACTORS),
        division=div,
        division_name=div_name,
        city=rng.choice(cities),
        address=f"{rng.randint(10, 9999)} {rng.choice(data.STREETS)}",
        loc=rng.randint(1, 6),
        work_date=work,
        identified=start,
        required=start + timedelta(days=rng.choice((90, 180, 365))),
        foreman=_person(rng, used),
        crew=[_person(rng, used) for _ in range(rng.randint(2, 4))],
        gf=_person(rng, used),
        inspector=_person(rng, used),
        rep=_person(rng, used),
        estimator=_person(rng, used),
        mat=rng.choice(("2AA", "KAA", "2AA")),
        priority=rng.choice(("A", "B", "C", "E")),
        circuit=f"{rng.choice(('MANTECA', 'DIXON', 'ELK GROVE', 'LODI', 'SALINAS', 'CHICO'))} "
        f"{rng.randint(11, 22)}{rng.randint(0, 9)}{rng.randint(1, 9)}",
        po=f"{rng.randint(2500000000, 2599999999)}",
        pole_old=str(rng.randint(1000000, 9999999)),
        pole_new=str(rng.randint(1000000, 9999999)),
        sap_old=str(rng.randint(100000000, 109999999)),
        sap_new=str(rng.randint(100000000, 109999999)),
        kva=rng.choice((25, 37, 50, 75)),
        height=rng.choice((40, 45, 50, 55)),
        klass=rng.randint(2, 4),
        gps=f"{rng.uniform(36.2, 39.9):.5f}, {-rng.uniform(119.5, 122.6):.5f}",
        style=make_style(rng),
    )


def _alter(value: str, rng: random.Random) -> str:
    """A plausible wrong number of the same length (a transposition or one or two changed digits)."""
    digits = list(value)
    while True:
        d = digits[:]
        if rng.random() < 0.4:
            i = rng.randrange(1, len(d) - 1)
            d[i], d[i + 1] = d[i + 1], d[i]
        else:
            for _ in range(rng.choice((1, 2))):
                i = rng.randrange(1, len(d))
                d[i] = str((int(d[i]) + rng.randint(1, 9)) % 10)
        s = "".join(d)
        if s != value:
            return s


def build_package(seed: int, p: PkgPlan, count: int) -> Package:
    rng = random.Random(f"genc-pkg:{seed}:{p.index}")
    wt = p.work_type
    fields_by_doc: dict[str, set[str]] = {}
    safety = False
    sketch_bad = False
    idm: list[str] = []
    blank_fvc = False
    missing_doc = False
    for e in p.errors:
        if e[0] == "field":
            fields_by_doc.setdefault(e[1], set()).add(e[2])
        elif e[0] == "safety":
            safety = True
        elif e[0] == "sketch":
            sketch_bad = True
        elif e[0] == "idm":
            idm.append(e[1])
        elif e[0] == "blank_fvc":
            blank_fvc = True
        elif e[0] == "missing_doc":
            missing_doc = True
    warn = Counter(w[0] for w in p.warnings)
    job = make_job(rng, p.index, wt)
    applied: list[str] = []

    # -- which documents ------------------------------------------------------------------------------
    required = list(data.REQUIRED[wt])
    drop: str | None = None
    if missing_doc:
        targeted = (
            set(fields_by_doc)
            | ({"ccsc"} if safety else set())
            | ({"construction_sketch"} if sketch_bad else set())
        )
        cands = [t for t in required if t not in targeted]
        if cands:
            drop = rng.choice(cands)
            applied.append(f"missing_{drop}")
    types = [t for t in required if t != drop]
    optional = [t for t in data.OPTIONAL[wt]]
    need = [t for t in fields_by_doc if t not in types]
    if blank_fvc:
        need.append("field_verification_cert")
    need += [t for t in p.force if t != "other" and t not in types]
    k = rng.randint(2, 7) if wt == "estimated" else rng.randint(1, 4)
    picks = rng.sample(optional, min(k, len(optional)))
    for t in [*need, *picks]:
        if t not in types and t in (*data.REQUIRED[wt], *optional):
            types.append(t)
    if idm:  # enough documents printing the numbers for a clear majority
        for id_field in idm:
            voters = PM_VOTERS if id_field == "pm_number" else NOTIF_VOTERS
            have = [t for t in types if t in voters]
            extra = [
                t
                for t in ("photos", "lme", "unit_price_completion", "crew_materials", "tailboard")
                if t in optional and t not in types and t in voters
            ]
            while len(have) < 5 and extra:
                t = extra.pop(0)
                types.append(t)
                have.append(t)
    types.sort(key=lambda t: data.RANK[t])

    # -- document specs -------------------------------------------------------------------------------
    specs: list[DocSpec] = []
    for t in types:
        lo, hi = PAGE_RANGE[t]
        n = rng.randint(lo, hi)
        variant = "own"
        if t in realforms.KINDS and realforms.available() and rng.random() < 0.4:
            variant = "real"
            if t == "cwc":
                variant = rng.choice(("real_fields", "real_flat", "real_blank"))
            elif t in ("unit_price_completion", "lme", "pole_bill") and rng.random() < 0.3:
                variant = "real_blank"
        if t == "pole_bill" and realforms.available() and rng.random() < 0.3:
            variant = "real"
        if t == "field_verification_cert" and blank_fvc:
            variant = "real" if realforms.available() else "own"
        if variant.startswith("real"):
            n = 2 if t == "cwc" else 1
        from .docs import FIXED_PAGES

        n = FIXED_PAGES.get(t, n)
        spec = DocSpec(
            doc_type=t, pages=n, variant=variant, seed=rng.randrange(2**31), style=vary_style(rng, job.style)
        )
        spec.missing = set(fields_by_doc.get(t, set()))
        if t == "field_verification_cert" and blank_fvc:
            spec.missing = {"name", "lan_id", "pm_number", "date", "signature"}
            applied.append("blank_fvc")
        if t == "construction_sketch":
            spec.markup = "none" if sketch_bad else rng.choice(("drawn", "drawn", "annot", "annot", "stamp"))
            if rng.random() < 0.25:
                spec.rotate = {i: 90 for i in range(n)}  # portrait media, /Rotate 90, drawn upright
        if t == "ccsc" and safety:
            pool = [f"OH-{i}" for i in data.OH_SAFETY] + [f"UG-{i}" for i in data.UG_SAFETY]
            spec.unchecked = sorted(
                rng.sample(pool, rng.choice((1, 1, 2, 3))), key=lambda s: (s[:2], int(s[3:]))
            )
        specs.append(spec)
    for t, fs in fields_by_doc.items():
        applied += [f"missing_{t}.{f}" for f in sorted(fs)]
    if safety:
        applied.append("safety_unchecked")
    if sketch_bad:
        applied.append("sketch_no_markup")

    # ID mismatches: one document prints another number
    for id_field in idm:
        mm_cands = [
            s
            for s in specs
            if s.doc_type in MISMATCH_TARGETS
            and not s.missing
            and s.variant not in ("real_blank", "real_fields")
        ]
        if id_field == "notification_number":
            mm_cands = [s for s in mm_cands if s.doc_type in NOTIF_VOTERS]
        mm_cands = [s for s in mm_cands if s.pm is None and s.notif is None]
        if mm_cands:
            s = rng.choice(mm_cands)
            if id_field == "pm_number":
                s.pm = _alter(job.pm, rng)
            else:
                s.notif = _alter(job.notif, rng)
            applied.append(f"id_mismatch_{id_field}")

    # -- page budget 8..25 ----------------------------------------------------------------------------
    def total() -> int:
        return sum(s.pages for s in specs) + warn.get("dup", 0) * 2

    def base_total() -> int:
        return sum(s.pages for s in specs)

    protected = set(required) | set(need) | {s.doc_type for s in specs if s.pm or s.notif or s.missing}
    target = rng.randint(7, 22)  # package size before copies and cover pages
    while total() > max(target, 8):
        removable = [s for s in specs if s.doc_type not in protected]
        shrink = [s for s in specs if s.pages > 1 and not s.variant.startswith("real")]
        if shrink and (rng.random() < 0.6 or not removable):
            rng.choice(shrink).pages -= 1
        elif removable:
            specs.remove(rng.choice(removable))
        else:
            break
    while base_total() < max(target, 8 + (1 if warn.get("unreadable") else 0)):
        grow = [
            s
            for s in specs
            if s.pages < PAGE_RANGE[s.doc_type][1]
            and not s.variant.startswith("real")
            and s.doc_type
            not in (
                "construction_feedback",
                "circuit_map_change",
                "job_package_checklist",
                "paving_form",
                "unit_price_completion",
                "lme",
                "field_verification_cert",
                "pole_bill",
            )
        ]
        addable = [t for t in optional if t not in {s.doc_type for s in specs}]
        if addable and rng.random() < 0.5:
            t = rng.choice(addable)
            specs.append(
                DocSpec(
                    doc_type=t,
                    pages=1,
                    variant="own",
                    seed=rng.randrange(2**31),
                    style=vary_style(rng, job.style),
                )
            )
            specs.sort(key=lambda s: data.RANK[s.doc_type])
        elif grow:
            rng.choice(grow).pages += 1
        else:
            break

    # -- duplicates, order, others --------------------------------------------------------------------
    docs: list[DocSpec] = list(specs)
    dup_pairs: list[int] = []
    for _ in range(warn.get("dup", 0)):
        dup_cands = [
            i
            for i, s in enumerate(docs)
            if not s.missing
            and not s.unchecked
            and s.pm is None
            and s.notif is None
            and s.markup != "none"
            and not s.is_copy
            and (i + 1 >= len(docs) or not docs[i + 1].is_copy)
            and s.variant != "real_fields"
            and sum(d.pages for d in docs) + s.pages <= 24
        ]
        if not dup_cands:
            continue
        i = rng.choice(dup_cands)
        src = docs[i]
        copy = DocSpec(
            **{
                **src.__dict__,
                "is_copy": True,
                "missing": set(),
                "unchecked": [],
                "noise": {},
                "rotate": dict(src.rotate),
                "sideways": {},
                "scan": {},
            }
        )
        docs.insert(i + 1, copy)
        dup_pairs.append(i)
        applied.append("duplicate")
    if warn.get("order", 0):
        move_cands = [
            i
            for i, s in enumerate(docs)
            if not s.is_copy and (i + 1 >= len(docs) or not docs[i + 1].is_copy) and i < len(docs) - 1
        ]
        if move_cands:
            i = rng.choice(move_cands)
            moved = docs.pop(i)
            moved.moved = True
            slots = [j for j in range(i + 1, len(docs) + 1) if j == len(docs) or not docs[j].is_copy]
            j = rng.choice(slots)
            docs.insert(j, moved)
            applied.append("out_of_order")
    n_other = 1 if "other" in p.force else 0
    if rng.random() < 0.45:
        n_other += 1
    for _ in range(n_other):
        kind = rng.choice(("transmittal", "notes", "fax"))
        o = DocSpec(
            doc_type="other",
            pages=1,
            variant="own",
            seed=rng.randrange(2**31),
            style=vary_style(rng, job.style),
            other_kind=kind,
        )
        if kind in ("transmittal", "fax"):
            pos = 0
        else:
            slots = [j for j in range(1, len(docs) + 1) if j == len(docs) or not docs[j].is_copy]
            pos = rng.choice(slots)
        if sum(s.pages for s in docs) + 1 <= 25:
            docs.insert(pos, o)

    # -- unreadable pages -----------------------------------------------------------------------------
    for _ in range(warn.get("unreadable", 0)):
        ur_cands = [
            s
            for s in docs
            if s.doc_type in UNREADABLE_OK
            and not s.is_copy
            and not s.moved
            and s.pm is None
            and s.notif is None
            and s.variant == "own"
            and not (docs.index(s) + 1 < len(docs) and docs[docs.index(s) + 1].is_copy)
        ]
        if not ur_cands:
            continue
        s = rng.choice(ur_cands)
        free = [i for i in range(s.pages) if i not in s.scan]
        if free:
            s.scan[rng.choice(free)] = rng.choice(UNREADABLE_MODES)
            applied.append("unreadable_page")

    # -- rotation & noise -----------------------------------------------------------------------------
    faxed = rng.random() < 0.2
    for s in docs:
        if s.is_copy:
            continue
        for i in range(s.pages):
            noise: list[str] = []
            if faxed:
                noise.append("fax")
            if s.doc_type != "construction_sketch":
                if rng.random() < 0.06:
                    noise.append("received")
                if rng.random() < 0.05:
                    noise.append("copy")
            if rng.random() < 0.05:
                noise.append("watermark")
            if rng.random() < 0.05:
                noise.append("punch")
            if noise and not s.variant.startswith("real"):
                s.noise[i] = noise
            if (
                s.variant == "own"
                and s.doc_type not in ("construction_sketch", "lme")
                and not s.rotate.get(i)
            ):
                roll = rng.random()
                if roll < 0.04:
                    s.rotate[i] = rng.choice((90, 270, 180))
                elif roll < 0.055:
                    s.sideways[i] = rng.choice((90, 270, 180))
                elif roll < 0.07:
                    s.rotate[i] = -rng.choice((90, 270))  # content drawn sideways, no /Rotate
            if s.doc_type == "lme" and s.variant == "own" and i == 0 and rng.random() < 0.5:
                s.rotate[0] = 90
    for s in docs:
        if s.is_copy:
            src = docs[docs.index(s) - 1]
            s.noise = (
                {i: [n for n in v if n != "received"] + ["copy"] for i, v in src.noise.items()}
                if rng.random() < 0.5
                else dict(src.noise)
            )

    # -- files ----------------------------------------------------------------------------------------
    mode = rng.choices(("combined", "per_doc", "few"), (4, 3, 3))[0]
    files = layout_files(rng, docs, mode, job)
    extras: list[tuple[str, bytes]] = []
    if rng.random() < 0.25:
        extras.append(("notes.txt", f"PM {job.pm} closeout - scanned by office\n".encode()))
    if rng.random() < 0.15:
        extras.append(("Thumbs.db", bytes(rng.randrange(256) for _ in range(64))))
    scan_rate = rng.choice((0.0, 0.05, 0.1, 0.15, 0.15, 0.3))
    return Package(
        plan=p,
        name=f"pkg-{p.index + 1:03d}",
        job=job,
        docs=docs,
        file_mode=mode,
        files=files,
        extras=extras,
        scan_rate=scan_rate,
        applied=applied,
    )


_SHORT = {
    "ec_tag": "ECTAG",
    "face_sheet": "FaceSheet",
    "crew_instructions": "CrewInstr",
    "crew_materials": "Materials",
    "equipment_info": "EquipInfo",
    "construction_feedback": "Feedback",
    "construction_sketch": "Sketch",
    "circuit_map_change": "CMCS",
    "permit": "Permit",
    "traffic_control_plan": "TCP",
    "job_package_checklist": "Checklist",
    "unit_price_completion": "UnitPrice",
    "progress_billing": "Billing",
    "paving_form": "Paving",
    "cwc": "CWC",
    "ccsc": "CCSC",
    "photos": "Photos",
    "field_verification_cert": "FVC",
    "lme": "LME",
    "pole_bill": "PoleBill",
    "tailboard": "Tailboard",
    "other": "misc",
}


def layout_files(rng: random.Random, docs: list[DocSpec], mode: str, job: Job) -> list[tuple[str, list[int]]]:
    if mode == "combined":
        name = rng.choice(
            (
                "package.pdf",
                f"{job.pm}_ASBUILT_{job.work_date:%Y%m%d}.pdf",
                f"Closeout {job.pm}.pdf",
                "scan0001.pdf",
            )
        )
        return [(name, list(range(len(docs))))]
    if mode == "per_doc":
        sub = rng.choice(("", "", "docs/"))
        style = rng.choice(("num_type", "num_pm", "plain"))
        out = []
        for i, s in enumerate(docs):
            if style == "num_type":
                nm = f"{i + 1:02d}_{_SHORT[s.doc_type]}.pdf"
            elif style == "num_pm":
                nm = f"{i + 1:02d} - {job.pm}.pdf"
            else:
                nm = f"doc{i + 1:03d}.pdf"
            out.append((sub + nm, [i]))
        return out
    n_files = min(len(docs), rng.randint(2, 4))
    cuts = sorted(rng.sample(range(1, len(docs)), n_files - 1))
    bounds = [0, *cuts, len(docs)]
    names = rng.choice(
        (
            ["1 front.pdf", "2 forms.pdf", "3 closeout.pdf", "4 photos.pdf"],
            ["part1.pdf", "part2.pdf", "part3.pdf", "part4.pdf"],
            [f"{job.pm}-A.pdf", f"{job.pm}-B.pdf", f"{job.pm}-C.pdf", f"{job.pm}-D.pdf"],
        )
    )
    return [(names[k], list(range(bounds[k], bounds[k + 1]))) for k in range(n_files)]


# ---------------------------------------------------------------------------------------------------
# truth


def out_of_order(doc_types: list[str]) -> int | None:
    """Index of the first document ranked lower than one already seen ('other' skipped)."""
    best = -1
    for i, t in enumerate(doc_types):
        if t == "other":
            continue
        r = data.RANK[t]
        if r < best:
            return i
        best = max(best, r)
    return None


def compute_truth(pkg: Package, infos: list[list[PageInfo]], seed: int) -> dict[str, Any]:
    """The findings a careful checker following the README rules reports for what was drawn."""
    docs = pkg.docs
    job = pkg.job
    loc: list[list[tuple[str, int]]] = [[] for _ in docs]
    pages: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    for fname, idxs in pkg.files:
        n = 0
        for i in idxs:
            start = n + 1
            for _ in infos[i]:
                n += 1
                loc[i].append((fname, n))
                pages.append({"file": fname, "page": n, "doc_type": docs[i].doc_type})
            documents.append(
                {"doc_type": docs[i].doc_type, "file": fname, "start_page": start, "end_page": n}
            )

    def ref(i: int, pgs: list[int]) -> list[dict[str, Any]]:
        return [{"file": loc[i][k][0], "page": loc[i][k][1]} for k in pgs]

    findings: list[dict[str, Any]] = []

    def add(code: str, doc_type: str, fld: str | None, pg: list[dict[str, Any]]) -> None:
        findings.append(
            {"code": code, "severity": data.SEVERITY[code], "doc_type": doc_type, "field": fld, "pages": pg}
        )

    present = {s.doc_type for s in docs}
    for t in data.REQUIRED[pkg.plan.work_type]:
        if t not in present:
            add("MISSING_REQUIRED_DOC", t, None, [])
    for i, s in enumerate(docs):
        inf = infos[i]
        checked_fields, checked_sig = data.CHECKED.get(s.doc_type, ((), ""))
        order = [*checked_fields, checked_sig]
        for f in sorted(s.missing, key=order.index):
            where = [k for k, pi in enumerate(inf) if f in pi.fields]
            if not where:
                raise AssertionError(f"{pkg.name}: {s.doc_type}.{f} not drawn on any page")
            code = "MISSING_SIGNATURE" if f in data.SIGNATURE_FIELDS else "MISSING_FIELD"
            add(code, s.doc_type, f, ref(i, where[:1]))
        for item in s.unchecked:
            where = [k for k, pi in enumerate(inf) if item in pi.items]
            add("SAFETY_ITEM_UNCHECKED", "ccsc", item, ref(i, where[:1]))
        if s.doc_type == "construction_sketch" and s.markup == "none" and not s.is_copy:
            add("SKETCH_NO_MARKUP", s.doc_type, None, ref(i, list(range(len(inf)))))
    # identifiers: majority over the documents that visibly print them
    for id_field, attr in (("pm_number", "pm"), ("notification_number", "notif")):
        votes: Counter[str] = Counter()
        printed: dict[int, list[int]] = {}
        for i, s in enumerate(docs):
            if s.doc_type == "other":
                continue
            inf = infos[i]
            pgs = [
                k
                for k, pi in enumerate(inf)
                if (pi.prints_pm if attr == "pm" else pi.prints_notif)
                and k not in {p for p, m in s.scan.items() if m in UNREADABLE_MODES}
            ]
            if not pgs or any(pi.form_only for pi in inf):
                continue
            printed[i] = pgs
            votes[getattr(s, attr) or getattr(job, attr)] += 1
        truth_value = getattr(job, attr)
        if votes and votes.most_common(1)[0][0] != truth_value:
            raise AssertionError(f"{pkg.name}: majority {attr} is not the package's")
        for i, pgs in printed.items():
            s = docs[i]
            value = getattr(s, attr) or truth_value
            if value != truth_value:
                agree = sum(
                    1
                    for k in printed
                    if k != i
                    and not docs[k].is_copy
                    and (getattr(docs[k], attr) or truth_value) == truth_value
                )
                if agree < 3 or s.doc_type in ("ec_tag", "face_sheet"):
                    raise AssertionError(f"{pkg.name}: weak majority for {attr} mismatch on {s.doc_type}")
                add("ID_MISMATCH", s.doc_type, id_field, ref(i, pgs))
    for i, s in enumerate(docs):
        if s.is_copy:
            add("DUPLICATE_DOC", s.doc_type, None, ref(i, list(range(len(infos[i])))))
    ooo = out_of_order([s.doc_type for s in docs])
    if ooo is not None:
        if not docs[ooo].moved:
            raise AssertionError(f"{pkg.name}: order finding on a document that was not moved")
        add("OUT_OF_ORDER", docs[ooo].doc_type, None, ref(ooo, list(range(len(infos[ooo])))))
    elif any(s.moved for s in docs):
        raise AssertionError(f"{pkg.name}: moved document not detected by the order rule")
    for i, s in enumerate(docs):
        for k, mode in sorted(s.scan.items()):
            if mode in UNREADABLE_MODES:
                add("UNREADABLE_PAGE", s.doc_type, None, ref(i, [k]))
    sev = {f["severity"] for f in findings}
    verdict = "fail" if "error" in sev else "review" if "warning" in sev else "pass"
    return {
        "package": pkg.name,
        "work_type": pkg.plan.work_type,
        "pm_number": job.pm,
        "notification_number": job.notif,
        "verdict": verdict,
        "pages": pages,
        "documents": documents,
        "findings": findings,
        "generator": {
            "style": "gen_c",
            "seed": seed,
            "index": pkg.plan.index,
            "version": 1,
            "file_mode": pkg.file_mode,
            "category": pkg.plan.category,
            "defects_applied": pkg.applied,
            # pages re-embedded as images without a text layer (legible scans and unreadable ones)
            "scans": [
                {"file": loc[i][k][0], "page": loc[i][k][1], "mode": mode}
                for i, s in enumerate(docs)
                for k, mode in sorted(s.scan.items())
            ],
            "real_forms": [
                {"doc_type": s.doc_type, "variant": s.variant, "file": loc[i][0][0], "page": loc[i][0][1]}
                for i, s in enumerate(docs)
                if s.variant.startswith("real")
            ],
        },
    }

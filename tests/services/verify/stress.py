"""A holdout-like labelled stress set: packages in the corpus format, made differently from the corpus.

    python -m tests.services.verify.stress OUT_DIR --n 30 --seed 1 [--real-forms DIR]

writes ``OUT_DIR/pkg-NNN/`` folders and ``OUT_DIR/pkg-NNN.truth.json`` beside them. Each package mixes the
style knobs of :mod:`pkgbuilder` (title synonyms, label spellings, value columns, ☒/☐/✓ boxes, drawn or
pasted signatures, fonts, legal paper, fax headers, COPY marks, stamps, AcroForm values, annotation markup,
rotated and scanned pages, pages of the real forms) with the corpus generator's defects: a missing required
document, a document out of order, an ID mismatch, a missing field or signature, an unticked safety item, a
sketch without markup, a duplicate. The truth follows the corpus README's rules (``pkgbuilder.Truth``).
Never write it inside the repository.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tests.services.verify import pkgbuilder as pb

VERSION = 1
DEFAULT_REAL_FORMS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "real-forms"
#: Documents a scan may replace without hiding a defect (nothing on them is checked).
SCANNABLE = ("crew_instructions", "permit", "traffic_control_plan", "photos", "paving_form", "tailboard",
             "construction_feedback", "crew_materials")  # fmt: skip
DEFECTS = (
    "missing_required_doc", "out_of_order", "id_mismatch_pm", "id_mismatch_notif", "missing_field",
    "missing_signature", "safety_unchecked", "sketch_no_markup", "duplicate", "unreadable",
)  # fmt: skip


@dataclass
class Plan:
    """A document to build: its type, style, builder options, and what happens to its pages."""

    doc_type: str
    style: pb.Style
    options: dict[str, Any] = field(default_factory=dict)
    job: pb.Job | None = None
    duplicate: bool = False
    scan: bool = False
    sideways: int | None = None  # page index given /Rotate 90 (displayed turned)
    turned: bool = False  # stored portrait with /Rotate 90, displayed upright
    real: tuple[Path, tuple[int, ...]] | None = None  # pages of a real form

    @property
    def has_defect(self) -> bool:
        o = self.options
        return bool(
            o.get("missing") or o.get("markup") == "none" or self.job is not None or o.get("unticked_safety")
        )


def random_style(rng: random.Random) -> pb.Style:
    """Any mix of the knobs; about a fifth of the packages keep the corpus's look."""
    if rng.random() < 0.2:
        return replace(
            pb.CORPUS, name="corpus-like", noise=frozenset(n for n in ("fax", "copy") if rng.random() < 0.3)
        )
    glyphs = pb.symbol_font() is not None
    return pb.Style(
        name="mixed",
        titles=rng.choice([0, 1, 1, 2, 3]),
        labels=rng.choice([0, 1, 2, 3, 4]),
        layout=rng.choice(["inline", "inline", "column"]),
        block=rng.choice(["above", "above", "right"]),
        boxes=rng.choice(["brackets", "glyphs", "checks"]) if glyphs else "brackets",
        signature=rng.choice(["typed", "x", "ink", "image"]),
        blanks=rng.choice(["underscores", "rules"]),
        font=rng.choice(["Helvetica", "Times-Roman", "Courier"]),
        page=rng.choice(["letter", "letter", "legal"]),
        noise=frozenset(n for n in ("fax", "copy", "stamp") if rng.random() < 0.3),
        company=rng.random() < 0.7,
        footer=rng.random() < 0.8,
        fillable=rng.random() < 0.15,
    )


def knobs(style: pb.Style) -> dict[str, Any]:
    data = asdict(style)
    data["noise"] = sorted(style.noise)
    return data


def _ranked(plans: list[Plan]) -> list[Plan]:
    return sorted(plans, key=lambda p: pb.CANONICAL_ORDER.index(p.doc_type))


def _prints(plan: Plan, attr: str) -> bool:
    """Whether the document prints the PM ("pm") or the notification ("notification")."""
    if plan.real is not None or plan.doc_type == "other":
        return False
    doc = _build(plan, pb.Job())
    return bool(getattr(doc, attr))


def _build(plan: Plan, job: pb.Job) -> pb.Doc:
    options = {k: v for k, v in plan.options.items() if k != "unticked_safety"}
    if plan.real is not None:
        return pb.real_form(plan.doc_type, plan.real[0], pages=plan.real[1])
    doc = pb.build(plan.doc_type, plan.job or job, plan.style, **options)
    if plan.scan:
        pb.scanned(doc)
    if plan.sideways is not None:
        pb.sideways(doc, page=min(plan.sideways, len(doc.pages) - 1))
    if plan.turned:
        pb.turned_upright(doc)
    return doc


def _other_number(rng: random.Random, number: str) -> str:
    """A plausible wrong number: two digits swapped or one digit changed (same length)."""
    digits = list(number)
    if rng.random() < 0.5:
        i = rng.randrange(len(digits) - 1)
        if digits[i] != digits[i + 1]:
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
            return "".join(digits)
    i = rng.randrange(1, len(digits))
    digits[i] = str((int(digits[i]) + rng.randrange(1, 9)) % 10)
    return "".join(digits)


@dataclass
class Generated:
    plans: list[Plan]
    work_type: str
    layout: pb.Layout
    defects: list[str]
    style: pb.Style
    subfolder: str = ""
    junk: bool = False
    namer: str = "slug"


def plan_package(rng: random.Random, job: pb.Job, real_forms: Path | None) -> Generated:
    """Choose documents, style, layout and defects for one package."""
    work_type = "estimated" if rng.random() < 0.65 else "ec_corrective"
    style = random_style(rng)

    def doc_style() -> pb.Style:
        # a package gathers forms from several sources: some documents look different from the rest
        return random_style(rng) if rng.random() < 0.25 else style

    # README: an ec_corrective package never holds a face sheet or a progress billing form
    optional = [t for t in pb.OPTIONAL[work_type] if work_type == "estimated" or t != "progress_billing"]
    chosen = set(pb.REQUIRED[work_type]) | set(rng.sample(optional, rng.randint(2, min(7, len(optional)))))
    plans = _ranked([Plan(t, doc_style()) for t in chosen])
    for plan in plans:
        if plan.doc_type == "ec_tag":
            plan.options["pages"] = rng.choice([1, 2, 2, 3])
        elif plan.doc_type == "face_sheet":
            plan.options["pages"] = rng.choice([1, 2, 3, 3])
            plan.options["supervisor_signed"] = rng.random() < 0.6
        elif plan.doc_type == "construction_sketch":
            plan.options["markup"] = rng.choice([m for m in pb.MARKUPS if m != "none"])
            plan.turned = rng.random() < 0.25
        elif plan.doc_type == "ccsc":
            plan.options["unticked"] = set(
                rng.sample(["OH-3", "OH-9", "OH-27", "UG-4", "UG-20"], rng.randint(0, 2))
            )
        elif plan.doc_type == "progress_billing":
            plan.options["inspector_signed"] = rng.random() < 0.4
        elif plan.doc_type == "lme":
            plan.turned = rng.random() < 0.3
        elif plan.doc_type in ("crew_instructions", "permit", "photos", "tailboard"):
            plan.options["pages"] = rng.choice([1, 2])
    if real_forms is not None and real_forms.is_dir():
        _use_real_forms(rng, plans, work_type, real_forms)
    # others: a transmittal first, field notes or a fax cover somewhere
    if rng.random() < 0.6:
        plans.insert(0, Plan("other", style, {"kind": rng.choice(["transmittal", "fax_cover"])}))
    if rng.random() < 0.3:
        plans.insert(rng.randrange(1, len(plans)), Plan("other", style, {"kind": "field_notes"}))
    if rng.random() < 0.15:
        page_plan = rng.choice(
            [p for p in plans if p.doc_type not in ("construction_sketch", "other") and not p.real]
        )
        page_plan.sideways = 0

    applied: list[str] = []
    wanted = rng.sample(DEFECTS, rng.choice([0, 1, 1, 2, 2, 3]))
    for defect in wanted:
        if _apply(defect, rng, plans, work_type, job):
            applied.append(defect)
    layout: pb.Layout = rng.choice(["combined", "per_doc", "per_doc", "parts"])
    return Generated(
        plans, work_type, layout, applied, style,
        subfolder="scans" if rng.random() < 0.15 else "", junk=rng.random() < 0.2,
        namer=rng.choice(["slug", "scan", "number"]),
    )  # fmt: skip


def _use_real_forms(rng: random.Random, plans: list[Plan], work_type: str, folder: Path) -> None:
    """Swap some generated optional documents for pages of the real forms (blank templates)."""
    swaps = {
        "unit_price_completion": (folder / "unit_price_completion.pdf", (0,)),
        "cwc": (folder / "cwc.pdf", (0, 1)),
        "lme": (folder / "lme.pdf", (0,)),
    }
    for plan in plans:
        source = swaps.get(plan.doc_type)
        if source is not None and source[0].is_file() and rng.random() < 0.35:
            plan.real = source
            plan.turned = False
    pole_bill = folder / "pole_bill.pdf"
    if work_type == "estimated" and pole_bill.is_file() and rng.random() < 0.2:
        plans[:] = [p for p in plans if p.doc_type != "pole_bill"]
        plans.insert(0, Plan("pole_bill", pb.CORPUS, real=(pole_bill, (0,))))


def _plain(plan: Plan) -> bool:
    """A generated document with no defect yet, not a copy, not scanned."""
    return not plan.has_defect and not plan.duplicate and not plan.scan and plan.real is None


def _apply(defect: str, rng: random.Random, plans: list[Plan], work_type: str, job: pb.Job) -> bool:
    """Put one defect into the plans (README rules); False when it does not fit this package."""
    by_type = {p.doc_type: p for p in plans}
    if defect == "missing_required_doc":
        types = [t for t in pb.REQUIRED[work_type] if t in by_type and not by_type[t].has_defect]
        # keep the work type inferable: an estimated package never loses both of these
        if work_type == "estimated" and ("face_sheet" not in by_type or "progress_billing" not in by_type):
            types = [t for t in types if t not in ("face_sheet", "progress_billing")]
        if not types:
            return False
        plans.remove(by_type[rng.choice(types)])
        return True
    if defect == "out_of_order":
        ranked = [p for p in plans if p.doc_type != "other" and not p.duplicate]
        movable = [
            i for i, p in enumerate(ranked[:-1])
            if p.real is None and ranked[-1].doc_type != p.doc_type
        ]  # fmt: skip
        if len(ranked) < 3 or not movable or any(p.duplicate for p in plans):
            return False
        moved = ranked[rng.choice(movable)]
        later = [
            p
            for p in ranked
            if pb.CANONICAL_ORDER.index(p.doc_type) > pb.CANONICAL_ORDER.index(moved.doc_type)
        ]
        if not later:
            return False
        target = rng.choice(later)
        plans.remove(moved)
        plans.insert(plans.index(target) + 1, moved)
        return True
    if defect in ("id_mismatch_pm", "id_mismatch_notif"):
        attr = "pm" if defect == "id_mismatch_pm" else "notification"
        printing = [p for p in plans if not p.duplicate and not p.scan and _prints(p, attr)]
        candidates = [p for p in printing if p.doc_type not in ("ec_tag", "face_sheet") and not p.has_defect]
        if len(printing) < 5 or not candidates or any(p.job is not None for p in plans):
            return False
        odd = rng.choice(candidates)
        odd.job = replace(job, **{attr: _other_number(rng, getattr(job, attr))})
        return True
    if defect in ("missing_field", "missing_signature"):
        kind = "signature" if defect == "missing_signature" else "value"
        forms = [p for p in plans if p.doc_type in pb.CHECKED_FIELDS and _plain(p)]
        if not forms:
            return False
        plan = rng.choice(forms)
        names = [
            n
            for n, k in pb.CHECKED_FIELDS[plan.doc_type].items()
            if (k == "signature") == (kind == "signature")
        ]
        plan.options["missing"] = {rng.choice(names)}
        return True
    if defect == "safety_unchecked":
        checklist = by_type.get("ccsc")
        if checklist is None or not _plain(checklist):
            return False
        items = [f"{s}-{n}" for s, ns in pb.SAFETY_CRITICAL.items() for n in ns]
        picked = set(rng.sample(items, rng.choice([1, 1, 2])))
        checklist.options["unticked"] = set(checklist.options.get("unticked", set())) | picked
        checklist.options["unticked_safety"] = True
        return True
    if defect == "sketch_no_markup":
        sketch = by_type.get("construction_sketch")
        if sketch is None or sketch.duplicate:
            return False
        sketch.options["markup"] = "none"
        return True
    if defect == "duplicate":
        candidates = [
            p for p in plans
            if p.doc_type != "other" and not p.has_defect and not p.duplicate and p.real is None
        ]  # fmt: skip
        if not candidates or any(p.duplicate for p in plans):
            return False
        original = rng.choice(candidates)
        plans.insert(
            plans.index(original) + 1, replace(original, duplicate=True, options=dict(original.options))
        )
        return True
    if defect == "unreadable":
        candidates = [p for p in plans if p.doc_type in SCANNABLE and not p.has_defect and not p.duplicate]
        if not candidates:
            return False
        plan = rng.choice(candidates)
        plan.scan = True
        plan.sideways = None
        return True
    raise ValueError(defect)


def _namer(kind: str, layout: pb.Layout) -> Any:
    if layout == "combined":
        return lambda i, d: _combined_name(kind)
    if layout == "parts":
        return lambda i, d: {
            "slug": f"part{i + 1}.pdf",
            "scan": f"Scan_{i + 1:04d}.pdf",
            "number": f"{i + 1:03d}.pdf",
        }[kind]
    return lambda i, d: {
        "slug": f"{i + 1:02d}_{d.slug or d.doc_type.upper()}.pdf",
        "scan": f"Scan_{i + 1:04d}.pdf",
        "number": f"{i + 1:03d}.pdf",
    }[kind]


def _combined_name(kind: str) -> str:
    return {"slug": "package.pdf", "scan": "Scan_0001.pdf", "number": "JobPackage.pdf"}[kind]


def build_package(out: Path, name: str, gen: Generated, job: pb.Job, seed: int, index: int) -> dict[str, Any]:
    docs: list[pb.Doc] = []
    for plan in gen.plans:
        doc = _build(plan, job)
        if plan.duplicate:
            doc = docs[-1].copy()
        docs.append(doc)
    folder = out / name
    if folder.exists():
        shutil.rmtree(folder)
    package = pb.write_package(
        folder, docs, gen.layout, names=_namer(gen.namer, gen.layout), part_size=3, subfolder=gen.subfolder,
        junk=gen.junk,
    )  # fmt: skip
    truth = pb.Truth(
        gen.work_type,
        generator={
            "style": "stress",
            "seed": seed,
            "index": index,
            "version": VERSION,
            "file_mode": gen.layout,
            "defects_applied": gen.defects,
            "knobs": knobs(gen.style),
            "documents": [
                {
                    "doc_type": p.doc_type,
                    "style": p.style.name if p.style is not gen.style else "package",
                    "knobs": knobs(p.style) if p.style is not gen.style else None,
                    "real_form": p.real[0].name if p.real else None,
                    "scan": p.scan,
                    "sideways": p.sideways is not None,
                    "turned": p.turned,
                    "options": {k: sorted(v) if isinstance(v, set) else v for k, v in p.options.items()},
                }
                for p in gen.plans
            ],
        },
    ).build(package, name)
    (out / f"{name}.truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return truth


def generate(
    out: Path, n: int, seed: int, real_forms: Path | None = DEFAULT_REAL_FORMS
) -> list[dict[str, Any]]:
    """Write ``n`` packages and their truth files into ``out``; returns the truths."""
    out.mkdir(parents=True, exist_ok=True)
    truths = []
    for index in range(n):
        rng = random.Random(seed * 100_003 + index)
        job = pb.Job.random(rng)
        gen = plan_package(rng, job, real_forms)
        truths.append(build_package(out, f"pkg-{index + 1:03d}", gen, job, seed, index))
    return truths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="folder to write pkg-NNN/ and pkg-NNN.truth.json into")
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--real-forms", type=Path, default=DEFAULT_REAL_FORMS, help="shared/corpus/real-forms"
    )
    args = parser.parse_args(argv)
    truths = generate(args.out, args.n, args.seed, args.real_forms)
    pages = sum(len(t["pages"]) for t in truths)
    codes: dict[str, int] = {}
    for t in truths:
        for f in t["findings"]:
            codes[f["code"]] = codes.get(f["code"], 0) + 1
    verdicts = {v: sum(t["verdict"] == v for t in truths) for v in ("pass", "review", "fail")}
    print(f"{len(truths)} packages, {pages} pages in {args.out}; verdicts {verdicts}; findings {codes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

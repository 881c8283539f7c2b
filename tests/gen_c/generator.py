"""Generator C: labelled PG&E job packages in layouts of its own, to measure ``nexa verify`` on unseen forms.

Usage: ``python -m tests.gen_c.generator OUT --seed N --count K`` writes ``OUT/packages/pkg-XXX/*.pdf`` and
``OUT/packages/pkg-XXX.truth.json`` in the format of ``shared/corpus/README.md``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from . import docs as docs_mod
from . import plan as plan_mod
from . import post, realforms
from .draw import PageInfo
from .model import DocSpec, Job


def _render(spec: DocSpec, job: Job) -> tuple[bytes, list[PageInfo]]:
    if spec.variant.startswith("real"):
        return realforms.render_real(spec, job)
    return docs_mod.render(spec, job)


def _weak_mismatches(pkg: plan_mod.Package, infos: list[list[PageInfo]]) -> list[int]:
    """Documents whose wrong number would not face a clear majority (fewer than 3 others agreeing)."""
    weak = []
    for attr, flag in (("pm", "prints_pm"), ("notif", "prints_notif")):
        voters = []
        for i, s in enumerate(pkg.docs):
            if s.doc_type == "other" or s.is_copy:
                continue
            inf = infos[i]
            unreadable = {k for k, m in s.scan.items() if m in post.UNREADABLE_MODES}
            if any(p.form_only for p in inf):
                continue
            if any(getattr(p, flag) for k, p in enumerate(inf) if k not in unreadable):
                voters.append(i)
        for i in voters:
            if getattr(pkg.docs[i], attr):
                agree = [k for k in voters if k != i and not getattr(pkg.docs[k], attr)]
                if len(agree) < 3:
                    weak.append(i)
    return weak


def build_one(seed: int, p: plan_mod.PkgPlan, count: int, root: Path) -> Path:
    pkg = plan_mod.build_package(seed, p, count)
    rendered = [_render(s, pkg.job) for s in pkg.docs]
    for i in _weak_mismatches(pkg, [r[1] for r in rendered]):
        s = pkg.docs[i]
        s.pm = s.notif = None
        pkg.applied = [a for a in pkg.applied if not a.startswith("id_mismatch")] + ["id_mismatch_dropped"]
        rendered[i] = _render(s, pkg.job)
    rng = random.Random(f"genc-post:{seed}:{p.index}")
    # legible scans (no text layer, checked like text pages)
    for s, (_, infos) in zip(pkg.docs, rendered, strict=True):
        for k, inf in enumerate(infos):
            if k in s.scan:
                continue
            if inf.colour_critical:
                if rng.random() < pkg.scan_rate / 3:
                    s.scan[k] = "colour"
            elif inf.scan_ok and rng.random() < pkg.scan_rate:
                s.scan[k] = "grey"
    finals: list[bytes] = []
    for s, (pdf, infos) in zip(pkg.docs, rendered, strict=True):
        if post.page_count(pdf) != len(infos):
            raise AssertionError(
                f"{pkg.name}: {s.doc_type} drew {post.page_count(pdf)} pages, recorded {len(infos)}"
            )
        pdf = post.add_annotations(pdf, infos, s.sideways)
        pdf = post.apply_scans(pdf, s.scan, rng)
        finals.append(pdf)
    folder = root / pkg.name
    folder.mkdir(parents=True, exist_ok=True)
    for fname, idxs in pkg.files:
        target = folder / fname
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(post.assemble([finals[i] for i in idxs]))
    for fname, blob in pkg.extras:
        (folder / fname).write_bytes(blob)
    truth = plan_mod.compute_truth(pkg, [r[1] for r in rendered], seed)
    out = root / f"{pkg.name}.truth.json"
    out.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return out


def generate(out_dir: Path, *, seed: int, count: int = 40) -> list[Path]:
    """Write ``count`` labelled packages under ``out_dir/packages``; returns the truth files written."""
    root = Path(out_dir) / "packages"
    root.mkdir(parents=True, exist_ok=True)
    return [build_one(seed, p, count, root) for p in plan_mod.plan_set(seed, count)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.gen_c.generator", description=__doc__)
    ap.add_argument("out", type=Path, help="output folder (packages/ is created inside)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=40)
    args = ap.parse_args(argv)
    written = generate(args.out, seed=args.seed, count=args.count)
    print(f"wrote {len(written)} packages to {args.out / 'packages'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

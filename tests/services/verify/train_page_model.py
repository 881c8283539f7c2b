"""Train the page model (``resources/rules/page_model.json``) on generated package sets.

Usage: ``python -m tests.services.verify.train_page_model --out resources/rules/page_model.json
[--work DIR]``.

Training data are the labelled packages of two independent generators, A (``stress.py``) and B
(``holdout_b.py``), at fixed seeds; generator C and the public corpus are never trained on (they
validate). Pages are read as ``nexa verify`` reads them (text layer, OCR for scans). Each package is
also used once with the title rows of some pages removed, so the model learns what a page of a form
it has never seen looks like: its cue phrases, its layout, the page before it, its embedding.

The model (see ``nexa_desktop.services.verify.pagemodel``) is fitted by penalised maximum likelihood
(L-BFGS); the previous page's probabilities it uses as evidence come from out-of-fold decoding, so
it learns how much to trust its own earlier decisions, not the truth. The penalty is chosen by
training on one generator and validating on the other, and the temperature of each stage is fitted on
those cross-generator predictions, so the probabilities are calibrated for forms not seen in training.
Deterministic: same seeds, same pages, same weights.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import pickle
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from nexa_desktop.domain.verify import DOC_TYPES, PageContent
from nexa_desktop.services.verify.classify import (
    _WORD,
    Embedder,
    PageClassifier,
    _title_hit,
    page_features,
)
from nexa_desktop.services.verify.extraction import package_pdf_files, read_pdf
from nexa_desktop.services.verify.pagemodel import (
    COL,
    CONTEXT_FEATURES,
    EMBED_FEATURES,
    PAGE_FEATURES,
    TYPE_FEATURES,
    PageEvidence,
    PageModel,
    Stage,
)
from nexa_desktop.services.verify.reading import norm

#: (generator, seed, packages) of the training sets.
TRAINING_SETS: tuple[tuple[str, int, int], ...] = (("A", 11, 60), ("B", 21, 60))
#: Share of pages whose title rows are removed in the augmented copy of each package.
TITLE_DROP = 0.4
#: Penalties tried (on type weights, page weights, biases); the best cross-generator one is kept.
PENALTIES: tuple[float, ...] = (3.0, 10.0, 30.0, 100.0)
FOLDS = 5
#: One page in this many of the title-less copies also serves as a page of an unknown document.
FOREIGN_EVERY = 30
T = len(DOC_TYPES)
K_CHEAP = len(TYPE_FEATURES)
K_FULL = len(TYPE_FEATURES) + len(EMBED_FEATURES)


# --------------------------------------------------------------------------- data


def generate(generator: str, seed: int, count: int, out: Path) -> None:
    if generator == "A":
        from tests.services.verify import stress

        stress.generate(out, count, seed)
    elif generator == "B":
        from tests.services.verify import holdout_b

        holdout_b.main([str(out), "--n", str(count), "--seed", str(seed)])
    else:
        raise ValueError(generator)


def _read_package(job: tuple[str, str]) -> tuple[str, list[PageContent], list[str]]:
    pkg_dir, truth_path = job
    truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    types = {(p["file"], p["page"]): p["doc_type"] for p in truth["pages"]}
    pages: list[PageContent] = []
    for path, rel in package_pdf_files(Path(pkg_dir)):
        pages.extend(read_pdf(path, rel, ocr=True))
    return Path(pkg_dir).name, pages, [types[(p.file, p.page)] for p in pages]


Package = tuple[str, list[PageContent], list[str]]


def read_set(folder: Path, workers: int = 2) -> list[Package]:
    """Every page of every package of a corpus-format folder, with its true type."""
    base = folder / "packages" if (folder / "packages").is_dir() else folder
    jobs = [
        (str(d), str(base / f"{d.name}.truth.json"))
        for d in sorted(base.iterdir())
        if d.is_dir() and (base / f"{d.name}.truth.json").is_file()
    ]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_read_package, jobs))


def load_sets(work: Path, workers: int) -> dict[str, list[Package]]:
    out: dict[str, list[Package]] = {}
    for generator, seed, count in TRAINING_SETS:
        name = f"{generator}-{seed}-{count}"
        cache = work / f"{name}.pages.pkl"
        if not cache.is_file():
            folder = work / name
            if not folder.is_dir():
                print(f"generating {name}", file=sys.stderr)
                generate(generator, seed, count, folder)
            print(f"reading {name}", file=sys.stderr)
            cache.write_bytes(pickle.dumps(read_set(folder, workers)))
        out[generator] = pickle.loads(cache.read_bytes())
    return out


def drop_titles(page: PageContent, titles: Sequence[str]) -> PageContent:
    """The page without the rows of its title block that name a document type (an unknown form)."""
    f = page_features(page)
    named = set()
    for row in f.head_rows:
        words = frozenset(_WORD.findall(row))
        squeezed = row.replace(" ", "")
        if any(_title_hit(t, row, words, squeezed) for t in titles):
            named.add(row)
    cutoff = page.height * 0.35
    lines = [
        ln for ln in page.lines if not (ln.box.y0 <= cutoff and norm(ln.text) and _in_named(ln.text, named))
    ]
    return replace(page, lines=lines)


def _in_named(text: str, named: set[str]) -> bool:
    t = norm(text)
    return any(t and t in row for row in named)


# --------------------------------------------------------------------------- features


@dataclass
class Rows:
    """Training rows: one per page, grouped by file in reading order."""

    by_type: np.ndarray  # (N, T, K_FULL)
    page: np.ndarray  # (N, G)
    context: np.ndarray  # (N, C)
    labels: np.ndarray  # (N,)
    readable: np.ndarray  # (N,) bool
    package: np.ndarray  # (N,) package id
    file_start: np.ndarray  # (N,) bool: first page of a file
    generator: np.ndarray  # (N,) "A"/"B"
    dropped: np.ndarray  # (N,) bool: from the copy with title rows removed

    def take(self, mask: np.ndarray) -> Rows:
        return Rows(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def featurize(sets: dict[str, list[Package]], work: Path) -> Rows:
    classifier = PageClassifier(use_embeddings=False, model=_blank_model())
    all_titles = [t for c in classifier.cues.values() for t in c.titles]
    embedder = Embedder.shared()
    describe = [(t, text) for t, c in classifier.cues.items() for text in c.describe]
    ex_matrix = embedder.encode([text for _, text in describe])
    ex_type = np.array([DOC_TYPES.index(t) for t, _ in describe])
    evidence: list[PageEvidence] = []
    texts: list[str] = []
    labels: list[int] = []
    package: list[int] = []
    starts: list[bool] = []
    gens: list[str] = []
    dropped: list[bool] = []
    pkg_id = 0
    for generator, packages in sorted(sets.items()):
        for variant in ("plain", "dropped"):
            for name, pages, truth in packages:
                rng = random.Random(f"{generator}:{name}")
                if variant == "dropped":
                    pages = [drop_titles(p, all_titles) if rng.random() < TITLE_DROP else p for p in pages]
                for _file, group in itertools.groupby(range(len(pages)), key=lambda i: pages[i].file):
                    idx = list(group)
                    file_pages = [pages[i] for i in idx]
                    feats = [page_features(p) for p in file_pages]
                    evidence.extend(classifier._evidence(file_pages, feats))
                    texts.extend(f.embed_text or "(blank page)" for f in feats)
                    labels.extend(DOC_TYPES.index(truth[i]) for i in idx)
                    starts.extend(k == 0 for k in range(len(idx)))
                    package.extend([pkg_id] * len(idx))
                    gens.extend([generator] * len(idx))
                    dropped.extend([variant == "dropped"] * len(idx))
                pkg_id += 1
    vectors = _embed_cached(embedder, texts, work)
    raw = vectors @ ex_matrix.T
    sims = np.zeros((len(texts), T))
    for j, t in enumerate(ex_type):
        sims[:, t] = np.maximum(sims[:, t], raw[:, j])
    by_type = np.stack([e.by_type for e in evidence])
    by_type[:, :, COL["emb"]] = sims
    by_type[:, :, COL["emb_gap"]] = sims - sims.max(axis=1, keepdims=True)
    rows = Rows(
        by_type,
        np.stack([e.page for e in evidence]),
        np.stack([e.context for e in evidence]),
        np.array(labels),
        np.array([e.readable for e in evidence]),
        np.array(package),
        np.array(starts),
        np.array(gens),
        np.array(dropped),
    )
    return _with_foreign_pages(rows)


def _with_foreign_pages(rows: Rows) -> Rows:
    """Add pages of documents outside the vocabulary: "other covers everything else" (domain.md).

    The generated sets hardly have any page that shows nothing of a known type, so the model would
    not learn what one is. Each FOREIGN_EVERY-th page with its title removed becomes one: no title
    or cue of any type, its own file (no page before it), its layout and its remaining title block
    (for the embedding) kept, labelled ``other``.
    """
    pick = np.flatnonzero(rows.dropped)[::FOREIGN_EVERY]
    foreign = rows.take(pick)
    foreign.by_type[:, :, :K_CHEAP] = 0.0
    page = {name: i for i, name in enumerate(PAGE_FEATURES)}
    for name in ("page_of", "page_first", "scale_label", "title_strength"):
        foreign.page[:, page[name]] = 0.0
    foreign.page[:, page["untitled"]] = 1.0
    foreign.context[:] = 0.0
    foreign.context[:, 0] = 1.0
    foreign.context[:, CONTEXT_FEATURES.index("untitled")] = 1.0
    foreign.labels[:] = DOC_TYPES.index("other")
    foreign.file_start[:] = True
    return Rows(*(np.concatenate([getattr(rows, f), getattr(foreign, f)]) for f in rows.__dataclass_fields__))


def _embed_cached(embedder: Embedder, texts: list[str], work: Path) -> np.ndarray:
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    cache = work / f"embeddings-{key}.npy"
    if cache.is_file():
        return np.load(cache)
    vectors = np.asarray(embedder.encode(texts), dtype=np.float64)
    np.save(cache, vectors)
    return vectors


def _blank_model() -> PageModel:
    return PageModel(DOC_TYPES, _blank_stage(K_CHEAP), _blank_stage(K_FULL), 1.0, {})


def _blank_stage(k: int) -> Stage:
    g, c = len(PAGE_FEATURES), len(CONTEXT_FEATURES)
    return Stage(np.zeros(k), np.zeros((g, T)), np.zeros(T), np.zeros(c), np.zeros(g), np.ones(g), 1.0)


# --------------------------------------------------------------------------- fitting


def fit_stage(rows: Rows, prev: np.ndarray, k: int, penalty: float) -> Stage:
    """Penalised maximum likelihood of the conditional logit on readable rows."""
    use = rows.readable
    phi = rows.by_type[use][:, :, :k]
    mean = rows.page[use].mean(axis=0)
    scale = rows.page[use].std(axis=0)
    scale[scale < 1e-6] = 1.0
    g = (rows.page[use] - mean) / scale
    ctx = rows.context[use]
    pv = prev[use]
    y = np.zeros((int(use.sum()), T))
    y[np.arange(len(y)), rows.labels[use]] = 1.0
    n, gdim, cdim = len(y), g.shape[1], ctx.shape[1]
    sizes = [k, gdim * T, T, cdim]
    cuts = np.cumsum(sizes)[:-1]
    # penalties: type and context weights lightly, per-type page weights strongly (they can learn a
    # generator's style), biases lightly (type frequencies differ between package sets)
    lam = (
        np.concatenate(
            [
                np.full(k, 0.1 * penalty),
                np.full(gdim * T, penalty),
                np.full(T, 0.3 * penalty),
                np.full(cdim, 0.1 * penalty),
            ]
        )
        / n
    )

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        theta, wg, b, wc = np.split(w, cuts)
        wg = wg.reshape(gdim, T)
        carry = ctx @ wc
        z = phi @ theta + g @ wg + b + carry[:, None] * pv
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        nll = -(y * logp).sum() / n
        dz = (p - y) / n
        grad = np.concatenate(
            [
                np.einsum("nt,ntk->k", dz, phi),
                (g.T @ dz).ravel(),
                dz.sum(axis=0),
                ctx.T @ (dz * pv).sum(axis=1),
            ]
        )
        return nll + 0.5 * float((lam * w * w).sum()), grad + lam * w

    w0 = np.zeros(sum(sizes))
    result = minimize(loss, w0, jac=True, method="L-BFGS-B", options={"maxiter": 3000})
    theta, wg, b, wc = np.split(result.x, cuts)
    return Stage(theta, wg.reshape(gdim, T), b, wc, mean, scale, 1.0)


def decode_rows(model: PageModel, rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run-time decoding of every file: (final probabilities, cheap-only probabilities, embedded)."""
    n = len(rows.labels)
    final = np.zeros((n, T))
    cheap = np.zeros((n, T))
    embedded = np.zeros(n, dtype=bool)
    starts = [*np.flatnonzero(rows.file_start).tolist(), n]
    for a, b in itertools.pairwise(starts):
        ev = [
            PageEvidence(rows.by_type[i], rows.page[i], rows.context[i], bool(rows.readable[i]))
            for i in range(a, b)
        ]
        p0 = model.decode(ev, [False] * (b - a))
        flags = [bool(ev[i].readable and p0[i].max() < model.embed_below) for i in range(b - a)]
        cheap[a:b] = p0
        final[a:b] = model.decode(ev, flags) if any(flags) else p0
        embedded[a:b] = flags
    return final, cheap, embedded


def shifted_truth(rows: Rows) -> np.ndarray:
    """The previous page's true type (smoothed), as the first round's context."""
    prev = np.zeros((len(rows.labels), T))
    for i in range(1, len(rows.labels)):
        if not rows.file_start[i] and rows.readable[i - 1]:
            prev[i] = 0.1 / T
            prev[i, rows.labels[i - 1]] += 0.9
    return prev


def previous_of(probs: np.ndarray, rows: Rows) -> np.ndarray:
    """Each page's previous page's probabilities (0 at a file's first page; unreadable pages are 0)."""
    prev = np.zeros_like(probs)
    prev[1:] = probs[:-1]
    prev[rows.file_start] = 0.0
    return prev


def fit_model(rows: Rows, penalty: float, embed_below: float, rounds: int = 2) -> PageModel:
    """Two stages fitted over rounds: context from the truth first, then from out-of-fold decoding."""
    prev = shifted_truth(rows)
    model = _fit_both(rows, prev, penalty, embed_below)
    for _ in range(rounds):
        oof = np.zeros((len(rows.labels), T))
        packages = np.unique(rows.package)
        for fold in range(FOLDS):
            held = np.isin(rows.package, packages[fold::FOLDS])
            fold_model = _fit_both(rows.take(~held), prev[~held], penalty, embed_below)
            oof[held] = decode_rows(fold_model, rows.take(held))[0]
        prev = previous_of(oof, rows)
        model = _fit_both(rows, prev, penalty, embed_below)
    return model


def _fit_both(rows: Rows, prev: np.ndarray, penalty: float, embed_below: float) -> PageModel:
    cheap = fit_stage(rows, prev, K_CHEAP, penalty)
    return PageModel(DOC_TYPES, cheap, fit_stage(rows, prev, K_FULL, penalty), embed_below, {})


def fit_temperature(stage_logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the log loss of these logits."""
    best, best_t = float("inf"), 1.0
    for temp in np.arange(0.5, 4.01, 0.05):
        z = stage_logits / temp
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -float(logp[np.arange(len(labels)), labels].mean())
        if nll < best - 1e-9:
            best, best_t = nll, float(temp)
    return round(best_t, 2)


def stage_logits(model: PageModel, stage: Stage, rows: Rows, final: np.ndarray) -> np.ndarray:
    """Logits of one stage with the decoded previous pages as context."""
    prev = previous_of(final, rows)
    carry = rows.context @ stage.context_weights
    return stage.static_logits(rows.by_type, rows.page) + carry[:, None] * prev


# --------------------------------------------------------------------------- report


def summary(probs: np.ndarray, labels: np.ndarray, readable: np.ndarray) -> dict[str, float]:
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    ok = (pred == labels) & readable
    return {
        "pages": int(readable.sum()),
        "accuracy": round(float(ok.sum() / max(readable.sum(), 1)), 4),
        "review_share": round(float(((conf < 0.6) & readable).sum() / max(readable.sum(), 1)), 4),
        "accuracy_above_0.6": round(
            float(ok[conf >= 0.6].sum() / max(((conf >= 0.6) & readable).sum(), 1)), 4
        ),
    }


def per_type(probs: np.ndarray, labels: np.ndarray) -> dict[str, tuple[float, float]]:
    pred = probs.argmax(axis=1)
    out = {}
    for t, name in enumerate(DOC_TYPES):
        tp = int(((pred == t) & (labels == t)).sum())
        fp = int(((pred == t) & (labels != t)).sum())
        fn = int(((pred != t) & (labels == t)).sum())
        out[name] = (
            round(tp / (tp + fp), 3) if tp + fp else 1.0,
            round(tp / (tp + fn), 3) if tp + fn else 1.0,
        )
    return out


def cross_generator(rows: Rows, penalty: float, embed_below: float) -> dict[str, Any]:
    """Train on one generator, decode the other (plain pages only), both ways."""
    out: dict[str, Any] = {}
    for train, test in (("A", "B"), ("B", "A")):
        model = fit_model(rows.take(rows.generator == train), penalty, embed_below, rounds=1)
        held = rows.take(rows.generator == test)
        final, cheap, embedded = decode_rows(model, held)
        out[f"{train}->{test}"] = (model, held, final, cheap, embedded)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True, help="where to write page_model.json")
    parser.add_argument("--work", type=Path, help="folder to keep generated sets and read pages in")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = featurize(load_sets(work, args.workers), work)
    print(f"{len(rows.labels)} rows ({int(rows.readable.sum())} readable)", file=sys.stderr)
    # 1. penalty and embedding threshold by cross-generator validation
    best: tuple[float, float] | None = None
    chosen = PENALTIES[0]
    report: dict[str, Any] = {}
    for penalty in PENALTIES:
        runs = cross_generator(rows, penalty, embed_below=1.0)
        nll = acc = 0.0
        for _key, (_m, held, final, _cheap, _emb) in runs.items():
            use = held.readable
            nll += -float(np.log(final[use, held.labels[use]] + 1e-12).mean())
            acc += summary(final, held.labels, held.readable)["accuracy"]
        print(
            f"penalty {penalty}: cross-generator accuracy {acc / 2:.4f}, log loss {nll / 2:.4f}",
            file=sys.stderr,
        )
        if best is None or (acc, -nll) > best:
            best, chosen = (acc, -nll), penalty
    runs = cross_generator(rows, chosen, embed_below=1.0)
    # 2. temperatures on cross-generator logits; embedding threshold where cheap pages stay right
    logits_cheap, logits_full, labels, cheap_probs = [], [], [], []
    for _key, (model, held, final, cheap, _emb) in runs.items():
        use = held.readable
        logits_cheap.append(stage_logits(model, model.cheap, held, cheap)[use])
        logits_full.append(stage_logits(model, model.full, held, final)[use])
        labels.append(held.labels[use])
        cheap_probs.append(cheap[use])
    y = np.concatenate(labels)
    t_cheap = fit_temperature(np.concatenate(logits_cheap), y)
    t_full = fit_temperature(np.concatenate(logits_full), y)
    embed_below = _embed_threshold(np.concatenate(logits_cheap) / t_cheap, y)
    print(
        f"penalty {chosen}; temperatures cheap {t_cheap} full {t_full}; embed below {embed_below}",
        file=sys.stderr,
    )
    # 3. the shipped model: all training rows
    model = fit_model(rows, chosen, embed_below)
    model = replace(
        model,
        cheap=replace(model.cheap, temperature=t_cheap),
        full=replace(model.full, temperature=t_full),
    )
    for key, (fold_model, held, _final, _cheap, _emb) in cross_generator(rows, chosen, embed_below).items():
        calibrated = replace(
            fold_model,
            cheap=replace(fold_model.cheap, temperature=t_cheap),
            full=replace(fold_model.full, temperature=t_full),
        )
        final, _c, embedded = decode_rows(calibrated, held)
        plain = ~held.dropped
        report[key] = summary(final[plain], held.labels[plain], held.readable[plain]) | {
            "embedded_share": round(float(embedded[plain].mean()), 4)
        }
        print(f"cross-generator {key}: {report[key]}", file=sys.stderr)
    info = {
        "trained_on": [f"generator {g} seed {s}, {n} packages" for g, s, n in TRAINING_SETS],
        "title_drop": TITLE_DROP,
        "penalty": chosen,
        "cross_generator": report,
        "rows": len(rows.labels),
        "type_counts": dict(Counter(DOC_TYPES[i] for i in rows.labels)),
    }
    model = replace(model, info=info)
    args.out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


def _embed_threshold(logits: np.ndarray, labels: np.ndarray) -> float:
    """The lowest cheap-stage confidence above which pages are right 99.5 % of the time."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    conf, right = p.max(axis=1), p.argmax(axis=1) == labels
    for threshold in np.arange(0.5, 0.991, 0.01):
        above = conf >= threshold
        if above.any() and right[above].mean() >= 0.995:
            return round(float(threshold), 2)
    return 0.99


if __name__ == "__main__":
    raise SystemExit(main())

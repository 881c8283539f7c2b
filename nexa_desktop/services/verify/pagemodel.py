"""The trained page model: one calibrated probability per document type for each page.

A conditional logistic regression. Each type's score adds up evidence *about that type* with weights
shared by all types (how strongly its titles are in the title block, its cue phrases, how close the
title block reads to its descriptions, whether the page continues a page of that type), and evidence
*about the page* with one weight per type (sheet size, photographs, check boxes, "Page i of n",
"Scale:"). Shared weights are what let it carry over to forms it was not trained on.
Weights come from ``tests/services/verify/train_page_model.py`` and ship as ``rules/page_model.json``;
only numpy runs here.

Pages are decided in reading order: the previous page's probabilities enter as evidence, weighed by
how much this page looks like a continuation (no title of its own, "Page 2 of 3", the same sheet).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nexa_desktop import paths
from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.verify import DOC_TYPES, OUTLINE, PageContent

Array = npt.NDArray[np.float64]

#: Evidence about one type, one weight for all types (the "(t)" features).
TYPE_FEATURES: tuple[str, ...] = (
    "title",  # its title phrase in the title block (0 to 1, by how title-like the row is)
    "title_lead",  # it leads the title scores by a clear margin
    "body_title",  # its title phrase only further down the page
    "cues",  # its cue phrases on the page (count, capped)
    "cue_share",  # the share of its cue phrases found
    "title_big",  # its title phrase in a title block row set larger than the page's text
)
#: Embedding evidence, only in the full model.
EMBED_FEATURES: tuple[str, ...] = (
    "emb",  # similarity of the title block to its descriptions
    "emb_gap",  # that similarity minus the best of all types (0 for the closest type)
)
#: Column of each type feature in :attr:`PageEvidence.by_type`.
COL: dict[str, int] = {name: index for index, name in enumerate(TYPE_FEATURES + EMBED_FEATURES)}
#: Evidence about the page, one weight per type. Only what the domain says tells types apart (the
#: sheet, photographs, check boxes, numbering, the sketch's "Scale:"), not a form designer's style.
PAGE_FEATURES: tuple[str, ...] = (
    "landscape",
    "large_sheet",
    "photo_cover",  # share of the page under photograph-sized images
    "box_glyphs",
    "drawn_boxes",
    "page_of",
    "page_first",
    "scale_label",
    "untitled",
    "title_strength",
)
#: What decides how much of the previous page's type carries over, one weight each.
CONTEXT_FEATURES: tuple[str, ...] = (
    "carry",  # always 1: the base weight of the previous page
    "continues",  # this page says "page k of n" with k > 1
    "prev_continued",  # the previous page says "page k of n" with k < n
    "starts",  # this page says "page 1 of n"
    "untitled",  # no title of its own
    "same_sheet",  # the sheet size of the previous page
    "untitled_same_sheet",
    "title_strength",  # how strong its own title is
)

#: A page whose title block reads at least this close to a page the user labelled leans to its label,
#: by up to LEARNED_GAIN logits for the same title block. No training data can say how much a user's
#: correction should count, so it is set: enough to beat the model where the page shows little of any
#: type (an unknown form: 3-4 logits), far from enough to beat a clear title of another type (over 20).
LEARNED_SIMILARITY = 0.86
LEARNED_GAIN = 8.0

#: An image covering less of the page than the first share is a logo, a stamp or a signature; one
#: covering more than the second is the page itself (a scan); in between, a photograph.
PHOTO_SIZE = (0.03, 0.85)

_SCALE = re.compile(r"\bscale\s*:")
_BOX_GLYPH = re.compile(r"[☐☑☒□■]|\[\s*[x✓✔]?\s*\]")


class PageModelError(NexaError):
    """The shipped page model could not be read."""


def model_path() -> Path:
    return paths.resource("rules", "page_model.json")


@dataclass(frozen=True, slots=True)
class PageEvidence:
    """A page's features for the model: per-type evidence (types × features) and page evidence.
    The embedding columns of ``by_type`` are filled in place when the page is embedded."""

    by_type: Array  # (len(DOC_TYPES), len(TYPE_FEATURES) + len(EMBED_FEATURES))
    page: Array  # (len(PAGE_FEATURES),)
    context: Array  # (len(CONTEXT_FEATURES),)
    readable: bool


def page_evidence(
    page: PageContent,
    by_type: Array,
    *,
    body: str,
    title_strength: float,
    page_of: tuple[int, int] | None,
    prev_page_of: tuple[int, int] | None,
    prev: PageContent | None,
) -> PageEvidence:
    """Assemble a page's evidence from its type scores (rule features) and its layout."""
    area = max(page.width * page.height, 1.0)
    photo_area = 0.0
    drawn = 0
    for mark in page.marks:
        box = mark.box
        if mark.kind == "image":
            covered = max(0.0, box.width) * max(0.0, box.height)
            if PHOTO_SIZE[0] * area <= covered < PHOTO_SIZE[1] * area:
                photo_area += covered
        elif (
            mark.kind == "ink"
            and mark.subtype == OUTLINE
            and 4.0 <= box.width <= 20.0
            and 0.6 <= box.width / max(box.height, 0.1) <= 1.6
        ):
            drawn += 1
    untitled = 1.0 if title_strength < 0.3 else 0.0
    layout = np.array(
        [
            1.0 if page.width > page.height * 1.2 else 0.0,
            1.0 if max(page.width, page.height) >= 1000 else 0.0,
            min(1.0, photo_area / area),
            math.log1p(len(_BOX_GLYPH.findall(page.text))) / 3.0,
            math.log1p(drawn) / 3.0,
            1.0 if page_of is not None else 0.0,
            1.0 if page_of is not None and page_of[0] == 1 else 0.0,
            1.0 if _SCALE.search(body) else 0.0,
            untitled,
            title_strength,
        ]
    )
    same = (
        1.0
        if prev is not None and abs(prev.width - page.width) <= 3 and abs(prev.height - page.height) <= 3
        else 0.0
    )
    context = np.array(
        [
            1.0,
            1.0 if page_of is not None and page_of[0] > 1 else 0.0,
            1.0 if prev_page_of is not None and prev_page_of[0] < prev_page_of[1] else 0.0,
            1.0 if page_of is not None and page_of[0] == 1 else 0.0,
            untitled,
            same,
            untitled * same,
            title_strength,
        ]
    )
    return PageEvidence(by_type, layout, context, page.readable)


@dataclass(frozen=True, slots=True)
class Stage:
    """One fitted model: weights for type evidence, page evidence (per type) and context."""

    type_weights: Array  # (n_type_features,)
    page_weights: Array  # (n_page_features, n_types)
    bias: Array  # (n_types,)
    context_weights: Array  # (n_context_features,)
    page_mean: Array
    page_scale: Array
    temperature: float

    def static_logits(self, by_type: Array, page: Array) -> Array:
        """Logits before the previous page is taken into account: (pages, types)."""
        k = self.type_weights.shape[0]
        z: Array = by_type[..., :k] @ self.type_weights
        z += ((page - self.page_mean) / self.page_scale) @ self.page_weights + self.bias
        return z

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stage:
        return cls(
            np.asarray(data["type_weights"], dtype=np.float64),
            np.asarray(data["page_weights"], dtype=np.float64),
            np.asarray(data["bias"], dtype=np.float64),
            np.asarray(data["context_weights"], dtype=np.float64),
            np.asarray(data["page_mean"], dtype=np.float64),
            np.asarray(data["page_scale"], dtype=np.float64),
            float(data.get("temperature", 1.0)),
        )

    def to_json(self) -> dict[str, Any]:
        def r(a: Array) -> Any:
            return np.round(a, 5).tolist()

        return {
            "type_weights": r(self.type_weights),
            "page_weights": r(self.page_weights),
            "bias": r(self.bias),
            "context_weights": r(self.context_weights),
            "page_mean": r(self.page_mean),
            "page_scale": r(self.page_scale),
            "temperature": round(self.temperature, 4),
        }


@dataclass(frozen=True, slots=True)
class PageModel:
    """The cheap stage (no embeddings) and the full stage (with them), and when to use which."""

    types: tuple[str, ...]
    cheap: Stage
    full: Stage
    #: Below this top probability of the cheap stage, a page's title block is embedded.
    embed_below: float
    info: dict[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> PageModel:
        path = path or model_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            model = cls.from_json(data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PageModelError(
                f"The page model {path.name} could not be read ({exc}). Reinstall NEXA Desktop."
            ) from exc
        return model

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageModel:
        if tuple(data["types"]) != DOC_TYPES:
            raise ValueError("its document types are not this version's")
        if (
            tuple(data["type_features"]) != TYPE_FEATURES + EMBED_FEATURES
            or tuple(data["page_features"]) != PAGE_FEATURES
            or tuple(data["context_features"]) != CONTEXT_FEATURES
        ):
            raise ValueError("its features are not this version's")
        return cls(
            tuple(data["types"]),
            Stage.from_json(data["cheap"]),
            Stage.from_json(data["full"]),
            float(data["embed_below"]),
            dict(data.get("info", {})),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "types": list(self.types),
            "type_features": list(TYPE_FEATURES + EMBED_FEATURES),
            "page_features": list(PAGE_FEATURES),
            "context_features": list(CONTEXT_FEATURES),
            "embed_below": self.embed_below,
            "cheap": self.cheap.to_json(),
            "full": self.full.to_json(),
            "info": self.info,
        }

    def decode(
        self,
        evidence: Sequence[PageEvidence],
        embedded: Sequence[bool],
        overrides: Sequence[tuple[int, float] | None] = (),
    ) -> Array:
        """Probabilities (pages × types) in reading order; ``embedded`` pages use the full stage.

        ``overrides[i]``, (type index, similarity), is a page the user labelled that page ``i`` reads
        like: that type gains up to :data:`LEARNED_GAIN` (and the next page sees the result).
        """
        n = len(evidence)
        out = np.zeros((n, len(self.types)))
        if not n:
            return out
        by_type = np.stack([e.by_type for e in evidence])
        page = np.stack([e.page for e in evidence])
        context = np.stack([e.context for e in evidence])
        flags = np.asarray(embedded, dtype=bool)
        static = self.cheap.static_logits(by_type, page)
        carry = context @ self.cheap.context_weights
        temps = np.full(n, self.cheap.temperature)
        if flags.any():
            static[flags] = self.full.static_logits(by_type[flags], page[flags])
            carry[flags] = context[flags] @ self.full.context_weights
            temps[flags] = self.full.temperature
        prev = np.zeros(len(self.types))
        for i in range(n):
            if not evidence[i].readable:
                prev = np.zeros(len(self.types))
                continue
            z = (static[i] + carry[i] * prev) / temps[i]
            learned = overrides[i] if i < len(overrides) else None
            if learned is not None:
                closeness = (learned[1] - LEARNED_SIMILARITY) / (1.0 - LEARNED_SIMILARITY)
                z[learned[0]] += LEARNED_GAIN * min(1.0, max(0.0, closeness))
            z -= z.max()
            p = np.exp(z)
            p /= p.sum()
            out[i] = p
            prev = p
        return out


_shared: PageModel | None = None


def shared_model() -> PageModel:
    """The shipped model, read once per process."""
    global _shared
    if _shared is None:
        _shared = PageModel.load()
    return _shared

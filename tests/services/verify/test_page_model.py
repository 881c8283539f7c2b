"""The trained page model: the shipped weights, how the classifier uses them, and the trainer."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from nexa_desktop.domain.verify import DOC_TYPES, PageContent
from nexa_desktop.services.verify.classify import ClassifierError, Embedder, PageClassifier
from nexa_desktop.services.verify.extraction import read_pdf
from nexa_desktop.services.verify.pagemodel import (
    CONTEXT_FEATURES,
    PAGE_FEATURES,
    PageModel,
    PageModelError,
    model_path,
)
from tests.services.verify import train_page_model as trainer

Page = tuple[str, list[str]]


def _pdf(path: Path, pages: list[Page], *, photos: int = 0) -> list[PageContent]:
    """A PDF with a bold title and body lines per page (``photos`` pictures on the last page), read
    back as ``nexa verify`` reads it."""
    c = canvas.Canvas(str(path), pagesize=letter)
    rng = random.Random(7)
    for index, (title, body) in enumerate(pages):
        c.setFont("Helvetica-Bold", 16)
        c.drawString(72, 720, title)
        c.setFont("Helvetica", 10)
        for i, line in enumerate(body):
            c.drawString(72, 690 - 14 * i, line)
        if index == len(pages) - 1:
            for k in range(photos):
                pixels = bytes(rng.randrange(256) for _ in range(60 * 45 * 3))
                image = Image.frombytes("RGB", (60, 45), pixels)
                x, y = 72 + (k % 2) * 240, 380 - (k // 2) * 190
                c.drawImage(ImageReader(image), x, y, 220, 165)
                c.drawString(x, y - 12, f"Photo {k + 1}")
        c.showPage()
    c.save()
    return list(read_pdf(path, path.name, ocr=False))


@pytest.fixture(scope="module")
def cheap() -> PageClassifier:
    """A classifier whose embedding model is never needed by these pages (a fresh, unloaded one)."""
    return PageClassifier(embedder=Embedder())


def test_the_shipped_model_matches_this_version_and_round_trips() -> None:
    model = PageModel.load()
    assert model.types == DOC_TYPES
    again = PageModel.from_json(json.loads(json.dumps(model.to_json())))
    for stage, other in ((model.cheap, again.cheap), (model.full, again.full)):
        assert np.array_equal(stage.type_weights, other.type_weights)
        assert np.array_equal(stage.page_weights, other.page_weights)
        assert stage.page_weights.shape == (len(PAGE_FEATURES), len(DOC_TYPES))
        assert stage.context_weights.shape == (len(CONTEXT_FEATURES),)
    assert 0.5 <= model.embed_below < 1.0
    # it was validated on the generator it was not trained on
    assert set(model.info["cross_generator"]) == {"A->B", "B->A"}


def test_a_model_for_other_features_is_refused_with_a_sentence(tmp_path: Path) -> None:
    data = json.loads(model_path().read_text(encoding="utf-8"))
    data["page_features"] = [*data["page_features"], "colour"]
    path = tmp_path / "page_model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PageModelError, match=r"page_model\.json could not be read .*Reinstall"):
        PageModel.load(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(PageModelError):
        PageModel.load(path)
    assert issubclass(PageModelError, Exception) and ClassifierError is not PageModelError


def test_titled_pages_are_settled_without_the_embedding_model(cheap: PageClassifier, tmp_path: Path) -> None:
    pages = _pdf(
        tmp_path / "a.pdf",
        [
            ("CREW INSTRUCTIONS", ["1. Install new pole", "2. Transfer conductor", "Redline any changes"]),
            ("TRAFFIC CONTROL PLAN", ["MUTCD typical application TA-10", "Flagger", "Road work ahead"]),
            (
                "CONSTRUCTION FEEDBACK FORM",
                ["Was the job constructible as designed?", "Comments to estimating"],
            ),
        ],
    )
    labels = cheap.classify_file(pages)
    assert [p.doc_type for p in labels] == [
        "crew_instructions",
        "traffic_control_plan",
        "construction_feedback",
    ]
    assert all(0.6 <= p.confidence <= 1.0 and p.reason == "title" for p in labels)
    assert all(p.alternative and p.alternative != p.doc_type for p in labels)
    assert cheap.embedder is not None and cheap.embedder._model is None  # never loaded


def test_a_title_overrules_a_keyword_of_another_type(cheap: PageClassifier, tmp_path: Path) -> None:
    """A unit price form asks about traffic control and flaggers; it is not a traffic control plan."""
    pages = _pdf(
        tmp_path / "b.pdf",
        [
            (
                "DISTRIBUTION UNIT PRICE COMPLETION FORM",
                ["Exhibit B", "Traffic control: flagger hours 6", "Lane closed: yes", "Fire watch: no"],
            )
        ],
    )
    (label,) = cheap.classify_file(pages)
    assert label.doc_type == "unit_price_completion" and label.confidence >= 0.6


def test_an_untitled_next_page_continues_its_document(cheap: PageClassifier, tmp_path: Path) -> None:
    steps = [f"{i}. Step {i} of the work" for i in range(1, 8)]
    pages = _pdf(
        tmp_path / "c.pdf",
        [("CREW INSTRUCTIONS", [*steps, "Page 1 of 2"]), ("", [*steps, "Page 2 of 2"])],
    )
    first, second = cheap.classify_file(pages)
    assert first.doc_type == second.doc_type == "crew_instructions"
    assert second.confidence >= 0.6 and second.reason == "continues the previous page"
    # alone, the same page is not taken for crew instructions with that confidence
    (alone,) = cheap.classify_file(pages[1:])
    assert alone.confidence < second.confidence


def test_a_page_of_photographs_without_a_known_title(cheap: PageClassifier, tmp_path: Path) -> None:
    pages = _pdf(
        tmp_path / "d.pdf", [("POLE 3 - 1234 MAIN ST", ["Before", "After", "Looking north"])], photos=4
    )
    (label,) = cheap.classify_file(pages)
    assert label.doc_type == "photos"


def test_a_page_without_text_is_other_with_no_confidence(cheap: PageClassifier) -> None:
    blank = PageContent(file="x.pdf", page=1, width=612, height=792, source="none")
    (label,) = cheap.classify_file([blank])
    assert (label.doc_type, label.confidence, label.reason) == ("other", 0.0, "no text")


@pytest.mark.slow
def test_a_learned_page_wins_and_forgetting_takes_it_back(tmp_path: Path) -> None:
    classifier = PageClassifier(embedder=Embedder.shared())
    pages = _pdf(tmp_path / "e.pdf", [("WOODPECKER DAMAGE SURVEY", ["Pole 1: two holes", "Pole 2: none"])])
    before = classifier.classify_file(pages)[0]
    assert before.doc_type != "photos"
    text = classifier.learn("photos", pages[0])
    after = classifier.classify_file(pages)[0]
    assert (after.doc_type, after.reason) == ("photos", "like a page you labelled")
    assert after.confidence >= 0.6
    assert classifier.forget("photos", text)
    assert classifier.classify_file(pages)[0].doc_type == before.doc_type


def test_run_time_needs_neither_the_trainer_nor_the_embedding_model() -> None:
    """Classification imports numpy only: scikit-learn/scipy train, torch loads only when needed."""
    code = (
        "import sys\n"
        "from nexa_desktop.services.verify.classify import PageClassifier\n"
        "PageClassifier(use_embeddings=False)\n"
        "heavy = ('sklearn', 'scipy', 'torch', 'sentence_transformers')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


def _toy_rows(seed: int) -> trainer.Rows:
    """Pages whose true type's title evidence is higher, each following a page of another type."""
    rng = np.random.default_rng(seed)
    n, t, k = 300, len(DOC_TYPES), trainer.K_FULL
    labels = rng.integers(0, t, n)
    by_type = rng.random((n, t, k)) * 0.3
    by_type[np.arange(n), labels, 0] += 0.6
    return trainer.Rows(
        by_type,
        rng.random((n, len(PAGE_FEATURES))),
        np.ones((n, len(CONTEXT_FEATURES))),
        labels,
        np.ones(n, dtype=bool),
        np.arange(n) // 3,
        np.arange(n) % 3 == 0,
        np.array(["A"] * n),
        np.zeros(n, dtype=bool),
    )


def test_the_trainer_learns_the_evidence_and_is_deterministic() -> None:
    rows = _toy_rows(1)
    prev = np.zeros((len(rows.labels), len(DOC_TYPES)))
    first = trainer.fit_stage(rows, prev, trainer.K_CHEAP, penalty=1.0)
    second = trainer.fit_stage(rows, prev, trainer.K_CHEAP, penalty=1.0)
    assert np.array_equal(first.type_weights, second.type_weights)
    assert first.type_weights[0] > 1.0  # the title evidence carries the weight
    model = PageModel(DOC_TYPES, first, replace(first, type_weights=np.zeros(trainer.K_FULL)), 0.9, {})
    held = _toy_rows(2)
    final, _cheap, _embedded = trainer.decode_rows(model, held)
    assert trainer.summary(final, held.labels, held.readable)["accuracy"] >= 0.95
    assert np.allclose(final.sum(axis=1), 1.0)

"""Use cases behind ``nexa complete``: pick a model, stream a raw prompt, draft a form for a job."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

from nexa_desktop import paths
from nexa_desktop.domain.board import load_board_config
from nexa_desktop.domain.errors import NexaError, NotFound
from nexa_desktop.domain.identifiers import parse_pm_number
from nexa_desktop.services.board import BoardService
from nexa_desktop.services.complete.engine import LocalEngine
from nexa_desktop.services.complete.fills import Fill, draft_fill
from nexa_desktop.services.complete.models import ModelManager
from nexa_desktop.services.complete.protocol import ChatMessage
from nexa_desktop.settings import load_settings
from nexa_desktop.store.db import open_database


class NoModel(NexaError):
    """No model file is available."""


def pick_model(path: Path | None = None) -> Path:
    """``path`` if given, else the first model the manager finds."""
    if path is not None:
        return path
    for entry in ModelManager().list():
        if entry.exists:
            return entry.path
    raise NoModel(
        f"No model file found. Put a GGUF model (e.g. Phi-3-mini-4k-instruct Q4_K_M) in {paths.models_dir()} "
        "or pass --model PATH."
    )


def stream_prompt(model: Path | None, prompt: str, *, max_tokens: int, write: Callable[[str], None]) -> None:
    with _engine() as engine:
        engine.load(pick_model(model))
        engine.generate([ChatMessage("user", prompt)], max_tokens=max_tokens, on_token=write)


def package_text(package: Path) -> str:
    """The package PDF's text, pages separated by form feeds (pypdfium2)."""
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(str(package))
    except (pypdfium2.PdfiumError, OSError) as exc:
        raise NexaError(f"Can't read the package {package}: {exc}") from None
    try:
        return "\f".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def complete_form(
    form_id: str,
    pm: str,
    *,
    model: Path | None = None,
    package: Path | None = None,
    answers: Mapping[str, str] | None = None,
) -> Fill:
    pm_number = parse_pm_number(pm)
    db = open_database(load_settings().database_url or None)
    try:
        snapshot = BoardService(db, load_board_config(paths.board_config_file()), actor="cli").load()
    finally:
        db.dispose()
    job = next((j for j in snapshot.jobs if j.pm_number == pm_number), None)
    if job is None:
        raise NotFound(f"No job with PM number {pm_number}.")
    text = package_text(package) if package is not None else None
    try:
        model_path: Path | None = pick_model(model)
    except NoModel:
        model_path = None  # facts only; the fill lists the language fields as missing
    with _engine() as engine:
        if model_path is not None:
            engine.load(model_path)
        return draft_fill(
            form_id,
            job,
            snapshot.people,
            snapshot.crews,
            package_text=text,
            generator=engine if model_path is not None else None,
            today=dt.date.today(),
            answers=answers,
        )


def _engine() -> LocalEngine:
    """The local model engine with the thread count chosen on the Models page."""
    from nexa_desktop.settings import load_settings

    engine = LocalEngine()
    engine.preferred_threads = load_settings().llm_threads or None
    return engine

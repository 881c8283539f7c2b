"""Settings: a versioned JSON file in the data dir, overridden by NEXA_* environment variables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nexa_desktop import paths, settings
from nexa_desktop.settings import SCHEMA_VERSION, Settings, load_settings, save_settings


def test_defaults_without_a_file(data_dir: Path) -> None:
    loaded = load_settings()
    assert not paths.settings_file().exists()
    assert loaded.schema_version == SCHEMA_VERSION
    assert loaded.database_url == ""
    assert loaded.swimlanes_by_gf is False
    assert loaded.user_name


def test_round_trip_through_the_versioned_file(data_dir: Path) -> None:
    original = Settings(
        database_url="postgresql://office/nexa", user_name="Dana Reyes", swimlanes_by_gf=True,
        window_geometry="AdnQywADAAA=",
    )  # fmt: skip
    save_settings(original)
    path = paths.settings_file()
    assert path.parent == data_dir
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["schema_version"] == SCHEMA_VERSION
    assert raw["user_name"] == "Dana Reyes"
    assert load_settings() == original
    assert not path.with_suffix(".tmp").exists()


def test_explicit_path(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    save_settings(Settings(user_name="Lee"), target)
    assert load_settings(target).user_name == "Lee"
    assert not paths.settings_file().exists()


def test_environment_overrides_the_file(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_settings(Settings(database_url="sqlite:////from/file.db", swimlanes_by_gf=False, user_name="Al"))
    monkeypatch.setenv("NEXA_DATABASE_URL", "postgresql://office-db/nexa")
    monkeypatch.setenv("NEXA_SWIMLANES_BY_GF", "true")
    loaded = load_settings()
    assert loaded.database_url == "postgresql://office-db/nexa"
    assert loaded.swimlanes_by_gf is True
    assert loaded.user_name == "Al"  # not overridden: the file's value stays


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{not json", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param('{"schema_version": "two"}', id="bad-version"),
        pytest.param('{"swimlanes_by_gf": "banana"}', id="bad-value"),
        pytest.param("[1, 2, 3]", id="list"),
        pytest.param("null", id="null"),
        pytest.param('{"schema_version": null}', id="null-version"),
    ],
)
def test_corrupt_file_falls_back_to_defaults(data_dir: Path, content: str) -> None:
    paths.settings_file().write_text(content, encoding="utf-8")
    loaded = load_settings()
    assert loaded.database_url == "" and loaded.swimlanes_by_gf is False
    assert loaded.schema_version == SCHEMA_VERSION


def test_unknown_keys_are_dropped(data_dir: Path) -> None:
    paths.settings_file().write_text(
        json.dumps({"schema_version": 1, "user_name": "Kim", "retired_option": 5}), encoding="utf-8"
    )
    loaded = load_settings()
    assert loaded.user_name == "Kim"
    assert "retired_option" not in loaded.model_dump()


def test_older_files_are_migrated(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
        raw["swimlanes_by_gf"] = raw.pop("lanes", False)
        return raw

    monkeypatch.setattr(settings, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(settings._MIGRATIONS, 1, v1_to_v2)
    paths.settings_file().write_text(
        json.dumps({"schema_version": 1, "lanes": True, "user_name": "Old"}), encoding="utf-8"
    )
    loaded = load_settings()
    assert loaded.schema_version == 2
    assert loaded.swimlanes_by_gf is True
    assert loaded.user_name == "Old"


def test_a_file_without_a_version_counts_as_version_1(data_dir: Path) -> None:
    paths.settings_file().write_text(json.dumps({"user_name": "Ng"}), encoding="utf-8")
    assert load_settings().user_name == "Ng"

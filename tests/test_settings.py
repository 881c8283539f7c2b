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


def test_a_version_1_file_is_migrated_to_version_2(data_dir: Path) -> None:
    v1 = {"schema_version": 1, "user_name": "Old", "watch_folder": "", "llm_threads": 6,
          "database_url": "postgresql://office/nexa"}  # fmt: skip
    paths.settings_file().write_text(json.dumps(v1), encoding="utf-8")
    loaded = load_settings()
    assert loaded.schema_version == 2 == SCHEMA_VERSION
    assert (loaded.user_name, loaded.llm_threads, loaded.database_url) == (
        "Old",
        6,
        "postgresql://office/nexa",
    )
    assert loaded.backup_enabled is True and loaded.ocr_enabled is True
    assert (loaded.backup_daily_kept, loaded.backup_weekly_kept) == (7, 4)
    save_settings(loaded)
    raw = json.loads(paths.settings_file().read_text(encoding="utf-8"))
    assert raw["schema_version"] == 2
    assert {"backup_enabled", "backup_daily_kept", "backup_weekly_kept", "ocr_enabled"} <= raw.keys()
    assert settings._v1_to_v2({"schema_version": 1})["backup_daily_kept"] == 7


def test_migrations_run_in_a_chain(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def v2_to_v3(raw: dict[str, Any]) -> dict[str, Any]:
        raw["swimlanes_by_gf"] = raw.pop("lanes", False)
        return raw

    monkeypatch.setattr(settings, "SCHEMA_VERSION", 3)
    monkeypatch.setitem(settings._MIGRATIONS, 2, v2_to_v3)
    paths.settings_file().write_text(
        json.dumps({"schema_version": 1, "lanes": True, "user_name": "Old"}), encoding="utf-8"
    )
    loaded = load_settings()
    assert loaded.schema_version == 3
    assert loaded.swimlanes_by_gf is True and loaded.backup_weekly_kept == 4  # 1 -> 2 -> 3
    assert loaded.user_name == "Old"


def test_one_bad_value_keeps_the_others(data_dir: Path) -> None:
    values = {
        "schema_version": 2,
        "user_name": "Kim",
        "backup_daily_kept": 500,
        "database_url": "mysql://x/y",
    }
    paths.settings_file().write_text(json.dumps(values), encoding="utf-8")
    loaded = load_settings()
    assert loaded.user_name == "Kim"
    assert loaded.backup_daily_kept == 7 and loaded.database_url == ""


def test_a_bad_environment_value_is_ignored_not_fatal(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_settings(Settings(llm_threads=4, user_name="Al"))
    monkeypatch.setenv("NEXA_LLM_THREADS", "999")
    monkeypatch.setenv("NEXA_OCR_ENABLED", "false")
    loaded = load_settings()
    assert loaded.llm_threads == 4, "the file's value stays when the variable is unusable"
    assert loaded.ocr_enabled is False and loaded.user_name == "Al"


def test_a_watch_folder_offline_at_start_up_is_kept(data_dir: Path, tmp_path: Path) -> None:
    """Loading does not check folders (a network drive may be down); the Settings page does."""
    gone = tmp_path / "share" / "incoming"
    save_settings(Settings(watch_folder=str(gone)))
    assert load_settings().watch_folder == str(gone)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        pytest.param("", None, id="empty"),
        pytest.param("postgresql://nexa:pw@office-db:5432/nexa", None, id="postgresql"),
        pytest.param("postgres://nexa@office-db/nexa", None, id="postgres"),
        pytest.param("postgresql+psycopg://nexa@office-db/nexa", None, id="psycopg"),
        pytest.param("sqlite:///C:/NEXA/nexa.db", None, id="sqlite"),
        pytest.param("office-db", "not a database address", id="no-scheme"),
        pytest.param("mysql://nexa@db/nexa", "PostgreSQL or SQLite", id="mysql"),
        pytest.param("postgresql+psycopg2://nexa@db/nexa", "PostgreSQL or SQLite", id="other-driver"),
        pytest.param("sqlite://", "needs a file name", id="sqlite-memory"),
        pytest.param("postgresql:///nexa", "server", id="no-host"),
        pytest.param("postgresql://nexa@db", "database name", id="no-database"),
    ],
)
def test_database_url_validation(url: str, problem: str | None) -> None:
    if problem is None:
        assert settings.checked({"database_url": f"  {url} "}).database_url == url
        return
    with pytest.raises(settings.SettingsInvalid) as caught:
        settings.checked({"database_url": url})
    assert problem in caught.value.problems["database_url"]
    assert set(caught.value.problems) == {"database_url"}


def test_form_validation_checks_the_watch_folder_and_ranges(tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    assert settings.checked({"watch_folder": str(folder)}).watch_folder == str(folder)
    assert settings.checked({"watch_folder": ""}).watch_folder == ""
    with pytest.raises(settings.SettingsInvalid) as caught:
        settings.checked({"watch_folder": str(tmp_path / "missing"), "llm_threads": 65,
                          "backup_daily_kept": 0, "backup_weekly_kept": 53})  # fmt: skip
    problems = caught.value.problems
    assert "does not exist" in problems["watch_folder"]
    assert problems["llm_threads"] == "Use 64 or less."
    assert problems["backup_daily_kept"] == "Use 1 or more."
    assert problems["backup_weekly_kept"] == "Use 52 or less."
    assert "does not exist" in str(caught.value)
    with pytest.raises(settings.SettingsInvalid, match="is a file"):
        settings.checked({"watch_folder": str(a_file)})


def test_form_validation_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXA_LLM_THREADS", "999")
    assert settings.checked({"llm_threads": 2}).llm_threads == 2


def test_saves_from_several_threads_never_collide(data_dir: Path) -> None:
    import threading

    errors: list[BaseException] = []

    def save(n: int) -> None:
        try:
            for _ in range(30):
                save_settings(Settings(llm_threads=n))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert load_settings().llm_threads in {1, 2, 3, 4}
    assert list(data_dir.glob("*.tmp")) == []


def test_a_file_without_a_version_counts_as_version_1(data_dir: Path) -> None:
    paths.settings_file().write_text(json.dumps({"user_name": "Ng"}), encoding="utf-8")
    assert load_settings().user_name == "Ng"

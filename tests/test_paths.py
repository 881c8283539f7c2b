"""Where NEXA keeps files: NEXA_DATA_DIR overrides the platform data dir."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from nexa_desktop import paths


def test_data_dir_override(data_dir: Path) -> None:
    assert paths.data_dir() == data_dir
    assert paths.database_file() == data_dir / "nexa.db"
    assert paths.settings_file() == data_dir / "settings.json"
    assert paths.backups_dir() == data_dir / "backups"
    assert paths.logs_dir() == data_dir / "logs"
    assert paths.backups_dir().is_dir() and paths.logs_dir().is_dir()


def test_override_is_created_on_first_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "nested" / "profile"
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(target))
    assert paths.data_dir() == target
    assert target.is_dir()


def test_without_override_uses_the_platform_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str]] = []

    def fake_user_data_dir(app: str, author: str) -> str:
        asked.append((app, author))
        return str(tmp_path / "platform")

    monkeypatch.delenv(paths.DATA_DIR_ENV)
    monkeypatch.setattr(platformdirs, "user_data_dir", fake_user_data_dir)
    assert paths.data_dir() == tmp_path / "platform"
    assert asked == [("NEXA Desktop", "NEXA")]


def test_shipped_resources() -> None:
    assert paths.board_config_file().is_file()
    assert paths.board_config_file().parent == paths.resources_dir()
    assert paths.models_dir() == paths.PROJECT_ROOT / "models"

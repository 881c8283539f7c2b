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


def test_a_missing_resource_names_the_file() -> None:
    with pytest.raises(paths.ResourceMissing, match=r"rules.nope\.toml.*reinstall"):
        paths.resource("rules", "nope.toml")
    assert paths.resource("rules", "pge.toml") == paths.resources_dir() / "rules" / "pge.toml"


def test_installed_copy_wins_over_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed (wheel, frozen app) the resources sit inside the package folder."""
    package = tmp_path / "site-packages" / "nexa_desktop"
    (package / "resources").mkdir(parents=True)
    monkeypatch.setattr(paths, "PACKAGE_DIR", package)
    monkeypatch.setattr(paths, "PROJECT_ROOT", package.parent)
    assert paths.resources_dir() == package / "resources"
    # no checkout around it: model files go to the data dir
    assert paths.models_dir() == paths.data_dir() / "models"

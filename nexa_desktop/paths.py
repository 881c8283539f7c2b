"""The one place that knows where NEXA keeps files.

Everything lives under the user data dir (platformdirs) unless ``NEXA_DATA_DIR`` overrides it,
which tests, the demo and multi-profile setups use.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "NEXA Desktop"
APP_AUTHOR = "NEXA"
DATA_DIR_ENV = "NEXA_DATA_DIR"

#: Repository/installation root: ``resources/`` and ``models/`` sit beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The data directory, created on first use."""
    override = os.environ.get(DATA_DIR_ENV)
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_file() -> Path:
    """The embedded SQLite database."""
    return data_dir() / "nexa.db"


def backups_dir() -> Path:
    path = data_dir() / "backups"
    path.mkdir(parents=True, exist_ok=True)
    return path


def logs_dir() -> Path:
    path = data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_file() -> Path:
    return data_dir() / "settings.json"


def resources_dir() -> Path:
    """Icons, stylesheet and configuration shipped with the app (``resources/``)."""
    return PROJECT_ROOT / "resources"


def board_config_file() -> Path:
    return resources_dir() / "board.toml"


def models_dir() -> Path:
    """Where users drop model files (``models/`` beside the app)."""
    return PROJECT_ROOT / "models"

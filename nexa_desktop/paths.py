"""The one place that knows where NEXA keeps files.

Everything lives under the user data dir (platformdirs) unless ``NEXA_DATA_DIR`` overrides it,
which tests, the demo and multi-profile setups use.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from nexa_desktop.domain.errors import NexaError

APP_NAME = "NEXA Desktop"
APP_AUTHOR = "NEXA"
DATA_DIR_ENV = "NEXA_DATA_DIR"

#: The ``nexa_desktop`` package folder (in a checkout, site-packages, or a frozen app's bundle).
PACKAGE_DIR = Path(__file__).resolve().parent
#: The source checkout's root, where ``resources/`` and ``models/`` sit beside the package.
PROJECT_ROOT = PACKAGE_DIR.parent


class ResourceMissing(NexaError):
    """A file NEXA ships with is not there: the installation is incomplete."""


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


def is_frozen() -> bool:
    """True inside the PyInstaller app."""
    return bool(getattr(sys, "frozen", False))


def resources_dir() -> Path:
    """Icons, stylesheet and configuration shipped with the app.

    The source folder is the checkout's top-level ``resources/``; the wheel and the frozen app carry
    it as ``nexa_desktop/resources`` (see pyproject.toml and installer/nexa.spec), so an installed
    copy never depends on a checkout. An editable install has no packaged copy and reads the source.
    """
    packaged = PACKAGE_DIR / "resources"
    return packaged if packaged.is_dir() else PROJECT_ROOT / "resources"


def resource(*parts: str) -> Path:
    """A file shipped in ``resources/``; a missing one is an installation error naming the file."""
    path = resources_dir().joinpath(*parts)
    if not path.is_file():
        raise ResourceMissing(
            f"NEXA Desktop is missing its bundled file {path}. The installation is incomplete: "
            "reinstall NEXA Desktop (or run `make install` in a source checkout)."
        )
    return path


def board_config_file() -> Path:
    return resource("board.toml")


def models_dir() -> Path:
    """Where users drop model files: ``models/`` beside the app (the frozen app's folder or the
    checkout); an installed wheel has no such folder, so the data dir's ``models/`` stands in."""
    if is_frozen():
        return Path(sys.executable).resolve().parent / "models"
    checkout = PROJECT_ROOT / "models"
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return checkout
    return data_dir() / "models"

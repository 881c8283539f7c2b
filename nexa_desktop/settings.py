"""User settings: one versioned JSON file in the data dir, overridable by ``NEXA_*`` variables.

Older files are migrated forward on load (``_MIGRATIONS``); unknown keys are dropped, bad values
fall back to defaults with a warning rather than stopping the app.
"""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from nexa_desktop import paths

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "user"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEXA_", extra="ignore")

    schema_version: int = SCHEMA_VERSION
    #: SQLAlchemy URL of a shared office database; empty means the embedded SQLite file.
    database_url: str = ""
    #: Shown in job history as who made a change.
    user_name: str = Field(default_factory=_default_user)
    swimlanes_by_gf: bool = False
    window_geometry: str = ""
    #: Folder the Packages view watches for new job packages; empty means no watching.
    watch_folder: str = ""
    #: CPU threads for the local model; 0 means the recommended count for this computer.
    llm_threads: int = Field(default=0, ge=0, le=64)


#: ``version -> function`` that upgrades a raw dict from that version to the next.
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
    version = int(raw.get("schema_version", 1))
    while version < SCHEMA_VERSION:
        raw = _MIGRATIONS[version](raw)
        version += 1
        raw["schema_version"] = version
    return raw


def load_settings(path: Path | None = None) -> Settings:
    path = path or paths.settings_file()
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(loaded, dict):
                raise ValueError("not a JSON object")
            raw = _migrate(loaded)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("settings file %s unreadable (%s); using defaults", path, exc)
            raw = {}
    try:
        # Environment variables win over the file (init kwargs are lowest here on purpose).
        return Settings.model_validate({**raw, **Settings().model_dump(exclude_unset=True)})
    except ValidationError as exc:
        log.warning("settings file %s has bad values (%s); using defaults", path, exc)
        return Settings()


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically so a crash never leaves half a file."""
    path = path or paths.settings_file()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(settings.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(path)

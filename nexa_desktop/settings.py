"""User settings: one versioned JSON file in the data dir, overridable by ``NEXA_*`` variables.

Older files are migrated forward on load (``_MIGRATIONS``); unknown keys are dropped and a bad
value falls back to its default with a warning (the other values stay) rather than stopping the app.
The Settings page validates a whole form with :func:`checked`, which also checks that the watch
folder exists; loading does not, so a folder on a network drive that is offline at start-up is kept
(the Packages page says it can't be reached).
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from nexa_desktop import paths
from nexa_desktop.domain.errors import NexaError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2

#: SQLAlchemy driver names the app can open (psycopg 3 for PostgreSQL; ``postgres://`` is rewritten).
_DRIVERS = {"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"}
_URL_EXAMPLES = "postgresql://user@server/nexa or sqlite:///C:/NEXA/nexa.db"


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "user"


def check_database_url(value: str) -> str:
    """Empty (the embedded database) or a SQLite/PostgreSQL URL the app can open; else ValueError."""
    text = value.strip()
    if not text:
        return ""
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise ValueError(f"This is not a database address; it should look like {_URL_EXAMPLES}.") from None
    if url.drivername not in _DRIVERS:
        raise ValueError(
            f"NEXA Desktop works with PostgreSQL or SQLite databases ({url.drivername!r} is neither); "
            f"use an address like {_URL_EXAMPLES}."
        )
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("A SQLite address needs a file name, like sqlite:///C:/NEXA/nexa.db.")
    else:
        if not url.host:
            raise ValueError(
                "A PostgreSQL address needs the server's name, like postgresql://user@server/nexa."
            )
        if not url.database:
            raise ValueError("A PostgreSQL address needs the database name at the end, like …@server/nexa.")
    return text


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
    #: Daily copies of the database (the backup service reads the three ``backup_*`` values).
    backup_enabled: bool = True
    backup_daily_kept: int = Field(default=7, ge=1, le=60)
    backup_weekly_kept: int = Field(default=4, ge=0, le=52)
    #: Read pages without a text layer (scans) with offline OCR; off is faster on slow computers.
    ocr_enabled: bool = True

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return check_database_url(value)

    @field_validator("watch_folder")
    @classmethod
    def _watch_folder(cls, value: str) -> str:
        text = value.strip()
        return str(Path(text).expanduser()) if text else ""


class _GivenValues(Settings):
    """Validates only the values given (``Settings()`` also reads ``NEXA_*`` variables)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _validated(values: Mapping[str, Any]) -> Settings:
    """``Settings`` from exactly ``values`` (defaults for the rest), no environment variables."""
    given = _GivenValues.model_validate(dict(values))
    return Settings.model_construct(_fields_set=set(given.model_fields_set), **given.model_dump())


def _existing_folder(value: str) -> str:
    text = value.strip()
    if text:
        folder = Path(text).expanduser()
        if not folder.exists():
            raise ValueError(f"The folder {text} does not exist (or this computer can't reach it).")
        if not folder.is_dir():
            raise ValueError(f"{text} is a file; choose a folder.")
    return text


#: A folder that exists, or empty.
ExistingFolder = Annotated[str, AfterValidator(_existing_folder)]
_FOLDER = TypeAdapter(ExistingFolder)


class SettingsInvalid(NexaError):
    """Some values of a settings form are not usable; ``problems`` maps field name to a sentence."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__(" ".join(self.problems.values()))


def checked(values: Mapping[str, Any]) -> Settings:
    """Validate the values as the Settings page saves them: every field, and the watch folder must
    exist (the environment is not consulted). Raises :class:`SettingsInvalid`."""
    problems: dict[str, str] = {}
    settings: Settings | None = None
    try:
        settings = _validated(values)
    except ValidationError as exc:
        problems.update(field_errors(exc))
    if "watch_folder" not in problems:
        try:
            _FOLDER.validate_python(str(values.get("watch_folder", "")))
        except ValidationError as exc:
            problems["watch_folder"] = field_errors(exc, name="watch_folder")["watch_folder"]
    if problems or settings is None:
        raise SettingsInvalid(problems)
    return settings


def field_errors(exc: ValidationError, *, name: str = "") -> dict[str, str]:
    """``field name -> sentence`` for each field ``exc`` complains about (the first problem each);
    ``name``: the field, for errors from validating one value."""
    found: dict[str, str] = {}
    for error in exc.errors():
        if not error["loc"] and not name:
            continue
        field = name or str(error["loc"][0])
        if field in found:
            continue
        ctx = error.get("ctx") or {}
        if error["type"] == "value_error":
            text = str(ctx.get("error", error["msg"]))
        elif error["type"] == "greater_than_equal":
            text = f"Use {ctx['ge']} or more."
        elif error["type"] == "less_than_equal":
            text = f"Use {ctx['le']} or less."
        else:
            text = error["msg"].rstrip(".") + "."
        found[field] = text
    return found


def _v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
    """Version 2 added backups and the OCR switch; a version 1 file gets their defaults written out."""
    raw.setdefault("backup_enabled", True)
    raw.setdefault("backup_daily_kept", 7)
    raw.setdefault("backup_weekly_kept", 4)
    raw.setdefault("ocr_enabled", True)
    return raw


#: ``version -> function`` that upgrades a raw dict from that version to the next.
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
    version = int(raw.get("schema_version", 1))
    while version < SCHEMA_VERSION:
        raw = _MIGRATIONS[version](raw)
        version += 1
        raw["schema_version"] = version
    return raw


def _good_values(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The part of ``raw`` that validates; each bad value is logged and left out (its default wins)."""
    data = {key: value for key, value in raw.items() if key in Settings.model_fields}
    while True:
        try:
            _validated(data)
            return data
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]} & data.keys()
            if not bad:
                log.warning("%s: unusable values (%s); using defaults", where, exc)
                return {}
            log.warning(
                "%s: bad values for %s (%s); using their defaults", where, ", ".join(sorted(bad)), exc
            )
            for key in bad:
                del data[key]


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
    from_file = _good_values(raw, f"settings file {path}")
    # Environment variables win over the file.
    from_env = _good_values(EnvSettingsSource(Settings)(), "NEXA_* environment variables")
    return _validated({**from_file, **from_env})


_save_lock = threading.Lock()


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically so a crash never leaves half a file; safe to call from several threads."""
    path = path or paths.settings_file()
    text = settings.model_dump_json(indent=2)
    with _save_lock:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)

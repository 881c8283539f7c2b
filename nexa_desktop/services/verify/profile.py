"""Load a rules profile from ``resources/rules/`` (or any TOML file)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from nexa_desktop import paths
from nexa_desktop.domain.rules import RulesProfile, RulesProfileError, parse_profile

DEFAULT_PROFILE = "pge"


def profile_path(name: str = DEFAULT_PROFILE) -> Path:
    return paths.resource("rules", f"{name}.toml")


def load_profile_file(path: Path) -> RulesProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesProfileError(f"Rules profile not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesProfileError(f"Rules profile {path.name} is not valid TOML: {exc}") from exc
    return parse_profile(data, source=path.name)


@lru_cache(maxsize=8)
def load_profile(name: str = DEFAULT_PROFILE) -> RulesProfile:
    """The named profile shipped in ``resources/rules`` (cached; profiles are immutable)."""
    return load_profile_file(profile_path(name))

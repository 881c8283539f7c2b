"""Service settings: where the data lives, lease and license lifetimes, limits, the clock.

Everything has a default so ``nexa-cloud serve`` just works; the environment (``NEXA_CLOUD_*``)
and the CLI override it, and tests pass a :class:`Settings` with an injected clock.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "NEXA Cloud"
APP_AUTHOR = "NEXA"
DATA_DIR_ENV = "NEXA_CLOUD_DATA_DIR"
DATABASE_URL_ENV = "NEXA_CLOUD_DATABASE_URL"
KEY_PASSPHRASE_ENV = "NEXA_CLOUD_KEY_PASSPHRASE"

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The real clock (aware, UTC)."""
    return dt.datetime.now(dt.UTC)


def data_dir() -> Path:
    """``NEXA_CLOUD_DATA_DIR`` or the platform's user data dir, created on first use."""
    override = os.environ.get(DATA_DIR_ENV)
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url(directory: Path | None = None) -> str:
    """SQLite in the data dir."""
    return f"sqlite:///{((directory or data_dir()) / 'nexa-cloud.db').as_posix()}"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None


@dataclass(frozen=True)
class Argon2Params:
    """argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile)."""

    time_cost: int = 3
    memory_cost: int = 65_536
    parallelism: int = 4


#: Cheap parameters for tests and benchmarks only.
FAST_ARGON2 = Argon2Params(time_cost=1, memory_cost=8, parallelism=1)


@dataclass(frozen=True)
class Settings:
    """How one service instance behaves."""

    database_url: str | None = None
    data_dir: Path | None = None
    license_ttl: dt.timedelta = dt.timedelta(days=30)
    grace_days: int = 7
    lease: dt.timedelta = dt.timedelta(minutes=10)
    admin_token_ttl: dt.timedelta = dt.timedelta(hours=12)
    max_body_bytes: int = 1024 * 1024
    #: Per-org token bucket: sustained requests per second and burst size.
    rate_per_second: float = 50.0
    rate_burst: float = 500.0
    #: Per client address: failed logins, unknown org codes and unknown tokens.
    failure_rate_per_second: float = 1.0
    failure_burst: float = 30.0
    benchmark_min_orgs: int = 11
    #: Usage events older than this or further in the future than ``usage_max_future`` are rejected.
    usage_max_age: dt.timedelta = dt.timedelta(days=400)
    usage_max_future: dt.timedelta = dt.timedelta(days=1)
    key_passphrase: str | None = None
    argon2: Argon2Params = field(default_factory=Argon2Params)
    clock: Clock = utc_now

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then ``NEXA_CLOUD_*`` variables, then ``overrides`` (``None`` values ignored)."""
        values: dict[str, object] = {
            "database_url": os.environ.get(DATABASE_URL_ENV) or None,
            "key_passphrase": os.environ.get(KEY_PASSPHRASE_ENV) or None,
            "rate_per_second": _env_float("NEXA_CLOUD_RATE_PER_SECOND", cls.rate_per_second),
            "rate_burst": _env_float("NEXA_CLOUD_RATE_BURST", cls.rate_burst),
            "lease": dt.timedelta(minutes=_env_float("NEXA_CLOUD_LEASE_MINUTES", 10.0)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def resolved_data_dir(self) -> Path:
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return self.data_dir
        return data_dir()

    def resolved_database_url(self) -> str:
        url = self.database_url or default_database_url(self.resolved_data_dir())
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url

    def now(self) -> dt.datetime:
        """The (injectable) clock, always aware UTC."""
        value = self.clock()
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

"""The service's tables (SQLAlchemy Core, its own metadata; Alembic migrations mirror them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


ID = String(36)

orgs = Table(
    "orgs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

admin_users = Table(
    "admin_users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False, index=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

admin_tokens = Table(
    "admin_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("admin_id", ID, ForeignKey("admin_users.id"), nullable=False, index=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

seat_pools = Table(
    "seat_pools",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False, index=True),
    Column("seats", Integer, nullable=False),
    Column("entitlements", String(200), nullable=False),  # comma-separated, sorted
    Column("floating", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

machines = Table(
    "machines",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("pool_id", ID, ForeignKey("seat_pools.id"), nullable=True),
    # The seat this machine holds in its pool (0..seats-1), NULL when it holds none. The unique
    # constraint is the backstop that makes over-allocation impossible even without the lock.
    Column("seat_slot", Integer, nullable=True),
    Column("fingerprint", String(256), nullable=False),
    Column("hostname", String(255), nullable=False),
    Column("os_user", String(255), nullable=False),
    Column("app_version", String(64), nullable=False),
    Column("token_hash", String(64), nullable=True, unique=True),
    Column("status", String(20), nullable=False),  # active | revoked | expired_lease | deactivated
    Column("activated_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("lease_expires_at", UtcDateTime(), nullable=True),
    UniqueConstraint("org_id", "fingerprint", name="uq_machines_org_fingerprint"),
    UniqueConstraint("pool_id", "seat_slot", name="uq_machines_pool_slot"),
)

usage_events = Table(
    "usage_events",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("machine_id", ID, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("code", String(41), nullable=True),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("day", Date, nullable=False),
    Column("count", Integer, nullable=False),
    Column("duration_ms", BigInteger, nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
)

usage_daily = Table(
    "usage_daily",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("code", String(41), primary_key=True),  # "" when the events carry no code
    Column("events", BigInteger, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("duration_ms_total", BigInteger, nullable=False),
)
Index("ix_usage_daily_day_kind", usage_daily.c.day, usage_daily.c.kind)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("org_id", ID, nullable=True, index=True),
    Column("actor", String(400), nullable=False),
    Column("action", String(60), nullable=False),
    Column("target", String(200), nullable=True),
    Column("details", Text, nullable=False),  # canonical JSON
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(16), primary_key=True),
    Column("public_key_pem", Text, nullable=False),
    Column("private_key_pem", Text, nullable=False),  # PKCS#8, encrypted with the passphrase
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("retired_at", UtcDateTime(), nullable=True),
)

"""Initial schema: orgs, admins, seat pools, machines, usage, daily aggregates, audit, signing keys.

Revision ID: c0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)

_SQLITE_APPEND_ONLY = """
CREATE TRIGGER audit_log_no_{op} BEFORE {OP} ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""

_PG_APPEND_ONLY_FN = """
CREATE OR REPLACE FUNCTION nexa_cloud_audit_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=True),
        sa.Column("actor", sa.String(length=400), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_org_id"), "audit_log", ["org_id"], unique=False)
    op.create_table(
        "orgs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orgs")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_orgs_code_hash")),
    )
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("retired_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "admin_users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_admin_users_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_users")),
        sa.UniqueConstraint("email", name=op.f("uq_admin_users_email")),
    )
    op.create_index(op.f("ix_admin_users_org_id"), "admin_users", ["org_id"], unique=False)
    op.create_table(
        "seat_pools",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("entitlements", sa.String(length=200), nullable=False),
        sa.Column("floating", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_seat_pools_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_pools")),
    )
    op.create_index(op.f("ix_seat_pools_org_id"), "seat_pools", ["org_id"], unique=False)
    op.create_table(
        "usage_daily",
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=41), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms_total", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_usage_daily_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", "day", "kind", "code", name=op.f("pk_usage_daily")),
    )
    op.create_index("ix_usage_daily_day_kind", "usage_daily", ["day", "kind"], unique=False)
    op.create_table(
        "usage_events",
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("machine_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=41), nullable=True),
        sa.Column("occurred_at", _TS, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("received_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_usage_events_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", "event_id", name=op.f("pk_usage_events")),
    )
    op.create_table(
        "admin_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("admin_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["admin_id"], ["admin_users.id"], name=op.f("fk_admin_tokens_admin_id_admin_users")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_admin_tokens_org_id_orgs")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_admin_tokens")),
    )
    op.create_index(op.f("ix_admin_tokens_admin_id"), "admin_tokens", ["admin_id"], unique=False)
    op.create_table(
        "machines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("pool_id", sa.String(length=36), nullable=True),
        sa.Column("seat_slot", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=256), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("os_user", sa.String(length=255), nullable=False),
        sa.Column("app_version", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("activated_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("lease_expires_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_machines_org_id_orgs")),
        sa.ForeignKeyConstraint(["pool_id"], ["seat_pools.id"], name=op.f("fk_machines_pool_id_seat_pools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machines")),
        sa.UniqueConstraint("org_id", "fingerprint", name="uq_machines_org_fingerprint"),
        sa.UniqueConstraint("pool_id", "seat_slot", name="uq_machines_pool_slot"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_machines_token_hash")),
    )

    # The audit log is append-only for everyone, the service included.
    if op.get_bind().dialect.name == "sqlite":
        for name in ("update", "delete"):
            op.execute(_SQLITE_APPEND_ONLY.format(op=name, OP=name.upper()))
    else:
        op.execute(_PG_APPEND_ONLY_FN)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION nexa_cloud_audit_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS nexa_cloud_audit_append_only()")
    for table in (
        "machines", "admin_tokens", "usage_events", "usage_daily", "seat_pools", "admin_users",
        "signing_keys", "orgs", "audit_log",
    ):  # fmt: skip
        op.drop_table(table)

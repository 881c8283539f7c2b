"""Initial schema: people, crews, jobs, append-only job history, usage outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_APPEND_ONLY = """
CREATE TRIGGER job_history_no_{op} BEFORE {OP} ON job_history
BEGIN SELECT RAISE(ABORT, 'job_history is append-only'); END
"""

_PG_APPEND_ONLY_FN = """
CREATE OR REPLACE FUNCTION nexa_job_history_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'job_history is append-only'; END; $$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("lan_id", sa.String(4), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_people"),
        sa.UniqueConstraint("lan_id", name="uq_people_lan_id"),
    )
    op.create_table(
        "crews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("foreman_id", sa.Integer, nullable=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("skills", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_crews"),
        sa.UniqueConstraint("name", name="uq_crews_name"),
        sa.ForeignKeyConstraint(["foreman_id"], ["people.id"], name="fk_crews_foreman_id_people"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pm_number", sa.String(8), nullable=True),
        sa.Column("notification_number", sa.String(9), nullable=True),
        sa.Column("wo_number", sa.String(40), nullable=True),
        sa.Column("work_type", sa.String(20), nullable=False),
        sa.Column("division", sa.String(2), nullable=True),
        sa.Column("mat_code", sa.String(3), nullable=True),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("city", sa.String(80), nullable=False),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("prefield_complete", sa.Boolean, nullable=False),
        sa.Column("gf_id", sa.Integer, nullable=True),
        sa.Column("foreman_id", sa.Integer, nullable=True),
        sa.Column("crew_id", sa.Integer, nullable=True),
        sa.Column("scheduled_start", sa.Date, nullable=True),
        sa.Column("scheduled_end", sa.Date, nullable=True),
        sa.Column("stuck_reason", sa.Text, nullable=True),
        sa.Column("stuck_from", sa.String(30), nullable=True),
        sa.Column("go_back_reason", sa.Text, nullable=True),
        sa.Column("dependencies", sa.JSON, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("pm_number", name="uq_jobs_pm_number"),
        sa.UniqueConstraint("notification_number", name="uq_jobs_notification_number"),
        sa.CheckConstraint("pm_number IS NOT NULL OR notification_number IS NOT NULL", name="ck_jobs_has_id"),
        sa.CheckConstraint("version >= 1", name="ck_jobs_version_positive"),
        sa.ForeignKeyConstraint(["gf_id"], ["people.id"], name="fk_jobs_gf_id_people"),
        sa.ForeignKeyConstraint(["foreman_id"], ["people.id"], name="fk_jobs_foreman_id_people"),
        sa.ForeignKeyConstraint(["crew_id"], ["crews.id"], name="fk_jobs_crew_id_crews"),
    )
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_table(
        "job_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(120), nullable=False),
        sa.Column("from_status", sa.String(30), nullable=True),
        sa.Column("to_status", sa.String(30), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_history"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_job_history_job_id_jobs"),
    )
    op.create_index("ix_job_history_job_id", "job_history", ["job_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )

    if op.get_bind().dialect.name == "sqlite":
        for name in ("update", "delete"):
            op.execute(_SQLITE_APPEND_ONLY.format(op=name, OP=name.upper()))
    else:
        op.execute(_PG_APPEND_ONLY_FN)
        op.execute(
            "CREATE TRIGGER job_history_append_only BEFORE UPDATE OR DELETE ON job_history "
            "FOR EACH ROW EXECUTE FUNCTION nexa_job_history_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS job_history_append_only ON job_history")
        op.execute("DROP FUNCTION IF EXISTS nexa_job_history_append_only()")
    for table in ("outbox", "job_history", "jobs", "crews", "people"):
        op.drop_table(table)

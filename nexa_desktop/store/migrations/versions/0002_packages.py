"""Package verification: verified packages, their files (by content hash) and re-labelled pages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("root", sa.Text, nullable=False),
        sa.Column("pm_number", sa.String(20), nullable=True),
        sa.Column("notification_number", sa.String(20), nullable=True),
        sa.Column("work_type", sa.String(20), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("report_json", sa.Text, nullable=False),
        sa.Column("job_id", sa.Integer, nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_packages"),
        sa.CheckConstraint("version >= 1", name="ck_packages_version_positive"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_packages_job_id_jobs", ondelete="SET NULL"),
    )
    op.create_index("ix_packages_checked_at", "packages", ["checked_at"])
    op.create_index("ix_packages_pm_number", "packages", ["pm_number"])
    op.create_index("ix_packages_job_id", "packages", ["job_id"])
    op.create_table(
        "package_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("package_id", sa.Integer, nullable=False),
        sa.Column("rel_path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_package_files"),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name="fk_package_files_package_id_packages", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_package_files_package_id", "package_files", ["package_id"])
    op.create_index("ix_package_files_sha256", "package_files", ["sha256"])
    op.create_table(
        "page_exemplars",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("doc_type", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("source_page", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_page_exemplars"),
    )
    op.create_index("ix_page_exemplars_source", "page_exemplars", ["source_sha256", "source_page"])


def downgrade() -> None:
    for table in ("page_exemplars", "package_files", "packages"):
        op.drop_table(table)

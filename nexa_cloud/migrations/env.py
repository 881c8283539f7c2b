"""Alembic environment: always run programmatically with a live connection (see nexa_cloud.db)."""

from __future__ import annotations

from alembic import context

from nexa_cloud.models import metadata

VERSION_TABLE = "nexa_cloud_alembic_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

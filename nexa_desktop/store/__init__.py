"""Persistence: SQLAlchemy models, engine/sessions, Alembic migrations and repositories."""

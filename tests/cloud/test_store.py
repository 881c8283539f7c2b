"""The service's database: migrations, the append-only audit log, the seat-slot backstop and
signing keys at rest — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import IntegrityError

from nexa_cloud.app import build_service
from nexa_cloud.config import FAST_ARGON2, Settings
from nexa_cloud.db import DatabaseError, current_revision, head_revision, open_database
from nexa_cloud.keys import SigningKeyError
from nexa_cloud.models import audit_log, machines, metadata, signing_keys
from tests.cloud.conftest import Live, MutableClock


def test_migrated_schema_matches_the_models(cloud_db_url: str) -> None:
    db = open_database(cloud_db_url)
    try:
        with db.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            context = MigrationContext.configure(conn, opts={"version_table": "nexa_cloud_alembic_version"})
            diff = compare_metadata(context, metadata)
        assert diff == []
        open_database(cloud_db_url).dispose()  # idempotent
    finally:
        db.dispose()


def test_a_newer_schema_is_refused(cloud_db_url: str) -> None:
    db = open_database(cloud_db_url)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE nexa_cloud_alembic_version SET version_num = 'c9999'")
    db.dispose()
    with pytest.raises(DatabaseError, match="newer nexa-cloud"):
        open_database(cloud_db_url)


def test_unreachable_database_is_explained(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match=r"127\.0\.0\.1:1"):
        open_database("postgresql+psycopg://nobody@127.0.0.1:1/nothing")


def test_audit_log_is_append_only_and_records_admin_actions(live: Live) -> None:
    org = live.new_org(seats=1)
    machine = live.activated(org)
    live.http.post(f"/v1/admin/pools/{org.pool_id}/seats", json={"add": 1}, headers=org.admin_headers)
    live.http.post(f"/v1/admin/machines/{machine['machine_id']}/revoke", headers=org.admin_headers)
    live.service.keys.rotate(actor="cli")
    entries = live.http.get("/v1/admin/audit", headers=org.admin_headers).json()["entries"]
    actions = [e["action"] for e in entries]
    assert actions == ["machine.revoke", "pool.add_seats", "admin.create", "pool.issue", "org.create"]
    assert entries[0]["actor"] == f"admin:{org.admin_email}" and entries[0]["target"] == machine["machine_id"]
    assert entries[1]["details"] == {"add": 1, "seats": 2}
    assert [e["action"] for e in live.service.audit_entries_global()][:1] == ["key.rotate"]
    db = live.service.db
    for statement in (update(audit_log).values(actor="someone else"), delete(audit_log)):
        with pytest.raises(SADatabaseError, match="append-only"), db.write() as conn:
            conn.execute(statement)
    with db.read() as conn:
        assert conn.execute(
            select(audit_log.c.actor).where(audit_log.c.action == "machine.revoke")
        ).scalar() == (f"admin:{org.admin_email}")


def test_seat_slot_unique_constraint_is_the_backstop(live: Live) -> None:
    """Even a writer that skipped the lock could not put two machines in one seat."""
    org = live.new_org(seats=5)
    first = live.activated(org)
    with live.service.db.read() as conn:
        slot = conn.execute(select(machines.c.seat_slot).where(machines.c.id == first["machine_id"])).scalar()
    now = live.clock()
    row = {
        "id": str(uuid.uuid4()),
        "org_id": org.id,
        "pool_id": org.pool_id,
        "seat_slot": slot,
        "fingerprint": "intruder-fp",
        "hostname": "h",
        "os_user": "u",
        "app_version": "1",
        "status": "active",
        "activated_at": now,
        "last_seen_at": now,
    }
    with pytest.raises(IntegrityError), live.service.db.write() as conn:
        conn.execute(insert(machines).values(**row))


def test_private_keys_are_encrypted_at_rest(live: Live, cloud_data_dir: Path) -> None:
    with live.service.db.read() as conn:
        stored = conn.execute(select(signing_keys.c.private_key_pem)).scalars().all()
    assert stored and all(pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----") for pem in stored)
    secret = cloud_data_dir / "signing-keys.secret"
    assert secret.exists() and (secret.stat().st_mode & 0o077) == 0


def test_wrong_passphrase_is_explained(cloud_db_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=cloud_db_url, data_dir=tmp_path / "one", argon2=FAST_ARGON2, clock=MutableClock()
    )
    build_service(settings).db.dispose()
    other = Settings(
        database_url=cloud_db_url, data_dir=tmp_path / "two", argon2=FAST_ARGON2, key_passphrase="nope"
    )
    with pytest.raises(SigningKeyError, match="NEXA_CLOUD_KEY_PASSPHRASE"):
        build_service(other)


def test_datetimes_come_back_aware_utc(live: Live) -> None:
    org = live.new_org()
    live.activated(org)
    with live.service.db.read() as conn:
        seen = conn.execute(select(machines.c.activated_at)).scalar()
    assert seen == live.clock() and seen.tzinfo is not None and seen.utcoffset() == dt.timedelta(0)

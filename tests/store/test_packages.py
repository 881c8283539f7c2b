"""Package records on both dialects: round trips, file sightings, job links, exemplars, migration."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import delete, func, inspect, select

from nexa_desktop.domain.errors import NotFound, StaleWrite
from nexa_desktop.store import packages as store
from nexa_desktop.store.db import Database, alembic_config, current_revision, head_revision
from nexa_desktop.store.models import jobs, package_files, packages
from tests.conftest import MakeJob

T0 = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64


def _add(db: Database, name: str, at: dt.datetime, files: list[store.PackageFile], **extra: object) -> int:
    values: dict[str, object] = {
        "name": name,
        "root": f"/packages/{name}",
        "pm_number": "46208684",
        "notification_number": "120533370",
        "work_type": "estimated",
        "verdict": "fail",
        "report_json": f'{{"package": "{name}"}}',
        "checked_at": at,
        "files": files,
    }
    values.update(extra)
    with db.begin() as conn:
        return store.insert_package(conn, **values)  # type: ignore[arg-type]


def test_package_round_trip_keeps_every_field(db: Database, make_job: MakeJob) -> None:
    job = make_job(pm_number="46208684")
    files = [
        store.PackageFile("part1.pdf", SHA_A, 1234),
        store.PackageFile("sub/part2.pdf", SHA_B, 3_000_000_000),
    ]
    package_id = _add(
        db, "pkg-001", T0, files, job_id=job.id, notification_number=None, work_type="ec_corrective"
    )
    with db.connect() as conn:
        record = store.get_package(conn, package_id)
        assert store.package_report_json(conn, package_id) == '{"package": "pkg-001"}'
    assert record == store.PackageRecord(
        id=package_id,
        name="pkg-001",
        root="/packages/pkg-001",
        pm_number="46208684",
        verdict="fail",
        checked_at=T0,
        job_id=job.id,
        files=tuple(files),
        notification_number=None,
        work_type="ec_corrective",
        version=1,
    )
    assert record.checked_at.tzinfo is not None


def test_missing_package_is_a_clear_not_found(db: Database) -> None:
    with db.connect() as conn, pytest.raises(NotFound, match="Package 999"):
        store.get_package(conn, 999)
    with db.connect() as conn, pytest.raises(NotFound, match="Package 999"):
        store.package_report_json(conn, 999)


def test_list_packages_newest_first_with_limit(db: Database) -> None:
    ids = [
        _add(db, f"pkg-{n}", T0 + dt.timedelta(hours=n), [store.PackageFile("a.pdf", SHA_A, 1)])
        for n in range(4)
    ]
    with db.connect() as conn:
        listed = store.list_packages(conn, limit=3)
        everything = store.list_packages(conn, limit=50)
    assert [r.id for r in listed] == [ids[3], ids[2], ids[1]]
    assert [r.name for r in everything] == ["pkg-3", "pkg-2", "pkg-1", "pkg-0"]
    assert all(r.files == (store.PackageFile("a.pdf", SHA_A, 1),) for r in everything)


def test_linking_a_job_bumps_the_version_and_guards_stale_copies(db: Database, make_job: MakeJob) -> None:
    job = make_job()
    package_id = _add(db, "pkg-1", T0, [])
    with db.begin() as conn:
        assert store.set_package_job(conn, package_id, job.id, expected_version=1) == 2
    with db.begin() as conn, pytest.raises(StaleWrite, match="version 1, the saved one is 2"):
        store.set_package_job(conn, package_id, None, expected_version=1)
    with db.begin() as conn:
        assert store.set_package_job(conn, package_id, None) == 3
        assert store.get_package(conn, package_id).job_id is None
    with db.begin() as conn, pytest.raises(NotFound):
        store.set_package_job(conn, 12345, job.id)


def test_deleting_a_job_unlinks_its_packages(db: Database, make_job: MakeJob) -> None:
    job = make_job()
    package_id = _add(db, "pkg-1", T0, [], job_id=job.id)
    with db.begin() as conn:
        conn.execute(delete(jobs).where(jobs.c.id == job.id))
    with db.connect() as conn:
        assert store.get_package(conn, package_id).job_id is None


def test_deleting_a_package_deletes_its_files(db: Database) -> None:
    package_id = _add(
        db, "pkg-1", T0, [store.PackageFile("a.pdf", SHA_A, 1), store.PackageFile("b.pdf", SHA_B, 2)]
    )
    with db.begin() as conn:
        conn.execute(delete(packages).where(packages.c.id == package_id))
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(package_files)).scalar_one() == 0


def test_file_sightings_name_the_newest_package(db: Database) -> None:
    old = _add(db, "old", T0, [store.PackageFile("x/a.pdf", SHA_A, 1)])
    new = _add(db, "new", T0 + dt.timedelta(days=1), [store.PackageFile("renamed.pdf", SHA_A, 1)])
    _add(db, "other", T0, [store.PackageFile("b.pdf", SHA_B, 1)])
    with db.connect() as conn:
        seen = store.find_files_by_sha256(conn, [SHA_A, SHA_C])
        without_new = store.find_files_by_sha256(conn, [SHA_A], exclude_package=new)
        nothing = store.find_files_by_sha256(conn, [])
    assert set(seen) == {SHA_A}
    assert (seen[SHA_A].package_id, seen[SHA_A].package_name, seen[SHA_A].rel_path) == (
        new,
        "new",
        "renamed.pdf",
    )
    assert seen[SHA_A].checked_at == T0 + dt.timedelta(days=1)
    assert without_new[SHA_A].package_id == old
    assert nothing == {}


def test_relabelling_a_page_again_replaces_its_exemplar(db: Database) -> None:
    with db.begin() as conn:
        store.replace_exemplar(conn, doc_type="ccsc", text="first", source_sha256=SHA_A, source_page=1)
        store.replace_exemplar(conn, doc_type="cwc", text="second", source_sha256=SHA_A, source_page=2)
        store.replace_exemplar(conn, doc_type="lme", text="first again", source_sha256=SHA_A, source_page=1)
    with db.connect() as conn:
        assert store.list_exemplars(conn) == [("cwc", "second"), ("lme", "first again")]
        assert store.list_exemplars(conn, limit=1) == [("lme", "first again")]


def test_migration_0002_goes_down_and_up_again(db: Database) -> None:
    _add(db, "pkg-1", T0, [store.PackageFile("a.pdf", SHA_A, 1)])
    with db.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    with db.connect() as conn:
        assert current_revision(conn) == "0001"
        tables = set(inspect(conn).get_table_names())
    assert not tables & {"packages", "package_files", "page_exemplars"}
    assert "jobs" in tables
    with db.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with db.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert store.list_packages(conn) == []

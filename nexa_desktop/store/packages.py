"""Reads and writes of verified packages, their files and re-labelled pages (SQLAlchemy Core).

Like :mod:`nexa_desktop.store.repositories`, every function takes an open connection so a service
can group writes in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from nexa_desktop.domain.errors import NotFound, StaleWrite
from nexa_desktop.store.models import package_files, packages, page_exemplars


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class PackageFile:
    """One file of a verified package: its path inside the package and its content hash."""

    rel_path: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class PackageRecord:
    """A verified package as stored (the report itself is loaded separately, it can be large)."""

    id: int
    name: str
    root: str
    pm_number: str | None
    verdict: str
    checked_at: dt.datetime
    job_id: int | None
    files: tuple[PackageFile, ...]
    notification_number: str | None = None
    work_type: str = ""
    version: int = 1


@dataclass(frozen=True, slots=True)
class FileSighting:
    """A stored file with this hash, the package it was in and when that package was checked."""

    sha256: str
    rel_path: str
    package_id: int
    package_name: str
    package_root: str
    pm_number: str | None
    checked_at: dt.datetime


# -- packages ---------------------------------------------------------------------------------

_SUMMARY_COLUMNS = [c for c in packages.c if c.name != "report_json"]


def insert_package(
    conn: Connection,
    *,
    name: str,
    root: str,
    pm_number: str | None,
    notification_number: str | None,
    work_type: str,
    verdict: str,
    report_json: str,
    checked_at: dt.datetime,
    job_id: int | None = None,
    files: Sequence[PackageFile] = (),
) -> int:
    """Store a package and its files; returns the new package id."""
    result = conn.execute(
        insert(packages).values(
            name=name,
            root=root,
            pm_number=pm_number,
            notification_number=notification_number,
            work_type=work_type,
            verdict=verdict,
            report_json=report_json,
            job_id=job_id,
            checked_at=checked_at,
            version=1,
        )
    )
    package_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    if files:
        conn.execute(
            insert(package_files),
            [
                {
                    "package_id": package_id,
                    "rel_path": f.rel_path,
                    "sha256": f.sha256,
                    "size_bytes": f.size_bytes,
                }
                for f in files
            ],
        )
    return package_id


def _files_of(conn: Connection, package_ids: Iterable[int]) -> dict[int, list[PackageFile]]:
    wanted = list(package_ids)
    out: dict[int, list[PackageFile]] = {pid: [] for pid in wanted}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = conn.execute(
            select(package_files)
            .where(package_files.c.package_id.in_(chunk))
            .order_by(package_files.c.package_id, package_files.c.id)
        ).mappings()
        for r in rows:
            out[r["package_id"]].append(PackageFile(r["rel_path"], r["sha256"], int(r["size_bytes"])))
    return out


def _record(row: RowMapping, files: Sequence[PackageFile]) -> PackageRecord:
    return PackageRecord(
        id=row["id"],
        name=row["name"],
        root=row["root"],
        pm_number=row["pm_number"],
        verdict=row["verdict"],
        checked_at=_aware(row["checked_at"]),
        job_id=row["job_id"],
        files=tuple(files),
        notification_number=row["notification_number"],
        work_type=row["work_type"],
        version=row["version"],
    )


def get_package(conn: Connection, package_id: int) -> PackageRecord:
    row = conn.execute(select(*_SUMMARY_COLUMNS).where(packages.c.id == package_id)).mappings().first()
    if row is None:
        raise NotFound(f"Package {package_id} is no longer in the database.")
    return _record(row, _files_of(conn, [package_id])[package_id])


def list_packages(conn: Connection, limit: int = 50) -> list[PackageRecord]:
    """The most recently checked packages first."""
    rows = list(
        conn.execute(
            select(*_SUMMARY_COLUMNS)
            .order_by(packages.c.checked_at.desc(), packages.c.id.desc())
            .limit(max(0, limit))
        ).mappings()
    )
    files = _files_of(conn, [r["id"] for r in rows])
    return [_record(r, files[r["id"]]) for r in rows]


def package_report_json(conn: Connection, package_id: int) -> str:
    text = conn.execute(select(packages.c.report_json).where(packages.c.id == package_id)).scalar()
    if text is None:
        raise NotFound(f"Package {package_id} is no longer in the database.")
    return str(text)


def set_package_job(
    conn: Connection, package_id: int, job_id: int | None, expected_version: int | None = None
) -> int:
    """Link (or unlink, with ``None``) the package to a board job; returns the new version."""
    current = conn.execute(select(packages.c.version).where(packages.c.id == package_id)).scalar()
    if current is None:
        raise NotFound(f"Package {package_id} is no longer in the database.")
    version = current if expected_version is None else expected_version
    result = conn.execute(
        update(packages)
        .where(packages.c.id == package_id, packages.c.version == version)
        .values(job_id=job_id, version=version + 1)
    )
    if result.rowcount != 1:
        raise StaleWrite(
            "Someone else changed this package since you opened it "
            f"(your copy is version {version}, the saved one is {current}). Reload it and try again."
        )
    return version + 1


def find_files_by_sha256(
    conn: Connection, hashes: Iterable[str], exclude_package: int | None = None
) -> dict[str, FileSighting]:
    """For each hash seen before, the most recent package that held it."""
    wanted = sorted(set(hashes))
    out: dict[str, FileSighting] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = (
            select(
                package_files.c.sha256,
                package_files.c.rel_path,
                packages.c.id,
                packages.c.name,
                packages.c.root,
                packages.c.pm_number,
                packages.c.checked_at,
            )
            .join(packages, packages.c.id == package_files.c.package_id)
            .where(package_files.c.sha256.in_(chunk))
            .order_by(packages.c.checked_at.desc(), packages.c.id.desc(), package_files.c.id)
        )
        if exclude_package is not None:
            query = query.where(packages.c.id != exclude_package)
        for r in conn.execute(query).mappings():
            if r["sha256"] in out:
                continue  # an older sighting: the newest one wins
            out[r["sha256"]] = FileSighting(
                sha256=r["sha256"],
                rel_path=r["rel_path"],
                package_id=r["id"],
                package_name=r["name"],
                package_root=r["root"],
                pm_number=r["pm_number"],
                checked_at=_aware(r["checked_at"]),
            )
    return out


# -- page exemplars ---------------------------------------------------------------------------


def replace_exemplar(
    conn: Connection, *, doc_type: str, text: str, source_sha256: str, source_page: int
) -> int:
    """Store a re-labelled page; an earlier label of the same page is replaced (the latest wins)."""
    conn.execute(
        delete(page_exemplars).where(
            page_exemplars.c.source_sha256 == source_sha256, page_exemplars.c.source_page == source_page
        )
    )
    result = conn.execute(
        insert(page_exemplars).values(
            doc_type=doc_type,
            text=text,
            source_sha256=source_sha256,
            source_page=source_page,
            created_at=utcnow(),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def list_exemplars(conn: Connection, limit: int | None = None) -> list[tuple[str, str]]:
    """``(doc_type, text)`` pairs, oldest first (the newest ``limit`` when given)."""
    query = select(page_exemplars.c.doc_type, page_exemplars.c.text).order_by(
        page_exemplars.c.created_at.desc(), page_exemplars.c.id.desc()
    )
    if limit is not None:
        query = query.limit(max(0, limit))
    rows = [(r.doc_type, r.text) for r in conn.execute(query)]
    rows.reverse()
    return rows


def delete_exemplar(conn: Connection, exemplar_id: int) -> bool:
    """Forget one re-labelled page (its correction was undone); False when it was not there."""
    result = conn.execute(delete(page_exemplars).where(page_exemplars.c.id == exemplar_id))
    return bool(result.rowcount)

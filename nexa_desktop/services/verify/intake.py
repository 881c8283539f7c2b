"""Intake records: remember each verified package, recognise files seen before, link board jobs,
and keep the pages users re-labelled so the classifier can learn from them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nexa_desktop.domain.errors import NotFound, ValidationError
from nexa_desktop.domain.jobs import Job
from nexa_desktop.domain.verify import DOC_TYPES, Report
from nexa_desktop.store import packages as store
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database

#: Re-exported so callers (the Packages view, the CLI) need nothing from the store.
PackageRecord = store.PackageRecord
PackageFile = store.PackageFile

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
_PM_DIGITS = re.compile(r"\d{8}")
_NOTIFICATION_DIGITS = re.compile(r"\d{9}")


@dataclass(frozen=True, slots=True)
class KnownFile:
    """A file whose exact content (same sha256) was in a package checked before."""

    path: Path
    sha256: str
    package_id: int
    package_name: str
    package_root: str
    rel_path: str
    pm_number: str | None
    checked_at: dt.datetime


def hash_file(path: Path) -> str:
    """The file's sha256 (hex), read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def record_report(
    db: Database,
    report: Report,
    files: Sequence[tuple[Path, str]],
    *,
    job_id: int | None = None,
    checked_at: dt.datetime | None = None,
) -> PackageRecord:
    """Hash ``files`` (``(path on disk, path inside the package)``) and store the package and report.

    A file that can no longer be read is left out of the record (it is logged, not fatal).
    """
    hashed: list[PackageFile] = []
    for path, rel_path in files:
        try:
            hashed.append(PackageFile(rel_path, hash_file(path), path.stat().st_size))
        except OSError as exc:  # gone or unreadable since the check: the report already says so
            log.warning("not recording %s: %s", path, exc)
    when = checked_at or dt.datetime.now(dt.UTC)
    with db.begin() as conn:
        package_id = store.insert_package(
            conn,
            name=report.package,
            root=report.root,
            pm_number=report.pm_number,
            notification_number=report.notification_number,
            work_type=report.work_type,
            verdict=report.verdict.value,
            report_json=json.dumps(report.to_json(), ensure_ascii=False),
            checked_at=when,
            job_id=job_id,
            files=hashed,
        )
        return store.get_package(conn, package_id)


def find_known(
    db: Database, paths: Sequence[Path], *, exclude_package: int | None = None
) -> dict[Path, KnownFile]:
    """The files among ``paths`` whose content was in an earlier package (the newest sighting).

    Files that cannot be read are left out (the extraction reports them). ``exclude_package``
    ignores one package, e.g. the record just made for these very files.
    """
    hashes: dict[Path, str] = {}
    for path in paths:
        try:
            hashes[path] = hash_file(path)
        except OSError:
            continue
    if not hashes:
        return {}
    with db.connect() as conn:
        seen = store.find_files_by_sha256(conn, hashes.values(), exclude_package=exclude_package)
    out: dict[Path, KnownFile] = {}
    for path, digest in hashes.items():
        sighting = seen.get(digest)
        if sighting is not None:
            out[path] = KnownFile(
                path=path,
                sha256=digest,
                package_id=sighting.package_id,
                package_name=sighting.package_name,
                package_root=sighting.package_root,
                rel_path=sighting.rel_path,
                pm_number=sighting.pm_number,
                checked_at=sighting.checked_at,
            )
    return out


def _digits(value: str | None, pattern: re.Pattern[str]) -> str | None:
    """``'PM-35589054'`` -> ``'35589054'``; None when no number of the right length is there."""
    if not value:
        return None
    match = pattern.search(value.replace(" ", ""))
    return match.group(0) if match else None


def suggest_job(db: Database, pm_number: str | None, notification_number: str | None = None) -> Job | None:
    """The board job with this PM number (else this notification number), if there is one."""
    pm = _digits(pm_number, _PM_DIGITS)
    notification = _digits(notification_number, _NOTIFICATION_DIGITS)
    with db.connect() as conn:
        if pm:
            found = repo.find_job_ids_by_pm(conn, [pm])
            if pm in found:
                return repo.get_job(conn, found[pm])
        if notification:
            found = repo.find_job_ids_by_notification(conn, [notification])
            if notification in found:
                return repo.get_job(conn, found[notification])
    return None


def link_job(
    db: Database, package_id: int, job_id: int | None, *, expected_version: int | None = None
) -> PackageRecord:
    """Link the package to a board job (``None`` unlinks); refuses a job that does not exist."""
    with db.begin() as conn:
        if job_id is not None:
            repo.get_job(conn, job_id)  # raises NotFound with a readable message
        store.set_package_job(conn, package_id, job_id, expected_version)
        return store.get_package(conn, package_id)


def get_package(db: Database, package_id: int) -> PackageRecord:
    with db.connect() as conn:
        return store.get_package(conn, package_id)


def recent_packages(db: Database, limit: int = 50) -> list[PackageRecord]:
    """The most recently checked packages, newest first."""
    with db.connect() as conn:
        return store.list_packages(conn, limit)


def load_report(db: Database, package_id: int) -> dict[str, Any]:
    """The stored report JSON (``Report.to_json()``) of a package."""
    with db.connect() as conn:
        text = store.package_report_json(conn, package_id)
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise NotFound(f"The saved report of package {package_id} is damaged.")
    return loaded


def save_exemplar(db: Database, doc_type: str, text: str, source_sha256: str, source_page: int) -> int | None:
    """Remember a page a user re-labelled; a later label of the same page replaces the earlier one.

    Returns the exemplar id, or None when the page has no text to learn from (a scan without OCR).
    """
    if doc_type not in DOC_TYPES:
        raise ValidationError(
            "doc_type", f"Unknown document type {doc_type!r}. Known types: {', '.join(DOC_TYPES)}."
        )
    if source_page < 1:
        raise ValidationError("source_page", f"Page numbers start at 1, got {source_page}.")
    if not text.strip():
        return None
    with db.begin() as conn:
        return store.replace_exemplar(
            conn, doc_type=doc_type, text=text, source_sha256=source_sha256, source_page=source_page
        )


def load_exemplars(db: Database, limit: int | None = None) -> list[tuple[str, str]]:
    """``(doc_type, text)`` of every re-labelled page, newest last (only the newest ``limit``)."""
    with db.connect() as conn:
        return store.list_exemplars(conn, limit)


def delete_exemplar(db: Database, exemplar_id: int) -> bool:
    """Forget a re-labelled page (the user undid the correction)."""
    with db.begin() as conn:
        return store.delete_exemplar(conn, exemplar_id)

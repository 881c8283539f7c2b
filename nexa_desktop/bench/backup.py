"""``nexa bench backup``: backup, verify and restore times for an N-job SQLite database.

The database is seeded in a throwaway data dir with the demo jobs (their history included) plus
verification records and learned page types, as a busy office would have. Baselines from the same
run: a plain ``shutil.copyfile`` of the database file (also with an fsync, as a backup needs) and a
bare ``PRAGMA integrity_check`` with the sqlite3 module, so the figures read as ratios (the
recovery target in the issue is < 1 hour). Ratios are against the plain copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Recovery objective from the issue: a restore must take well under an hour.
RECOVERY_TARGET_S = 3600.0


def run_backup_bench(jobs: int = 10000, repeats: int = 3) -> dict[str, Any]:
    """Seed ``jobs`` jobs in a temp data dir, time create/verify/restore ``repeats`` times each
    (medians) and return JSON-ready figures."""
    if jobs < 1 or repeats < 1:
        raise ValueError("jobs and repeats must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="nexa-backup-bench-"))
    saved = {k: os.environ.get(k) for k in ("NEXA_DATA_DIR", "NEXA_DATABASE_URL")}
    os.environ["NEXA_DATA_DIR"] = str(work)
    os.environ.pop("NEXA_DATABASE_URL", None)
    try:
        return _run(work, jobs, repeats)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)


def seed_office(db: Any, jobs: int, *, packages: int | None = None, exemplars: int | None = None) -> None:
    """Demo jobs plus verification records (one per 20 jobs, with their files) and learned pages."""
    from nexa_desktop.services.demo import seed_demo
    from nexa_desktop.store import packages as pkg_store

    seed_demo(db, jobs=jobs)
    n_packages = jobs // 20 if packages is None else packages
    n_exemplars = jobs // 50 if exemplars is None else exemplars
    now = dt.datetime.now(dt.UTC)
    report = json.dumps({"verdict": "fail", "findings": [{"code": "MISSING_SIGNATURE", "page": 3}] * 20})
    with db.begin() as conn:
        for i in range(n_packages):
            files = [
                pkg_store.PackageFile(f"doc{k}.pdf", hashlib.sha256(f"{i}/{k}".encode()).hexdigest(), 250_000)
                for k in range(4)
            ]
            pkg_store.insert_package(
                conn, name=f"Package {i}", root=f"C:/Jobs/{35_000_000 + i}", pm_number=str(35_000_000 + i),
                notification_number=None, work_type="estimated", verdict="fail", report_json=report,
                checked_at=now, files=files,
            )  # fmt: skip
        for i in range(n_exemplars):
            pkg_store.replace_exemplar(
                conn, doc_type="ccsc", text=f"CREW CHECKLIST page {i} " * 40,
                source_sha256=hashlib.sha256(str(i).encode()).hexdigest(), source_page=1,
            )  # fmt: skip


def _median_s(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    samples: list[float] = []
    result: object = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def _run(work: Path, jobs: int, repeats: int) -> dict[str, Any]:
    from nexa_desktop.services.backup import create_backup, restore_backup, verify_backup
    from nexa_desktop.store.db import open_database

    db_file = work / "nexa.db"
    url = f"sqlite:///{db_file.as_posix()}"
    db = open_database(url)
    started = time.perf_counter()
    try:
        seed_office(db, jobs)
    finally:
        db.dispose()
    seed_s = time.perf_counter() - started
    size = db_file.stat().st_size

    copy_target = work / "plain-copy.db"
    copy_s, _ = _median_s(lambda: shutil.copyfile(db_file, copy_target), repeats)

    def durable_copy() -> None:
        shutil.copyfile(db_file, copy_target)
        with copy_target.open("rb+") as fh:
            os.fsync(fh.fileno())

    durable_copy_s, _ = _median_s(durable_copy, repeats)

    def integrity() -> object:
        conn = sqlite3.connect(copy_target)
        try:
            return conn.execute("PRAGMA integrity_check").fetchone()
        finally:
            conn.close()

    integrity_s, _ = _median_s(integrity, repeats)

    create_s, info = _median_s(lambda: create_backup(url, kind="manual"), repeats)
    backup = info.path  # type: ignore[attr-defined]
    verify_s, check = _median_s(lambda: verify_backup(backup), repeats)
    if not check.ok:  # type: ignore[attr-defined]
        raise RuntimeError(f"bench backup failed verification: {check.message}")  # type: ignore[attr-defined]
    restore_s, _ = _median_s(lambda: restore_backup(backup, url), repeats)

    def ratio(x: float) -> float:
        return round(x / copy_s, 2) if copy_s > 0 else float("nan")

    return {
        "jobs": jobs,
        "repeats": repeats,
        "db_bytes": size,
        "backup_bytes": backup.stat().st_size,
        "seed_s": round(seed_s, 3),
        "create_s": round(create_s, 4),
        "verify_s": round(verify_s, 4),
        "restore_s": round(restore_s, 4),
        "baseline_copyfile_s": round(copy_s, 4),
        "baseline_copyfile_fsync_s": round(durable_copy_s, 4),
        "baseline_integrity_check_s": round(integrity_s, 4),
        "create_vs_copy": ratio(create_s),
        "verify_vs_copy": ratio(verify_s),
        "restore_vs_copy": ratio(restore_s),
        "recovery_target_s": RECOVERY_TARGET_S,
        "restore_within_target": restore_s < RECOVERY_TARGET_S,
    }

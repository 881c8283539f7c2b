"""Intake records on both dialects: hashing, recording reports, recognising files, jobs, exemplars."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from nexa_desktop.domain.errors import NotFound, StaleWrite, ValidationError
from nexa_desktop.domain.verify import Document, Finding, PageLabel, PageRef, Report
from nexa_desktop.services.verify import intake
from nexa_desktop.store.db import Database
from tests.conftest import MakeJob


def _pdf(path: Path, *texts: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path))
    for text in texts:
        pdf.drawString(72, 720, text)
        pdf.showPage()
    pdf.save()
    return path


def _package(root: Path, tag: str = "") -> list[tuple[Path, str]]:
    first = _pdf(root / "part1.pdf", f"EC TAG {tag}", f"FACE SHEET {tag}")
    second = _pdf(root / "sub" / "part2.pdf", f"CCSC {tag}")
    return [(first, "part1.pdf"), (second, "sub/part2.pdf")]


def _report(root: Path, pm: str | None = "46208684", with_error: bool = True) -> Report:
    findings = (
        [
            Finding(
                "MISSING_SIGNATURE", "error", "ec_tag", "signature", [PageRef("part1.pdf", 1)], "Not signed."
            )
        ]
        if with_error
        else []
    )
    return Report(
        package=root.name,
        work_type="estimated",
        work_type_inferred=True,
        pm_number=pm,
        notification_number="120533370",
        pages=[
            PageLabel("part1.pdf", 1, "ec_tag", 0.95),
            PageLabel("part1.pdf", 2, "face_sheet", 0.4),
            PageLabel("sub/part2.pdf", 1, "ccsc", 0.9),
        ],
        documents=[
            Document("ec_tag", "part1.pdf", 1, 1),
            Document("face_sheet", "part1.pdf", 2, 2),
            Document("ccsc", "sub/part2.pdf", 1, 1),
        ],
        findings=findings,
        root=str(root),
    )


def test_hash_file_streams_large_files(tmp_path: Path) -> None:
    data = os.urandom(2 * 1024 * 1024 + 12345)  # more than two chunks
    target = tmp_path / "big.bin"
    target.write_bytes(data)
    assert intake.hash_file(target) == hashlib.sha256(data).hexdigest()
    (tmp_path / "empty.pdf").write_bytes(b"")
    assert intake.hash_file(tmp_path / "empty.pdf") == hashlib.sha256(b"").hexdigest()


def test_record_report_stores_package_files_and_report(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "Job 46208684"
    files = _package(root)
    report = _report(root)
    before = dt.datetime.now(dt.UTC)
    record = intake.record_report(db, report, files)

    assert (record.name, record.root, record.pm_number, record.verdict) == (
        "Job 46208684",
        str(root),
        "46208684",
        "fail",
    )
    assert record.notification_number == "120533370" and record.work_type == "estimated"
    assert record.job_id is None and record.version == 1
    assert before - dt.timedelta(seconds=5) <= record.checked_at <= dt.datetime.now(dt.UTC)
    assert [(f.rel_path, f.sha256, f.size_bytes) for f in record.files] == [
        (rel, hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size) for path, rel in files
    ]
    assert intake.load_report(db, record.id) == report.to_json()
    assert intake.recent_packages(db) == [record]
    assert intake.get_package(db, record.id) == record


def test_a_file_gone_since_the_check_is_left_out_of_the_record(db: Database, tmp_path: Path) -> None:
    files = _package(tmp_path / "pkg")
    files[1][0].unlink()
    record = intake.record_report(db, _report(tmp_path / "pkg"), files)
    assert [f.rel_path for f in record.files] == ["part1.pdf"]


def test_recent_packages_are_newest_first(db: Database, tmp_path: Path) -> None:
    at = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    made = [
        intake.record_report(
            db, _report(tmp_path / f"p{n}", with_error=False), _package(tmp_path / f"p{n}", str(n)),
            checked_at=at + dt.timedelta(minutes=n),
        )
        for n in range(3)
    ]  # fmt: skip
    assert [r.id for r in intake.recent_packages(db)] == [made[2].id, made[1].id, made[0].id]
    assert [r.id for r in intake.recent_packages(db, limit=1)] == [made[2].id]
    assert made[0].verdict == "pass"


def test_the_same_file_twice_is_recognised(db: Database, tmp_path: Path) -> None:
    first_root = tmp_path / "monday"
    record = intake.record_report(db, _report(first_root), _package(first_root))

    # The same EC tag file dropped again under another name, next to a new file and a vanished one.
    again = tmp_path / "tuesday"
    again.mkdir()
    copy = again / "EC tag resend.pdf"
    shutil.copyfile(first_root / "part1.pdf", copy)
    new = _pdf(again / "new.pdf", "SOMETHING ELSE")
    missing = again / "not-there.pdf"

    known = intake.find_known(db, [copy, new, missing])
    assert set(known) == {copy}
    hit = known[copy]
    assert (hit.package_id, hit.package_name, hit.rel_path) == (record.id, "monday", "part1.pdf")
    assert hit.checked_at == record.checked_at and hit.pm_number == "46208684"
    assert hit.sha256 == hashlib.sha256(copy.read_bytes()).hexdigest()
    assert intake.find_known(db, [copy], exclude_package=record.id) == {}
    assert intake.find_known(db, []) == {}


def test_suggest_job_matches_the_pm_number(db: Database, make_job: MakeJob) -> None:
    job = make_job(pm_number="46208684", notification_number="120533370")
    make_job(pm_number="46208685", notification_number="120533371")
    assert intake.suggest_job(db, "46208684") == job
    assert intake.suggest_job(db, "PM-46208684") == job
    assert intake.suggest_job(db, "99999999") is None
    assert intake.suggest_job(db, None) is None
    assert intake.suggest_job(db, "not a number") is None
    assert intake.suggest_job(db, None, "120533370") == job
    assert intake.suggest_job(db, "99999999", "120533370") == job


def test_link_job_links_unlinks_and_refuses_unknown_jobs(
    db: Database, make_job: MakeJob, tmp_path: Path
) -> None:
    job = make_job()
    record = intake.record_report(db, _report(tmp_path / "p"), _package(tmp_path / "p"))
    linked = intake.link_job(db, record.id, job.id)
    assert (linked.job_id, linked.version) == (job.id, 2)
    with pytest.raises(StaleWrite):
        intake.link_job(db, record.id, None, expected_version=1)
    with pytest.raises(NotFound, match="Job 424242"):
        intake.link_job(db, record.id, 424242)
    with pytest.raises(NotFound, match="Package 424242"):
        intake.link_job(db, 424242, job.id)
    assert intake.link_job(db, record.id, None).job_id is None
    assert intake.get_package(db, record.id).version == 3


def test_exemplars_newest_last_and_relabelling_replaces(db: Database) -> None:
    first = intake.save_exemplar(db, "ccsc", "COMPLETION STANDARDS", "a" * 64, 1)
    assert isinstance(first, int)
    intake.save_exemplar(db, "cwc", "CONTRACTOR WORK CHECKLIST", "a" * 64, 2)
    intake.save_exemplar(db, "lme", "DAILY STATEMENT OF LABOR", "b" * 64, 1)
    assert intake.load_exemplars(db) == [
        ("ccsc", "COMPLETION STANDARDS"),
        ("cwc", "CONTRACTOR WORK CHECKLIST"),
        ("lme", "DAILY STATEMENT OF LABOR"),
    ]
    # The user changes their mind about page 1 of file a: only the latest label remains.
    intake.save_exemplar(db, "other", "COMPLETION STANDARDS", "a" * 64, 1)
    assert intake.load_exemplars(db) == [
        ("cwc", "CONTRACTOR WORK CHECKLIST"),
        ("lme", "DAILY STATEMENT OF LABOR"),
        ("other", "COMPLETION STANDARDS"),
    ]
    assert intake.load_exemplars(db, limit=2)[-1] == ("other", "COMPLETION STANDARDS")


def test_exemplars_refuse_unknown_types_and_skip_blank_pages(db: Database) -> None:
    with pytest.raises(ValidationError, match="Unknown document type 'invoice'") as caught:
        intake.save_exemplar(db, "invoice", "INVOICE", "a" * 64, 1)
    assert caught.value.field == "doc_type" and "ec_tag" in str(caught.value)
    with pytest.raises(ValidationError, match="start at 1"):
        intake.save_exemplar(db, "ccsc", "text", "a" * 64, 0)
    assert intake.save_exemplar(db, "ccsc", "  \n ", "a" * 64, 1) is None
    assert intake.load_exemplars(db) == []


def test_an_undone_correction_is_forgotten(sqlite_db: Database) -> None:
    kept = intake.save_exemplar(sqlite_db, "ccsc", "completion standards checklist", "a" * 64, 1)
    undone = intake.save_exemplar(sqlite_db, "other", "field notes", "b" * 64, 2)
    assert kept is not None and undone is not None
    assert intake.delete_exemplar(sqlite_db, undone) is True
    assert intake.delete_exemplar(sqlite_db, undone) is False
    assert intake.load_exemplars(sqlite_db) == [("ccsc", "completion standards checklist")]

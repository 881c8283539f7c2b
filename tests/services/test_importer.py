"""Job import from CSV/XLSX: every bad row reported, all rows or none written."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from nexa_desktop.cli import app
from nexa_desktop.domain.errors import StorageError
from nexa_desktop.domain.jobs import JobStatus, Priority, Role, WorkType
from nexa_desktop.ops import Cancelled, TaskState
from nexa_desktop.services import importer
from nexa_desktop.services.importer import (
    ColumnMappingError,
    ImportFileError,
    guess_mapping,
    import_jobs,
    parse_mapping_args,
    read_table,
    resolve_mapping,
)
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database
from nexa_desktop.store.models import job_history, outbox

GOOD_CSV = (
    "PM #,Notif #,Address,City,Work Type,Div,MAT Code,Pri,Due Date,Status,Lat,Lng,GF,Notes\n"
    "35589054,119080350,1200 Main St,Stockton,estimated,ST,07D,A,2026-03-15,new,"
    "37.9577,-121.2908,Gina Flores,Pole replacement\n"
    '46357356,,"12 Oak Ave, Unit 4",Lodi,EC,st,2aa,e,3/20/2026,Assigned to GF,,,gfl1,\n'
    ",131388398,77 Pine Rd,Manteca,,ST,KAA,,4/1/26,,,,,EC tag only\n"
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def add_people(db: Database) -> dict[str, int]:
    with db.begin() as conn:
        return {
            "gina": repo.insert_person(conn, name="Gina Flores", role=Role.GF, lan_id="GFL1"),
            "frank": repo.insert_person(conn, name="Frank Ortiz", role=Role.FOREMAN, lan_id="FOR1"),
        }


def table_count(db: Database, table: Any) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def counts(db: Database) -> tuple[int, int, int]:
    with db.connect() as conn:
        jobs = repo.count_jobs(conn)
    return jobs, table_count(db, job_history), table_count(db, outbox)


# -- the happy path ---------------------------------------------------------------------------


def test_good_csv_imports_every_row_with_history_and_one_usage_event(db: Database, tmp_path: Path) -> None:
    people = add_people(db)
    path = write(tmp_path, "jobs.csv", GOOD_CSV)

    report = import_jobs(db, path, actor="Pat Morgan")

    assert report.errors == []
    assert (report.rows_read, report.rows_valid, report.imported) == (3, 3, 3)
    with db.connect() as conn:
        jobs = {j.title: j for j in repo.list_jobs(conn)}
        assert set(jobs) == {"35589054", "46357356", "131388398"}
        first, second, third = jobs["35589054"], jobs["46357356"], jobs["131388398"]
        assert first.notification_number == "119080350"
        assert (first.address, first.city, first.division, first.mat_code) == (
            "1200 Main St", "Stockton", "ST", "07D",
        )  # fmt: skip
        assert first.priority is Priority.A and first.work_type is WorkType.ESTIMATED
        assert first.due_date == dt.date(2026, 3, 15)
        assert (first.latitude, first.longitude) == (37.9577, -121.2908)
        assert first.gf_id == people["gina"] and first.notes == "Pole replacement"
        assert first.status is JobStatus.NEW and first.version == 1
        assert second.address == "12 Oak Ave, Unit 4"
        assert second.work_type is WorkType.EC_CORRECTIVE and second.priority is Priority.E
        assert (second.division, second.mat_code) == ("ST", "2AA")
        assert second.status is JobStatus.ASSIGNED_TO_GF and second.gf_id == people["gina"]
        assert second.due_date == dt.date(2026, 3, 20) and second.notification_number is None
        assert third.pm_number is None and third.due_date == dt.date(2026, 4, 1)
        assert third.priority is Priority.C and third.status is JobStatus.NEW
        assert third.latitude is None and third.gf_id is None

        for job in (first, second, third):
            history = repo.job_history_entries(conn, job.id)
            assert [(h.action, h.actor, h.to_status) for h in history] == [
                ("Imported", "Pat Morgan", job.status)
            ]
        assert "row 2 of jobs.csv" in repo.job_history_entries(conn, first.id)[0].reason.lower()
        events = conn.execute(select(outbox.c.kind, outbox.c.payload)).all()
    assert [(e.kind, e.payload) for e in events] == [("jobs.imported", {"count": 3})]


def test_cp1252_file_from_excel_on_windows(db: Database, tmp_path: Path) -> None:
    text = "PM Number,Address,City\r\n35589054,12 Niño St,San José\r\n"
    path = write(tmp_path, "excel.csv", text, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")

    table = read_table(path)
    assert table.encoding == "cp1252" and "cp1252" in table.note

    report = import_jobs(db, path)
    assert report.imported == 1 and "cp1252" in report.note
    with db.connect() as conn:
        (job,) = repo.list_jobs(conn)
    assert (job.pm_number, job.address, job.city) == ("35589054", "12 Niño St", "San José")


def test_utf8_bom_and_semicolons_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, "eu.csv", "PM/Order No.;Street;City\n35589054;1 Main St;Lodi\n",
                 encoding="utf-8-sig")  # fmt: skip
    table = read_table(path)
    assert table.headers == ("PM/Order No.", "Street", "City")
    assert table.encoding == "utf-8" and table.note == ""
    assert [(r.number, r.cells) for r in table.rows] == [(2, ("35589054", "1 Main St", "Lodi"))]
    assert guess_mapping(table.headers) == {
        "pm_number": "PM/Order No.", "address": "Street", "city": "City",
    }  # fmt: skip


def test_xlsx_with_datetime_and_number_cells(db: Database, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Order Number", "EC Tag", "Address", "Due", "Priority", "Latitude", "Longitude"])
    sheet.append([35589054, 119080350, "1 Main St", dt.datetime(2026, 5, 1), "B", 37.95, -121.29])
    sheet.append([None, None, None, None, None, None, None])  # a blank row: skipped
    sheet.append([46357356, None, "2 Oak Ave", dt.date(2026, 6, 2), "emergency", None, None])
    path = tmp_path / "jobs.xlsx"
    workbook.save(path)

    table = read_table(path)
    assert table.encoding == "xlsx"
    assert [r.number for r in table.rows] == [2, 4]
    assert isinstance(table.rows[0].cells[3], dt.datetime)

    report = import_jobs(db, path)
    assert report.imported == 2, report.errors
    with db.connect() as conn:
        jobs = {j.pm_number: j for j in repo.list_jobs(conn)}
    assert jobs["35589054"].notification_number == "119080350"
    assert jobs["35589054"].due_date == dt.date(2026, 5, 1)
    assert jobs["46357356"].due_date == dt.date(2026, 6, 2)
    assert jobs["46357356"].priority is Priority.EMERGENCY


def test_xlsx_bad_rows_use_spreadsheet_row_numbers(sqlite_db: Database, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["PM", "Due"])
    sheet.append([35589054, dt.datetime(2026, 5, 1)])
    sheet.append([])
    sheet.append([3558905, "someday"])
    path = tmp_path / "jobs.xlsx"
    workbook.save(path)

    report = import_jobs(sqlite_db, path)
    assert [(p.row, p.field, p.value) for p in report.errors] == [
        (4, "pm_number", "3558905"),
        (4, "due_date", "someday"),
    ]
    assert counts(sqlite_db) == (0, 0, 0)


# -- bad rows ---------------------------------------------------------------------------------


def test_every_bad_row_is_reported_and_nothing_is_written(db: Database, tmp_path: Path) -> None:
    with db.begin() as conn:
        repo.insert_jobs(conn, [{"pm_number": "46357356", "notification_number": "120424794"}])
    add_people(db)
    before = counts(db)
    rows = [
        "PM Number,Notification,Due Date,Priority,Lat,Lon,GF,Division",
        "35589054,119080350,2026-03-15,A,37.9,-121.2,Gina Flores,ST",  # 2: good
        "3558905,,2026-03-15,B,,,,",  # 3: 7-digit PM
        "35589055,1191275901,2026-03-15,C,,,,",  # 4: 10-digit notification
        "35589056,,2026-02-30,C,,,,",  # 5: no such date
        ",,,,,,,",  # 6: blank, skipped
        "35589057,,,Z,,,,",  # 7: unknown priority
        "35589054,,,,,,,",  # 8: duplicate PM within the file (row 2)
        "46357356,,,,,,,",  # 9: PM already in the database
        "35589058,120424794,,,,,,",  # 10: notification already in the database
        "35589059,,,,95.5,-121,,XX",  # 11: latitude out of range, unknown division
        "35589060,,,,,,Nobody Here,",  # 12: unknown GF
        "35589061,,,,,,Frank Ortiz,",  # 13: a foreman, not a GF
        ",,2026-01-01,A,,,,",  # 14: neither PM nor notification
    ]
    path = write(tmp_path, "bad.csv", "\n".join(rows) + "\n")

    report = import_jobs(db, path)

    found = [(p.row, p.field, p.value) for p in report.errors]
    assert found == [
        (3, "pm_number", "3558905"),
        (4, "notification_number", "1191275901"),
        (5, "due_date", "2026-02-30"),
        (7, "priority", "Z"),
        (8, "pm_number", "35589054"),
        (9, "pm_number", "46357356"),
        (10, "notification_number", "120424794"),
        (11, "division", "XX"),
        (11, "latitude", "95.5"),
        (12, "gf", "Nobody Here"),
        (13, "gf", "Frank Ortiz"),
        (14, "pm_number", ""),
    ]
    messages = {(p.row, p.field): p.message for p in report.errors}
    assert "exactly 8 digits" in messages[(3, "pm_number")]
    assert "exactly 9 digits" in messages[(4, "notification_number")]
    assert "is also on row 2" in messages[(8, "pm_number")]
    assert "already in NEXA" in messages[(9, "pm_number")]
    assert "not a GF" in messages[(13, "gf")]
    assert "neither a PM number nor a notification" in messages[(14, "pm_number")]
    assert (report.rows_read, report.rows_valid, report.imported) == (12, 1, 0)
    assert not report.ok
    assert report.summary() == "12 rows, 12 problems — nothing will be imported until they are fixed"
    assert counts(db) == before


def test_statuses_that_need_more_data_are_refused(sqlite_db: Database, tmp_path: Path) -> None:
    text = "PM #,Status\n35589054,stuck\n35589055,assigned_to_gf\n35589056,billed\n35589057,lost\n"
    report = import_jobs(sqlite_db, write(tmp_path, "s.csv", text))
    assert [(p.row, p.field) for p in report.errors] == [
        (2, "status"), (3, "status"), (5, "status"),
    ]  # fmt: skip
    assert "needs a GF" in report.errors[1].message
    assert counts(sqlite_db) == (0, 0, 0)


def test_finished_jobs_import_with_prefield_complete(sqlite_db: Database, tmp_path: Path) -> None:
    text = "PM #,Status\n35589054,billed\n35589055,new\n"
    assert import_jobs(sqlite_db, write(tmp_path, "s.csv", text)).imported == 2
    with sqlite_db.connect() as conn:
        jobs = {j.pm_number: j for j in repo.list_jobs(conn)}
    assert jobs["35589054"].status is JobStatus.BILLED and jobs["35589054"].prefield_complete
    assert jobs["35589055"].status is JobStatus.NEW and not jobs["35589055"].prefield_complete


def test_quoted_line_breaks_keep_spreadsheet_row_numbers(sqlite_db: Database, tmp_path: Path) -> None:
    text = 'PM #,Notes\n35589054,"two\nlines"\n123,x\n'
    report = import_jobs(sqlite_db, write(tmp_path, "q.csv", text))
    assert [(p.row, p.value) for p in report.errors] == [(3, "123")]


def test_dry_run_writes_nothing(db: Database, tmp_path: Path) -> None:
    add_people(db)
    before = counts(db)
    report = import_jobs(db, write(tmp_path, "jobs.csv", GOOD_CSV), dry_run=True)
    assert report.dry_run and report.ok
    assert (report.rows_read, report.rows_valid, report.imported) == (3, 3, 0)
    assert report.summary() == "3 rows, no problems — ready to import"
    assert counts(db) == before


def test_database_errors_propagate_and_roll_back(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_people(sqlite_db)
    boom = StorageError("The database is locked by another program.")

    def fail(*_args: Any) -> str:
        raise boom

    monkeypatch.setattr(repo, "add_usage_event", fail)
    with pytest.raises(StorageError) as caught:
        import_jobs(sqlite_db, write(tmp_path, "jobs.csv", GOOD_CSV))
    assert caught.value is boom
    assert counts(sqlite_db) == (0, 0, 0)  # the jobs inserted before the failure are gone


def test_progress_and_cancel(sqlite_db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "jobs.csv", "PM #\n35589054\n35589055\n")
    seen: list[float] = []
    state = TaskState(on_change=lambda s: seen.append(s.progress))
    assert import_jobs(sqlite_db, path, progress=state).imported == 2
    assert seen[0] == 0.0 and seen[-1] == 1.0 and state.status == "Imported 2 jobs."

    cancelled = TaskState()
    cancelled.cancel()
    with pytest.raises(Cancelled):
        import_jobs(sqlite_db, write(tmp_path, "more.csv", "PM #\n35589056\n"), progress=cancelled)
    with sqlite_db.connect() as conn:
        assert repo.count_jobs(conn) == 2


# -- unreadable files and columns -------------------------------------------------------------


def test_wrong_columns_give_a_clear_error(sqlite_db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "wrong.csv", "Job,Street,Town\n1,2 Main,Lodi\n")
    with pytest.raises(ColumnMappingError) as caught:
        import_jobs(sqlite_db, path)
    message = str(caught.value)
    assert message.startswith("No column for the PM number or notification number")
    assert "'Job', 'Street', 'Town'" in message
    assert counts(sqlite_db) == (0, 0, 0)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("jobs.csv", b"PM #,City\n\x00\x01\x02\x03binary\xff\xfe", "binary file"),
        ("jobs.csv", b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook saved with a .csv name"),
        ("jobs.csv", b"", "the file is empty"),
        ("jobs.csv", b"\n ,, \n", "the file is empty"),
        ("jobs.csv", b"PM #,City\n", "no job rows"),
        ("jobs.csv", b"35589054,119080350\n35589055,119080351\n", "looks like data"),
        ("jobs.xlsx", b"PM #,City\n35589054,Lodi\n", "can't open it as an Excel workbook"),
        ("jobs.xls", b"whatever", "use a .csv or .xlsx file"),
        ("jobs.pdf", b"%PDF-1.7", "use a .csv or .xlsx file"),
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as caught:
        read_table(path)
    message = str(caught.value)
    assert expected in message
    assert name in message and "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_row_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    body = "".join(f"{35589050 + i}\n" for i in range(4))
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        read_table(write(tmp_path, "big.csv", "PM #\n" + body))


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("PM #", "pm_number"), ("PM/Order No.", "pm_number"), ("Order Number", "pm_number"),
        ("PM Number", "pm_number"), ("pm_number", "pm_number"),
        ("Notification", "notification_number"), ("Notif #", "notification_number"),
        ("EC Tag", "notification_number"), ("Address", "address"), ("Street", "address"),
        ("City", "city"), ("WO", "wo_number"), ("WO #", "wo_number"), ("Work Type", "work_type"),
        ("Division", "division"), ("Div", "division"), ("MAT", "mat_code"),
        ("MAT Code", "mat_code"), ("Priority", "priority"), ("Pri", "priority"),
        ("Due", "due_date"), ("Due Date", "due_date"), ("Status", "status"),
        ("Lat", "latitude"), ("Latitude", "latitude"), ("Lon", "longitude"),
        ("Lng", "longitude"), ("Longitude", "longitude"), ("GF", "gf"),
        ("General Foreman", "gf"), ("Notes", "notes"),
    ],
)  # fmt: skip
def test_guess_mapping_synonyms(header: str, field: str) -> None:
    assert guess_mapping(["Something else", header]) == {field: header}


def test_guess_mapping_leaves_look_alike_columns_alone() -> None:
    headers = ["Order #", "Location #", "State", "Type", "Notes", "Comments"]
    assert guess_mapping(headers) == {"pm_number": "Order #", "notes": "Notes"}


def test_numbers_exported_with_decimals_are_accepted(sqlite_db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "n.csv", "PM #,Notification\n35589054.0,119080350.00\n")
    assert import_jobs(sqlite_db, path).imported == 1
    with sqlite_db.connect() as conn:
        (job,) = repo.list_jobs(conn)
    assert (job.pm_number, job.notification_number) == ("35589054", "119080350")


def test_explicit_mappings_override_guesses(sqlite_db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "PM,Order Ref,Site\n1234567,35589054,1 Main St\n")
    headers = read_table(path).headers
    assert resolve_mapping(headers) == {"pm_number": "PM"}
    mapping = resolve_mapping(headers, parse_mapping_args(["pm_number=order ref", "address=Site"]))
    assert mapping == {"pm_number": "Order Ref", "address": "Site"}

    report = import_jobs(sqlite_db, path, ["pm_number=Order Ref", "address=Site"])
    assert report.imported == 1
    with sqlite_db.connect() as conn:
        (job,) = repo.list_jobs(conn)
    assert (job.pm_number, job.address) == ("35589054", "1 Main St")


def test_mapping_errors(tmp_path: Path) -> None:
    headers = ("PM #", "Street")
    with pytest.raises(ColumnMappingError) as caught:
        resolve_mapping(headers, {"pm_number": "Order No."})
    assert str(caught.value) == (
        "Column 'Order No.' (for PM number) is not in the file; the file has: 'PM #', 'Street'."
    )
    with pytest.raises(ColumnMappingError, match="Unknown field 'colour'"):
        resolve_mapping(headers, {"colour": "Street"})
    with pytest.raises(ColumnMappingError, match="must look like FIELD=Column header"):
        parse_mapping_args(["pm_number"])
    with pytest.raises(ColumnMappingError, match="No column for the PM number"):
        resolve_mapping(headers, {"pm_number": None})
    with pytest.raises(ColumnMappingError, match="chosen for both"):
        resolve_mapping(headers, {"address": "Street", "city": "Street"})


# -- the command line -------------------------------------------------------------------------


def test_cli_json_imports(sqlite_db: Database, tmp_path: Path) -> None:
    add_people(sqlite_db)
    path = write(tmp_path, "jobs.csv", GOOD_CSV)
    result = CliRunner().invoke(app, ["import", "jobs", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["rows_read"], data["imported"], data["ok"], data["errors"]) == (3, 3, True, [])
    assert data["mapping"]["pm_number"] == "PM #"
    assert counts(sqlite_db) == (3, 3, 1)


def test_cli_json_reports_bad_rows(sqlite_db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", "PM #,Due\n35589054,2026-01-01\n3558905,tomorrow\n")
    result = CliRunner().invoke(app, ["import", "jobs", str(path), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["imported"] == 0 and data["ok"] is False
    assert [(e["row"], e["field"], e["value"]) for e in data["errors"]] == [
        (3, "pm_number", "3558905"), (3, "due_date", "tomorrow"),
    ]  # fmt: skip
    assert "nothing was imported" in result.stderr
    assert counts(sqlite_db) == (0, 0, 0)


def test_cli_dry_run_and_table_output(sqlite_db: Database, tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", "Order Ref\n35589054\n")
    result = CliRunner().invoke(
        app, ["import", "jobs", str(good), "--dry-run", "--map", "pm_number=Order Ref"]
    )
    assert result.exit_code == 0, result.output
    assert "no problems" in result.stdout and "dry run" in result.stdout
    assert counts(sqlite_db) == (0, 0, 0)

    bad = write(tmp_path, "bad.csv", "PM #\n35589054\n[bold]99\n")
    result = CliRunner().invoke(app, ["import", "jobs", str(bad)])
    assert result.exit_code == 1
    assert "[bold]99" in result.stdout  # shown as typed, not read as markup
    assert "nothing will be imported" in result.stdout


def test_cli_unreadable_file(sqlite_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_bytes(b"\x00\x00\x00")
    result = CliRunner().invoke(app, ["import", "jobs", str(path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "file": str(path), "ok": False, "error": str(_error_for(path)),
    }  # fmt: skip
    assert "binary file" in result.stderr

    result = CliRunner().invoke(app, ["import", "jobs", str(tmp_path / "missing.xlsx")])
    assert result.exit_code == 1 and "does not exist" in result.stderr


def _error_for(path: Path) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        read_table(path)
    return caught.value

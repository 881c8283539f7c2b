"""Job import from CSV and XLSX files: all rows or none, and every bad row reported.

The flow is ``read_table`` (file → headers and cells) → ``resolve_mapping`` (which column holds
which job field) → ``import_table`` (check every row, then insert all of them in one
transaction, or nothing). ``import_jobs`` chains the three; ``import_jobs_cli`` is the
``nexa import jobs`` command. No Qt here: the import dialog runs these through its OpRunner.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from nexa_desktop.domain.errors import NexaError, ValidationError
from nexa_desktop.domain.identifiers import (
    parse_division,
    parse_mat_code,
    parse_notification_number,
    parse_pm_number,
)
from nexa_desktop.domain.jobs import (
    JobStatus,
    Person,
    Priority,
    Role,
    WorkType,
    parse_priority,
    parse_status,
    parse_work_type,
)
from nexa_desktop.ops import TaskState
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database

#: Refuse files with more data rows than this (a whole division's backlog is far fewer).
MAX_ROWS = 100_000
#: How often (in rows) progress is reported and cancel is checked.
_PROGRESS_EVERY = 250

Cell = str | int | float | bool | dt.datetime | dt.date | dt.time | None


# -- errors -----------------------------------------------------------------------------------


class ImportFileError(NexaError):
    """The file cannot be read as a table of jobs (missing, wrong type, binary, empty…)."""


class ColumnMappingError(NexaError):
    """The columns of the file cannot be matched to job fields."""


# -- reading files ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableRow:
    """One data row: ``number`` is the row number the user sees in the spreadsheet (1-based)."""

    number: int
    cells: tuple[Cell, ...]

    def get(self, index: int) -> Cell:
        return self.cells[index] if index < len(self.cells) else None


@dataclass(frozen=True, slots=True)
class Table:
    """Headers and data rows of the first sheet (or the CSV file)."""

    path: Path
    headers: tuple[str, ...]
    rows: tuple[TableRow, ...]
    #: How the text was decoded ("utf-8", "cp1252") or "xlsx".
    encoding: str
    #: A sentence for the user about how the file was read, or "".
    note: str = ""


def _is_blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _make_headers(raw: Sequence[Cell], name: str) -> tuple[str, ...]:
    """Header texts: blanks become "Column C", repeats get " (2)", " (3)"…"""
    if not any(isinstance(v, str) and re.search(r"[A-Za-z]", v) for v in raw):
        shown = ", ".join(display_value(v) for v in raw[:4] if not _is_blank(v))
        raise ImportFileError(
            f"{name}: the first row ({shown}) looks like data, not column names. "
            "Add a header row (PM Number, Notification, Address, …) and try again."
        )
    headers: list[str] = []
    seen: dict[str, int] = {}
    for index, value in enumerate(raw):
        text = display_value(value).strip() or f"Column {_column_letter(index)}"
        count = seen.get(text.lower(), 0) + 1
        seen[text.lower()] = count
        headers.append(text if count == 1 else f"{text} ({count})")
    return tuple(headers)


def _build_table(path: Path, records: Iterator[tuple[int, Sequence[Cell]]], encoding: str,
                 note: str) -> Table:  # fmt: skip
    """Headers from the first non-blank record, data rows after it (blank rows dropped)."""
    header_cells: Sequence[Cell] | None = None
    rows: list[TableRow] = []
    for number, cells in records:
        if all(_is_blank(c) for c in cells):
            continue
        if header_cells is None:
            header_cells = cells
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(
                f"{path.name}: more than {MAX_ROWS:,} rows. Split the file into smaller files "
                "and import them one after the other."
            )
        rows.append(TableRow(number, tuple(cells)))
    if header_cells is None:
        raise ImportFileError(f"{path.name}: the file is empty (no column names, no rows).")
    # Trailing blank header cells with no data under them are not columns.
    width = max([len(header_cells)] + [len(r.cells) for r in rows])
    padded = list(header_cells) + [None] * (width - len(header_cells))
    while padded and _is_blank(padded[-1]) and all(_is_blank(r.get(len(padded) - 1)) for r in rows):
        padded.pop()
    headers = _make_headers(padded, path.name)
    if not rows:
        raise ImportFileError(f"{path.name}: has column names but no job rows below them.")
    return Table(path, headers, tuple(rows), encoding, note)


def _decode(data: bytes, name: str) -> tuple[str, str, str]:
    """(text, encoding, note): UTF-8 (with or without BOM), else Windows cp1252 (Excel)."""
    try:
        return data.decode("utf-8-sig"), "utf-8", ""
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportFileError(
            f"{name}: the text is neither UTF-8 nor Windows (cp1252) encoded. "
            "In Excel use File → Save As → 'CSV UTF-8' and try again."
        ) from None
    return text, "cp1252", f"{name} is not UTF-8; it was read as Windows (cp1252) text."


def _sniff_delimiter(text: str) -> str:
    """Comma, semicolon (European Excel), tab or pipe: what the first lines use."""
    try:
        return csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
    except csv.Error:
        first = text.lstrip("\r\n").splitlines()[0] if text.strip() else ""
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _read_csv(path: Path, data: bytes) -> Table:
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            f"{path.name}: this is an Excel workbook saved with a .csv name. "
            "Rename it to .xlsx, or save it from Excel as CSV."
        )
    if b"\x00" in data:
        raise ImportFileError(
            f"{path.name}: this is a binary file, not CSV text. "
            "Export the sheet from Excel as CSV or .xlsx and try again."
        )
    text, encoding, note = _decode(data, path.name)
    if not text.strip():
        raise ImportFileError(f"{path.name}: the file is empty (no column names, no rows).")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))

    def records() -> Iterator[tuple[int, Sequence[Cell]]]:
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise ImportFileError(f"{path.name}: can't read row {reader.line_num} as CSV ({exc}).") from None

    return _build_table(path, records(), encoding, note)


def _read_xlsx(path: Path) -> Table:
    import openpyxl  # imported here: slow to import, and only needed for workbooks

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # any failure here means "not a workbook openpyxl can read"
        raise ImportFileError(
            f"{path.name}: can't open it as an Excel workbook ({exc}). "
            "Open it in Excel, save it again as .xlsx and retry."
        ) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(f"{path.name}: the workbook has no sheets.")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some tools write a wrong A1:A1 size; read every cell
        rows = (
            (number, tuple(values))
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        return _build_table(path, rows, "xlsx", "")
    finally:
        workbook.close()


def read_table(path: str | Path) -> Table:
    """Read ``path`` (.csv or .xlsx); raises :class:`ImportFileError` with a one-line reason."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        hint = " Save it from Excel as .xlsx." if suffix in (".xls", ".xlsm", ".ods") else ""
        raise ImportFileError(
            f"{path.name}: can't import {suffix or 'files without an extension'}; "
            f"use a .csv or .xlsx file.{hint}"
        )
    if not path.exists():
        raise ImportFileError(f"{path}: the file does not exist.")
    if path.is_dir():
        raise ImportFileError(f"{path}: is a folder, not a file.")
    if suffix == ".xlsx":
        if path.stat().st_size == 0:
            raise ImportFileError(f"{path.name}: the file is empty (no column names, no rows).")
        return _read_xlsx(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path.name}: can't read the file ({exc.strerror}).") from None
    return _read_csv(path, data)


# -- column mapping ---------------------------------------------------------------------------

#: Job fields an import can fill, with the names shown to users.
FIELDS: dict[str, str] = {
    "pm_number": "PM number",
    "notification_number": "Notification",
    "address": "Address",
    "city": "City",
    "wo_number": "WO number",
    "work_type": "Work type",
    "division": "Division",
    "mat_code": "MAT code",
    "priority": "Priority",
    "due_date": "Due date",
    "status": "Status",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "gf": "General foreman",
    "notes": "Notes",
}

_FIELD_ORDER = {name: i for i, name in enumerate(FIELDS)}

#: Header spellings seen in exports, compared after :func:`normalize_header`.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "pm_number": ("pm", "pmno", "pmnum", "pmnumber", "pmorder", "pmorderno", "pmordernumber",
                  "pmordernum", "order", "orderno", "ordernum", "ordernumber", "pmid",
                  "pmorderid"),
    "notification_number": ("notification", "notificationno", "notificationnumber", "notif",
                            "notifno", "notifnum", "notifnumber", "ectag", "ectagno",
                            "ectagnumber", "ecnotification", "ecnumber", "ecno", "tag",
                            "tagno", "tagnumber"),
    "address": ("address", "street", "streetaddress", "addr", "jobaddress", "siteaddress",
                "jobsite"),
    "city": ("city", "town", "jobcity"),
    "wo_number": ("wo", "wono", "wonum", "wonumber", "workorder", "workorderno",
                  "workordernumber"),
    "work_type": ("worktype", "jobtype"),
    "division": ("division", "div", "divisioncode", "divcode"),
    "mat_code": ("mat", "matcode", "matcd"),
    "priority": ("priority", "pri", "prio", "tagpriority"),
    "due_date": ("due", "duedate", "dueby", "daterequired", "requireddate", "requiredby",
                 "required"),
    "status": ("status", "jobstatus"),
    "latitude": ("lat", "latitude"),
    "longitude": ("lon", "lng", "long", "longitude"),
    "gf": ("gf", "generalforeman", "gfname", "gflanid", "assignedgf", "gfassigned"),
    "notes": ("notes", "note", "comments", "comment", "remarks"),
}  # fmt: skip


def normalize_header(text: str) -> str:
    """Lower case, letters and digits only: "PM/Order No." → "pmorderno"."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def guess_mapping(headers: Sequence[str]) -> dict[str, str]:
    """``{field: header}`` for every header that is a known spelling of a field."""
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(normalize_header(header), header)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for field_name, synonyms in _SYNONYMS.items():
        for synonym in synonyms:
            found = by_key.get(synonym)
            if found is not None and found not in used:
                mapping[field_name] = found
                used.add(found)
                break
    return mapping


def parse_mapping_args(items: Sequence[str]) -> dict[str, str | None]:
    """CLI ``FIELD=Header`` strings to a mapping (``FIELD=`` means "don't import this field")."""
    out: dict[str, str | None] = {}
    for item in items:
        name, sep, header = item.partition("=")
        if not sep:
            raise ColumnMappingError(
                f"--map {item!r} must look like FIELD=Column header, e.g. 'pm_number=Order No.'."
            )
        out[name.strip()] = header.strip() or None
    return out


def _find_header(headers: Sequence[str], wanted: str) -> str | None:
    if wanted in headers:
        return wanted
    key = normalize_header(wanted)
    matches = [h for h in headers if normalize_header(h) == key] if key else []
    return matches[0] if len(matches) == 1 else None


def resolve_mapping(
    headers: Sequence[str], overrides: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """Guessed mapping with ``overrides`` applied (``None`` unmaps a field); checked."""
    mapping = guess_mapping(headers)
    found = ", ".join(repr(h) for h in headers)
    for field_name, wanted in (overrides or {}).items():
        if field_name not in FIELDS:
            raise ColumnMappingError(
                f"Unknown field {field_name!r} in the column mapping; fields are: {', '.join(FIELDS)}."
            )
        if wanted is None or not wanted.strip():
            mapping.pop(field_name, None)
            continue
        header = _find_header(headers, wanted)
        if header is None:
            raise ColumnMappingError(
                f"Column {wanted!r} (for {FIELDS[field_name]}) is not in the file; the file has: {found}."
            )
        for other, mapped in list(mapping.items()):
            if mapped == header and other != field_name and other not in (overrides or {}):
                del mapping[other]
        mapping[field_name] = header
    taken: dict[str, str] = {}
    for field_name, header in mapping.items():
        if header in taken:
            raise ColumnMappingError(
                f"Column {header!r} is chosen for both {FIELDS[taken[header]]} and "
                f"{FIELDS[field_name]}; pick one column per field."
            )
        taken[header] = field_name
    if "pm_number" not in mapping and "notification_number" not in mapping:
        raise ColumnMappingError(
            f"No column for the PM number or notification number; the file has: {found}."
        )
    return mapping


# -- validation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One bad cell (or row): ``row`` as numbered in the spreadsheet."""

    row: int
    field: str
    value: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "value": self.value, "message": self.message}


def display_value(value: Cell) -> str:
    """A cell as the user typed it (dates as YYYY-MM-DD, 35589054.0 as 35589054)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%Y/%m/%d")


def parse_date_cell(value: Cell) -> dt.date:
    """A due date from a cell: Excel date, ISO, M/D/YYYY or M/D/YY."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = display_value(value)
    head = text.split(" ")[0].split("T")[0]
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    raise ValidationError(
        "due_date", f"Due date {text!r} is not a date; use YYYY-MM-DD or M/D/YYYY (e.g. 3/15/2026)."
    )


def _parse_coordinate(value: Cell, field_name: str, limit: float) -> float:
    word = "Latitude" if field_name == "latitude" else "Longitude"
    text = display_value(value)
    try:
        number = float(value) if isinstance(value, int | float) else float(text)
    except ValueError:
        raise ValidationError(field_name, f"{word} {text!r} is not a number.") from None
    if math.isnan(number) or not -limit <= number <= limit:
        raise ValidationError(field_name, f"{word} {text} is out of range (−{limit:g} to {limit:g}).")
    return number


def _number_text(value: Cell) -> str:
    """An identifier cell as text; "35589054.0" (a number exported as text) loses its ".0"."""
    text = display_value(value)
    match = re.fullmatch(r"(\d+)\.0+", text)
    return match.group(1) if match else text


_MAX_LENGTH = {"address": 200, "city": 80, "wo_number": 40}
#: Statuses that need data a file does not carry (a reason); set them on the board instead.
_NOT_IMPORTABLE = {JobStatus.STUCK, JobStatus.GO_BACK}
_NEEDS_GF = {JobStatus.ASSIGNED_TO_GF, JobStatus.PRE_FIELDING}
_PREFIELD_OPEN = {JobStatus.NEW, JobStatus.ASSIGNED_TO_GF, JobStatus.PRE_FIELDING}


def _name_key(text: str) -> str:
    return " ".join(text.lower().split())


class _GfLookup:
    """Finds a GF by name or LAN ID among the people in the database."""

    def __init__(self, people: Sequence[Person]) -> None:
        self.by_lan = {p.lan_id.upper(): p for p in people if p.lan_id}
        self.by_name: dict[str, list[Person]] = {}
        for person in people:
            self.by_name.setdefault(_name_key(person.name), []).append(person)

    def find(self, text: str) -> Person:
        person = self.by_lan.get(text.strip().upper())
        if person is None:
            candidates = self.by_name.get(_name_key(text), [])
            gfs = [p for p in candidates if p.role is Role.GF]
            if len(gfs) > 1:
                active = [p for p in gfs if p.active]
                if len(active) != 1:
                    raise ValidationError(
                        "gf", f"More than one GF is named {text!r}; use their LAN ID instead."
                    )
                gfs = active
            person = gfs[0] if gfs else (candidates[0] if candidates else None)
        if person is None:
            raise ValidationError(
                "gf",
                f"No GF named {text!r} or with that LAN ID. Add them under People first, "
                "or leave the cell blank.",
            )
        if person.role is not Role.GF:
            raise ValidationError(
                "gf", f"{person.name} is a {person.role.value}, not a GF (general foreman)."
            )
        if not person.active:
            raise ValidationError("gf", f"{person.name} is marked inactive; pick an active GF.")
        return person


@dataclass(frozen=True, slots=True)
class ParsedRow:
    number: int
    values: dict[str, Any]


def _parse_row(row: TableRow, columns: Mapping[str, int], gfs: _GfLookup,
               problems: list[RowProblem]) -> ParsedRow:  # fmt: skip
    """Column values for one row; appends every problem found to ``problems``."""
    values: dict[str, Any] = {}

    def cell(field_name: str) -> Cell:
        index = columns.get(field_name)
        return None if index is None else row.get(index)

    def report(field_name: str, message: str) -> None:
        raw = display_value(cell(field_name))
        problems.append(RowProblem(row.number, field_name, raw, message))

    parsers: dict[str, Callable[[Cell], Any]] = {
        "pm_number": lambda v: parse_pm_number(_number_text(v)),
        "notification_number": lambda v: parse_notification_number(_number_text(v)),
        "division": lambda v: parse_division(display_value(v)),
        "mat_code": lambda v: parse_mat_code(display_value(v)),
        "priority": lambda v: parse_priority(display_value(v)),
        "work_type": lambda v: parse_work_type(display_value(v)),
        "status": lambda v: parse_status(display_value(v)),
        "due_date": parse_date_cell,
        "latitude": lambda v: _parse_coordinate(v, "latitude", 90),
        "longitude": lambda v: _parse_coordinate(v, "longitude", 180),
        "gf": lambda v: gfs.find(display_value(v)).id,
    }
    for field_name in columns:
        value = cell(field_name)
        if _is_blank(value):
            continue
        parser = parsers.get(field_name)
        if parser is None:  # free text
            text = display_value(value)
            limit = _MAX_LENGTH.get(field_name)
            if limit is not None and len(text) > limit:
                report(field_name, f"{FIELDS[field_name]} is {len(text)} characters long; "
                                   f"the most NEXA keeps is {limit}.")  # fmt: skip
                continue
            values[field_name] = text
            continue
        try:
            parsed = parser(value)
        except ValidationError as exc:
            report(field_name, str(exc))
            continue
        values["gf_id" if field_name == "gf" else field_name] = parsed

    if "pm_number" not in values and "notification_number" not in values:
        id_cells = [cell(f) for f in ("pm_number", "notification_number")]
        if all(_is_blank(v) for v in id_cells):
            field_name = "pm_number" if "pm_number" in columns else "notification_number"
            report(field_name, "The row has neither a PM number nor a notification number.")

    lat, lon = values.get("latitude"), values.get("longitude")
    for have, missing in (("latitude", "longitude"), ("longitude", "latitude")):
        if have in values and _is_blank(cell(missing)):
            report(missing, f"{FIELDS[have]} is given but {FIELDS[missing].lower()} is not; "
                            "give both or neither.")  # fmt: skip
    if lat is not None and lon is not None and lat == 0 and lon == 0:
        report("latitude", "Latitude and longitude are both 0; leave them blank if unknown.")

    status = values.get("status", JobStatus.NEW)
    if status in _NOT_IMPORTABLE:
        report(
            "status",
            f"Jobs can't be imported as {status.label}: that needs a reason. "
            "Import them with their earlier status, then mark them on the board.",
        )
    elif status in _NEEDS_GF and "gf_id" not in values and _is_blank(cell("gf")):
        report("status", f"A job that is {status.label} needs a GF; fill in the GF column.")
    values["status"] = status
    values["prefield_complete"] = status not in _PREFIELD_OPEN
    return ParsedRow(row.number, values)


def _check_duplicates(conn: Connection, parsed: Sequence[ParsedRow], problems: list[RowProblem]) -> None:
    """Same PM/notification twice in the file, or already in the database."""
    labels = {"pm_number": "PM number", "notification_number": "Notification"}
    finders = {"pm_number": repo.find_job_ids_by_pm,
               "notification_number": repo.find_job_ids_by_notification}  # fmt: skip
    for field_name, label in labels.items():
        first_row: dict[str, int] = {}
        for row in parsed:
            value = row.values.get(field_name)
            if value is None:
                continue
            if value in first_row:
                message = f"{label} {value} is also on row {first_row[value]}."
                problems.append(RowProblem(row.number, field_name, value, message))
            else:
                first_row[value] = row.number
        existing = finders[field_name](conn, list(first_row))
        for value, row_number in first_row.items():
            if value in existing:
                message = f"{label} {value} is already in NEXA."
                problems.append(RowProblem(row_number, field_name, value, message))


# -- the import -------------------------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


@dataclass(slots=True)
class ImportReport:
    """What an import (or dry run) found and did."""

    file: str
    rows_read: int
    rows_valid: int
    errors: list[RowProblem] = field(default_factory=list)
    imported: int = 0
    dry_run: bool = False
    mapping: dict[str, str] = field(default_factory=dict)
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> int:
        return len({p.row for p in self.errors})

    def summary(self) -> str:
        """One sentence: "212 rows, 3 problems — nothing will be imported until they are fixed"."""
        rows = _plural(self.rows_read, "row")
        if self.errors:
            problems = _plural(len(self.errors), "problem")
            return f"{rows}, {problems} — nothing will be imported until they are fixed"
        if self.dry_run:
            return f"{rows}, no problems — ready to import"
        return f"Imported {_plural(self.imported, 'job')}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "rows_valid": self.rows_valid,
            "imported": self.imported,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "mapping": dict(self.mapping),
            "note": self.note,
            "errors": [p.to_json() for p in self.errors],
        }


def _progress(state: TaskState | None, done: int, total: int, what: str) -> None:
    if state is None:
        return
    state.check_cancelled()
    state.set_progress(done / total if total else 1.0, f"{what} {done:,} of {total:,} rows…")


def import_table(
    db: Database,
    table: Table,
    mapping: Mapping[str, str],
    *,
    dry_run: bool = False,
    actor: str = "import",
    progress: TaskState | None = None,
) -> ImportReport:
    """Check every row of ``table``; unless ``dry_run`` or a row is bad, insert all of them.

    ``mapping`` is ``{field: header}`` (see :func:`resolve_mapping`). Checking and inserting
    share one transaction, so the duplicate check and the insert see the same database.
    """
    unknown = [h for h in mapping.values() if h not in table.headers]
    if unknown:
        raise ColumnMappingError(f"Column {unknown[0]!r} is not in {table.path.name}.")
    columns = {f: table.headers.index(h) for f, h in mapping.items() if f in FIELDS}
    report = ImportReport(file=str(table.path), rows_read=0, rows_valid=0, dry_run=dry_run,
                          mapping=dict(mapping), note=table.note)  # fmt: skip
    with db.begin() as conn:
        gfs = _GfLookup(repo.list_people(conn))
        problems: list[RowProblem] = []
        parsed: list[ParsedRow] = []
        total = len(table.rows)
        for done, row in enumerate(table.rows):
            if done % _PROGRESS_EVERY == 0:
                _progress(progress, done, total, "Checked")
            if all(_is_blank(row.get(i)) for i in columns.values()):
                continue  # a row with nothing in the mapped columns
            parsed.append(_parse_row(row, columns, gfs, problems))
        _check_duplicates(conn, parsed, problems)
        problems.sort(key=lambda p: (p.row, _FIELD_ORDER.get(p.field, 99)))
        report.rows_read = len(parsed)
        report.errors = problems
        report.rows_valid = len(parsed) - report.bad_rows
        if problems or dry_run or not parsed:
            _progress(progress, total, total, "Checked")
            return report
        if progress is not None:
            progress.check_cancelled()
            progress.set_progress(0.95, f"Saving {len(parsed):,} jobs…")
        _insert(conn, parsed, actor, table.path.name)
        report.imported = len(parsed)
    if progress is not None:
        progress.set_progress(1.0, f"Imported {report.imported:,} jobs.")
    return report


#: Every inserted row carries every column (one executemany needs the same keys in each row).
_ROW_DEFAULTS: dict[str, Any] = {
    "pm_number": None, "notification_number": None, "wo_number": None, "division": None,
    "mat_code": None, "latitude": None, "longitude": None, "due_date": None, "gf_id": None,
    "address": "", "city": "", "notes": "", "work_type": WorkType.ESTIMATED,
    "priority": Priority.C,
}  # fmt: skip


def _insert(conn: Connection, parsed: Sequence[ParsedRow], actor: str, file_name: str) -> None:
    """All jobs, an "Imported" history row for each, and one aggregate usage event."""
    repo.insert_jobs(conn, [{**_ROW_DEFAULTS, **p.values} for p in parsed])
    by_pm = repo.find_job_ids_by_pm(conn, [p.values["pm_number"] for p in parsed
                                           if "pm_number" in p.values])  # fmt: skip
    by_notif = repo.find_job_ids_by_notification(
        conn, [p.values["notification_number"] for p in parsed
               if "pm_number" not in p.values])  # fmt: skip
    history = []
    for row in parsed:
        pm = row.values.get("pm_number")
        job_id = by_pm[pm] if pm is not None else by_notif[row.values["notification_number"]]
        history.append({
            "job_id": job_id, "actor": actor, "action": "Imported", "from_status": None,
            "to_status": row.values["status"].value, "version": 1,
            "reason": f"Row {row.number} of {file_name}",
        })  # fmt: skip
    repo.add_history_many(conn, history)
    repo.add_usage_event(conn, "jobs.imported", {"count": len(parsed)})


def import_jobs(
    db: Database,
    path: str | Path,
    mapping_overrides: Mapping[str, str | None] | Sequence[str] | None = None,
    *,
    dry_run: bool = False,
    actor: str = "import",
    progress: TaskState | None = None,
) -> ImportReport:
    """Read ``path``, map its columns and import every row, or none if any row is bad.

    ``mapping_overrides`` is ``{field: header}`` (``None`` unmaps) or CLI ``FIELD=Header``
    strings. File and mapping problems raise :class:`ImportFileError` /
    :class:`ColumnMappingError`; database problems raise ``StorageError`` unchanged.
    """
    table = read_table(path)
    if mapping_overrides is None:
        overrides: Mapping[str, str | None] = {}
    elif isinstance(mapping_overrides, Mapping):
        overrides = mapping_overrides
    else:
        overrides = parse_mapping_args(list(mapping_overrides))
    mapping = resolve_mapping(table.headers, overrides)
    return import_table(db, table, mapping, dry_run=dry_run, actor=actor, progress=progress)


# -- the command line -------------------------------------------------------------------------


def _print_report(report: ImportReport) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    console = Console(highlight=False)
    if report.note:
        console.print(Text(report.note, style="yellow"))
    mapped = ", ".join(f"{FIELDS[f]} ← {h!r}" for f, h in report.mapping.items())
    console.print(Text(f"Columns: {mapped}"))
    if report.errors:
        table = RichTable(title=Text(f"Problems in {Path(report.file).name}"), show_lines=False)
        table.add_column("Row", justify="right", style="bold")
        table.add_column("Field")
        table.add_column("Value")
        table.add_column("Problem", overflow="fold")
        for problem in report.errors:
            table.add_row(str(problem.row), FIELDS.get(problem.field, problem.field),
                          Text(problem.value), Text(problem.message))  # fmt: skip
        console.print(table)
        console.print(f"[bold red]{report.summary()}.[/bold red]")
    elif report.dry_run:
        console.print(f"[green]{report.summary()}[/green] (dry run: nothing was written).")
    else:
        console.print(Text(f"{report.summary()} from {Path(report.file).name}.", style="green"))


def import_jobs_cli(file: Path, mappings: Sequence[str], dry_run: bool, as_json: bool) -> int:
    """``nexa import jobs``: returns the exit code (0 imported or valid, 1 otherwise)."""
    from nexa_desktop.settings import load_settings
    from nexa_desktop.store.db import open_database

    try:
        settings = load_settings()
        table = read_table(file)
        mapping = resolve_mapping(table.headers, parse_mapping_args(mappings))
        db = open_database(settings.database_url or None)
        try:
            actor = settings.user_name or "import"
            report = import_table(db, table, mapping, dry_run=dry_run, actor=actor)
        finally:
            db.dispose()
    except NexaError as exc:
        if as_json:
            print(json.dumps({"file": str(file), "ok": False, "error": str(exc)}))
        print(f"nexa: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_report(report)
    if report.errors:
        problems = _plural(len(report.errors), "problem")
        rows = _plural(report.bad_rows, "row")
        print(f"nexa: {problems} in {rows} of {file.name}; nothing was imported.", file=sys.stderr)
        return 1
    return 0

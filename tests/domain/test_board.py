"""Board columns (resources/board.toml), drops onto them, and due-date states."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from nexa_desktop import paths
from nexa_desktop.domain.board import BoardConfig, load_board_config, parse_board_config
from nexa_desktop.domain.errors import IllegalTransition, ValidationError
from nexa_desktop.domain.jobs import (
    Dependency,
    DependencyKind,
    DependencyStatus,
    DueState,
    Job,
    JobStatus,
    Priority,
    WorkType,
    due_state,
    parse_priority,
    parse_status,
    parse_work_type,
)
from nexa_desktop.domain.lifecycle import Need

S = JobStatus
TODAY = dt.date(2026, 3, 2)


def job(status: JobStatus, **fields: Any) -> Job:
    base: dict[str, Any] = {
        "id": 1, "pm_number": "35589054", "notification_number": None, "status": status,
        "version": 1, "prefield_complete": status not in (S.NEW, S.ASSIGNED_TO_GF, S.PRE_FIELDING),
    }  # fmt: skip
    base.update(fields)
    return Job(**base)


def _raw_config() -> dict[str, Any]:
    return tomllib.loads(paths.board_config_file().read_text(encoding="utf-8"))


# -- the shipped config -----------------------------------------------------------------------


def test_every_status_is_in_exactly_one_column(board_config: BoardConfig) -> None:
    probes = [job(s) for s in JobStatus] + [job(S.PRE_FIELDING, prefield_complete=True)]
    for probe in probes:
        holders = [c.id for c in board_config.columns if c.holds(probe)]
        assert len(holders) == 1, (probe.status, probe.prefield_complete, holders)
    shown = {s for c in board_config.columns for s in c.statuses}
    assert shown == set(JobStatus)


def test_columns_follow_the_suggested_layout(board_config: BoardConfig) -> None:
    assert [c.id for c in board_config.columns] == [
        "needs_prefield", "prefielding", "needs_scheduled", "scheduled", "in_progress", "stuck",
        "review", "ready_to_submit", "submitted", "go_back", "billed",
    ]  # fmt: skip
    assert board_config.column_of(job(S.PRE_FIELDING)).id == "prefielding"
    assert board_config.column_of(job(S.PRE_FIELDING, prefield_complete=True)).id == "needs_scheduled"
    assert board_config.column_of(job(S.PENDING_QA_REVIEW)).id == "review"
    assert board_config.column_of(job(S.INVOICED)).id == "billed"


#: column → (a job that may be dropped there, expected status, pre-field flag, needs).
#: Nothing can be dropped back on Needs Pre-field: new jobs start there and only leave it.
DROPS: dict[str, tuple[Job, JobStatus, bool, frozenset[Need]]] = {
    "prefielding": (job(S.ASSIGNED_TO_GF, gf_id=1), S.PRE_FIELDING, False, frozenset({Need.GF})),
    "needs_scheduled": (job(S.PRE_FIELDING), S.PRE_FIELDING, True, frozenset()),
    "scheduled": (
        job(S.PRE_FIELDING, prefield_complete=True), S.SCHEDULED, True,
        frozenset({Need.CREW, Need.START}),
    ),
    "in_progress": (job(S.SCHEDULED), S.IN_PROGRESS, True, frozenset({Need.SAFETY_GATE})),
    "stuck": (job(S.IN_PROGRESS), S.STUCK, True, frozenset({Need.REASON})),
    "review": (job(S.IN_PROGRESS), S.PENDING_GF_REVIEW, True, frozenset()),
    "ready_to_submit": (job(S.PENDING_PM_APPROVAL), S.READY_TO_SUBMIT, True, frozenset()),
    "submitted": (job(S.READY_TO_SUBMIT), S.SUBMITTED, True, frozenset()),
    "go_back": (job(S.SUBMITTED), S.GO_BACK, True, frozenset({Need.REASON})),
    "billed": (job(S.SUBMITTED), S.BILLED, True, frozenset()),
}  # fmt: skip


def test_drop_table_covers_every_column(board_config: BoardConfig) -> None:
    assert set(DROPS) | {"needs_prefield"} == {c.id for c in board_config.columns}


@pytest.mark.parametrize("status", [S.PRE_FIELDING, S.SCHEDULED, S.STUCK])
def test_nothing_drops_back_on_needs_prefield(board_config: BoardConfig, status: JobStatus) -> None:
    with pytest.raises(IllegalTransition, match="Can't move 35589054 to Needs Pre-field"):
        board_config.plan_drop(job(status), "needs_prefield")


def test_new_job_is_already_in_needs_prefield(board_config: BoardConfig) -> None:
    # The column's drop status is assigned_to_gf; a new job already shows there.
    assert board_config.column("needs_prefield").drop_status is S.ASSIGNED_TO_GF
    with pytest.raises(IllegalTransition, match="already in Needs Pre-field"):
        board_config.plan_drop(job(S.NEW), "needs_prefield")


@pytest.mark.parametrize("column_id", list(DROPS))
def test_plan_drop_for_each_column(board_config: BoardConfig, column_id: str) -> None:
    source, target, prefield, needs = DROPS[column_id]
    plan = board_config.plan_drop(source, column_id)
    assert plan.target is target
    assert plan.prefield_complete is prefield
    assert plan.needs == needs
    landed = Job(**{**{f: getattr(source, f) for f in source.__slots__}, "status": target,
                    "prefield_complete": prefield})  # fmt: skip
    assert board_config.column_of(landed).id == column_id


@pytest.mark.parametrize("column_id", [*DROPS, "needs_prefield"])
def test_drop_on_own_column_is_refused(board_config: BoardConfig, column_id: str) -> None:
    column = board_config.column(column_id)
    probe = job(column.statuses[0], prefield_complete=bool(column.prefield_complete))
    with pytest.raises(IllegalTransition, match="already in"):
        board_config.plan_drop(probe, column_id)


def test_drop_within_a_multi_status_column_is_refused(board_config: BoardConfig) -> None:
    with pytest.raises(IllegalTransition, match="already in Review/QA"):
        board_config.plan_drop(job(S.PENDING_QA_REVIEW), "review")


def test_illegal_drop_names_the_column_and_the_reason(board_config: BoardConfig) -> None:
    with pytest.raises(IllegalTransition) as info:
        board_config.plan_drop(job(S.NEW), "submitted")
    assert "Can't move 35589054 to Submitted" in str(info.value)
    assert "not allowed" in str(info.value)


def test_drop_on_needs_scheduled_with_open_dependencies_is_refused(
    board_config: BoardConfig,
) -> None:
    blocked = job(S.PRE_FIELDING, dependencies=(Dependency(DependencyKind.USA),))
    with pytest.raises(IllegalTransition, match="USA"):
        board_config.plan_drop(blocked, "needs_scheduled")


def test_drop_back_to_prefielding_reopens(board_config: BoardConfig) -> None:
    plan = board_config.plan_drop(job(S.PRE_FIELDING, prefield_complete=True), "prefielding")
    assert (plan.label, plan.prefield_complete) == ("Reopen pre-field", False)


def test_unknown_column(board_config: BoardConfig) -> None:
    with pytest.raises(KeyError):
        board_config.column("nope")


def test_neighbours_and_wip(board_config: BoardConfig) -> None:
    first, last = board_config.columns[0], board_config.columns[-1]
    assert board_config.neighbour(first.id, -1) is None
    assert board_config.neighbour(last.id, 1) is None
    assert board_config.neighbour(first.id, 1) is board_config.columns[1]
    stuck = board_config.column("stuck")
    assert stuck.wip_limit == 8
    assert not stuck.over_wip(8) and stuck.over_wip(9)
    assert not board_config.column("submitted").over_wip(10_000)


# -- broken configs ---------------------------------------------------------------------------


def test_invalid_toml_gives_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "board.toml"
    broken.write_text("[[columns]]\nid = 'x\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_board_config(broken)
    assert str(broken) in str(info.value) and "not valid TOML" in str(info.value)


def test_missing_file_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is missing"):
        load_board_config(tmp_path / "nope.toml")


def _broken(change: str) -> dict[str, Any]:
    data = _raw_config()
    cols = data["columns"]
    if change == "no_columns":
        return {}
    if change == "status_twice":
        cols[4]["statuses"].append("scheduled")
    elif change == "status_missing":
        cols[5]["statuses"] = ["in_progress"]
        del cols[4]
    elif change == "unknown_status":
        cols[0]["statuses"].append("teleported")
    elif change == "bad_drop":
        cols[0]["drop_status"] = "billed"
    elif change == "bad_colour":
        cols[0]["color"] = "red"
    elif change == "duplicate_id":
        cols[1]["id"] = cols[0]["id"]
    elif change == "no_title":
        del cols[2]["title"]
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no_columns", "no [[columns]]"),
        ("status_twice", "'scheduled' must be shown by exactly one column"),
        ("status_missing", "'stuck' must be shown by exactly one column, not []"),
        ("unknown_status", "column #1 is invalid"),
        ("bad_drop", "drop_status not in statuses"),
        ("bad_colour", "is not #rrggbb"),
        ("duplicate_id", "duplicate column ids"),
        ("no_title", "column #3 is invalid"),
    ],
)
def test_broken_config_is_refused(change: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_board_config(_broken(change))
    assert message in str(info.value)
    assert info.value.field == "columns"


def test_config_file_round_trip(tmp_path: Path, board_config: BoardConfig) -> None:
    copy = tmp_path / "board.toml"
    copy.write_text(paths.board_config_file().read_text(encoding="utf-8"), encoding="utf-8")
    assert load_board_config(copy) == board_config


# -- due dates and small parsers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "status", "expected"),
    [
        (None, S.SCHEDULED, DueState.NONE),
        (TODAY - dt.timedelta(days=1), S.SCHEDULED, DueState.OVERDUE),
        (TODAY, S.SCHEDULED, DueState.SOON),
        (TODAY + dt.timedelta(days=7), S.NEW, DueState.SOON),
        (TODAY + dt.timedelta(days=8), S.NEW, DueState.OK),
        (TODAY - dt.timedelta(days=30), S.SUBMITTED, DueState.NONE),
        (TODAY - dt.timedelta(days=30), S.BILLED, DueState.NONE),
        (TODAY - dt.timedelta(days=30), S.INVOICED, DueState.NONE),
        (TODAY - dt.timedelta(days=30), S.READY_TO_SUBMIT, DueState.OVERDUE),
    ],
)
def test_due_state(due: dt.date | None, status: JobStatus, expected: DueState) -> None:
    subject = job(status, due_date=due)
    assert due_state(subject, TODAY) is expected
    if due is not None:
        assert subject.days_until_due(TODAY) == (due - TODAY).days


def test_priority_urgency_and_parsing() -> None:
    assert {p for p in Priority if p.urgent} == {Priority.EMERGENCY, Priority.A, Priority.E}
    assert parse_priority(" emerg ") is Priority.EMERGENCY
    assert parse_priority("b") is Priority.B
    with pytest.raises(ValidationError):
        parse_priority("F")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("pending", S.NEW), ("Pre-Field", S.PRE_FIELDING), ("in-progress", S.IN_PROGRESS),
     ("completed", S.READY_TO_SUBMIT), ("Go Back", S.GO_BACK), ("billed", S.BILLED)],
)  # fmt: skip
def test_status_parsing_with_legacy_aliases(raw: str, expected: JobStatus) -> None:
    assert parse_status(raw) is expected


def test_unknown_status_lists_known_ones() -> None:
    with pytest.raises(ValidationError, match="Known: new, assigned_to_gf"):
        parse_status("done-ish")


def test_work_type_parsing() -> None:
    assert parse_work_type("EC Tag") is WorkType.EC_CORRECTIVE
    assert parse_work_type("Estimated") is WorkType.ESTIMATED
    with pytest.raises(ValidationError):
        parse_work_type("emergency")


def test_dependency_json_round_trip_and_title() -> None:
    dep = Dependency(DependencyKind.USA, DependencyStatus.SCHEDULED, TODAY, "X123")
    assert Dependency.from_json(dep.to_json()) == dep
    assert Dependency.from_json({"kind": "civil"}) == Dependency(DependencyKind.CIVIL)
    assert job(S.NEW, pm_number=None, notification_number="119080350").title == "119080350"
    assert job(S.NEW, pm_number=None, notification_number=None).title == "Job 1"

"""The board widget with real Qt events, a real SQLite database and the real services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from nexa_desktop.domain.board import BoardConfig
from nexa_desktop.domain.jobs import (
    Dependency,
    DependencyKind,
    DependencyStatus,
    Job,
    JobStatus,
    Role,
)
from nexa_desktop.services.board import BoardService
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database, open_database
from nexa_desktop.ui.board.model import Roles
from nexa_desktop.ui.board.page import BoardPage
from nexa_desktop.ui.board.views import ColumnView, job_mime
from nexa_desktop.ui.ops import OpRunner

TODAY = dt.date(2026, 11, 24)


@dataclass
class Office:
    gf: int
    gf2: int
    foreman: int
    crew: int
    crew2: int


@pytest.fixture
def office(sqlite_db: Database) -> Office:
    with sqlite_db.begin() as conn:
        gf = repo.insert_person(conn, name="Gina Alvarez", role=Role.GF, lan_id="GA01")
        gf2 = repo.insert_person(conn, name="Bob Chen", role=Role.GF, lan_id="BC02")
        foreman = repo.insert_person(conn, name="Frank Ortiz", role=Role.FOREMAN, lan_id="FO03")
        crew = repo.insert_crew(conn, name="Crew 01 – Pole", foreman_id=foreman)
        crew2 = repo.insert_crew(conn, name="Crew 02 – UG", foreman_id=foreman)
    return Office(gf, gf2, foreman, crew, crew2)


_next_pm = iter(range(35_000_001, 35_999_999))


def add_job(db: Database, **values: Any) -> int:
    pm = values.pop("pm_number", str(next(_next_pm)))
    row = {
        "pm_number": pm,
        "address": "100 Oak St",
        "city": "Fresno",
        "due_date": TODAY + dt.timedelta(days=30),
    }
    row.update(values)
    with db.begin() as conn:
        repo.insert_jobs(conn, [row])
        return repo.find_job_ids_by_pm(conn, [pm])[pm]


@pytest.fixture
def service(sqlite_db: Database, board_config: BoardConfig) -> BoardService:
    return BoardService(sqlite_db, board_config, actor="scheduler")


@pytest.fixture
def page(qtbot: QtBot, service: BoardService, runner: OpRunner) -> BoardPage:
    widget = BoardPage(service, runner, today=lambda: TODAY)
    qtbot.addWidget(widget)
    widget.resize(1500, 900)
    widget.show()
    return widget


def load(qtbot: QtBot, page: BoardPage) -> None:
    with qtbot.waitSignal(page.loaded, timeout=5000):
        page.reload()


def card_center(view: ColumnView, job_id: int) -> QPointF:
    model = view.board_model()
    index = model.index_of_job(job_id)
    assert index.parent() == view.rootIndex(), "card is not in this column"
    return QPointF(view.visualRect(index).center())


def drag_card(qtbot: QtBot, page: BoardPage, job_id: int, target_column: str) -> None:
    """Press on the card in its column, then drag-enter, move and drop onto the target column."""
    job = page.model.job(job_id)
    assert job is not None
    source = page.grid.view_for(page.service.config.column_of(job).id)
    target = page.grid.view_for(target_column)
    qtbot.mousePress(source.viewport(), Qt.MouseButton.LeftButton, pos=card_center(source, job_id).toPoint())
    assert source.current_job() is not None and source.current_job().id == job_id  # type: ignore[union-attr]
    mime = job_mime(job)
    pos = QPointF(target.viewport().rect().center())
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.MoveAction, mime, buttons, mods)
    QApplication.sendEvent(target.viewport(), enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(pos.toPoint(), Qt.DropAction.MoveAction, mime, buttons, mods)
    QApplication.sendEvent(target.viewport(), move)
    drop = QDropEvent(pos, Qt.DropAction.MoveAction, mime, buttons, mods)
    QApplication.sendEvent(target.viewport(), drop)
    assert drop.isAccepted()


def stored(service: BoardService, job_id: int) -> Job:
    return service.job(job_id)


def test_cards_appear_in_their_columns(
    qtbot: QtBot, page: BoardPage, sqlite_db: Database, office: Office
) -> None:
    new = add_job(sqlite_db)
    sched = add_job(
        sqlite_db,
        status="scheduled",
        gf_id=office.gf,
        crew_id=office.crew,
        scheduled_start=TODAY,
        prefield_complete=True,
    )
    done = add_job(sqlite_db, status="pending_qa_review", gf_id=office.gf, prefield_complete=True)
    load(qtbot, page)
    assert (
        page.grid.view_for("needs_prefield")
        .model()
        .rowCount(page.grid.view_for("needs_prefield").rootIndex())
        == 1
    )
    for job_id, column in ((new, "needs_prefield"), (sched, "scheduled"), (done, "review")):
        view = page.grid.view_for(column)
        card_center(view, job_id)  # raises if it is elsewhere
    assert page.grid.headers["scheduled"].count.text().startswith("1 jobs")


def test_legal_drop_commits_at_once(
    qtbot: QtBot, page: BoardPage, service: BoardService, sqlite_db: Database, office: Office
) -> None:
    job_id = add_job(sqlite_db, status="assigned_to_gf", gf_id=office.gf)
    load(qtbot, page)
    with qtbot.waitSignal(page.changeApplied, timeout=5000):
        drag_card(qtbot, page, job_id, "prefielding")
    assert stored(service, job_id).status is JobStatus.PRE_FIELDING
    card_center(page.grid.view_for("prefielding"), job_id)
    assert page.model.column_count("needs_prefield") == 0
    history = service.history(job_id)
    assert history[0].action == "Start pre-field" and history[0].actor == "scheduler"


def test_illegal_drop_is_refused_with_reason(
    qtbot: QtBot, page: BoardPage, service: BoardService, sqlite_db: Database
) -> None:
    job_id = add_job(sqlite_db)
    load(qtbot, page)
    drag_card(qtbot, page, job_id, "submitted")
    assert page.banner.isVisible()
    assert "Can't move" in page.banner.text() and "Submitted" in page.banner.text()
    assert stored(service, job_id).status is JobStatus.NEW
    assert stored(service, job_id).version == 1


def test_drop_that_needs_data_asks_first_and_commits_only_on_ok(
    qtbot: QtBot, page: BoardPage, service: BoardService, sqlite_db: Database, office: Office
) -> None:
    job_id = add_job(
        sqlite_db,
        status="scheduled",
        gf_id=office.gf,
        crew_id=office.crew,
        scheduled_start=TODAY,
        prefield_complete=True,
    )
    load(qtbot, page)
    drag_card(qtbot, page, job_id, "stuck")
    dialog = page.dialog
    assert dialog is not None and dialog.isVisible() and dialog.reason is not None
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled(), "a reason is required"
    dialog.reject()
    qtbot.wait(50)
    assert stored(service, job_id).status is JobStatus.SCHEDULED

    drag_card(qtbot, page, job_id, "stuck")
    dialog = page.dialog
    assert dialog is not None and dialog.reason is not None
    qtbot.keyClicks(dialog.reason, "Waiting on traffic control permit")
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled()
    with qtbot.waitSignal(page.changeApplied, timeout=5000):
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    job = stored(service, job_id)
    assert job.status is JobStatus.STUCK
    assert job.stuck_reason == "Waiting on traffic control permit"
    assert job.stuck_from is JobStatus.SCHEDULED


def test_schedule_dialog_sets_crew_and_date(
    qtbot: QtBot, page: BoardPage, service: BoardService, sqlite_db: Database, office: Office
) -> None:
    deps = [Dependency(DependencyKind.USA, DependencyStatus.SCHEDULED).to_json()]
    job_id = add_job(
        sqlite_db, status="pre_fielding", gf_id=office.gf, prefield_complete=True, dependencies=deps
    )
    load(qtbot, page)
    drag_card(qtbot, page, job_id, "scheduled")
    dialog = page.dialog
    assert dialog is not None and dialog.crew is not None and dialog.start is not None
    dialog.crew.setCurrentIndex(dialog.crew.findData(office.crew2))
    with qtbot.waitSignal(page.changeApplied, timeout=5000):
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    job = stored(service, job_id)
    assert job.status is JobStatus.SCHEDULED
    assert job.crew_id == office.crew2 and job.foreman_id == office.foreman
    assert job.scheduled_start == dt.date(2026, 11, 25)  # next workday after TODAY


def test_open_dependencies_block_scheduling(
    qtbot: QtBot, page: BoardPage, service: BoardService, sqlite_db: Database, office: Office
) -> None:
    deps = [Dependency(DependencyKind.USA, DependencyStatus.REQUIRED).to_json()]
    job_id = add_job(sqlite_db, status="pre_fielding", gf_id=office.gf, dependencies=deps)
    load(qtbot, page)
    drag_card(qtbot, page, job_id, "needs_scheduled")
    assert "USA" in page.banner.text() and "still open" in page.banner.text()
    assert stored(service, job_id).prefield_complete is False


def test_keyboard_moves_with_ctrl_arrows(
    qtbot: QtBot, page: BoardPage, service: BoardService, sqlite_db: Database, office: Office
) -> None:
    job_id = add_job(sqlite_db, status="ready_to_submit", gf_id=office.gf, prefield_complete=True)
    load(qtbot, page)
    view = page.grid.view_for("ready_to_submit")
    assert view.accessibleName() == "Ready to Submit column"
    view.setCurrentIndex(page.model.index_of_job(job_id))
    view.setFocus()
    with qtbot.waitSignal(page.changeApplied, timeout=5000):
        qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert stored(service, job_id).status is JobStatus.SUBMITTED
    # Left from Submitted to Ready to Submit is not a lifecycle step: refused with a reason.
    submitted = page.grid.view_for("submitted")
    submitted.setCurrentIndex(page.model.index_of_job(job_id))
    qtbot.keyClick(submitted, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    assert "not allowed" in page.banner.text()
    assert stored(service, job_id).status is JobStatus.SUBMITTED


def test_undo_and_redo_a_move(
    qtbot: QtBot, page: BoardPage, service: BoardService, sqlite_db: Database, office: Office
) -> None:
    job_id = add_job(
        sqlite_db,
        status="in_progress",
        gf_id=office.gf,
        crew_id=office.crew,
        scheduled_start=TODAY,
        prefield_complete=True,
    )
    load(qtbot, page)
    with qtbot.waitSignal(page.changeApplied, timeout=5000):
        drag_card(qtbot, page, job_id, "review")
    assert stored(service, job_id).status is JobStatus.PENDING_GF_REVIEW
    assert page.undo_action.isEnabled() and "Submit for GF review" in page.undo_action.text()
    with qtbot.waitSignal(page.changeApplied, timeout=5000):
        qtbot.keyClick(page.grid.view_for("review"), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert stored(service, job_id).status is JobStatus.IN_PROGRESS
    card_center(page.grid.view_for("in_progress"), job_id)
    assert page.redo_action.isEnabled()
    with qtbot.waitSignal(page.changeApplied, timeout=5000):
        qtbot.keyClick(page.grid.view_for("in_progress"), Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert stored(service, job_id).status is JobStatus.PENDING_GF_REVIEW
    actions = [h.action for h in service.history(job_id)]
    assert actions[:3] == [
        "Redo Submit for GF review",
        "Undo Submit for GF review",
        "Submit for GF review",
    ]


def test_undo_is_refused_when_someone_else_changed_the_card(
    qtbot: QtBot,
    page: BoardPage,
    service: BoardService,
    sqlite_db: Database,
    board_config: BoardConfig,
    office: Office,
) -> None:
    job_id = add_job(sqlite_db, status="ready_to_submit", gf_id=office.gf, prefield_complete=True)
    load(qtbot, page)
    with qtbot.waitSignal(page.changeApplied, timeout=5000):
        drag_card(qtbot, page, job_id, "submitted")
    other_db = open_database(sqlite_db.url)
    try:
        other = BoardService(other_db, board_config, actor="other-office")
        moved = stored(other, job_id)
        other.move_to_column(job_id, moved.version, "billed")
    finally:
        other_db.dispose()
    with qtbot.waitSignal(page.loaded, timeout=5000):
        page.undo()
    assert "someone else changed" in page.banner.text()
    assert stored(service, job_id).status is JobStatus.BILLED
    assert not page.undo_action.isEnabled()
    card_center(page.grid.view_for("billed"), job_id)  # the board shows what is stored


def test_a_stale_card_is_refused_and_refreshed(
    qtbot: QtBot,
    page: BoardPage,
    service: BoardService,
    sqlite_db: Database,
    board_config: BoardConfig,
    office: Office,
) -> None:
    job_id = add_job(sqlite_db, status="assigned_to_gf", gf_id=office.gf)
    load(qtbot, page)
    other = BoardService(sqlite_db, board_config, actor="other-office")
    other.assign(job_id, 1, {"gf_id": office.gf2})
    with qtbot.waitSignal(page.loaded, timeout=5000):
        drag_card(qtbot, page, job_id, "prefielding")
    assert "changed by someone else" in page.banner.text()
    job = stored(service, job_id)
    assert job.status is JobStatus.ASSIGNED_TO_GF and job.gf_id == office.gf2
    refreshed = page.model.job(job_id)
    assert refreshed is not None and refreshed.version == job.version


def test_filter_by_text_priority_and_overdue(
    qtbot: QtBot, page: BoardPage, sqlite_db: Database, office: Office
) -> None:
    a = add_job(
        sqlite_db,
        pm_number="45123456",
        address="12 Walnut Ave",
        priority="A",
        due_date=TODAY - dt.timedelta(days=2),
    )
    b = add_job(
        sqlite_db,
        address="9 Cedar Ct",
        priority="C",
        status="scheduled",
        gf_id=office.gf,
        crew_id=office.crew,
        scheduled_start=TODAY,
        prefield_complete=True,
    )
    load(qtbot, page)
    qtbot.keyClicks(page.search, "walnut")
    qtbot.waitUntil(lambda: page.model.index_of_job(b).isValid() is False, timeout=2000)
    assert page.model.index_of_job(a).isValid()
    assert "0 of 1 shown" in page.grid.headers["scheduled"].count.text()
    page.search.clear()
    page.apply_filter()
    qtbot.keyClicks(page.search, "crew 01")
    page.apply_filter()
    assert page.model.index_of_job(b).isValid() and not page.model.index_of_job(a).isValid()
    page.search.clear()
    page.priority.setCurrentIndex(page.priority.findText("Priority A"))
    assert page.model.index_of_job(a).isValid() and not page.model.index_of_job(b).isValid()
    page.priority.setCurrentIndex(0)
    page.overdue.setChecked(True)
    assert page.model.index_of_job(a).isValid() and not page.model.index_of_job(b).isValid()
    page.overdue.setChecked(False)
    page.gf_filter.setCurrentIndex(page.gf_filter.findData(office.gf))
    assert page.model.index_of_job(b).isValid() and not page.model.index_of_job(a).isValid()


def test_swimlanes_by_gf(qtbot: QtBot, page: BoardPage, sqlite_db: Database, office: Office) -> None:
    add_job(sqlite_db, status="assigned_to_gf", gf_id=office.gf)
    add_job(sqlite_db, status="assigned_to_gf", gf_id=office.gf2)
    add_job(sqlite_db)
    load(qtbot, page)
    ncols = len(page.service.config.columns)
    assert len(page.grid.views) == ncols
    page.swimlanes.setChecked(True)
    assert page.model.lane_count() == 3  # two GFs and "No GF yet"
    assert len(page.grid.views) == 3 * ncols
    titles = [page.model.lane_title(i) for i in range(3)]
    assert titles == ["Bob Chen", "Gina Alvarez", "No GF yet"]
    lane_view = page.grid.view_for("needs_prefield", lane=0)
    assert lane_view.model().rowCount(lane_view.rootIndex()) == 1
    assert lane_view.accessibleName() == "Needs Pre-field column, Bob Chen"
    page.swimlanes.setChecked(False)
    assert len(page.grid.views) == ncols


def test_wip_limit_turns_the_column_amber(
    qtbot: QtBot, page: BoardPage, sqlite_db: Database, office: Office
) -> None:
    limit = page.service.config.column("stuck").wip_limit
    assert limit is not None
    for _ in range(limit + 1):
        add_job(
            sqlite_db,
            status="stuck",
            gf_id=office.gf,
            crew_id=office.crew,
            scheduled_start=TODAY,
            stuck_reason="No permit",
            stuck_from="scheduled",
            prefield_complete=True,
        )
    load(qtbot, page)
    header = page.grid.headers["stuck"]
    assert header.property("overWip") is True
    assert "over limit" in header.count.text()
    assert page.grid.headers["scheduled"].property("overWip") is False


def test_detail_panel_assigns_crew_and_shows_history(
    qtbot: QtBot, page: BoardPage, service: BoardService, sqlite_db: Database, office: Office
) -> None:
    job_id = add_job(
        sqlite_db,
        status="scheduled",
        gf_id=office.gf,
        crew_id=office.crew,
        scheduled_start=TODAY,
        prefield_complete=True,
    )
    load(qtbot, page)
    view = page.grid.view_for("scheduled")
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=card_center(view, job_id).toPoint())
    qtbot.waitUntil(lambda: page.detail.job is not None and page.detail.job.id == job_id, timeout=3000)
    crew = page.detail.editor("crew_id")
    crew.setCurrentIndex(crew.findData(office.crew2))
    apply = page.detail.findChild(type(page.banner_close), "applyAssignment")
    assert apply is not None
    with qtbot.waitSignal(page.changeApplied, timeout=5000):
        qtbot.mouseClick(apply, Qt.MouseButton.LeftButton)
    assert stored(service, job_id).crew_id == office.crew2
    qtbot.waitUntil(lambda: page.detail.history_model.rowCount() == 1, timeout=3000)
    text = page.detail.history_model.index(0).data()
    assert "scheduler" in text and "Assign crew" in text


def test_context_menu_offers_only_legal_moves(
    qtbot: QtBot, page: BoardPage, service: BoardService, sqlite_db: Database, office: Office
) -> None:
    job_id = add_job(sqlite_db, status="pending_gf_review", gf_id=office.gf, prefield_complete=True)
    load(qtbot, page)
    menu = page.context_menu(job_id)
    assert menu is not None
    move_menu = menu.actions()[0].menu()
    labels = [a.text() for a in move_menu.actions()]  # type: ignore[union-attr]
    assert labels == ["QA review (GF approves)", "In progress (GF rejects (back to crew))"]
    with qtbot.waitSignal(page.changeApplied, timeout=5000):
        move_menu.actions()[0].trigger()  # type: ignore[union-attr]
    assert stored(service, job_id).status is JobStatus.PENDING_QA_REVIEW


def test_cards_describe_themselves_for_screen_readers(
    qtbot: QtBot, page: BoardPage, sqlite_db: Database, office: Office
) -> None:
    job_id = add_job(
        sqlite_db,
        pm_number="35589054",
        address="1 Main St",
        priority="A",
        due_date=TODAY - dt.timedelta(days=1),
        status="assigned_to_gf",
        gf_id=office.gf,
        dependencies=[Dependency(DependencyKind.USA).to_json()],
    )
    load(qtbot, page)
    text = page.model.index_of_job(job_id).data(Qt.ItemDataRole.AccessibleTextRole)
    assert "PM 35589054" in text and "overdue" in text and "priority A" in text
    assert "GF Gina Alvarez" in text and "open dependencies: USA" in text
    assert page.model.index_of_job(job_id).data(Roles.DUE_STATE) == "overdue"


def test_board_model_passes_the_qt_model_tester(
    qtbot: QtBot, qtmodeltester: Any, page: BoardPage, sqlite_db: Database, office: Office
) -> None:
    add_job(sqlite_db, status="assigned_to_gf", gf_id=office.gf)
    moving = add_job(sqlite_db, status="ready_to_submit", gf_id=office.gf2, prefield_complete=True)
    add_job(sqlite_db)
    load(qtbot, page)
    qtmodeltester.check(page.model)
    page.swimlanes.setChecked(True)
    qtmodeltester.check(page.model)
    with qtbot.waitSignal(page.changeApplied, timeout=5000):
        drag_card(qtbot, page, moving, "submitted")
    qtmodeltester.check(page.model)

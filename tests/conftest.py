"""Shared fixtures: a fresh data dir per test, SQLite and PostgreSQL databases, board config,
people and crews, and a job factory."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nexa_desktop import paths
from nexa_desktop.domain.board import BoardConfig, load_board_config
from nexa_desktop.domain.jobs import Job, Role
from nexa_desktop.services.board import BoardService
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import DATABASE_URL_ENV, Database, open_database
from tests import pg

MakeJob = Callable[..., Job]


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty data dir and the embedded database by default."""
    path = tmp_path / "nexa-data"
    path.mkdir()
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(path))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return path


# -- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    """A PostgreSQL server for the session: ``NEXA_TEST_PG_URL`` or one we start and stop."""
    external = os.environ.get(pg.PG_URL_ENV)
    if external:
        yield pg.from_url(external)
        return
    try:
        server = pg.start_server()
    except pg.PgUnavailableError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the PostgreSQL tests, but: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: pg.PgServer) -> Iterator[str]:
    """A database migrated to head once per session, copied for each test."""
    name = pg_server.new_database_name("nexa_template")
    pg_server.create_database(name)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(DATABASE_URL_ENV, raising=False)  # the explicit URL must win
        database = open_database(pg_server.url(name))
        database.dispose()
    try:
        yield name
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def pg_url(pg_server: pg.PgServer, pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test (dropped afterwards)."""
    name = pg_server.new_database_name("t")
    pg_server.create_database(name, template=pg_template)
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


# -- databases --------------------------------------------------------------------------------


@pytest.fixture
def sqlite_db(data_dir: Path) -> Iterator[Database]:
    """The default SQLite file in the test's data dir, migrated."""
    database = open_database()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Database]:
    """A migrated database on each dialect (PostgreSQL is skipped where unavailable)."""
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    database = open_database(url)
    try:
        yield database
    finally:
        database.dispose()


# -- board ------------------------------------------------------------------------------------


@pytest.fixture
def board_config() -> BoardConfig:
    return load_board_config(paths.board_config_file())


@pytest.fixture
def board_service(db: Database, board_config: BoardConfig) -> BoardService:
    return BoardService(db, board_config, actor="tester")


@dataclass(frozen=True)
class PeopleAndCrews:
    gf: int
    gf2: int
    foreman: int
    foreman2: int
    qa: int
    pm: int
    crew: int
    crew2: int


@pytest.fixture
def people_and_crews(db: Database) -> PeopleAndCrews:
    """Two GFs, two foremen, a QA and a PM (with LAN IDs) and two crews with a foreman each."""
    with db.begin() as conn:
        gf = repo.insert_person(conn, name="Gina Flores", role=Role.GF, lan_id="GFL1")
        gf2 = repo.insert_person(conn, name="Gary Fong", role=Role.GF, lan_id="GFO2")
        foreman = repo.insert_person(conn, name="Frank Ortiz", role=Role.FOREMAN, lan_id="FOR1")
        foreman2 = repo.insert_person(conn, name="Fay Olsen", role=Role.FOREMAN, lan_id="FOL2")
        qa = repo.insert_person(conn, name="Quinn Adams", role=Role.QA, lan_id="QAD1")
        pm = repo.insert_person(conn, name="Pat Morgan", role=Role.PM, lan_id="PMO1")
        crew = repo.insert_crew(conn, name="Crew 07 – Pole", foreman_id=foreman, skills=["07D"])
        crew2 = repo.insert_crew(conn, name="Crew 12 – UG", foreman_id=foreman2, skills=["UG1"])
    return PeopleAndCrews(gf, gf2, foreman, foreman2, qa, pm, crew, crew2)


_pm_numbers = itertools.count(35_100_001)


@pytest.fixture
def make_job(db: Database) -> MakeJob:
    """``make_job(**overrides) -> Job``: insert one job (unique PM per call) and read it back."""

    def make(**overrides: Any) -> Job:
        n = next(_pm_numbers)
        values: dict[str, Any] = {
            "pm_number": str(n),
            "notification_number": str(119_000_000 + n % 1_000_000),
            "wo_number": f"WO-{n}",
            "address": f"{n % 9000 + 100} Main St",
            "city": "Stockton",
            "division": "ST",
            "mat_code": "07D",
            "latitude": 37.9577,
            "longitude": -121.2908,
            "priority": "C",
            "due_date": dt.date.today() + dt.timedelta(days=30),
            "status": "new",
        }
        values.update(overrides)
        with db.begin() as conn:
            repo.insert_jobs(conn, [values])
            if values.get("pm_number"):
                job_id = repo.find_job_ids_by_pm(conn, [values["pm_number"]])[values["pm_number"]]
            else:
                number = values["notification_number"]
                job_id = repo.find_job_ids_by_notification(conn, [number])[number]
            return repo.get_job(conn, job_id)

    return make


from tests.keyrings import memory_keyring  # noqa: E402, F401  (fixture shared by the licensing tests)

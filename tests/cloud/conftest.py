"""Fixtures for the account service: migrated databases (SQLite, PostgreSQL), an injectable clock
and the real service on a free 127.0.0.1 port (uvicorn in a thread), plus org/admin/seat helpers."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI

from nexa_cloud.app import build_service, create_app
from nexa_cloud.config import DATA_DIR_ENV, DATABASE_URL_ENV, FAST_ARGON2, KEY_PASSPHRASE_ENV, Settings
from nexa_cloud.db import open_database
from nexa_cloud.service import CloudService
from nexa_desktop.domain.licensing import public_key_from_pem
from tests import pg

START = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
ADMIN_PASSWORD = "correct horse battery staple"


class MutableClock:
    """A clock the test moves by hand (thread-safe enough: one datetime assignment)."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current = self.current + dt.timedelta(**delta)
        return self.current


@pytest.fixture(autouse=True)
def cloud_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own service data dir; no service settings leak in from the environment."""
    path = tmp_path / "cloud-data"
    path.mkdir()
    monkeypatch.setenv(DATA_DIR_ENV, str(path))
    for name in (DATABASE_URL_ENV, KEY_PASSPHRASE_ENV):
        monkeypatch.delenv(name, raising=False)
    return path


# -- databases --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cloud_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once per session; tests copy it."""
    path = tmp_path_factory.mktemp("cloud-template") / "template.db"
    open_database(f"sqlite:///{path.as_posix()}").dispose()
    return path


@pytest.fixture(scope="session")
def cloud_pg_template(pg_server: pg.PgServer) -> Iterator[str]:
    """A PostgreSQL database with the service's schema, copied for each test."""
    name = pg_server.new_database_name("cloud_template")
    pg_server.create_database(name)
    open_database(pg_server.url(name)).dispose()
    try:
        yield name
    finally:
        pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def cloud_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database on each dialect (PostgreSQL skipped where unavailable)."""
    if request.param == "sqlite":
        target = tmp_path / "cloud.db"
        shutil.copyfile(request.getfixturevalue("cloud_sqlite_template"), target)
        yield f"sqlite:///{target.as_posix()}"
        return
    server: pg.PgServer = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("cloud_pg_template")
    name = server.new_database_name("cloud")
    server.create_database(name, template=template)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


# -- the live service -------------------------------------------------------------------------


@dataclass
class Org:
    """An organisation made for a test, with one seat pool and one logged-in admin."""

    id: str
    code: str
    pool_id: str
    admin_email: str
    admin_token: str

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


@dataclass
class Live:
    """The running service: its URL, the service object behind it, its clock and settings."""

    base_url: str
    service: CloudService
    clock: MutableClock
    settings: Settings
    app: FastAPI
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=self.base_url, headers=headers, timeout=30)
        self.clients.append(client)
        return client

    @property
    def http(self) -> httpx.Client:
        if not self.clients:
            self.client()
        return self.clients[0]

    def new_org(
        self,
        *,
        seats: int = 5,
        days: int = 30,
        floating: bool = True,
        entitlements: str = "board,verification,completion",
        name: str | None = None,
    ) -> Org:
        """Org + pool + admin through the same service calls the CLI uses; the admin logs in over HTTP."""
        org_id, code = self.service.create_org(name or f"Org {uuid.uuid4().hex[:8]}")
        pool_id = self.service.issue_seats(
            org_id, seats=seats, days=days, entitlements=entitlements, floating=floating
        )
        email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
        self.service.create_admin(org_id, email, ADMIN_PASSWORD)
        response = self.http.post("/v1/auth/login", json={"email": email, "password": ADMIN_PASSWORD})
        assert response.status_code == 200, response.text
        return Org(org_id, code, pool_id, email, response.json()["token"])

    def activate(self, org: Org, fingerprint: str | None = None, **extra: str) -> httpx.Response:
        body = {
            "org_code": org.code,
            "fingerprint": fingerprint or f"fp-{uuid.uuid4().hex}",
            "hostname": "OFFICE-PC",
            "os_user": "gina",
            "app_version": "0.1.0",
            **extra,
        }
        return self.http.post("/v1/activate", json=body)

    def activated(self, org: Org, fingerprint: str | None = None) -> dict[str, Any]:
        response = self.activate(org, fingerprint)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        keys = self.http.get("/v1/keys").json()["keys"]
        return {k["kid"]: public_key_from_pem(k["public_key_pem"]) for k in keys}


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@dataclass
class _Running:
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket


def _serve(app: Any) -> tuple[_Running, str]:
    sock = _free_socket()
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="nexa-cloud-test"
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test service did not start")
        time.sleep(0.01)
    host, port = sock.getsockname()[:2]
    return _Running(server, thread, sock), f"http://{host}:{port}"


MakeLive = Callable[..., Live]


@pytest.fixture
def make_live(cloud_db_url: str, cloud_data_dir: Path) -> Iterator[MakeLive]:
    """``make_live(**settings)``: start the real service on loopback over this test's database.

    Defaults: fast argon2, generous rate limits, a :class:`MutableClock` at ``START``.
    """
    running: list[tuple[_Running, Live]] = []

    def make(**overrides: Any) -> Live:
        clock = overrides.pop("clock", None) or MutableClock()
        settings = Settings(
            database_url=cloud_db_url,
            data_dir=cloud_data_dir,
            argon2=FAST_ARGON2,
            rate_per_second=10_000,
            rate_burst=10_000,
            failure_rate_per_second=10_000,
            failure_burst=10_000,
            clock=clock,
        )
        settings = replace(settings, **overrides)
        service = build_service(settings)
        app = create_app(settings, service=service)
        run, url = _serve(app)
        live = Live(url, service, clock, settings, app)
        running.append((run, live))
        return live

    yield make
    for run, live in running:
        for client in live.clients:
            client.close()
        run.server.should_exit = True
        run.thread.join(timeout=15)
        run.sock.close()
        live.service.db.dispose()


@pytest.fixture
def live(make_live: MakeLive) -> Live:
    """The service with default test settings on SQLite and on PostgreSQL."""
    return make_live()

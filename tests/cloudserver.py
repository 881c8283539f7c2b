"""The real account service (``nexa_cloud``) on a loopback port for desktop-side tests, with one
org (5 seats, an admin) and one activated machine, behind a recorder that can inject faults."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select


class Recorder:
    """ASGI middleware in front of the service: keeps every request and answer, and can answer
    instead of the service: ``faults`` (status, headers) for the next usage uploads, ``canned``
    (status, body) for a path (to replay an old answer)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.faults: list[tuple[int, dict[str, str]]] = []
        self.canned: dict[str, tuple[int, bytes]] = {}
        self.requests: list[tuple[str, str, bytes, int, bytes]] = []  # method, path, body, status, answer
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        status_box = [0]
        answer: list[bytes] = []
        path = scope["path"]
        with self._lock:
            fault = self.faults.pop(0) if self.faults and path == "/v1/usage" else None
            canned = self.canned.get(path)
        if fault is not None or canned is not None:
            status, headers = fault if fault is not None else (canned[0], {})  # type: ignore[index]
            payload = canned[1] if canned is not None else b'{"error":{"code":"FAULT","message":"injected"}}'
            status_box[0] = status
            answer.append(payload)
            start = {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")]
                + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            }
            await send(start)
            await send({"type": "http.response.body", "body": payload})
        else:
            sent = False

            async def replay() -> dict[str, Any]:
                nonlocal sent
                if sent:
                    message: dict[str, Any] = await receive()
                    return message
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def spy(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    status_box[0] = message["status"]
                elif message["type"] == "http.response.body":
                    answer.append(message.get("body", b""))
                await send(message)

            await self.app(scope, replay, spy)
        with self._lock:
            self.requests.append((scope["method"], path, body, status_box[0], b"".join(answer)))

    def usage_bodies(self) -> list[bytes]:
        """Bodies of the usage uploads the service accepted (HTTP 200)."""
        with self._lock:
            return [r[2] for r in self.requests if r[1] == "/v1/usage" and r[3] == 200]

    def usage_statuses(self) -> list[int]:
        with self._lock:
            return [r[3] for r in self.requests if r[1] == "/v1/usage"]

    def answers(self, path: str) -> list[tuple[int, bytes]]:
        with self._lock:
            return [(r[3], r[4]) for r in self.requests if r[1] == path]


def reserve_port() -> tuple[socket.socket, str]:
    """A loopback socket that is bound but not listening (connections are refused until a server
    is started on it) and its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass
class Cloud:
    """The real account service on loopback, with one org (5 seats, an admin) and one machine
    activated for the outbox tests."""

    url: str
    service: Any  # nexa_cloud.service.CloudService
    recorder: Recorder
    org_id: str
    org_code: str
    pool_id: str
    admin_email: str
    admin_password: str
    machine_token: str
    close: Callable[[], None]

    def public_keys(self) -> dict[str, Any]:
        from nexa_desktop.domain.licensing import public_key_from_pem

        keys = httpx.get(f"{self.url}/v1/keys", timeout=10).json()["keys"]
        return {k["kid"]: public_key_from_pem(k["public_key_pem"]) for k in keys}

    def stored_event_ids(self) -> set[str]:
        """Event ids the service stored for the org (read from its database)."""
        from nexa_cloud.models import usage_events

        with self.service.db.read() as conn:
            rows = conn.execute(select(usage_events.c.event_id).where(usage_events.c.org_id == self.org_id))
            return {str(r.event_id) for r in rows}

    def stored_event_count(self) -> int:
        """Rows the service stored for the org (duplicates would show here)."""
        from nexa_cloud.models import usage_events

        with self.service.db.read() as conn:
            query = select(func.count()).select_from(usage_events).where(usage_events.c.org_id == self.org_id)
            return int(conn.execute(query).scalar_one())


class _Served:
    """uvicorn in a thread on a loopback socket."""

    def __init__(self, app: Any, sock: socket.socket | None) -> None:
        import uvicorn

        if sock is None:
            sock, _ = reserve_port()
        self.sock = sock
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the account service did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.server.should_exit:
            return
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def launch_cloud(directory: Path, sock: socket.socket | None = None) -> Cloud:
    """Start ``nexa_cloud.app.create_app`` (SQLite in ``directory``) behind a :class:`Recorder`."""
    from nexa_cloud.app import build_service, create_app
    from nexa_cloud.config import FAST_ARGON2, Settings

    settings = Settings(data_dir=directory, argon2=FAST_ARGON2, rate_per_second=1e6, rate_burst=1e6)
    service = build_service(settings)
    org_id, org_code = service.create_org("Sierra Line Builders", actor="test")
    pool_id = service.issue_seats(
        org_id, seats=5, days=30, entitlements="board,verification", floating=False, actor="test"
    )
    email, password = "office@sierra.example", "correct horse battery"
    service.create_admin(org_id, email, password, actor="test")
    recorder = Recorder(create_app(settings, service=service))
    served = _Served(recorder, sock)

    def close() -> None:
        served.stop()
        service.db.dispose()

    try:
        answer = httpx.post(
            f"{served.url}/v1/activate",
            json={
                "org_code": org_code,
                "fingerprint": "outbox-test-machine-0001",
                "hostname": "sync-test",
                "os_user": "tester",
                "app_version": "test",
            },
            timeout=10,
        )
        answer.raise_for_status()
    except Exception:
        close()
        raise
    return Cloud(
        served.url, service, recorder, org_id, org_code, pool_id, email, password,
        answer.json()["machine_token"], close,
    )  # fmt: skip


@contextlib.contextmanager
def start_cloud(directory: Path, sock: socket.socket | None = None) -> Iterator[Cloud]:
    cloud = launch_cloud(directory, sock)
    try:
        yield cloud
    finally:
        cloud.close()

"""OutboxSender against the real account service on loopback: delivery, nothing lost while the
service is down, retries only for what is retryable, exactly-once across a ``kill -9`` between the
POST and the mark, and a scan of every request body for identifiers, addresses and file names."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from nexa_desktop.domain.licensing import UsageKind
from nexa_desktop.domain.lifecycle import MoveData
from nexa_desktop.services.board import BoardService
from nexa_desktop.services.licensing import SyncCredentials
from nexa_desktop.services.sync import OutboxSender, parse_retry_after, safe_code, to_usage_event
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database
from nexa_desktop.store.models import outbox
from tests.cloudserver import Cloud, launch_cloud, reserve_port, start_cloud
from tests.conftest import MakeJob, PeopleAndCrews

# -- the service on loopback ------------------------------------------------------------------


FAST: dict[str, Any] = {"wait_initial": 0.01, "wait_max": 0.05, "wait_jitter": 0.01, "timeout": 5.0}
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EVENT_FIELDS = {"id", "kind", "occurred_at", "count", "duration_ms", "code"}


# -- mapping (pure) ---------------------------------------------------------------------------


def test_board_change_maps_to_board_move_or_assign_without_its_payload() -> None:
    event_id = str(uuid.uuid4())
    now = repo.utcnow()
    payload = {
        "action": "Move to Pre-field",
        "from_column": "new",
        "to_column": "prefielding",
        "pm": "35100001",
    }
    moved = to_usage_event(event_id, "board.change", payload, now)
    assert moved is not None
    assert (str(moved.id), moved.kind, moved.count, moved.code) == (event_id, UsageKind.BOARD_MOVE, 1, None)
    assigned = to_usage_event(event_id, "board.change", {"action": "Assign GF"}, now)
    assert assigned is not None and assigned.kind is UsageKind.BOARD_ASSIGN


def test_only_allow_listed_kinds_and_fields_are_mapped() -> None:
    event_id, now = str(uuid.uuid4()), repo.utcnow()
    assert to_usage_event(event_id, "job.details", {"count": 1}, now) is None
    assert to_usage_event(event_id, "jobs.imported", {"count": -1}, now) is None
    assert to_usage_event(event_id, "jobs.imported", {"count": "12"}, now) is None
    assert to_usage_event("not-a-uuid", "jobs.imported", {"count": 1}, now) is None
    event = to_usage_event(
        event_id,
        "finding.raised",
        {"count": 2, "code": "MISSING_SIGNATURE", "address": "12 Main St", "file": "35100001.pdf"},
        now,
    )
    assert event is not None
    assert set(event.model_dump(exclude_none=True)) <= EVENT_FIELDS
    assert (event.count, event.code) == (2, "MISSING_SIGNATURE")
    for sneaky in ("PM_35100001", "35100001", "12 Main St", "a.pdf", "missing"):
        assert safe_code(sneaky) is None
        mapped = to_usage_event(event_id, "finding.raised", {"code": sneaky}, now)
        assert mapped is not None and mapped.code is None
    timed = to_usage_event(event_id, "cycle_time", {"duration_ms": 86_400_000, "count": 1}, now)
    assert timed is not None and timed.duration_ms == 86_400_000


def test_retry_after_header_parsing() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    when = repo.utcnow()
    header = (when.replace(microsecond=0)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 0.0 <= (parse_retry_after(header, when) or 0.0) <= 1.0


# -- helpers ----------------------------------------------------------------------------------


def seed(
    db: Database, n: int, kind: str = "jobs.imported", payload: dict[str, Any] | None = None
) -> list[str]:
    with db.begin() as conn:
        return [repo.add_usage_event(conn, kind, payload or {"count": 1}) for _ in range(n)]


@dataclass
class Rows:
    unsent: int
    sent: int
    attempts: list[int] = field(default_factory=list)


def rows(db: Database) -> Rows:
    with db.connect() as conn:
        data = conn.execute(select(outbox.c.sent_at, outbox.c.attempts).order_by(outbox.c.id)).all()
    return Rows(
        sum(1 for r in data if r.sent_at is None),
        sum(1 for r in data if r.sent_at is not None),
        [r.attempts for r in data],
    )


def sender_for(db: Database, cloud: Cloud, **kwargs: Any) -> OutboxSender:
    options = {**FAST, **kwargs}
    return OutboxSender(db, SyncCredentials(cloud.url, cloud.machine_token), **options)


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    with start_cloud(tmp_path / "cloud") as running:
        yield running


# -- delivery ---------------------------------------------------------------------------------


def test_flush_delivers_every_row_once_and_marks_it(db: Database, cloud: Cloud) -> None:
    ids = seed(db, 1234)
    sender = sender_for(db, cloud)
    report = asyncio.run(sender.flush())
    assert report.ok, report.error
    assert (report.accepted, report.duplicates, report.batches) == (1234, 0, 3)
    assert rows(db) == Rows(0, 1234, [1] * 1234)
    assert cloud.stored_event_ids() == set(ids)
    batches = [json.loads(body) for body in cloud.recorder.usage_bodies()]
    # Two batches may be on the wire at once, so answers can come back in either order; within
    # and across batches the events are in id order, and the outbox row's event_id is the id.
    batches.sort(key=lambda b: ids.index(b["events"][0]["id"]))
    assert [len(b["events"]) for b in batches] == [500, 500, 234]
    assert [e["id"] for b in batches for e in b["events"]] == ids
    # Nothing left: a second flush sends nothing.
    again = asyncio.run(sender.flush())
    assert again.ok and again.batches == 0 and len(cloud.recorder.usage_bodies()) == 3


def test_service_down_loses_nothing_and_delivers_later(sqlite_db: Database, tmp_path: Path) -> None:
    ids = seed(sqlite_db, 40)
    sock, url = reserve_port()  # bound, not listening: connection refused
    sender = OutboxSender(sqlite_db, lambda: SyncCredentials(url, cloud_token[0]), attempts=3, **FAST)
    cloud_token = ["not-yet"]
    report = asyncio.run(sender.flush())
    assert not report.ok and "can't reach the account service" in (report.error or "")
    assert report.failed == 40 and report.sent == 0
    assert rows(sqlite_db) == Rows(40, 0, [1] * 40)
    report = asyncio.run(sender.flush())
    assert rows(sqlite_db).attempts == [2] * 40

    with start_cloud(tmp_path / "cloud", sock=sock) as running:
        cloud_token[0] = running.machine_token
        report = asyncio.run(sender.flush())
        assert report.ok, report.error
        assert report.accepted == 40
        assert rows(sqlite_db) == Rows(0, 40, [3] * 40)
        assert running.stored_event_ids() == set(ids)


def test_retries_5xx_and_429_with_retry_after(sqlite_db: Database, cloud: Cloud) -> None:
    seed(sqlite_db, 10)
    cloud.recorder.faults.extend([(503, {}), (429, {"Retry-After": "1"}), (502, {})])
    sender = sender_for(sqlite_db, cloud)
    started = time.perf_counter()
    report = asyncio.run(sender.flush())
    assert report.ok, report.error
    assert report.accepted == 10
    assert time.perf_counter() - started >= 1.0  # Retry-After honoured
    assert cloud.recorder.usage_statuses() == [503, 429, 502, 200]
    assert rows(sqlite_db) == Rows(0, 10, [1] * 10)


def test_4xx_is_not_retried_and_rows_wait(sqlite_db: Database, cloud: Cloud) -> None:
    seed(sqlite_db, 5)
    sender = OutboxSender(sqlite_db, SyncCredentials(cloud.url, "forged-token"), **FAST)
    report = asyncio.run(sender.flush())
    assert not report.ok and "401" in (report.error or "")
    assert cloud.recorder.usage_statuses() == [401]
    assert rows(sqlite_db) == Rows(5, 0, [1] * 5)
    # A long Retry-After is not slept through: the flush stops and says when to come back.
    cloud.recorder.faults.append((429, {"Retry-After": "3600"}))
    report = asyncio.run(sender_for(sqlite_db, cloud).flush())
    assert not report.ok and report.retry_after == 3600.0
    assert cloud.recorder.usage_statuses() == [401, 429]
    assert asyncio.run(sender_for(sqlite_db, cloud).flush()).accepted == 5


def test_rejected_and_unsendable_rows_are_not_kept_forever(sqlite_db: Database, cloud: Cloud) -> None:
    good = seed(sqlite_db, 3)
    seed(sqlite_db, 2, kind="job.details", payload={"pm_number": "35100001"})
    report = asyncio.run(sender_for(sqlite_db, cloud).flush())
    assert report.ok and (report.accepted, report.dropped) == (3, 2)
    assert rows(sqlite_db) == Rows(0, 3, [1] * 3)
    assert cloud.stored_event_ids() == set(good)


def test_not_activated_sends_nothing(sqlite_db: Database, cloud: Cloud) -> None:
    seed(sqlite_db, 3)
    report = asyncio.run(OutboxSender(sqlite_db, lambda: None).flush())
    assert not report.ok and "not activated" in (report.error or "")
    assert rows(sqlite_db) == Rows(3, 0, [0, 0, 0]) and cloud.recorder.usage_bodies() == []


def test_run_forever_sends_wakes_and_stops(sqlite_db: Database, tmp_path: Path) -> None:
    sock, url = reserve_port()
    token = ["none"]
    sender = OutboxSender(
        sqlite_db, lambda: SyncCredentials(url, token[0]), interval=0.05, max_interval=0.2, attempts=2, **FAST
    )
    seed(sqlite_db, 7)

    async def scenario(running: list[Cloud]) -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run_forever(stop))
        await asyncio.sleep(0.5)  # service down: the loop keeps going, nothing raises
        assert not task.done() and sender.last_report is not None and not sender.last_report.ok
        await asyncio.to_thread(lambda: running.append(launch_cloud(tmp_path / "cloud", sock=sock)))
        token[0] = running[0].machine_token
        await _until(lambda: rows(sqlite_db).unsent == 0)
        seed(sqlite_db, 4)
        sender.wake()
        await _until(lambda: rows(sqlite_db).unsent == 0)
        stop.set()
        await asyncio.wait_for(task, 5)

    running: list[Cloud] = []
    try:
        asyncio.run(scenario(running))
        assert rows(sqlite_db).sent == 11
        assert len(running[0].stored_event_ids()) == 11
    finally:
        if running:
            running[0].close()


async def _until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the sender")
        await asyncio.sleep(0.05)


# -- exactly once across kill -9 --------------------------------------------------------------

WORKER = r"""
import asyncio, os, sys, time
from nexa_desktop.services.licensing import SyncCredentials
from nexa_desktop.services.sync import OutboxSender
from nexa_desktop.store.db import open_database

def after_post(results):
    if os.environ.get("CRASH_AFTER_POST") == "1":
        print("POSTED", len(results), flush=True)
        time.sleep(300)  # killed here: the service has the batch, the rows are not marked

db = open_database()
creds = SyncCredentials(os.environ["SYNC_URL"], os.environ["SYNC_TOKEN"])
report = asyncio.run(OutboxSender(db, creds, after_post=after_post).flush())
print("DONE", report.accepted, report.duplicates, report.error, flush=True)
"""


def _worker(cloud: Cloud, data_dir: Path, crash: bool) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "NEXA_DATA_DIR": str(data_dir),
        "SYNC_URL": cloud.url,
        "SYNC_TOKEN": cloud.machine_token,
        "CRASH_AFTER_POST": "1" if crash else "0",
    }
    env.pop("NEXA_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-c", WORKER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _read_line(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline() if proc.stdout else ""))
    reader.start()
    reader.join(timeout)
    if not box:
        proc.kill()
        raise AssertionError("the worker said nothing")
    return box[0]


def test_kill_9_between_send_and_mark_delivers_exactly_once(
    sqlite_db: Database, cloud: Cloud, data_dir: Path
) -> None:
    ids = seed(sqlite_db, 1200)
    worker = _worker(cloud, data_dir, crash=True)
    line = _read_line(worker)
    assert line.startswith("POSTED 500"), line + (worker.stderr.read() if worker.stderr else "")
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(10) == -signal.SIGKILL
    # The service has the first batch (and perhaps the second, which was on the wire too);
    # the outbox does not know: every row is still unsent.
    assert len(cloud.stored_event_ids()) >= 500
    assert rows(sqlite_db).unsent == 1200

    restarted = _worker(cloud, data_dir, crash=False)
    line = _read_line(restarted)
    assert restarted.wait(30) == 0, restarted.stderr.read() if restarted.stderr else ""
    word, accepted, duplicates = line.split()[:3]
    assert word == "DONE", line
    assert int(accepted) + int(duplicates) == 1200 and int(duplicates) >= 500, line  # re-sent, deduplicated
    assert rows(sqlite_db).unsent == 0
    stored = cloud.stored_event_ids()
    assert stored == set(ids) and cloud.stored_event_count() == len(ids)  # exactly once


# -- nothing identifying leaves ---------------------------------------------------------------


def test_usage_payloads_carry_no_identifiers_addresses_or_file_names(
    db: Database,
    board_service: BoardService,
    make_job: MakeJob,
    people_and_crews: PeopleAndCrews,
    cloud: Cloud,
) -> None:
    jobs = [make_job() for _ in range(3)]
    for job in jobs:
        board_service.move_to_column(job.id, 1, "prefielding", MoveData(gf_id=people_and_crews.gf))
    secrets: list[str] = []
    for job in jobs:
        assert job.pm_number and job.notification_number
        secrets += [job.pm_number, job.notification_number, job.address, f"PM {job.pm_number} EC tag.pdf"]
    job = jobs[0]
    leaky = {
        "pm_number": job.pm_number,
        "notification_number": job.notification_number,
        "address": f"{job.address}, {job.city}",
        "file_name": f"PM {job.pm_number} EC tag.pdf",
        "path": f"/home/gina/Jobs/{job.pm_number}/package.pdf",
        "lan_id": "GFL1",
    }
    with db.begin() as conn:
        repo.add_usage_event(conn, "board.change", {"action": "Move", "from_column": "new", **leaky})
        repo.add_usage_event(conn, "finding.raised", {"count": 2, "code": "MISSING_SIGNATURE", **leaky})
        repo.add_usage_event(conn, "finding.raised", {"code": f"PM_{job.pm_number}", **leaky})
        repo.add_usage_event(conn, "package.verified", {"count": 1, **leaky})
        repo.add_usage_event(conn, "package.pages", {"count": 14, "names": ["face sheet.pdf"], **leaky})
        repo.add_usage_event(conn, "jobs.imported", {"count": 3, "file": "Jobs 35100001.xlsx"})
        repo.add_usage_event(conn, "cycle_time", {"duration_ms": 3_600_000, **leaky})
        repo.add_usage_event(conn, "job.snapshot", {"job": {**leaky, "city": job.city}})  # not allow-listed

    report = asyncio.run(sender_for(db, cloud).flush())
    assert report.ok, report.error
    assert report.accepted == 3 + 7 and report.dropped == 1

    bodies = cloud.recorder.usage_bodies()
    assert bodies
    for raw in bodies:
        text = raw.decode("utf-8")
        batch = json.loads(text)
        assert set(batch) == {"events"}
        for event in batch["events"]:
            assert set(event) <= EVENT_FIELDS, event
            assert event["kind"] in {k.value for k in UsageKind}
        scrubbed = UUID_RE.sub("<id>", text)
        assert not re.search(r"[0-9]{8,}", scrubbed), scrubbed  # PM (8) / notification (9) digit runs
        for secret in [*secrets, "Main St", job.city, ".pdf", ".xlsx", "/home", "gina", "GFL1", "PM_"]:
            assert secret not in text, secret
    codes = {e.get("code") for raw in bodies for e in json.loads(raw)["events"]}
    assert codes == {None, "MISSING_SIGNATURE"}

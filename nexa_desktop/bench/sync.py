"""``nexa bench sync``: flush N outbox rows to the real account service on loopback.

The service runs as a separate ``nexa-cloud serve`` process (SQLite in a temp dir, as in
production it is its own process); the desktop side is the real :class:`OutboxSender` over a
temp data dir. Reported: flush seconds, events/s, and duplicates delivered (rows the service
stored minus unique events: must be 0). Baselines from the same run: the raw insert of the N
outbox rows (one executemany), one-event ``POST /v1/usage`` and ``GET /healthz`` round trips, and
the service alone taking ready-made batches (so flush time minus that floor is this side's cost).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

#: The target from the issue: 100,000 events flushed in under 10 s.
TARGET_FLUSH_S = 10.0
_BASELINE_POSTS = 20
_BASELINE_BATCHES = 10

_KINDS: list[tuple[str, dict[str, Any]]] = [
    ("board.change", {"action": "Move to Scheduled", "from_column": "ready", "to_column": "scheduled"}),
    ("board.change", {"action": "Assign GF", "from_column": "new", "to_column": "prefielding"}),
    ("jobs.imported", {"count": 25}),
    ("finding.raised", {"count": 1, "code": "MISSING_SIGNATURE"}),
    ("package.pages", {"count": 14}),
    ("cycle_time", {"duration_ms": 86_400_000}),
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ms_p50(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3) if samples else float("nan")


def run_sync_bench(events: int = 100_000, batch_size: int = 500) -> dict[str, Any]:
    """Seed ``events`` outbox rows in a temp data dir, flush them to a local ``nexa-cloud serve``
    and return the figures (JSON-ready)."""
    if events < 1:
        raise ValueError("events must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="nexa-sync-bench-"))
    saved = {k: os.environ.get(k) for k in ("NEXA_DATA_DIR", "NEXA_DATABASE_URL")}
    os.environ["NEXA_DATA_DIR"] = str(work / "desktop")
    os.environ.pop("NEXA_DATABASE_URL", None)
    try:
        return _run(work, events, batch_size)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)


def _seed(db: Any, events: int) -> tuple[float, set[str]]:
    """Insert ``events`` outbox rows in one transaction; returns (seconds, event ids)."""
    from sqlalchemy import insert

    from nexa_desktop.store.models import outbox

    now = dt.datetime.now(dt.UTC)
    ids = [str(uuid.uuid4()) for _ in range(events)]
    rows: list[dict[str, Any]] = []
    for i, event_id in enumerate(ids):
        kind, payload = _KINDS[i % len(_KINDS)]
        rows.append({
            "event_id": event_id, "kind": kind, "payload": payload,
            "created_at": now, "sent_at": None, "attempts": 0,
        })  # fmt: skip
    started = time.perf_counter()
    with db.begin() as conn:
        conn.execute(insert(outbox), rows)
    return time.perf_counter() - started, set(ids)


def _start_service(work: Path) -> tuple[subprocess.Popen[bytes], str, str, str, str]:
    """Provision an org with seats, start ``nexa-cloud serve``.

    Returns (process, url, org id, org code, the service's database URL)."""
    from nexa_cloud.app import build_service
    from nexa_cloud.config import FAST_ARGON2, Settings

    settings = Settings(data_dir=work / "cloud", argon2=FAST_ARGON2)
    svc = build_service(settings)
    try:
        org_id, code = svc.create_org("Bench Line Builders", actor="bench")
        svc.issue_seats(org_id, seats=5, days=30, entitlements="board", floating=False, actor="bench")
        db_url = settings.resolved_database_url()
    finally:
        svc.db.dispose()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "nexa_cloud.cli", "serve", "--db", db_url, "--data-dir", str(work / "cloud"),
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
        "--rate-per-second", "1000000", "--rate-burst", "1000000",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"nexa-cloud serve exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url, org_id, code, db_url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("nexa-cloud serve did not become healthy in 60 s")
        time.sleep(0.1)


def _server_counts(db_url: str, org_id: str) -> tuple[int, set[str]]:
    from sqlalchemy import create_engine, select

    from nexa_cloud.models import usage_events

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            ids = [
                r[0]
                for r in conn.execute(select(usage_events.c.event_id).where(usage_events.c.org_id == org_id))
            ]
    finally:
        engine.dispose()
    return len(ids), set(ids)


def _run(work: Path, events: int, batch_size: int) -> dict[str, Any]:
    from nexa_desktop.services.licensing import SyncCredentials
    from nexa_desktop.services.sync import OutboxSender
    from nexa_desktop.store.db import open_database

    db = open_database()
    seed_s, outbox_ids = _seed(db, events)
    proc, url, org_id, code, cloud_db = _start_service(work)
    try:
        activation = httpx.post(
            f"{url}/v1/activate",
            json={"org_code": code, "fingerprint": "sync-bench-machine-0001", "hostname": "bench",
                  "os_user": "bench", "app_version": "bench"},
            timeout=30,
        )  # fmt: skip
        activation.raise_for_status()
        token = activation.json()["machine_token"]

        # Baselines: one-event uploads and health checks over a kept-alive connection.
        post_s: list[float] = []
        health_s: list[float] = []
        baseline_ids: set[str] = set()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            for _ in range(_BASELINE_POSTS):
                event_id = str(uuid.uuid4())
                baseline_ids.add(event_id)
                body = {"events": [{"id": event_id, "kind": "app.started",
                                    "occurred_at": dt.datetime.now(dt.UTC).isoformat()}]}  # fmt: skip
                started = time.perf_counter()
                client.post("/v1/usage", json=body).raise_for_status()
                post_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                client.get("/healthz").raise_for_status()
                health_s.append(time.perf_counter() - started)

        sender = OutboxSender(db, SyncCredentials(url, token), batch_size=batch_size, timeout=60.0)
        started = time.perf_counter()
        report = asyncio.run(sender.flush())
        flush_s = time.perf_counter() - started
        unsent = sender.pending()

        # Baseline: the service alone, fed ready-made batches of the same size one after another
        # (measured after the flush, so on a table as full as the flush's last batches saw).
        batch_s: list[float] = []
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            for _ in range(_BASELINE_BATCHES):
                now = dt.datetime.now(dt.UTC).isoformat()
                ids = [str(uuid.uuid4()) for _ in range(batch_size)]
                baseline_ids.update(ids)
                payload = json.dumps(
                    {"events": [{"id": i, "kind": "board.move", "occurred_at": now} for i in ids]}
                ).encode()
                started = time.perf_counter()
                client.post(
                    "/v1/usage", content=payload, headers={"Content-Type": "application/json"}
                ).raise_for_status()
                batch_s.append(time.perf_counter() - started)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        db.dispose()

    stored, stored_ids = _server_counts(cloud_db, org_id)
    unique = len(outbox_ids | baseline_ids)
    return {
        "benchmark": "outbox_sync",
        "events": events,
        "batch_size": batch_size,
        "batches": report.batches,
        "flush_s": round(flush_s, 3),
        "events_per_s": round(report.sent / flush_s, 1) if flush_s > 0 else None,
        "accepted": report.accepted,
        "duplicates_answered": report.duplicates,
        "unsent_after_flush": unsent,
        "server_events": stored,
        "duplicates_delivered": stored - unique,
        "missing_on_server": len(outbox_ids - stored_ids),
        "error": report.error,
        "baseline": {
            "raw_insert_s": round(seed_s, 3),
            "raw_insert_rows_per_s": round(events / seed_s, 1) if seed_s > 0 else None,
            "single_event_post_ms_p50": _ms_p50(post_s),
            "healthz_round_trip_ms_p50": _ms_p50(health_s),
            f"service_only_post_{batch_size}_events_ms_p50": _ms_p50(batch_s),
            "service_only_floor_s_estimate": round(statistics.median(batch_s) * report.batches, 3)
            if batch_s
            else None,
        },
        "target": {"flush_s": TARGET_FLUSH_S, "met": flush_s < TARGET_FLUSH_S and stored - unique == 0},
        "service": "nexa-cloud serve (separate process, SQLite) on 127.0.0.1",
        "cpu_count": os.cpu_count(),
    }

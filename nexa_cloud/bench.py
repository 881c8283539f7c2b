"""``nexa-cloud bench``: license validations per second over loopback, with a baseline.

The service runs as a separate ``nexa-cloud serve`` process (as in production) on a free
127.0.0.1 port; client threads call ``GET /v1/license`` with keep-alive connections and verify
every returned token offline, as the desktop does. The baseline, measured in the same run, is
``verify_license`` alone in this process.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from nexa_cloud.app import build_service
from nexa_cloud.config import FAST_ARGON2, Settings
from nexa_desktop.domain.licensing import (
    LicenseStatus,
    public_key_from_pem,
    verify_license,
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def _wait_healthy(base_url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"nexa-cloud serve exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("nexa-cloud serve did not become healthy in time")


def baseline(token: str, keys: dict[str, Any], seconds: float = 1.0) -> dict[str, float]:
    """In-process ``verify_license`` throughput and p95."""
    latencies: list[float] = []
    now = dt.datetime.now(dt.UTC)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        verify_license(token, keys, now=now)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    return {
        "verify_license_per_s": round(len(latencies) / sum(latencies), 1),
        "verify_license_p95_us": round(_percentile(latencies, 0.95) * 1e6, 1),
    }


def run_bench(*, db_url: str | None = None, seconds: float = 5.0, concurrency: int = 4) -> dict[str, Any]:
    """Start a server, activate one machine and hammer ``GET /v1/license``; returns the figures."""
    workdir = Path(tempfile.mkdtemp(prefix="nexa-cloud-bench-"))
    try:
        return _run(workdir, db_url, seconds, concurrency)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(workdir: Path, db_url: str | None, seconds: float, concurrency: int) -> dict[str, Any]:
    settings = Settings.from_env(database_url=db_url, data_dir=workdir, argon2=FAST_ARGON2)
    svc = build_service(settings)  # migrates and creates the key before the server starts
    try:
        org_id, code = svc.create_org(f"bench {time.time_ns()}", actor="bench")
        svc.issue_seats(
            org_id,
            seats=1000,
            days=30,
            entitlements="board,verification,completion",
            floating=False,
            actor="bench",
        )
        dialect = svc.db.engine.dialect.name
    finally:
        svc.db.dispose()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NEXA_CLOUD_DATA_DIR": str(workdir)}
    cmd = [
        sys.executable,
        "-m",
        "nexa_cloud.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--rate-per-second",
        "1000000000",
        "--rate-burst",
        "1000000000",
        "--no-access-log",
        "--log-level",
        "warning",
        "--db",
        settings.resolved_database_url(),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(base_url, proc)
        activation = httpx.post(
            f"{base_url}/v1/activate",
            json={
                "org_code": code,
                "fingerprint": "bench-fingerprint-0001",
                "hostname": "bench",
                "os_user": "bench",
                "app_version": "bench",
            },
        ).json()
        keys = {
            k["kid"]: public_key_from_pem(k["public_key_pem"])
            for k in httpx.get(f"{base_url}/v1/keys").json()["keys"]
        }
        headers = {"Authorization": f"Bearer {activation['machine_token']}"}
        latencies: list[list[float]] = [[] for _ in range(concurrency)]
        errors = [0] * concurrency
        stop_at = 0.0
        barrier = threading.Barrier(concurrency + 1)

        def worker(index: int) -> None:
            # http.client on a kept-alive connection: the lightest loopback client in the stdlib,
            # so the measurement is the service, not the client library.
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

            def call() -> tuple[int, bytes]:
                connection.request("GET", "/v1/license", headers=headers)
                response = connection.getresponse()
                return response.status, response.read()

            try:
                for _ in range(20):  # warm up the connection and the server's caches
                    call()
                barrier.wait()
                mine = latencies[index]
                while time.perf_counter() < stop_at:
                    start = time.perf_counter()
                    status, body = call()
                    ok = status == 200 and verify_license(
                        json.loads(body)["license"],
                        keys,
                        now=dt.datetime.now(dt.UTC),
                        fingerprint="bench-fingerprint-0001",
                    ).status in (LicenseStatus.VALID, LicenseStatus.EXPIRING_SOON)
                    mine.append(time.perf_counter() - start)
                    if not ok:
                        errors[index] += 1
            finally:
                connection.close()

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
        for thread in threads:
            thread.start()
        stop_at = time.perf_counter() + 3600  # set properly once everyone is warm
        barrier.wait()
        started = time.perf_counter()
        stop_at = started + seconds
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        flat = sorted(x for per in latencies for x in per)
        result: dict[str, Any] = {
            "benchmark": "license_validation",
            "endpoint": "GET /v1/license (+ offline verify of the returned token)",
            "client": "http.client keep-alive, one connection per thread",
            "database": dialect,
            "concurrency": concurrency,
            "server_processes": 1,
            "seconds": round(elapsed, 3),
            "validations": len(flat),
            "errors": sum(errors),
            "validations_per_s": round(len(flat) / elapsed, 1),
            "latency_ms": {
                "p50": round(_percentile(flat, 0.50) * 1000, 3),
                "p95": round(_percentile(flat, 0.95) * 1000, 3),
                "p99": round(_percentile(flat, 0.99) * 1000, 3),
                "mean": round(statistics.fmean(flat) * 1000, 3) if flat else None,
            },
            "baseline": baseline(activation["license"], keys),
            "targets": {"validations_per_s": 1000, "p95_ms": 20},
            "cpu_count": os.cpu_count(),
        }
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

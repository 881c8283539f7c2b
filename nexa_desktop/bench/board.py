"""``nexa bench board``: load, move and filter timings of the real board widget (offscreen).

Baselines measured in the same run: a raw ``SELECT`` of all job rows and a raw single-row
``UPDATE`` + commit with the sqlite3 module, so the figures can be read as ratios.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def run_board_bench(jobs: int = 10000, moves: int = 200) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="nexa-bench-"))
    old_dir = os.environ.get("NEXA_DATA_DIR")
    old_url = os.environ.pop("NEXA_DATABASE_URL", None)
    os.environ["NEXA_DATA_DIR"] = str(tmp)
    try:
        return _run(jobs, moves)
    finally:
        if old_dir is None:
            os.environ.pop("NEXA_DATA_DIR", None)
        else:
            os.environ["NEXA_DATA_DIR"] = old_dir
        if old_url is not None:
            os.environ["NEXA_DATABASE_URL"] = old_url
        shutil.rmtree(tmp, ignore_errors=True)


def _run(jobs: int, moves: int) -> dict[str, Any]:
    import psutil
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from nexa_desktop import paths
    from nexa_desktop.domain.board import load_board_config
    from nexa_desktop.domain.errors import NexaError
    from nexa_desktop.domain.lifecycle import MoveData, missing_needs
    from nexa_desktop.services.board import BoardService
    from nexa_desktop.services.demo import seed_demo
    from nexa_desktop.store.db import open_database
    from nexa_desktop.ui.app import create_application
    from nexa_desktop.ui.board.page import BoardPage
    from nexa_desktop.ui.ops import OpRunner

    db = open_database()
    t0 = time.perf_counter()
    seed_demo(db, jobs=jobs, seed=11)
    seed_ms = (time.perf_counter() - t0) * 1000

    # Baselines: the raw database cost of what the board does.
    raw = sqlite3.connect(paths.database_file())
    t0 = time.perf_counter()
    raw.execute("SELECT * FROM jobs").fetchall()
    raw_load_ms = (time.perf_counter() - t0) * 1000
    raw_moves = []
    ids = [r[0] for r in raw.execute("SELECT id FROM jobs LIMIT 200")]
    for job_id in ids:
        t0 = time.perf_counter()
        raw.execute("UPDATE jobs SET notes = notes WHERE id = ?", (job_id,))
        raw.commit()
        raw_moves.append((time.perf_counter() - t0) * 1000)
    raw.close()
    from nexa_desktop.store import repositories as repo

    store_moves = []
    for job_id in ids:
        t0 = time.perf_counter()
        with db.begin() as conn:
            current = repo.get_job(conn, job_id)
            repo.update_job(conn, job_id, current.version, {"notes": "bench"})
        store_moves.append((time.perf_counter() - t0) * 1000)

    app = create_application(["nexa-bench"])
    config = load_board_config(paths.board_config_file())
    service = BoardService(db, config, actor="bench")
    runner = OpRunner()
    page = BoardPage(service, runner)
    page.resize(1600, 1000)
    page.show()
    app.processEvents()

    def repaint_all() -> None:
        for view in page.grid.views:
            view.viewport().repaint()

    t0 = time.perf_counter()
    page.show_snapshot(service.load())
    app.processEvents()
    repaint_all()
    load_ms = (time.perf_counter() - t0) * 1000

    # Moves that need no dialog, through the same path as a drop on a column view.
    candidates = []
    for job in page.model.jobs():
        for column in config.columns:
            try:
                plan = config.plan_drop(job, column.id)
            except NexaError:
                continue
            if not missing_needs(job, plan.needs, MoveData()):
                candidates.append((job.id, column.id))
                break
        if len(candidates) >= moves:
            break
    move_ms: list[float] = []
    frame_ms: list[float] = []
    failures = 0
    waiter = QEventLoop()
    timeout = QTimer()
    timeout.setSingleShot(True)
    timeout.timeout.connect(waiter.quit)
    page.changeApplied.connect(waiter.quit)
    for job_id, column_id in candidates:
        found = page.model.job(job_id)
        assert found is not None
        job = found
        source_view = page.grid.view_for(config.column_of(job).id)
        target_view = page.grid.view_for(column_id)
        # A person drops only on a column they can see: bring it into view first (untimed).
        page.grid.ensureWidgetVisible(target_view)
        app.processEvents()
        t0 = time.perf_counter()
        # What a drop on the target column does: the view emits jobDropped.
        target_view.jobDropped.emit(job.id, job.version, column_id)
        timeout.start(10_000)
        waiter.exec()  # returns as soon as the change is applied to the model
        timeout.stop()
        source_view.viewport().repaint()
        target_view.viewport().repaint()
        t1 = time.perf_counter()
        app.processEvents()  # the rest of the frame: headers, detail panel, history
        t2 = time.perf_counter()
        moved = page.model.job(job_id)
        if moved is not None and moved.version > job.version:
            move_ms.append((t1 - t0) * 1000)
            frame_ms.append((t2 - t0) * 1000)
        else:
            failures += 1

    filter_ms = []
    for text in ("35", "oak", "crew 0", "zzzz-no-match", ""):
        t0 = time.perf_counter()
        page.search.setText(text)
        page.apply_filter()
        app.processEvents()
        repaint_all()
        filter_ms.append((time.perf_counter() - t0) * 1000)

    rss_mb = psutil.Process().memory_info().rss / 2**20
    runner.shutdown()
    page.close()
    page.deleteLater()
    app.processEvents()
    db.dispose()
    QApplication.processEvents()
    move_p50 = statistics.median(move_ms) if move_ms else float("nan")
    move_p95 = _percentile(move_ms, 95) if move_ms else float("nan")
    raw_move_p95 = _percentile(raw_moves, 95)
    return {
        "jobs": jobs,
        "moves": len(move_ms),
        "move_failures": failures,
        "seed_ms": round(seed_ms, 1),
        "load_ms": round(load_ms, 1),
        "move_p50_ms": round(move_p50, 2),
        "move_p95_ms": round(move_p95, 2),
        "move_frame_p95_ms": round(_percentile(frame_ms, 95), 2) if frame_ms else None,
        "filter_ms": round(max(filter_ms), 1),
        "filter_each_ms": [round(v, 1) for v in filter_ms],
        "rss_mb": round(rss_mb, 1),
        "baseline": {
            "raw_select_all_ms": round(raw_load_ms, 2),
            "raw_update_commit_p95_ms": round(raw_move_p95, 3),
            "store_read_update_commit_p95_ms": round(_percentile(store_moves, 95), 3),
        },
        "ratios": {
            "load_vs_raw_select": round(load_ms / raw_load_ms, 1) if raw_load_ms else None,
            "move_p95_vs_store_update": round(move_p95 / _percentile(store_moves, 95), 1),
        },
        "targets": {"load_ms": 500, "move_p95_ms": 30, "filter_ms": 50, "rss_mb": 400},
    }

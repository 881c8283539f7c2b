"""Usage ingestion over the live service: exactly-once per (org, event id) under duplicates,
retries and reordering (hypothesis), per-item results, daily aggregates and k-anonymous
cross-org benchmarks — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cloud.conftest import Live, Org

KINDS = ["board.move", "package.verified", "finding.raised", "fill.accepted", "cycle_time"]


def ev(live: Live, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "kind": "board.move",
        "occurred_at": (live.clock() - dt.timedelta(hours=1)).isoformat(),
        "count": 1,
    }
    values.update(overrides)
    return values


def machine_client(live: Live, org: Org) -> Any:
    return live.client(live.activated(org)["machine_token"])


def totals(live: Live, org: Org) -> dict[tuple[str, str, str | None], tuple[int, int]]:
    rows = live.http.get("/v1/admin/analytics?days=30", headers=org.admin_headers).json()["days"]
    return {(r["day"], r["kind"], r["code"]): (r["count"], r["duration_ms_total"]) for r in rows}


def expected(events: list[dict[str, Any]]) -> dict[tuple[str, str, str | None], tuple[int, int]]:
    out: dict[tuple[str, str, str | None], list[int]] = defaultdict(lambda: [0, 0])
    for e in {e["id"]: e for e in events}.values():
        key = (
            dt.datetime.fromisoformat(e["occurred_at"]).astimezone(dt.UTC).date().isoformat(),
            e["kind"],
            e.get("code"),
        )
        out[key][0] += e.get("count", 1)
        out[key][1] += e.get("duration_ms") or 0
    return {k: (v[0], v[1]) for k, v in out.items()}


def test_per_item_results_in_request_order(live: Live) -> None:
    org = live.new_org()
    client = machine_client(live, org)
    first = ev(live, kind="finding.raised", code="MISSING_SIGNATURE", count=3)
    future = ev(live, occurred_at=(live.clock() + dt.timedelta(days=2)).isoformat())
    old = ev(live, occurred_at=(live.clock() - dt.timedelta(days=500)).isoformat())
    no_duration = ev(live, kind="cycle_time")
    reused = dict(first, count=4)  # same id, different content
    body = {"events": [first, future, first, old, no_duration, reused]}
    results = client.post("/v1/usage", json=body).json()["results"]
    assert [r["id"] for r in results] == [e["id"] for e in body["events"]]
    assert [r["status"] for r in results] == [
        "accepted",
        "rejected",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert results[1]["reason"].startswith("OCCURRED_IN_FUTURE")
    assert results[3]["reason"].startswith("TOO_OLD")
    assert results[4]["reason"].startswith("DURATION_REQUIRED")
    assert results[5]["reason"].startswith("ID_REUSED")
    # A retry of the whole batch changes nothing and says so.
    again = client.post("/v1/usage", json=body).json()["results"]
    assert [r["status"] for r in again] == [
        "duplicate",
        "rejected",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
    ]
    day = (live.clock() - dt.timedelta(hours=1)).date().isoformat()
    assert totals(live, org) == {(day, "finding.raised", "MISSING_SIGNATURE"): (3, 0)}


def test_same_event_id_in_two_orgs_is_two_events(live: Live) -> None:
    a, b = live.new_org(), live.new_org()
    event = ev(live, count=5)
    assert machine_client(live, a).post("/v1/usage", json={"events": [event]}).json()["results"][0][
        "status"
    ] == ("accepted")
    assert machine_client(live, b).post("/v1/usage", json={"events": [event]}).json()["results"][0][
        "status"
    ] == ("accepted")
    assert list(totals(live, a).values()) == [(5, 0)] == list(totals(live, b).values())


def test_concurrent_duplicate_batches_store_each_event_once(live: Live) -> None:
    org = live.new_org()
    token = live.activated(org)["machine_token"]
    events = [
        ev(live, kind=KINDS[i % 4], count=i + 1, code="CODE_A" if i % 4 == 2 else None) for i in range(60)
    ]
    statuses: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def send(offset: int) -> None:
        batch = events[offset:] + events[:offset]  # same events, different order
        with live.client(token) as client:
            barrier.wait()
            got = [r["status"] for r in client.post("/v1/usage", json={"events": batch}).json()["results"]]
        with lock:
            statuses.extend(got)

    threads = [threading.Thread(target=send, args=(i * 10,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count("accepted") == 60 and statuses.count("duplicate") == 300
    assert totals(live, org) == expected(events)


event_strategy = st.builds(
    lambda kind, count, hours, duration, code: {
        "kind": kind,
        "count": count,
        "hours": hours,
        "duration_ms": duration if kind == "cycle_time" else None,
        "code": code if kind == "finding.raised" else None,
    },
    st.sampled_from(KINDS),
    st.integers(0, 1000),
    st.integers(0, 24 * 20),
    st.integers(0, 10**9),
    st.sampled_from(["MISSING_SIGNATURE", "WRONG_PAGE_ORDER", "NO_TITLE_BLOCK"]),
)


def test_random_interleavings_of_duplicated_batches_store_the_unique_events(live: Live) -> None:
    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        specs=st.lists(event_strategy, min_size=1, max_size=30),
        plan=st.lists(st.tuples(st.integers(0, 29), st.integers(1, 30)), min_size=1, max_size=8),
        tail=st.randoms(use_true_random=False),
    )
    def run(specs: list[dict[str, Any]], plan: list[tuple[int, int]], tail: Any) -> None:
        org = live.new_org()
        client = machine_client(live, org)
        events = []
        for spec in specs:
            hours = spec.pop("hours")
            events.append(
                {
                    "id": str(uuid.uuid4()),
                    **{k: v for k, v in spec.items() if v is not None},
                    "occurred_at": (live.clock() - dt.timedelta(hours=hours)).isoformat(),
                }
            )
        # Batches are random windows (with repeats), then everything once more in a shuffled order
        # split in random places: whatever arrives how often, each event counts once.
        batches = [events[start % len(events) : start % len(events) + size] for start, size in plan]
        shuffled = events * 2
        tail.shuffle(shuffled)
        cut = tail.randint(1, len(shuffled))
        batches += [shuffled[:cut], shuffled[cut:]]
        accepted = 0
        for batch in (b for b in batches if b):
            results = client.post("/v1/usage", json={"events": batch}).json()["results"]
            assert {r["status"] for r in results} <= {"accepted", "duplicate"}
            accepted += sum(r["status"] == "accepted" for r in results)
        assert accepted == len(events)
        assert totals(live, org) == {k: v for k, v in expected(events).items()}

    run()


def test_benchmarks_suppress_cells_from_fewer_than_eleven_orgs(live: Live) -> None:
    day = live.clock() - dt.timedelta(hours=1)
    orgs = [live.new_org(seats=1) for _ in range(11)]
    for i, org in enumerate(orgs):
        client = machine_client(live, org)
        batch = [ev(live, kind="package.verified", count=i + 1, occurred_at=day.isoformat())]
        if i < 10:  # board.move comes from only ten orgs
            batch.append(ev(live, kind="board.move", count=100, occurred_at=day.isoformat()))
        assert {r["status"] for r in client.post("/v1/usage", json={"events": batch}).json()["results"]} == {
            "accepted"
        }
    result = live.http.get("/v1/analytics/benchmarks?days=7", headers=orgs[0].admin_headers).json()
    assert result["min_orgs"] == 11 and result["suppressed_cells"] == 1
    assert [(c["kind"], c["orgs"], c["count_total"]) for c in result["days"]] == [
        ("package.verified", 11, 66)
    ]
    assert result["days"][0]["count_per_org"] == 6.0

"""Seats over the live service: the 20→5 race, idempotent re-activation, leases and culling,
self-service deactivation, revocation, added seats and expired pools — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

import httpx

from nexa_desktop.domain.licensing import LicenseStatus, verify_license
from tests.cloud.conftest import Live


def _race(live: Live, code: str, n: int) -> list[httpx.Response]:
    """``n`` activations with distinct fingerprints, released at the same instant from n threads."""
    barrier = threading.Barrier(n)
    results: list[httpx.Response | None] = [None] * n

    def one(i: int) -> None:
        with httpx.Client(base_url=live.base_url, timeout=60) as client:
            body = {
                "org_code": code,
                "fingerprint": f"race-machine-{i:04d}",
                "hostname": f"PC-{i}",
                "os_user": "u",
                "app_version": "0.1.0",
            }
            barrier.wait()
            results[i] = client.post("/v1/activate", json=body)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def test_twenty_simultaneous_activations_on_five_seats_give_exactly_five(live: Live) -> None:
    org = live.new_org(seats=5)
    responses = _race(live, org.code, 20)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 5, 409: 15}, statuses
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"NO_SEATS_AVAILABLE"}
    seats = live.http.get("/v1/admin/seats", headers=org.admin_headers).json()
    assert seats["pools"][0]["used"] == 5
    assert len([m for m in seats["machines"] if m["status"] == "active"]) == 5
    # The winners' machine ids are distinct and each license names its own machine.
    winners = [r.json() for r in responses if r.status_code == 201]
    assert len({w["machine_id"] for w in winners}) == 5


def test_reactivating_the_same_fingerprint_reuses_its_seat(live: Live) -> None:
    org = live.new_org(seats=1)
    first = live.activated(org, "same-machine-fp")
    again = live.activated(org, "same-machine-fp")  # e.g. after a reinstall
    assert again["machine_id"] == first["machine_id"]
    assert live.activate(org, "another-machine").status_code == 409
    # The old token was replaced by the new one.
    assert live.client(first["machine_token"]).post("/v1/heartbeat", json={}).status_code == 401
    assert live.client(again["machine_token"]).post("/v1/heartbeat", json={}).status_code == 200


def test_expired_lease_is_culled_and_its_seat_goes_to_another_machine(live: Live) -> None:
    org = live.new_org(seats=1, floating=True)
    first = live.activated(org, "laptop-that-dies")
    assert live.activate(org, "second-machine").status_code == 409
    live.clock.advance(minutes=9)
    beat = live.client(first["machine_token"]).post("/v1/heartbeat", json={})
    assert beat.status_code == 200  # heartbeat within the lease extends it
    live.clock.advance(minutes=9)
    assert live.activate(org, "second-machine").status_code == 409  # still leased (9 < 10 min)
    live.clock.advance(minutes=2)  # 11 minutes since the last heartbeat: dead
    second = live.activate(org, "second-machine")
    assert second.status_code == 201, second.text
    seats = live.http.get("/v1/admin/seats", headers=org.admin_headers).json()
    status = {m["id"]: m["status"] for m in seats["machines"]}
    assert status[first["machine_id"]] == "expired_lease"
    assert status[second.json()["machine_id"]] == "active"
    # The culled machine comes back: no seat left for it.
    late = live.client(first["machine_token"]).post("/v1/heartbeat", json={})
    assert late.status_code == 409 and late.json()["error"]["code"] == "NO_SEATS_AVAILABLE"
    assert live.client(first["machine_token"]).get("/v1/license").json()["error"]["code"] == "LEASE_EXPIRED"


def test_lease_length_is_configurable_and_heartbeat_reports_it(make_live: object) -> None:
    import datetime as dt

    live = make_live(lease=dt.timedelta(minutes=2))  # type: ignore[operator]
    org = live.new_org(seats=1)
    machine = live.activated(org)
    beat = live.client(machine["machine_token"]).post("/v1/heartbeat").json()
    assert beat["lease_expires_at"] == (live.clock() + dt.timedelta(minutes=2)).isoformat().replace(
        "+00:00", "Z"
    )
    live.clock.advance(minutes=3)
    assert live.activate(org).status_code == 201


def test_node_locked_seats_do_not_expire_without_heartbeats(live: Live) -> None:
    org = live.new_org(seats=1, floating=False)
    machine = live.activated(org)
    live.clock.advance(days=3)
    assert live.activate(org, "other-machine").status_code == 409
    beat = live.client(machine["machine_token"]).post("/v1/heartbeat", json={}).json()
    assert beat["lease_expires_at"] is None


def test_self_service_deactivation_frees_the_seat_and_kills_the_token(live: Live) -> None:
    org = live.new_org(seats=1)
    machine = live.activated(org)
    client = live.client(machine["machine_token"])
    assert client.post("/v1/deactivate").status_code == 204
    assert client.get("/v1/license").status_code == 401
    assert live.activate(org, "replacement").status_code == 201
    seats = live.http.get("/v1/admin/seats", headers=org.admin_headers).json()
    assert machine["machine_id"] not in {m["id"] for m in seats["machines"]}


def test_revoked_machine_is_refused_and_its_seat_freed(live: Live) -> None:
    org = live.new_org(seats=1)
    machine = live.activated(org)
    revoked = live.http.post(f"/v1/admin/machines/{machine['machine_id']}/revoke", headers=org.admin_headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    client = live.client(machine["machine_token"])
    for response in (client.post("/v1/heartbeat", json={}), client.get("/v1/license")):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "MACHINE_REVOKED"
    assert live.activate(org, "replacement").status_code == 201


def test_admin_adds_seats(live: Live) -> None:
    org = live.new_org(seats=1)
    live.activated(org)
    assert live.activate(org).status_code == 409
    pool = live.http.post(f"/v1/admin/pools/{org.pool_id}/seats", json={"add": 2}, headers=org.admin_headers)
    assert pool.status_code == 200 and pool.json()["seats"] == 3 and pool.json()["used"] == 1
    assert [live.activate(org).status_code for _ in range(3)] == [201, 201, 409]


def test_expired_pool_and_unknown_org_code(live: Live) -> None:
    org = live.new_org(seats=2, days=1)
    machine = live.activated(org)
    live.clock.advance(days=1, seconds=1)
    refused = live.activate(org)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "POOL_EXPIRED"
    assert live.client(machine["machine_token"]).get("/v1/license").json()["error"]["code"] == "POOL_EXPIRED"
    unknown = live.http.post(
        "/v1/activate",
        json={
            "org_code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ",
            "fingerprint": "abcdefgh1",
            "hostname": "h",
            "os_user": "u",
            "app_version": "1",
        },
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "INVALID_ORG_CODE"


def test_license_expiry_is_capped_by_the_pool(live: Live) -> None:
    org = live.new_org(seats=1, days=10)
    machine = live.activated(org)
    check = verify_license(machine["license"], live.public_keys(), now=live.clock())
    assert check.status is LicenseStatus.VALID
    assert check.claims is not None
    assert check.claims.expires_at == live.clock() + __import__("datetime").timedelta(days=10)

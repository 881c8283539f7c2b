"""Tenant isolation, generated from the app's routes: every org-scoped route is called with
another org's tokens (and forged ones) and must answer 401/403/404 or the caller's own data —
never the victim's. New routes are covered automatically (and must declare ``x-auth``)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import APIRoute, iter_route_contexts

from tests.cloud.conftest import Live, Org

AUTH_KINDS = {"none", "machine", "admin"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    auth: str
    body_example: Any

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


def api_routes(live: Live) -> list[Route]:
    """Every API route of the running app, with its declared auth and an example body."""
    app = live.http.get("/openapi.json").json()  # the published schema of the app under test
    routes = []
    for context in iter_route_contexts(live.app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        auth = (context.openapi_extra or {}).get("x-auth")
        assert auth in AUTH_KINDS, f"{route.path} must declare openapi_extra={{'x-auth': ...}} ({auth!r})"
        for method in sorted(context.methods or ()):
            operation = app["paths"][context.path][method.lower()]
            body = None
            if "requestBody" in operation:
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                body = example_for(app, schema)
                assert body is not None, f"{method} {context.path}: give the request model an example"
            routes.append(Route(method, str(context.path), auth, body))
    return routes


def example_for(openapi: dict[str, Any], schema: dict[str, Any]) -> Any:
    if "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for option in schema.get("anyOf", []):
        found = example_for(openapi, option)
        if found is not None:
            return found
    examples = schema.get("examples")
    return examples[-1] if examples else None


@dataclass
class Tenant:
    org: Org
    machine: dict[str, Any]
    secrets: set[str]


def make_victim(live: Live) -> Tenant:
    org = live.new_org(seats=3)
    fingerprint = f"victim-fingerprint-{uuid.uuid4().hex}"
    machine = live.activate(org, fingerprint, hostname="VICTIM-HOST-77", os_user="victim.user").json()
    event = {
        "id": str(uuid.uuid4()),
        "kind": "finding.raised",
        "occurred_at": live.clock().isoformat(),
        "code": "VICTIM_ONLY_CODE",
        "count": 7,
    }
    usage = live.client(machine["machine_token"]).post("/v1/usage", json={"events": [event]})
    assert usage.json()["results"][0]["status"] == "accepted"
    secrets = {
        org.id,
        org.pool_id,
        machine["machine_id"],
        fingerprint[-6:],
        "VICTIM-HOST-77",
        "victim.user",
        "VICTIM_ONLY_CODE",
        org.admin_email,
        event["id"],
    }
    return Tenant(org, machine, secrets)


def fill(path: str, victim: Tenant) -> str:
    values = {"machine_id": victim.machine["machine_id"], "pool_id": victim.org.pool_id}
    for name in re.findall(r"{(\w+)}", path):
        assert name in values, (
            f"tests/cloud/test_isolation.py: add a victim value for path parameter {name!r}"
        )
        path = path.replace("{" + name + "}", values[name])
    return path


def call(client: httpx.Client, route: Route, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.request(route.method, path, json=route.body_example, headers=headers)


def victim_state(live: Live, victim: Tenant) -> Any:
    seats = live.http.get("/v1/admin/seats", headers=victim.org.admin_headers).json()
    analytics = live.http.get("/v1/admin/analytics", headers=victim.org.admin_headers).json()
    audit = live.http.get("/v1/admin/audit", headers=victim.org.admin_headers).json()
    return seats, analytics, len(audit["entries"])


def test_every_route_declares_its_auth_and_org_scoped_ones_exist(live: Live) -> None:
    routes = api_routes(live)
    kinds = {r.auth for r in routes}
    assert kinds == AUTH_KINDS
    assert len([r for r in routes if r.auth != "none"]) >= 9


def test_cross_tenant_matrix(live: Live) -> None:
    victim = make_victim(live)
    attacker = live.new_org(seats=20)
    before = victim_state(live, victim)
    routes = [r for r in api_routes(live) if r.auth != "none"]
    checked = 0
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        for route in routes:
            path = fill(route.path, victim)
            machine_token = live.activated(attacker)["machine_token"]  # fresh: deactivate kills one
            own = machine_token if route.auth == "machine" else attacker.admin_token
            wrong_kind = attacker.admin_token if route.auth == "machine" else machine_token
            forged = ("nxm_" if route.auth == "machine" else "nxa_") + "A" * 43
            for label, token in (
                ("own-kind", own),
                ("wrong-kind", wrong_kind),
                ("forged", forged),
                ("none", None),
            ):
                response = call(client, route, path, token)
                where = f"{route.method} {route.path} with the attacker's {label} token"
                assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
                leaked = [s for s in victim.secrets if s in response.text]
                assert not leaked, f"{where} leaked {leaked}: {response.text[:300]}"
                if label != "own-kind":
                    assert response.status_code in (401, 403), f"{where}: {response.status_code}"
                elif route.params:
                    assert response.status_code in (401, 403, 404), f"{where}: {response.status_code}"
                if response.status_code >= 400:
                    assert set(response.json()) == {"error"}
                checked += 1
    assert checked == 4 * len(routes)
    assert victim_state(live, victim) == before


def test_matrix_is_not_vacuous_the_victim_itself_succeeds(live: Live) -> None:
    """The same filled-in paths work for their owner, so the 404s above are isolation, not typos."""
    victim = make_victim(live)
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        for route in [r for r in api_routes(live) if r.auth == "admin" and r.params]:
            response = call(client, route, fill(route.path, victim), victim.org.admin_token)
            assert response.status_code == 200, f"{route.method} {route.path}: {response.text}"

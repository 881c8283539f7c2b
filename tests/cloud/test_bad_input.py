"""Bad input never gets a 5xx: malformed JSON, wrong content types, oversized bodies, forged and
expired tokens, unknown paths, huge numbers, control characters — and rate limits answer 429."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import httpx

from tests.cloud.conftest import ADMIN_PASSWORD, Live, MakeLive


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"], body
    code: str = body["error"]["code"]
    return code


def test_malformed_json_wrong_type_and_oversized_bodies(live: Live) -> None:
    org = live.new_org()
    token = live.activated(org)["machine_token"]
    client = live.client(token)
    headers = {"Content-Type": "application/json"}
    for raw in (b"{", b'{"events": [}', b"\xff\xfe", b"nul\x00l"):
        response = client.post("/v1/usage", content=raw, headers=headers)
        assert response.status_code == 400 and error_code(response) == "MALFORMED_JSON", raw
    for body in ("[]", '{"events": "x"}', '{"events": []}', '{"nope": 1}', "null", "12"):
        response = client.post("/v1/usage", content=body, headers=headers)
        assert response.status_code == 422 and error_code(response) == "VALIDATION_ERROR", body
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""):
        response = client.post("/v1/usage", content=b'{"events": []}', headers={"Content-Type": ctype})
        assert response.status_code == 415 and error_code(response) == "UNSUPPORTED_MEDIA_TYPE", ctype
    big = b'{"events": [' + b" " * (1024 * 1024) + b"]}"
    response = client.post("/v1/usage", content=big, headers=headers)
    assert response.status_code == 413 and error_code(response) == "BODY_TOO_LARGE"

    def chunks() -> object:  # no Content-Length: chunked transfer, counted as it arrives
        for _ in range(20):
            yield b" " * 100_000

    response = client.post("/v1/usage", content=chunks(), headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 413 and error_code(response) == "BODY_TOO_LARGE"


def test_validation_messages_name_the_field(live: Live) -> None:
    org = live.new_org()
    client = live.client(live.activated(org)["machine_token"])
    event = {
        "id": str(uuid.uuid4()),
        "kind": "board.move",
        "occurred_at": live.clock().isoformat(),
        "code": "35100001 Main St",
    }
    response = client.post("/v1/usage", json={"events": [event]})
    assert response.status_code == 422
    assert "events.0.code" in response.json()["error"]["message"]
    huge = client.post("/v1/usage", json={"events": [dict(event, code=None, count=10**40)]})
    assert huge.status_code == 422
    assert (
        live.http.post(
            f"/v1/admin/pools/{org.pool_id}/seats", json={"add": 10**30}, headers=org.admin_headers
        ).status_code
        == 422
    )


BAD_ACTIVATIONS = [
    {"hostname": "PC\x00ONE"},
    {"os_user": "a\nb"},
    {"fingerprint": "short"},
    {"fingerprint": "has space 123"},
    {"org_code": "'; DROP TABLE orgs; --"},
    {"hostname": ""},
    {"hostname": " " * 5},
    {"app_version": "v" * 65},
    {"hostname": "\ud800"},
    {"fingerprint": "x" * 257},
]


def test_activation_fields_are_validated(live: Live) -> None:
    org = live.new_org(seats=1)
    base = {
        "org_code": org.code,
        "fingerprint": "fingerprint-001",
        "hostname": "PC",
        "os_user": "u",
        "app_version": "1",
    }
    for overrides in BAD_ACTIVATIONS:
        raw = json.dumps({**base, **overrides})  # escapes a lone surrogate as \ud800, as a client might
        response = live.http.post("/v1/activate", content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (overrides, response.text)
        assert error_code(response) == "VALIDATION_ERROR"
    assert live.activate(org).status_code == 201  # none of them took the seat


def _flip_last(token: str) -> str:
    """The same token with its last character changed (never to itself)."""
    return token[:-1] + ("B" if token.endswith("A") else "A")


def test_forged_missing_and_wrong_kind_tokens(live: Live) -> None:
    org = live.new_org()
    machine = live.activated(org)
    cases = {
        None: "MISSING_TOKEN",
        "": "MISSING_TOKEN",
        "nxm_" + "x" * 43: "INVALID_TOKEN",
        _flip_last(machine["machine_token"]): "INVALID_TOKEN",
        "é" * 10: "INVALID_TOKEN",
        "y" * 5000: "INVALID_TOKEN",
    }
    for token, code in cases.items():
        headers = {} if token is None else {"Authorization": f"Bearer {token}".strip()}
        try:
            response = live.http.get("/v1/license", headers=headers)
        except UnicodeEncodeError:  # httpx refuses non-ASCII headers: send bytes ourselves
            raw = [(b"Authorization", f"Bearer {token}".encode())]
            response = live.http.get("/v1/license", headers=raw)
        assert response.status_code == 401, (token, response.text)
        assert error_code(response) == code
        assert response.headers["WWW-Authenticate"] == "Bearer"
    wrong = live.http.get("/v1/admin/seats", headers={"Authorization": f"Bearer {machine['machine_token']}"})
    assert wrong.status_code == 403 and error_code(wrong) == "WRONG_TOKEN_KIND"
    assert live.http.get("/v1/admin/seats", headers={"Authorization": "Basic dTpw"}).status_code == 401


def test_admin_token_expires_after_twelve_hours(live: Live) -> None:
    org = live.new_org()
    assert live.http.get("/v1/admin/seats", headers=org.admin_headers).status_code == 200
    live.clock.advance(hours=11, minutes=59)
    assert live.http.get("/v1/admin/seats", headers=org.admin_headers).status_code == 200
    live.clock.advance(minutes=2)
    response = live.http.get("/v1/admin/seats", headers=org.admin_headers)
    assert response.status_code == 401 and error_code(response) == "TOKEN_EXPIRED"


def test_bad_credentials(live: Live) -> None:
    org = live.new_org()
    for email, password in (
        (org.admin_email, "wrong password"),
        ("nobody@example.com", ADMIN_PASSWORD),
        (org.admin_email.upper(), "x"),
    ):
        response = live.http.post("/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 401 and error_code(response) == "BAD_CREDENTIALS"
    ok = live.http.post("/v1/auth/login", json={"email": org.admin_email.upper(), "password": ADMIN_PASSWORD})
    assert ok.status_code == 200 and ok.json()["org_id"] == org.id
    expires = dt.datetime.fromisoformat(ok.json()["expires_at"])
    assert expires == live.clock() + dt.timedelta(hours=12)


def test_unknown_paths_and_methods_answer_json(live: Live) -> None:
    assert error_code(live.http.get("/v1/nothing")) == "NOT_FOUND"
    response = live.http.delete("/v1/license")
    assert response.status_code == 405 and error_code(response) == "METHOD_NOT_ALLOWED"
    assert (
        live.http.get("/v1/admin/analytics?days=0", headers=live.new_org().admin_headers).status_code == 422
    )
    bad_id = live.http.post("/v1/admin/machines/not-a-uuid/revoke", headers=live.new_org().admin_headers)
    assert bad_id.status_code == 422


def test_per_org_rate_limit_answers_429_with_retry_after(make_live: MakeLive) -> None:
    live = make_live(rate_per_second=0.5, rate_burst=4)
    busy, quiet = live.new_org(), live.new_org()
    client = live.client(live.activated(busy)["machine_token"])  # activation took one token
    statuses = [client.get("/v1/license").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = client.get("/v1/license")
    assert error_code(limited) == "RATE_LIMITED" and int(limited.headers["Retry-After"]) >= 1
    # Another org is not affected by the busy one.
    assert live.client(live.activated(quiet)["machine_token"]).get("/v1/license").status_code == 200


def test_guessing_org_codes_is_throttled(make_live: MakeLive) -> None:
    live = make_live(failure_rate_per_second=0.01, failure_burst=3)
    org = live.new_org()
    body = {"fingerprint": "abcdefgh-1234", "hostname": "h", "os_user": "u", "app_version": "1"}
    codes = [
        live.http.post("/v1/activate", json={**body, "org_code": f"GUESS{i}"}).status_code for i in range(5)
    ]
    assert codes == [404, 404, 404, 429, 429]
    # Even the right code waits now: the guesser can't tell a hit from a miss.
    assert live.http.post("/v1/activate", json={**body, "org_code": org.code}).status_code == 429

"""Schemathesis against the published OpenAPI schema of the live service: generated valid and
invalid requests on every operation, with real tokens where the operation needs one — no 5xx,
and every answer matches the documented status codes, content type and response schema.

(The schema is loaded from the running service and driven through schemathesis' Python API:
its lazy pytest fixture loader does not work with pytest 9.)"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.cloud.conftest import Live

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 15


def fuzz(live: Live, operation: Any, tokens: dict[str, str], fresh_machine: Any) -> int:
    """Positive and negative cases for one operation; returns how many were sent."""
    auth = operation.definition.raw.get("x-auth")
    sent = 0

    @given(
        case=st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
    )
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: schemathesis.Case[Any]) -> None:
        nonlocal sent
        headers = {}
        if auth in tokens:  # the real token (forged ones are covered by test_bad_input/test_isolation)
            for name in [k for k in (case.headers or {}) if k.lower() == "authorization"]:
                del case.headers[name]
            # deactivate kills its token: a fresh machine each time
            token = fresh_machine() if case.operation.path == "/v1/deactivate" else tokens[auth]
            headers["Authorization"] = f"Bearer {token}"
        response = case.call(base_url=live.base_url, headers=headers)
        case.validate_response(response, checks=CHECKS)
        sent += 1

    run()
    return sent


def test_generated_requests_never_get_a_server_error(live: Live) -> None:
    schema = schemathesis.openapi.from_dict(live.http.get("/openapi.json").json())
    org = live.new_org(seats=1000)
    tokens = {"machine": live.activated(org)["machine_token"], "admin": org.admin_token}
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 13
    for operation in operations:
        sent = fuzz(live, operation, tokens, lambda: live.activated(org)["machine_token"])
        assert sent >= 1, operation.label

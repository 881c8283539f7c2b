"""Routes a desktop installation calls: activate, heartbeat, license, usage, deactivate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from nexa_cloud.errors import ApiError
from nexa_cloud.routes.deps import (
    AUTH_ERRORS,
    COMMON_ERRORS,
    Machine,
    Service,
    _err,
    authenticate_machine,
    client_key,
    failure_limiter,
    limiter,
    machine_token,
)
from nexa_cloud.routes.schemas import (
    ActivateRequest,
    ActivateResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    LicenseResponse,
)
from nexa_desktop.domain.licensing import UsageBatch, UsageResponse

router = APIRouter(prefix="/v1", tags=["machine"])
MACHINE = {"x-auth": "machine"}


@router.post(
    "/activate",
    status_code=201,
    response_model=ActivateResponse,
    openapi_extra={"x-auth": "none"},
    responses={
        **COMMON_ERRORS,
        403: _err("POOL_EXPIRED"),
        404: _err("INVALID_ORG_CODE"),
        409: _err("NO_SEATS_AVAILABLE"),
    },
)
def activate(body: ActivateRequest, request: Request, svc: Service) -> ActivateResponse:
    """Take a seat for this machine (the same one again when its fingerprint activated before)."""
    failures = failure_limiter(request)
    key = client_key(request)
    failures.guard(key, what="failed activations from this address")
    org_id = svc.org_for_code(body.org_code)
    if org_id is None:
        failures.retry_after(key)
        raise ApiError(
            404, "INVALID_ORG_CODE", "That org code is not known. Check it with your office admin."
        )
    limiter(request).check(f"org:{org_id}")
    done = svc.activate(
        org_id,
        fingerprint=body.fingerprint,
        hostname=body.hostname,
        os_user=body.os_user,
        app_version=body.app_version,
    )
    return ActivateResponse(
        license=done.license,
        machine_token=done.machine_token,
        machine_id=done.machine_id,
        public_key_id=done.public_key_id,
    )


@router.post(
    "/heartbeat",
    response_model=HeartbeatResponse,
    openapi_extra=MACHINE,
    responses={
        **COMMON_ERRORS,
        **AUTH_ERRORS,
        409: _err("NO_SEATS_AVAILABLE (the lease ran out and the seat was taken)"),
    },
)
def heartbeat(auth: Machine, svc: Service, body: HeartbeatRequest | None = None) -> HeartbeatResponse:
    """Extend the seat lease and get a freshly signed license."""
    issued = svc.heartbeat(auth, app_version=body.app_version if body else None)
    return HeartbeatResponse(license=issued.license, lease_expires_at=issued.lease_expires_at)


@router.get(
    "/license",
    response_model=LicenseResponse,
    openapi_extra=MACHINE,
    responses={**COMMON_ERRORS, **AUTH_ERRORS, 409: _err("LEASE_EXPIRED")},
)
async def license_(request: Request, token: Annotated[str, Depends(machine_token)], svc: Service) -> Response:
    """A freshly signed license for a machine that holds a seat."""

    # The hot path of license validation: one query and one worker-thread hop.
    def work() -> str:
        auth, issued = svc.license_for_token(token)
        if auth is None or issued is None:
            authenticate_machine(request, token)  # raises the 401 (and counts the failure)
            raise AssertionError("unreachable")
        limiter(request).check(f"org:{auth.org_id}")
        return issued.license

    return JSONResponse({"license": await run_in_threadpool(work)})


@router.post(
    "/deactivate",
    status_code=204,
    response_class=Response,
    openapi_extra=MACHINE,
    responses={**COMMON_ERRORS, **AUTH_ERRORS},
)
def deactivate(auth: Machine, svc: Service) -> Response:
    """Free this machine's seat; its token stops working."""
    svc.deactivate(auth)
    return Response(status_code=204)


@router.post(
    "/usage",
    response_model=UsageResponse,
    openapi_extra=MACHINE,
    responses={**COMMON_ERRORS, **AUTH_ERRORS},
)
def usage(body: UsageBatch, auth: Machine, svc: Service) -> UsageResponse:
    """Store usage events exactly once per (org, event id); one result per event, in order."""
    return UsageResponse(results=svc.ingest(auth, body.events))

"""Routes for an org's admins (the desktop's Admin view): login, seats, analytics, audit."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from nexa_cloud.errors import ApiError
from nexa_cloud.routes.deps import (
    AUTH_ERRORS,
    COMMON_ERRORS,
    Admin,
    Service,
    _err,
    client_key,
    failure_limiter,
)
from nexa_cloud.routes.schemas import (
    AddSeatsRequest,
    AnalyticsResponse,
    AnalyticsRow,
    AuditEntry,
    AuditResponse,
    BenchmarkCell,
    BenchmarksResponse,
    LoginRequest,
    LoginResponse,
    MachineOut,
    PoolOut,
    SeatsResponse,
)

router = APIRouter(prefix="/v1", tags=["admin"])
ADMIN = {"x-auth": "admin"}
ADMIN_ERRORS = {**COMMON_ERRORS, **AUTH_ERRORS}
Days = Annotated[int, Query(ge=1, le=366, description="How many days back, today included.")]


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    openapi_extra={"x-auth": "none"},
    responses={**COMMON_ERRORS, 401: _err("BAD_CREDENTIALS")},
)
def login(body: LoginRequest, request: Request, svc: Service) -> LoginResponse:
    """An admin token for 12 hours."""
    failures = failure_limiter(request)
    keys = (client_key(request), f"login:{body.email.strip().lower()}")
    for key in keys:
        failures.guard(key, what="failed logins from here or for this e-mail")
    try:
        result = svc.login(body.email, body.password)
    except ApiError:
        for key in keys:
            failures.retry_after(key)
        raise
    return LoginResponse(
        token=result.token, expires_at=result.expires_at, org_id=result.org_id, org_name=result.org_name
    )


@router.get("/admin/seats", response_model=SeatsResponse, openapi_extra=ADMIN, responses=ADMIN_ERRORS)
def seats(auth: Admin, svc: Service) -> SeatsResponse:
    """Seat pools (used and free) and the machines holding seats."""
    view = svc.seats(auth)
    return SeatsResponse(
        pools=[PoolOut(**p) for p in view["pools"]], machines=[MachineOut(**m) for m in view["machines"]]
    )


@router.post(
    "/admin/machines/{machine_id}/revoke",
    response_model=MachineOut,
    openapi_extra=ADMIN,
    responses={**ADMIN_ERRORS, 404: _err("No such machine in your organisation")},
)
def revoke(machine_id: UUID, auth: Admin, svc: Service) -> MachineOut:
    """Take a machine's seat and token away (a lost laptop)."""
    return MachineOut(**svc.revoke(auth, str(machine_id)))


@router.post(
    "/admin/pools/{pool_id}/seats",
    response_model=PoolOut,
    openapi_extra=ADMIN,
    responses={**ADMIN_ERRORS, 404: _err("No such seat pool in your organisation")},
)
def add_seats(pool_id: UUID, body: AddSeatsRequest, auth: Admin, svc: Service) -> PoolOut:
    """Add seats to a pool."""
    return PoolOut(**svc.add_seats(auth, str(pool_id), body.add))


@router.get("/admin/analytics", response_model=AnalyticsResponse, openapi_extra=ADMIN, responses=ADMIN_ERRORS)
def analytics(auth: Admin, svc: Service, days: Days = 30) -> AnalyticsResponse:
    """Your organisation's daily usage aggregates."""
    return AnalyticsResponse(days=[AnalyticsRow(**row) for row in svc.analytics(auth, days)])


@router.get(
    "/analytics/benchmarks", response_model=BenchmarksResponse, openapi_extra=ADMIN, responses=ADMIN_ERRORS
)
def benchmarks(auth: Admin, svc: Service, days: Days = 30) -> BenchmarksResponse:
    """Cross-organisation figures per day and kind; cells from fewer than 11 orgs are suppressed."""
    cells, suppressed = svc.benchmarks(days)
    return BenchmarksResponse(
        min_orgs=svc.settings.benchmark_min_orgs,
        suppressed_cells=suppressed,
        days=[BenchmarkCell(**cell) for cell in cells],
    )


@router.get("/admin/audit", response_model=AuditResponse, openapi_extra=ADMIN, responses=ADMIN_ERRORS)
def audit_log(auth: Admin, svc: Service, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> AuditResponse:
    """Your organisation's audit log, newest first (append-only)."""
    return AuditResponse(entries=[AuditEntry(**e) for e in svc.audit_entries(auth, limit)])

"""Shared route dependencies: the service, bearer authentication, per-org rate limits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nexa_cloud.errors import ApiError
from nexa_cloud.ratelimit import RateLimiter
from nexa_cloud.routes.schemas import ErrorResponse
from nexa_cloud.security import ADMIN_TOKEN_PREFIX, MACHINE_TOKEN_PREFIX
from nexa_cloud.service import AdminAuth, CloudService, MachineAuth

machine_bearer = HTTPBearer(
    auto_error=False, scheme_name="machineToken", description="The machine token returned by /v1/activate."
)
admin_bearer = HTTPBearer(
    auto_error=False, scheme_name="adminToken", description="The admin token returned by /v1/auth/login."
)

_AUTH_HEADERS = {"WWW-Authenticate": "Bearer"}


def _err(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


#: Error answers every route may give (documented so clients and schemathesis know them).
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _err("Malformed JSON or request"),
    413: _err("Body larger than the limit"),
    415: _err("Body is not JSON"),
    422: _err("Body or parameters do not match the schema"),
    429: _err("Rate limited; see Retry-After"),
}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _err("Missing, unknown or expired token"),
    403: _err("Token of the wrong kind, or machine revoked"),
}


def service(request: Request) -> CloudService:
    svc: CloudService = request.app.state.service
    return svc


async def service_dependency(request: Request) -> CloudService:
    """``service`` as an async dependency (no thread hop for a dictionary lookup)."""
    return service(request)


def limiter(request: Request) -> RateLimiter:
    lim: RateLimiter = request.app.state.limiter
    return lim


def failure_limiter(request: Request) -> RateLimiter:
    lim: RateLimiter = request.app.state.failure_limiter
    return lim


def client_key(request: Request) -> str:
    return f"ip:{request.client.host if request.client else 'unknown'}"


def _token(credentials: HTTPAuthorizationCredentials | None, kind: str) -> str:
    if credentials is None or not credentials.credentials:
        raise ApiError(
            401,
            "MISSING_TOKEN",
            f"This call needs 'Authorization: Bearer <{kind} token>'.",
            headers=_AUTH_HEADERS,
        )
    token = credentials.credentials
    if len(token) > 200 or not token.isascii():
        raise ApiError(401, "INVALID_TOKEN", f"The {kind} token is not valid.", headers=_AUTH_HEADERS)
    return token


async def machine_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(machine_bearer)],
) -> str:
    """The bearer token of a machine call, checked for shape only (no database)."""
    token = _token(credentials, "machine")
    if token.startswith(ADMIN_TOKEN_PREFIX):
        raise ApiError(403, "WRONG_TOKEN_KIND", "This call needs a machine token, not an admin token.")
    return token


def authenticate_machine(request: Request, token: str) -> MachineAuth:
    """The machine behind ``token`` (401 unknown, 403 revoked), rate-limited per org. Blocking."""
    auth = service(request).authenticate_machine(token)
    if auth is None:
        failure_limiter(request).check(client_key(request), what="failed logins from this address")
        raise ApiError(
            401,
            "INVALID_TOKEN",
            "The machine token is unknown or was deactivated; activate again.",
            headers=_AUTH_HEADERS,
        )
    limiter(request).check(f"org:{auth.org_id}")
    return auth


def require_machine(request: Request, token: Annotated[str, Depends(machine_token)]) -> MachineAuth:
    """The calling machine (401 unknown token, 403 revoked or admin token), rate-limited per org."""
    return authenticate_machine(request, token)


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(admin_bearer)],
) -> AdminAuth:
    """The calling admin (401 unknown/expired token, 403 machine token), rate-limited per org."""
    token = _token(credentials, "admin")
    if token.startswith(MACHINE_TOKEN_PREFIX):
        raise ApiError(403, "WRONG_TOKEN_KIND", "This call needs an admin login, not a machine token.")
    auth = service(request).authenticate_admin(token)
    if auth is None:
        failure_limiter(request).check(client_key(request), what="failed logins from this address")
        raise ApiError(
            401, "INVALID_TOKEN", "The admin token is unknown; log in again.", headers=_AUTH_HEADERS
        )
    limiter(request).check(f"org:{auth.org_id}")
    return auth


Machine = Annotated[MachineAuth, Depends(require_machine)]
Admin = Annotated[AdminAuth, Depends(require_admin)]
Service = Annotated[CloudService, Depends(service_dependency)]

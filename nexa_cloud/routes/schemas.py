"""Request and response bodies of the HTTP API (the OpenAPI schema is generated from these)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _plain_text(value: str) -> str:
    """No control characters, no lone surrogates: what both databases store without surprises."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


def _encodable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Name255 = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_plain_text)]
Version64 = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_plain_text)]
Email = Annotated[str, Field(min_length=3, max_length=320), AfterValidator(_plain_text)]
Password = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_encodable)]
OrgCode = Annotated[
    str,
    Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9-]+$", examples=["K7QM-2XWD-9RTB-HN4P"]),
]
Fingerprint = Annotated[
    str,
    Field(
        min_length=8,
        max_length=256,
        pattern=r"^[!-~]+$",
        description="Stable machine id (printable ASCII, e.g. a sha256 hex digest).",
    ),
]


class ErrorBody(BaseModel):
    code: str = Field(examples=["NO_SEATS_AVAILABLE"])
    message: str


class ErrorResponse(BaseModel):
    """Every error: a machine-readable code and a sentence for people."""

    error: ErrorBody


class ActivateRequest(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "org_code": "K7QM-2XWD-9RTB-HN4P",
                    "fingerprint": "3f5c0a9e6b1d4e2f8a7c6b5d4e3f2a1b",
                    "hostname": "OFFICE-PC-07",
                    "os_user": "gina",
                    "app_version": "0.1.0",
                }
            ]
        },
    )

    org_code: OrgCode
    fingerprint: Fingerprint
    hostname: Name255
    os_user: Name255
    app_version: Version64


class ActivateResponse(BaseModel):
    license: str
    machine_token: str
    machine_id: str
    public_key_id: str


class HeartbeatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{}, {"app_version": "0.1.1"}]})

    app_version: Version64 | None = None


class HeartbeatResponse(BaseModel):
    license: str
    lease_expires_at: dt.datetime | None = Field(
        description="When the seat frees without a heartbeat (null: fixed seat)."
    )


class LicenseResponse(BaseModel):
    license: str


class LoginRequest(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [{"email": "admin@example.com", "password": "correct horse battery"}]},
    )

    email: Email
    password: Password


class LoginResponse(BaseModel):
    token: str
    expires_at: dt.datetime
    org_id: str
    org_name: str


class PoolOut(BaseModel):
    id: str
    seats: int
    used: int
    expires_at: dt.datetime
    entitlements: list[str]
    floating: bool


class MachineOut(BaseModel):
    id: str
    pool_id: str | None
    hostname: str
    os_user: str
    app_version: str
    fingerprint_hint: str = Field(description="Last 6 characters of the fingerprint.")
    activated_at: dt.datetime
    last_seen_at: dt.datetime
    lease_expires_at: dt.datetime | None
    status: Literal["active", "revoked", "expired_lease"]


class SeatsResponse(BaseModel):
    pools: list[PoolOut]
    machines: list[MachineOut]


class AddSeatsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"add": 2}]})

    add: int = Field(ge=1, le=10_000)


class AnalyticsRow(BaseModel):
    day: dt.date
    kind: str
    code: str | None
    events: int
    count: int
    duration_ms_total: int


class AnalyticsResponse(BaseModel):
    days: list[AnalyticsRow]


class BenchmarkCell(BaseModel):
    day: dt.date
    kind: str
    orgs: int
    count_total: int
    count_per_org: float
    duration_ms_total: int
    duration_ms_mean: float | None


class BenchmarksResponse(BaseModel):
    min_orgs: int = Field(description="Cells built from fewer organisations are suppressed.")
    suppressed_cells: int
    days: list[BenchmarkCell]


class AuditEntry(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]


class AuditResponse(BaseModel):
    entries: list[AuditEntry]


class PublicKeyOut(BaseModel):
    kid: str
    public_key_pem: str
    active: bool


class KeysResponse(BaseModel):
    keys: list[PublicKeyOut]


class HealthResponse(BaseModel):
    status: Literal["ok"]
    database: str
    version: str

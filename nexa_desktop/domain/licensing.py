"""License claims, Ed25519 signing/verification and the usage wire schemas.

Shared by the desktop (offline validation, outbox events) and ``nexa_cloud`` (issuing licenses,
ingesting usage). Pure Python + ``cryptography`` + pydantic: no network, no Qt, no database.

Token format: ``"NEXA1." + b64url(canonical_json(claims)) + "." + b64url(signature)`` where the
signature is Ed25519 over the exact payload bytes and canonical JSON is
``json.dumps(obj, sort_keys=True, separators=(",", ":"))`` with datetimes as ISO-8601 UTC ending
in ``Z``. Base64url is unpadded and must be canonical, so every changed character is detected.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, field_validator

UTC = dt.UTC
TOKEN_PREFIX = "NEXA1."
CLAIMS_VERSION = 1
#: Days before expiry from which a license reports ``EXPIRING_SOON``.
EXPIRING_SOON_DAYS = 7
DEFAULT_GRACE_DAYS = 7
#: A license issued this far in the future (clock skew between machine and service) is accepted.
CLOCK_SKEW = dt.timedelta(minutes=5)
#: Longest token :func:`verify_license` looks at; anything longer is MALFORMED.
MAX_TOKEN_CHARS = 16_384

ENTITLEMENTS = ("board", "verification", "completion")


# -- claims -----------------------------------------------------------------------------------


def format_datetime(value: dt.datetime) -> str:
    """ISO-8601 in UTC with a ``Z`` suffix (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_datetime(text: str) -> dt.datetime:
    """The inverse of :func:`format_datetime`; raises ``ValueError`` unless it ends in ``Z``."""
    if not isinstance(text, str) or not text.endswith("Z"):
        raise ValueError(f"not an ISO-8601 UTC timestamp ending in Z: {text!r}")
    parsed = dt.datetime.fromisoformat(text[:-1] + "+00:00")
    return parsed.astimezone(UTC)


@dataclass(frozen=True, kw_only=True)
class LicenseClaims:
    """What a license says: who holds which seat on which machine, with what, until when."""

    v: int = CLAIMS_VERSION
    kid: str
    license_id: str
    org_id: str
    org_name: str
    pool_id: str
    machine_id: str
    fingerprint: str
    entitlements: tuple[str, ...]
    issued_at: dt.datetime
    expires_at: dt.datetime
    grace_days: int = DEFAULT_GRACE_DAYS
    lease_expires_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes as ``...Z`` strings)."""
        return {
            "v": self.v,
            "kid": self.kid,
            "license_id": self.license_id,
            "org_id": self.org_id,
            "org_name": self.org_name,
            "pool_id": self.pool_id,
            "machine_id": self.machine_id,
            "fingerprint": self.fingerprint,
            "entitlements": list(self.entitlements),
            "issued_at": format_datetime(self.issued_at),
            "expires_at": format_datetime(self.expires_at),
            "grace_days": self.grace_days,
            "lease_expires_at": (
                None if self.lease_expires_at is None else format_datetime(self.lease_expires_at)
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LicenseClaims:
        """Parse :meth:`to_dict` output; raises ``ValueError``/``TypeError`` on anything else."""
        if not isinstance(data, Mapping):
            raise TypeError("claims must be a JSON object")
        expected = set(cls.__dataclass_fields__)
        unknown = set(data) - expected
        if unknown:
            raise ValueError(f"unknown claim(s): {', '.join(sorted(unknown))}")

        def text(name: str) -> str:
            value = data[name]
            if not isinstance(value, str) or not value:
                raise ValueError(f"claim {name!r} must be a non-empty string")
            return value

        def integer(name: str, default: int) -> int:
            value = data.get(name, default)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"claim {name!r} must be an integer")
            return value

        entitlements = data["entitlements"]
        if not isinstance(entitlements, list) or not all(isinstance(e, str) for e in entitlements):
            raise ValueError("claim 'entitlements' must be a list of strings")
        lease = data.get("lease_expires_at")
        grace_days = integer("grace_days", DEFAULT_GRACE_DAYS)
        if grace_days < 0:
            raise ValueError("claim 'grace_days' must not be negative")
        return cls(
            v=integer("v", CLAIMS_VERSION),
            kid=text("kid"),
            license_id=text("license_id"),
            org_id=text("org_id"),
            org_name=text("org_name"),
            pool_id=text("pool_id"),
            machine_id=text("machine_id"),
            fingerprint=text("fingerprint"),
            entitlements=tuple(entitlements),
            issued_at=parse_datetime(data["issued_at"]),
            expires_at=parse_datetime(data["expires_at"]),
            grace_days=grace_days,
            lease_expires_at=None if lease is None else parse_datetime(lease),
        )


def canonical_json(obj: Any) -> bytes:
    """The one JSON serialisation that gets signed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64decode(text: str) -> bytes:
    """Strict, canonical unpadded base64url; raises ``ValueError`` for anything else."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
    if _b64encode(data) != text:  # unused trailing bits set: a changed character
        raise ValueError("non-canonical base64url")
    return data


def sign_license(claims: LicenseClaims, private_key: Ed25519PrivateKey) -> str:
    """The signed token for ``claims``."""
    payload = canonical_json(claims.to_dict())
    signature = private_key.sign(payload)
    return f"{TOKEN_PREFIX}{_b64encode(payload)}.{_b64encode(signature)}"


# -- verification -----------------------------------------------------------------------------


class LicenseStatus(StrEnum):
    """Machine-readable outcome of :func:`verify_license` (Keygen-style codes)."""

    VALID = "VALID"
    EXPIRING_SOON = "EXPIRING_SOON"
    GRACE = "GRACE"
    EXPIRED = "EXPIRED"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    MALFORMED = "MALFORMED"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    FINGERPRINT_MISMATCH = "FINGERPRINT_MISMATCH"
    NOT_YET_VALID = "NOT_YET_VALID"

    @property
    def usable(self) -> bool:
        """True where the app may run with the license's entitlements."""
        return self in _USABLE


_USABLE = frozenset({LicenseStatus.VALID, LicenseStatus.EXPIRING_SOON, LicenseStatus.GRACE})


@dataclass(frozen=True)
class LicenseCheck:
    """The result of checking one token.

    ``days_left``: whole days until expiry for VALID/EXPIRING_SOON, whole days of grace left for
    GRACE, 0 for EXPIRED, ``None`` when the token could not be trusted.
    """

    status: LicenseStatus
    claims: LicenseClaims | None
    message: str
    days_left: int | None = None
    entitlements: frozenset[str] = field(default_factory=frozenset)

    @property
    def usable(self) -> bool:
        return self.status.usable

    def allows(self, entitlement: str) -> bool:
        """True when the license is usable and carries ``entitlement``."""
        return self.usable and self.claims is not None and entitlement in self.claims.entitlements


def _failed(status: LicenseStatus, message: str, claims: LicenseClaims | None = None) -> LicenseCheck:
    return LicenseCheck(status, claims, message, None)


def _whole_days(delta: dt.timedelta) -> int:
    return max(0, math.floor(delta.total_seconds() / 86_400))


def verify_license(
    token: str,
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    now: dt.datetime,
    fingerprint: str | None = None,
) -> LicenseCheck:
    """Check ``token`` offline against ``public_keys`` (kid → key) at ``now``. Never raises.

    Order: structure (MALFORMED) → key id (UNKNOWN_KEY) → signature (BAD_SIGNATURE) → claims
    (MALFORMED) → machine (FINGERPRINT_MISMATCH) → time (NOT_YET_VALID, GRACE, EXPIRED,
    EXPIRING_SOON, VALID).
    """
    try:
        return _verify(token, public_keys, now=now, fingerprint=fingerprint)
    except Exception as exc:  # the contract: never raise on bad input
        return _failed(LicenseStatus.MALFORMED, f"The license could not be read ({type(exc).__name__}).")


def _verify(
    token: object,
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    now: dt.datetime,
    fingerprint: str | None,
) -> LicenseCheck:
    malformed = LicenseStatus.MALFORMED
    if not isinstance(token, str):
        return _failed(malformed, "The license is not text.")
    token = token.strip()
    if len(token) > MAX_TOKEN_CHARS:
        return _failed(malformed, "The license is too long to be a NEXA license.")
    if not token.startswith(TOKEN_PREFIX):
        return _failed(malformed, "This is not a NEXA license (it should start with 'NEXA1.').")
    parts = token[len(TOKEN_PREFIX) :].split(".")
    if len(parts) != 2:
        return _failed(malformed, "The license is incomplete or has extra parts; copy it again.")
    try:
        payload = _b64decode(parts[0])
        signature = _b64decode(parts[1])
    except ValueError:
        return _failed(malformed, "The license contains characters that do not belong there.")
    try:
        raw = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _failed(malformed, "The license contents are unreadable.")
    kid = raw.get("kid") if isinstance(raw, dict) else None
    if not isinstance(kid, str):
        return _failed(malformed, "The license does not name its signing key.")
    key = public_keys.get(kid)
    if key is None:
        return _failed(
            LicenseStatus.UNKNOWN_KEY,
            f"The license was signed with key {kid[:32]!r}, which this installation does not know. "
            "Update NEXA Desktop or re-activate.",
        )
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        return _failed(
            LicenseStatus.BAD_SIGNATURE,
            "The license signature does not match: the file was changed or damaged. Re-activate.",
        )
    try:
        claims = LicenseClaims.from_dict(raw)
    except (KeyError, TypeError, ValueError) as exc:
        return _failed(malformed, f"The license is signed but its contents are invalid: {exc}.")
    if claims.v != CLAIMS_VERSION:
        return _failed(malformed, f"License format version {claims.v} is not supported; update NEXA.")
    if fingerprint is not None and fingerprint != claims.fingerprint:
        return _failed(
            LicenseStatus.FINGERPRINT_MISMATCH,
            "This license belongs to another computer. Activate this computer with your org code.",
            claims,
        )
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    entitlements = frozenset(claims.entitlements)
    if now + CLOCK_SKEW < claims.issued_at:
        return LicenseCheck(
            LicenseStatus.NOT_YET_VALID,
            claims,
            f"The license was issued {format_datetime(claims.issued_at)}, after this computer's clock "
            f"({format_datetime(now)}). Check the date and time settings.",
            None,
        )
    if now >= claims.expires_at:
        grace_end = claims.expires_at + dt.timedelta(days=claims.grace_days)
        if now < grace_end:
            left = _whole_days(grace_end - now)
            return LicenseCheck(
                LicenseStatus.GRACE,
                claims,
                f"The license expired on {claims.expires_at:%Y-%m-%d}; NEXA keeps working for "
                f"{left} more day(s). Connect to the internet to renew it.",
                left,
                entitlements,
            )
        return LicenseCheck(
            LicenseStatus.EXPIRED,
            claims,
            f"The license expired on {claims.expires_at:%Y-%m-%d} and the {claims.grace_days}-day grace "
            "period is over. NEXA is read-only until it is renewed.",
            0,
            entitlements,
        )
    left = _whole_days(claims.expires_at - now)
    if claims.expires_at - now <= _WEEK:
        return LicenseCheck(
            LicenseStatus.EXPIRING_SOON,
            claims,
            f"The license expires in {left} day(s) ({claims.expires_at:%Y-%m-%d}); it renews "
            "automatically when NEXA is online.",
            left,
            entitlements,
        )
    return LicenseCheck(
        LicenseStatus.VALID,
        claims,
        f"Licensed to {claims.org_name} until {claims.expires_at:%Y-%m-%d} ({left} days left).",
        left,
        entitlements,
    )


_WEEK = dt.timedelta(days=EXPIRING_SOON_DAYS)


def decode_unverified(token: str) -> LicenseClaims | None:
    """The claims of a token *without* checking the signature (for display only), or ``None``."""
    try:
        payload = _b64decode(token.strip()[len(TOKEN_PREFIX) :].split(".")[0])
        return LicenseClaims.from_dict(json.loads(payload))
    except Exception:
        return None


# -- keys -------------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex characters of the sha256 of the raw public key bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_to_pem(public_key: Ed25519PublicKey) -> str:
    """SubjectPublicKeyInfo PEM text."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


to_pem = public_key_to_pem


def public_key_from_pem(pem: str | bytes) -> Ed25519PublicKey:
    """Parse a PEM public key; raises ``ValueError`` unless it is an Ed25519 key."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def load_public_keys(dir_or_file: str | Path) -> dict[str, Ed25519PublicKey]:
    """Public keys from ``*.pem`` files (file stem = kid) in a directory, or from one file.

    Raises ``ValueError`` naming the file when one is not an Ed25519 public key.
    """
    path = Path(dir_or_file)
    files = sorted(path.glob("*.pem")) if path.is_dir() else [path]
    keys: dict[str, Ed25519PublicKey] = {}
    for file in files:
        try:
            keys[file.stem] = public_key_from_pem(file.read_bytes())
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{file} is not an Ed25519 public key in PEM format: {exc}") from exc
    return keys


# -- usage wire schemas -----------------------------------------------------------------------


class UsageKind(StrEnum):
    """The allow-list of usage event kinds: counts and durations only, never job details."""

    BOARD_MOVE = "board.move"
    BOARD_ASSIGN = "board.assign"
    JOBS_IMPORTED = "jobs.imported"
    PACKAGE_VERIFIED = "package.verified"
    PACKAGE_PAGES = "package.pages"
    FINDING_RAISED = "finding.raised"
    FILL_DRAFTED = "fill.drafted"
    FILL_ACCEPTED = "fill.accepted"
    APP_STARTED = "app.started"
    CYCLE_TIME = "cycle_time"


CODE_PATTERN = r"^[A-Z][A-Z0-9_]{1,40}$"
MAX_EVENT_COUNT = 1_000_000
#: About ten years in milliseconds: longer durations are a bug, not a cycle time.
MAX_DURATION_MS = 315_360_000_000
MAX_BATCH_EVENTS = 1000


class UsageEvent(BaseModel):
    """One immutable usage event; ``id`` is generated by the client and makes delivery idempotent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: UUID
    kind: UsageKind
    occurred_at: dt.datetime
    count: int = Field(default=1, ge=0, le=MAX_EVENT_COUNT)
    duration_ms: int | None = Field(default=None, ge=0, le=MAX_DURATION_MS)
    code: str | None = Field(default=None, pattern=CODE_PATTERN)

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        """Naive timestamps are taken as UTC; all are stored in UTC."""
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class UsageBatch(BaseModel):
    """What the desktop's outbox sends in one request."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "id": "0b5e8f4e-3c1d-4a57-9b0e-2f6d8c1a7e42",
                            "kind": "finding.raised",
                            "occurred_at": "2026-03-02T08:00:00Z",
                            "count": 1,
                            "code": "MISSING_SIGNATURE",
                        }
                    ]
                }
            ]
        },
    )

    events: list[UsageEvent] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


class UsageResult(BaseModel):
    """Per-event outcome: ``accepted`` (stored now), ``duplicate`` (stored before), ``rejected``."""

    model_config = ConfigDict(extra="forbid")

    id: UUID
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None


class UsageResponse(BaseModel):
    """The body of a ``POST /v1/usage`` answer."""

    model_config = ConfigDict(extra="forbid")

    results: list[UsageResult]

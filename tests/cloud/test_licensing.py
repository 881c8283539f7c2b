"""The shared license module (pure): round trip, statuses with an injected clock, the tamper
matrix over every byte of payload and signature, key files, and the usage wire schemas."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from nexa_desktop.domain.licensing import (
    TOKEN_PREFIX,
    LicenseClaims,
    LicenseStatus,
    UsageBatch,
    UsageEvent,
    UsageKind,
    UsageResult,
    key_id,
    load_public_keys,
    public_key_from_pem,
    public_key_to_pem,
    sign_license,
    verify_license,
)

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KID = key_id(PRIVATE.public_key())
KEYS = {KID: PRIVATE.public_key()}


def claims(**overrides: object) -> LicenseClaims:
    values: dict[str, object] = {
        "kid": KID,
        "license_id": "lic-1",
        "org_id": "org-1",
        "org_name": "Acme Electric",
        "pool_id": "pool-1",
        "machine_id": "machine-1",
        "fingerprint": "fp-0123456789",
        "entitlements": ("board", "verification"),
        "issued_at": NOW,
        "expires_at": NOW + dt.timedelta(days=30),
        "grace_days": 7,
        "lease_expires_at": NOW + dt.timedelta(minutes=10),
    }
    values.update(overrides)
    return LicenseClaims(**values)  # type: ignore[arg-type]


TOKEN = sign_license(claims(), PRIVATE)


def test_round_trip_gives_back_the_same_claims() -> None:
    check = verify_license(TOKEN, KEYS, now=NOW, fingerprint="fp-0123456789")
    assert check.status is LicenseStatus.VALID
    assert check.claims == claims()
    assert check.days_left == 30
    assert check.allows("board") and check.allows("verification") and not check.allows("completion")
    assert TOKEN.startswith(TOKEN_PREFIX) and TOKEN.count(".") == 2


def test_microseconds_and_naive_datetimes_survive() -> None:
    precise = claims(issued_at=NOW.replace(microsecond=123456), lease_expires_at=None)
    check = verify_license(sign_license(precise, PRIVATE), KEYS, now=NOW)
    assert check.claims == precise


@pytest.mark.parametrize(
    ("offset", "status", "days_left"),
    [
        (dt.timedelta(0), LicenseStatus.VALID, 30),
        (dt.timedelta(days=22, hours=23), LicenseStatus.VALID, 7),
        (dt.timedelta(days=23), LicenseStatus.EXPIRING_SOON, 7),
        (dt.timedelta(days=29, hours=23), LicenseStatus.EXPIRING_SOON, 0),
        (dt.timedelta(days=30), LicenseStatus.GRACE, 7),
        (dt.timedelta(days=36, hours=12), LicenseStatus.GRACE, 0),
        (dt.timedelta(days=37), LicenseStatus.EXPIRED, 0),
        (dt.timedelta(days=400), LicenseStatus.EXPIRED, 0),
        (dt.timedelta(minutes=-4), LicenseStatus.VALID, 30),  # small clock skew is tolerated
        (dt.timedelta(minutes=-6), LicenseStatus.NOT_YET_VALID, None),
        (dt.timedelta(days=-3), LicenseStatus.NOT_YET_VALID, None),
    ],
)
def test_status_follows_the_injected_clock(
    offset: dt.timedelta, status: LicenseStatus, days_left: int | None
) -> None:
    check = verify_license(TOKEN, KEYS, now=NOW + offset)
    assert check.status is status, check.message
    assert check.days_left == days_left
    assert check.message
    usable = status in (LicenseStatus.VALID, LicenseStatus.EXPIRING_SOON, LicenseStatus.GRACE)
    assert check.allows("board") is usable


def test_fingerprint_and_key_checks() -> None:
    assert (
        verify_license(TOKEN, KEYS, now=NOW, fingerprint="another-pc").status
        is LicenseStatus.FINGERPRINT_MISMATCH
    )
    other = Ed25519PrivateKey.generate()
    assert verify_license(TOKEN, {key_id(other.public_key()): other.public_key()}, now=NOW).status is (
        LicenseStatus.UNKNOWN_KEY
    )
    # Right kid, wrong key (a forged license that names our key id).
    forged = sign_license(claims(), other)
    assert verify_license(forged, KEYS, now=NOW).status is LicenseStatus.BAD_SIGNATURE


def _flips(token: str) -> list[tuple[int, int]]:
    """(position, xor) pairs: every byte position of payload and signature, several bit patterns."""
    return [(i, x) for i in range(len(token)) for x in (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)]


def test_tamper_matrix_every_changed_byte_is_rejected() -> None:
    raw = TOKEN.encode("ascii")
    payload_start = len(TOKEN_PREFIX)
    signature_start = TOKEN.rindex(".") + 1
    seen: dict[LicenseStatus, int] = {}
    for position, xor in _flips(TOKEN):
        changed = bytearray(raw)
        changed[position] ^= xor
        text = changed.decode("utf-8", errors="surrogateescape")
        check = verify_license(text, KEYS, now=NOW)
        assert not check.status.usable, (position, xor, check.status)
        assert not check.allows("board")
        seen[check.status] = seen.get(check.status, 0) + 1
    # Both halves were really exercised: payload edits and signature edits.
    assert signature_start > payload_start + 100
    assert LicenseStatus.BAD_SIGNATURE in seen and LicenseStatus.MALFORMED in seen


def test_every_single_character_substitution_is_rejected() -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    for position in range(len(TOKEN)):
        for ch in alphabet[position % 7 :: 7]:  # a spread of valid base64url characters per position
            if ch == TOKEN[position]:
                continue
            changed = TOKEN[:position] + ch + TOKEN[position + 1 :]
            assert not verify_license(changed, KEYS, now=NOW).status.usable, (position, ch)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "NEXA1.",
        "NEXA1..",
        "nexa1." + TOKEN[6:],
        TOKEN + ".x",
        TOKEN[:-1],
        TOKEN[:40],
        "NEXA1.e30.AAAA",
        "\x00" * 50,
        "NEXA1." + "A" * 20000,
        TOKEN.replace(".", "=", 1),
        "NEXA1.bnVsbA.AAAA",
    ],
)
def test_garbage_never_raises(bad: str) -> None:
    check = verify_license(bad, KEYS, now=NOW)
    assert check.status in (LicenseStatus.MALFORMED, LicenseStatus.BAD_SIGNATURE, LicenseStatus.UNKNOWN_KEY)
    assert check.claims is None and check.message


def test_non_text_input_is_malformed() -> None:
    assert verify_license(None, KEYS, now=NOW).status is LicenseStatus.MALFORMED  # type: ignore[arg-type]
    assert verify_license(TOKEN.encode(), KEYS, now=NOW).status is LicenseStatus.MALFORMED  # type: ignore[arg-type]


def test_signed_but_invalid_claims_are_malformed() -> None:
    import base64
    import json

    payload = json.dumps({"kid": KID, "v": 1}, sort_keys=True, separators=(",", ":")).encode()
    b64 = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    sig = base64.urlsafe_b64encode(PRIVATE.sign(payload)).rstrip(b"=").decode()
    assert verify_license(f"NEXA1.{b64}.{sig}", KEYS, now=NOW).status is LicenseStatus.MALFORMED


def test_key_files_round_trip(tmp_path: Path) -> None:
    pem = public_key_to_pem(PRIVATE.public_key())
    (tmp_path / f"{KID}.pem").write_text(pem)
    keys = load_public_keys(tmp_path)
    assert list(keys) == [KID]
    assert key_id(keys[KID]) == KID == key_id(public_key_from_pem(pem.encode()))
    assert load_public_keys(tmp_path / f"{KID}.pem").keys() == {KID}
    assert len(KID) == 16 and int(KID, 16) >= 0
    (tmp_path / "broken.pem").write_text("not a key")
    with pytest.raises(ValueError, match=r"broken\.pem"):
        load_public_keys(tmp_path)


# -- usage wire schemas ------------------------------------------------------------------------


def event(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "kind": "finding.raised",
        "occurred_at": NOW.isoformat(),
        "count": 2,
        "code": "MISSING_SIGNATURE",
    }
    values.update(overrides)
    return values


def test_usage_event_accepts_the_allow_list() -> None:
    for kind in UsageKind:
        parsed = UsageEvent.model_validate(event(kind=kind.value))
        assert parsed.kind is kind
    naive = UsageEvent.model_validate(event(occurred_at="2026-05-01T12:00:00"))
    assert naive.occurred_at == NOW


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": "job.address"},
        {"code": "35100001"},  # a PM number
        {"code": "123 Main St"},  # an address
        {"code": "PACKAGE_35100001.PDF"},  # a file name
        {"code": "missing_signature"},
        {"code": "A" * 60},
        {"count": -1},
        {"count": 1_000_001},
        {"duration_ms": -5},
        {"address": "123 Main St"},  # extra fields are forbidden
        {"pm_number": "35100001"},
        {"id": "not-a-uuid"},
    ],
)
def test_usage_event_refuses_anything_that_could_carry_job_details(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        UsageEvent.model_validate(event(**overrides))


def test_usage_batch_limits_and_result() -> None:
    with pytest.raises(ValidationError):
        UsageBatch.model_validate({"events": []})
    with pytest.raises(ValidationError):
        UsageBatch.model_validate({"events": [event() for _ in range(1001)]})
    assert len(UsageBatch.model_validate({"events": [event() for _ in range(1000)]}).events) == 1000
    result = UsageResult(id=uuid.uuid4(), status="duplicate")
    assert result.reason is None
    with pytest.raises(ValidationError):
        UsageResult(id=uuid.uuid4(), status="maybe")  # type: ignore[arg-type]

"""Licenses issued by the live service: offline verification, freshness (signed issued_at), key
rotation with old keys still published, and the tamper matrix on a real token."""

from __future__ import annotations

import datetime as dt

from nexa_desktop.domain.licensing import LicenseStatus, decode_unverified, key_id, verify_license
from tests.cloud.conftest import Live


def test_activation_license_verifies_offline_with_the_published_key(live: Live) -> None:
    org = live.new_org(seats=2, entitlements="board,completion")
    machine = live.activated(org, "machine-fp-0001")
    keys = live.public_keys()
    assert machine["public_key_id"] in keys
    check = verify_license(machine["license"], keys, now=live.clock(), fingerprint="machine-fp-0001")
    assert check.status is LicenseStatus.VALID, check.message
    claims = check.claims
    assert claims is not None
    assert (claims.org_id, claims.machine_id, claims.pool_id) == (org.id, machine["machine_id"], org.pool_id)
    assert claims.entitlements == ("board", "completion")
    assert claims.issued_at == live.clock()
    assert claims.expires_at == live.clock() + dt.timedelta(days=30)
    assert claims.lease_expires_at == live.clock() + dt.timedelta(minutes=10)
    assert check.allows("completion") and not check.allows("verification")
    # The license is bound to the machine.
    other = verify_license(machine["license"], keys, now=live.clock(), fingerprint="machine-fp-0002")
    assert other.status is LicenseStatus.FINGERPRINT_MISMATCH


def test_every_refresh_is_signed_later_so_replays_can_be_refused(live: Live) -> None:
    org = live.new_org(seats=1)
    machine = live.activated(org)
    client = live.client(machine["machine_token"])
    issued = [decode_unverified(machine["license"])]
    for _ in range(3):
        live.clock.advance(minutes=5)
        issued.append(decode_unverified(client.post("/v1/heartbeat", json={}).json()["license"]))
        live.clock.advance(seconds=1)
        issued.append(decode_unverified(client.get("/v1/license").json()["license"]))
    times = [c.issued_at for c in issued if c is not None]
    assert len(times) == 7 and times == sorted(times) and len(set(times)) == 7
    assert len({c.license_id for c in issued if c is not None}) == 7
    # A replayed (older) license is recognisable by its signed issued_at.
    assert times[0] < times[-1]


def test_key_rotation_keeps_old_licenses_verifiable(live: Live) -> None:
    org = live.new_org(seats=1)
    machine = live.activated(org)
    old_kid = machine["public_key_id"]
    new_kid = live.service.keys.rotate(actor="test")
    assert new_kid != old_kid
    listed = {k["kid"]: k["active"] for k in live.http.get("/v1/keys").json()["keys"]}
    assert listed == {old_kid: False, new_kid: True}
    keys = live.public_keys()
    assert key_id(keys[new_kid]) == new_kid
    assert verify_license(machine["license"], keys, now=live.clock()).status is LicenseStatus.VALID
    fresh = live.client(machine["machine_token"]).get("/v1/license").json()["license"]
    check = verify_license(fresh, keys, now=live.clock())
    assert check.status is LicenseStatus.VALID and check.claims is not None and check.claims.kid == new_kid
    # A desktop that only ships the new key rejects the old license as UNKNOWN_KEY, not as valid.
    only_new = {new_kid: keys[new_kid]}
    assert verify_license(machine["license"], only_new, now=live.clock()).status is LicenseStatus.UNKNOWN_KEY
    rotations = [e for e in live.service.audit_entries_global() if e["action"] == "key.rotate"]
    assert rotations and rotations[0]["target"] == new_kid


def test_tamper_matrix_on_a_token_from_the_service(live: Live) -> None:
    org = live.new_org(seats=1)
    machine = live.activated(org)
    token = machine["license"]
    keys = live.public_keys()
    assert verify_license(token, keys, now=live.clock()).status is LicenseStatus.VALID
    raw = token.encode()
    for position in range(len(raw)):
        for xor in (0x01, 0x20, 0x80):
            changed = bytearray(raw)
            changed[position] ^= xor
            status = verify_license(changed.decode("utf-8", "surrogateescape"), keys, now=live.clock()).status
            assert not status.usable, (position, xor, status)

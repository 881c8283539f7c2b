"""LicenseService: activation against the real service on loopback, offline checks with an injected
clock (expiry, grace, clock rollback, replay, tamper) and the keyring through a test backend."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from nexa_desktop.domain.board import BoardConfig
from nexa_desktop.domain.jobs import JobStatus
from nexa_desktop.domain.licensing import LicenseClaims, LicenseStatus, key_id, sign_license
from nexa_desktop.services.licensing import (
    CLOCK_MARK_ENTRY,
    CLOCK_ROLLBACK_TOLERANCE,
    ISSUED_MARK_ENTRY,
    KEYRING_SERVICE,
    LICENSE_ENTRY,
    MACHINE_ENTRY,
    SERVER_ENTRY,
    TOKEN_ENTRY,
    AdminNotSignedIn,
    DesktopStatus,
    KeyringUnavailable,
    LicenseRefused,
    LicenseService,
    LicensingError,
    MachineIdentity,
    MachineRevoked,
    ServiceError,
    ServiceUnreachable,
    machine_fingerprint,
    machine_identity,
)
from nexa_desktop.services.sync import OutboxSender
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database
from tests.cloudserver import Cloud, start_cloud
from tests.conftest import MakeJob, PeopleAndCrews
from tests.keyrings import LockedKeyring, MemoryKeyring

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
FINGERPRINT = machine_fingerprint("test-machine-0001")
IDENTITY = MachineIdentity(FINGERPRINT, "gf-laptop-7", "gina", "test")


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def public_keys(signing_key: Ed25519PrivateKey) -> dict[str, Ed25519PublicKey]:
    public = signing_key.public_key()
    return {key_id(public): public}


class Clock:
    """An injectable clock."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def make_token(
    key: Ed25519PrivateKey,
    *,
    issued: dt.datetime = T0,
    days: int = 30,
    fingerprint: str = FINGERPRINT,
    entitlements: tuple[str, ...] = ("board", "verification"),
    grace_days: int = 7,
    lease_minutes: int | None = None,
) -> str:
    claims = LicenseClaims(
        kid=key_id(key.public_key()),
        license_id=str(uuid.uuid4()),
        org_id="org-1",
        org_name="Sierra Line Builders",
        pool_id="pool-1",
        machine_id="machine-1",
        fingerprint=fingerprint,
        entitlements=entitlements,
        issued_at=issued,
        expires_at=issued + dt.timedelta(days=days),
        grace_days=grace_days,
        lease_expires_at=None if lease_minutes is None else issued + dt.timedelta(minutes=lease_minutes),
    )
    return sign_license(claims, key)


def make_service(keys: dict[str, Ed25519PublicKey], clock: Clock, **kwargs: object) -> LicenseService:
    return LicenseService(keys, clock=clock, identity=IDENTITY, **kwargs)  # type: ignore[arg-type]


def stored(backend: MemoryKeyring, name: str) -> str | None:
    return backend.entries.get((KEYRING_SERVICE, name))


# -- machine identity -------------------------------------------------------------------------


def test_fingerprint_is_stable_salted_and_hides_the_machine_id() -> None:
    first, second = machine_identity(), machine_identity()
    assert first.fingerprint == second.fingerprint
    assert len(first.fingerprint) == 64 and int(first.fingerprint, 16) >= 0
    assert machine_fingerprint("a") != machine_fingerprint("b")
    machine_id = Path("/etc/machine-id")
    if machine_id.exists():
        raw = machine_id.read_text().strip()
        assert first.source == "machine-id"
        assert raw not in first.fingerprint
        assert first.fingerprint == machine_fingerprint(raw)


# -- offline status with an injected clock ----------------------------------------------------


def test_not_activated(memory_keyring: MemoryKeyring, public_keys: dict[str, Ed25519PublicKey]) -> None:
    service = make_service(public_keys, Clock(T0))
    state = service.status()
    assert state.status is DesktopStatus.NOT_ACTIVATED
    assert service.mode() == "not_activated"
    assert not service.entitled("board")
    assert "not activated" in state.message


def test_expiry_and_grace_follow_the_clock(
    memory_keyring: MemoryKeyring, signing_key: Ed25519PrivateKey, public_keys: dict[str, Ed25519PublicKey]
) -> None:
    clock = Clock(T0)
    service = make_service(public_keys, clock)
    token = make_token(signing_key, days=30, grace_days=7)
    state = service.install_license(token)
    assert state.status is LicenseStatus.VALID and state.mode == "full"
    assert service.entitled("board", T0) and service.entitled("verification", T0)
    assert not service.entitled("completion", T0)

    expires = T0 + dt.timedelta(days=30)
    timeline = [
        (T0 + dt.timedelta(days=10), LicenseStatus.VALID, "full"),
        (expires - dt.timedelta(days=3), LicenseStatus.EXPIRING_SOON, "full"),
        (expires + dt.timedelta(days=2), LicenseStatus.GRACE, "full"),
        (expires + dt.timedelta(days=8), LicenseStatus.EXPIRED, "read_only"),
        (expires + dt.timedelta(days=400), LicenseStatus.EXPIRED, "read_only"),
    ]
    for now, status, mode in timeline:
        clock.now = now
        state = service.status(now)
        assert (state.status, state.mode) == (status, mode), now
    assert state.days_left == 0
    assert "read-only" in state.message
    assert not service.entitled("board", clock.now)
    # Read-only never deletes anything: the license is still in the keyring.
    assert stored(memory_keyring, LICENSE_ENTRY) == token


def test_clock_rollback_is_reported_not_accepted(
    memory_keyring: MemoryKeyring, signing_key: Ed25519PrivateKey, public_keys: dict[str, Ed25519PublicKey]
) -> None:
    clock = Clock(T0)
    service = make_service(public_keys, clock)
    service.install_license(make_token(signing_key, days=30, grace_days=0))
    later = T0 + dt.timedelta(days=29)
    assert service.status(later).status is LicenseStatus.EXPIRING_SOON
    assert stored(memory_keyring, CLOCK_MARK_ENTRY) == later.isoformat().replace("+00:00", "Z")

    # A little drift back is tolerated …
    small = later - CLOCK_ROLLBACK_TOLERANCE + dt.timedelta(minutes=1)
    assert service.status(small).mode == "full"
    # … but a clock set back to before expiry to keep using an expired license is not.
    after_expiry = T0 + dt.timedelta(days=31)
    assert service.status(after_expiry).status is LicenseStatus.EXPIRED
    rolled_back = T0 + dt.timedelta(days=20)
    state = service.status(rolled_back)
    assert state.status is DesktopStatus.CLOCK_ROLLBACK
    assert state.mode == "read_only" and not state.allows("board")
    assert "set back" in state.message
    # The mark never moves backwards: the next check at the rolled-back time is still refused.
    assert service.status(rolled_back + dt.timedelta(hours=1)).status is DesktopStatus.CLOCK_ROLLBACK
    assert service.status(after_expiry).status is LicenseStatus.EXPIRED


def test_a_replayed_older_license_is_refused(
    memory_keyring: MemoryKeyring, signing_key: Ed25519PrivateKey, public_keys: dict[str, Ed25519PublicKey]
) -> None:
    clock = Clock(T0 + dt.timedelta(days=10))
    service = make_service(public_keys, clock)
    old = make_token(signing_key, issued=T0, days=365)  # a long-lived old license
    new = make_token(signing_key, issued=T0 + dt.timedelta(days=10), days=30)
    service.install_license(old)
    service.install_license(new)
    assert stored(memory_keyring, ISSUED_MARK_ENTRY) is not None

    with pytest.raises(LicenseRefused, match="older license") as info:
        service.install_license(old)
    assert info.value.code == "REPLAYED"
    assert stored(memory_keyring, LICENSE_ENTRY) == new

    # Putting the old license back into the keyring behind NEXA's back is caught as well.
    memory_keyring.set_password(KEYRING_SERVICE, LICENSE_ENTRY, old)
    state = service.status(T0 + dt.timedelta(days=45))
    assert state.status is DesktopStatus.REPLAYED and state.mode == "read_only"


def test_tampered_license_is_not_valid(
    memory_keyring: MemoryKeyring, signing_key: Ed25519PrivateKey, public_keys: dict[str, Ed25519PublicKey]
) -> None:
    clock = Clock(T0)
    service = make_service(public_keys, clock)
    token = make_token(signing_key)
    service.install_license(token)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for position in range(len("NEXA1."), len(token), 5):
        original = token[position]
        replacement = alphabet[(alphabet.find(original) + 1) % len(alphabet)] if original != "." else "A"
        forged = token[:position] + replacement + token[position + 1 :]
        memory_keyring.set_password(KEYRING_SERVICE, LICENSE_ENTRY, forged)
        state = service.status(T0)
        assert state.mode == "read_only", (position, state)
        assert state.status in (
            LicenseStatus.BAD_SIGNATURE,
            LicenseStatus.MALFORMED,
            LicenseStatus.UNKNOWN_KEY,
        )
        with pytest.raises(LicenseRefused):
            service.install_license(forged)
    memory_keyring.set_password(KEYRING_SERVICE, LICENSE_ENTRY, token)
    assert service.status(T0).mode == "full"


def test_license_for_another_machine_or_unknown_key(
    memory_keyring: MemoryKeyring, signing_key: Ed25519PrivateKey, public_keys: dict[str, Ed25519PublicKey]
) -> None:
    service = make_service(public_keys, Clock(T0))
    other_machine = make_token(signing_key, fingerprint=machine_fingerprint("someone-else"))
    with pytest.raises(LicenseRefused, match="another computer"):
        service.install_license(other_machine)
    memory_keyring.set_password(KEYRING_SERVICE, LICENSE_ENTRY, other_machine)
    assert service.status(T0).status is LicenseStatus.FINGERPRINT_MISMATCH

    foreign = make_token(Ed25519PrivateKey.generate())
    memory_keyring.set_password(KEYRING_SERVICE, LICENSE_ENTRY, foreign)
    state = service.status(T0)
    assert state.status is LicenseStatus.UNKNOWN_KEY and state.mode == "read_only"


def test_status_is_cached_briefly_but_not_for_an_explicit_time(
    memory_keyring: MemoryKeyring, signing_key: Ed25519PrivateKey, public_keys: dict[str, Ed25519PublicKey]
) -> None:
    clock = Clock(T0)
    service = make_service(public_keys, clock)
    service.install_license(make_token(signing_key, days=30, grace_days=0))
    assert service.mode() == "full"
    clock.now = T0 + dt.timedelta(days=40)
    assert service.mode() == "full"  # cached for a few seconds
    assert service.mode(clock.now) == "read_only"


def test_refresh_schedule_follows_lease_and_expiry(
    memory_keyring: MemoryKeyring, signing_key: Ed25519PrivateKey, public_keys: dict[str, Ed25519PublicKey]
) -> None:
    clock = Clock(T0)
    service = make_service(public_keys, clock)
    assert service.refresh_due_in(T0) == 6 * 3600  # not activated: nothing urgent
    service.install_license(make_token(signing_key, issued=T0, days=30))
    assert service.refresh_due_in(T0) == 6 * 3600
    floating = make_token(signing_key, issued=T0 + dt.timedelta(minutes=1), days=30, lease_minutes=10)
    service.install_license(floating)
    assert service.refresh_due_in(T0 + dt.timedelta(minutes=1)) == 300  # half the 10-minute lease
    assert service.refresh_due_in(T0 + dt.timedelta(minutes=9)) == 60
    clock.now = T0 + dt.timedelta(days=1)
    service.install_license(make_token(signing_key, issued=clock.now, days=30))
    assert service.refresh_due_in(T0 + dt.timedelta(days=26)) == 3600  # expiring soon
    assert service.refresh_due_in(T0 + dt.timedelta(days=40)) == 900  # expired: read-only
    assert service.refresh_due_in(T0 + dt.timedelta(days=2)) == 900  # clock set back


# -- keyring failures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "words"),
    [
        (keyring.backends.fail.Keyring(), "no keyring was found"),
        (keyring.backends.null.Keyring(), "not a secure store"),
        (LockedKeyring(), "locked"),
    ],
    ids=["fail", "null", "locked"],
)
def test_no_usable_keyring_gives_a_clear_error_and_evaluation_mode(
    backend: keyring.backend.KeyringBackend, words: str, public_keys: dict[str, Ed25519PublicKey]
) -> None:
    service = make_service(public_keys, Clock(T0), backend=backend)
    state = service.status()
    assert state.status is DesktopStatus.KEYRING_UNAVAILABLE
    assert state.mode == "not_activated"
    assert words in state.message and "evaluation mode" in state.message and "never in files" in state.message
    # Activation stops before taking a seat it could not remember (no request is made:
    # the address is unreachable, yet the error is about the keyring).
    with pytest.raises(KeyringUnavailable, match=words):
        service.activate("http://127.0.0.1:9", "ORG-CODE")
    assert service.sync_credentials() is None


def test_process_keyring_without_backend_is_unavailable(public_keys: dict[str, Ed25519PublicKey]) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        service = make_service(public_keys, Clock(T0))
        assert service.status().status is DesktopStatus.KEYRING_UNAVAILABLE
        with pytest.raises(KeyringUnavailable):
            service.install_license("NEXA1.x.y")
    finally:
        keyring.set_keyring(previous)


def test_plaintext_keyring_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    signing_key: Ed25519PrivateKey,
    public_keys: dict[str, Ed25519PublicKey],
) -> None:
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    service = make_service(public_keys, Clock(T0), backend=PlaintextKeyring())
    with pytest.raises(KeyringUnavailable, match="not a secure store"):
        service.install_license(make_token(signing_key))
    assert service.status().status is DesktopStatus.KEYRING_UNAVAILABLE
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # nothing written in plaintext


def test_unreachable_service_is_a_clear_error(
    memory_keyring: MemoryKeyring, public_keys: dict[str, Ed25519PublicKey]
) -> None:
    service = make_service(public_keys, Clock(T0), timeout=2.0)
    with pytest.raises(
        ServiceUnreachable, match=re.escape("can't reach the NEXA account service at http://127.0.0.1:9")
    ):
        service.activate("http://127.0.0.1:9", "ORG-CODE")
    assert memory_keyring.entries == {}


# -- against the real service on loopback -----------------------------------------------------


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    with start_cloud(tmp_path / "cloud") as running:
        yield running


def online_service(cloud: Cloud, fingerprint: str = FINGERPRINT, **kwargs: object) -> LicenseService:
    identity = MachineIdentity(fingerprint, "gf-laptop-7", "gina", "test")
    return LicenseService(cloud.public_keys(), identity=identity, **kwargs)  # type: ignore[arg-type]


def files_containing(root: Path, needles: list[str]) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(n.encode() in data for n in needles):
                found.append(path)
    return found


def test_activate_status_refresh_and_no_secret_on_disk(
    memory_keyring: MemoryKeyring, cloud: Cloud, data_dir: Path, sqlite_db: Database
) -> None:
    service = online_service(cloud)
    state = service.activate(cloud.url + "/", f"  {cloud.org_code}  ")
    assert state.status is LicenseStatus.VALID and state.mode == "full", state.message
    assert state.days_left in (29, 30) and state.claims is not None
    assert state.claims.org_name == "Sierra Line Builders" and state.claims.fingerprint == FINGERPRINT
    assert (
        service.entitled("board") and service.entitled("verification") and not service.entitled("completion")
    )
    license_token = stored(memory_keyring, LICENSE_ENTRY)
    machine_token = stored(memory_keyring, TOKEN_ENTRY)
    assert license_token and machine_token
    assert stored(memory_keyring, SERVER_ENTRY) == cloud.url
    creds = service.sync_credentials()
    assert creds is not None and creds.machine_token == machine_token

    # Activating again on the same computer reuses its seat.
    first_machine = stored(memory_keyring, MACHINE_ENTRY)
    service.activate(cloud.url, cloud.org_code)
    assert stored(memory_keyring, MACHINE_ENTRY) == first_machine

    refreshed = service.refresh()
    assert refreshed.mode == "full" and refreshed.claims is not None
    assert refreshed.claims.issued_at > state.claims.issued_at
    assert stored(memory_keyring, LICENSE_ENTRY) != license_token

    # Usage goes out with the token from the keyring, and shows in the admin's analytics.
    with sqlite_db.begin() as conn:
        for _ in range(3):
            repo.add_usage_event(
                conn, "board.change", {"action": "Move", "from_column": "a", "to_column": "b"}
            )
    report = asyncio.run(OutboxSender(sqlite_db, service.sync_credentials).flush())
    assert report.ok and report.accepted == 3, report.error

    secrets = [v for (svc, _name), v in memory_keyring.entries.items() if svc == KEYRING_SERVICE]
    secrets += [license_token, machine_token, license_token.split(".")[1][:40]]
    assert not files_containing(data_dir, secrets)
    home_keyring = Path.home() / ".local" / "share" / "python_keyring"
    if home_keyring.exists():
        assert not files_containing(home_keyring, secrets)

    admin = online_service(cloud)
    admin.admin_login(cloud.url, cloud.admin_email, cloud.admin_password)
    rows = admin.analytics(days=7)
    assert sum(r.count for r in rows if r.kind == "board.move") == 3


def test_a_replayed_heartbeat_answer_is_refused(memory_keyring: MemoryKeyring, cloud: Cloud) -> None:
    service = online_service(cloud)
    service.activate(cloud.url, cloud.org_code)
    service.refresh()
    old_answer = cloud.recorder.answers("/v1/heartbeat")[-1]
    newer = service.refresh()
    cloud.recorder.canned["/v1/heartbeat"] = old_answer  # an attacker replays the earlier answer
    with pytest.raises(LicenseRefused, match="older license") as info:
        service.refresh()
    assert info.value.code == "REPLAYED"
    assert service.status().claims == newer.claims


def test_deactivate_frees_the_seat_and_clears_the_keyring(
    memory_keyring: MemoryKeyring, cloud: Cloud
) -> None:
    service = online_service(cloud)
    service.activate(cloud.url, cloud.org_code)
    admin = online_service(cloud)
    admin.admin_login(cloud.url, cloud.admin_email, cloud.admin_password)
    assert admin.seats().used == 2  # the fixture's machine and this one

    service.deactivate()
    assert admin.seats().used == 1
    assert service.mode() == "not_activated"
    for name in (LICENSE_ENTRY, TOKEN_ENTRY, SERVER_ENTRY, MACHINE_ENTRY):
        assert stored(memory_keyring, name) is None
    assert stored(memory_keyring, ISSUED_MARK_ENTRY) is not None  # the marks stay
    assert service.sync_credentials() is None


def test_admin_seats_revoke_and_add_seats(memory_keyring: MemoryKeyring, cloud: Cloud) -> None:
    service = online_service(cloud)
    service.activate(cloud.url, cloud.org_code)
    admin = online_service(cloud)
    with pytest.raises(AdminNotSignedIn):
        admin.seats()
    with pytest.raises(ServiceError) as bad:
        admin.admin_login(cloud.url, cloud.admin_email, "wrong password!")
    assert bad.value.code == "BAD_CREDENTIALS"

    session = admin.admin_login(cloud.url, cloud.admin_email, cloud.admin_password)
    assert session.org_name == "Sierra Line Builders"
    overview = admin.seats()
    assert (overview.seats, overview.used, overview.free) == (5, 2, 3)
    mine = [m for m in overview.machines if m.fingerprint_hint == FINGERPRINT[-6:]]
    assert len(mine) == 1 and mine[0].hostname == "gf-laptop-7" and mine[0].status == "active"

    pool = admin.add_seats(cloud.pool_id, 2)
    assert (pool.seats, pool.free) == (7, 5)

    revoked = admin.revoke(mine[0].id)
    assert revoked.status == "revoked"
    with pytest.raises(MachineRevoked):
        service.refresh()
    assert service.mode() == "not_activated" and stored(memory_keyring, LICENSE_ENTRY) is None


def test_activation_errors_are_clear_and_store_nothing(memory_keyring: MemoryKeyring, cloud: Cloud) -> None:
    service = online_service(cloud)
    with pytest.raises(ServiceError) as wrong:
        service.activate(cloud.url, "ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert wrong.value.code == "INVALID_ORG_CODE" and "org code" in str(wrong.value)
    with pytest.raises(LicensingError, match="not a web address"):
        service.activate("ftp://example.com", cloud.org_code)
    assert memory_keyring.entries == {}

    for n in range(4):  # 5 seats: the fixture's machine and four more
        online_service(cloud, machine_fingerprint(f"pc-{n}")).activate(cloud.url, cloud.org_code)
    memory_keyring.entries.clear()
    with pytest.raises(ServiceError) as full:
        service.activate(cloud.url, cloud.org_code)
    assert full.value.code == "NO_SEATS_AVAILABLE" and full.value.http_status == 409
    assert stored(memory_keyring, LICENSE_ENTRY) is None


# -- the board's write gate -------------------------------------------------------------------


def test_an_expired_license_makes_the_board_read_only_without_losing_data(
    memory_keyring: MemoryKeyring,
    signing_key: Ed25519PrivateKey,
    public_keys: dict[str, Ed25519PublicKey],
    db: Database,
    board_config: BoardConfig,
    make_job: MakeJob,
    people_and_crews: PeopleAndCrews,
) -> None:
    from nexa_desktop.domain.errors import ReadOnlyMode
    from nexa_desktop.services.board import BoardService
    from nexa_desktop.services.gate import write_gate

    clock = Clock(T0)
    service = make_service(public_keys, clock)
    board = BoardService(db, board_config, "tester", write_gate=write_gate(service, clock))
    job = make_job(status="ready_to_submit", gf_id=people_and_crews.gf, prefield_complete=True)

    moved = board.move_to_column(job.id, job.version, "submitted")  # not activated: evaluation
    service.install_license(make_token(signing_key, days=30, grace_days=7))
    clock.now = T0 + dt.timedelta(days=36)  # in grace: still full
    moved = board.move_to_column(job.id, moved.job.version, "billed")
    clock.now = T0 + dt.timedelta(days=40)  # beyond grace: read-only
    with pytest.raises(ReadOnlyMode, match="read-only"):
        board.transition(job.id, moved.job.version, JobStatus.INVOICED)
    kept = board.job(job.id)
    assert kept.status is JobStatus.BILLED and kept.version == moved.job.version
    assert [h.action for h in board.history(job.id)] == ["Bill", "Submit to PG&E"]  # nothing lost


def test_a_hung_service_never_holds_up_the_license_status(
    memory_keyring: MemoryKeyring, signing_key: Ed25519PrivateKey, public_keys: dict[str, Ed25519PublicKey]
) -> None:
    """Board writes ask status() on every drop: a renewal stuck on the network must not block it."""
    import socket
    import threading
    import time

    silent = socket.socket()  # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        service = make_service(public_keys, Clock(T0), timeout=4.0)
        service.install_license(make_token(signing_key))
        memory_keyring.set_password(KEYRING_SERVICE, TOKEN_ENTRY, "nxm_token")
        memory_keyring.set_password(
            KEYRING_SERVICE, SERVER_ENTRY, f"http://127.0.0.1:{silent.getsockname()[1]}"
        )
        outcome: list[BaseException] = []

        def renew() -> None:
            try:
                service.refresh()
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=renew)
        worker.start()
        time.sleep(0.3)  # the renewal is now waiting on the silent service
        started = time.monotonic()
        state = service.status(T0 + dt.timedelta(days=1))
        assert time.monotonic() - started < 0.5
        assert state.mode == "full"
        worker.join(10)
        assert outcome and isinstance(outcome[0], ServiceUnreachable)
    finally:
        silent.close()

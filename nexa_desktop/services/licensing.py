"""Seat licensing on the desktop: activate, check offline, refresh, deactivate, and the admin calls.

Secrets (the machine token and the signed license) live only in the OS keyring under the service
name ``"NEXA Desktop"``, never in files or the database. Offline checks use the Ed25519 public keys
shipped in ``resources/license_keys/*.pem``. Two high-water marks, kept in the keyring too, stop
the obvious tricks: the latest clock reading seen (a clock set back further than
:data:`CLOCK_ROLLBACK_TOLERANCE` is reported, not accepted) and the newest license issue time seen
(an older license put back is refused).

Without a usable keyring, NEXA runs in evaluation mode (not activated: the board works, licensed
features stay off) until one is available: it never falls back to writing secrets to disk.
No Qt here; the UI calls these methods through ``ops``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import hmac
import logging
import platform
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
import keyring
import keyring.backend
import keyring.errors
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from nexa_desktop import __version__ as _app_version
from nexa_desktop import paths
from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.licensing import (
    LicenseCheck,
    LicenseClaims,
    LicenseStatus,
    format_datetime,
    load_public_keys,
    parse_datetime,
    verify_license,
)

log = logging.getLogger(__name__)

#: The keyring service name every entry is stored under.
KEYRING_SERVICE = "NEXA Desktop"
#: Keyring entry names (the keyring "username" under :data:`KEYRING_SERVICE`).
LICENSE_ENTRY = "license"
TOKEN_ENTRY = "machine_token"
SERVER_ENTRY = "server_url"
MACHINE_ENTRY = "machine_id"
CLOCK_MARK_ENTRY = "clock_high_water"
ISSUED_MARK_ENTRY = "license_high_water"
_PROBE_ENTRY = "probe"
_LICENSE_ENTRIES = (LICENSE_ENTRY, TOKEN_ENTRY, SERVER_ENTRY, MACHINE_ENTRY)

#: A clock behind the high-water mark by more than this is a rollback. Generous on purpose:
#: a PC whose hardware clock holds local time is off by up to ~10 h until it syncs, and the mark
#: never moves back, so a user gains at most this much however often the clock is turned back.
CLOCK_ROLLBACK_TOLERANCE = dt.timedelta(hours=12)
#: The clock mark is rewritten only when it advanced at least this much (keyring writes are slow).
_CLOCK_MARK_STEP = dt.timedelta(minutes=5)
#: ``status()`` answers from memory for this many seconds (``mode``/``entitled`` are called often).
_CACHE_SECONDS = 30.0

_FINGERPRINT_SALT = b"NEXA Desktop machine fingerprint v1"

Mode = Literal["full", "read_only", "not_activated"]
_M = TypeVar("_M", bound=BaseModel)
Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- errors -----------------------------------------------------------------------------------


class LicensingError(NexaError):
    """A licensing call failed; ``code`` is the machine-readable reason (the service's or ours)."""

    def __init__(self, message: str, code: str = "LICENSING_ERROR", http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class KeyringUnavailable(LicensingError):
    """The OS keyring is absent, locked or unsafe. The documented fallback is read-only mode."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"NEXA Desktop can't use this computer's keyring ({detail}). The license and sign-in "
            "token are kept only there, never in files, so NEXA runs in evaluation mode (not activated) "
            "until a keyring is available: unlock it, or install/enable one (Windows Credential Manager, "
            "macOS Keychain, GNOME Keyring or KWallet), then restart NEXA. Your data is not affected.",
            code="KEYRING_UNAVAILABLE",
        )
        self.detail = detail


class ServiceUnreachable(LicensingError):
    """The account service could not be reached (offline, wrong address, timeout)."""


class ServiceError(LicensingError):
    """The account service answered with an error (``code`` is its error code)."""


class MachineRevoked(ServiceError):
    """An admin revoked this computer's seat; the local license was removed."""


class LicenseRefused(LicensingError):
    """The service sent a license this computer must not accept (replayed, unknown key, …)."""


class NotActivated(LicensingError):
    """The call needs an activated computer."""


class AdminNotSignedIn(LicensingError):
    """An admin call was made without (or after the expiry of) an admin sign-in."""


# -- status -----------------------------------------------------------------------------------


class DesktopStatus(StrEnum):
    """Reasons only the desktop can give, beside the domain's :class:`LicenseStatus` codes."""

    NOT_ACTIVATED = "NOT_ACTIVATED"
    CLOCK_ROLLBACK = "CLOCK_ROLLBACK"
    REPLAYED = "REPLAYED"
    KEYRING_UNAVAILABLE = "KEYRING_UNAVAILABLE"


@dataclass(frozen=True)
class LicenseState:
    """What the app may do now, and why: ``status`` is a machine-readable code, ``message`` a
    sentence for the status bar. ``check`` is the offline signature/expiry check, when one ran."""

    status: LicenseStatus | DesktopStatus
    message: str
    mode: Mode
    claims: LicenseClaims | None = None
    days_left: int | None = None
    check: LicenseCheck | None = None
    checked_at: dt.datetime | None = None

    @property
    def code(self) -> str:
        return str(self.status.value)

    @property
    def usable(self) -> bool:
        return self.mode == "full"

    def allows(self, entitlement: str) -> bool:
        """True in full mode when the license carries ``entitlement``."""
        return self.usable and self.claims is not None and entitlement in self.claims.entitlements


def _mode_for(status: LicenseStatus | DesktopStatus) -> Mode:
    if status is DesktopStatus.NOT_ACTIVATED:
        return "not_activated"
    if isinstance(status, LicenseStatus) and status.usable:
        return "full"
    return "read_only"


_READ_ONLY_NOTE = " NEXA is read-only until then; nothing is deleted."


# -- machine identity -------------------------------------------------------------------------


@dataclass(frozen=True)
class MachineIdentity:
    """What activation sends about this computer. ``source`` says where the machine id came from."""

    fingerprint: str
    hostname: str
    os_user: str
    source: str


def _linux_machine_id() -> str | None:
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            value = Path(candidate).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if value:
            return value
    return None


def _windows_machine_guid() -> str | None:
    if sys.platform != "win32":
        return None
    import winreg

    try:
        with winreg.OpenKey(
            winreg.HKEY_LOCAL_MACHINE,
            r"SOFTWARE\Microsoft\Cryptography",
            0,
            winreg.KEY_READ | winreg.KEY_WOW64_64KEY,
        ) as key:
            value, _kind = winreg.QueryValueEx(key, "MachineGuid")
    except OSError:
        return None
    return str(value) if value else None


def _macos_platform_uuid() -> str | None:
    try:
        out = subprocess.run(
            ["/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice"],
            capture_output=True,
            text=True,
            timeout=3,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'"IOPlatformUUID"\s*=\s*"([^"]+)"', out)
    return match.group(1) if match else None


def raw_machine_id() -> tuple[str, str]:
    """``(value, source)``: the platform's stable machine id, or a weaker fallback."""
    value: str | None = None
    source = ""
    if sys.platform == "win32":
        value, source = _windows_machine_guid(), "windows-machine-guid"
    elif sys.platform == "darwin":
        value, source = _macos_platform_uuid(), "macos-platform-uuid"
    else:
        value, source = _linux_machine_id(), "machine-id"
    if value:
        return value, source
    node = uuid.getnode()
    if not (node >> 40) & 1:  # a real (not randomly generated) MAC address
        return f"mac:{node:012x}", "mac-address"
    return f"host:{platform.node()}", "hostname"


def machine_fingerprint(raw: str | None = None) -> str:
    """A stable, salted hash of this computer's machine id (the id itself never leaves)."""
    value = raw if raw is not None else raw_machine_id()[0]
    return hmac.new(_FINGERPRINT_SALT, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def machine_identity() -> MachineIdentity:
    raw, source = raw_machine_id()
    return MachineIdentity(machine_fingerprint(raw), socket.gethostname() or "unknown", _os_user(), source)


# -- keyring ----------------------------------------------------------------------------------


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


class SecretStore:
    """The keyring entries under :data:`KEYRING_SERVICE`; every failure is :class:`KeyringUnavailable`.

    Backends with a priority below 1 are refused: keyring's own "not recommended" line, which
    covers the fail/null backends and keyrings.alt's plaintext file.
    """

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._explicit = backend

    def backend(self) -> keyring.backend.KeyringBackend:
        backend = self._explicit if self._explicit is not None else keyring.get_keyring()
        try:
            priority = float(backend.priority)
        except Exception as exc:
            raise KeyringUnavailable(f"{_backend_name(backend)} is not usable: {exc}") from exc
        if priority < 1:
            if "fail" in type(backend).__module__.split("."):
                raise KeyringUnavailable("no keyring was found on this computer")
            raise KeyringUnavailable(
                f"the only keyring found, {_backend_name(backend)}, is not a secure store"
            )
        return backend

    def probe(self) -> None:
        """Write, read back and delete a scratch entry: proves the keyring works right now."""
        self.set(_PROBE_ENTRY, uuid.uuid4().hex)
        self.delete(_PROBE_ENTRY)

    def get(self, name: str) -> str | None:
        backend = self.backend()
        try:
            value = backend.get_password(KEYRING_SERVICE, name)
        except Exception as exc:
            raise KeyringUnavailable(self._describe(exc)) from exc
        return value if isinstance(value, str) else None

    def set(self, name: str, value: str) -> None:
        backend = self.backend()
        try:
            backend.set_password(KEYRING_SERVICE, name, value)
            stored = backend.get_password(KEYRING_SERVICE, name)
        except Exception as exc:
            raise KeyringUnavailable(self._describe(exc)) from exc
        if stored != value:
            raise KeyringUnavailable(f"{_backend_name(backend)} did not keep what was stored")

    def delete(self, name: str) -> None:
        backend = self.backend()
        try:
            if backend.get_password(KEYRING_SERVICE, name) is None:
                return
            backend.delete_password(KEYRING_SERVICE, name)
        except keyring.errors.PasswordDeleteError:
            return
        except Exception as exc:
            raise KeyringUnavailable(self._describe(exc)) from exc

    @staticmethod
    def _describe(exc: BaseException) -> str:
        if isinstance(exc, keyring.errors.NoKeyringError):
            return "no keyring was found on this computer"
        if isinstance(exc, keyring.errors.KeyringLocked):
            return "the keyring is locked"
        text = str(exc).strip() or type(exc).__name__
        return f"{type(exc).__name__}: {text}"


# -- admin results ----------------------------------------------------------------------------


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class AdminSession(_Result):
    """An admin sign-in (the token itself stays inside :class:`LicenseService`)."""

    server_url: str
    org_id: str
    org_name: str
    expires_at: dt.datetime


class SeatPool(_Result):
    id: str
    seats: int
    used: int
    expires_at: dt.datetime | None = None
    entitlements: tuple[str, ...] = ()

    @property
    def free(self) -> int:
        return max(0, self.seats - self.used)


class MachineSeat(_Result):
    id: str
    hostname: str
    os_user: str
    fingerprint_hint: str
    activated_at: dt.datetime | None = None
    last_seen_at: dt.datetime | None = None
    status: Literal["active", "revoked", "expired_lease"]


class SeatsOverview(_Result):
    pools: tuple[SeatPool, ...]
    machines: tuple[MachineSeat, ...]

    @property
    def seats(self) -> int:
        return sum(p.seats for p in self.pools)

    @property
    def used(self) -> int:
        return sum(p.used for p in self.pools)

    @property
    def free(self) -> int:
        return sum(p.free for p in self.pools)


class AnalyticsRow(_Result):
    day: dt.date
    kind: str
    code: str | None = None
    count: int
    duration_ms_total: int | None = None


class _ActivateAnswer(_Result):
    license: str
    machine_token: str
    machine_id: str
    public_key_id: str | None = None


class _LicenseAnswer(_Result):
    license: str


class _LoginAnswer(_Result):
    token: str
    expires_at: dt.datetime
    org_id: str
    org_name: str


class _SeatsAnswer(_Result):
    pools: tuple[SeatPool, ...]
    machines: tuple[MachineSeat, ...]


class _AnalyticsAnswer(_Result):
    days: tuple[AnalyticsRow, ...]


@dataclass(frozen=True)
class SyncCredentials:
    """What the outbox sender needs: where to send and the machine token."""

    server_url: str
    machine_token: str


# -- HTTP -------------------------------------------------------------------------------------


def normalise_server_url(server_url: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash; raises for anything else."""
    text = (server_url or "").strip().rstrip("/")
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError) as exc:
        raise LicensingError(f"{server_url!r} is not a web address.", code="BAD_SERVER_URL") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise LicensingError(
            f"{server_url!r} is not a web address; it should look like https://licenses.example.com.",
            code="BAD_SERVER_URL",
        )
    return text


_ERROR_CLASSES: dict[str, type[ServiceError]] = {"MACHINE_REVOKED": MachineRevoked}


def _service_error(resp: httpx.Response, what: str) -> ServiceError:
    code, message = f"HTTP_{resp.status_code}", ""
    try:
        body = resp.json()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = str(error.get("code") or code)
            message = str(error.get("message") or "")
    except ValueError:
        pass
    if not message:
        message = f"the service answered {resp.status_code} {resp.reason_phrase}".strip()
    if resp.status_code == 429:
        retry = resp.headers.get("Retry-After")
        message += f" Try again in {retry} seconds." if retry else " Try again in a minute."
    cls = _ERROR_CLASSES.get(code, ServiceError)
    return cls(f"{what} failed: {message}", code=code, http_status=resp.status_code)


# -- the service ------------------------------------------------------------------------------


class LicenseService:
    """Activation, offline status and the admin calls. Thread-safe; blocking (run it via ``ops``).

    ``public_keys`` (kid → key) defaults to ``resources/license_keys/*.pem``; ``backend`` to the
    keyring's default backend; ``clock`` to the system clock (all injectable for tests).
    """

    def __init__(
        self,
        public_keys: Mapping[str, Ed25519PublicKey] | None = None,
        *,
        backend: keyring.backend.KeyringBackend | None = None,
        clock: Clock = _utcnow,
        identity: MachineIdentity | None = None,
        timeout: float = 15.0,
        rollback_tolerance: dt.timedelta = CLOCK_ROLLBACK_TOLERANCE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._keys = dict(public_keys) if public_keys is not None else None
        self.secrets = SecretStore(backend)
        self._clock = clock
        self._identity = identity
        self._timeout = timeout
        self._tolerance = rollback_tolerance
        self._transport = transport
        self._lock = threading.RLock()
        self._cache: tuple[float, LicenseState] | None = None
        self._admin: tuple[AdminSession, str] | None = None

    # -- identity and keys --------------------------------------------------------------------

    @property
    def identity(self) -> MachineIdentity:
        if self._identity is None:
            self._identity = machine_identity()
        return self._identity

    @property
    def public_keys(self) -> Mapping[str, Ed25519PublicKey]:
        if self._keys is None:
            folder = paths.resources_dir() / "license_keys"
            try:
                self._keys = load_public_keys(folder) if folder.is_dir() else {}
            except ValueError as exc:
                log.error("license keys unreadable: %s", exc)
                self._keys = {}
        return self._keys

    # -- activation ---------------------------------------------------------------------------

    def activate(self, server_url: str, org_code: str) -> LicenseState:
        """Take a seat of the org with ``org_code`` and store its license in the keyring.

        Raises :class:`KeyringUnavailable` before contacting the service when there is nowhere
        safe to keep the license, :class:`ServiceUnreachable`/:class:`ServiceError` for the
        service, and :class:`LicenseRefused` when the license it sent does not check out here.
        """
        server = normalise_server_url(server_url)
        code = (org_code or "").strip()
        if not code:
            raise LicensingError("Enter the org code your office admin gave you.", code="INVALID_ORG_CODE")
        with self._lock:
            self.secrets.probe()  # fail before taking a seat we could not remember
            ident = self.identity
        body = {
            "org_code": code,
            "fingerprint": ident.fingerprint,
            "hostname": ident.hostname,
            "os_user": ident.os_user,
            "app_version": _app_version,
        }
        # The network call runs outside the lock: status() (every board write) never waits on it.
        answer = self._call("POST", server, "/v1/activate", "Activation", json=body)
        with self._lock:
            parsed = self._parse(_ActivateAnswer, answer, "Activation")
            self._accept_license(parsed.license)
            self.secrets.set(TOKEN_ENTRY, parsed.machine_token)
            self.secrets.set(SERVER_ENTRY, server)
            self.secrets.set(MACHINE_ENTRY, parsed.machine_id)
            self._cache = None
            return self.status()

    def refresh(self) -> LicenseState:
        """Heartbeat: fetch a fresh license (and renew a floating seat's lease)."""
        with self._lock:
            server, token = self._credentials_or_raise()
        try:
            answer = self._call("POST", server, "/v1/heartbeat", "License refresh", json={}, token=token)
        except MachineRevoked:
            with self._lock:
                self._forget()
            raise
        with self._lock:
            parsed = self._parse(_LicenseAnswer, answer, "License refresh")
            self._accept_license(parsed.license)
            self._cache = None
            return self.status()

    def install_license(self, token: str) -> LicenseState:
        """Store a license obtained another way (e.g. pasted from an admin's e-mail).

        It must verify here (known key, this computer's fingerprint, not from the future) and must
        not be older than the newest license this computer has seen; else :class:`LicenseRefused`.
        """
        with self._lock:
            self._accept_license((token or "").strip(), fresh=False)
            self._cache = None
            return self.status()

    def deactivate(self) -> None:
        """Give this computer's seat back and remove the license and token from the keyring.

        The high-water marks stay, so deactivating and putting an old license back gains nothing.
        If the service cannot be reached nothing is removed (the seat would stay taken).
        """
        with self._lock:
            creds = self._stored_credentials()
        if creds is not None:
            try:
                self._call(
                    "POST", creds.server_url, "/v1/deactivate", "Deactivation", token=creds.machine_token
                )
            except ServiceError as exc:
                if exc.http_status not in (401, 403, 404):
                    raise
                log.info("seat already gone on the service (%s); removing it here", exc.code)
        with self._lock:
            self._forget()

    def _forget(self) -> None:
        for name in _LICENSE_ENTRIES:
            self.secrets.delete(name)
        self._cache = None

    def _accept_license(self, token: str, *, fresh: bool = True) -> LicenseCheck:
        """Verify a license and store it, refusing older or foreign ones. ``fresh``: it came from
        the service just now, so its signed issue time is the current time."""
        mark = self._read_mark(ISSUED_MARK_ENTRY)  # the keyring first: no use checking what can't be kept
        now = self._clock()
        check = verify_license(token, self.public_keys, now=now, fingerprint=self.identity.fingerprint)
        if check.claims is None or check.status in (
            LicenseStatus.FINGERPRINT_MISMATCH,
            LicenseStatus.NOT_YET_VALID,
        ):
            raise LicenseRefused(
                f"The license is not valid on this computer: {check.message}",
                code=str(check.status.value),
            )
        issued = check.claims.issued_at
        if mark is not None and issued < mark:
            raise LicenseRefused(
                f"The license offered was issued {format_datetime(issued)}, before the one this "
                f"computer already has ({format_datetime(mark)}). An older license (a replayed answer "
                "or an old copy) is refused; refresh online or ask your office admin for a new one.",
                code=DesktopStatus.REPLAYED.value,
            )
        self.secrets.set(LICENSE_ENTRY, token)
        self.secrets.set(ISSUED_MARK_ENTRY, format_datetime(issued))
        # A fresh license's signed issue time is trusted current time: re-anchor the clock mark to
        # it, so a clock that once ran ahead (and was corrected) stops counting as a rollback once
        # online. A license from elsewhere may be days old: it can only move the mark forward.
        clock_mark = None if fresh else self._read_mark(CLOCK_MARK_ENTRY)
        if clock_mark is None or issued > clock_mark:
            self.secrets.set(CLOCK_MARK_ENTRY, format_datetime(issued))
        return check

    # -- offline status -----------------------------------------------------------------------

    def status(self, now: dt.datetime | None = None) -> LicenseState:
        """The license state at ``now`` (default: the clock), checked offline. Never raises."""
        cache = self._cache  # a fresh cached answer needs no lock (the hot path: every board write)
        if now is None and cache is not None and time.monotonic() - cache[0] < _CACHE_SECONDS:
            return cache[1]
        with self._lock:
            if now is None and self._cache is not None:
                at, cached = self._cache
                if time.monotonic() - at < _CACHE_SECONDS:
                    return cached
            state = self._status(now if now is not None else self._clock())
            if now is None:
                self._cache = (time.monotonic(), state)
            return state

    def _status(self, now: dt.datetime) -> LicenseState:
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        try:
            token = self.secrets.get(LICENSE_ENTRY)
            clock_mark = self._read_mark(CLOCK_MARK_ENTRY)
            issued_mark = self._read_mark(ISSUED_MARK_ENTRY)
        except KeyringUnavailable as exc:
            # No license can be read without a keyring: evaluation, as if not activated.
            return LicenseState(DesktopStatus.KEYRING_UNAVAILABLE, str(exc), "not_activated", checked_at=now)
        rolled_back = clock_mark is not None and now < clock_mark - self._tolerance
        if not rolled_back:
            self._advance_clock_mark(clock_mark, now)
        if token is None:
            return LicenseState(
                DesktopStatus.NOT_ACTIVATED,
                "NEXA Desktop is not activated on this computer. Activate it with the org code from "
                "your office admin.",
                "not_activated",
                checked_at=now,
            )
        if rolled_back:
            assert clock_mark is not None
            return LicenseState(
                DesktopStatus.CLOCK_ROLLBACK,
                f"This computer's clock says {now:%Y-%m-%d %H:%M} UTC, but NEXA has already seen "
                f"{clock_mark:%Y-%m-%d %H:%M} UTC: the clock was set back. Correct the date and time "
                "(or connect to the internet so NEXA can refresh the license)." + _READ_ONLY_NOTE,
                "read_only",
                checked_at=now,
            )
        check = verify_license(token, self.public_keys, now=now, fingerprint=self.identity.fingerprint)
        claims = check.claims
        if claims is not None and issued_mark is not None and claims.issued_at < issued_mark:
            return LicenseState(
                DesktopStatus.REPLAYED,
                f"The stored license (issued {claims.issued_at:%Y-%m-%d %H:%M} UTC) is older than one "
                f"this computer already had ({issued_mark:%Y-%m-%d %H:%M} UTC), so it was refused. "
                "Connect to the internet to refresh it, or activate again." + _READ_ONLY_NOTE,
                "read_only",
                claims=claims,
                check=check,
                checked_at=now,
            )
        message = check.message
        if check.status in (
            LicenseStatus.BAD_SIGNATURE,
            LicenseStatus.MALFORMED,
            LicenseStatus.UNKNOWN_KEY,
            LicenseStatus.FINGERPRINT_MISMATCH,
            LicenseStatus.NOT_YET_VALID,
        ):
            message += _READ_ONLY_NOTE
        return LicenseState(
            check.status, message, _mode_for(check.status), claims, check.days_left, check, now
        )

    def _advance_clock_mark(self, mark: dt.datetime | None, now: dt.datetime) -> None:
        if mark is not None and now - mark < _CLOCK_MARK_STEP:
            return
        try:
            self.secrets.set(CLOCK_MARK_ENTRY, format_datetime(now))
        except KeyringUnavailable as exc:
            log.warning("could not update the clock high-water mark: %s", exc.detail)

    def _read_mark(self, name: str) -> dt.datetime | None:
        text = self.secrets.get(name)
        if not text:
            return None
        try:
            return parse_datetime(text)
        except ValueError:
            log.warning("keyring entry %r is not a timestamp; ignoring it", name)
            return None

    def refresh_due_in(self, now: dt.datetime | None = None) -> float:
        """Seconds until :meth:`refresh` should run: half a floating seat's lease, else 6 hours
        (1 hour when the license expires within a week or is in grace, 15 minutes when read-only)."""
        state = self.status(now)
        claims = state.claims
        if state.mode == "read_only":
            return 900.0  # expired, clock set back, replayed…: a fresh license may put it right
        if claims is None:
            return 6 * 3600.0
        at = now or self._clock()
        if claims.lease_expires_at is not None:
            lease = (claims.lease_expires_at - claims.issued_at).total_seconds()
            return max(30.0, min(lease / 2, (claims.lease_expires_at - at).total_seconds() / 2))
        if state.status in (LicenseStatus.EXPIRING_SOON, LicenseStatus.GRACE):
            return 3600.0
        return 6 * 3600.0

    def mode(self, now: dt.datetime | None = None) -> Mode:
        """``"full"``, ``"read_only"`` (never deletes data) or ``"not_activated"``."""
        return self.status(now).mode

    def entitled(self, feature: str, now: dt.datetime | None = None) -> bool:
        """True when the app is in full mode and the license carries ``feature``."""
        return self.status(now).allows(feature)

    # -- credentials for the outbox sender ----------------------------------------------------

    def _stored_credentials(self) -> SyncCredentials | None:
        server = self.secrets.get(SERVER_ENTRY)
        token = self.secrets.get(TOKEN_ENTRY)
        if not server or not token:
            return None
        return SyncCredentials(server, token)

    def _credentials_or_raise(self) -> tuple[str, str]:
        creds = self._stored_credentials()
        if creds is None:
            raise NotActivated(
                "This computer is not activated. Activate it with your office's org code first.",
                code=DesktopStatus.NOT_ACTIVATED.value,
            )
        return creds.server_url, creds.machine_token

    def sync_credentials(self) -> SyncCredentials | None:
        """Server and machine token for the outbox sender; ``None`` when not activated or no keyring."""
        try:
            return self._stored_credentials()
        except KeyringUnavailable as exc:
            log.info("usage sync paused: %s", exc.detail)
            return None

    # -- admin --------------------------------------------------------------------------------

    def admin_login(self, server_url: str, email: str, password: str) -> AdminSession:
        """Sign in as an office admin. The token is kept in memory only (never in the keyring)."""
        server = normalise_server_url(server_url)
        answer = self._call(
            "POST", server, "/v1/auth/login", "Sign-in", json={"email": email.strip(), "password": password}
        )
        parsed = self._parse(_LoginAnswer, answer, "Sign-in")
        session = AdminSession(
            server_url=server, org_id=parsed.org_id, org_name=parsed.org_name, expires_at=parsed.expires_at
        )
        with self._lock:
            self._admin = (session, parsed.token)
        return session

    def admin_logout(self) -> None:
        with self._lock:
            self._admin = None

    @property
    def admin_session(self) -> AdminSession | None:
        with self._lock:
            return self._admin[0] if self._admin else None

    def _admin_call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        with self._lock:
            admin = self._admin
        if admin is None:
            raise AdminNotSignedIn(f"{what}: sign in as an office admin first.", code="NOT_SIGNED_IN")
        session, token = admin
        expires = (
            session.expires_at if session.expires_at.tzinfo else session.expires_at.replace(tzinfo=dt.UTC)
        )
        if expires <= _utcnow():
            self.admin_logout()
            raise AdminNotSignedIn(
                f"{what}: the admin sign-in has expired; sign in again.", code="NOT_SIGNED_IN"
            )
        try:
            return self._call(method, session.server_url, path, what, token=token, **kwargs)
        except ServiceError as exc:
            if exc.http_status == 401:
                self.admin_logout()
            raise

    def seats(self) -> SeatsOverview:
        """Seat pools (seats, used, free) and the machines holding seats."""
        parsed = self._parse(
            _SeatsAnswer, self._admin_call("GET", "/v1/admin/seats", "Loading seats"), "Loading seats"
        )
        return SeatsOverview(pools=parsed.pools, machines=parsed.machines)

    def revoke(self, machine_id: str) -> MachineSeat:
        """Revoke a machine's seat (a lost laptop); it loses its license at its next check-in."""
        answer = self._admin_call("POST", f"/v1/admin/machines/{_path_part(machine_id)}/revoke", "Revoking")
        return self._parse(MachineSeat, answer, "Revoking")

    def add_seats(self, pool_id: str, n: int) -> SeatPool:
        """Add ``n`` seats to a pool."""
        if n < 1:
            raise LicensingError("Add at least one seat.", code="BAD_SEAT_COUNT")
        answer = self._admin_call(
            "POST", f"/v1/admin/pools/{_path_part(pool_id)}/seats", "Adding seats", json={"add": n}
        )
        return self._parse(SeatPool, answer, "Adding seats")

    def analytics(self, days: int = 30) -> list[AnalyticsRow]:
        """This org's aggregate usage per day and kind for the last ``days`` days."""
        answer = self._admin_call(
            "GET", "/v1/admin/analytics", "Loading analytics", params={"days": max(1, int(days))}
        )
        return list(self._parse(_AnalyticsAnswer, answer, "Loading analytics").days)

    # -- plumbing -----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        server: str,
        path: str,
        what: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        headers = {"Accept": "application/json", "User-Agent": f"NEXA-Desktop/{_app_version}"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            with httpx.Client(timeout=self._timeout, transport=self._transport) as client:
                resp = client.request(method, server + path, headers=headers, json=json, params=params)
        except httpx.TransportError as exc:
            raise ServiceUnreachable(
                f"{what} failed: can't reach the NEXA account service at {server} "
                f"({type(exc).__name__}: {exc or 'no answer'}). Check the address and the internet "
                "connection; NEXA keeps working offline on a valid license.",
                code="SERVICE_UNREACHABLE",
            ) from exc
        if resp.status_code >= 400:
            raise _service_error(resp, what)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise ServiceError(
                f"{what} failed: the account service sent an answer NEXA can't read. Check the address.",
                code="BAD_RESPONSE",
                http_status=resp.status_code,
            ) from exc

    @staticmethod
    def _parse(model: type[_M], data: Any, what: str) -> _M:
        try:
            return model.model_validate(data)
        except PydanticValidationError as exc:
            raise ServiceError(
                f"{what} failed: the account service's answer was not what NEXA expects ({exc.error_count()} "
                "problem(s)). NEXA Desktop or the service may need an update.",
                code="BAD_RESPONSE",
            ) from exc


def _path_part(value: str) -> str:
    text = str(value)
    if not text or not re.fullmatch(r"[A-Za-z0-9_.~-]{1,100}", text):
        raise LicensingError(f"{value!r} is not a valid id.", code="BAD_ID")
    return text

"""Use cases of the account service, shared by the HTTP routes and the admin CLI.

Every method takes its own transaction. Seat allocation locks the org's pool rows
(``SELECT … FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and the unique constraint
on ``(pool_id, seat_slot)`` is the backstop; conflicting transactions are retried.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from nexa_cloud import audit
from nexa_cloud.config import Settings
from nexa_cloud.db import Database
from nexa_cloud.errors import ApiError, not_found
from nexa_cloud.keys import KeyStore
from nexa_cloud.models import admin_tokens, admin_users, machines, orgs, seat_pools, usage_daily, usage_events
from nexa_cloud.security import (
    ADMIN_TOKEN_PREFIX,
    MACHINE_TOKEN_PREFIX,
    Passwords,
    new_org_code,
    new_token,
    org_code_hash,
    token_hash,
)
from nexa_desktop.domain.licensing import (
    ENTITLEMENTS,
    LicenseClaims,
    UsageEvent,
    UsageKind,
    UsageResult,
    sign_license,
)

log = logging.getLogger(__name__)
AnyRow = Any  # SQLAlchemy rows (typed per query, which adds nothing here)

MAX_SEATS = 100_000
ACTIVE, REVOKED, EXPIRED_LEASE, DEACTIVATED = "active", "revoked", "expired_lease", "deactivated"


class ServiceError(ApiError):
    """A refused admin operation (also used by the CLI)."""


@dataclass(frozen=True)
class MachineAuth:
    machine_id: str
    org_id: str


@dataclass(frozen=True)
class AdminAuth:
    admin_id: str
    org_id: str
    email: str

    @property
    def actor(self) -> str:
        return f"admin:{self.email}"


@dataclass(frozen=True)
class Activation:
    license: str
    machine_token: str
    machine_id: str
    public_key_id: str


@dataclass(frozen=True)
class IssuedLicense:
    license: str
    lease_expires_at: dt.datetime | None


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: dt.datetime
    org_id: str
    org_name: str


@dataclass(frozen=True)
class _Grant:
    """What goes into a license, gathered inside the transaction and signed after it."""

    machine_id: str
    org_id: str
    org_name: str
    pool_id: str
    fingerprint: str
    entitlements: tuple[str, ...]
    pool_expires_at: dt.datetime
    lease_expires_at: dt.datetime | None


def parse_entitlements(text: str | Iterable[str]) -> tuple[str, ...]:
    """Validated, sorted, de-duplicated entitlements from ``"a,b"`` or an iterable."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = sorted({item.strip().lower() for item in items if item.strip()})
    unknown = [n for n in names if n not in ENTITLEMENTS]
    if unknown or not names:
        raise ServiceError(
            422,
            "INVALID_ENTITLEMENTS",
            f"Entitlements must be some of {', '.join(ENTITLEMENTS)}; got {', '.join(unknown) or 'none'}.",
        )
    return tuple(names)


# Hot-path statements are built once (bind parameters only), which keeps per-request overhead low.
_GRANT_BASE = (
    select(
        machines.c.id,
        machines.c.org_id,
        machines.c.pool_id,
        machines.c.fingerprint,
        machines.c.status,
        machines.c.seat_slot,
        machines.c.lease_expires_at,
        orgs.c.name.label("org_name"),
        seat_pools.c.entitlements,
        seat_pools.c.expires_at.label("pool_expires_at"),
    )
    .join(orgs, orgs.c.id == machines.c.org_id)
    .join(seat_pools, seat_pools.c.id == machines.c.pool_id, isouter=True)
)
_GRANT_QUERY = _GRANT_BASE.where(machines.c.id == bindparam("machine_id"))
_LICENSE_BY_TOKEN = _GRANT_BASE.where(machines.c.token_hash == bindparam("token_hash"))
_MACHINE_BY_TOKEN = select(machines.c.id, machines.c.org_id, machines.c.status).where(
    machines.c.token_hash == bindparam("token_hash")
)
_ADMIN_BY_TOKEN = (
    select(admin_tokens.c.expires_at, admin_users.c.id, admin_users.c.org_id, admin_users.c.email)
    .join(admin_users, admin_users.c.id == admin_tokens.c.admin_id)
    .where(admin_tokens.c.token_hash == bindparam("token_hash"))
)


def _dialect_insert(conn: Connection, table: Any) -> Any:
    return (pg_dialect if conn.dialect.name == "postgresql" else sqlite_dialect).insert(table)


class CloudService:
    """Seats, licenses, usage and analytics over one database."""

    def __init__(self, db: Database, settings: Settings, keys: KeyStore, passwords: Passwords) -> None:
        self.db = db
        self.settings = settings
        self.keys = keys
        self.passwords = passwords

    def now(self) -> dt.datetime:
        return self.settings.now()

    # -- admin set-up (CLI) -------------------------------------------------------------------

    def create_org(self, name: str, *, actor: str = "cli") -> tuple[str, str]:
        """A new organisation; returns ``(org_id, org_code)`` (the code is shown only now)."""
        name = name.strip()
        if not name or len(name) > 200:
            raise ServiceError(422, "INVALID_NAME", "The organisation name must be 1 to 200 characters.")
        org_id, code = str(uuid.uuid4()), new_org_code()

        def work(conn: Connection) -> None:
            now = self.now()
            conn.execute(
                insert(orgs).values(id=org_id, name=name, code_hash=org_code_hash(code), created_at=now)
            )
            audit.record(
                conn,
                at=now,
                actor=actor,
                action="org.create",
                org_id=org_id,
                target=org_id,
                details={"name": name},
            )

        self.db.run_write(work)
        return org_id, code

    def new_org_code(self, org_id: str, *, actor: str = "cli") -> str:
        """Replace the org's activation code (the old one stops working); returns the new one."""
        code = new_org_code()

        def work(conn: Connection) -> None:
            done = conn.execute(update(orgs).where(orgs.c.id == org_id).values(code_hash=org_code_hash(code)))
            if done.rowcount != 1:
                raise not_found("organisation")
            audit.record(
                conn, at=self.now(), actor=actor, action="org.new_code", org_id=org_id, target=org_id
            )

        self.db.run_write(work)
        return code

    def _require_org(self, conn: Connection, org_id: str) -> AnyRow:
        row = conn.execute(select(orgs).where(orgs.c.id == org_id)).first()
        if row is None:
            raise ServiceError(404, "NOT_FOUND", f"There is no organisation {org_id!r}.")
        return row

    def create_admin(self, org_id: str, email: str, password: str, *, actor: str = "cli") -> str:
        """An admin user of ``org_id``; returns the admin id."""
        email = email.strip().lower()
        if "@" not in email or len(email) > 320 or any(ch.isspace() for ch in email):
            raise ServiceError(422, "INVALID_EMAIL", f"{email!r} is not an e-mail address.")
        if len(password) < 10 or len(password) > 1024:
            raise ServiceError(422, "WEAK_PASSWORD", "The password must be 10 to 1024 characters long.")
        hashed = self.passwords.hash(password)
        admin_id = str(uuid.uuid4())

        def work(conn: Connection) -> None:
            self._require_org(conn, org_id)
            if conn.execute(select(admin_users.c.id).where(admin_users.c.email == email)).first():
                raise ServiceError(409, "EMAIL_TAKEN", f"An admin with e-mail {email} already exists.")
            now = self.now()
            conn.execute(
                insert(admin_users).values(
                    id=admin_id, org_id=org_id, email=email, password_hash=hashed, created_at=now
                )
            )
            audit.record(
                conn,
                at=now,
                actor=actor,
                action="admin.create",
                org_id=org_id,
                target=admin_id,
                details={"email": email},
            )

        self.db.run_write(work, attempts=1)
        return admin_id

    def issue_seats(
        self,
        org_id: str,
        *,
        seats: int,
        days: int,
        entitlements: str | Iterable[str],
        floating: bool = True,
        actor: str = "cli",
    ) -> str:
        """A new seat pool for ``org_id``; returns its id."""
        if not 1 <= seats <= MAX_SEATS:
            raise ServiceError(422, "INVALID_SEATS", f"Seats must be between 1 and {MAX_SEATS}.")
        if not 1 <= days <= 3660:
            raise ServiceError(422, "INVALID_DAYS", "Days must be between 1 and 3660.")
        names = parse_entitlements(entitlements)
        pool_id = str(uuid.uuid4())

        def work(conn: Connection) -> None:
            self._require_org(conn, org_id)
            now = self.now()
            conn.execute(
                insert(seat_pools).values(
                    id=pool_id,
                    org_id=org_id,
                    seats=seats,
                    entitlements=",".join(names),
                    floating=floating,
                    created_at=now,
                    expires_at=now + dt.timedelta(days=days),
                )
            )
            audit.record(
                conn,
                at=now,
                actor=actor,
                action="pool.issue",
                org_id=org_id,
                target=pool_id,
                details={"seats": seats, "days": days, "entitlements": list(names), "floating": floating},
            )

        self.db.run_write(work)
        return pool_id

    # -- seats --------------------------------------------------------------------------------

    def _lock_pools(self, conn: Connection, org_id: str) -> list[AnyRow]:
        """The org's pools, locked (PostgreSQL) for the rest of the transaction, newest expiry first."""
        query = (
            select(seat_pools)
            .where(seat_pools.c.org_id == org_id)
            .order_by(seat_pools.c.id)
            .with_for_update()
        )
        pools = list(conn.execute(query))
        pools.sort(key=lambda p: (p.expires_at, p.id), reverse=True)
        return pools

    def _cull(self, conn: Connection, org_id: str, now: dt.datetime) -> int:
        """Free the seats of machines whose lease ran out (their rows stay, as expired_lease)."""
        done = conn.execute(
            update(machines)
            .where(
                machines.c.org_id == org_id,
                machines.c.status == ACTIVE,
                machines.c.seat_slot.is_not(None),
                machines.c.lease_expires_at.is_not(None),
                machines.c.lease_expires_at < now,
            )
            .values(status=EXPIRED_LEASE, seat_slot=None)
        )
        return int(done.rowcount or 0)

    def _holds_seat(self, machine: AnyRow, pools: dict[str, AnyRow], now: dt.datetime) -> bool:
        pool = pools.get(machine.pool_id) if machine.pool_id else None
        return (
            machine.status == ACTIVE
            and machine.seat_slot is not None
            and pool is not None
            and pool.expires_at > now
            and (machine.lease_expires_at is None or machine.lease_expires_at >= now)
        )

    def _allocate(
        self, conn: Connection, org_id: str, pools: Sequence[AnyRow], now: dt.datetime
    ) -> tuple[AnyRow, int]:
        """A free ``(pool, slot)`` among the org's live pools (caller holds the pool lock)."""
        if not pools:
            raise ApiError(
                409, "NO_SEATS_AVAILABLE", "Your organisation has no seats yet. Ask NEXA to issue seats."
            )
        live = [p for p in pools if p.expires_at > now]
        if not live:
            raise ApiError(
                403, "POOL_EXPIRED", "Your organisation's seats have expired. Renew them with NEXA."
            )
        self._cull(conn, org_id, now)
        taken: dict[str, set[int]] = defaultdict(set)
        for row in conn.execute(
            select(machines.c.pool_id, machines.c.seat_slot).where(
                machines.c.org_id == org_id, machines.c.seat_slot.is_not(None)
            )
        ):
            taken[row.pool_id].add(row.seat_slot)
        for pool in live:
            used = taken[pool.id]
            if len(used) < pool.seats:
                slot = next(i for i in range(pool.seats) if i not in used)
                return pool, slot
        total = sum(p.seats for p in live)
        raise ApiError(
            409,
            "NO_SEATS_AVAILABLE",
            f"All {total} seat(s) of your organisation are in use. Ask your admin to free or add a seat.",
        )

    def _lease_for(self, pool: AnyRow, now: dt.datetime) -> dt.datetime | None:
        return now + self.settings.lease if pool.floating else None

    def _grant(self, conn: Connection, machine_id: str) -> _Grant:
        return _grant_from_row(conn.execute(_GRANT_QUERY, {"machine_id": machine_id}).one())

    def _sign(self, grant: _Grant, now: dt.datetime) -> str:
        kid, private = self.keys.active()
        claims = LicenseClaims(
            kid=kid,
            license_id=str(uuid.uuid4()),
            org_id=grant.org_id,
            org_name=grant.org_name,
            pool_id=grant.pool_id,
            machine_id=grant.machine_id,
            fingerprint=grant.fingerprint,
            entitlements=grant.entitlements,
            issued_at=now,
            expires_at=min(now + self.settings.license_ttl, grant.pool_expires_at),
            grace_days=self.settings.grace_days,
            lease_expires_at=grant.lease_expires_at,
        )
        return sign_license(claims, private)

    def org_for_code(self, org_code: str) -> str | None:
        with self.db.read() as conn:
            found = conn.execute(
                select(orgs.c.id).where(orgs.c.code_hash == org_code_hash(org_code))
            ).scalar()
        return None if found is None else str(found)

    def activate(
        self, org_id: str, *, fingerprint: str, hostname: str, os_user: str, app_version: str
    ) -> Activation:
        """Give the machine a seat (its old one when it activated before) and a signed license."""
        token = new_token(MACHINE_TOKEN_PREFIX)
        details = {"hostname": hostname, "os_user": os_user, "app_version": app_version}

        def work(conn: Connection) -> tuple[_Grant, dt.datetime]:
            now = self.now()
            pools = self._lock_pools(conn, org_id)
            by_id = {p.id: p for p in pools}
            existing = conn.execute(
                select(machines).where(machines.c.org_id == org_id, machines.c.fingerprint == fingerprint)
            ).first()
            if existing is not None and self._holds_seat(existing, by_id, now):
                values: dict[str, Any] = {
                    "lease_expires_at": self._lease_for(by_id[existing.pool_id], now),
                }
                machine_id = existing.id
            else:
                if existing is not None and existing.seat_slot is not None:
                    conn.execute(update(machines).where(machines.c.id == existing.id).values(seat_slot=None))
                pool, slot = self._allocate(conn, org_id, pools, now)
                values = {
                    "pool_id": pool.id,
                    "seat_slot": slot,
                    "lease_expires_at": self._lease_for(pool, now),
                }
                machine_id = existing.id if existing is not None else str(uuid.uuid4())
            values.update(details, token_hash=token_hash(token), status=ACTIVE, last_seen_at=now)
            if existing is None:
                conn.execute(
                    insert(machines).values(
                        id=machine_id, org_id=org_id, fingerprint=fingerprint, activated_at=now, **values
                    )
                )
            else:
                conn.execute(update(machines).where(machines.c.id == machine_id).values(**values))
            return self._grant(conn, machine_id), now

        grant, now = self.db.run_write(work)
        license_token = self._sign(grant, now)
        return Activation(license_token, token, grant.machine_id, self.keys.active()[0])

    def heartbeat(self, auth: MachineAuth, *, app_version: str | None = None) -> IssuedLicense:
        """Extend the machine's lease (re-acquiring a seat if it lost one) and re-issue its license."""

        def work(conn: Connection) -> tuple[_Grant, dt.datetime]:
            now = self.now()
            pools = self._lock_pools(conn, auth.org_id)
            by_id = {p.id: p for p in pools}
            machine = conn.execute(select(machines).where(machines.c.id == auth.machine_id)).one()
            if machine.status == REVOKED:
                raise _revoked()
            values: dict[str, Any] = {"last_seen_at": now}
            if app_version:
                values["app_version"] = app_version
            if self._holds_seat(machine, by_id, now):
                values["lease_expires_at"] = self._lease_for(by_id[machine.pool_id], now)
            else:
                if machine.seat_slot is not None:
                    conn.execute(update(machines).where(machines.c.id == machine.id).values(seat_slot=None))
                pool, slot = self._allocate(conn, auth.org_id, pools, now)
                values.update(
                    pool_id=pool.id,
                    seat_slot=slot,
                    status=ACTIVE,
                    lease_expires_at=self._lease_for(pool, now),
                )
            conn.execute(update(machines).where(machines.c.id == machine.id).values(**values))
            return self._grant(conn, machine.id), now

        grant, now = self.db.run_write(work)
        return IssuedLicense(self._sign(grant, now), grant.lease_expires_at)

    def current_license(self, auth: MachineAuth) -> IssuedLicense:
        """A freshly signed license for a machine that holds a seat now (read-only)."""
        with self.db.read() as conn:
            row = conn.execute(_GRANT_QUERY, {"machine_id": auth.machine_id}).one()
        return self._license_from_row(row)

    def license_for_token(self, token: str) -> tuple[MachineAuth | None, IssuedLicense | None]:
        """:meth:`authenticate_machine` and :meth:`current_license` in one query (the hot path).

        Returns ``(None, None)`` for an unknown token; raises like :meth:`current_license`.
        """
        with self.db.read() as conn:
            row = conn.execute(_LICENSE_BY_TOKEN, {"token_hash": token_hash(token)}).first()
        if row is None:
            return None, None
        return MachineAuth(row.id, row.org_id), self._license_from_row(row)

    def _license_from_row(self, row: AnyRow) -> IssuedLicense:
        now = self.now()
        if row.status == REVOKED:
            raise _revoked()
        if row.pool_expires_at is not None and row.pool_expires_at <= now:
            raise ApiError(
                403, "POOL_EXPIRED", "Your organisation's seats have expired. Renew them with NEXA."
            )
        if (
            row.status != ACTIVE
            or row.seat_slot is None
            or (row.lease_expires_at is not None and row.lease_expires_at < now)
        ):
            raise ApiError(
                409,
                "LEASE_EXPIRED",
                "This computer's seat lease ran out; send a heartbeat to get a seat again.",
            )
        grant = _grant_from_row(row)
        return IssuedLicense(self._sign(grant, now), grant.lease_expires_at)

    def deactivate(self, auth: MachineAuth) -> None:
        """Self-service: free the seat and invalidate the machine token."""

        def work(conn: Connection) -> None:
            now = self.now()
            conn.execute(
                update(machines)
                .where(machines.c.id == auth.machine_id, machines.c.status != REVOKED)
                .values(
                    status=DEACTIVATED,
                    seat_slot=None,
                    token_hash=None,
                    lease_expires_at=None,
                    last_seen_at=now,
                )
            )
            audit.record(
                conn,
                at=now,
                actor=f"machine:{auth.machine_id}",
                action="machine.deactivate",
                org_id=auth.org_id,
                target=auth.machine_id,
            )

        self.db.run_write(work)

    # -- authentication -----------------------------------------------------------------------

    def authenticate_machine(self, token: str) -> MachineAuth | None:
        """The machine behind a bearer token; raises MACHINE_REVOKED; ``None`` when unknown."""
        with self.db.read() as conn:
            row = conn.execute(_MACHINE_BY_TOKEN, {"token_hash": token_hash(token)}).first()
        if row is None:
            return None
        if row.status == REVOKED:
            raise _revoked()
        return MachineAuth(row.id, row.org_id)

    def authenticate_admin(self, token: str) -> AdminAuth | None:
        """The admin behind a bearer token; raises TOKEN_EXPIRED; ``None`` when unknown."""
        with self.db.read() as conn:
            row = conn.execute(_ADMIN_BY_TOKEN, {"token_hash": token_hash(token)}).first()
        if row is None:
            return None
        if row.expires_at <= self.now():
            raise ApiError(
                401,
                "TOKEN_EXPIRED",
                "Your admin session has expired; log in again.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return AdminAuth(row.id, row.org_id, row.email)

    def login(self, email: str, password: str) -> LoginResult:
        email = email.strip().lower()
        with self.db.read() as conn:
            row = conn.execute(
                select(admin_users.c.id, admin_users.c.org_id, admin_users.c.password_hash, orgs.c.name)
                .join(orgs, orgs.c.id == admin_users.c.org_id)
                .where(admin_users.c.email == email)
            ).first()
        if not self.passwords.verify(None if row is None else row.password_hash, password) or row is None:
            raise ApiError(401, "BAD_CREDENTIALS", "The e-mail or password is wrong.")
        token = new_token(ADMIN_TOKEN_PREFIX)

        def work(conn: Connection) -> dt.datetime:
            now = self.now()
            expires = now + self.settings.admin_token_ttl
            conn.execute(delete(admin_tokens).where(admin_tokens.c.expires_at < now))
            conn.execute(
                insert(admin_tokens).values(
                    token_hash=token_hash(token),
                    admin_id=row.id,
                    org_id=row.org_id,
                    created_at=now,
                    expires_at=expires,
                )
            )
            return expires

        expires = self.db.run_write(work)
        return LoginResult(token, expires, row.org_id, row.name)

    # -- admin views and actions ---------------------------------------------------------------

    def _pool_view(self, conn: Connection, pool: AnyRow) -> dict[str, Any]:
        used = conn.execute(
            select(func.count())
            .select_from(machines)
            .where(machines.c.pool_id == pool.id, machines.c.seat_slot.is_not(None))
        ).scalar_one()
        return {
            "id": pool.id,
            "seats": pool.seats,
            "used": int(used),
            "expires_at": pool.expires_at,
            "entitlements": [e for e in pool.entitlements.split(",") if e],
            "floating": bool(pool.floating),
        }

    def _machine_view(self, row: AnyRow, now: dt.datetime) -> dict[str, Any]:
        status = row.status
        if status == ACTIVE and row.lease_expires_at is not None and row.lease_expires_at < now:
            status = EXPIRED_LEASE
        return {
            "id": row.id,
            "pool_id": row.pool_id,
            "hostname": row.hostname,
            "os_user": row.os_user,
            "app_version": row.app_version,
            "fingerprint_hint": row.fingerprint[-6:],
            "activated_at": row.activated_at,
            "last_seen_at": row.last_seen_at,
            "lease_expires_at": row.lease_expires_at,
            "status": status,
        }

    def seats(self, admin: AdminAuth) -> dict[str, Any]:
        """Pools with seats used, and every machine that holds or held a seat (not self-deactivated)."""

        def work(conn: Connection) -> dict[str, Any]:
            now = self.now()
            self._lock_pools(conn, admin.org_id)
            self._cull(conn, admin.org_id, now)
            pools = conn.execute(
                select(seat_pools)
                .where(seat_pools.c.org_id == admin.org_id)
                .order_by(seat_pools.c.created_at)
            )
            rows = conn.execute(
                select(machines)
                .where(machines.c.org_id == admin.org_id, machines.c.status != DEACTIVATED)
                .order_by(machines.c.activated_at, machines.c.id)
            )
            return {
                "pools": [self._pool_view(conn, p) for p in pools],
                "machines": [self._machine_view(r, now) for r in rows],
            }

        return self.db.run_write(work)

    def revoke(self, admin: AdminAuth, machine_id: str) -> dict[str, Any]:
        """Take the seat and the token of one of the admin's org's machines (idempotent)."""

        def work(conn: Connection) -> dict[str, Any]:
            now = self.now()
            self._lock_pools(conn, admin.org_id)
            row = conn.execute(
                select(machines).where(machines.c.id == machine_id, machines.c.org_id == admin.org_id)
            ).first()
            if row is None:
                raise not_found("machine")
            conn.execute(
                update(machines)
                .where(machines.c.id == machine_id)
                .values(status=REVOKED, seat_slot=None, lease_expires_at=None)
            )
            audit.record(
                conn,
                at=now,
                actor=admin.actor,
                action="machine.revoke",
                org_id=admin.org_id,
                target=machine_id,
                details={"hostname": row.hostname, "was": row.status},
            )
            return self._machine_view(
                conn.execute(select(machines).where(machines.c.id == machine_id)).one(), now
            )

        return self.db.run_write(work)

    def add_seats(self, admin: AdminAuth, pool_id: str, add: int) -> dict[str, Any]:
        """Grow one of the admin's org's pools by ``add`` seats."""

        def work(conn: Connection) -> dict[str, Any]:
            now = self.now()
            pool = conn.execute(
                select(seat_pools)
                .where(seat_pools.c.id == pool_id, seat_pools.c.org_id == admin.org_id)
                .with_for_update()
            ).first()
            if pool is None:
                raise not_found("seat pool")
            if pool.seats + add > MAX_SEATS:
                raise ApiError(422, "TOO_MANY_SEATS", f"A pool holds at most {MAX_SEATS} seats.")
            conn.execute(update(seat_pools).where(seat_pools.c.id == pool_id).values(seats=pool.seats + add))
            audit.record(
                conn,
                at=now,
                actor=admin.actor,
                action="pool.add_seats",
                org_id=admin.org_id,
                target=pool_id,
                details={"add": add, "seats": pool.seats + add},
            )
            return self._pool_view(
                conn, conn.execute(select(seat_pools).where(seat_pools.c.id == pool_id)).one()
            )

        return self.db.run_write(work)

    def audit_entries(self, admin: AdminAuth, limit: int) -> list[dict[str, Any]]:
        """The admin's org's audit entries, newest first."""
        with self.db.read() as conn:
            return audit.entries(conn, admin.org_id, limit=limit)

    def audit_entries_global(self, limit: int = 200) -> list[dict[str, Any]]:
        """Service-wide entries (signing keys), newest first; CLI and operators only."""
        with self.db.read() as conn:
            return audit.entries(conn, None, limit=limit)

    # -- usage and analytics ------------------------------------------------------------------

    def _reject_reason(self, event: UsageEvent, now: dt.datetime) -> str | None:
        if event.occurred_at > now + self.settings.usage_max_future:
            return "OCCURRED_IN_FUTURE: the event is dated after the service's clock; check the PC's clock."
        if event.occurred_at < now - self.settings.usage_max_age:
            return f"TOO_OLD: events older than {self.settings.usage_max_age.days} days are not accepted."
        if event.kind == UsageKind.CYCLE_TIME and event.duration_ms is None:
            return "DURATION_REQUIRED: cycle_time events need duration_ms."
        return None

    @staticmethod
    def _same(stored: AnyRow, event: UsageEvent) -> bool:
        return bool(
            stored.kind == event.kind.value
            and stored.occurred_at == event.occurred_at
            and stored._mapping["count"] == event.count
            and stored.duration_ms == event.duration_ms
            and stored.code == event.code
        )

    def ingest(self, auth: MachineAuth, events: Sequence[UsageEvent]) -> list[UsageResult]:
        """Store each event once per (org, id); per-event results in the request's order."""
        now = self.now()
        results: list[UsageResult | None] = [None] * len(events)
        first: dict[uuid.UUID, int] = {}
        for i, event in enumerate(events):
            reason = self._reject_reason(event, now)
            if reason is not None:
                results[i] = UsageResult(id=event.id, status="rejected", reason=reason)
            elif event.id not in first:
                first[event.id] = i

        def work(conn: Connection) -> dict[str, tuple[str, str | None]]:
            outcome: dict[str, tuple[str, str | None]] = {}
            ids = [str(events[i].id) for i in first.values()]
            stored: dict[str, AnyRow] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                for row in conn.execute(
                    select(usage_events).where(
                        usage_events.c.org_id == auth.org_id, usage_events.c.event_id.in_(chunk)
                    )
                ):
                    stored[row.event_id] = row
            new = [events[i] for i in first.values() if str(events[i].id) not in stored]
            inserted: set[str] = set()
            if new:
                stmt = (
                    _dialect_insert(conn, usage_events)
                    .on_conflict_do_nothing(index_elements=["org_id", "event_id"])
                    .returning(usage_events.c.event_id)
                )
                rows = [
                    {
                        "org_id": auth.org_id,
                        "event_id": str(e.id),
                        "machine_id": auth.machine_id,
                        "kind": e.kind.value,
                        "code": e.code,
                        "occurred_at": e.occurred_at,
                        "day": e.occurred_at.date(),
                        "count": e.count,
                        "duration_ms": e.duration_ms,
                        "received_at": now,
                    }
                    for e in new
                ]
                inserted = {str(r) for r in conn.execute(stmt, rows).scalars()}
                self._add_to_daily(conn, auth.org_id, [e for e in new if str(e.id) in inserted])
                raced = [str(e.id) for e in new if str(e.id) not in inserted]
                if raced:  # stored by a concurrent request between our read and our insert
                    for row in conn.execute(
                        select(usage_events).where(
                            usage_events.c.org_id == auth.org_id, usage_events.c.event_id.in_(raced)
                        )
                    ):
                        stored[row.event_id] = row
            for i in first.values():
                event = events[i]
                key = str(event.id)
                if key in inserted:
                    outcome[key] = ("accepted", None)
                elif key in stored and self._same(stored[key], event):
                    outcome[key] = ("duplicate", None)
                else:
                    outcome[key] = ("rejected", "ID_REUSED: another event with this id was stored before.")
            return outcome

        outcome = self.db.run_write(work) if first else {}
        seen: set[uuid.UUID] = set()
        for i, event in enumerate(events):
            if results[i] is not None:
                continue
            if event.id in seen:  # repeated inside this batch: the first copy decided
                status = "duplicate" if self._same_event(events[first[event.id]], event) else "rejected"
                reason = (
                    None
                    if status == "duplicate"
                    else "ID_REUSED: the batch holds two different events with this id."
                )
                results[i] = UsageResult(id=event.id, status=status, reason=reason)
                continue
            seen.add(event.id)
            status, reason = outcome[str(event.id)]
            results[i] = UsageResult(id=event.id, status=status, reason=reason)  # type: ignore[arg-type]
        return [r for r in results if r is not None]

    @staticmethod
    def _same_event(a: UsageEvent, b: UsageEvent) -> bool:
        return a == b

    def _add_to_daily(self, conn: Connection, org_id: str, events: Sequence[UsageEvent]) -> None:
        """Fold newly stored events into the per-org per-day aggregates (same transaction)."""
        totals: dict[tuple[dt.date, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for e in events:
            cell = totals[(e.occurred_at.date(), e.kind.value, e.code or "")]
            cell[0] += 1
            cell[1] += e.count
            cell[2] += e.duration_ms or 0
        if not totals:
            return
        values = [
            {
                "org_id": org_id,
                "day": day,
                "kind": kind,
                "code": code,
                "events": n,
                "count": c,
                "duration_ms_total": d,
            }
            for (day, kind, code), (n, c, d) in sorted(totals.items())
        ]
        stmt = _dialect_insert(conn, usage_daily).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["org_id", "day", "kind", "code"],
            set_={
                "events": usage_daily.c.events + stmt.excluded.events,
                "count": usage_daily.c["count"] + stmt.excluded["count"],
                "duration_ms_total": usage_daily.c.duration_ms_total + stmt.excluded.duration_ms_total,
            },
        )
        conn.execute(stmt)

    def _since(self, days: int) -> dt.date:
        return self.now().date() - dt.timedelta(days=days - 1)

    def analytics(self, admin: AdminAuth, days: int) -> list[dict[str, Any]]:
        """The caller's org's daily aggregates for the last ``days`` days."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(usage_daily)
                .where(usage_daily.c.org_id == admin.org_id, usage_daily.c.day >= self._since(days))
                .order_by(usage_daily.c.day, usage_daily.c.kind, usage_daily.c.code)
            )
            return [
                {
                    "day": r.day,
                    "kind": r.kind,
                    "code": r.code or None,
                    "events": int(r.events),
                    "count": int(r._mapping["count"]),
                    "duration_ms_total": int(r.duration_ms_total),
                }
                for r in rows
            ]

    def benchmarks(self, days: int) -> tuple[list[dict[str, Any]], int]:
        """Cross-org figures per day and kind; cells built from fewer than ``benchmark_min_orgs`` orgs
        are left out. Returns ``(cells, suppressed_count)``."""
        minimum = self.settings.benchmark_min_orgs
        with self.db.read() as conn:
            per_org = (
                select(
                    usage_daily.c.day,
                    usage_daily.c.kind,
                    usage_daily.c.org_id,
                    func.sum(usage_daily.c["count"]).label("total"),
                    func.sum(usage_daily.c.duration_ms_total).label("duration"),
                )
                .where(usage_daily.c.day >= self._since(days))
                .group_by(usage_daily.c.day, usage_daily.c.kind, usage_daily.c.org_id)
                .subquery()
            )
            rows = list(
                conn.execute(
                    select(
                        per_org.c.day,
                        per_org.c.kind,
                        func.count().label("orgs"),
                        func.sum(per_org.c.total).label("total"),
                        func.sum(per_org.c.duration).label("duration"),
                    )
                    .group_by(per_org.c.day, per_org.c.kind)
                    .order_by(per_org.c.day, per_org.c.kind)
                )
            )
        cells = []
        suppressed = 0
        for r in rows:
            if r.orgs < minimum:
                suppressed += 1
                continue
            count = int(r.total)
            cells.append(
                {
                    "day": r.day,
                    "kind": r.kind,
                    "orgs": int(r.orgs),
                    "count_total": count,
                    "count_per_org": round(count / r.orgs, 3),
                    "duration_ms_total": int(r.duration),
                    "duration_ms_mean": round(int(r.duration) / count, 3) if count else None,
                }
            )
        return cells, suppressed


def _grant_from_row(row: AnyRow) -> _Grant:
    return _Grant(
        machine_id=row.id,
        org_id=row.org_id,
        org_name=row.org_name,
        pool_id=row.pool_id,
        fingerprint=row.fingerprint,
        entitlements=tuple(e for e in row.entitlements.split(",") if e),
        pool_expires_at=row.pool_expires_at,
        lease_expires_at=row.lease_expires_at,
    )


def _revoked() -> ApiError:
    return ApiError(
        403, "MACHINE_REVOKED", "An admin revoked this computer's seat. Ask them to activate it again."
    )

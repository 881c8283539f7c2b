"""Ed25519 signing keys, stored in the database with the private half encrypted.

The private key is PKCS#8 encrypted with a password derived (scrypt) from the service passphrase:
``NEXA_CLOUD_KEY_PASSPHRASE``, or a random one kept in ``signing-keys.secret`` (mode 0600) in the
data dir. Rotation makes a new active key; retired public keys stay published at ``/v1/keys``
so licenses signed with them keep verifying until they expire.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, insert, select, update

from nexa_cloud import audit
from nexa_cloud.config import KEY_PASSPHRASE_ENV, Clock
from nexa_cloud.db import Database
from nexa_cloud.models import signing_keys
from nexa_desktop.domain.licensing import key_id, public_key_from_pem, public_key_to_pem

SECRET_FILE = "signing-keys.secret"


class SigningKeyError(RuntimeError):
    """The signing keys cannot be used (wrong passphrase, none active); the message says why."""


def load_passphrase(configured: str | None, data_dir: Path) -> bytes:
    """The configured passphrase, or the one in the data dir (created on first use)."""
    if configured:
        return configured.encode("utf-8")
    path = data_dir / SECRET_FILE
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it a moment ago
            time.sleep(0.1)
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(32))
    passphrase = path.read_text(encoding="ascii").strip()
    if not passphrase:
        raise SigningKeyError(f"{path} is empty; restore it from a backup or set {KEY_PASSPHRASE_ENV}.")
    return passphrase.encode("ascii")


@functools.lru_cache(maxsize=64)
def _password(passphrase: bytes, kid: str) -> bytes:
    """The PKCS#8 password of key ``kid`` (scrypt, ~50 ms; cached per process)."""
    return hashlib.scrypt(passphrase, salt=f"nexa-cloud-key:{kid}".encode(), n=2**14, r=8, p=1, dklen=32)


@dataclass(frozen=True)
class PublicKeyInfo:
    kid: str
    public_key_pem: str
    active: bool
    created_at: dt.datetime
    retired_at: dt.datetime | None


class KeyStore:
    """The service's signing keys; the active private key is cached and re-checked every few seconds."""

    def __init__(
        self, db: Database, passphrase: bytes, clock: Clock, *, refresh_seconds: float = 5.0
    ) -> None:
        self._db = db
        self._passphrase = passphrase
        self._clock = clock
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._active: tuple[str, Ed25519PrivateKey] | None = None
        self._checked = 0.0
        self._public: dict[str, Ed25519PublicKey] = {}

    # -- writing ------------------------------------------------------------------------------

    def _lock_table(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE signing_keys IN EXCLUSIVE MODE")

    def _insert_new(self, conn: Connection, now: dt.datetime) -> str:
        private = Ed25519PrivateKey.generate()
        kid = key_id(private.public_key())
        encrypted = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_password(self._passphrase, kid)),
        ).decode("ascii")
        conn.execute(
            insert(signing_keys).values(
                kid=kid,
                public_key_pem=public_key_to_pem(private.public_key()),
                private_key_pem=encrypted,
                active=True,
                created_at=now,
                retired_at=None,
            )
        )
        return kid

    def ensure_active(self) -> str:
        """The active key id, creating the first key when there is none."""

        def work(conn: Connection) -> str:
            self._lock_table(conn)
            kid = conn.execute(select(signing_keys.c.kid).where(signing_keys.c.active)).scalar()
            if kid is not None:
                return str(kid)
            now = self._clock()
            kid = self._insert_new(conn, now)
            audit.record(conn, at=now, actor="service", action="key.create", target=kid)
            return kid

        kid = self._db.run_write(work)
        self.active()  # fail now, not on the first activation, when the passphrase is wrong
        return kid

    def rotate(self, actor: str) -> str:
        """Retire the active key and make a new one; returns the new key id."""

        def work(conn: Connection) -> str:
            self._lock_table(conn)
            now = self._clock()
            old = [
                str(k)
                for k in conn.execute(select(signing_keys.c.kid).where(signing_keys.c.active)).scalars()
            ]
            conn.execute(
                update(signing_keys).where(signing_keys.c.active).values(active=False, retired_at=now)
            )
            kid = self._insert_new(conn, now)
            audit.record(conn, at=now, actor=actor, action="key.rotate", target=kid, details={"retired": old})
            return kid

        kid = self._db.run_write(work)
        with self._lock:
            self._checked = 0.0
        return kid

    # -- reading ------------------------------------------------------------------------------

    def active(self) -> tuple[str, Ed25519PrivateKey]:
        """``(kid, private key)`` of the active key (cached; rotation elsewhere is seen within seconds)."""
        with self._lock:
            now = time.monotonic()
            if self._active is not None and now - self._checked < self._refresh:
                return self._active
            with self._db.read() as conn:
                row = conn.execute(
                    select(signing_keys.c.kid, signing_keys.c.private_key_pem).where(signing_keys.c.active)
                ).first()
            if row is None:
                raise SigningKeyError(
                    "There is no active signing key; run `nexa-cloud admin rotate-signing-key`."
                )
            if self._active is None or self._active[0] != row.kid:
                try:
                    private = serialization.load_pem_private_key(
                        row.private_key_pem.encode("ascii"), _password(self._passphrase, row.kid)
                    )
                except (ValueError, TypeError) as exc:
                    raise SigningKeyError(
                        f"Signing key {row.kid} cannot be decrypted with this passphrase. Set "
                        f"{KEY_PASSPHRASE_ENV} (or restore {SECRET_FILE} in the data dir) to the one the "
                        "keys were created with."
                    ) from exc
                if not isinstance(private, Ed25519PrivateKey):
                    raise SigningKeyError(f"Signing key {row.kid} is not an Ed25519 key.")
                self._active = (str(row.kid), private)
                self._public = {}
            self._checked = now
            return self._active

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every published key (active and retired), by key id."""
        self.active()
        with self._lock:
            if self._public:
                return dict(self._public)
        keys = {info.kid: public_key_from_pem(info.public_key_pem) for info in self.list()}
        with self._lock:
            self._public = keys
        return dict(keys)

    def list(self) -> list[PublicKeyInfo]:
        with self._db.read() as conn:
            rows = conn.execute(select(signing_keys).order_by(signing_keys.c.created_at.desc()))
            return [
                PublicKeyInfo(r.kid, r.public_key_pem, bool(r.active), r.created_at, r.retired_at)
                for r in rows
            ]

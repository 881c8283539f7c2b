"""Secrets: argon2id password hashes, opaque bearer tokens (stored as sha256), org codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from nexa_cloud.config import Argon2Params

MACHINE_TOKEN_PREFIX = "nxm_"
ADMIN_TOKEN_PREFIX = "nxa_"
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U
_CODE_GROUPS = 4
_CODE_GROUP_LEN = 4


def token_hash(token: str) -> str:
    """sha256 hex of a bearer token: what the database stores and looks up."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token(prefix: str) -> str:
    """A fresh opaque token (256 bits) with a prefix that says what kind it is."""
    return prefix + secrets.token_urlsafe(32)


def normalize_org_code(code: str) -> str:
    """Upper case without separators: ``abcd-efgh`` and ``ABCDEFGH`` are the same code."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_org_code() -> str:
    """A code to type or paste at activation, e.g. ``K7QM-2XWD-9RTB-HN4P`` (~78 bits)."""
    groups = (
        "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUP_LEN)) for _ in range(_CODE_GROUPS)
    )
    return "-".join(groups)


def org_code_hash(code: str) -> str:
    return hashlib.sha256(normalize_org_code(code).encode("ascii", "replace")).hexdigest()


class Passwords:
    """argon2id hashing with configurable cost; verification runs even for unknown users."""

    def __init__(self, params: Argon2Params) -> None:
        self._hasher = PasswordHasher(
            time_cost=params.time_cost, memory_cost=params.memory_cost, parallelism=params.parallelism
        )
        self._dummy: str | None = None  # made on first use: start-up stays fast

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored``; ``None`` burns the same time and fails."""
        if stored is None and self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        try:
            return self._hasher.verify(stored or self._dummy or "", password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())

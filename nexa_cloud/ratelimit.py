"""Per-key token buckets (one per org, plus per client address for unauthenticated guesses)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from nexa_cloud.errors import ApiError

_MAX_BUCKETS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``rate`` tokens per second up to ``burst``; :meth:`check` raises 429 with ``Retry-After``."""

    def __init__(self, rate: float, burst: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._monotonic = monotonic
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens from ``key``'s bucket; 0 when allowed, else seconds to wait."""
        now = self._monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= _MAX_BUCKETS:
                    self._prune(now)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            return (cost - bucket.tokens) / self.rate

    def wait_time(self, key: str) -> float:
        """Seconds until ``key`` has a whole token again (0 when it has one); takes nothing."""
        now = self._monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                return 0.0
            tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def check(self, key: str, cost: float = 1.0, *, what: str = "this organisation") -> None:
        """Take a token or raise 429 ``RATE_LIMITED`` with ``Retry-After``."""
        _raise_if_waiting(self.retry_after(key, cost), what)

    def guard(self, key: str, *, what: str) -> None:
        """Raise 429 when ``key`` has no token left, without taking one (for failure budgets)."""
        _raise_if_waiting(self.wait_time(key), what)

    def _prune(self, now: float) -> None:
        """Forget full buckets (they behave exactly like new ones)."""
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]


def _raise_if_waiting(wait: float, what: str) -> None:
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429,
            "RATE_LIMITED",
            f"Too many requests for {what}; retry in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )

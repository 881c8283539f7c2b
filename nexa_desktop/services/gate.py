"""What the license allows the app to change. Evaluation (not activated, or no keyring to read a
license from) keeps the board usable; an expired, revoked or tampered license, or a clock set back,
makes it read-only. Nothing is ever deleted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from nexa_desktop.domain.errors import ReadOnlyMode
from nexa_desktop.services.licensing import LicenseService, LicenseState


def blocks_writes(state: LicenseState) -> bool:
    return state.mode == "read_only"


def write_gate(
    licenses: LicenseService, clock: Callable[[], dt.datetime] | None = None
) -> Callable[[], None]:
    """A check for ``BoardService(write_gate=…)`` that raises :class:`ReadOnlyMode` with the reason.

    Without ``clock`` the license status is cached briefly (cheap on every drop)."""

    def check() -> None:
        state = licenses.status(clock() if clock else None)
        if blocks_writes(state):
            raise ReadOnlyMode(f"NEXA is read-only: {state.message}")

    return check

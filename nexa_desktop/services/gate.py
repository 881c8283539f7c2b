"""What the license allows the app to change. Evaluation (not activated, or no keyring to read a
license from) keeps the board usable; an expired, revoked or tampered license, or a clock set back,
makes it read-only. Nothing is ever deleted."""

from __future__ import annotations

from collections.abc import Callable

from nexa_desktop.domain.errors import ReadOnlyMode
from nexa_desktop.services.licensing import LicenseService, LicenseState


def blocks_writes(state: LicenseState) -> bool:
    return state.mode == "read_only"


def write_gate(licenses: LicenseService) -> Callable[[], None]:
    """A check for ``BoardService(write_gate=…)`` that raises :class:`ReadOnlyMode` with the reason."""

    def check() -> None:
        state = licenses.status()
        if blocks_writes(state):
            raise ReadOnlyMode(f"NEXA is read-only: {state.message}")

    return check

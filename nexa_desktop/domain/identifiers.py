"""PG&E identifiers: PM/order number, notification number, LAN ID, division and MAT codes."""

from __future__ import annotations

import re

from nexa_desktop.domain.errors import ValidationError

_PM = re.compile(r"[0-9]{8}")
_NOTIFICATION = re.compile(r"[0-9]{9}")
_LAN_ID = re.compile(r"[A-Z0-9]{4}")
_MAT_CODE = re.compile(r"[0-9A-Z]{3}")

#: Two-letter division codes listed on the Distribution Unit Price Completion form.
DIVISIONS: dict[str, str] = {
    "SJ": "San Jose",
    "DA": "De Anza",
    "CC": "Central Coast",
    "LP": "Los Padres",
    "DI": "Diablo",
    "MI": "Mission",
    "PN": "Peninsula",
    "EB": "East Bay",
    "SF": "San Francisco",
    "NB": "North Bay",
    "SO": "Sonoma",
    "HM": "Humboldt",
    "NC": "North Coast",
    "NV": "North Valley",
    "SA": "Sacramento",
    "SI": "Sierra",
    "FR": "Fresno",
    "KE": "Kern",
    "ST": "Stockton",
    "YO": "Yosemite",
}


def _clean(value: str) -> str:
    return value.strip().replace(" ", "").replace("-", "")


def parse_pm_number(value: str) -> str:
    """A PM (order) number: exactly 8 digits. Spaces and dashes are tolerated."""
    cleaned = _clean(value)
    if not _PM.fullmatch(cleaned):
        raise ValidationError(
            "pm_number", f"PM number {value.strip()!r} must be exactly 8 digits (e.g. 35589054)."
        )
    return cleaned


def parse_notification_number(value: str) -> str:
    """A notification (EC tag) number: exactly 9 digits."""
    cleaned = _clean(value)
    if not _NOTIFICATION.fullmatch(cleaned):
        raise ValidationError(
            "notification_number",
            f"Notification number {value.strip()!r} must be exactly 9 digits (e.g. 119080350).",
        )
    return cleaned


def parse_lan_id(value: str) -> str:
    """A PG&E LAN ID: 4 letters or digits, stored upper-case."""
    cleaned = value.strip().upper()
    if not _LAN_ID.fullmatch(cleaned):
        raise ValidationError("lan_id", f"LAN ID {value.strip()!r} must be 4 letters or digits (e.g. AB1C).")
    return cleaned


def parse_division(value: str) -> str:
    cleaned = value.strip().upper()
    if cleaned not in DIVISIONS:
        raise ValidationError(
            "division", f"Division {value.strip()!r} is not a PG&E division code (e.g. DA, SJ, EB)."
        )
    return cleaned


def parse_mat_code(value: str) -> str:
    cleaned = value.strip().upper()
    if not _MAT_CODE.fullmatch(cleaned):
        raise ValidationError(
            "mat_code", f"MAT code {value.strip()!r} must be 3 letters or digits (e.g. 07D, 2AA)."
        )
    return cleaned

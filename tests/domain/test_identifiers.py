"""PG&E identifier parsing: PM, notification, LAN ID, division and MAT code (domain.md §2.1)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from nexa_desktop.domain.errors import ValidationError
from nexa_desktop.domain.identifiers import (
    DIVISIONS,
    parse_division,
    parse_lan_id,
    parse_mat_code,
    parse_notification_number,
    parse_pm_number,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("35589054", "35589054"),
        (" 46357356 ", "46357356"),
        ("3558-9054", "35589054"),
        ("3558 9054", "35589054"),
    ],
)
def test_pm_number_good(raw: str, expected: str) -> None:
    assert parse_pm_number(raw) == expected


@pytest.mark.parametrize("raw", ["3558905", "355890541", "3558905A", "", "PM 35589054"])
def test_pm_number_bad(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_pm_number(raw)
    assert info.value.field == "pm_number"
    assert "8 digits" in str(info.value)


@pytest.mark.parametrize(
    ("parse", "raw"),
    [(parse_pm_number, "٣٥٥٨٩٠٥٤"), (parse_notification_number, "١١٩٠٨٠٣٥٠")],
)
def test_non_ascii_digits_are_refused(parse: Callable[[str], str], raw: str) -> None:
    with pytest.raises(ValidationError):
        parse(raw)


@pytest.mark.parametrize(("raw", "expected"), [("119080350", "119080350"), (" 120-424-794", "120424794")])
def test_notification_good(raw: str, expected: str) -> None:
    assert parse_notification_number(raw) == expected


@pytest.mark.parametrize("raw", ["11908035", "1190803501", "11908035X", ""])
def test_notification_bad(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_notification_number(raw)
    assert info.value.field == "notification_number"
    assert "9 digits" in str(info.value)


@pytest.mark.parametrize(("raw", "expected"), [("AQBX", "AQBX"), ("ab1c", "AB1C"), (" 1234 ", "1234")])
def test_lan_id_good(raw: str, expected: str) -> None:
    assert parse_lan_id(raw) == expected


@pytest.mark.parametrize("raw", ["ABC", "ABCDE", "AB-C", "AB C", "", "ÄBCD"])
def test_lan_id_bad(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_lan_id(raw)
    assert info.value.field == "lan_id"
    assert "4 letters or digits" in str(info.value)


def test_divisions_are_the_twenty_on_the_unit_price_form() -> None:
    codes = [
        "SJ", "DA", "CC", "LP", "DI", "MI", "PN", "EB", "SF", "NB",
        "SO", "HM", "NC", "NV", "SA", "SI", "FR", "KE", "ST", "YO",
    ]  # fmt: skip
    assert list(DIVISIONS) == codes
    assert DIVISIONS["DA"] == "De Anza"


@pytest.mark.parametrize(("raw", "expected"), [("DA", "DA"), (" st ", "ST"), ("yo", "YO")])
def test_division_good(raw: str, expected: str) -> None:
    assert parse_division(raw) == expected


@pytest.mark.parametrize("raw", ["XX", "De Anza", "D", ""])
def test_division_bad(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_division(raw)
    assert info.value.field == "division"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("07D", "07D"), ("2aa", "2AA"), ("KAA", "KAA"), ("2AJ", "2AJ"), (" 161 ", "161")],
)
def test_mat_code_good(raw: str, expected: str) -> None:
    assert parse_mat_code(raw) == expected


@pytest.mark.parametrize("raw", ["07", "07DD", "0-7", "", "TR X"])
def test_mat_code_bad(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_mat_code(raw)
    assert info.value.field == "mat_code"
    assert "3 letters or digits" in str(info.value)


@pytest.mark.parametrize(
    "parse",
    [parse_pm_number, parse_notification_number, parse_lan_id, parse_division, parse_mat_code],
)
def test_error_message_quotes_the_bad_value(parse: Callable[[str], str]) -> None:
    with pytest.raises(ValidationError) as info:
        parse("  zz!  ")
    assert "'zz!'" in str(info.value)

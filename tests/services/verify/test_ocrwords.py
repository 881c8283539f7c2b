"""OCR word spacing from the forms' vocabulary: split glued words, join broken ones, leave the rest."""

from __future__ import annotations

import pytest

from nexa_desktop.services.verify.ocrwords import respace, vocabulary


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("Status: [X] Co mpleted [] Canceled", "Status: [X] Completed [] Canceled"),
        ("N otification #: 119080350", "Notification #: 119080350"),
        ("ELECTRICOVERHEAD TAG", "ELECTRIC OVERHEAD TAG"),
        ("PMOrder#:", "PM Order#:"),
        ("ContractorRepresentative Signature", "Contractor Representative Signature"),
        ("COMPLETED OR CANCELEDINFIELD", "COMPLETED OR CANCELED IN FIELD"),
    ],
)
def test_known_words_are_put_right(read: str, expected: str) -> None:
    assert respace(read) == expected


@pytest.mark.parametrize(
    "text", ["LAN ID: GZVC", "Pat Harper", "1165 Blossom Hill Rd", "07D-T1-ACC", "PM 35589054"]
)
def test_values_and_unknown_words_are_left_as_read(text: str) -> None:
    assert respace(text) == text


def test_vocabulary_comes_from_the_shipped_rules() -> None:
    words = vocabulary()
    assert {"notification", "signature", "completed", "foreman"} <= words
    assert all(w.isalpha() and w == w.lower() for w in words)


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("NOTIFICATI0N: 162128851", "NOTIFICATION: 162128851"),
        ("S1GNATURE", "SIGNATURE"),
        ("C0MPLETED", "COMPLETED"),
        ("PM/0rder # 49848497", "PM/Order # 49848497"),
    ],
)
def test_look_alike_digits_in_form_words_are_read_as_letters(read: str, expected: str) -> None:
    assert respace(read) == expected


@pytest.mark.parametrize("text", ["PM-31257346", "E4WD", "T1-ACC", "B0LT 5"])
def test_codes_with_digits_are_left_alone(text: str) -> None:
    assert respace(text) == text

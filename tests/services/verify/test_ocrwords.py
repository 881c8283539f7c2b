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

"""Word spacing for OCR'd lines, from the forms' own vocabulary.

The offline recogniser rarely emits spaces in Latin text, and the character positions it reports are
too coarse to place them reliably ("Co mpleted", "ContractorRepresentative"). A person reading the
scan knows the words; so do we: every word of the rules profile and the document-type cues (labels,
options, titles of the forms we check). A token is split into known words when it is made of them
only ("LANID" -> "LAN ID"), and two neighbours are joined when only together they make a known word
("Co mpleted" -> "Completed"). Anything else is left as read.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from nexa_desktop import paths

#: Shortest vocabulary word used when splitting (shorter ones would split almost anything).
MIN_PIECE = 2
#: Tokens shorter than this are never split (a LAN ID has four characters).
MIN_SPLIT = 5
#: A token longer than this is not split (a run of digits, a code, a URL).
MAX_TOKEN = 48
_WORD = re.compile(r"[a-z]{2,}")
_TOKEN = re.compile(r"^([^A-Za-z]*)([A-Za-z]+)([^A-Za-z]*)$")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """Lower-case words of the shipped rules profile and document-type cues."""
    words: set[str] = set()
    for name in ("pge.toml", "doctypes.toml"):
        data = tomllib.loads(paths.resource("rules", name).read_text(encoding="utf-8"))
        for text in _strings(data):
            words.update(_WORD.findall(text.lower().replace("_", " ")))
    return frozenset(words)


def _split(word: str, vocab: frozenset[str]) -> list[str] | None:
    """``word`` (lower case) as a sequence of vocabulary words, fewest pieces first; None if it isn't."""
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - 24), end):
            prev = best[start]
            piece = word[start:end]
            if prev is None or len(piece) < MIN_PIECE or piece not in vocab:
                continue
            if best[end] is None or len(prev) + 1 < len(best[end] or []):
                best[end] = [*prev, piece]
    return best[n]


#: Digits the recogniser reads in place of look-alike letters ("NOTIFICATI0N", "SIGNATURE" as "S1GNATURE").
_DIGIT_LOOKALIKES = ({"0": "o", "1": "l", "5": "s"}, {"0": "o", "1": "i", "5": "s"})
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")


def _letters_for_digits(token: str, vocab: frozenset[str]) -> str:
    """Form words misread with a look-alike digit in them ("PM/0rder"), put right; anything else
    as read."""
    return _ALNUM_RUN.sub(lambda m: _word_for_digits(m.group(0), vocab), token)


def _word_for_digits(core: str, vocab: frozenset[str]) -> str:
    if len(core) < 4 or core.isdigit() or core.isalpha():
        return core
    for table in _DIGIT_LOOKALIKES:
        fixed = "".join(table.get(ch, ch) for ch in core)
        if fixed.isalpha() and fixed.lower() in vocab:
            # the case of the letters around it; a misread first letter of a word is a capital
            letters = [ch for ch in core if ch.isalpha()]
            upper = sum(ch.isupper() for ch in letters) * 2 > len(letters)
            out = [(table[ch].upper() if upper else table[ch]) if ch in table else ch for ch in core]
            if core[0] in table:
                out[0] = out[0].upper()
            return "".join(out)
    return core


def respace(text: str, vocab: frozenset[str] | None = None) -> str:
    """``text`` with the forms' words put apart and broken words put together."""
    vocab = vocabulary() if vocab is None else vocab
    tokens = [_letters_for_digits(t, vocab) for t in text.split()]
    joined: list[str] = []
    for token in tokens:
        if joined:
            prev = joined[-1]
            a, b = _TOKEN.match(prev), _TOKEN.match(token)
            if a and b and not a.group(3) and not b.group(1):
                together = (a.group(2) + b.group(2)).lower()
                if together in vocab and not (a.group(2).lower() in vocab and b.group(2).lower() in vocab):
                    joined[-1] = prev + token
                    continue
        joined.append(token)
    out: list[str] = []
    for token in joined:
        m = _TOKEN.match(token)
        core = m.group(2) if m else ""
        if not m or len(core) > MAX_TOKEN or core.lower() in vocab or len(core) < MIN_SPLIT:
            out.append(token)
            continue
        pieces = _split(core.lower(), vocab)
        if pieces is None or len(pieces) < 2:
            out.append(token)
            continue
        cut, at = [], 0
        for piece in pieces:
            cut.append(core[at : at + len(piece)])
            at += len(piece)
        out.append(m.group(1) + " ".join(cut) + m.group(3))
    return " ".join(out)

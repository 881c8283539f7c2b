"""File naming conventions (domain.md §4.3): propose, preview, rename and undo.

Names are sanitised to one safe path component; renames stay inside the file's folder, never
replace an existing file and are atomic per file; a batch can be undone as long as its files
were not changed or moved since.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.jobs import Job

#: Longest file name we produce (extension included); far below every file system's limit.
MAX_NAME_LENGTH = 120
#: Longest token between underscores (domain.md §4.3).
MAX_TOKEN_LENGTH = 50
#: Highest collision suffix tried (``_2`` … ``_99``) before a rename is refused.
MAX_SUFFIX = 99

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})$")

#: Pattern per document type. Fields: {PM}, {NOTIF}, {DATE} (YYYYMMDD), {LOC}, {REV}, {SEQ}.
PATTERNS: dict[str, str] = {
    "asbuilt": "{PM}_ASBUILT_{DATE}",
    "ec_tag": "{NOTIF}_ECTAG",
    "construction_sketch": "{PM}_SKETCH_R{REV}",
    "ccsc": "{PM}_CCSC_{LOC}",
    "photos": "{PM}_PHOTO_{SEQ}",
    "cwc": "{PM}_CWC",
    "lme": "{PM}_LME_{DATE}",
    "tailboard": "{PM}_TAILBOARD_{DATE}",
    "face_sheet": "{PM}_FACESHEET_{DATE}",
}
#: Everything else: ``{PM}_{DOCTYPE}_{YYYYMMDD}``.
FALLBACK_PATTERN = "{PM}_{DOCTYPE}_{DATE}"
#: Document types that are left with the name they have.
UNRENAMED = frozenset({"other"})


class RenameError(NexaError):
    """A rename or undo cannot be done safely; the message says which file and why."""


class UndoRefused(RenameError):
    """Undo would touch files that changed or moved since the rename; nothing was undone."""

    def __init__(self, message: str, reasons: Sequence[str]) -> None:
        super().__init__(message)
        self.reasons = tuple(reasons)


# -- sanitising -------------------------------------------------------------------------------


#: Letters NFKD does not decompose into ASCII.
_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "þ": "th",
        "Þ": "TH",
    }
)


def _clean_token(text: str) -> str:
    text = text.translate(_LETTERS)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE.sub("_", ascii_text)


def sanitise(name: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """``name`` as one safe file name: only ``A-Z a-z 0-9 _ -`` plus one ``.ext``.

    No separators, no ``..``, no control characters, no Windows reserved names (CON, PRN, AUX,
    NUL, COM1–9, LPT1–9, with or without an extension), no trailing dot or space, each
    underscore-separated token at most 50 characters, the whole at most ``max_length``.
    """
    text = name.strip()
    extension = ""
    match = _EXTENSION.search(text)
    if match and match.start() > 0:
        extension = "." + match.group(1).lower()
        text = text[: match.start()]
    stem = _clean_token(text)
    tokens = [token[:MAX_TOKEN_LENGTH] for token in stem.split("_") if token.strip("-")]
    stem = "_".join(tokens).strip("_-") or "unnamed"
    if stem.upper() in _WINDOWS_RESERVED:
        stem = f"{stem}_file"
    if len(extension) >= max_length:  # no room for a stem and this extension: drop the extension
        extension = ""
    room = max_length - len(extension)
    stem = stem[:room].rstrip("_-") or "unnamed"[:room]
    if stem.upper() in _WINDOWS_RESERVED:  # a cut can land on one again ("CON_file" → "CON")
        stem = "file"[:room] if room >= 4 else "f" * min(room, 2)
    return stem + extension


# -- proposals --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenameProposal:
    """Rename ``source`` to ``new_name`` in the same folder (``new_name`` is sanitised)."""

    source: Path
    new_name: str
    doc_type: str
    pattern: str

    @property
    def target(self) -> Path:
        return self.source.with_name(self.new_name)

    @property
    def changes(self) -> bool:
        return self.new_name != self.source.name


def _job_key(job: Job) -> str:
    """What stands for {PM}: the PM number, else the work order, else the notification."""
    return job.pm_number or job.wo_number or job.notification_number or f"JOB{job.id}"


def name_for(
    doc_type: str,
    job: Job,
    today: dt.date,
    *,
    extension: str = ".pdf",
    location: int = 1,
    revision: int = 0,
    sequence: int = 1,
) -> str:
    """The conventional file name for a document of ``doc_type`` (sanitised, with extension)."""
    pattern = PATTERNS.get(doc_type, FALLBACK_PATTERN)
    if doc_type == "ec_tag" and not job.notification_number:
        pattern = "{PM}_ECTAG_{DATE}"
    stem = pattern.format(
        PM=_job_key(job),
        NOTIF=job.notification_number or "",
        DATE=today.strftime("%Y%m%d"),
        LOC=location,
        REV=revision,
        SEQ=f"{sequence:03d}",
        DOCTYPE=doc_type.upper(),
    )
    return sanitise(stem + extension)


def _extension(path: Path) -> str:
    match = _EXTENSION.search(path.name)
    return "." + match.group(1).lower() if match and match.start() > 0 else ""


def propose_names(
    files_with_doc_types: Iterable[tuple[Path, str]], job: Job, today: dt.date
) -> list[RenameProposal]:
    """Names for ``(file, doc_type)`` pairs by the conventions (``doc_type`` "asbuilt" = the whole
    package). CCSCs are numbered by location and photos by sequence in the order given; two
    files that would get the same name get ``_2``, ``_3``…; "other" keeps its name."""
    counters: dict[str, int] = {}
    taken: set[str] = set()
    proposals = []
    for path, doc_type in files_with_doc_types:
        path = Path(path)
        if doc_type in UNRENAMED:
            proposals.append(RenameProposal(path, path.name, doc_type, "(kept)"))
            taken.add(path.name.lower())
            continue
        counters[doc_type] = counters.get(doc_type, 0) + 1
        count = counters[doc_type]
        name = name_for(doc_type, job, today, extension=_extension(path), location=count, sequence=count)
        stem, ext = _split(name)
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            candidate = sanitise(f"{stem}_{n}{ext}")
        taken.add(candidate.lower())
        proposals.append(RenameProposal(path, candidate, doc_type, PATTERNS.get(doc_type, FALLBACK_PATTERN)))
    return proposals


def _split(name: str) -> tuple[str, str]:
    match = _EXTENSION.search(name)
    if match and match.start() > 0:
        return name[: match.start()], name[match.start() :]
    return name, ""


# -- moving files safely ----------------------------------------------------------------------


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def move_no_overwrite(source: Path, target: Path) -> None:
    """Give ``source`` the name ``target`` atomically, never replacing an existing file.

    Raises :class:`FileExistsError` when ``target`` is taken. On POSIX a hard link plus unlink
    (link refuses existing names); on Windows ``os.rename`` (which refuses them too).
    """
    if os.path.lexists(target):
        if _same_file(source, target) and source.name != target.name:  # case-only rename
            os.rename(source, target)
            return
        raise FileExistsError(errno.EEXIST, "File exists", str(target))
    if os.name == "nt":
        os.rename(source, target)
        return
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        # File systems without hard links (FAT, some network shares): best effort.
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "File exists", str(target)) from None
        os.rename(source, target)
        return
    try:
        os.unlink(source)
    except OSError:
        os.unlink(target)
        raise


@dataclass(frozen=True, slots=True)
class _Stamp:
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> _Stamp:
        st = os.stat(path, follow_symlinks=False)
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass(frozen=True, slots=True)
class RenameRecord:
    """One rename that was done: enough to undo it and to notice changes since."""

    original: Path
    renamed: Path
    size: int
    mtime_ns: int
    inode: int

    def to_json(self) -> dict[str, Any]:
        return {
            "original": str(self.original),
            "renamed": str(self.renamed),
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "inode": self.inode,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenameRecord:
        return cls(
            Path(data["original"]),
            Path(data["renamed"]),
            int(data["size"]),
            int(data["mtime_ns"]),
            int(data["inode"]),
        )


@dataclass(frozen=True, slots=True)
class RenameBatch:
    """What :func:`apply_renames` did (``renamed``) and did not do (``skipped``: file, reason)."""

    renamed: tuple[RenameRecord, ...]
    skipped: tuple[tuple[Path, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "renamed": [r.to_json() for r in self.renamed],
            "skipped": [{"file": str(p), "reason": why} for p, why in self.skipped],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenameBatch:
        return cls(
            tuple(RenameRecord.from_json(r) for r in data.get("renamed", [])),
            tuple((Path(s["file"]), str(s["reason"])) for s in data.get("skipped", [])),
        )

    @property
    def summary(self) -> str:
        text = f"Renamed {len(self.renamed)} file{'s' if len(self.renamed) != 1 else ''}"
        if self.skipped:
            text += f", skipped {len(self.skipped)}"
        return text + "."


def _rename_one(
    source: Path, wanted: str, on_collision: Literal["suffix", "refuse"]
) -> tuple[RenameRecord | None, str | None]:
    if not os.path.lexists(source):
        return None, f"{source.name} is no longer in {source.parent}."
    if source.is_symlink() or not source.is_file():
        return None, f"{source.name} is not a regular file; it was left alone."
    name = sanitise(wanted)
    if name != wanted:
        return None, f"{wanted!r} is not a safe file name (try {name!r}); {source.name} was left alone."
    folder = source.parent
    stem, ext = _split(name)
    before = _Stamp.of(source)
    for n in range(1, MAX_SUFFIX + 1):
        candidate = folder / (name if n == 1 else sanitise(f"{stem}_{n}{ext}"))
        if candidate.resolve().parent != folder.resolve():  # sanitise makes this impossible; be sure
            return None, f"{candidate.name} would leave the folder; {source.name} was left alone."
        try:
            move_no_overwrite(source, candidate)
        except FileExistsError:
            if on_collision == "refuse":
                return None, f"{name} already exists in {folder}; {source.name} was not renamed."
            continue
        except OSError as exc:
            return None, f"{source.name} could not be renamed: {exc.strerror or exc}."
        return RenameRecord(source, candidate, before.size, before.mtime_ns, before.inode), None
    return None, f"No free name like {name} in {folder}; {source.name} was not renamed."


def apply_renames(
    proposals: Iterable[RenameProposal], *, on_collision: Literal["suffix", "refuse"] = "suffix"
) -> RenameBatch:
    """Rename files as proposed (what OK in the preview does). Each file stays in its folder and
    never replaces another: a taken name gets ``_2``, ``_3``… (or is refused with
    ``on_collision="refuse"``). Proposals that change nothing are skipped silently."""
    done: list[RenameRecord] = []
    skipped: list[tuple[Path, str]] = []
    for proposal in proposals:
        if not proposal.changes:
            continue
        record, reason = _rename_one(proposal.source, proposal.new_name, on_collision)
        if record is not None:
            done.append(record)
        else:
            skipped.append((proposal.source, reason or "not renamed"))
    return RenameBatch(tuple(done), tuple(skipped))


def undo(batch: RenameBatch) -> list[Path]:
    """Give every renamed file its original name back; returns the restored paths.

    Nothing is undone if any file was changed, moved or replaced since the rename, or if its
    old name has been taken by another file: :class:`UndoRefused` says which and why.
    """
    reasons = []
    for record in batch.renamed:
        if not os.path.lexists(record.renamed):
            reasons.append(
                f"{record.renamed.name} is no longer in {record.renamed.parent} (moved or deleted)."
            )
            continue
        now = _Stamp.of(record.renamed)
        if now.inode != record.inode:
            reasons.append(f"{record.renamed.name} was replaced by another file since it was renamed.")
        elif (now.size, now.mtime_ns) != (record.size, record.mtime_ns):
            reasons.append(f"{record.renamed.name} was changed since it was renamed.")
        elif os.path.lexists(record.original) and not _same_file(record.original, record.renamed):
            reasons.append(f"{record.original.name} now belongs to another file.")
    if reasons:
        raise UndoRefused(
            "The renames were not undone, because:\n" + "\n".join(f"• {r}" for r in reasons), reasons
        )
    restored: list[Path] = []
    for record in reversed(batch.renamed):
        try:
            move_no_overwrite(record.renamed, record.original)
        except OSError as exc:
            raise RenameError(
                f"{record.renamed.name} could not get its old name {record.original.name} back "
                f"({exc.strerror or exc}). Files restored so far: {len(restored)}."
            ) from exc
        restored.append(record.original)
    return restored

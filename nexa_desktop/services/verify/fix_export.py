"""Fix and export: one new PDF with the package's documents in canonical order, duplicates left out.

:func:`plan_fix` works out what goes where (for the preview), :func:`export_fixed` writes it. The
original files are only ever read; the output never overwrites anything. Pages are copied with
pypdf (form fields, annotations and rotation travel with them).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.rules import RulesProfile
from nexa_desktop.domain.verify import DOC_TYPE_TITLES, Document, FindingCode, Report
from nexa_desktop.ops.task import Cancelled, TaskState

log = logging.getLogger(__name__)

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 80


class FixExportError(NexaError):
    """The fixed package could not be planned or written; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class PlannedDocument:
    """A document (or the part of it that is kept) and the pages of its source file, in order."""

    document: Document
    source: Path
    pages: tuple[int, ...]
    #: Why the pages are copied as they are, e.g. the file had a problem during the check.
    note: str = ""

    @property
    def title(self) -> str:
        return DOC_TYPE_TITLES.get(self.document.doc_type, self.document.doc_type)


@dataclass(frozen=True, slots=True)
class LeftOut:
    """Pages that will not be in the new PDF, and why (no pages: the whole file)."""

    file: str
    pages: tuple[int, ...]
    reason: str
    document: Document | None = None


@dataclass(frozen=True)
class FixPlan:
    """What :func:`export_fixed` will write, for the UI to preview first."""

    root: Path
    output_name: str
    items: tuple[PlannedDocument, ...]
    #: Second copies named by DUPLICATE_DOC findings (empty with ``keep_duplicates``).
    dropped: tuple[LeftOut, ...] = ()
    #: Pages pypdf cannot read (damaged, password-protected, missing): they cannot be copied.
    skipped: tuple[LeftOut, ...] = ()
    #: True when the documents were not already in canonical order.
    reordered: bool = False

    @property
    def page_count(self) -> int:
        return sum(len(item.pages) for item in self.items)


# --------------------------------------------------------------------------- naming


def sanitise_name(name: str) -> str:
    """Letters, digits, ``.``, ``_`` and ``-`` only (safe on every OS and in e-mail attachments)."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip("._-")
    return cleaned[:_MAX_NAME].rstrip("._-") or "package"


def output_name(report: Report, today: dt.date) -> str:
    """``{PM}_ASBUILT_{YYYYMMDD}.pdf``; the package name stands in when no PM number was found."""
    base = sanitise_name(report.pm_number) if report.pm_number else ""
    if not base or base == "package":
        base = sanitise_name(report.package)
    return f"{base}_ASBUILT_{today:%Y%m%d}.pdf"


def free_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name_2``, ``name_3``… when taken (nothing is ever overwritten)."""
    candidate = folder / name
    stem, suffix = candidate.stem, candidate.suffix
    n = 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{stem}_{n}{suffix}"
    return candidate


# --------------------------------------------------------------------------- reading sources


@dataclass(slots=True)
class _Source:
    path: Path | None
    page_count: int = 0
    problem: str = ""


def _open_pdf(path: Path) -> PdfReader:
    """A pypdf reader, decrypted when the file only has an owner password (common on forms)."""
    reader = PdfReader(path, strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise FixExportError(f"{path.name} is password-protected")
    return reader


def _probe(path: Path | None, file: str) -> _Source:
    if path is None:
        return _Source(None, problem=f"{file} is not inside the package folder")
    if not path.is_file():
        return _Source(path, problem=f"{file} is no longer there")
    try:
        return _Source(path, page_count=len(_open_pdf(path).pages))
    except FixExportError as exc:
        return _Source(path, problem=str(exc))
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        log.info("pypdf cannot read %s: %s", path, exc)
        return _Source(path, problem=f"{file} is damaged and cannot be read ({type(exc).__name__})")


class _Sources:
    """The package's PDF files by their path in the report, each opened once to count its pages."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.single = root.is_file()
        self.base = root.resolve().parent if self.single else root.resolve()
        self._known: dict[str, _Source] = {}

    def get(self, file: str) -> _Source:
        if file not in self._known:
            path: Path | None = self.root
            if not self.single:
                candidate = (self.root / file).resolve()
                path = candidate if candidate.is_relative_to(self.base) else None  # no '../' escapes
            self._known[file] = _probe(path, file)
        return self._known[file]


# --------------------------------------------------------------------------- planning


def _runs(file: str, pages: Sequence[int], labels: dict[tuple[str, int], str]) -> list[Document]:
    """Consecutive pages of one type as documents (pages no document of the report covers)."""
    out: list[Document] = []
    for page in sorted(pages):
        doc_type = labels.get((file, page), "other")
        last = out[-1] if out else None
        if last is not None and last.doc_type == doc_type and last.end_page == page - 1:
            last.end_page = page
        else:
            out.append(Document(doc_type, file, page, page))
    return out


def _is_second_copy(duplicates: dict[tuple[str, int], str | None], doc: Document, page: int) -> bool:
    """The page is named by a DUPLICATE_DOC finding about this document's type."""
    key = (doc.file, page)
    return key in duplicates and duplicates[key] in (None, doc.doc_type)


def plan_fix(
    report: Report,
    profile: RulesProfile,
    *,
    today: dt.date | None = None,
    keep_duplicates: bool = False,
) -> FixPlan:
    """Order the documents canonically (``other`` last), leave out duplicate copies, name the output."""
    if not report.root:
        raise FixExportError("This report does not say where the package is; check the package again.")
    root = Path(report.root)
    if not root.exists():
        raise FixExportError(f"The package {root} is no longer there (moved or renamed?). Check it again.")
    sources = _Sources(root)

    labels = {(p.file, p.page): p.doc_type for p in report.pages}
    problems = {p.file: p.message for p in report.file_problems}
    documents = [Document(d.doc_type, d.file, d.start_page, d.end_page) for d in report.documents]

    # Pages no document covers (labelled pages, or pages of files the check could not finish) are
    # kept too: a fixed package must never lose a page silently.
    covered = {(d.file, n) for d in documents for n in range(d.start_page, d.end_page + 1)}
    skipped: list[LeftOut] = []
    files = list(dict.fromkeys([p.file for p in report.pages] + [d.file for d in documents] + list(problems)))
    for file in files:
        src = sources.get(file)
        known = {p.page for p in report.pages if p.file == file}
        whole = set(range(1, src.page_count + 1)) if not src.problem else set()
        loose = sorted((known | whole) - {n for f, n in covered if f == file})
        documents.extend(_runs(file, loose, labels))
        if src.problem and not known and not any(f == file for f, _ in covered):
            skipped.append(LeftOut(file, (), problems.get(file, src.problem)))  # nothing of it was read
    # Reading order as the report has it (its file order, then page), synthetic runs slotted in.
    file_rank = {file: index for index, file in enumerate(files)}
    documents.sort(key=lambda d: (file_rank[d.file], d.start_page))

    duplicates: dict[tuple[str, int], str | None] = {}
    if not keep_duplicates:
        for finding in report.findings:
            if finding.code == FindingCode.DUPLICATE_DOC:
                for ref in finding.pages:
                    duplicates[(ref.file, ref.page)] = finding.doc_type

    items: list[PlannedDocument] = []
    dropped: list[LeftOut] = []
    for doc in documents:
        src = sources.get(doc.file)
        wanted = [n for n in range(doc.start_page, doc.end_page + 1)]
        dup = [n for n in wanted if _is_second_copy(duplicates, doc, n)]
        if dup:
            dropped.append(LeftOut(doc.file, tuple(dup), "second copy of the same document", doc))
            wanted = [n for n in wanted if n not in dup]
        if src.problem:
            if wanted:
                skipped.append(LeftOut(doc.file, tuple(wanted), problems.get(doc.file, src.problem), doc))
            continue
        missing = [n for n in wanted if n > src.page_count]
        if missing:
            skipped.append(
                LeftOut(doc.file, tuple(missing), f"{doc.file} has only {src.page_count} pages", doc)
            )
            wanted = [n for n in wanted if n <= src.page_count]
        if wanted and src.path is not None:
            note = f"copied as it is: {problems[doc.file]}" if doc.file in problems else ""
            items.append(PlannedDocument(doc, src.path, tuple(wanted), note))

    def canonical(pair: tuple[int, PlannedDocument]) -> tuple[int, int]:
        rank = profile.rank(pair[1].document.doc_type)
        return (len(profile.canonical_order) if rank is None else rank, pair[0])

    ranked = sorted(enumerate(items), key=canonical)
    ordered = tuple(item for _, item in ranked)
    return FixPlan(
        root=root,
        output_name=output_name(report, today or dt.date.today()),
        items=ordered,
        dropped=tuple(dropped),
        skipped=tuple(skipped),
        reordered=[i for i, _ in ranked] != list(range(len(items))),
    )


# --------------------------------------------------------------------------- writing


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def export_fixed(plan: FixPlan, out_dir: Path, *, task: TaskState | None = None) -> Path:
    """Write the planned PDF into ``out_dir`` under a free name; returns its path."""
    if not plan.items:
        raise FixExportError("There are no readable pages to export.")
    if plan.root.is_dir() and _inside(out_dir, plan.root):
        raise FixExportError(
            "Choose an output folder outside the package folder: a new PDF inside it would become "
            "part of the package the next time it is checked."
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FixExportError(f"Can't create the folder {out_dir}: {exc.strerror or exc}") from exc

    writer = PdfWriter()
    readers: dict[Path, PdfReader] = {}
    total = len(plan.items)
    try:
        for index, item in enumerate(plan.items):
            if task is not None:
                task.check_cancelled()
                task.set_progress(index / (total + 1), f"Adding {item.title} ({index + 1} of {total})")
            reader = readers.get(item.source)
            if reader is None:
                reader = readers[item.source] = _open_pdf(item.source)
            first_page = len(writer.pages)
            writer.append(reader, pages=[n - 1 for n in item.pages], import_outline=False)
            writer.add_outline_item(title=f"{item.title} ({item.document.file})", page_number=first_page)
    except (FixExportError, Cancelled):
        raise
    except Exception as exc:  # the file changed since the plan was made, or pypdf gave up on it
        raise FixExportError(
            f"Can't copy pages from {item.source.name}: {exc}. Check the package again and retry."
        ) from exc

    if task is not None:
        task.check_cancelled()
        task.set_progress(total / (total + 1), "Writing the PDF")
    target = _claim(out_dir, plan.output_name)
    try:
        with target.open("wb") as handle:
            writer.write(handle)
    except Exception as exc:
        target.unlink(missing_ok=True)
        raise FixExportError(f"Can't write {target}: {exc}") from exc
    if task is not None:
        task.set_progress(1.0, f"Saved {target.name}")
    return target


def _claim(out_dir: Path, name: str) -> Path:
    """Create an empty file under a free name (exclusively, so two exports never collide)."""
    for _ in range(1000):
        target = free_path(out_dir, name)
        try:
            with target.open("xb"):
                return target
        except FileExistsError:
            continue
        except OSError as exc:
            raise FixExportError(f"Can't write into {out_dir}: {exc.strerror or exc}") from exc
    raise FixExportError(f"Too many files named like {name} in {out_dir}; clean up the folder.")

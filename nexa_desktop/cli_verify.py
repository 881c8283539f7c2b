"""``nexa verify``: the same Verifier the Packages view uses, with a rich progress bar on stderr.

Contract (issue 3): with ``--json`` the report is printed as one JSON object on the last line of
stdout; exit 0 whenever a report was produced, whatever its verdict; otherwise a one-line error
on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nexa_desktop import paths
from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.verify import DOC_TYPE_TITLES, Report
from nexa_desktop.ops import TaskState

#: After this long on one package, files not read yet skip OCR, so a report always comes in time
#: (scanned pages then show as unreadable). Text pages are read in milliseconds.
OCR_SECONDS = 80.0


class PackageNotFound(NexaError):
    """The path given to ``nexa verify`` does not exist or holds no package."""


def _stored_exemplars() -> list[tuple[str, str]]:
    """Pages users re-labelled in the app, when this workstation has a NEXA database."""
    from nexa_desktop.settings import load_settings

    settings = load_settings()
    if not settings.database_url and not paths.database_file().exists():
        return []
    try:
        from nexa_desktop.services.verify.intake import load_exemplars
        from nexa_desktop.store.db import open_database

        db = open_database(settings.database_url or None)
        try:
            return list(load_exemplars(db))
        finally:
            db.dispose()
    except Exception as exc:
        print(f"nexa: learned page types not loaded ({exc})", file=sys.stderr)
        return []


def batch_packages(root: Path) -> list[Path]:
    """Each sub-folder holding PDFs, and each PDF directly in ``root``, in name order."""
    out: list[Path] = []
    for child in sorted(root.iterdir(), key=lambda p: p.name):
        is_pdf = child.is_file() and child.suffix.lower() == ".pdf"
        if is_pdf or (child.is_dir() and any(p.suffix.lower() == ".pdf" for p in child.rglob("*"))):
            out.append(child)
    return out


def run_verify(
    path: Path, *, work_type: str | None, as_json: bool, batch: bool, ocr: bool, record: bool
) -> int:
    from nexa_desktop.services.verify.pipeline import Verifier

    if not path.exists():
        raise PackageNotFound(f"{path} does not exist")
    err = Console(stderr=True)
    packages = batch_packages(path) if batch else [path]
    if batch and not packages:
        raise PackageNotFound(f"{path} holds no package folders or PDFs")
    failures = 0
    with (
        Verifier(ocr=ocr, exemplars=_stored_exemplars(), warm=batch) as verifier,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn() if batch else TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=err,
            transient=not batch,
            disable=not err.is_terminal,
        ) as progress,
    ):
        overall = progress.add_task("Packages" if batch else path.name, total=len(packages) if batch else 100)
        for package in packages:

            def _on_change(state: TaskState, package: Path = package) -> None:
                if not batch:
                    progress.update(overall, completed=state.progress * 100, description=state.status[:60])

            state = TaskState(on_change=_on_change)
            try:
                report = verifier.verify(package, work_type=work_type, state=state, ocr_seconds=OCR_SECONDS)
            except NexaError as exc:
                if not batch:
                    raise
                failures += 1
                err.print(f"[red]{package.name}: {exc}[/red]")
                continue
            finally:
                if batch:
                    progress.advance(overall)
            if record:
                _record(report)
            if as_json:
                sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
                sys.stdout.flush()
            else:
                _print_report(Console(), report)
    return 2 if failures else 0


def _record(report: Report) -> None:
    from nexa_desktop.services.verify.extraction import package_pdf_files
    from nexa_desktop.services.verify.intake import record_report
    from nexa_desktop.settings import load_settings
    from nexa_desktop.store.db import open_database

    db = open_database(load_settings().database_url or None)
    try:
        record_report(db, report, package_pdf_files(Path(report.root)))
    finally:
        db.dispose()


_VERDICT_STYLE = {"pass": "bold green", "review": "bold yellow", "fail": "bold red"}
#: A finding's confidence is printed only below this (a sure finding needs no "100% sure").
_SHOW_SURE_BELOW = 0.9


def _print_report(console: Console, report: Report) -> None:
    verdict = report.verdict.value
    inferred = " (inferred)" if report.work_type_inferred else ""
    console.print(
        f"[{_VERDICT_STYLE[verdict]}]{verdict.upper()}[/] {escape(report.package)}: "
        f"{len(report.pages)} pages, {len(report.documents)} documents, "
        f"work type {report.work_type}{inferred}, "
        f"PM {report.pm_number or '?'}, notification {report.notification_number or '?'}"
    )
    if report.findings:
        table = Table(show_lines=False)
        for column in ("", "Code", "Document", "Field", "Pages", "What to fix"):
            table.add_column(column, overflow="fold")
        for f in report.findings:
            pages = ", ".join(f"{r.file} p.{r.page}" for r in f.pages)
            sure = f" ({f.confidence:.0%} sure)" if f.confidence < _SHOW_SURE_BELOW else ""
            table.add_row(
                "✖" if f.severity == "error" else "!",
                f.code,
                DOC_TYPE_TITLES.get(f.doc_type or "", ""),
                f.field or "",
                escape(pages),
                escape(f.message) + sure,
            )
        console.print(table)
    review = report.review
    if review:
        count = len(review)
        console.print(
            f"[yellow]Needs review: {count} page{'s' if count != 1 else ''} to look at by eye[/]"
            " (not counted in the verdict)"
        )
        for item in review:
            console.print(f"  {escape(item.page.file)} p.{item.page.page}: {escape(item.reason)}")

"""Conventional file names for a verified package: each file named after the document it holds.

The naming rules, the sanitiser, renaming and undo live in ``services.complete.naming``; this module
decides, from a verification report, which document type each PDF of the package stands for.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.jobs import Job, JobStatus
from nexa_desktop.domain.verify import Report
from nexa_desktop.services.complete.naming import RenameProposal, propose_names

#: Pages of this type do not decide a file's name (cover letters, blank pages…).
_NO_TYPE = "other"
#: The type that names a PDF holding the whole package.
_WHOLE_PACKAGE = "asbuilt"


class NoPackageNumber(NexaError):
    """The package prints neither a PM nor a notification number, so there is nothing to name by."""


def job_of_report(report: Report) -> Job:
    """A stand-in job carrying the package's PM and notification numbers (what the names use)."""
    if not report.pm_number and not report.notification_number:
        raise NoPackageNumber(
            "No PM or notification number found: cannot name the files. "
            "Link the package to its job on the board, or check that its documents print the PM number."
        )
    return Job(
        id=0,
        pm_number=report.pm_number or None,
        notification_number=report.notification_number or None,
        status=JobStatus.NEW,
        version=1,
    )


def package_doc_types(report: Report) -> list[tuple[str, str]]:
    """``(file inside the package, doc_type)`` for every PDF of the package, in reading order.

    A file named by one document type holds documents of exactly that type (``other`` pages do not
    count); a file with several types, or none, is ``other`` and keeps its name. When the package
    is one PDF holding several types, that PDF is the whole package (``asbuilt``).
    """
    files = {page.file for page in report.pages}
    files |= {document.file for document in report.documents}
    files |= {problem.file for problem in report.file_problems}
    ordered = sorted(f for f in files if f)
    typed: list[tuple[str, str]] = []
    for file in ordered:
        types = {d.doc_type for d in report.documents if d.file == file} - {_NO_TYPE}
        typed.append((file, types.pop() if len(types) == 1 else _NO_TYPE))
    if len(ordered) == 1:
        file = ordered[0]
        several = len({d.doc_type for d in report.documents if d.file == file} - {_NO_TYPE}) > 1
        if several:
            typed = [(file, _WHOLE_PACKAGE)]
    return typed


def propose_package_names(report: Report, today: dt.date, job: Job | None = None) -> list[RenameProposal]:
    """One rename proposal per PDF of the package, by the naming conventions.

    Numbers come from ``job`` (the board job the package is linked to) or else from the report;
    without a PM or notification number this raises :class:`NoPackageNumber`. A single-PDF package
    (the report's root is a file) is named ``{PM}_ASBUILT_{DATE}``.
    """
    named_by = job if job is not None else job_of_report(report)
    if not report.root:
        raise NexaError("The report does not say where the package is; check the package again.")
    root = Path(report.root)
    if root.is_file():
        return propose_names([(root, _WHOLE_PACKAGE)], named_by, today)
    pairs = [(root.joinpath(*file.split("/")), doc_type) for file, doc_type in package_doc_types(report)]
    return propose_names(pairs, named_by, today)

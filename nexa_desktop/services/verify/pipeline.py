"""The verification pipeline: files → extraction (worker process, budgets) → classification →
documents → checks → report. One ``Verifier`` keeps the warm pieces for many packages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from nexa_desktop.domain.rules import RulesProfile
from nexa_desktop.domain.verify import (
    WORK_TYPES,
    Document,
    FileProblem,
    Finding,
    FindingCode,
    PageContent,
    PageLabel,
    PageRef,
    Report,
)
from nexa_desktop.ops import TaskState
from nexa_desktop.services.verify.checks import PackageChecker
from nexa_desktop.services.verify.classify import PageClassifier
from nexa_desktop.services.verify.extraction import Budget, Extractor, package_pdf_files
from nexa_desktop.services.verify.profile import load_profile
from nexa_desktop.services.verify.segment import segment

PageCallback = Callable[[PageLabel], None]


class UnknownWorkType(ValueError):
    """A work type the rules profile does not define."""


class Verifier:
    """Checks job packages. Thread-safe: one package at a time; reuse it to keep models warm."""

    #: Packages whose page contents stay in memory for corrections.
    KEEP_PACKAGES = 8

    def __init__(
        self,
        *,
        profile: RulesProfile | None = None,
        ocr: bool = True,
        exemplars: Sequence[tuple[str, str]] = (),
        budget: Budget | None = None,
        in_process: bool = False,
        classifier: PageClassifier | None = None,
        warm: bool = True,
    ) -> None:
        """``warm``: load the embedding model in the background now (the app, benchmarks). A one-shot
        check leaves it off: the model is then loaded only if some page's title does not settle its
        type, which most packages never need."""
        self.profile = profile or load_profile()
        self.classifier = classifier or PageClassifier(exemplars=exemplars)
        self.checker = PackageChecker(self.profile)
        self._ocr = ocr
        self._extractor = Extractor(budget or Budget(), ocr=ocr, in_process=in_process)
        self._lock = threading.Lock()
        #: page contents of reports made here, so corrections re-check without re-reading PDFs
        self._reports: dict[int, tuple[Report, list[PageContent]]] = {}
        # Load the embedding model while the first files are being read (they overlap: the reader is
        # another process); classification waits for it only if it is not ready yet.
        self._warm: threading.Thread | None = None
        if warm:
            self._warm = threading.Thread(target=self._warm_quietly, name="nexa-verify-warm-up", daemon=True)
            self._warm.start()

    def _warm_quietly(self) -> None:
        try:
            self.classifier.warm_up()
        except Exception:
            return

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._warm is not None:
            self._warm.join()  # never leave a thread inside the model loader behind
        self._extractor.close()

    def warm_up(self) -> None:
        """Load the embedding model now (the first package would otherwise pay for it)."""
        self.classifier.warm_up()

    # ------------------------------------------------------------------ verify
    def verify(
        self,
        path: Path,
        *,
        work_type: str | None = None,
        state: TaskState | None = None,
        on_page: PageCallback | None = None,
        ocr_seconds: float | None = None,
    ) -> Report:
        """Check one package. ``ocr_seconds``: after this long, files not yet read skip OCR (their
        scanned pages are reported unreadable) so that a report always comes within a time limit."""
        if work_type is not None and work_type not in self.profile.work_types:
            known = ", ".join(sorted(self.profile.work_types))
            raise UnknownWorkType(f"Unknown work type {work_type!r}; use one of: {known}")
        started = time.perf_counter()
        root = Path(path)
        files = package_pdf_files(root)
        with self._lock:
            contents: list[PageContent] = []
            labels: list[PageLabel] = []
            problems: list[FileProblem] = []
            total_files = len(files)
            self._extractor.ocr = self._ocr  # a previous package may have run out of OCR time
            for index, (file_path, rel) in enumerate(files):
                if ocr_seconds is not None and time.perf_counter() - started > ocr_seconds:
                    self._extractor.ocr = False
                if state is not None:
                    state.check_cancelled()
                    state.set_progress(index / max(1, total_files), f"Reading {rel}")

                def _progress(page: PageContent, rel: str = rel, index: int = index) -> None:
                    if state is not None:
                        state.set_progress(
                            (index + 0.5) / max(1, total_files), f"Reading {rel}, page {page.page}"
                        )

                cancel = (lambda: state.cancel_requested) if state is not None else None
                result = self._extractor.extract(file_path, rel, on_page=_progress, cancel=cancel)
                if result.problem is not None:
                    problems.append(result.problem)
                file_labels = self.classifier.classify_file(result.pages) if result.pages else []
                contents.extend(result.pages)
                labels.extend(file_labels)
                for label in file_labels:
                    if on_page is not None:
                        on_page(label)
                    if state is not None:
                        state.add_partial(label)
            if state is not None:
                state.set_progress(0.97, "Checking the package")
            report = self._report(root, labels, contents, problems, work_type)
            report.seconds = time.perf_counter() - started
            self._remember(report, contents)
            if state is not None:
                state.set_progress(1.0, f"Checked {len(labels)} pages")
            return report

    def _remember(self, report: Report, contents: list[PageContent]) -> None:
        """Keep page contents for corrections: the last few packages, every report made from them.

        The report itself is held too, so its ``id`` cannot be reused by another object.
        """
        self._reports[id(report)] = (report, contents)
        packages: list[int] = []
        for _report, kept in self._reports.values():
            if id(kept) not in packages:
                packages.append(id(kept))
        stale = set(packages[: max(0, len(packages) - self.KEEP_PACKAGES)])
        for key in [k for k, (_r, kept) in self._reports.items() if id(kept) in stale]:
            del self._reports[key]

    def _contents_of(self, report: Report) -> list[PageContent] | None:
        entry = self._reports.get(id(report))
        return entry[1] if entry is not None and entry[0] is report else None

    def _report(
        self,
        root: Path,
        labels: list[PageLabel],
        contents: list[PageContent],
        problems: list[FileProblem],
        work_type: str | None,
    ) -> Report:
        docs = segment(labels, contents)
        result = self.checker.run(docs, contents, work_type=work_type)
        findings = [_file_finding(p, self.profile) for p in problems] + result.findings
        findings.sort(key=_finding_order(labels))
        sure = self.profile.finding_threshold
        withheld = [f for f in findings if f.confidence < sure]
        findings = [f for f in findings if f.confidence >= sure]
        return Report(
            package=root.name if root.is_dir() else root.stem,
            work_type=result.work_type,
            work_type_inferred=result.work_type_inferred,
            pm_number=result.pm_number,
            notification_number=result.notification_number,
            pages=labels,
            documents=[d.document for d in docs],
            findings=findings,
            file_problems=problems,
            review_threshold=self.profile.review_threshold,
            root=str(root.resolve()),
            withheld=withheld,
        )

    # ------------------------------------------------------------------ corrections
    def recheck(
        self, report: Report, overrides: Mapping[PageRef, str], *, work_type: str | None = None
    ) -> Report:
        """Re-segment and re-check with user-corrected page types (no PDF is read again)."""
        contents = self._contents_of(report)
        if contents is None:
            raise LookupError("This report was not made in this session; verify the package again.")
        labels = [
            replace(p, doc_type=overrides[p.ref], confidence=1.0, reason="set by you")
            if p.ref in overrides
            else p
            for p in report.pages
        ]
        wt = work_type if work_type is not None else (None if report.work_type_inferred else report.work_type)
        with self._lock:
            new = self._report(Path(report.root), labels, contents, list(report.file_problems), wt)
        new.seconds = report.seconds
        self._remember(new, contents)
        return new

    def learn(self, report: Report, ref: PageRef, doc_type: str) -> tuple[str, str]:
        """That page becomes an exemplar at once; returns (doc_type, text) for the caller to persist."""
        contents = self._contents_of(report)
        page = next((c for c in contents or [] if c.file == ref.file and c.page == ref.page), None)
        if page is None:
            raise LookupError(f"No page {ref.file} p. {ref.page} in this report.")
        text = self.classifier.learn(doc_type, page)
        return doc_type, text

    def forget(self, doc_type: str, text: str) -> bool:
        """Undo :meth:`learn` (the user took the correction back)."""
        return self.classifier.forget(doc_type, text)

    def page_content(self, report: Report, ref: PageRef) -> PageContent | None:
        contents = self._contents_of(report) or []
        return next((c for c in contents if c.file == ref.file and c.page == ref.page), None)


def _file_finding(problem: FileProblem, profile: RulesProfile) -> Finding:
    return Finding(
        code=FindingCode.FILE_ERROR.value,
        severity=profile.severity_of(FindingCode.FILE_ERROR.value),
        doc_type=None,
        field=None,
        pages=[],
        message=f"{problem.file}: {problem.message}",
    )


def _finding_order(labels: Sequence[PageLabel]) -> Callable[[Finding], Any]:
    position = {(p.file, p.page): i for i, p in enumerate(labels)}

    def key(f: Finding) -> tuple[int, int]:
        first = min((position.get((r.file, r.page), 10**9) for r in f.pages), default=-1)
        return (0 if f.severity == "error" else 1, first)

    return key


def verify_package(path: Path, *, work_type: str | None = None, state: TaskState | None = None) -> Report:
    """One-shot convenience: a fresh Verifier for a single package."""
    with Verifier() as verifier:
        return verifier.verify(path, work_type=work_type, state=state)


__all__ = ["WORK_TYPES", "Document", "UnknownWorkType", "Verifier", "verify_package"]

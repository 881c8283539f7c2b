"""Pages → documents: consecutive pages of one file and one type, split where numbering restarts or a
page repeats the document's first page (a second copy); copies are marked as duplicates."""

from __future__ import annotations

import re
from collections.abc import Sequence

from nexa_desktop.domain.verify import Document, PageContent, PageLabel
from nexa_desktop.services.verify.checks import DocumentPages
from nexa_desktop.services.verify.classify import page_numbering

_TOKEN = re.compile(r"[a-z0-9]+")

#: Word-set similarity above which two pages are the same page (a copy).
COPY_SIMILARITY = 0.86


def _tokens(page: PageContent) -> frozenset[str]:
    return frozenset(_TOKEN.findall(page.text.lower()))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def segment(labels: Sequence[PageLabel], contents: Sequence[PageContent]) -> list[DocumentPages]:
    """Group labelled pages (reading order) into documents, and mark second copies."""
    docs: list[DocumentPages] = []
    tokens = [_tokens(c) for c in contents]
    numbering = [page_numbering(c.text) for c in contents]
    first_index: list[int] = []  # index into contents of each document's first page
    for i, (label, content) in enumerate(zip(labels, contents, strict=True)):
        current = docs[-1] if docs else None
        start_new = (
            current is None
            or current.document.file != label.file
            or current.document.doc_type != label.doc_type
            or (label.doc_type == "other" and not content.readable)
        )
        if not start_new and current is not None:
            page_of = numbering[i]
            prev_of = numbering[i - 1]
            restarts = page_of is not None and (
                page_of[0] == 1 or (prev_of is not None and page_of[0] <= prev_of[0])
            )
            if restarts or similarity(tokens[i], tokens[first_index[-1]]) >= COPY_SIMILARITY:
                start_new = True
        if start_new or current is None:
            docs.append(
                DocumentPages(Document(label.doc_type, label.file, label.page, label.page), [content])
            )
            first_index.append(i)
        else:
            current.document.end_page = label.page
            current.pages.append(content)
    _mark_duplicates(docs)
    return docs


def _mark_duplicates(docs: list[DocumentPages]) -> None:
    for index in range(1, len(docs)):
        doc, prev = docs[index], docs[index - 1]
        if doc.document.doc_type != prev.document.doc_type or doc.document.doc_type == "other":
            continue
        original = prev.duplicate_of if prev.duplicate_of is not None else index - 1
        first = docs[original]
        if len(doc.pages) != len(first.pages):
            continue
        sims = [similarity(_tokens(a), _tokens(b)) for a, b in zip(doc.pages, first.pages, strict=True)]
        if sims and min(sims) >= COPY_SIMILARITY:
            doc.duplicate_of = original

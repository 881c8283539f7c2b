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
#: The same when either page is a scan read by OCR (split and misread words lower the score).
SCAN_COPY_SIMILARITY = 0.8
#: A copy's pages, on average, are at least this alike (less when a scan is involved).
COPY_MEAN_SIMILARITY = 0.75
SCAN_COPY_MEAN_SIMILARITY = 0.6
_ALNUM = re.compile(r"[^a-z0-9]")


def _tokens(page: PageContent) -> frozenset[str]:
    return frozenset(_TOKEN.findall(page.text.lower()))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def _trigrams(page: PageContent) -> frozenset[str]:
    text = _ALNUM.sub("", page.text.lower())
    return frozenset(text[i : i + 3] for i in range(len(text) - 2))


def page_similarity(a: PageContent, b: PageContent) -> float:
    """How alike two pages read: their words, and for a scan also their letters (OCR splits and
    misreads words but keeps most three-letter runs)."""
    words = similarity(_tokens(a), _tokens(b))
    if a.source != "ocr" and b.source != "ocr":
        return words
    return max(words, similarity(_trigrams(a), _trigrams(b)))


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
                DocumentPages(
                    Document(label.doc_type, label.file, label.page, label.page),
                    [content],
                    type_confidence=[label.confidence],
                )
            )
            first_index.append(i)
        else:
            current.document.end_page = label.page
            current.pages.append(content)
            current.type_confidence.append(label.confidence)
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
        sims = [page_similarity(a, b) for a, b in zip(doc.pages, first.pages, strict=True)]
        scanned = any(p.source == "ocr" for p in [*doc.pages, *first.pages])
        opening = SCAN_COPY_SIMILARITY if scanned else COPY_SIMILARITY
        mean = SCAN_COPY_MEAN_SIMILARITY if scanned else COPY_MEAN_SIMILARITY
        # a copy opens with the same first page; its other pages may carry a later tick or
        # signature (and a scan reads a little differently), so they need only mostly match
        if sims and sims[0] >= opening and sum(sims) / len(sims) >= mean:
            doc.duplicate_of = original

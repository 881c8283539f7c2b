"""Pages into documents, and second copies found even when a copy was scanned or signed later."""

from __future__ import annotations

from nexa_desktop.domain.verify import Box, PageContent, PageLabel, TextLine
from nexa_desktop.services.verify.segment import segment

FIRST = (
    "Electric Corrective (EC) Tag - Field Disposition PM/Order No. PM-47324184 Notification 154773630 "
    "Completed or canceled in field LAN ID K8LH Complete/Cancel date 25-MAY-25 Actual hours 4 Crew size 5 "
    "Status Completed Canceled Found completed upon arrival Crew type PG&E crew T-Man Contractor"
)
SECOND = (
    "FDA field data acquisition Category Condition Action Priority Anchor Damaged Repair Arrester Leaking "
    "Repair Bolt covers Missing Replace Conductor primary Missing Remove Page 2 of 2"
)


def _page(file: str, n: int, text: str, source: str = "text") -> PageContent:
    words = text.split()
    lines = [
        TextLine(" ".join(words[i : i + 8]), Box(40, 40 + i * 2, 400, 50 + i * 2))
        for i in range(0, len(words), 8)
    ]
    return PageContent(file, n, 612, 792, lines=lines, source=source, text_layer=source == "text")  # type: ignore[arg-type]


def _ocr_noise(text: str) -> str:
    """How a scan of the page reads: words run together, a letter misread here and there."""
    return (
        text.replace("Field Disposition", "FieldDisposition")
        .replace("Canceled", "Cance1ed")
        .replace("Crew type", "Crewtype")
        .replace("upon arrival", "uponarrival")
        .replace("Actual hours", "Actualhours")
    )


def _docs(pages: list[PageContent]) -> list[tuple[str, int, int, int | None]]:
    labels = [PageLabel(p.file, p.page, "ec_tag", 0.95) for p in pages]
    return [
        (d.document.file, d.document.start_page, d.document.end_page, d.duplicate_of)
        for d in segment(labels, pages)
    ]


def test_a_scanned_second_copy_is_a_duplicate() -> None:
    pages = [
        _page("a.pdf", 1, FIRST),
        _page("a.pdf", 2, SECOND),
        _page("b.pdf", 1, _ocr_noise(FIRST), "ocr"),
        _page("b.pdf", 2, SECOND.replace("Bolt covers", "Boltcovers"), "ocr"),
    ]
    assert _docs(pages)[1][3] == 0


def test_a_copy_signed_later_on_its_last_page_is_a_duplicate() -> None:
    signed = SECOND + " Foreman signature s/ Hector Whitaker Date 06/03/26 reviewed by supervisor"
    pages = [
        _page("a.pdf", 1, FIRST),
        _page("a.pdf", 2, SECOND),
        _page("a.pdf", 3, FIRST),
        _page("a.pdf", 4, signed),
    ]
    assert _docs(pages)[1][3] == 0


def test_the_same_form_for_another_order_is_not_a_copy() -> None:
    other = (
        FIRST.replace("47324184", "39787420")
        .replace("154773630", "118204551")
        .replace("K8LH", "TXJY")
        .replace("25-MAY-25", "02-JUN-26")
        .replace("hours 4", "hours 7")
        .replace("size 5", "size 3")
    )
    pages = [
        _page("a.pdf", 1, FIRST),
        _page("a.pdf", 2, SECOND),
        _page("b.pdf", 1, other, "ocr"),
        _page("b.pdf", 2, "Page 2 of 2 notes: none", "ocr"),
    ]
    assert _docs(pages)[1][3] is None

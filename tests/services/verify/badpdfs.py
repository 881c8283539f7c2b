"""Generators of good and bad PDF files for the extraction tests, built at test time (no binaries in git).

Every function writes one file into the given folder and returns its path.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

# --------------------------------------------------------------------------- helpers


def text_pdf(
    folder: Path,
    name: str,
    pages: Sequence[Sequence[str]],
    *,
    size: tuple[float, float] = letter,
    font_size: float = 12,
    margin: float = 72,
) -> Path:
    """A PDF whose pages hold the given lines of text, top to bottom from the top-left margin."""
    path = folder / name
    page_canvas = canvas.Canvas(str(path), pagesize=size)
    for lines in pages:
        page_canvas.setFont("Helvetica", font_size)
        y = size[1] - margin - font_size
        for line in lines:
            page_canvas.drawString(margin, y, line)
            y -= font_size * 1.6
        page_canvas.showPage()
    page_canvas.save()
    return path


def raw_pdf(objects: Sequence[bytes], *, root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A hand-written PDF: object ``i`` (1-based) has body ``objects[i-1]``; the xref is correct."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        trailer_extra,
        xref,
    )
    return bytes(out)


def flate_stream(data: bytes, extra: bytes = b"") -> bytes:
    """A stream object body whose (already deflated) data is ``data``."""
    return b"<< /Length %d /Filter /FlateDecode %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _one_page(contents: bytes, resources: bytes = b"<< >>") -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources %s /Contents 4 0 R >>" % resources,
        contents,
    ]


def zeros_deflated(gigabytes: float) -> bytes:
    """A zlib stream of about 1000:1 that inflates to ``gigabytes`` of zero bytes (built in well under 1 s).

    One 16 MB block is compressed once and repeated: after a full flush the deflate blocks do not
    refer back, so copies of the same block chain into a valid stream; the checksum is recomputed.
    """
    chunk = bytes(16 << 20)
    copies = max(2, int(gigabytes * 1024 / 16))
    compressor = zlib.compressobj(9)
    head = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    middle = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)[:-4]
    checksum = 1
    for _ in range(copies):
        checksum = zlib.adler32(chunk, checksum)
    return head + middle * (copies - 1) + tail + checksum.to_bytes(4, "big")


# --------------------------------------------------------------------------- bad files


def empty_file(folder: Path, name: str = "empty.pdf") -> Path:
    path = folder / name
    path.write_bytes(b"")
    return path


def text_file_named_pdf(folder: Path, name: str = "notes.pdf") -> Path:
    path = folder / name
    path.write_text("Crew notes: arrived 0700, pole set, all good.\n", encoding="utf-8")
    return path


def png_named_pdf(folder: Path, name: str = "photo.pdf") -> Path:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    path = folder / name
    path.write_bytes(buffer.getvalue())
    return path


def encrypted_pdf(folder: Path, name: str = "locked.pdf") -> Path:
    """A PDF that needs the user password 'secret' to open."""
    source = text_pdf(folder, "unlocked-source.pdf", [["PM/Order #: 12345678"]])
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password="secret", owner_password="owner-secret", algorithm="AES-128")
    path = folder / name
    with path.open("wb") as handle:
        writer.write(handle)
    source.unlink()
    return path


def truncated_pdf(folder: Path, name: str = "truncated.pdf", keep: float = 0.5) -> Path:
    """A five-page PDF cut off after ``keep`` of its bytes."""
    source = text_pdf(folder, "whole-source.pdf", [[f"Page {n} of 5", "x" * 40] for n in range(1, 6)])
    data = source.read_bytes()
    source.unlink()
    path = folder / name
    path.write_bytes(data[: max(int(len(data) * keep), 16)])
    return path


def many_pages_pdf(folder: Path, pages: int, name: str = "many.pdf") -> Path:
    return text_pdf(folder, name, [[f"Page {n}"] for n in range(1, pages + 1)])


def content_bomb_pdf(folder: Path, name: str = "bomb.pdf", gigabytes: float = 1.0) -> Path:
    """One page whose ~1 MB content stream inflates to ``gigabytes`` of data when the page loads."""
    path = folder / name
    path.write_bytes(raw_pdf(_one_page(flate_stream(zeros_deflated(gigabytes)))))
    return path


def image_bomb_pdf(folder: Path, name: str = "image-bomb.pdf") -> Path:
    """A page with no text and one 25000 × 25000 RGB image (1.9 GB decoded) filling it: OCR must render it."""
    side = 25000
    image = flate_stream(
        zeros_deflated(side * side * 3 / 1024**3),
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        % (side, side),
    )
    contents = flate_stream(zlib.compress(b"q 612 0 0 792 0 0 cm /Im0 Do Q\n"))
    objects = [
        *_one_page(contents, b"<< /XObject << /Im0 5 0 R >> >>"),
        image,
    ]
    path = folder / name
    path.write_bytes(raw_pdf(objects))
    return path


def slow_pdf(folder: Path, name: str = "slow.pdf", operators: int = 3_000_000) -> Path:
    """One page with millions of tiny path operators (a ~80 KB file that takes seconds to load)."""
    contents = flate_stream(zlib.compress(b"0 0 m 1 1 l S\n" * operators, 9))
    path = folder / name
    path.write_bytes(raw_pdf(_one_page(contents)))
    return path


def cyclic_pages_pdf(folder: Path, name: str = "cyclic-pages.pdf") -> Path:
    """The page tree's only kid is the page tree itself."""
    path = folder / name
    path.write_bytes(
        raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"])
    )
    return path


def cyclic_xref_pdf(folder: Path, name: str = "cyclic-xref.pdf") -> Path:
    """A readable one-page PDF whose trailer's /Prev points back at its own xref section."""
    contents = flate_stream(zlib.compress(b"BT /F1 12 Tf 72 700 Td (PM/Order #: 12345678) Tj ET\n"))
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    objects = [*_one_page(contents, b"<< /Font << /F1 5 0 R >> >>"), font]
    data = raw_pdf(objects)
    xref_at = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    data = data.replace(b"/Root 1 0 R ", b"/Root 1 0 R /Prev %d " % xref_at)
    path = folder / name
    path.write_bytes(data)
    return path


def broken_xref_pdf(folder: Path, name: str = "broken-xref.pdf") -> Path:
    """A one-page PDF whose xref offsets all point to the wrong place (pdfium rebuilds it)."""
    source = text_pdf(folder, "xref-source.pdf", [["PM/Order #: 12345678"]])
    data = re.sub(rb"\d{10} 00000 n", b"0000000099 00000 n", source.read_bytes())
    source.unlink()
    path = folder / name
    path.write_bytes(data)
    return path


def missing_page_pdf(folder: Path, name: str = "missing-page.pdf") -> Path:
    """The page tree says three pages but holds two: page 3 fails to load (the rest reads)."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
    )
    text = b"BT /F1 12 Tf 72 700 Td (Page %d of the tree) Tj ET\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R 5 0 R] /Count 3 >>",
        font,
        page % 6,
        page % 7,
        flate_stream(zlib.compress(text % 1)),
        flate_stream(zlib.compress(text % 2)),
    ]
    path = folder / name
    path.write_bytes(raw_pdf(objects))
    return path


# --------------------------------------------------------------------------- scans


def scanned_pdf(
    folder: Path,
    name: str,
    lines: Sequence[str],
    *,
    turn: int = 0,
    size: tuple[float, float] = letter,
    font_size: float = 20,
    dpi: float = 150,
    header: str = "",
) -> Path:
    """A page with no text layer: the given lines rendered to a bitmap and placed as an image.

    ``turn`` (0/90/180/270) turns the scan clockwise, as a sheet fed sideways or upside down would
    come out; a quarter turn gives a landscape page. ``header`` is typed over the scan in the text
    layer, as a fax machine stamps its header line.
    """
    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader

    source = text_pdf(folder, f"{name}.source.pdf", [lines], size=size, font_size=font_size, margin=20)
    document = pdfium.PdfDocument(source)
    try:
        image = document[0].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        document.close()
    source.unlink()
    if turn:
        image = image.rotate(-turn, expand=True)  # PIL turns counter-clockwise
    width, height = size if turn in (0, 180) else (size[1], size[0])
    path = folder / name
    page_canvas = canvas.Canvas(str(path), pagesize=(width, height))
    page_canvas.drawImage(ImageReader(image), 0, 0, width=width, height=height)
    if header:
        page_canvas.setFont("Helvetica", 6)
        page_canvas.drawString(4, height - 8, header)
    page_canvas.showPage()
    page_canvas.save()
    return path

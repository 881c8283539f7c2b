"""After drawing: PDF annotations (ink signatures, sketch markup), sideways pages, scans and file assembly."""

from __future__ import annotations

import io
import random

import pypdfium2 as pdfium
from PIL import Image, ImageFilter
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from .draw import AnnotReq, PageInfo

UNREADABLE_MODES = ("faint", "smear", "coarse")


def _to_user(pt: tuple[float, float], rotate: int, media: tuple[float, float]) -> tuple[float, float]:
    """Display coordinates -> user space of a page with /Rotate ``rotate``."""
    x, y = pt
    mw, mh = media
    if rotate == 90:
        return mw - y, x
    if rotate == 270:
        return y, mh - x
    if rotate == 180:
        return mw - x, mh - y
    return x, y


def _cm(rotate: int, media: tuple[float, float]) -> str:
    mw, mh = media
    return {
        0: "1 0 0 1 0 0",
        90: f"0 1 -1 0 {mw:.2f} 0",
        270: f"0 -1 1 0 0 {mh:.2f}",
        180: f"-1 0 0 -1 {mw:.2f} {mh:.2f}",
    }[rotate]


def _num(v: float) -> FloatObject:
    return FloatObject(round(v, 2))


def _annot(writer: PdfWriter, req: AnnotReq, rotate: int, media: tuple[float, float]) -> DictionaryObject:
    col = " ".join(f"{c:.3f}" for c in req.color)
    disp_pts = [p for s in req.points for p in s]
    if req.kind in ("square", "circle", "freetext"):
        x0, y0, x1, y1 = req.rect
        disp_pts = [(x0, y0), (x1, y1), (x0, y1), (x1, y0)]
    user = [_to_user(p, rotate, media) for p in disp_pts]
    pad = req.width + 2
    ux0 = min(p[0] for p in user) - pad
    uy0 = min(p[1] for p in user) - pad
    ux1 = max(p[0] for p in user) + pad
    uy1 = max(p[1] for p in user) + pad
    body = [f"q {_cm(rotate, media)} cm {col} RG {col} rg {req.width:.2f} w 1 J 1 j"]
    a = DictionaryObject()
    a[NameObject("/Type")] = NameObject("/Annot")
    a[NameObject("/F")] = NumberObject(4)
    a[NameObject("/C")] = ArrayObject([_num(c) for c in req.color])
    bs = DictionaryObject({NameObject("/W"): _num(req.width)})
    a[NameObject("/BS")] = bs
    resources = DictionaryObject()
    if req.kind in ("ink", "line"):
        for s in req.points:
            body.append(
                f"{s[0][0]:.2f} {s[0][1]:.2f} m " + " ".join(f"{x:.2f} {y:.2f} l" for x, y in s[1:]) + " S"
            )
        if req.kind == "ink":
            a[NameObject("/Subtype")] = NameObject("/Ink")
            a[NameObject("/InkList")] = ArrayObject(
                [ArrayObject([_num(v) for p in s for v in _to_user(p, rotate, media)]) for s in req.points]
            )
        else:
            a[NameObject("/Subtype")] = NameObject("/Line")
            (p0, p1) = req.points[0][0], req.points[0][-1]
            a[NameObject("/L")] = ArrayObject(
                [_num(v) for v in (*_to_user(p0, rotate, media), *_to_user(p1, rotate, media))]
            )
    elif req.kind == "square":
        x0, y0, x1, y1 = req.rect
        body.append(f"{x0:.2f} {y0:.2f} {x1 - x0:.2f} {y1 - y0:.2f} re S")
        a[NameObject("/Subtype")] = NameObject("/Square")
    elif req.kind == "circle":
        x0, y0, x1, y1 = req.rect
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
        k = 0.5523
        body.append(
            f"{cx + rx:.2f} {cy:.2f} m "
            f"{cx + rx:.2f} {cy + k * ry:.2f} {cx + k * rx:.2f} {cy + ry:.2f} {cx:.2f} {cy + ry:.2f} c "
            f"{cx - k * rx:.2f} {cy + ry:.2f} {cx - rx:.2f} {cy + k * ry:.2f} {cx - rx:.2f} {cy:.2f} c "
            f"{cx - rx:.2f} {cy - k * ry:.2f} {cx - k * rx:.2f} {cy - ry:.2f} {cx:.2f} {cy - ry:.2f} c "
            f"{cx + k * rx:.2f} {cy - ry:.2f} {cx + rx:.2f} {cy - k * ry:.2f} {cx + rx:.2f} {cy:.2f} c S"
        )
        a[NameObject("/Subtype")] = NameObject("/Circle")
    else:  # freetext callout: bordered box with the text
        x0, y0, x1, y1 = req.rect
        size = max(7.0, min(11.0, (y1 - y0) - 6))
        safe = req.text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        body.append(f"0.8 w {x0:.2f} {y0:.2f} {x1 - x0:.2f} {y1 - y0:.2f} re S")
        body.append(f"BT /Helv {size:.1f} Tf {x0 + 3:.2f} {y0 + 4:.2f} Td ({safe}) Tj ET")
        a[NameObject("/Subtype")] = NameObject("/FreeText")
        a[NameObject("/Contents")] = TextStringObject(req.text)
        a[NameObject("/DA")] = TextStringObject(f"/Helv {size:.1f} Tf {col} rg")
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        resources[NameObject("/Font")] = DictionaryObject({NameObject("/Helv"): font})
        if rotate:
            a[NameObject("/Rotate")] = NumberObject(rotate)
    body.append("Q")
    rect = ArrayObject([_num(ux0), _num(uy0), _num(ux1), _num(uy1)])
    a[NameObject("/Rect")] = rect
    ap = DecodedStreamObject()
    ap.set_data("\n".join(body).encode("latin-1"))
    ap[NameObject("/Type")] = NameObject("/XObject")
    ap[NameObject("/Subtype")] = NameObject("/Form")
    ap[NameObject("/BBox")] = ArrayObject(list(rect))
    ap[NameObject("/Resources")] = resources
    a[NameObject("/AP")] = DictionaryObject({NameObject("/N"): writer._add_object(ap)})
    return a


def add_annotations(pdf: bytes, infos: list[PageInfo], sideways: dict[int, int]) -> bytes:
    """Attach the requested annotations and set uncompensated /Rotate on sideways pages."""
    if not any(i.annots for i in infos) and not sideways:
        return pdf
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for i, page in enumerate(writer.pages):
        info = infos[i]
        media = (float(page.mediabox.width), float(page.mediabox.height))
        if info.annots:
            arr = page.get("/Annots")
            annots = ArrayObject(list(arr) if arr is not None else [])
            for req in info.annots:
                annots.append(writer._add_object(_annot(writer, req, info.rotate, media)))
            page[NameObject("/Annots")] = annots
        if i in sideways:
            page.rotate(sideways[i])
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _noise(rng: random.Random, size: tuple[int, int], mode: str = "L") -> Image.Image:
    w, h = size
    small = (max(1, w // 2), max(1, h // 2))
    n = Image.frombytes("L", small, rng.randbytes(small[0] * small[1]))
    n = n.resize(size, Image.Resampling.NEAREST)
    return n if mode == "L" else Image.merge("RGB", (n, n, n))


def scan_image(pdf: bytes, index: int, mode: str, rng: random.Random) -> tuple[bytes, tuple[float, float]]:
    """Render one page like a scanner would: greyscale/colour JPEG, skew, speckle; or an unreadable one."""
    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[index]
        w_pt, h_pt = page.get_size()
        if mode in ("grey", "colour"):
            dpi = rng.choice((150, 175, 200))
        elif mode == "coarse":
            dpi = rng.choice((9, 11, 13))
        else:
            dpi = 90
        bmp = page.render(scale=dpi / 72, grayscale=mode != "colour", draw_annots=True)
        img = bmp.to_pil()
    finally:
        doc.close()
    img = img.convert("RGB" if mode == "colour" else "L")
    if mode in ("grey", "colour"):
        angle = rng.uniform(-1.3, 1.3)
        fill: int | tuple[int, int, int] = 255 if img.mode == "L" else (255, 255, 255)
        img = img.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=fill)
        img = Image.blend(img, _noise(rng, img.size, img.mode), rng.uniform(0.04, 0.07))
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.6)))
        lo, hi = rng.randint(10, 35), rng.randint(222, 236)  # levels: paper goes white, ink stays dark
        img = img.point(lambda v: min(255, max(0, int((v - lo) * 255 / (hi - lo)))))
        if rng.random() < 0.5:  # scanner shadow along one edge
            edge = Image.new(
                img.mode, (max(4, img.width // 60), img.height), 90 if img.mode == "L" else (90, 90, 90)
            )
            img.paste(edge, (0 if rng.random() < 0.5 else img.width - edge.width, 0))
        quality = rng.randint(55, 75)
    elif mode == "faint":
        img = img.point(lambda v: 255 - int((255 - v) * 0.035))
        img = Image.blend(img, _noise(rng, img.size), 0.12)
        img = img.filter(ImageFilter.GaussianBlur(1.5))
        quality = 25
    elif mode == "smear":
        img = img.filter(ImageFilter.GaussianBlur(7))
        img = img.resize((max(1, img.width // 6), img.height), Image.Resampling.BILINEAR).resize(
            (img.width, img.height), Image.Resampling.BILINEAR
        )
        img = img.point(lambda v: 255 - int((255 - v) * 0.5))
        img = Image.blend(img, _noise(rng, img.size), 0.1)
        quality = 30
    else:  # coarse
        img = img.filter(ImageFilter.GaussianBlur(0.8))
        target = (int(w_pt * 100 / 72), int(h_pt * 100 / 72))
        img = img.resize(target, Image.Resampling.NEAREST)
        img = Image.blend(img, _noise(rng, img.size), 0.08)
        quality = 35
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue(), (w_pt, h_pt)


def image_page_pdf(jpeg: bytes, size: tuple[float, float]) -> bytes:
    """A page holding only the image: no text layer at all."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size, invariant=1)
    c.drawImage(ImageReader(io.BytesIO(jpeg)), 0, 0, size[0], size[1])
    c.showPage()
    c.save()
    return buf.getvalue()


def apply_scans(pdf: bytes, scans: dict[int, str], rng: random.Random) -> bytes:
    if not scans:
        return pdf
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for i, page in enumerate(reader.pages):
        if i in scans:
            jpeg, size = scan_image(pdf, i, scans[i], rng)
            writer.add_page(PdfReader(io.BytesIO(image_page_pdf(jpeg, size))).pages[0])
        else:
            writer.add_page(page)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def assemble(docs: list[bytes]) -> bytes:
    writer = PdfWriter()
    for d in docs:
        writer.append(PdfReader(io.BytesIO(d)))
    writer.add_metadata({"/Producer": "scan-station", "/Creator": "office"})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)

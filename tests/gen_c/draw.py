"""Canvas-level drawing helpers: ruled cells, tick boxes, ink signatures, stamps, synthetic photos.

Everything is drawn in *display* coordinates (what a person sees, origin bottom-left); a page that carries
``/Rotate`` gets the compensating transform so the content still reads upright.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

Color = tuple[float, float, float]
BLACK: Color = (0.0, 0.0, 0.0)
BLUE_INK: Color = (0.08, 0.16, 0.62)
BLACK_INK: Color = (0.1, 0.1, 0.12)
RED: Color = (0.85, 0.08, 0.08)
BLUE: Color = (0.05, 0.25, 0.85)
GREY: Color = (0.55, 0.55, 0.55)
LIGHT: Color = (0.9, 0.9, 0.9)

LETTER = (612.0, 792.0)
LEGAL = (612.0, 1008.0)
A4 = (595.0, 842.0)
TABLOID_LANDSCAPE = (1224.0, 792.0)

FAMILIES: dict[str, tuple[str, str, str]] = {
    "helv": ("Helvetica", "Helvetica-Bold", "Helvetica-Oblique"),
    "times": ("Times-Roman", "Times-Bold", "Times-Italic"),
    "courier": ("Courier", "Courier-Bold", "Courier-Oblique"),
}

_GLYPH_FONT: str | None = None


def glyph_font() -> str | None:
    """A TrueType font with ☐ ☒ ☑ ✔ if one is installed (DejaVu); else None and ticks are drawn."""
    global _GLYPH_FONT
    if _GLYPH_FONT is not None:
        return _GLYPH_FONT or None
    for cand in (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("C:/Windows/Fonts/seguisym.ttf"),
        Path("/Library/Fonts/Arial Unicode.ttf"),
    ):
        if cand.exists():
            try:
                pdfmetrics.registerFont(TTFont("GenCGlyph", str(cand)))
            except Exception:
                continue
            _GLYPH_FONT = "GenCGlyph"
            return _GLYPH_FONT
    _GLYPH_FONT = ""
    return None


def fmt_date(d: date, fmt: str) -> str:
    mon = d.strftime("%b")
    if fmt == "us":
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    if fmt == "iso":
        return d.isoformat()
    if fmt == "long":
        return f"{mon} {d.day}, {d.year}"
    if fmt == "mil":
        return f"{d.day}-{mon.upper()}-{d.year % 100:02d}"
    if fmt == "short":
        return f"{d.month}/{d.day}/{d.year % 100:02d}"
    if fmt == "spaced":
        return f"{d.month:02d} {d.day:02d} {d.year % 100:02d}"
    if fmt == "dmy":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    raise ValueError(fmt)


@dataclass
class AnnotReq:
    """A PDF annotation to attach after drawing (display coordinates)."""

    kind: str  # ink | square | circle | line | freetext
    color: Color
    points: list[list[tuple[float, float]]] = field(default_factory=list)
    rect: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    text: str = ""
    width: float = 1.2


@dataclass
class PageInfo:
    size: tuple[float, float]
    rotate: int = 0
    fields: set[str] = field(default_factory=set)
    items: set[str] = field(default_factory=set)
    prints_pm: bool = False
    prints_notif: bool = False
    annots: list[AnnotReq] = field(default_factory=list)
    scan_ok: bool = True
    colour_critical: bool = False  # sketch pages: a greyscale scan would lose the red/blue markup
    form_only: bool = False  # ids only in AcroForm fields (not counted as a vote, never a mismatch target)


@dataclass
class Style:
    family: str = "helv"
    field_mode: str = "rule"  # cell | rule | dash | colon
    tick: str = "xlines"  # glyph | zapf | xlines | stroke | brackets
    sig_kind: str = "drawn"  # typed | drawn | image | annot | xmark
    date_fmt: str = "us"
    pm_label: str = "PM #"
    notif_label: str = "Notification #"
    lan_label: str = "LAN ID"
    footer: str = "Page {i} of {n}"
    ink: Color = BLUE_INK
    pm_prefix: bool = False


def catmull(points: list[tuple[float, float]], steps: int = 6) -> list[tuple[float, float]]:
    """Dense polyline through ``points`` (Catmull-Rom), the shape of a pen stroke."""
    if len(points) < 3:
        return points
    pts = [points[0], *points, points[-1]]
    out: list[tuple[float, float]] = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for s in range(steps):
            t = s / steps
            t2, t3 = t * t, t * t * t
            x = 0.5 * (
                2 * p1[0]
                + (-p0[0] + p2[0]) * t
                + (2 * p0[0] - 5 * p1[0] + 4 * p2[0] - p3[0]) * t2
                + (-p0[0] + 3 * p1[0] - 3 * p2[0] + p3[0]) * t3
            )
            y = 0.5 * (
                2 * p1[1]
                + (-p0[1] + p2[1]) * t
                + (2 * p0[1] - 5 * p1[1] + 4 * p2[1] - p3[1]) * t2
                + (-p0[1] + 3 * p1[1] - 3 * p2[1] + p3[1]) * t3
            )
            out.append((x, y))
    out.append(points[-1])
    return out


def scribble(rng: random.Random, w: float, h: float) -> list[list[tuple[float, float]]]:
    """Control points of a cursive signature inside a w×h box: a capital, small loops, maybe a flourish."""
    strokes: list[list[tuple[float, float]]] = []
    base = h * rng.uniform(0.22, 0.35)
    slant = rng.uniform(0.15, 0.45)
    x = w * rng.uniform(0.02, 0.06)
    words = rng.choice((1, 2, 2))
    budget = w * rng.uniform(0.78, 0.95)
    per_word = budget / words
    for _ in range(words):
        pts: list[tuple[float, float]] = []
        cap = h * rng.uniform(0.8, 1.0)
        pts += [
            (x, base),
            (x + 0.03 * w, cap),
            (x + 0.06 * w, base * 0.5),
            (x - 0.015 * w, base + 0.25 * h),
            (x + 0.08 * w, base + 0.3 * h),
        ]
        cx = x + 0.09 * w
        n = rng.randint(3, 7)
        step = (per_word - 0.12 * w) / n
        for _ in range(n):
            kind = rng.choices(("hump", "loop", "tall", "desc"), (4, 3, 2, 1))[0]
            if kind == "hump":
                pts += [(cx + step * 0.3, base + h * rng.uniform(0.22, 0.35)), (cx + step * 0.6, base)]
            elif kind == "loop":
                pts += [
                    (cx + step * 0.45, base + h * 0.3),
                    (cx + step * 0.1, base + h * 0.18),
                    (cx + step * 0.6, base),
                ]
            elif kind == "tall":
                pts += [
                    (cx + step * 0.5, base + h * rng.uniform(0.55, 0.7)),
                    (cx + step * 0.2, base + h * 0.4),
                    (cx + step * 0.7, base),
                ]
            else:
                pts += [
                    (cx + step * 0.3, base + h * 0.25),
                    (cx + step * 0.45, max(0.0, base - h * 0.3)),
                    (cx + step * 0.15, base - h * 0.1),
                    (cx + step * 0.75, base + h * 0.05),
                ]
            cx += step
        pts = [(px + (py - base) * slant, py + rng.uniform(-0.02, 0.02) * h) for px, py in pts]
        strokes.append(pts)
        x = cx + w * rng.uniform(0.03, 0.07)
    if rng.random() < 0.55:  # underline flourish
        y = base * rng.uniform(0.2, 0.6)
        strokes.append([(w * 0.08, y + h * 0.04), (w * 0.4, y - h * 0.04), (w * rng.uniform(0.65, 0.95), y)])
    return strokes


def signature_png(rng: random.Random, w_px: int, h_px: int, color: Color) -> bytes:
    """A pasted signature image (transparent PNG, slightly blurred like a scan of a pen line)."""
    img = Image.new("RGBA", (w_px, h_px), (255, 255, 255, 0))
    dr = ImageDraw.Draw(img)
    rgba = (int(color[0] * 255), int(color[1] * 255), int(color[2] * 255), 255)
    for stroke in scribble(rng, w_px * 0.9, h_px * 0.8):
        pts = [(x + w_px * 0.05, h_px - (y + h_px * 0.1)) for x, y in catmull(stroke)]
        dr.line(pts, fill=rgba, width=max(2, h_px // 18), joint="curve")
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def photo_jpeg(rng: random.Random, w_px: int, h_px: int) -> bytes:
    """A synthetic field photo: sky, ground, a wood pole with crossarm, wires, maybe a transformer."""
    img = Image.new("RGB", (w_px, h_px))
    dr = ImageDraw.Draw(img)
    sky_top = (rng.randint(90, 140), rng.randint(140, 180), rng.randint(200, 240))
    horizon = int(h_px * rng.uniform(0.55, 0.72))
    for yy in range(horizon):
        f = yy / max(1, horizon)
        dr.line([(0, yy), (w_px, yy)], fill=tuple(int(c + (235 - c) * f) for c in sky_top))
    ground = (rng.randint(90, 140), rng.randint(100, 130), rng.randint(50, 80))
    dr.rectangle([0, horizon, w_px, h_px], fill=ground)
    dr.polygon(
        [(0, h_px), (w_px * 0.35, horizon), (w_px * 0.45, horizon), (w_px * 0.6, h_px)], fill=(110, 110, 112)
    )
    px = int(w_px * rng.uniform(0.35, 0.7))
    top = int(h_px * rng.uniform(0.08, 0.2))
    dr.rectangle([px - 6, top, px + 6, horizon + 25], fill=(92, 66, 40))
    arm = int(w_px * 0.16)
    dr.rectangle([px - arm, top + 14, px + arm, top + 22], fill=(120, 90, 60))
    for k in (-1, 0, 1):
        dr.line([(0, top + 10 + k * 3), (px + k * arm, top + 12)], fill=(30, 30, 30), width=1)
        dr.line([(px + k * arm, top + 12), (w_px, top + 20 + k * 4)], fill=(30, 30, 30), width=1)
    if rng.random() < 0.5:
        dr.rectangle([px + 8, top + 50, px + 30, top + 85], fill=(150, 150, 150))
    for _ in range(rng.randint(1, 4)):
        tx = rng.randint(0, w_px)
        r = rng.randint(15, 40)
        dr.ellipse([tx - r, horizon - r * 1.5, tx + r, horizon + 5], fill=(40, rng.randint(80, 120), 40))
    img = img.filter(ImageFilter.GaussianBlur(0.7))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=70)
    return buf.getvalue()


class Doc:
    """One document drawn page by page with reportlab; records per-page facts for the truth."""

    def __init__(self, rng: random.Random, style: Style, noise: dict[int, list[str]] | None = None) -> None:
        self.rng = rng
        self.st = style
        self.noise = noise or {}
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, invariant=1, pageCompression=1)
        self.pages: list[PageInfo] = []
        self.W = 0.0
        self.H = 0.0
        self._open = False

    # -- pages ---------------------------------------------------------------------------------------
    @property
    def info(self) -> PageInfo:
        return self.pages[-1]

    def page(self, size: tuple[float, float], rotate: int = 0) -> None:
        """Start a page whose content frame is ``size``.

        ``rotate`` > 0 sets /Rotate and turns the content back, so the page reads upright; ``rotate`` < 0
        draws the content turned on a media box without /Rotate, so the page reads sideways.
        """
        if self._open:
            self.end_page()
        w, h = size
        turned = rotate < 0
        rotate = abs(rotate)
        media = (w, h) if rotate in (0, 180) else (h, w)
        if turned:
            self.c.setPageSize(media)
            self.c.setPageRotation(0)
        else:
            self.c.setPageSize((w, h))  # reportlab writes the MediaBox swapped itself for /Rotate 90/270
            self.c.setPageRotation(rotate)
        self.c.saveState()
        if rotate == 90:
            self.c.translate(media[0], 0)
            self.c.rotate(90)
        elif rotate == 270:
            self.c.translate(0, media[1])
            self.c.rotate(-90)
        elif rotate == 180:
            self.c.translate(media[0], media[1])
            self.c.rotate(180)
        self.W, self.H = w, h
        self.pages.append(PageInfo(size=size, rotate=rotate))
        self._open = True

    def end_page(self) -> None:
        for kind in self.noise.get(len(self.pages) - 1, []):
            self._draw_noise(kind)
        self.c.restoreState()
        self.c.showPage()
        self._open = False

    def finish(self) -> tuple[bytes, list[PageInfo]]:
        if self._open:
            self.end_page()
        self.c.save()
        return self.buf.getvalue(), self.pages

    # -- text ----------------------------------------------------------------------------------------
    def font(self, kind: str = "R", family: str | None = None) -> str:
        fam = FAMILIES[family or self.st.family]
        return {"R": fam[0], "B": fam[1], "I": fam[2]}[kind]

    def t(
        self,
        x: float,
        y: float,
        s: str,
        size: float = 9,
        kind: str = "R",
        color: Color = BLACK,
        align: str = "l",
        family: str | None = None,
    ) -> float:
        f = self.font(kind, family)
        self.c.setFillColorRGB(*color)
        self.c.setFont(f, size)
        w = pdfmetrics.stringWidth(s, f, size)
        if align == "c":
            x -= w / 2
        elif align == "r":
            x -= w
        self.c.drawString(x, y, s)
        self.c.setFillColorRGB(*BLACK)
        return float(x + w)

    def width(self, s: str, size: float = 9, kind: str = "R", family: str | None = None) -> float:
        return float(pdfmetrics.stringWidth(s, self.font(kind, family), size))

    def sc(self, x: float, y: float, s: str, size: float = 6.5, color: Color = BLACK) -> float:
        """Small caps: capitals at ``size``, the rest as smaller capitals (one text run)."""
        to = self.c.beginText(x, y)
        to.setFillColorRGB(*color)
        f = self.font("R")
        for word_i, word in enumerate(s.split(" ")):
            if word_i:
                to.setFont(f, size)
                to.textOut(" ")
            for j, ch in enumerate(word):
                big = j == 0 or ch.isupper() or not ch.isalpha()
                to.setFont(f, size if big else size * 0.78)
                to.textOut(ch.upper())
        self.c.drawText(to)
        self.c.setFillColorRGB(*BLACK)
        return float(to.getX())

    def wrap(
        self,
        x: float,
        y: float,
        w: float,
        s: str,
        size: float = 9,
        leading: float | None = None,
        kind: str = "R",
    ) -> float:
        lead = leading or size * 1.3
        line = ""
        for word in s.split():
            trial = f"{line} {word}".strip()
            if self.width(trial, size, kind) > w and line:
                self.t(x, y, line, size, kind)
                y -= lead
                line = word
            else:
                line = trial
        if line:
            self.t(x, y, line, size, kind)
            y -= lead
        return y

    # -- shapes --------------------------------------------------------------------------------------
    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        lw: float = 0.6,
        fill: Color | None = None,
        stroke: Color | None = BLACK,
    ) -> None:
        self.c.setLineWidth(lw)
        if fill is not None:
            self.c.setFillColorRGB(*fill)
        if stroke is not None:
            self.c.setStrokeColorRGB(*stroke)
        self.c.rect(x, y, w, h, stroke=1 if stroke is not None else 0, fill=1 if fill is not None else 0)
        self.c.setFillColorRGB(*BLACK)
        self.c.setStrokeColorRGB(*BLACK)

    def line(self, x1: float, y1: float, x2: float, y2: float, lw: float = 0.6, color: Color = BLACK) -> None:
        self.c.setLineWidth(lw)
        self.c.setStrokeColorRGB(*color)
        self.c.line(x1, y1, x2, y2)
        self.c.setStrokeColorRGB(*BLACK)

    def band(
        self, x: float, y: float, w: float, h: float, text: str, fill: Color = (0.12, 0.3, 0.55)
    ) -> None:
        self.rect(x, y, w, h, fill=fill, stroke=None)
        self.t(x + 5, y + h / 2 - 3.2, text, 9, "B", color=(1, 1, 1))

    # -- fields --------------------------------------------------------------------------------------
    def cell(
        self, x: float, ytop: float, w: float, h: float, label: str, value: str | None, vsize: float = 10
    ) -> None:
        """Ruled cell: small-caps label top-left, value below it; an empty field is an empty cell."""
        self.rect(x, ytop - h, w, h, lw=0.5)
        self.sc(x + 2.5, ytop - 7.5, label, 6)
        if value:
            self.t(x + 4, ytop - h + 4.5, value, vsize, family=self._value_family())

    def _value_family(self) -> str:
        return "courier" if self.st.family == "courier" else self.st.family

    def fld(
        self,
        x: float,
        y: float,
        w: float,
        label: str,
        value: str | None,
        size: float = 9,
        mode: str | None = None,
    ) -> float:
        """A label/value pair in the document's field mode; returns the x where it ends."""
        mode = mode or self.st.field_mode
        if mode == "cell":
            self.cell(x, y + 14, w, 20, label, value)
            return x + w
        # shrink so label and value fit the slot (no overprinting of the next field)
        need = self.width(f"{label}:  ", size, "B") + self.width(
            value or "", size + 0.5, family=self._value_family()
        )
        while need > w - 8 and size > 6:
            size -= 0.5
            need = self.width(f"{label}:  ", size, "B") + self.width(
                value or "", size + 0.5, family=self._value_family()
            )
        if mode == "dash":
            end = self.t(x, y, f"{label} - ", size, "B")
            if value:
                self.t(end, y, value, size)
            else:
                self.rect(end + 1, y - 2.5, min(70.0, x + w - end - 4), 11, lw=0.5)
            return x + w
        # rule / colon: label then a line with the value typed on it
        lab = label if label.endswith((":", "#", ".")) else f"{label}:"
        end = self.t(x, y, lab, size, "B" if mode == "rule" else "R") + 4
        self.line(end, y - 2, x + w - 4, y - 2, 0.5)
        if value:
            self.t(end + 3, y, value, size + 0.5, family=self._value_family())
        return x + w

    # -- ticks ---------------------------------------------------------------------------------------
    def box(self, x: float, y: float, checked: bool, s: float = 8, kind: str | None = None) -> None:
        """A check box with its lower-left at (x, y)."""
        kind = kind or self.st.tick
        gf = glyph_font()
        if kind == "glyph" and gf:
            self.c.setFont(gf, s + 2)
            self.c.drawString(x - 0.5, y - 0.5, "☒" if checked else "☐")
            return
        if kind == "brackets":
            self.t(x - 1, y + 0.5, "[X]" if checked else "[  ]", s, family="courier")
            return
        self.rect(x, y, s, s, lw=0.6)
        if not checked:
            return
        if kind == "zapf":
            self.c.setFont("ZapfDingbats", s)
            self.c.drawString(x + 0.6, y + 1, "✔")
        elif kind == "stroke":
            self.check_stroke(x + s * 0.1, y + s * 0.1, s * 1.1)
        else:
            self.line(x + 1.2, y + 1.2, x + s - 1.2, y + s - 1.2, 1.0)
            self.line(x + 1.2, y + s - 1.2, x + s - 1.2, y + 1.2, 1.0)

    def check_stroke(self, x: float, y: float, s: float, color: Color | None = None) -> None:
        """A hand-drawn check mark (vector stroke, ink colour)."""
        r = self.rng
        self.c.setStrokeColorRGB(*(color or self.st.ink))
        self.c.setLineWidth(1.3)
        self.c.setLineCap(1)
        p = self.c.beginPath()
        p.moveTo(x, y + s * 0.45)
        p.curveTo(x + s * 0.15, y + s * 0.3, x + s * 0.25, y + s * 0.1, x + s * 0.35, y)
        p.curveTo(x + s * 0.5, y + s * 0.4, x + s * 0.75, y + s * 0.8, x + s * r.uniform(0.95, 1.15), y + s)
        self.c.drawPath(p, stroke=1, fill=0)
        self.c.setStrokeColorRGB(*BLACK)
        self.c.setLineCap(0)

    def options(
        self,
        x: float,
        y: float,
        labels: list[str],
        selected: set[int],
        size: float = 8.5,
        gap: float = 12,
        kind: str | None = None,
    ) -> float:
        for i, lab in enumerate(labels):
            self.box(x, y - 1, i in selected, 7.5, kind)
            x = self.t(x + 11, y, lab, size) + gap
        return x

    def circle_word(self, x: float, y: float, word: str, size: float = 9) -> float:
        """A word circled in ink (how a paper form is often 'ticked')."""
        end = self.t(x, y, word, size)
        self.c.setStrokeColorRGB(*self.st.ink)
        self.c.setLineWidth(1.1)
        self.c.ellipse(x - 4, y - 4, end + 4, y + size + 1, stroke=1, fill=0)
        self.c.setStrokeColorRGB(*BLACK)
        return end

    # -- signatures ----------------------------------------------------------------------------------
    def ink(
        self, x: float, y: float, w: float, h: float, kind: str, name: str, color: Color | None = None
    ) -> None:
        """Put a signature of ``kind`` in the box (x, y, w, h); 'none' draws nothing."""
        color = color or self.st.ink
        r = self.rng
        if kind == "none":
            return
        if kind == "typed":
            first, _, last = name.partition(" ")
            txt = r.choice((f"/s/ {first[0]}. {last}", f"/s/ {name}", f"s/ {name}", f"/S/ {name.upper()}"))
            self.t(x + 4, y + 3, txt, 11, "I", family="times")
            return
        if kind == "xmark":
            self.t(x + 4, y + 3, "X", 13, "B", color=color)
            first, _, last = name.partition(" ")
            self.t(x + 18, y + 4, f"{first[0]}. {last}", 10, "I", color=color, family="times")
            return
        if kind == "image":
            png = signature_png(r, int(w * 3), int(h * 3), color)
            self.c.drawImage(ImageReader(io.BytesIO(png)), x, y, w, h, mask="auto")
            return
        strokes = scribble(r, w, h)
        if kind == "annot":
            ink_pts = [[(x + px, y + py) for px, py in catmull(s)] for s in strokes]
            self.info.annots.append(AnnotReq("ink", color, points=ink_pts, width=r.uniform(0.9, 1.5)))
            return
        self.c.setStrokeColorRGB(*color)
        self.c.setLineWidth(r.uniform(0.8, 1.4))
        self.c.setLineCap(1)
        self.c.setLineJoin(1)
        for stroke in strokes:
            pts = [(x + px, y + py) for px, py in stroke]
            path = self.c.beginPath()
            path.moveTo(*pts[0])
            ext = [pts[0], *pts, pts[-1]]
            for i in range(1, len(ext) - 2):
                p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
                c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
                c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
                path.curveTo(c1[0], c1[1], c2[0], c2[1], p2[0], p2[1])
            self.c.drawPath(path, stroke=1, fill=0)
        self.c.setStrokeColorRGB(*BLACK)
        self.c.setLineCap(0)
        self.c.setLineJoin(0)

    def sig_line(
        self,
        x: float,
        y: float,
        w: float,
        caption: str,
        signed: bool,
        name: str,
        printed_name: str | None = None,
        kind: str | None = None,
    ) -> None:
        """A rule with the caption printed under it (and optionally the printed name under that)."""
        self.line(x, y, x + w, y, 0.6)
        self.t(x, y - 8, caption, 6.5)
        if printed_name:
            self.t(x, y - 17, printed_name, 8.5, family=self._value_family())
        if signed:
            self.ink(x + 2, y + 0.5, min(w - 4, 120), 24, kind or self.st.sig_kind, name)

    # -- noise ---------------------------------------------------------------------------------------
    def stamp(
        self, x: float, y: float, lines: list[str], color: Color, angle: float = 0.0, size: float = 12
    ) -> None:
        c = self.c
        c.saveState()
        c.translate(x, y)
        c.rotate(angle)
        w = max(pdfmetrics.stringWidth(s, "Helvetica-Bold", size) for s in lines) + 16
        h = len(lines) * (size + 3) + 10
        c.setStrokeColorRGB(*color)
        c.setLineWidth(2)
        c.roundRect(0, 0, w, h, 5, stroke=1, fill=0)
        c.setLineWidth(0.7)
        c.roundRect(3, 3, w - 6, h - 6, 4, stroke=1, fill=0)
        c.setFillColorRGB(*color)
        for i, s in enumerate(lines):
            sz = size if i == 0 else size * 0.75
            c.setFont("Helvetica-Bold", sz)
            c.drawCentredString(w / 2, h - 8 - (i + 1) * (size + 1) + 2, s)
        c.restoreState()

    def _draw_noise(self, kind: str) -> None:
        r = self.rng
        W, H = self.W, self.H  # noqa: N806
        if kind == "received":
            d = date(2026, r.randint(1, 12), r.randint(1, 28))
            self.stamp(
                W - r.uniform(160, 185),
                r.uniform(34, 40),
                ["RECEIVED", d.strftime("%b %d %Y").upper(), "AS-BUILT DESK"],
                RED,
                r.uniform(-8, 8),
                10,
            )
        elif kind == "copy":
            self.stamp(
                W * r.uniform(0.3, 0.45), r.uniform(32, 40), ["COPY"], (0.2, 0.2, 0.6), r.uniform(-8, 8), 14
            )
        elif kind == "fax":
            n = r.randint(2, 9)
            self.t(
                18,
                H - 11,
                f"{r.randint(1, 12):02d}/{r.randint(1, 28):02d}/2026  {r.randint(6, 17):02d}:"
                f"{r.randint(0, 59):02d}   FROM: 209 555 {r.randint(1000, 9999)}   TO: AS-BUILT INTAKE"
                f"   P.{n:03d}/0{r.randint(10, 30)}",
                7,
                family="courier",
            )
        elif kind == "watermark":
            self.c.saveState()
            self.c.setFillColorRGB(0.6, 0.6, 0.6)
            self.c.setFillAlpha(0.22)
            self.c.setFont("Helvetica-Bold", 64)
            self.c.translate(W / 2, H / 2)
            self.c.rotate(r.uniform(35, 55))
            self.c.drawCentredString(0, 0, r.choice(("FILE COPY", "SCANNED", "CONTRACTOR COPY")))
            self.c.restoreState()
        elif kind == "punch":
            for yy in (H * 0.2, H * 0.5, H * 0.8):
                self.c.setFillColorRGB(0.8, 0.8, 0.8)
                self.c.circle(14, yy, 5, stroke=0, fill=1)
            self.c.setFillColorRGB(*BLACK)

    def footer(self, i: int, n: int, left: str = "") -> None:
        if left:
            self.t(36, 22, left, 6.5)
        self.t(self.W - 36, 22, self.st.footer.format(i=i, n=n), 7.5, align="r")


def polar(cx: float, cy: float, r: float, a: float) -> tuple[float, float]:
    return cx + r * math.cos(a), cy + r * math.sin(a)


def image_reader(data: bytes) -> Any:
    return ImageReader(io.BytesIO(data))

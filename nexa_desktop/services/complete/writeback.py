"""Writing an accepted fill into a copy of the form's PDF.

Fillable PDFs (AcroForm) get their fields set with pypdf, matched to our fields by the names in
``resources/forms/<form>.toml`` and, failing those, by a careful fuzzy match of field names.
Other PDFs get the text stamped at the coordinates of a layout in the same file (drawn with
reportlab, merged with pypdf). The original is never modified; the copy is written to a temporary
file and renamed into place, so a failure never leaves a partial PDF behind.
"""

from __future__ import annotations

import atexit
import datetime as dt
import difflib
import io
import os
import re
import tempfile
import threading
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from nexa_desktop import paths
from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.rules import FieldRule, Shape
from nexa_desktop.domain.verify import PageContent
from nexa_desktop.services.complete.anchored import AlreadyThere, Spot, field_spot, tick_spot
from nexa_desktop.services.complete.fills import Fill, display_value
from nexa_desktop.services.complete.forms import FormSpec
from nexa_desktop.services.complete.naming import MAX_SUFFIX, move_no_overwrite, name_for, sanitise
from nexa_desktop.services.verify.checks import known_labels
from nexa_desktop.services.verify.classify import PageClassifier, page_numbering
from nexa_desktop.services.verify.extraction import Extractor
from nexa_desktop.services.verify.profile import load_profile
from nexa_desktop.services.verify.reading import DocView

FONT = "Helvetica"
#: Fuzzy field-name matches below this similarity are not trusted.
FUZZY_THRESHOLD = 0.85


# -- errors -----------------------------------------------------------------------------------


class WriteBackError(NexaError):
    """The PDF could not be written; the message says why and what to do."""


class SourceMissing(WriteBackError):
    pass


class NotAPdf(WriteBackError):
    pass


class EncryptedPdf(WriteBackError):
    pass


class MissingPage(WriteBackError):
    pass


class NoPlaceForForm(WriteBackError):
    """Neither fillable fields nor a known layout: NEXA does not know where to write."""


class TextDoesNotFit(WriteBackError):
    pass


class LayoutFileError(WriteBackError):
    """A layout file in resources/forms is malformed (a packaging problem, not the user's)."""


# -- layout files -----------------------------------------------------------------------------


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stamp(_Config):
    """Text drawn at a point: ``x``/``y`` are the baseline start in PDF points (origin bottom-left)."""

    field: str
    page: int = Field(ge=1)
    x: float
    y: float
    size: float = Field(10.0, ge=4, le=72)
    min_size: float = Field(6.0, ge=4, le=72)
    max_width: float = Field(gt=0)
    max_lines: int = Field(1, ge=1, le=40)
    line_height: float | None = Field(None, gt=0)
    #: strftime format for dates (e.g. "%m" for the month box).
    format: str | None = None
    #: Stamp ``text`` only when the field has this value (ticks: "X" in a box).
    when: str | None = None
    text: str | None = None


class Layout(_Config):
    name: str
    #: Phrases that must all appear in the PDF's text for this layout to apply.
    match: list[str] = []
    #: Expected page size in points; a page of another size does not match.
    page_size: tuple[float, float] | None = None
    stamps: list[Stamp] = []


class LabelField(_Config):
    """One of our fields on a form read by its printed labels."""

    field: str
    #: The rules profile's field whose labels (and section, page) verification uses for it.
    rule: str | None = None
    #: Labels of our own, when the profile has none for this field.
    labels: list[str] = []
    shape: Shape = "any"
    #: For a choice: our value → the printed words of its option ("Completed" → ["completed"]).
    options: dict[str, list[str]] = {}


class LabelLayout(_Config):
    """Any version of a form whose labels NEXA knows: values go beside their labels, ticks into
    the empty box before their option (see ``anchored.py``)."""

    name: str
    #: The document type the form's pages are (classified by their titles, as ``nexa verify`` does)
    #: and the rules profile's form whose labels are used.
    doc_type: str
    fields: list[LabelField]


class Tick(_Config):
    field: str
    value: str
    names: list[str]


class FormLayout(_Config):
    form: str
    date_format: str = "%m/%d/%Y"
    acroform: dict[str, list[str]] = {}
    acroform_ticks: list[Tick] = []
    layouts: list[Layout] = []
    by_labels: list[LabelLayout] = []


def layouts_dir() -> Path:
    return paths.resources_dir() / "forms"


def load_form_layout(form_id: str, directory: Path | None = None) -> FormLayout:
    """The layout file of a form (an empty one when the form has none)."""
    path = (directory or layouts_dir()) / f"{form_id}.toml"
    if not path.exists():
        return FormLayout(form=form_id)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        layout = FormLayout.model_validate(data)
    except (tomllib.TOMLDecodeError, PydanticValidationError, UnicodeDecodeError) as exc:
        raise LayoutFileError(f"The form layout file {path} is damaged: {exc}") from exc
    if layout.form != form_id:
        raise LayoutFileError(f"The form layout file {path} is for {layout.form!r}, not {form_id!r}.")
    return layout


# -- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one value goes: a PDF field name, or "page N at (x, y)"."""

    field: str
    where: str
    text: str


@dataclass(frozen=True, slots=True)
class WritePlan:
    """What :func:`write_fill` will do, for the preview: mode, placements, and values that have
    no place on this PDF (they stay in NEXA but are not written)."""

    mode: Literal["acroform", "stamp"]
    layout: str
    placements: tuple[Placement, ...]
    unplaced: tuple[str, ...]
    #: Fields the form already shows a value for (field, what it shows): never written over.
    already: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class _Draw:
    page: int  # 0-based
    x: float
    y: float
    size: float
    line_height: float
    lines: tuple[str, ...]
    #: Text direction in PDF space, degrees anticlockwise (a page shown turned).
    angle: int = 0
    #: Strokes to draw instead of text (x0, y0, x1, y1 in PDF space): a cross in a drawn box.
    strokes: tuple[tuple[float, float, float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class _Prepared:
    reader: PdfReader
    plan: WritePlan
    text_values: dict[str, str]
    draws: tuple[_Draw, ...]


def _open_pdf(source: Path) -> PdfReader:
    if not source.is_file():
        raise SourceMissing(f"The form PDF {source} does not exist (moved or deleted?). Pick it again.")
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise SourceMissing(f"The form PDF {source} cannot be read: {exc.strerror or exc}.") from exc
    if b"%PDF-" not in data[:1024]:
        raise NotAPdf(f"{source.name} is not a PDF. Pick the PDF of the form.")
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        page_count = 0 if encrypted else len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise NotAPdf(f"{source.name} is damaged and cannot be read as a PDF ({exc}).") from exc
    if encrypted:
        raise EncryptedPdf(
            f"{source.name} is password-protected. Save an unprotected copy (Print to PDF) and use that."
        )
    if page_count == 0:
        raise NotAPdf(f"{source.name} has no pages.")
    return reader


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^A-Z0-9]+", " ", text.upper()).split())


def _field_text(value: object, date_format: str) -> str:
    if isinstance(value, dt.date):
        return value.strftime(date_format)
    return display_value(value)


def _value_key(value: object) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


@dataclass(frozen=True, slots=True)
class _PdfField:
    name: str  # fully qualified, what pypdf matches on
    kind: Literal["text", "checkbox", "other"]
    keys: tuple[str, ...]  # normalised last name and tooltip
    on_state: str | None


def _pdf_fields(reader: PdfReader) -> list[_PdfField]:
    try:
        raw = reader.get_fields() or {}
    except (PyPdfError, ValueError, KeyError, TypeError):
        return []
    fields = []
    for qualified, info in raw.items():
        ft = info.get("/FT")
        states = [str(s) for s in (info.get("/_States_") or []) if str(s).startswith("/")]
        if ft == "/Tx":
            kind: Literal["text", "checkbox", "other"] = "text"
        elif ft == "/Btn" and states:
            kind = "checkbox"
        else:
            kind = "other"
        keys = {_norm(qualified.split(".")[-1])}
        tooltip = info.get("/TU")
        if tooltip:
            keys.add(_norm(str(tooltip)))
        on = next((s for s in states if s != "/Off"), None)
        fields.append(_PdfField(qualified, kind, tuple(sorted(k for k in keys if k)), on))
    return fields


def _match_field(
    candidates: Sequence[str], pool: Sequence[_PdfField], *, fuzzy_candidates: Sequence[str]
) -> _PdfField | None:
    """The PDF field for one of ours: exact (normalised) names first, then a unique fuzzy match."""
    for candidate in candidates:
        key = _norm(candidate)
        for pdf_field in pool:
            if key and key in pdf_field.keys:
                return pdf_field
    keys = [k for k in (_norm(c) for c in fuzzy_candidates) if k]
    if not keys:
        return None
    # Every word of a candidate appears in exactly one field's name ("Purpose" → "PURPOSE PROVIDE…").
    containing = {
        pdf_field.name: pdf_field
        for pdf_field in pool
        for key in keys
        for pdf_key in pdf_field.keys
        if set(key.split()) <= set(pdf_key.split())
    }
    if len(containing) == 1:
        return next(iter(containing.values()))
    if containing:
        return None  # ambiguous ("DATE" is in DUE DATE, START DATE…): better no value than a wrong one
    scored = sorted(
        (
            (
                max(
                    difflib.SequenceMatcher(None, key, pdf_key).ratio() for key in keys for pdf_key in f.keys
                ),
                f.name,
            )
            for f in pool
            if f.keys
        ),
        reverse=True,
    )
    if not scored or scored[0][0] < FUZZY_THRESHOLD:
        return None
    if len(scored) > 1 and scored[1][0] >= scored[0][0] - 0.02:
        return None
    return next(f for f in pool if f.name == scored[0][1])


def _plan_acroform(
    spec: FormSpec, layout: FormLayout, model: BaseModel, pdf_fields: Sequence[_PdfField]
) -> tuple[dict[str, str], list[Placement], list[str]] | None:
    text_pool = [f for f in pdf_fields if f.kind == "text"]
    box_pool = [f for f in pdf_fields if f.kind == "checkbox"]
    values: dict[str, str] = {}
    placements: list[Placement] = []
    unplaced: list[str] = []
    used: set[str] = set()
    tick_fields = {t.field for t in layout.acroform_ticks}
    for fs in spec.fields:
        value = getattr(model, fs.name)
        if value is None:
            continue
        if fs.name in tick_fields:
            ticked = False
            for tick in layout.acroform_ticks:
                if tick.field != fs.name or tick.value != _value_key(value):
                    continue
                box = _match_field(
                    tick.names, [f for f in box_pool if f.name not in used], fuzzy_candidates=tick.names
                )
                if box is not None and box.on_state:
                    values[box.name] = box.on_state
                    used.add(box.name)
                    placements.append(Placement(fs.name, box.name, "ticked"))
                    ticked = True
            if not ticked:
                unplaced.append(fs.name)
            continue
        aliases = layout.acroform.get(fs.name, [])
        pool = [f for f in text_pool if f.name not in used]
        pdf_field = _match_field(
            aliases, pool, fuzzy_candidates=[*aliases, fs.label, fs.name.replace("_", " ")]
        )
        if pdf_field is None:
            unplaced.append(fs.name)
            continue
        text = _field_text(value, layout.date_format)
        values[pdf_field.name] = text
        used.add(pdf_field.name)
        placements.append(Placement(fs.name, pdf_field.name, text))
    if not any(p.text != "ticked" for p in placements):
        return None
    return values, placements, unplaced


def _pdf_text(reader: PdfReader) -> str:
    parts = []
    for page in reader.pages:
        try:
            parts.append(page.extract_text() or "")
        except (PyPdfError, ValueError, KeyError, TypeError):
            parts.append("")
    return _norm(" ".join(parts))


def _pick_layout(layout: FormLayout, reader: PdfReader) -> Layout | None:
    text = _pdf_text(reader) if any(lay.match for lay in layout.layouts) else ""
    first = reader.pages[0].mediabox
    size = (float(first.width), float(first.height))
    for candidate in layout.layouts:
        if candidate.match and not all(_norm(phrase) in text for phrase in candidate.match):
            continue
        if candidate.page_size and not (
            abs(size[0] - candidate.page_size[0]) <= 2 and abs(size[1] - candidate.page_size[1]) <= 2
        ):
            continue
        return candidate
    return None


def _no_place(layout: FormLayout, spec: FormSpec, source: Path, why: str = "") -> NoPlaceForForm:
    known = "; ".join([lay.name for lay in layout.layouts] + [lay.name for lay in layout.by_labels])
    return NoPlaceForForm(
        f"NEXA does not know where to write the {spec.title} on {source.name}: "
        + (why or "it has no fillable fields NEXA recognises, and none of its pages shows the form's title")
        + f" (NEXA knows: {known or 'no layout yet'}). Check that this is the right PDF, or fill it by hand."
    )


_REPLACEMENTS = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "..."})


def _printable(text: str) -> str:
    """Text the standard PDF fonts can show (Latin-1); anything else becomes '?'."""
    text = unicodedata.normalize("NFKC", text.translate(_REPLACEMENTS))
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return text.encode("latin-1", "replace").decode("latin-1")


def _fit(stamp: Stamp, text: str, label: str) -> tuple[float, tuple[str, ...]]:
    size = stamp.size
    while size >= stamp.min_size - 1e-9:
        if stamp.max_lines == 1:
            lines = [text]
        else:
            lines = [
                ln
                for para in text.splitlines()
                for ln in (simpleSplit(para, FONT, size, stamp.max_width) or [""])
            ]
        if len(lines) <= stamp.max_lines and all(
            stringWidth(ln, FONT, size) <= stamp.max_width for ln in lines
        ):
            return size, tuple(lines)
        size -= 0.5
    raise TextDoesNotFit(
        f"{label} is too long for its space on page {stamp.page} of the form. Shorten it and write again."
    )


def _plan_stamps(
    spec: FormSpec, form_layout: FormLayout, chosen: Layout, model: BaseModel, reader: PdfReader
) -> tuple[list[_Draw], list[Placement], list[str]]:
    draws: list[_Draw] = []
    placements: list[Placement] = []
    placed: set[str] = set()
    page_count = len(reader.pages)
    for stamp in chosen.stamps:
        if stamp.field not in spec.model.model_fields:
            raise LayoutFileError(
                f"The layout {chosen.name!r} stamps {stamp.field!r}, which {spec.id} lacks."
            )
        if stamp.page > page_count:
            raise MissingPage(
                f"The {spec.title} layout writes on page {stamp.page}, but this PDF has only "
                f"{page_count} page{'s' if page_count != 1 else ''}. Check that this is the whole form."
            )
        value = getattr(model, stamp.field)
        if value is None:
            continue
        if stamp.when is not None:
            if _value_key(value) != stamp.when:
                placed.add(stamp.field)
                continue
            text = stamp.text or "X"
        elif stamp.text is not None:
            text = stamp.text
        elif isinstance(value, dt.date):
            text = value.strftime(stamp.format or form_layout.date_format)
        else:
            text = display_value(value)
        text = _printable(text).strip()
        if not text:
            continue
        label = spec.field(stamp.field).label
        size, lines = _fit(stamp, text, label)
        draws.append(_Draw(stamp.page - 1, stamp.x, stamp.y, size, stamp.line_height or size * 1.2, lines))
        placements.append(Placement(stamp.field, f"page {stamp.page} at ({stamp.x:g}, {stamp.y:g})", text))
        placed.add(stamp.field)
    unplaced = [
        fs.name for fs in spec.fields if getattr(model, fs.name) is not None and fs.name not in placed
    ]
    return draws, placements, unplaced


def _prepare(fill: Fill, source: Path, directory: Path | None) -> _Prepared:
    model = fill.validate()  # FillInvalid before anything else: nothing half-done is ever written
    spec = fill.spec
    reader = _open_pdf(source)
    form_layout = load_form_layout(spec.id, directory)
    acro = _plan_acroform(spec, form_layout, model, _pdf_fields(reader))
    if acro is not None:
        values, placements, unplaced = acro
        plan = WritePlan("acroform", "fillable fields", tuple(placements), tuple(unplaced))
        return _Prepared(reader, plan, values, ())
    # A version of the form that prints its labels: write beside them (what verification reads).
    # Otherwise a calibrated layout (an image-only form like the real TD-2051P-10 sheet).
    pages = _read_pages(source) if form_layout.by_labels else []
    titled: PageContent | None = None
    for label_layout in form_layout.by_labels:
        document = _form_pages(label_layout, pages)
        if not document:
            continue
        titled = titled or document[0]
        planned = _plan_by_labels(spec, form_layout, label_layout, model, document, reader)
        if planned is not None:
            return planned
    chosen = _pick_layout(form_layout, reader)
    if chosen is not None:
        draws, placements, unplaced = _plan_stamps(spec, form_layout, chosen, model, reader)
        plan = WritePlan("stamp", chosen.name, tuple(placements), tuple(unplaced))
        return _Prepared(reader, plan, {}, tuple(draws))
    if titled is not None:
        raise _no_place(
            form_layout,
            spec,
            source,
            f"page {titled.page} is this form, but none of its fields has a label with room beside it",
        )
    if pages and not any(page.text_layer for page in pages):
        raise _no_place(
            form_layout, spec, source, "it is a scan without text, so NEXA cannot find the labels"
        )
    raise _no_place(form_layout, spec, source)


# -- forms read by their labels ---------------------------------------------------------------


_reader_lock = threading.Lock()
_reader: Extractor | None = None


def _form_reader() -> Extractor:
    """One warm PDF reader process for the writer, with the verifier's time and memory budget: a
    form PDF is untrusted input, so PDFium never reads it in this process."""
    global _reader
    with _reader_lock:
        if _reader is None:
            _reader = Extractor(ocr=False, positions=True)
            atexit.register(_reader.close)
        return _reader


def _read_pages(source: Path) -> list[PageContent]:
    """The PDF's pages as verification reads them (text layer only: a form to write on has one)."""
    result = _form_reader().extract(source, source.name)
    if result.problem is not None:
        raise NotAPdf(result.problem.message)
    return result.pages


def _form_pages(layout: LabelLayout, pages: Sequence[PageContent]) -> list[PageContent]:
    """The form's pages: the first run of pages classified as its document type (title rules only,
    as verification classifies them), up to where a second copy starts ("Page 1 of n" again)."""
    labels = PageClassifier(use_embeddings=False).classify_file(pages)
    found: list[PageContent] = []
    for page, label in zip(pages, labels, strict=True):
        if label.doc_type != layout.doc_type:
            if found:
                break
            continue
        numbering = page_numbering(" ".join(line.text for line in page.lines))
        if found and (len(found) >= 6 or (numbering is not None and numbering[0] == 1)):
            break
        found.append(page)
    return found


def _to_pdf_space(
    page: PageContent, box: tuple[float, float, float, float], x: float, y: float
) -> tuple[float, float]:
    """A displayed point (origin top left) in PDF space, for the frame the page was read in."""
    left, bottom, right, top = box
    rotation = page.rotation % 360
    if rotation == 90:
        return y + left, x + bottom
    if rotation == 180:
        return right - x, y + bottom
    if rotation == 270:
        return right - y, top - x
    return x + left, top - y


def _plan_by_labels(
    spec: FormSpec,
    form_layout: FormLayout,
    layout: LabelLayout,
    model: BaseModel,
    document: Sequence[PageContent],
    reader: PdfReader,
) -> _Prepared | None:
    profile = load_profile()
    form_rules = profile.forms[layout.doc_type].fields if layout.doc_type in profile.forms else ()
    rules_by_name = {rule.field: rule for rule in form_rules}
    known = known_labels(profile)
    view = DocView.of(document)
    draws: list[_Draw] = []
    placements: list[Placement] = []
    already: list[tuple[str, str]] = []
    handled: set[str] = set()
    for entry in layout.fields:
        if entry.field not in spec.model.model_fields:
            raise LayoutFileError(
                f"The layout {layout.name!r} writes {entry.field!r}, which {spec.id} lacks."
            )
        value = getattr(model, entry.field)
        if value is None:
            continue
        rule = rules_by_name.get(entry.rule or "")
        if entry.rule and rule is None:
            raise LayoutFileError(
                f"The layout {layout.name!r} uses the rule {entry.rule!r}, which is not in the profile."
            )
        spot: Spot | AlreadyThere | None
        if entry.options:
            words = entry.options.get(_value_key(value), [])
            every = [w for option in entry.options.values() for w in option]
            start = view.section_start(rule.section) if rule is not None and rule.section else 0
            spot = tick_spot(view, words, every, start=start) if words else None
            text = "X"
        else:
            rule = rule or FieldRule(
                field=entry.field, kind="value", labels=tuple(entry.labels), shape=entry.shape
            )
            spot = field_spot(view, rule, form_rules or (rule,), known)
            text = _printable(_field_text(value, form_layout.date_format)).strip()
        if spot is None or not text:
            continue
        handled.add(entry.field)
        if isinstance(spot, AlreadyThere):
            already.append((entry.field, spot.text))
            continue
        page = document[spot.page]
        label = spec.field(entry.field).label
        size, lines = _fit(
            Stamp(
                field=entry.field,
                page=page.page,
                x=spot.x,
                y=spot.baseline,
                size=spot.size,
                min_size=min(6.0, spot.size),
                max_width=max(spot.max_width, 1.0),
            ),
            text,
            label,
        )
        pdf_page = reader.pages[page.page - 1]
        crop = pdf_page.cropbox
        box = (float(crop.left), float(crop.bottom), float(crop.right), float(crop.top))
        x, y = _to_pdf_space(page, box, spot.x, spot.baseline)
        strokes: tuple[tuple[float, float, float, float], ...] = ()
        if spot.cross is not None:
            x0, y0, x1, y1 = spot.cross
            corners = [
                _to_pdf_space(page, box, cx, cy) for cx, cy in ((x0, y0), (x1, y1), (x0, y1), (x1, y0))
            ]
            strokes = ((*corners[0], *corners[1]), (*corners[2], *corners[3]))
        draws.append(_Draw(page.page - 1, x, y, size, size * 1.2, lines, page.rotation % 360, strokes))
        placements.append(Placement(entry.field, f"page {page.page}, {spot.how}", text))
    wanted = sum(1 for entry in layout.fields if getattr(model, entry.field) is not None)
    if 2 * (len(placements) + len(already)) < wanted:
        return None  # most of the form's labels are not printed here (an image-only version)
    unplaced = [
        fs.name for fs in spec.fields if getattr(model, fs.name) is not None and fs.name not in handled
    ]
    plan = WritePlan("stamp", layout.name, tuple(placements), tuple(unplaced), tuple(already))
    return _Prepared(reader, plan, {}, tuple(draws))


def plan_write(fill: Fill, source_pdf: Path, *, layouts: Path | None = None) -> WritePlan:
    """What :func:`write_fill` would write where, without writing anything (for the preview)."""
    return _prepare(fill, Path(source_pdf), layouts).plan


# -- writing ----------------------------------------------------------------------------------


def _overlay(draws: Sequence[_Draw], width: float, height: float) -> PdfReader:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    for draw in draws:
        if draw.strokes:
            canvas.setLineWidth(1.3)
            for x0, y0, x1, y1 in draw.strokes:
                canvas.line(x0, y0, x1, y1)
            continue
        canvas.saveState()
        canvas.translate(draw.x, draw.y)
        canvas.rotate(draw.angle)
        canvas.setFont(FONT, draw.size)
        for i, line in enumerate(draw.lines):
            canvas.drawString(0, -i * draw.line_height, line)
        canvas.restoreState()
    canvas.showPage()
    canvas.save()
    buffer.seek(0)
    return PdfReader(buffer)


def _build(prepared: _Prepared) -> PdfWriter:
    writer = PdfWriter(clone_from=prepared.reader)
    if prepared.plan.mode == "acroform":
        writer.update_page_form_field_values(None, prepared.text_values, auto_regenerate=False)
        writer.set_need_appearances_writer(True)
        return writer
    by_page: dict[int, list[_Draw]] = {}
    for draw in prepared.draws:
        by_page.setdefault(draw.page, []).append(draw)
    for index, draws in sorted(by_page.items()):
        page = writer.pages[index]
        box = page.mediabox
        overlay = _overlay(draws, float(box.right), float(box.top))
        page.merge_page(overlay.pages[0])
    return writer


def output_name(fill: Fill) -> str:
    """The conventional file name for a filled form (domain.md §4.3); the fill must be valid."""
    spec = fill.spec
    doc_type = spec.doc_type if spec.doc_type != "other" else spec.id
    location = getattr(fill.validate(), "location_number", None)
    return name_for(doc_type, fill.job, fill.today, location=location if isinstance(location, int) else 1)


def write_fill(
    fill: Fill, source_pdf: Path, out_dir: Path, *, name: str | None = None, layouts: Path | None = None
) -> Path:
    """Write ``fill`` into a copy of ``source_pdf`` in ``out_dir``; returns the new file.

    The copy is named by the convention (or ``name``, sanitised), gets ``_2``, ``_3``… rather
    than replacing a file, and appears only when complete. Raises :class:`FillInvalid` for a fill
    that is not ready and a :class:`WriteBackError` for a PDF that cannot be used.
    """
    return write_fill_planned(fill, source_pdf, out_dir, name=name, layouts=layouts)[0]


def write_fill_planned(
    fill: Fill, source_pdf: Path, out_dir: Path, *, name: str | None = None, layouts: Path | None = None
) -> tuple[Path, WritePlan]:
    """:func:`write_fill`, also returning what was written where (and what was left as it was)."""
    source = Path(source_pdf)
    prepared = _prepare(fill, source, layouts)
    writer = _build(prepared)

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteBackError(f"The folder {out} cannot be created: {exc.strerror or exc}.") from exc
    wanted = sanitise(name if name else output_name(fill))
    if not wanted.lower().endswith(".pdf"):
        wanted = sanitise(wanted + ".pdf")
    stem = wanted[: -len(".pdf")]

    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".nexa-", suffix=".part", dir=out)
    except OSError as exc:
        raise WriteBackError(f"NEXA cannot write in {out}: {exc.strerror or exc}.") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer.write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if os.name != "nt":
            os.chmod(tmp, 0o644)
        for n in range(1, MAX_SUFFIX + 1):
            target = out / (wanted if n == 1 else sanitise(f"{stem}_{n}.pdf"))
            try:
                move_no_overwrite(tmp, target)
            except FileExistsError:
                continue
            return target, prepared.plan
        raise WriteBackError(f"No free file name like {wanted} in {out}; tidy the folder and try again.")
    except OSError as exc:
        raise WriteBackError(f"The PDF could not be written to {out}: {exc.strerror or exc}.") from exc
    finally:
        if tmp.exists():
            tmp.unlink()


def describe(plan: WritePlan, spec: FormSpec) -> list[str]:
    """The plan in sentences for the preview dialog or ``--json`` output."""
    lines = [f"{spec.field(p.field).label}: {p.text!r} → {p.where}" for p in plan.placements]
    lines += [
        f"{spec.field(name).label}: the form already shows {text!r}; left as it is"
        for name, text in plan.already
    ]
    lines += [
        f"{spec.field(name).label}: no place for it on this PDF (kept in NEXA)" for name in plan.unplaced
    ]
    return lines


def plan_json(plan: WritePlan) -> Mapping[str, Any]:
    return {
        "mode": plan.mode,
        "layout": plan.layout,
        "placements": [{"field": p.field, "where": p.where, "text": p.text} for p in plan.placements],
        "unplaced": list(plan.unplaced),
        "already": [{"field": name, "shows": text} for name, text in plan.already],
    }

"""The package checks, driven by the rules profile: required documents, order, identifiers,
fields and signatures, CCSC safety items, sketch markup, duplicates and unreadable pages."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from nexa_desktop.domain.rules import FieldRule, RulesProfile
from nexa_desktop.domain.verify import (
    DOC_TYPE_TITLES,
    Box,
    Document,
    Evidence,
    Finding,
    FindingCode,
    PageContent,
    PageRef,
)
from nexa_desktop.services.verify.answers import row_answer
from nexa_desktop.services.verify.reading import (
    DocView,
    LabelHit,
    Seg,
    drawn_box_state,
    form_value_near,
    norm,
    read_value,
    row_tick,
    signature_present,
    signature_zone,
    ticked_options,
)

#: A checklist row: an optional check box, an optional OH/UG prefix, the item number, an optional
#: safety-critical star, then the item's text.
_ITEM_ROW = re.compile(
    r"^\s*(?:\[\s*[xX✓✔]?\s*\]|[☐☑☒□■✓✔])?\s*[*†‡]?\s*(?:(OH|UG)[\s\-]*)?(\d{1,2})\s*[.)]?\s*([*†‡])?\s*(.*)$",
    re.IGNORECASE,
)
_PM_RE = re.compile(r"(?<![\d])(?:PM[-\s#:]*)?(\d{8})(?!\d)", re.IGNORECASE)
_NOTIF_RE = re.compile(r"(?<![\d])(\d{9})(?!\d)")
_PM_PREFIXED = re.compile(r"\bPM-(\d{8})(?!\d)", re.IGNORECASE)


@dataclass(slots=True)
class DocumentPages:
    """A document and the extracted content of its pages."""

    document: Document
    pages: list[PageContent]
    duplicate_of: int | None = None  # index of the document this one copies
    #: How sure the classifier was of each page's type (a check on a doubtful page is doubtful too).
    type_confidence: list[float] = field(default_factory=list)
    _view: DocView | None = field(default=None, repr=False)

    @property
    def view(self) -> DocView:
        if self._view is None:
            self._view = DocView.of(self.pages)
        return self._view

    def ref(self, page_index: int) -> PageRef:
        page = self.pages[page_index]
        return PageRef(page.file, page.page)

    def sure(self, page_index: int, strength: float) -> float:
        """How sure a finding on this page is: the evidence's own strength, less for a scan read by
        OCR (it can drop or garble what is printed), less again when the page's type is doubtful."""
        page = self.pages[page_index]
        confidence = strength * (OCR_FACTOR if page.source == "ocr" else 1.0)
        if page_index < len(self.type_confidence):
            confidence *= min(1.0, self.type_confidence[page_index] / SURE_TYPE)
        return round(confidence, 3)


#: Evidence strengths (0–1) of the checks' findings, before the page's own doubts.
#: A blank seen where a value or signature belongs (underscores, an empty rule or cell).
BLANK_SEEN = 0.95
#: No value near the label, but no blank line either: the value may sit where we did not look.
NOTHING_FOUND = 0.75
#: Option boxes seen, none ticked; a safety item's answer cells or box seen empty.
BOXES_EMPTY = 0.9
#: A number read that disagrees with the package.
NUMBER_READ = 0.95
#: Findings on a page read by OCR are this much less sure.
OCR_FACTOR = 0.75
#: A page type at least this sure does not lower its findings' confidence.
SURE_TYPE = 0.9


@dataclass(slots=True)
class CheckResult:
    work_type: str
    work_type_inferred: bool
    pm_number: str | None
    notification_number: str | None
    findings: list[Finding]


def _named(doc_type: str | None) -> str:
    """A document's name inside a sentence: "the crew materials", "the EC tag"."""
    title = _title(doc_type)
    first = title.split(" ", 1)[0]
    return title if first.isupper() else title[:1].lower() + title[1:]


def _title(doc_type: str | None) -> str:
    return DOC_TYPE_TITLES.get(doc_type or "", doc_type or "package")


def _span(document: Document) -> str:
    if document.start_page == document.end_page:
        return f"p. {document.start_page}"
    return f"pp. {document.start_page}-{document.end_page}"


def _pages_label(refs: Sequence[PageRef]) -> str:
    if not refs:
        return ""
    by_file: dict[str, list[int]] = {}
    for r in refs:
        by_file.setdefault(r.file, []).append(r.page)
    parts = [f"{f} p. {', '.join(str(n) for n in ns)}" for f, ns in by_file.items()]
    return " (" + "; ".join(parts) + ")"


def known_labels(profile: RulesProfile) -> tuple[str, ...]:
    """Every field label of the profile: a run showing one of these is a label, not a value."""
    labels: set[str] = set()
    for form in profile.forms.values():
        for rule in form.fields:
            labels.update(rule.labels)
    labels.update(profile.identifiers.pm_labels)
    labels.update(profile.identifiers.notification_labels)
    return tuple(sorted(labels))


#: A scan from which OCR reads fewer letters and digits than this is unreadable for our purposes
#: (a person could not read the form either); above it, the page is checked like a text page.
OCR_LEGIBLE_LETTERS = 40


def _letters(page: PageContent) -> int:
    return sum(ch.isalnum() for line in page.lines for ch in line.text)


class PackageChecker:
    """Runs every check of a rules profile over a segmented package."""

    def __init__(self, profile: RulesProfile) -> None:
        self.profile = profile
        self.known_labels = known_labels(profile)

    def _finding(
        self,
        code: FindingCode,
        doc_type: str | None,
        field_name: str | None,
        pages: Sequence[PageRef],
        message: str,
        evidence: Sequence[Evidence] = (),
        confidence: float = 1.0,
    ) -> Finding:
        return Finding(
            code=code.value,
            severity=self.profile.severity_of(code.value),
            doc_type=doc_type,
            field=field_name,
            pages=list(pages),
            message=message,
            evidence=list(evidence),
            confidence=confidence,
        )

    # ------------------------------------------------------------------ entry point
    def run(
        self,
        docs: Sequence[DocumentPages],
        all_pages: Sequence[PageContent],
        *,
        work_type: str | None = None,
    ) -> CheckResult:
        findings: list[Finding] = []
        present = {d.document.doc_type for d in docs}
        inferred = work_type is None
        wt = work_type or self.profile.infer_work_type(present)
        findings += self.unreadable(all_pages)
        findings += self.required(present, wt)
        findings += self.duplicates(docs)
        findings += self.order(docs)
        pm, notif, id_findings = self.identifiers(docs)
        findings += id_findings
        for doc in docs:
            if doc.duplicate_of is not None:
                continue
            findings += self.form_fields(doc)
            if doc.document.doc_type == "ccsc":
                findings += self.ccsc_items(doc)
            if doc.document.doc_type == "construction_sketch":
                findings += self.sketch(doc)
        return CheckResult(wt, inferred, pm, notif, findings)

    # ------------------------------------------------------------------ package level
    def unreadable(self, pages: Sequence[PageContent]) -> list[Finding]:
        """Pages that neither a text layer nor OCR could read. A legible scan is read by OCR and
        checked like any other page (the contract in the corpus README)."""
        out = []
        for page in pages:
            if page.text_layer or (page.source == "ocr" and _letters(page) >= OCR_LEGIBLE_LETTERS):
                continue
            ref = PageRef(page.file, page.page)
            if page.source == "ocr":
                msg = (
                    f"{page.file} page {page.page} is a scan that OCR could barely read (too faint, "
                    "smeared or coarse): check it by eye, and ask for a clearer copy."
                )
            else:
                msg = f"{page.file} page {page.page} has no readable text (a blank or unreadable scan)."
            out.append(self._finding(FindingCode.UNREADABLE_PAGE, None, None, [ref], msg))
        return out

    def required(self, present: set[str], work_type: str) -> list[Finding]:
        rules = self.profile.work_types.get(work_type)
        if rules is None:
            return []
        return [
            self._finding(
                FindingCode.MISSING_REQUIRED_DOC,
                doc_type,
                None,
                [],
                f"The {_named(doc_type)} is required for this work type ({rules.title}) but is not in "
                "the package.",
            )
            for doc_type in rules.required
            if doc_type not in present
        ]

    def duplicates(self, docs: Sequence[DocumentPages]) -> list[Finding]:
        out = []
        for doc in docs:
            if doc.duplicate_of is None:
                continue
            refs = doc.document.pages
            first = docs[doc.duplicate_of].document
            out.append(
                self._finding(
                    FindingCode.DUPLICATE_DOC,
                    doc.document.doc_type,
                    None,
                    refs,
                    f"The {_named(doc.document.doc_type)} appears twice: pages{_pages_label(refs)} repeat "
                    f"{first.file} {_span(first)}. Remove the second copy.",
                )
            )
        return out

    def order(self, docs: Sequence[DocumentPages]) -> list[Finding]:
        best_rank = -1
        best_doc: Document | None = None
        for doc in docs:
            if doc.duplicate_of is not None:
                continue
            rank = self.profile.rank(doc.document.doc_type)
            if rank is None:
                continue
            if rank < best_rank and best_doc is not None:
                refs = doc.document.pages
                return [
                    self._finding(
                        FindingCode.OUT_OF_ORDER,
                        doc.document.doc_type,
                        None,
                        refs,
                        f"The {_named(doc.document.doc_type)}{_pages_label(refs)} comes after the "
                        f"{_named(best_doc.doc_type)}; PG&E order puts it before. Fix & export reorders it.",
                    )
                ]
            if rank > best_rank:
                best_rank, best_doc = rank, doc.document
        return []

    # ------------------------------------------------------------------ identifiers
    def _numbers(
        self, doc: DocumentPages
    ) -> tuple[dict[str, set[int]], dict[str, set[int]], dict[str, tuple[str, Box]]]:
        """PM and notification numbers a document prints, with the pages (indexes) printing each."""
        pm_labels = [norm(x) for x in self.profile.identifiers.pm_labels]
        notif_labels = [norm(x) for x in self.profile.identifiers.notification_labels]
        pms: dict[str, set[int]] = {}
        notifs: dict[str, set[int]] = {}
        snippets: dict[str, tuple[str, Box]] = {}
        view = doc.view
        for page_index in range(len(doc.pages)):
            for row in view.rows(page_index):
                text = " ".join(s.text for s in row)
                low = norm(text)
                row_box = _row_box(row, doc.pages[page_index]) if row else Box(0, 0, 0, 0)
                shown = (text, _widen(Box(row[0].box.x0, row_box.y0, row[-1].box.x1, row_box.y1)))
                for m in _PM_PREFIXED.finditer(text):
                    pms.setdefault(m.group(1), set()).add(page_index)
                    snippets.setdefault(m.group(1), shown)
                for m in re.finditer(r"(?<!\d)(\d{8}|\d{9})(?!\d)", text):
                    number = m.group(1)
                    before = norm(text[: m.start()])[-40:]
                    label = _last_label(before, pm_labels, notif_labels)
                    if label == "pm" and len(number) == 8:
                        pms.setdefault(number, set()).add(page_index)
                        snippets.setdefault(number, shown)
                    elif label == "notif" and len(number) == 9:
                        notifs.setdefault(number, set()).add(page_index)
                        snippets.setdefault(number, shown)
                    elif label == "both":
                        target = pms if len(number) == 8 else notifs
                        target.setdefault(number, set()).add(page_index)
                        snippets.setdefault(number, shown)
                del low
            # labels with the value above/below (no number on the label's row)
            for seg in view.segs:
                if seg.page != page_index or re.search(r"\d{8}", seg.text):
                    continue
                kind = _last_label(seg.low + " ", pm_labels, notif_labels, whole=True)
                if kind is None:
                    continue
                candidates = [
                    (near[0].text.strip(), f"{near[0].text} / {seg.text}", _union(seg.box, near[0].box))
                    for direction in ("above", "below")
                    if (near := view.neighbours(seg, direction=direction, max_gap=16))
                ]
                filled = form_value_near(view, seg)  # fillable forms: the value is only in the field
                if filled:
                    candidates.insert(0, (filled, f"{seg.text} {filled}", seg.box))
                for text, snippet, region in candidates:
                    m2 = re.fullmatch(r"(?:PM[-\s]?)?(\d{8}|\d{9})", text, re.IGNORECASE)
                    if m2:
                        number = m2.group(1)
                        target = pms if len(number) == 8 else notifs
                        target.setdefault(number, set()).add(page_index)
                        snippets.setdefault(number, (snippet, _widen(region)))
                        break
        return pms, notifs, snippets

    def identifiers(self, docs: Sequence[DocumentPages]) -> tuple[str | None, str | None, list[Finding]]:
        counted = [
            d
            for d in docs
            if d.document.doc_type not in self.profile.identifiers.ignore_in and d.duplicate_of is None
        ]
        per_doc = [(d, *self._numbers(d)) for d in counted]
        findings: list[Finding] = []
        result: list[str | None] = []
        for index, field_name, title in (
            (1, "pm_number", "PM number"),
            (2, "notification_number", "notification number"),
        ):
            votes: Counter[str] = Counter()
            for entry in per_doc:
                numbers: dict[str, set[int]] = entry[index]  # type: ignore[assignment]
                for number in numbers:
                    votes[number] += 1
            if not votes:
                result.append(None)
                continue
            top = votes.most_common()
            majority = top[0][0]
            if len(top) > 1 and top[1][1] == top[0][1]:
                # tie: trust the EC tag / face sheet
                for entry in per_doc:
                    if entry[0].document.doc_type in ("ec_tag", "face_sheet"):
                        numbers = entry[index]  # type: ignore[assignment]
                        if numbers:
                            majority = sorted(numbers)[0]
                            break
            result.append(majority)
            for entry in per_doc:
                doc = entry[0]
                numbers = entry[index]  # type: ignore[assignment]
                snippets: dict[str, tuple[str, Box]] = entry[3]
                wrong = {n: pages for n, pages in numbers.items() if n != majority}
                if not wrong:
                    continue
                page_indexes = sorted(set().union(*wrong.values()))
                refs = [doc.ref(i) for i in page_indexes]
                shown = ", ".join(sorted(wrong))
                findings.append(
                    self._finding(
                        FindingCode.ID_MISMATCH,
                        doc.document.doc_type,
                        field_name,
                        refs,
                        f"The {_named(doc.document.doc_type)} prints {title} {shown}, but the rest of the "
                        f"package uses {majority}.",
                        [
                            Evidence(doc.ref(min(wrong[n])), *snippets.get(n, ("", None)))
                            for n in sorted(wrong)
                        ],
                        doc.sure(page_indexes[0], NUMBER_READ),
                    )
                )
        return result[0], result[1], findings

    # ------------------------------------------------------------------ forms
    def form_fields(self, doc: DocumentPages) -> list[Finding]:
        form = self.profile.forms.get(doc.document.doc_type)
        if form is None:
            return []
        view = doc.view
        out: list[Finding] = []
        for rule in form.fields:
            finding = self._check_field(doc, view, rule, form.fields)
            if finding is not None:
                out.append(finding)
        return out

    def _check_field(
        self, doc: DocumentPages, view: DocView, rule: FieldRule, rules: Sequence[FieldRule]
    ) -> Finding | None:
        doc_type = doc.document.doc_type
        title = _title(doc_type)
        pretty = rule.field.replace("_", " ")
        if rule.kind == "choice":
            start = view.section_start(rule.section) if rule.section else 0
            ticked, segs, any_box = ticked_options(view, rule.options, start=start)
            if ticked or not any_box or not segs:
                return None
            seg = segs[0]
            ref = doc.ref(seg.page)
            region = seg.box
            for other in segs[1:]:
                if other.page == seg.page:
                    region = _union(region, other.box)
            return self._finding(
                FindingCode.MISSING_FIELD,
                doc_type,
                rule.field,
                [ref],
                f"{title}: none of the {pretty} boxes is ticked ({', '.join(rule.options[:3])}…).",
                [Evidence(ref, seg.text, _widen(region))],
                doc.sure(seg.page, BOXES_EMPTY),
            )
        hits = field_candidates(view, rule, rules)
        if not hits and rule.on_signature_line:
            return self._check_on_signature_line(doc, view, rule)
        if not hits:
            return None  # the form does not carry this label here: nothing we can judge
        if rule.kind == "signature":
            if doc.pages[hits[0].seg.page].source == "none":
                return None
            results = [(h, *signature_present(view, h, self.known_labels)) for h in hits[:1]]
            hit, signed, snippet = results[0]
            if signed:
                return None
            ref = doc.ref(hit.seg.page)
            zone, line_seen = signature_zone(view, hit, self.known_labels)
            return self._finding(
                FindingCode.MISSING_SIGNATURE,
                doc_type,
                rule.field,
                [ref],
                f"{title}: the {pretty} line is blank (page {ref.page}). A blank line is not a signature.",
                [Evidence(ref, snippet, zone)],
                doc.sure(hit.seg.page, BLANK_SEEN if line_seen else NOTHING_FOUND),
            )
        hit = hits[0]
        value = read_value(view, hit, rule.shape, self.known_labels)
        if value.value:
            return None
        ref = doc.ref(value.page)
        return self._finding(
            FindingCode.MISSING_FIELD,
            doc_type,
            rule.field,
            [ref],
            f"{title}: {pretty} is empty (page {ref.page}).",
            [Evidence(ref, value.snippet, value.region)],
            doc.sure(value.page, BLANK_SEEN if value.blank else NOTHING_FOUND),
        )

    def _check_on_signature_line(self, doc: DocumentPages, view: DocView, rule: FieldRule) -> Finding | None:
        """A value the form has no box for, written on its signature line: there when signed."""
        lines = view.find_labels(rule.on_signature_line)
        if not lines or doc.pages[lines[0].seg.page].source == "none":
            return None
        hit = lines[0]
        signed, snippet = signature_present(view, hit, self.known_labels)
        if signed:
            return None
        ref = doc.ref(hit.seg.page)
        zone, line_seen = signature_zone(view, hit, self.known_labels)
        pretty = rule.field.replace("_", " ")
        return self._finding(
            FindingCode.MISSING_FIELD,
            doc.document.doc_type,
            rule.field,
            [ref],
            f"{_title(doc.document.doc_type)}: {pretty} is missing (page {ref.page}): nothing is written on "
            "the signature line that carries it.",
            [Evidence(ref, snippet, zone)],
            doc.sure(hit.seg.page, BLANK_SEEN if line_seen else NOTHING_FOUND),
        )

    # ------------------------------------------------------------------ CCSC and sketch
    def ccsc_items(self, doc: DocumentPages) -> list[Finding]:
        rules = self.profile.ccsc
        headings = {sec: [norm(h) for h in hs] for sec, hs in rules.section_headings.items()}
        view = doc.view
        section: str | None = None
        out: list[Finding] = []
        seen: set[tuple[str, int]] = set()
        for page_index in range(len(doc.pages)):
            for row in view.rows(page_index):
                text = " ".join(s.text for s in row)
                low = norm(text)
                m = _ITEM_ROW.match(text)
                if not m or not m.group(4) or len(m.group(4)) < 4:
                    for sec, hs in headings.items():
                        if any(h in low for h in hs) and len(low) < 60:
                            section = sec
                    continue
                sec = (m.group(1) or section or "").upper()
                if sec not in rules.safety_critical:
                    continue
                number = int(m.group(2))
                critical = number in rules.safety_critical[sec]
                if not critical or (sec, number) in seen:
                    continue
                state = row_answer(view, page_index, row)
                if state is None:
                    state = row_tick(row)
                if state is None:
                    state = _form_tick_near(doc.pages[page_index], row)
                if state is None:
                    state = drawn_box_state(doc.pages[page_index], row)
                if state is not False:
                    seen.add((sec, number))
                    continue
                seen.add((sec, number))
                ref = doc.ref(page_index)
                item = m.group(4).replace("[ ]", "").replace("*", "").strip()
                out.append(
                    self._finding(
                        FindingCode.SAFETY_ITEM_UNCHECKED,
                        "ccsc",
                        f"{sec}-{number}",
                        [ref],
                        f"CCSC safety-critical item {sec} {number} is not ticked: {item}. Every "
                        "safety-critical item must be ticked (compliant or not applicable).",
                        [Evidence(ref, text, _widen(_row_box(row, doc.pages[page_index]), 1.5))],
                        doc.sure(page_index, BOXES_EMPTY),
                    )
                )
        return out

    def sketch(self, doc: DocumentPages) -> list[Finding]:
        colours = set(self.profile.sketch.markup_colours)
        declared = [norm(x) for x in self.profile.sketch.built_as_designed]
        for page in doc.pages:
            if any(m.colour in colours for m in page.marks):
                return []
            for mark in page.marks:
                stamp = mark.kind == "annotation" and mark.subtype.lower() in {"stamp", "freetext"}
                if stamp and any(d in norm(mark.text) for d in declared):
                    return []
            for line in page.lines:
                low = norm(line.text)
                if any(_phrase(d, low) for d in declared):
                    return []
            if page.source != "text":
                return []  # a scan: colours and stamps cannot be judged from OCR text alone
        refs = doc.document.pages
        return [
            self._finding(
                FindingCode.SKETCH_NO_MARKUP,
                "construction_sketch",
                None,
                refs,
                "The construction sketch has black line work only: mark changes in red (removed) and blue "
                "(new), or stamp it BUILT AS DESIGNED.",
                [Evidence(refs[0], "no red or blue markup, no Built As Designed stamp")],
            )
        ]


def field_candidates(view: DocView, rule: FieldRule, rules: Sequence[FieldRule]) -> list[LabelHit]:
    """Where a form field's label sits in a document, the likeliest first: in its section, on the
    page it must be on, after the field it follows."""
    start = view.section_start(rule.section) if rule.section else 0
    page: int | None = None
    if rule.first_page_only:
        page = 0
    elif rule.last_page_only:
        page = len(view.pages) - 1
    hits = view.find_labels(rule.labels, exclude=rule.exclude_labels, start=start, page=page)
    if not hits and start:
        hits = view.find_labels(rule.labels, exclude=rule.exclude_labels, page=page)
    if rule.after:
        anchor_rule = next((r for r in rules if r.field == rule.after), None)
        if anchor_rule is not None:
            anchors = view.find_labels(anchor_rule.labels, exclude=anchor_rule.exclude_labels)
            if anchors:
                a = anchors[0].seg
                same_row = [
                    h
                    for h in hits
                    if h.seg.page == a.page and abs(h.seg.box.cy - a.box.cy) <= max(4.0, a.box.height)
                ]
                later = [h for h in hits if h.seg.order > a.order]
                hits = same_row or later or hits
    return hits


def _union(a: Box, b: Box) -> Box:
    return Box(min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1))


def _widen(box: Box, margin: float = 3.0) -> Box:
    """A region a little larger than what was read, so a highlight frames it instead of hiding it."""
    return Box(box.x0 - margin, box.y0 - margin, box.x1 + margin, box.y1 + margin)


def _row_box(row: Sequence[Seg], page: PageContent) -> Box:
    """A checklist row: its text and the boxes or answer cells drawn on its line."""
    box = row[0].box
    for other in row[1:]:
        box = _union(box, other.box)
    height = box.height
    for mark in page.marks:
        m = mark.box
        on_line = box.y0 - 2 <= m.cy <= box.y1 + 2 and m.height <= 3 * height
        if on_line and m.width <= 0.3 * page.width:
            box = _union(box, m)
    return box


def _phrase(phrase: str, text: str) -> bool:
    if len(phrase) <= 4:
        return bool(re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", text)) and text.strip() == phrase
    return phrase in text


def _last_label(
    before: str, pm_labels: Sequence[str], notif_labels: Sequence[str], *, whole: bool = False
) -> str | None:
    """Which identifier label is closest before a number: "pm", "notif", "both" or None."""
    text = before.rstrip(" :#.-/")
    best: tuple[int, str] | None = None
    for kind, labels in (("pm", pm_labels), ("notif", notif_labels)):
        for label in labels:
            idx = text.rfind(label.rstrip(" :#.-/"))
            if idx < 0:
                continue
            end = idx + len(label.rstrip(" :#.-/"))
            if idx > 0 and text[idx - 1].isalnum():
                continue
            if end < len(text) and text[end].isalpha():
                continue
            between = text[end:]
            if whole and between.strip(" :#.-/"):
                continue
            if re.search(r"[a-z]{3,}", between.replace("no", "").replace("number", "")):
                continue  # another label sits between
            if best is None or end > best[0]:
                best = (end, kind)
    if best is None:
        return None
    if best[1] == "pm" and any(n in text[-30:] for n in ("notif",)) and "pm" in text[-30:]:
        return "both"
    return best[1]


def _form_tick_near(page: PageContent, row: Sequence[object]) -> bool | None:
    """A checklist row ticked through a form check box on its line."""
    segs = list(row)
    if not segs or not page.form_values:
        return None
    y0 = min(s.box.y0 for s in segs)  # type: ignore[attr-defined]
    y1 = max(s.box.y1 for s in segs)  # type: ignore[attr-defined]
    states = [
        fv.value == "on"
        for fv in page.form_values
        if fv.kind == "checkbox" and fv.box is not None and fv.box.y0 <= y1 + 2 and fv.box.y1 >= y0 - 2
    ]
    if not states:
        return None
    return any(states)

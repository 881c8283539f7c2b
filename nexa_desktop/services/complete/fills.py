"""Drafting a form fill: facts from the job record, language from the local model.

:func:`draft_fill` fills every fact deterministically first (job record, People, crews, today,
or a page of the package when the job record lacks it), then asks the model once, constrained to
the JSON schema of the language fields only. Output that is cut off or fails validation is retried
once with shorter limits; if that fails too the language fields stay empty and ``problems`` says
why. Nothing the model returns can change a fact.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from nexa_desktop.domain.errors import NexaError, ValidationError
from nexa_desktop.domain.identifiers import parse_lan_id
from nexa_desktop.domain.jobs import Crew, Job, Person
from nexa_desktop.services.complete.forms import (
    EcTagStatus,
    FormSpec,
    get_form,
    language_field_limits,
)
from nexa_desktop.services.complete.protocol import ChatMessage, GenerationResult, TextGenerator

FieldScalar = str | int | dt.date | None

#: How much shorter the retry asks for (limits and token budget).
RETRY_SCALE = 0.5
#: Characters of package text quoted to the model at most.
EXCERPT_CHARS = 1500


@dataclass(frozen=True, slots=True)
class FieldValue:
    """A value on a form and where it came from ("job record", "people", "crew", "today",
    "default", "user", "page N" or "model"). Every value stays editable."""

    value: FieldScalar
    source: str
    editable: bool = True

    @property
    def display(self) -> str:
        return display_value(self.value)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something the user must look at. Errors block writing the PDF; warnings do not."""

    field: str | None
    message: str
    severity: Literal["error", "warning"] = "error"

    def to_json(self) -> dict[str, str | None]:
        return {"field": self.field, "message": self.message, "severity": self.severity}


class FillInvalid(NexaError):
    """The fill cannot be written yet: fields are missing or malformed."""

    def __init__(self, message: str, problems: Sequence[Problem]) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class Fill:
    """A drafted form fill for one job, ready for review. Edit with :meth:`with_value`."""

    form_id: str
    job: Job
    today: dt.date
    values: Mapping[str, FieldValue]
    problems: tuple[Problem, ...] = ()
    generation: GenerationResult | None = None
    attempts: int = 0
    signatures: tuple[str, ...] = field(default=())

    @property
    def spec(self) -> FormSpec:
        return get_form(self.form_id)

    def value(self, name: str) -> FieldScalar:
        return self.values[name].value

    def with_value(self, name: str, value: FieldScalar) -> Fill:
        """The user typed or picked ``value``: it becomes the field's value, and the problems
        raised about that field are considered handled."""
        spec = self.spec
        _check_field(spec, name)
        value = coerce_input(spec, name, value)
        values = dict(self.values)
        values[name] = FieldValue(value, "user")
        problems = tuple(p for p in self.problems if p.field != name)
        return replace(self, values=values, problems=problems)

    def validate(self) -> BaseModel:
        """The fill as the form's pydantic model; :class:`FillInvalid` lists what must be fixed."""
        spec = self.spec
        blocking = [p for p in self.problems if p.severity == "error"]
        data = {name: fv.value for name, fv in self.values.items() if fv.value is not None}
        try:
            model = spec.model.model_validate(data)
        except PydanticValidationError as exc:
            blocking += _explain(spec, exc)
        else:
            if not blocking:
                return model
        # The same field can be reported twice (by drafting and by validation): keep one.
        unique: dict[str | None, Problem] = {}
        for problem in blocking:
            unique.setdefault(problem.field, problem)
        lines = "\n".join(f"• {p.message}" for p in unique.values())
        raise FillInvalid(
            f"The {spec.title} for {self.job.title} is not ready to write:\n{lines}", list(unique.values())
        )

    @property
    def ready(self) -> bool:
        try:
            self.validate()
        except FillInvalid:
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "form": self.form_id,
            "title": self.spec.title,
            "job": {
                "id": self.job.id,
                "pm_number": self.job.pm_number,
                "notification_number": self.job.notification_number,
            },
            "today": self.today.isoformat(),
            "fields": {
                name: {
                    "label": self.spec.field(name).label,
                    "kind": self.spec.field(name).kind,
                    "value": _jsonable(fv.value),
                    "source": fv.source,
                    "editable": fv.editable,
                }
                for name, fv in self.values.items()
            },
            "signatures": {label: "sign by hand" for label in self.signatures},
            "problems": [p.to_json() for p in self.problems],
            "ready": self.ready,
            "generation": None
            if self.generation is None
            else {
                "finish_reason": self.generation.finish_reason,
                "prompt_tokens": self.generation.prompt_tokens,
                "completion_tokens": self.generation.completion_tokens,
                "tokens_per_second": self.generation.tokens_per_second,
                "attempts": self.attempts,
            },
        }


def _check_field(spec: FormSpec, name: str) -> None:
    if name not in spec.model.model_fields:
        known = ", ".join(f.name for f in spec.fields)
        raise ValidationError(name, f"The {spec.title} has no field {name!r}. Its fields: {known}.")


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%m %d %y", "%m %d %Y")


def coerce_input(spec: FormSpec, name: str, value: FieldScalar) -> FieldScalar:
    """What the user typed, as the field's type where that is unambiguous: US and ISO dates,
    whole numbers, upper-case LAN IDs. Anything else is kept as typed; validation explains."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    annotation = spec.model.model_fields[name].annotation
    kinds = set(typing.get_args(annotation)) | {annotation}
    if dt.date in kinds:
        for fmt in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        return text
    if int in kinds and re.fullmatch(r"[0-9]{1,6}", text):
        return int(text)
    if name == "lan_id":
        return text.upper()
    return text


def display_value(value: object) -> str:
    """How a value is shown and written: dates as MM/DD/YYYY, enums by their label."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%m/%d/%Y")
    label = getattr(value, "label", None)
    if isinstance(label, str):
        return label
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _jsonable(value: FieldScalar) -> str | int | None:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return value


def _explain(spec: FormSpec, exc: PydanticValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else None
        if name is None or name not in spec.model.model_fields:
            problems.append(Problem(name, error["msg"]))
            continue
        fs = spec.field(name)
        if error["type"] == "missing":
            message = f"{fs.label} is empty" + (f" ({fs.hint})." if fs.hint else ".")
        elif error["type"] == "string_too_long":
            limit = error.get("ctx", {}).get("max_length")
            message = f"{fs.label} is too long: keep it under {limit} characters."
        else:
            shown = error.get("input")
            hint = fs.hint or error["msg"]
            message = f"{fs.label} {shown!r} is not valid: it must be {hint}."
        problems.append(Problem(name, message))
    return problems


# -- facts ------------------------------------------------------------------------------------

_PM_ON_PAGE = re.compile(
    r"\b(?:PM|ORDER)\s*(?:/\s*ORDER)?\s*(?:#|NO\.?|NUMBER|NUM)?\s*[:#.]?\s*([0-9]{8})\b", re.IGNORECASE
)
_NOTIF_ON_PAGE = re.compile(
    r"\bNOTIF(?:ICATION)?\s*(?:#|NO\.?|NUMBER)?\s*[:#.]?\s*([0-9]{9})\b", re.IGNORECASE
)


def split_pages(package_text: str | None) -> list[str]:
    """Package text as pages: pages are separated by form feeds (as text extractors write them)."""
    if not package_text:
        return []
    return package_text.split("\f")


def _find_on_pages(pages: Sequence[str], pattern: re.Pattern[str]) -> tuple[str, int] | None:
    for number, text in enumerate(pages, start=1):
        match = pattern.search(text)
        if match:
            return match.group(1), number
    return None


@dataclass(frozen=True, slots=True)
class _Person:
    person: Person
    source: str  # "people" (named on the job) or "crew" (the crew's foreman)


def _pick_person(
    spec: FormSpec, job: Job, people: Mapping[int, Person], crews: Mapping[int, Crew]
) -> _Person | None:
    crew = crews.get(job.crew_id) if job.crew_id is not None else None
    crew_lead = people.get(crew.foreman_id) if crew and crew.foreman_id is not None else None
    foreman = people.get(job.foreman_id) if job.foreman_id is not None else None
    if spec.person == "foreman":
        if foreman:
            return _Person(foreman, "people")
        return _Person(crew_lead, "crew") if crew_lead else None
    if spec.person == "crew_lead":
        if crew_lead:
            return _Person(crew_lead, "crew")
        return _Person(foreman, "people") if foreman else None
    if spec.person == "gf":
        gf = people.get(job.gf_id) if job.gf_id is not None else None
        return _Person(gf, "people") if gf else None
    return None


_WHO = {
    "foreman": "the job's foreman (or its crew's foreman)",
    "crew_lead": "the crew lead (the crew's foreman, or the job's foreman)",
    "gf": "the job's general foreman",
}


def _facts(
    spec: FormSpec,
    job: Job,
    people: Mapping[int, Person],
    crews: Mapping[int, Crew],
    today: dt.date,
    pages: Sequence[str],
) -> tuple[dict[str, FieldValue], list[Problem]]:
    values: dict[str, FieldValue] = {}
    problems: list[Problem] = []
    who = _pick_person(spec, job, people, crews)

    def set_(name: str, value: FieldScalar, source: str) -> None:
        values[name] = FieldValue(value, source)

    def identifier(name: str, recorded: str | None, pattern: re.Pattern[str], what: str) -> None:
        found = _find_on_pages(pages, pattern)
        if recorded:
            set_(name, recorded, "job record")
            if found and found[0] != recorded:
                problems.append(
                    Problem(
                        name,
                        f"Page {found[1]} of the package shows {what} {found[0]}, but the job record "
                        f"has {recorded}. The job record was used; check which is right.",
                        "warning",
                    )
                )
        elif found:
            set_(name, found[0], f"page {found[1]}")
        else:
            set_(name, None, "job record")

    for fs in spec.fact_fields:
        name = fs.name
        if name == "pm_number":
            identifier(name, job.pm_number, _PM_ON_PAGE, "PM")
        elif name == "notification_number":
            identifier(name, job.notification_number, _NOTIF_ON_PAGE, "notification")
        elif name in ("foreman_name", "crew_lead_name", "contractor_rep_name", "name"):
            set_(name, who.person.name if who else None, who.source if who else fs.source)
            if who is None:
                problems.append(
                    Problem(
                        name,
                        f"{fs.label}: nobody is set as {_WHO[spec.person]} on {job.title}. "
                        "Assign one on the board or type the name here.",
                    )
                )
        elif name == "lan_id":
            lan: str | None = None
            if who and who.person.lan_id:
                try:
                    lan = parse_lan_id(who.person.lan_id)
                except NexaError:
                    problems.append(
                        Problem(
                            name,
                            f"{who.person.name}'s LAN ID in People ({who.person.lan_id!r}) is not "
                            "4 letters or digits. Fix it in People or type it here.",
                        )
                    )
            elif who:
                problems.append(
                    Problem(name, f"{who.person.name} has no LAN ID in People. Add it there or type it here.")
                )
            set_(name, lan, who.source if who else fs.source)
        elif name in ("date", "complete_date"):
            set_(name, today, "today")
        elif name == "due_date":
            set_(name, job.due_date, "job record")
        elif name == "start_date":
            set_(name, job.scheduled_start, "job record")
        elif name == "end_date":
            set_(name, job.scheduled_end or job.scheduled_start, "job record")
        elif name == "work_address":
            address = ", ".join(part.strip() for part in (job.address, job.city) if part.strip())
            set_(name, address[:120] or None, "job record")
        elif name == "location_number":
            set_(name, 1, "default")
        elif name == "status":
            set_(name, EcTagStatus.COMPLETED.value, "default")
        else:  # facts only the user knows (e.g. Built as designed / Redlined)
            set_(name, None, "user")
            if spec.required(name):
                problems.append(Problem(name, f"{fs.label}: pick one ({fs.hint})."))
    return values, problems


# -- language ---------------------------------------------------------------------------------


def _excerpt(spec: FormSpec, pages: Sequence[str], limit: int = EXCERPT_CHARS) -> str:
    """The package pages most relevant to the form, in page order, up to ``limit`` characters."""
    cleaned = [(n, " ".join(text.split())) for n, text in enumerate(pages, start=1)]
    cleaned = [(n, text) for n, text in cleaned if text]
    if not cleaned:
        return ""
    keywords = [k.lower() for k in spec.excerpt_keywords]

    def score(item: tuple[int, str]) -> int:
        low = item[1].lower()
        return sum(low.count(k) for k in keywords)

    ranked = sorted(cleaned, key=lambda item: (-score(item), item[0]))
    chosen: list[tuple[int, str]] = []
    used = 0
    for number, text in ranked:
        room = limit - used
        if room < 80:
            break
        piece = text[:room]
        chosen.append((number, piece))
        used += len(piece) + 12
    chosen.sort()
    return "\n".join(f"[page {n}] {text}" for n, text in chosen)


def _user_prompt(
    spec: FormSpec, job: Job, facts: Mapping[str, FieldValue], limits: Mapping[str, int], excerpt: str
) -> str:
    lines = ["Job facts:"]
    for fs in spec.fact_fields:
        fv = facts.get(fs.name)
        if fv is not None and fv.value is not None:
            lines.append(f"- {fs.label}: {display_value(fv.value)}")
    address = ", ".join(p for p in (job.address, job.city) if p)
    if any(fv.value == address for fv in facts.values()):
        address = ""
    for label, value in (
        ("Address", address),
        ("Work type", job.work_type.value.replace("_", " ")),
        ("MAT code", job.mat_code or ""),
        ("Job notes", " ".join(job.notes.split())[:400]),
    ):
        if value:
            lines.append(f"- {label}: {value}")
    if excerpt:
        lines += ["", "Package excerpt (reference only):", '"""', excerpt, '"""']
    lines += ["", "Reply with a JSON object with these keys:"]
    lines += [
        f"- {name}: {spec.description(name)} (under {limit} characters)" for name, limit in limits.items()
    ]
    return "\n".join(lines)


def _token_budget(limits: Mapping[str, int], chars_per_token: float) -> int:
    """Tokens for the JSON: the text itself plus keys, quotes and braces."""
    return sum(math.ceil(limit / chars_per_token) + 12 for limit in limits.values()) + 8


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_LONG_NUMBER = re.compile(r"(?<![0-9])[0-9]{8,9}(?![0-9])")


def _parse(text: str, model: type[BaseModel]) -> dict[str, str] | None:
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        parsed = model.model_validate_json(body)
    except PydanticValidationError:
        return None
    return {name: str(value).strip() for name, value in parsed.model_dump().items()}


def _draft_language(
    spec: FormSpec,
    names: tuple[str, ...],
    job: Job,
    facts: Mapping[str, FieldValue],
    pages: Sequence[str],
    generator: TextGenerator,
    on_token: Callable[[str], None] | None,
    should_stop: Callable[[], bool] | None,
) -> tuple[dict[str, str] | None, list[Problem], GenerationResult | None, int]:
    excerpt = _excerpt(spec, pages)
    labels = ", ".join(spec.field(n).label for n in names)
    system = ChatMessage("system", spec.system_prompt)
    last: GenerationResult | None = None
    failures: list[str] = []
    attempts = 0
    for scale, chars_per_token in ((1.0, 3.0), (RETRY_SCALE, 2.0)):
        if should_stop is not None and should_stop():
            break
        limits = language_field_limits(spec, names, scale)
        model = spec.draft_model(names, scale)
        prompt = _user_prompt(spec, job, facts, limits, excerpt)
        attempts += 1
        try:
            last = generator.generate(
                [system, ChatMessage("user", prompt)],
                json_schema=model.model_json_schema(),
                max_tokens=_token_budget(limits, chars_per_token),
                temperature=0.0,
                on_token=on_token,
                should_stop=should_stop,
            )
        except NexaError as exc:
            failures.append(f"the model failed ({exc})")
            continue
        if last.finish_reason == "cancelled":
            return (
                None,
                [
                    Problem(
                        n,
                        f"Drafting was stopped, so {labels} stayed empty. Type them in or draft again.",
                        "error",
                    )
                    for n in names
                ],
                last,
                attempts,
            )
        if last.finish_reason != "stop":
            failures.append(
                "cut off before it was complete"
                if last.finish_reason == "length"
                else "stopped by an error in the model"
            )
            continue
        parsed = _parse(last.text, model)
        if parsed is None:
            failures.append("not in the expected format")
            continue
        return parsed, _check_numbers(spec, parsed, facts, job), last, attempts
    if not failures:  # stopped before the first attempt
        failures.append("stopped")
    reason = "; then ".join(failures)
    message = (
        f"The model's draft of {labels} was {reason}, so nothing was filled in. "
        "Type the text yourself or try drafting again."
    )
    return None, [Problem(n, message) for n in names], last, attempts


def _check_numbers(
    spec: FormSpec, drafted: Mapping[str, str], facts: Mapping[str, FieldValue], job: Job
) -> list[Problem]:
    """Warn when drafted text mentions a PM/notification-like number that is not this job's."""
    known = {job.pm_number, job.notification_number}
    known |= {str(fv.value) for fv in facts.values() if fv.value is not None}
    problems = []
    for name, text in drafted.items():
        strangers = sorted({n for n in _LONG_NUMBER.findall(text) if n not in known})
        if strangers:
            problems.append(
                Problem(
                    name,
                    f"{spec.field(name).label} mentions {', '.join(strangers)}, which is not this job's "
                    "PM or notification number. Check the text before you accept it.",
                    "warning",
                )
            )
    return problems


# -- the entry point --------------------------------------------------------------------------


def draft_fill(
    form_id: str,
    job: Job,
    people: Mapping[int, Person] | Iterable[Person],
    crews: Mapping[int, Crew] | Iterable[Crew],
    *,
    package_text: str | None = None,
    generator: TextGenerator | None,
    today: dt.date,
    answers: Mapping[str, FieldScalar] | None = None,
    on_token: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Fill:
    """Draft ``form_id`` for ``job``: facts first, then one constrained generation for the rest.

    ``package_text`` is the package's text with pages separated by form feeds (optional).
    ``answers`` are values the user already gave (e.g. ``{"built_as": "redlined"}``); they win
    over everything and are never sent to the model to be rewritten. With no ``generator`` the
    language fields stay empty with a problem saying why.
    """
    spec = get_form(form_id)
    people_map = people if isinstance(people, Mapping) else {p.id: p for p in people}
    crews_map = crews if isinstance(crews, Mapping) else {c.id: c for c in crews}
    pages = split_pages(package_text)
    values, problems = _facts(spec, job, people_map, crews_map, today, pages)

    for name, answer in (answers or {}).items():
        _check_field(spec, name)
        values[name] = FieldValue(coerce_input(spec, name, answer), "user")
        problems = [p for p in problems if p.field != name]

    to_draft = tuple(f.name for f in spec.language_fields if f.name not in values)
    for name in to_draft:
        values[name] = FieldValue(None, "model")
    generation: GenerationResult | None = None
    attempts = 0
    if to_draft and generator is None:
        labels = ", ".join(spec.field(n).label for n in to_draft)
        problems += [
            Problem(
                n,
                f"No model is loaded, so {labels} was not drafted. Type it in, or load a model "
                "in Models and draft again.",
                "error" if spec.required(n) else "warning",
            )
            for n in to_draft
        ]
    elif to_draft and generator is not None:
        drafted, language_problems, generation, attempts = _draft_language(
            spec, to_draft, job, values, pages, generator, on_token, should_stop
        )
        problems += language_problems
        for name, text in (drafted or {}).items():
            values[name] = FieldValue(text, "model")

    ordered = {f.name: values[f.name] for f in spec.fields}
    return Fill(
        form_id=spec.id,
        job=job,
        today=today,
        values=ordered,
        problems=tuple(problems),
        generation=generation,
        attempts=attempts,
        signatures=spec.signatures,
    )

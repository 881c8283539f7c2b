"""The rules profile that drives package checks (``resources/rules/*.toml``), as validated data."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.verify import DOC_TYPES, FindingCode, Severity


class RulesProfileError(NexaError):
    """The rules profile file is missing or malformed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


FieldKind = Literal["value", "choice", "signature"]
Shape = Literal["lan_id", "date", "pm", "notification", "name", "any"]


class FieldRule(_Strict):
    """One field or signature a form must carry."""

    field: str
    kind: FieldKind
    labels: tuple[str, ...] = ()
    exclude_labels: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    shape: Shape = "any"
    section: tuple[str, ...] = ()
    after: str | None = None
    first_page_only: bool = False
    last_page_only: bool = False
    #: Where a form has no label of its own for the value, the signature line that carries it (the
    #: signer's name is written on the line): the value is there when the line is signed.
    on_signature_line: tuple[str, ...] = ()


class FormRules(_Strict):
    fields: tuple[FieldRule, ...] = ()


class WorkTypeRules(_Strict):
    title: str
    required: tuple[str, ...]


class WorkTypeInference(_Strict):
    present: tuple[str, ...]
    if_present: str
    otherwise: str


class IdentifierRules(_Strict):
    pm_labels: tuple[str, ...]
    notification_labels: tuple[str, ...]
    ignore_in: tuple[str, ...] = ("other",)


class CcscRules(_Strict):
    safety_critical: dict[str, tuple[int, ...]]
    section_headings: dict[str, tuple[str, ...]]


class SketchRules(_Strict):
    built_as_designed: tuple[str, ...]
    markup_colours: tuple[str, ...] = ("red", "blue")


class RulesProfile(_Strict):
    """Everything about a utility's package rules that is data rather than code."""

    name: str
    version: int = 1
    review_threshold: float = Field(0.6, ge=0.0, le=1.0)
    #: Findings less sure than this are withheld from the verdict and sent to the review list.
    finding_threshold: float = Field(0.6, ge=0.0, le=1.0)
    canonical_order: tuple[str, ...]
    work_type_inference: WorkTypeInference
    work_types: dict[str, WorkTypeRules]
    severity: dict[str, Severity]
    identifiers: IdentifierRules
    forms: dict[str, FormRules] = {}
    ccsc: CcscRules
    sketch: SketchRules

    @field_validator("canonical_order")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in value if t not in DOC_TYPES]
        if unknown:
            raise ValueError(f"unknown document types in canonical_order: {', '.join(unknown)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RulesProfile:
        for name, rules in self.work_types.items():
            unknown = [t for t in rules.required if t not in DOC_TYPES]
            if unknown:
                raise ValueError(f"work type {name!r} requires unknown document types: {', '.join(unknown)}")
        for doc_type in self.forms:
            if doc_type not in DOC_TYPES:
                raise ValueError(f"forms: unknown document type {doc_type!r}")
        inference = self.work_type_inference
        for wt in (inference.if_present, inference.otherwise):
            if wt not in self.work_types:
                raise ValueError(f"work_type_inference names unknown work type {wt!r}")
        missing = [c.value for c in FindingCode if c.value not in self.severity]
        if missing:
            raise ValueError(f"severity missing for: {', '.join(missing)}")
        return self

    def rank(self, doc_type: str) -> int | None:
        """Position in the canonical order, or None for types the order check skips (``other``)."""
        try:
            return self.canonical_order.index(doc_type)
        except ValueError:
            return None

    def severity_of(self, code: str) -> str:
        return self.severity[code].value

    def infer_work_type(self, present: set[str]) -> str:
        inference = self.work_type_inference
        return inference.if_present if present & set(inference.present) else inference.otherwise


def parse_profile(data: dict[str, Any], *, source: str = "rules profile") -> RulesProfile:
    """Validate a parsed TOML mapping; errors name the file and the bad key."""
    try:
        return RulesProfile.model_validate(data)
    except ValueError as exc:
        raise RulesProfileError(f"{source} is not a valid rules profile: {exc}") from exc

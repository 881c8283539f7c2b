"""Plain records shared by the planner and the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .draw import Style


@dataclass
class Person:
    name: str
    lan: str

    @property
    def short(self) -> str:
        first, _, last = self.name.partition(" ")
        return f"{first[0]}. {last}"


@dataclass
class Job:
    index: int
    work_type: str
    pm: str
    notif: str
    contractor: str
    division: str
    division_name: str
    city: str
    address: str
    loc: int
    work_date: date
    identified: date
    required: date
    foreman: Person
    crew: list[Person]
    gf: Person
    inspector: Person
    rep: Person
    estimator: Person
    mat: str
    priority: str
    circuit: str
    po: str
    pole_old: str
    pole_new: str
    sap_old: str
    sap_new: str
    kva: int
    height: int
    klass: int
    gps: str
    style: Style


@dataclass
class DocSpec:
    doc_type: str
    pages: int
    variant: str
    seed: int
    style: Style
    missing: set[str] = field(default_factory=set)
    unchecked: list[str] = field(default_factory=list)
    markup: str = "drawn"  # sketches: drawn | annot | stamp | none
    pm: str | None = None  # printed PM when it differs from the package's (ID mismatch)
    notif: str | None = None
    noise: dict[int, list[str]] = field(default_factory=dict)
    rotate: dict[int, int] = field(default_factory=dict)  # compensated /Rotate per page
    sideways: dict[int, int] = field(default_factory=dict)  # /Rotate without compensation (reads turned)
    scan: dict[int, str] = field(default_factory=dict)  # page -> grey | colour | faint | smear | coarse
    is_copy: bool = False
    moved: bool = False
    other_kind: str = ""

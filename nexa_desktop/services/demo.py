"""Realistic, deterministic demo data: people, crews and jobs spread over every board column.

``seed_demo`` writes everything in one transaction with bulk inserts (no per-job queries), so it
seeds 200 jobs in a blink and 10,000 for the board benchmark in about a second. The same seed
always gives the same data.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from nexa_desktop.domain.errors import NexaError
from nexa_desktop.domain.jobs import (
    Dependency,
    DependencyKind,
    DependencyStatus,
    JobStatus,
    Priority,
    Role,
    WorkType,
)
from nexa_desktop.store import models
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database

crews_table = models.crews
jobs_table = models.jobs
people_table = models.people

S = JobStatus


class DemoNotEmpty(NexaError):
    """The database already holds jobs; demo data only goes into an empty one."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    jobs: int
    crews: int
    people: int


# -- reference data ---------------------------------------------------------------------------

_FIRST = (
    "Alex", "Maria", "Jose", "Dave", "Kim", "Luis", "Sarah", "Mike", "Tina", "Raj", "Carlos",
    "Jenny", "Tom", "Ana", "Brian", "Linda", "Eric", "Rosa", "Kevin", "Nina", "Sam", "Diane",
    "Victor", "Grace", "Hector", "Paula", "Steve", "Mei", "Juan", "Erin", "Marcus", "Olga",
)  # fmt: skip
_LAST = (
    "Garcia", "Nguyen", "Smith", "Johnson", "Lopez", "Martinez", "Chen", "Brown", "Patel",
    "Rodriguez", "Miller", "Hernandez", "Wilson", "Kaur", "Davis", "Ramirez", "Anderson",
    "Tran", "Thompson", "Flores", "Moore", "Sanchez", "Taylor", "Singh", "Clark", "Reyes",
    "Lewis", "Alvarez", "Walker", "Torres", "Young", "Castillo",
)  # fmt: skip

#: (role, how many)
_STAFF: tuple[tuple[Role, int], ...] = (
    (Role.PM, 3), (Role.GF, 6), (Role.FOREMAN, 12), (Role.QA, 2),
    (Role.SCHEDULER, 2), (Role.ADMIN, 1),
)  # fmt: skip

#: (number, specialty, skills, size)
_CREWS: tuple[tuple[int, str, tuple[str, ...], int], ...] = (
    (1, "Pole", ("07D", "KAA", "2AA"), 4),
    (2, "Pole", ("07D", "2AA"), 4),
    (3, "Maintenance", ("KAA", "2AA", "2AJ"), 3),
    (4, "UG", ("UG1",), 4),
    (5, "Transformer", ("TRX", "KAA"), 3),
    (6, "Pole", ("07D", "KAA"), 5),
    (7, "Pole", ("07D", "2AA", "KAA"), 4),
    (8, "Maintenance", ("2AA", "KAA"), 2),
    (9, "UG", ("UG1", "TRX"), 4),
    (10, "Transformer", ("TRX",), 3),
    (11, "Pole", ("07D",), 4),
    (12, "Civil/UG", ("UG1",), 5),
)

#: (city, division, latitude, longitude): real places in PG&E territory.
_CITIES: tuple[tuple[str, str, float, float], ...] = (
    ("Stockton", "ST", 37.9577, -121.2908), ("Lodi", "ST", 38.1302, -121.2724),
    ("Manteca", "ST", 37.7974, -121.2161), ("Tracy", "ST", 37.7397, -121.4252),
    ("San Jose", "SJ", 37.3382, -121.8863), ("Morgan Hill", "SJ", 37.1305, -121.6544),
    ("Los Gatos", "DA", 37.2358, -121.9624), ("Cupertino", "DA", 37.3230, -122.0322),
    ("Saratoga", "DA", 37.2638, -122.0230), ("Santa Cruz", "CC", 36.9741, -122.0308),
    ("Salinas", "CC", 36.6777, -121.6555), ("San Luis Obispo", "LP", 35.2828, -120.6596),
    ("Santa Maria", "LP", 34.9530, -120.4357), ("Concord", "DI", 37.9780, -122.0311),
    ("Walnut Creek", "DI", 37.9101, -122.0652), ("Hayward", "MI", 37.6688, -122.0808),
    ("Fremont", "MI", 37.5485, -121.9886), ("San Mateo", "PN", 37.5630, -122.3255),
    ("Redwood City", "PN", 37.4852, -122.2364), ("Oakland", "EB", 37.8044, -122.2712),
    ("Berkeley", "EB", 37.8715, -122.2730), ("San Francisco", "SF", 37.7749, -122.4194),
    ("San Rafael", "NB", 37.9735, -122.5311), ("Napa", "NB", 38.2975, -122.2869),
    ("Santa Rosa", "SO", 38.4404, -122.7141), ("Petaluma", "SO", 38.2324, -122.6367),
    ("Eureka", "HM", 40.8021, -124.1637), ("Ukiah", "NC", 39.1502, -123.2078),
    ("Chico", "NV", 39.7285, -121.8375), ("Redding", "NV", 40.5865, -122.3917),
    ("Davis", "SA", 38.5449, -121.7405), ("Woodland", "SA", 38.6785, -121.7733),
    ("Auburn", "SI", 38.8966, -121.0769), ("Grass Valley", "SI", 39.2191, -121.0611),
    ("Fresno", "FR", 36.7378, -119.7871), ("Clovis", "FR", 36.8252, -119.7029),
    ("Bakersfield", "KE", 35.3733, -119.0187), ("Merced", "YO", 37.3022, -120.4830),
    ("Oakdale", "YO", 37.7666, -120.8472), ("Madera", "YO", 36.9613, -120.0607),
)  # fmt: skip

_STREETS = (
    "Main", "Oak", "Pine", "Elm", "Walnut", "Cedar", "Pacific", "March", "Hammer", "Center",
    "Church", "Sycamore", "Willow", "Mission", "El Camino", "Lincoln", "Washington", "Olive",
    "Almond", "Orchard", "Vineyard", "Ridge", "Valley", "Railroad", "Airport", "Harbor",
    "Sierra", "Hillcrest", "Madrone", "Redwood", "Buckeye", "Live Oak",
)  # fmt: skip
_STREET_TYPES = ("St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Way", "Ct")

#: (status, pre-field complete, weight): every board column gets a share.
_SLOTS: tuple[tuple[JobStatus, bool, int], ...] = (
    (S.NEW, False, 6), (S.ASSIGNED_TO_GF, False, 8), (S.PRE_FIELDING, False, 10),
    (S.PRE_FIELDING, True, 8), (S.SCHEDULED, True, 12), (S.IN_PROGRESS, True, 9),
    (S.STUCK, True, 3), (S.PENDING_GF_REVIEW, True, 5), (S.PENDING_QA_REVIEW, True, 4),
    (S.PENDING_PM_APPROVAL, True, 3), (S.READY_TO_SUBMIT, True, 5), (S.SUBMITTED, True, 8),
    (S.GO_BACK, True, 2), (S.BILLED, True, 5), (S.INVOICED, True, 4),
)  # fmt: skip

_PRIORITIES = (Priority.EMERGENCY, Priority.A, Priority.B, Priority.C, Priority.D, Priority.E)
_PRIORITY_WEIGHTS = (2, 8, 36, 38, 8, 8)

#: Work type → (MAT code, weight), project prefix of the PM number.
_MAT_CODES = {
    WorkType.ESTIMATED: (("07D", 70), ("161", 30)),
    WorkType.EC_CORRECTIVE: (("2AA", 45), ("KAA", 40), ("2AJ", 15)),
}

_STUCK_REASONS = (
    "Customer refused access to backyard pole",
    "Waiting on city encroachment permit",
    "Material short: 45' class 2 pole not delivered",
    "Clearance request denied by distribution operator",
    "Gate locked, dog on site; customer not reachable",
    "Crane cannot reach: overhead obstruction",
    "Vegetation crew has not cleared the span",
    "Red-flag warning: work in HFTD suspended",
)
_GO_BACK_REASONS = (
    "R02: photos don't match map location",
    "R05: missing required after photos",
    "QA audit: guys to one anchor not clamped (022178)",
    "CCSC safety item 17 (HV signs) not ticked",
    "Sketch not marked up and not declared Built As Designed",
    "EC tag completion block missing LAN ID",
    "Visibility strips missing on new pole",
)
_NOTES = (
    "", "", "", "Backyard access, call customer 24h ahead.", "Crane needed (45 ton).",
    "Dog on property.", "Traffic control: lane closure on arterial.", "OH and UG scope.",
    "Inaccessible: line truck can't reach, hand-carry.", "Joint pole with AT&T.",
)  # fmt: skip


# -- builders ---------------------------------------------------------------------------------


def _people(rng: random.Random, taken_lans: set[str]) -> list[dict[str, Any]]:
    names: set[str] = set()
    out: list[dict[str, Any]] = []
    for role, count in _STAFF:
        for _ in range(count):
            while True:
                first, last = rng.choice(_FIRST), rng.choice(_LAST)
                if f"{first} {last}" not in names:
                    break
            names.add(f"{first} {last}")
            lan = f"{first[0]}{last[0]}{rng.randint(0, 9)}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"
            while lan in taken_lans:
                lan = f"{first[0]}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.randint(10, 99)}"
            taken_lans.add(lan)
            out.append({
                "name": f"{first} {last}", "role": role.value, "lan_id": lan,
                "email": f"{first}.{last}@example-contractor.com".lower(),
                "active": True, "version": 1,
            })  # fmt: skip
    return out


def _unique_numbers(rng: random.Random, count: int, prefixes: Sequence[str], digits: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        prefix = rng.choice(prefixes)
        number = prefix + str(rng.randrange(10 ** (digits - len(prefix)))).zfill(digits - len(prefix))
        if number not in seen:
            seen.add(number)
            out.append(number)
    return out


def _dependencies(rng: random.Random, *, all_resolved: bool, today: dt.date) -> list[Dependency]:
    kinds = rng.sample(list(DependencyKind), rng.randint(1, 4))
    deps = []
    for kind in kinds:
        if all_resolved:
            status = rng.choice((DependencyStatus.SCHEDULED, DependencyStatus.NOT_REQUIRED))
        else:
            status = rng.choice(list(DependencyStatus))
        date = (
            today + dt.timedelta(days=rng.randint(-10, 20)) if status is DependencyStatus.SCHEDULED else None
        )
        ticket = ""
        if kind is DependencyKind.USA and status is not DependencyStatus.NOT_REQUIRED:
            ticket = f"X{rng.randint(400000000, 599999999)}"  # USA North 811 ticket
        deps.append(Dependency(kind, status, date, ticket))
    if not all_resolved and all(d.status.resolved for d in deps):
        deps[0] = Dependency(deps[0].kind, DependencyStatus.REQUIRED)
    return deps


def _slots(rng: random.Random, count: int) -> list[tuple[JobStatus, bool]]:
    """Every slot at least once (when ``count`` allows), the rest weighted, in shuffled order."""
    base = [(s, c) for s, c, _ in _SLOTS][:count]
    rest = rng.choices([(s, c) for s, c, _ in _SLOTS], [w for *_, w in _SLOTS], k=count - len(base))
    out = base + rest
    rng.shuffle(out)
    return out


_SCHEDULED_ONWARD = {s for s, c, _ in _SLOTS if c and s is not S.PRE_FIELDING}


def _job(
    rng: random.Random,
    *,
    status: JobStatus,
    prefield_done: bool,
    pm: str,
    notification: str | None,
    today: dt.date,
    gfs: Sequence[int],
    crews: Sequence[tuple[int, int]],
) -> dict[str, Any]:
    city, division, lat, lon = rng.choice(_CITIES)
    work_type = WorkType.ESTIMATED if rng.random() < 0.55 else WorkType.EC_CORRECTIVE
    codes, weights = zip(*_MAT_CODES[work_type], strict=True)
    priority = rng.choices(_PRIORITIES, _PRIORITY_WEIGHTS)[0]
    due = today + dt.timedelta(days=rng.randint(-20, 90))
    if priority is Priority.EMERGENCY:
        due = today + dt.timedelta(days=rng.randint(-3, 5))
    row: dict[str, Any] = {
        "pm_number": pm,
        "notification_number": notification,
        "wo_number": f"WO-{rng.randint(30, 49)}{rng.randint(0, 99999):05d}"
        if work_type is WorkType.ESTIMATED or priority is Priority.EMERGENCY or rng.random() < 0.3
        else None,
        "work_type": work_type.value,
        "division": division,
        "mat_code": rng.choices(codes, weights)[0],
        "address": f"{rng.randint(100, 9899)} {rng.choice(_STREETS)} {rng.choice(_STREET_TYPES)}",
        "city": city,
        "latitude": round(lat + rng.uniform(-0.04, 0.04), 6),
        "longitude": round(lon + rng.uniform(-0.04, 0.04), 6),
        "priority": priority.value,
        "due_date": due,
        "status": status.value,
        "prefield_complete": prefield_done,
        "notes": rng.choice(_NOTES),
        "dependencies": [],
    }
    if status is not S.NEW:
        row["gf_id"] = rng.choice(gfs)
    if status is S.PRE_FIELDING:
        deps = _dependencies(rng, all_resolved=prefield_done, today=today)
        row["dependencies"] = [d.to_json() for d in deps]
        if prefield_done and rng.random() < 0.5:
            row["foreman_id"] = rng.choice(crews)[1]  # GF picked a foreman, no date yet
    elif status in _SCHEDULED_ONWARD:
        crew_id, foreman_id = rng.choice(crews)
        if status is S.SCHEDULED:
            start = today + dt.timedelta(days=rng.choice((0, 0, 1, 2, 3, 5, 7, 10, 14, 21)))
        elif status in (S.IN_PROGRESS, S.STUCK):
            start = today - dt.timedelta(days=rng.choice((0, 0, 1, 2, 3, 5)))
        else:
            start = today - dt.timedelta(days=rng.randint(3, 60))
        end = start + dt.timedelta(days=rng.randint(1, 3)) if rng.random() < 0.25 else None
        row.update(crew_id=crew_id, foreman_id=foreman_id, scheduled_start=start, scheduled_end=end)
        if rng.random() < 0.6:
            deps = _dependencies(rng, all_resolved=True, today=start)
            row["dependencies"] = [d.to_json() for d in deps]
        if status is S.STUCK:
            row["stuck_reason"] = rng.choice(_STUCK_REASONS)
            row["stuck_from"] = rng.choice((S.SCHEDULED, S.IN_PROGRESS)).value
        if status is S.GO_BACK:
            row["go_back_reason"] = rng.choice(_GO_BACK_REASONS)
    return row


def seed_demo(db: Database, *, jobs: int = 200, seed: int = 7, today: dt.date | None = None) -> DemoSummary:
    """Fill an empty database with demo people, crews and ``jobs`` jobs (one transaction)."""
    if jobs < 0:
        raise ValueError("jobs must be >= 0")
    today = today or dt.date.today()
    rng = random.Random(seed)
    with db.begin() as conn:
        existing = repo.count_jobs(conn)
        if existing:
            raise DemoNotEmpty(
                f"The database already has {existing} jobs; demo data only goes into an empty "
                "database. Use a new data folder (NEXA_DATA_DIR) or database to try the demo."
            )
        taken_lans = {r for r in conn.execute(select(people_table.c.lan_id)).scalars() if r}
        taken_crews = set(conn.execute(select(crews_table.c.name)).scalars())

        staff = _people(rng, taken_lans)
        ids = conn.execute(
            insert(people_table).returning(people_table.c.id, sort_by_parameter_order=True), staff
        )
        person_ids = [r[0] for r in ids]
        gfs = [pid for pid, p in zip(person_ids, staff, strict=True) if p["role"] == Role.GF.value]
        foremen = [pid for pid, p in zip(person_ids, staff, strict=True) if p["role"] == Role.FOREMAN.value]

        crew_rows = []
        for (number, specialty, skills, size), foreman in zip(_CREWS, foremen, strict=True):
            name = f"Crew {number:02d} – {specialty}"
            if name in taken_crews:
                name += " (demo)"
            crew_rows.append({"name": name, "foreman_id": foreman, "size": size,
                              "skills": list(skills), "active": True, "version": 1})  # fmt: skip
        ids = conn.execute(
            insert(crews_table).returning(crews_table.c.id, sort_by_parameter_order=True),
            crew_rows,
        )
        crew_ids = [r[0] for r in ids]
        crews = list(zip(crew_ids, foremen, strict=True))

        slots = _slots(rng, jobs)
        pms = _unique_numbers(rng, jobs, ("35", "45", "46"), 8)
        notifications = _unique_numbers(rng, jobs, ("11", "12"), 9)
        rows = []
        for (status, prefield_done), pm, notification in zip(slots, pms, notifications, strict=True):
            row = _job(rng, status=status, prefield_done=prefield_done, pm=pm,
                       notification=notification, today=today, gfs=gfs, crews=crews)  # fmt: skip
            if row["work_type"] == WorkType.ESTIMATED.value and rng.random() < 0.4:
                row["notification_number"] = None  # estimated jobs often have no EC notification
            rows.append(row)
        repo.insert_jobs(conn, rows)

        job_ids = {pm: job_id for pm, job_id in conn.execute(select(jobs_table.c.pm_number, jobs_table.c.id))}
        repo.add_history_many(conn, [
            {"job_id": job_ids[r["pm_number"]], "actor": "demo", "action": "Created (demo)",
             "from_status": None, "to_status": r["status"], "version": 1}
            for r in rows
        ])  # fmt: skip
    return DemoSummary(jobs=len(rows), crews=len(crew_rows), people=len(staff))

"""The small dialog a drop opens when the move needs data (GF, crew, dates, reason, safety gate).

It is opened non-modally with ``open()``; the move is committed only when the user presses OK.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from nexa_desktop.domain.jobs import Crew, Job, Person, Role
from nexa_desktop.domain.lifecycle import MoveData, MovePlan, Need


def next_workday(today: dt.date) -> dt.date:
    day = today + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def to_qdate(value: dt.date) -> QDate:
    return QDate(value.year, value.month, value.day)


def from_qdate(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


class TransitionDialog(QDialog):
    """Asks for exactly what ``plan`` still needs for ``job``."""

    def __init__(
        self,
        job: Job,
        plan: MovePlan,
        missing: tuple[Need, ...],
        people: dict[int, Person],
        crews: dict[int, Crew],
        parent: QWidget | None = None,
        today: dt.date | None = None,
    ) -> None:
        super().__init__(parent)
        self.job = job
        self.plan = plan
        self.setWindowTitle(f"{plan.label} — {job.title}")
        self.setMinimumWidth(440)
        today = today or dt.date.today()
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"<b>{plan.label}</b>: {job.title}, {job.address}<br>{job.status.label} → {plan.target.label}"
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        layout.addLayout(form)

        self.gf: QComboBox | None = None
        self.crew: QComboBox | None = None
        self.start: QDateEdit | None = None
        self.end: QDateEdit | None = None
        self.end_enabled: QCheckBox | None = None
        self.reason: QPlainTextEdit | None = None
        self.tailboard: QCheckBox | None = None

        if Need.GF in missing:
            self.gf = QComboBox()
            self.gf.setAccessibleName("General Foreman")
            for person in sorted(people.values(), key=lambda p: p.name):
                if person.role is Role.GF and person.active:
                    self.gf.addItem(person.name, person.id)
            form.addRow("General Foreman", self.gf)
        if Need.CREW in missing or Need.START in missing:
            self.crew = QComboBox()
            self.crew.setAccessibleName("Crew")
            for crew in sorted(crews.values(), key=lambda c: c.name):
                if crew.active:
                    foreman = people.get(crew.foreman_id) if crew.foreman_id else None
                    self.crew.addItem(f"{crew.name}" + (f" ({foreman.name})" if foreman else ""), crew.id)
            if job.crew_id is not None:
                self.crew.setCurrentIndex(max(0, self.crew.findData(job.crew_id)))
            form.addRow("Crew", self.crew)
            self.start = QDateEdit(to_qdate(job.scheduled_start or next_workday(today)))
            self.start.setCalendarPopup(True)
            self.start.setDisplayFormat("ddd MMM d, yyyy")
            self.start.setAccessibleName("Start date")
            form.addRow("Start date", self.start)
            self.end_enabled = QCheckBox("Multi-day job, ends on")
            self.end = QDateEdit(to_qdate(job.scheduled_end or job.scheduled_start or next_workday(today)))
            self.end.setCalendarPopup(True)
            self.end.setDisplayFormat("ddd MMM d, yyyy")
            self.end.setEnabled(False)
            self.end_enabled.toggled.connect(self.end.setEnabled)
            form.addRow(self.end_enabled, self.end)
        if Need.REASON in missing:
            self.reason = QPlainTextEdit()
            self.reason.setPlaceholderText("Why? (kept in the job history)")
            self.reason.setAccessibleName("Reason")
            self.reason.setFixedHeight(80)
            form.addRow("Reason", self.reason)
        if Need.SAFETY_GATE in missing:
            self.tailboard = QCheckBox("Today's tailboard/JHA is signed by the foreman on site")
            self.tailboard.setAccessibleName("Tailboard confirmed")
            form.addRow("Safety gate", self.tailboard)

        self.problem = QLabel()
        self.problem.setObjectName("dialogProblem")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for signal in self._change_signals():
            signal.connect(self._validate)
        self._validate()

    def _change_signals(self) -> list:  # type: ignore[type-arg]
        out: list = []  # type: ignore[type-arg]
        if self.reason is not None:
            out.append(self.reason.textChanged)
        if self.tailboard is not None:
            out.append(self.tailboard.toggled)
        if self.start is not None and self.end is not None and self.end_enabled is not None:
            out += [self.start.dateChanged, self.end.dateChanged, self.end_enabled.toggled]
        return out

    def problems(self) -> list[str]:
        out = []
        if self.gf is not None and self.gf.currentData() is None:
            out.append("There is no active General Foreman to choose: add one first.")
        if self.crew is not None and self.crew.currentData() is None:
            out.append("There is no active crew to choose: add one first.")
        if self.reason is not None and not self.reason.toPlainText().strip():
            out.append("Give a reason.")
        if self.tailboard is not None and not self.tailboard.isChecked():
            out.append("Work can start only after today's tailboard is signed on site.")
        dates = self.start is not None and self.end is not None and self.end_enabled is not None
        if dates and self.end_enabled.isChecked() and self.end.date() < self.start.date():  # type: ignore[union-attr]
            out.append("The end date is before the start date.")
        return out

    def _validate(self) -> None:
        problems = self.problems()
        self.problem.setText(" ".join(problems))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not problems)

    def move_data(self) -> MoveData:
        return MoveData(
            gf_id=self.gf.currentData() if self.gf is not None else None,
            crew_id=self.crew.currentData() if self.crew is not None else None,
            scheduled_start=from_qdate(self.start.date()) if self.start is not None else None,
            scheduled_end=(
                from_qdate(self.end.date())
                if self.end is not None and self.end_enabled is not None and self.end_enabled.isChecked()
                else None
            ),
            reason=self.reason.toPlainText().strip() if self.reason is not None else "",
            tailboard_confirmed=self.tailboard.isChecked() if self.tailboard is not None else False,
        )

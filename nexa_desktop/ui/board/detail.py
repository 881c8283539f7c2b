"""The card's detail panel: facts, assignment (GF, foreman, crew, dates, dependencies),
the legal next steps, and the job's history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListView,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nexa_desktop.domain.jobs import (
    Crew,
    Dependency,
    DependencyKind,
    DependencyStatus,
    Job,
    JobStatus,
    Person,
    Role,
)
from nexa_desktop.domain.lifecycle import transitions_from
from nexa_desktop.services.board import HistoryEntry
from nexa_desktop.ui.board.dialogs import from_qdate, next_workday, to_qdate

_DEP_STATUS_LABELS = {
    DependencyStatus.REQUIRED: "Required",
    DependencyStatus.CHECK: "Check",
    DependencyStatus.SCHEDULED: "Scheduled / cleared",
    DependencyStatus.NOT_REQUIRED: "Not required",
}


class HistoryModel(QAbstractListModel):
    """A job's history, newest first."""

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[HistoryEntry] = []

    def set_entries(self, entries: list[HistoryEntry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        e = self._entries[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            when = e.at.astimezone().strftime("%b %d %H:%M")
            move = ""
            if e.from_status and e.to_status and e.from_status is not e.to_status:
                move = f" ({e.from_status.label} → {e.to_status.label})"
            reason = f"\n   “{e.reason}”" if e.reason else ""
            return f"{when} · {e.actor} · {e.action}{move}{reason}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(f"{k}: {v[0]} → {v[1]}" for k, v in e.changes.items()) or None
        return None


class DetailPanel(QWidget):
    assignRequested = Signal(int, int, object)  # job id, version, changes dict
    completeRequested = Signal(int)  # job id: draft forms with the local model
    transitionRequested = Signal(int, int, object)  # job id, version, JobStatus

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailPanel")
        self.setMinimumWidth(340)
        self.job: Job | None = None
        self._people: dict[int, Person] = {}
        self._crews: dict[int, Crew] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(12, 12, 12, 12)
        self.title = QLabel("Select a card to see its details")
        self.title.setObjectName("detailTitle")
        self.title.setWordWrap(True)
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout.addWidget(self.title)
        self._layout.addWidget(self.facts)

        self.steps_box = QGroupBox("Next steps")
        self.steps = QVBoxLayout(self.steps_box)
        self._layout.addWidget(self.steps_box)
        self.complete_button = QPushButton("Draft as-built forms…")
        self.complete_button.setObjectName("draftForms")
        self.complete_button.clicked.connect(lambda: self.job and self.completeRequested.emit(self.job.id))
        self._layout.addWidget(self.complete_button)

        self.assign_box = QGroupBox("Assignment")
        self.assign_form = QFormLayout(self.assign_box)
        self._layout.addWidget(self.assign_box)

        self.history_box = QGroupBox("History")
        history_layout = QVBoxLayout(self.history_box)
        self.history_model = HistoryModel()
        self.history_view = QListView()
        self.history_view.setModel(self.history_model)
        self.history_view.setWordWrap(True)
        self.history_view.setAccessibleName("Job history")
        self.history_view.setMinimumHeight(160)
        history_layout.addWidget(self.history_view)
        self._layout.addWidget(self.history_box)
        self._layout.addStretch(1)
        self._editors: dict[str, Any] = {}
        self._build_assignment_form()
        self.show_job(None)

    def set_directory(self, people: dict[int, Person], crews: dict[int, Crew]) -> None:
        """Fill the GF/foreman/crew choices (once per board load, not per card)."""
        self._people, self._crews = people, crews
        e = self._editors
        for key, roles in (("gf_id", (Role.GF,)), ("foreman_id", (Role.FOREMAN, Role.GF))):
            combo: QComboBox = e[key]
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("—", 0)
            for p in sorted(people.values(), key=lambda p: p.name):
                if p.role in roles:
                    combo.addItem(f"{p.name} ({p.lan_id})" if p.lan_id else p.name, p.id)
            combo.blockSignals(False)
        crew_combo: QComboBox = e["crew_id"]
        crew_combo.blockSignals(True)
        crew_combo.clear()
        crew_combo.addItem("—", 0)
        for c in sorted(crews.values(), key=lambda c: c.name):
            crew_combo.addItem(c.name if c.active else f"{c.name} (inactive)", c.id)
        crew_combo.blockSignals(False)
        if self.job is not None:
            self.show_job(self.job)

    def show_job(self, job: Job | None) -> None:
        self.job = job
        for box in (self.steps_box, self.assign_box, self.history_box, self.complete_button):
            box.setVisible(job is not None)
        if job is None:
            self.title.setText("Select a card to see its details")
            self.facts.setText("")
            self.history_model.set_entries([])
            return
        self.title.setText(f"<h2>{job.title}</h2>")
        gf = self._people.get(job.gf_id) if job.gf_id else None
        rows = [
            (
                "Status",
                job.status.label
                + (
                    " · pre-field done"
                    if job.status is JobStatus.PRE_FIELDING and job.prefield_complete
                    else ""
                ),
            ),
            ("Notification", job.notification_number or "—"),
            ("WO", job.wo_number or "—"),
            ("Address", f"{job.address}, {job.city}" if job.city else job.address or "—"),
            ("Due", f"{job.due_date:%a %b %d, %Y}" if job.due_date else "—"),
            ("Priority", job.priority.value),
            ("Work type", job.work_type.value.replace("_", " ")),
            ("Division / MAT", f"{job.division or '—'} / {job.mat_code or '—'}"),
            ("GF", gf.name if gf else "—"),
        ]
        if job.stuck_reason:
            rows.append(("Stuck", job.stuck_reason))
        if job.go_back_reason:
            rows.append(("Go-back", job.go_back_reason))
        self.facts.setText(
            "<table>"
            + "".join(
                f"<tr><td style='color:#546e7a;padding-right:8px'>{k}</td><td>{v}</td></tr>" for k, v in rows
            )
            + "</table>"
        )
        self._build_steps(job)
        self._build_assignment(job)

    def set_history(self, job_id: int, entries: list[HistoryEntry]) -> None:
        if self.job is not None and self.job.id == job_id:
            self.history_model.set_entries(entries)

    # -- building ------------------------------------------------------------------------------

    def _clear(self, layout: QVBoxLayout | QFormLayout) -> None:
        while layout.count():
            item = layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()

    def _build_steps(self, job: Job) -> None:
        self._clear(self.steps)
        options = transitions_from(job.status)
        if not options:
            self.steps.addWidget(QLabel("No further steps: the job is done."))
        for step in options:
            button = QPushButton(f"{step.label} → {step.target.label}")
            button.setAccessibleName(step.label)
            button.clicked.connect(
                lambda _=False, t=step.target: self.transitionRequested.emit(job.id, job.version, t)
            )
            self.steps.addWidget(button)

    def _build_assignment_form(self) -> None:
        e: dict[str, Any] = {}
        # Item data 0 means "nobody": Qt hands a None item datum back with a bad refcount on
        # some PySide6 builds, so None never goes into a combo.
        for key, label in (("gf_id", "GF"), ("foreman_id", "Foreman"), ("crew_id", "Crew")):
            combo = QComboBox()
            combo.setAccessibleName(label)
            combo.addItem("—", 0)
            e[key] = combo
            self.assign_form.addRow(label, combo)
        e["has_dates"] = QCheckBox("Scheduled dates")
        self.assign_form.addRow(e["has_dates"])
        for name, label in (("scheduled_start", "Start"), ("scheduled_end", "End")):
            edit = QDateEdit()
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("ddd MMM d, yyyy")
            edit.setAccessibleName(f"{label} date")
            e["has_dates"].toggled.connect(edit.setEnabled)
            e[name] = edit
            self.assign_form.addRow(label, edit)
        for kind in DependencyKind:
            combo = QComboBox()
            combo.addItem("—", "")
            for status, dep_label in _DEP_STATUS_LABELS.items():
                combo.addItem(dep_label, status.value)
            combo.setAccessibleName(f"{kind.label} dependency")
            e[f"dep:{kind.value}"] = combo
            self.assign_form.addRow(kind.label, combo)
        apply = QPushButton("Apply changes")
        apply.setObjectName("applyAssignment")
        apply.clicked.connect(self._apply)
        self.assign_form.addRow(apply)
        self._editors = e

    def _build_assignment(self, job: Job) -> None:
        """Show ``job``'s current assignment in the editors."""
        e = self._editors
        for key in ("gf_id", "foreman_id", "crew_id"):
            e[key].setCurrentIndex(max(0, e[key].findData(getattr(job, key) or 0)))
        e["has_dates"].setChecked(job.scheduled_start is not None)
        default = job.scheduled_start or next_workday(dt.date.today())
        e["scheduled_start"].setDate(to_qdate(default))
        e["scheduled_end"].setDate(to_qdate(job.scheduled_end or default))
        for name in ("scheduled_start", "scheduled_end"):
            e[name].setEnabled(job.scheduled_start is not None)
        deps = {d.kind: d for d in job.dependencies}
        for kind in DependencyKind:
            current = deps.get(kind)
            combo = e[f"dep:{kind.value}"]
            combo.setCurrentIndex(max(0, combo.findData(current.status.value if current else "")))

    def changes(self) -> dict[str, Any]:
        """What the user changed in the assignment form, as service field values."""
        job = self.job
        if job is None:
            return {}
        e = self._editors
        out: dict[str, Any] = {}
        for key in ("gf_id", "foreman_id", "crew_id"):
            value = e[key].currentData() or None
            if value != getattr(job, key):
                out[key] = value
        if e["has_dates"].isChecked():
            start = from_qdate(e["scheduled_start"].date())
            end = from_qdate(e["scheduled_end"].date())
            end_value = end if end != start else None
            if start != job.scheduled_start:
                out["scheduled_start"] = start
            if end_value != job.scheduled_end:
                out["scheduled_end"] = end_value
        elif job.scheduled_start is not None:
            out["scheduled_start"] = None
            out["scheduled_end"] = None
        old = {d.kind: d for d in job.dependencies}
        new: list[Dependency] = []
        for kind in DependencyKind:
            raw = e[f"dep:{kind.value}"].currentData()
            if not raw:
                continue
            status = DependencyStatus(raw)  # Qt hands enum data back as plain str
            prev = old.get(kind)
            new.append(Dependency(kind, status, prev.date if prev else None, prev.ticket if prev else ""))
        if {d.kind: d.status for d in new} != {k: d.status for k, d in old.items()}:
            out["dependencies"] = tuple(new)
        return out

    def _apply(self) -> None:
        if self.job is None:
            return
        changes = self.changes()
        if changes:
            self.assignRequested.emit(self.job.id, self.job.version, changes)

    def editor(self, name: str) -> Any:
        """The editor widget for a field (tests and keyboard users)."""
        return self._editors[name]

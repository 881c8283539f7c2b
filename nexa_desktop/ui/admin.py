"""The Admin page: this computer's license, the office's seats (after an admin signs in) and the
aggregate usage the company sees. All service calls run off the GUI thread through ``OpRunner``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nexa_desktop.errors import user_message
from nexa_desktop.services.licensing import (
    AnalyticsRow,
    LicenseService,
    LicenseState,
    MachineSeat,
    SeatsOverview,
)
from nexa_desktop.ui.ops import OpRunner
from nexa_desktop.ui.tables import RowsTableModel

_MODE_STYLE = {
    "full": "color: #1b5e20;",
    "not_activated": "color: #8a4b00;",
    "read_only": "color: #b71c1c;",
}


def _when(value: dt.datetime | None) -> str:
    return value.astimezone().strftime("%b %d %H:%M") if value else "—"


class MachinesModel(RowsTableModel[MachineSeat]):
    """Machines holding (or having held) a seat."""

    HEADERS = ("Computer", "User", "Machine id", "Activated", "Last seen", "Status")

    def set_machines(self, machines: tuple[MachineSeat, ...] | list[MachineSeat]) -> None:
        self.set_rows(sorted(machines, key=lambda m: (m.status != "active", m.hostname.lower())))

    def machine(self, row: int) -> MachineSeat:
        return self.row(row)

    def cell(self, m: MachineSeat, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            status = {"active": "In use", "revoked": "Revoked", "expired_lease": "Lease expired"}[m.status]
            values = (
                m.hostname,
                m.os_user,
                f"…{m.fingerprint_hint}",
                _when(m.activated_at),
                _when(m.last_seen_at),
            )
            return (*values, status)[column]
        if role == Qt.ItemDataRole.ForegroundRole and column == 5 and m.status != "active":
            return QColor("#b71c1c" if m.status == "revoked" else "#8a4b00")
        return None


class UsageChart(QWidget):
    """Daily totals as bars (aggregate counts only; no job details exist here)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(160)
        self._days: list[tuple[dt.date, int]] = []
        self.setAccessibleName("Usage per day")

    def set_rows(self, rows: list[AnalyticsRow], days: int = 30, today: dt.date | None = None) -> None:
        today = today or dt.date.today()
        totals: dict[dt.date, int] = defaultdict(int)
        for row in rows:
            totals[row.day] += row.count
        self._days = [
            (d, totals.get(d, 0)) for d in (today - dt.timedelta(days=i) for i in range(days - 1, -1, -1))
        ]
        self.setAccessibleDescription(", ".join(f"{d:%b %d}: {n}" for d, n in self._days if n))
        self.update()

    def totals(self) -> list[tuple[dt.date, int]]:
        return list(self._days)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.rect().adjusted(36, 8, -8, -22)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        if not any(n for _, n in self._days):
            painter.setPen(QColor("#607d8b"))
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "No usage reported in the last 30 days"
            )
            return
        peak = max(n for _, n in self._days)
        painter.setPen(QPen(QColor("#cfd8dc")))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        painter.setPen(QColor("#546e7a"))
        painter.drawText(QRectF(0, rect.top() - 6, 32, 14), Qt.AlignmentFlag.AlignRight, str(peak))
        width = rect.width() / len(self._days)
        last = len(self._days) - 1
        for i, (day, count) in enumerate(self._days):
            height = rect.height() * count / peak
            bar = QRectF(rect.left() + i * width + 1, rect.bottom() - height, max(width - 2, 1), height)
            painter.fillRect(bar, QColor("#0277bd"))
            if (last - i) % 7 == 0:  # weekly labels, ending today
                painter.setPen(QColor("#546e7a"))
                painter.drawText(
                    QRectF(rect.left() + i * width - 30, rect.bottom() + 4, 60, 14),
                    Qt.AlignmentFlag.AlignHCenter,
                    f"{day:%b %d}",
                )


class ActivateDialog(QDialog):
    """Asks for the account service address and the office's organisation code."""

    def __init__(self, parent: QWidget | None = None, server_url: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Activate NEXA Desktop")
        self.setMinimumWidth(460)
        form = QFormLayout(self)
        intro = QLabel(
            "Your office admin gives you the organisation code. The license is stored in this "
            "computer's secure keyring, never in a file."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.server = QLineEdit(server_url or "https://")
        self.server.setAccessibleName("Account service address")
        self.org_code = QLineEdit()
        self.org_code.setAccessibleName("Organisation code")
        form.addRow("Service address", self.server)
        form.addRow("Organisation code", self.org_code)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Activate")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.org_code.textChanged.connect(self._validate)
        self.server.textChanged.connect(self._validate)
        self._validate()

    def _validate(self) -> None:
        ok = bool(self.org_code.text().strip()) and len(self.server.text().strip()) > len("https://")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


class AdminPage(QWidget):
    #: The license state changed (the main window shows it in the status bar).
    licenseChanged = Signal(object)

    def __init__(self, licenses: LicenseService, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.licenses = licenses
        self.runner = runner
        self.state: LicenseState | None = None
        self.overview: SeatsOverview | None = None
        self._server_url = ""

        body = QWidget()
        body.setMaximumWidth(1000)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(12)

        # -- this computer --------------------------------------------------------------------
        license_box = QGroupBox("This computer's license")
        lic = QVBoxLayout(license_box)
        self.status_label = QLabel("Checking the license…")
        self.status_label.setObjectName("licenseStatus")
        self.status_label.setWordWrap(True)
        self.details_label = QLabel()
        self.details_label.setWordWrap(True)
        self.activate_button = QPushButton("Activate…")
        self.renew_button = QPushButton("Renew now")
        self.deactivate_button = QPushButton("Deactivate this computer")
        row = QHBoxLayout()
        for button in (self.activate_button, self.renew_button, self.deactivate_button):
            row.addWidget(button)
        row.addStretch(1)
        lic.addWidget(self.status_label)
        lic.addWidget(self.details_label)
        lic.addLayout(row)
        layout.addWidget(license_box)

        # -- office seats (admin) -----------------------------------------------------------
        seats_box = QGroupBox("Office seats (admins)")
        seats = QVBoxLayout(seats_box)
        self.login_form = QWidget()
        login = QFormLayout(self.login_form)
        login.setContentsMargins(0, 0, 0, 0)
        self.admin_server = QLineEdit("https://")
        self.admin_email = QLineEdit()
        self.admin_password = QLineEdit()
        self.admin_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.sign_in_button = QPushButton("Sign in")
        login.addRow("Service address", self.admin_server)
        login.addRow("Admin email", self.admin_email)
        login.addRow("Password", self.admin_password)
        login.addRow(self.sign_in_button)
        self.seats_summary = QLabel("Sign in as an office admin to see and manage seats.")
        self.seats_summary.setWordWrap(True)
        self.machines = MachinesModel()
        self.machines_view = QTableView()
        self.machines_view.setModel(self.machines)
        self.machines_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.machines_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.machines_view.verticalHeader().setVisible(False)
        self.machines_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.machines_view.setMinimumHeight(180)
        self.machines_view.setAccessibleName("Computers holding seats")
        self.revoke_button = QPushButton("Revoke selected computer")
        self.add_seats_spin = QSpinBox()
        self.add_seats_spin.setRange(1, 500)
        self.add_seats_button = QPushButton("Add seats")
        self.sign_out_button = QPushButton("Sign out")
        manage = QHBoxLayout()
        manage.addWidget(self.revoke_button)
        manage.addStretch(1)
        manage.addWidget(QLabel("Add"))
        manage.addWidget(self.add_seats_spin)
        manage.addWidget(self.add_seats_button)
        manage.addWidget(self.sign_out_button)
        self.manage_widget = QWidget()
        manage_layout = QVBoxLayout(self.manage_widget)
        manage_layout.setContentsMargins(0, 0, 0, 0)
        manage_layout.addWidget(self.machines_view)
        manage_layout.addLayout(manage)
        self.usage_chart = UsageChart()
        self.usage_label = QLabel(
            "Usage in the last 30 days (aggregate counts; no job details leave this office)"
        )
        manage_layout.addWidget(self.usage_label)
        manage_layout.addWidget(self.usage_chart)
        seats.addWidget(self.seats_summary)
        seats.addWidget(self.login_form)
        seats.addWidget(self.manage_widget)
        layout.addWidget(seats_box)
        layout.addStretch(1)

        self.message = QLabel()
        self.message.setObjectName("refusalBanner")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.message)
        outer.addWidget(scroll)

        self.activate_button.clicked.connect(self.open_activate)
        self.renew_button.clicked.connect(self.renew)
        self.deactivate_button.clicked.connect(self.confirm_deactivate)
        self.sign_in_button.clicked.connect(self.sign_in)
        self.admin_password.returnPressed.connect(self.sign_in)
        self.sign_out_button.clicked.connect(self.sign_out)
        self.revoke_button.clicked.connect(self.revoke_selected)
        self.add_seats_button.clicked.connect(self.add_seats)
        self.manage_widget.setVisible(False)
        self.dialog: ActivateDialog | None = None

    # -- license ------------------------------------------------------------------------------

    def refresh_status(self) -> None:
        self.runner.read(self.licenses.status, on_done=self.show_state, on_error=self.show_error)

    def show_state(self, state: LicenseState) -> None:
        self.state = state
        self.status_label.setText(f"<b>{state.code.replace('_', ' ').title()}</b> — {state.message}")
        self.status_label.setStyleSheet(_MODE_STYLE.get(state.mode, ""))
        claims = state.claims
        if claims is not None:
            self.details_label.setText(
                f"Organisation: {claims.org_name} · Features: {', '.join(claims.entitlements) or '—'} · "
                f"License expires {claims.expires_at.astimezone():%b %d, %Y}"
            )
        else:
            self.details_label.setText("")
        activated = claims is not None
        self.renew_button.setEnabled(activated)
        self.deactivate_button.setEnabled(activated)
        self.activate_button.setText("Activate again…" if activated else "Activate…")
        self.licenseChanged.emit(state)

    def open_activate(self) -> None:
        dialog = ActivateDialog(self, self._server_url)
        self.dialog = dialog

        def accepted() -> None:
            server, code = dialog.server.text().strip(), dialog.org_code.text().strip()
            self._server_url = server
            self._busy("Activating…")
            self.runner.read(
                self.licenses.activate, server, code, on_done=self._done_state, on_error=self.show_error
            )

        dialog.accepted.connect(accepted)
        dialog.open()

    def renew(self) -> None:
        self._busy("Renewing the license…")
        self.runner.read(self.licenses.refresh, on_done=self._done_state, on_error=self.show_error)

    def confirm_deactivate(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Deactivate this computer",
            "Free this computer's seat? NEXA keeps all data but becomes read-only here "
            "until it is activated again.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        yes = QMessageBox.StandardButton.Yes

        def finished(result: int) -> None:
            if result == yes.value or box.clickedButton() is box.button(yes):
                self.deactivate()

        box.finished.connect(finished)
        self.confirm_box = box
        box.open()

    def deactivate(self) -> None:
        self._busy("Deactivating…")
        self.runner.read(
            self.licenses.deactivate,
            on_done=lambda _r: self.refresh_status(),
            on_error=self.show_error,
        )

    def _done_state(self, state: LicenseState) -> None:
        self._hide_message()
        self.show_state(state)

    # -- seats ----------------------------------------------------------------------------------

    def sign_in(self) -> None:
        server, email, password = (
            self.admin_server.text().strip(),
            self.admin_email.text().strip(),
            self.admin_password.text(),
        )
        if not email or not password:
            self.show_message("Enter the admin email and password.")
            return
        self._busy("Signing in…")
        self.runner.read(
            self.licenses.admin_login,
            server,
            email,
            password,
            on_done=self._signed_in,
            on_error=self.show_error,
        )

    def _signed_in(self, _session: object) -> None:
        self.admin_password.clear()
        self._hide_message()
        self.login_form.setVisible(False)
        self.manage_widget.setVisible(True)
        self.reload_seats()

    def sign_out(self) -> None:
        self.licenses.admin_logout()
        self.overview = None
        self.machines.set_machines([])
        self.login_form.setVisible(True)
        self.manage_widget.setVisible(False)
        self.seats_summary.setText("Sign in as an office admin to see and manage seats.")

    def reload_seats(self) -> None:
        self.runner.read(self.licenses.seats, on_done=self.show_seats, on_error=self.show_error)
        self.runner.read(
            self.licenses.analytics, 30, on_done=self.usage_chart.set_rows, on_error=self.show_error
        )

    def show_seats(self, overview: SeatsOverview) -> None:
        self.overview = overview
        self.machines.set_machines(overview.machines)
        expiry = min((p.expires_at for p in overview.pools if p.expires_at), default=None)
        until = f" · seats valid until {expiry.astimezone():%b %d, %Y}" if expiry else ""
        self.seats_summary.setText(
            f"<b>{overview.used} of {overview.seats} seats in use</b>, {overview.free} free{until}"
        )

    def revoke_selected(self) -> None:
        rows = self.machines_view.selectionModel().selectedRows()
        if not rows:
            self.show_message("Select the computer to revoke first.")
            return
        machine = self.machines.machine(rows[0].row())
        self._busy(f"Revoking {machine.hostname}…")
        self.runner.read(
            self.licenses.revoke, machine.id, on_done=lambda _m: self.reload_seats(), on_error=self.show_error
        )

    def add_seats(self) -> None:
        if self.overview is None or not self.overview.pools:
            self.show_message("There is no seat pool to add to; ask NEXA support to create one.")
            return
        pool = self.overview.pools[0]
        count = self.add_seats_spin.value()
        self._busy(f"Adding {count} seats…")
        self.runner.read(
            self.licenses.add_seats,
            pool.id,
            count,
            on_done=lambda _p: self.reload_seats(),
            on_error=self.show_error,
        )

    # -- messages -------------------------------------------------------------------------------

    def _busy(self, text: str) -> None:
        self.show_message(text, error=False)

    def show_message(self, text: str, *, error: bool = True) -> None:
        self.message.setText(text)
        self.message.setProperty("info", not error)
        self.message.setVisible(True)

    def _hide_message(self) -> None:
        self.message.setVisible(False)

    def show_error(self, exc: BaseException) -> None:
        self.show_message(user_message(exc))

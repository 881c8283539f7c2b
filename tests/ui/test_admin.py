"""The Admin page against the real account service on loopback, with an in-memory keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from nexa_desktop.services.licensing import LicenseService, MachineIdentity, machine_fingerprint
from nexa_desktop.ui.admin import AdminPage
from nexa_desktop.ui.ops import OpRunner
from tests.cloudserver import Cloud, start_cloud
from tests.keyrings import MemoryKeyring


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    with start_cloud(tmp_path / "cloud") as service:
        yield service


@pytest.fixture
def page(qtbot: QtBot, cloud: Cloud, runner: OpRunner, memory_keyring: MemoryKeyring) -> AdminPage:
    identity = MachineIdentity(machine_fingerprint("admin-page-test"), "office-pc-2", "dana", "test")
    licenses = LicenseService(cloud.public_keys(), backend=memory_keyring, identity=identity)
    widget = AdminPage(licenses, runner)
    qtbot.addWidget(widget)
    widget.resize(1100, 900)
    widget.show()
    return widget


def test_activate_then_manage_seats_as_admin(qtbot: QtBot, page: AdminPage, cloud: Cloud) -> None:
    with qtbot.waitSignal(page.licenseChanged, timeout=5000):
        page.refresh_status()
    assert "Not Activated" in page.status_label.text()
    assert not page.renew_button.isEnabled()

    page.open_activate()
    dialog = page.dialog
    assert dialog is not None
    dialog.server.setText(cloud.url)
    qtbot.keyClicks(dialog.org_code, cloud.org_code)
    with qtbot.waitSignal(page.licenseChanged, timeout=10_000):
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert page.state is not None and page.state.mode == "full"
    assert "Sierra Line Builders" in page.details_label.text()
    assert page.renew_button.isEnabled() and page.deactivate_button.isEnabled()

    page.admin_server.setText(cloud.url)
    qtbot.keyClicks(page.admin_email, cloud.admin_email)
    qtbot.keyClicks(page.admin_password, cloud.admin_password)
    qtbot.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.machines.rowCount() == 2, timeout=10_000)
    assert page.admin_password.text() == "", "the password does not linger in the form"
    assert "2 of 5 seats in use" in page.seats_summary.text()
    hosts = {page.machines.machine(r).hostname for r in range(2)}
    assert hosts == {"office-pc-2", "sync-test"}

    other = next(r for r in range(2) if page.machines.machine(r).hostname == "sync-test")
    page.machines_view.selectRow(other)
    qtbot.mouseClick(page.revoke_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "1 of 5 seats in use" in page.seats_summary.text(), timeout=10_000)
    revoked = [page.machines.machine(r) for r in range(2) if page.machines.machine(r).hostname == "sync-test"]
    assert revoked[0].status == "revoked"

    page.add_seats_spin.setValue(3)
    qtbot.mouseClick(page.add_seats_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "of 8 seats" in page.seats_summary.text(), timeout=10_000)
    assert len(page.usage_chart.totals()) == 30


def test_wrong_password_and_unreachable_service_are_explained(
    qtbot: QtBot, page: AdminPage, cloud: Cloud
) -> None:
    page.admin_server.setText(cloud.url)
    qtbot.keyClicks(page.admin_email, cloud.admin_email)
    qtbot.keyClicks(page.admin_password, "not the password")
    qtbot.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.isVisible() and "…" not in page.message.text(), timeout=10_000)
    assert page.manage_widget.isHidden()
    bad_login = page.message.text()
    assert "sign" in bad_login.lower() or "password" in bad_login.lower()

    page.admin_server.setText("http://127.0.0.1:9")
    qtbot.keyClicks(page.admin_password, "x")
    qtbot.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.text() not in (bad_login, "Signing in…"), timeout=20_000)
    assert "127.0.0.1:9" in page.message.text() or "reach" in page.message.text().lower()

"""Save diagnostics: a real log full of job numbers, addresses, names (from real people rows), e-mail
addresses, LAN IDs and a real signed license goes into the zip; none of it comes out."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from nexa_desktop import paths
from nexa_desktop.domain.jobs import Role
from nexa_desktop.domain.licensing import LicenseClaims, key_id, sign_license
from nexa_desktop.services.diagnostics import (
    LOG_FILE_MAX,
    Redactor,
    redact,
    save_diagnostics,
)
from nexa_desktop.services.doctor import CHECK_NAMES, run_checks
from nexa_desktop.settings import Settings, save_settings
from nexa_desktop.store import repositories as repo
from nexa_desktop.store.db import Database
from tests.keyrings import MemoryKeyring

PEOPLE = (
    ("Gina Flores", Role.GF, "GFL1", "gina.flores@sierra-line.example"),
    ("Frank Ortiz", Role.FOREMAN, "FOR1", None),
    ("Quinn Adams", Role.QA, "QAD1", "qadams@sierra-line.example"),
)
CREW = "Crew 07 – Pole"
JOB_ADDRESS = "7781 Sunnybrook Lane"
USER = "Dana Whitfield"
DB_PASSWORD = "s3cret-Office-pw"


def _license_token() -> str:
    key = Ed25519PrivateKey.generate()
    issued = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    claims = LicenseClaims(
        kid=key_id(key.public_key()),
        license_id=str(uuid.uuid4()),
        org_id="org-1",
        org_name="Sierra Line Builders",
        pool_id="pool-1",
        machine_id="machine-1",
        fingerprint="f" * 64,
        entitlements=("board",),
        issued_at=issued,
        expires_at=issued + dt.timedelta(days=30),
    )
    return sign_license(claims, key)


#: A sha256 with a run of eight digits in it, and a UUID: both must come out unchanged.
HASH = "ab12345678cd" + "0" * 40 + "9f86d081884c"
EVENT_ID = "3f2b8c1e-1234-4c5d-9e8f-123456789abc"
KEEP = (
    "board loaded in 412 ms",
    "Traceback (most recent call last)",
    "StorageError: The database is locked",
    "moved to Scheduled",
    HASH,
    EVENT_ID,
)


@pytest.fixture
def sensitive(sqlite_db: Database, memory_keyring: MemoryKeyring) -> dict[str, str]:
    """People, a crew and a job in the database, the user name in the settings, and a log that
    mentions all of it. Returns what must not survive, by what it is."""
    with sqlite_db.begin() as conn:
        ids = [repo.insert_person(conn, name=n, role=r, lan_id=lan, email=e) for n, r, lan, e in PEOPLE]
        repo.insert_crew(conn, name=CREW, foreman_id=ids[1])
        repo.insert_jobs(
            conn,
            [{"pm_number": "35589054", "notification_number": "119080350", "address": JOB_ADDRESS,
              "city": "Stockton", "status": "new"}],
        )  # fmt: skip
    save_settings(Settings(user_name=USER))
    token = _license_token()
    machine_token = "nxm_" + secrets.token_urlsafe(32)
    secret = {
        "pm": "35589054",
        "pm_dashed": "PM-12345678",
        "pm_spaced": "3558 9054",
        "notification": "119080350",
        "address": "1234 Oak St",
        "address2": "56 N. El Camino Real",
        "db_address": JOB_ADDRESS,
        "name": "Gina Flores",
        "surname_upper": "ORTIZ",
        "first_name": "Quinn",
        "crew": CREW,
        "user": USER,
        "email": "gina.flores@sierra-line.example",
        "other_email": "dispatch@pge-partner.example",
        "lan": "LAN ID: QAD1",
        "lan_db": "GFL1",
        "license": token,
        "machine_token": machine_token,
        "url_password": "hunter2",
        "url_token": "abc123secretvalue",
        "phone": "(209) 555-0143",
    }
    lines = [
        f"2026-03-02 09:00:01,123 INFO MainThread nexa.board: moved to Scheduled PM {secret['pm']} for "
        f"{secret['name']} (crew {CREW})",
        f"2026-03-02 09:00:02,456 INFO MainThread nexa.import: {secret['pm_dashed']} notification "
        f"{secret['notification']} at {secret['address']}, Stockton; also {secret['address2']}",
        f"2026-03-02 09:00:03,789 WARNING nexa-worker nexa.verify: order # {secret['pm_spaced']} job at "
        f"{JOB_ADDRESS} signed by FRANK {secret['surname_upper']}; QA {secret['first_name']} checked it",
        f"2026-03-02 09:00:04,000 INFO MainThread nexa.user: {USER} emailed {secret['email']} and "
        f"{secret['other_email']}, phone {secret['phone']}",
        f"2026-03-02 09:00:05,000 INFO MainThread nexa.people: {secret['lan']}, GF is {secret['lan_db']}",
        f"2026-03-02 09:00:06,000 INFO MainThread nexa.licensing: stored license {token}",
        f"2026-03-02 09:00:07,000 INFO MainThread nexa.sync: Authorization: Bearer {machine_token}",
        "2026-03-02 09:00:08,000 INFO MainThread httpx: GET "
        f"https://admin:{secret['url_password']}@licenses.example.com/v1/keys?token={secret['url_token']}",
        f"2026-03-02 09:00:09,000 INFO MainThread nexa.models: sha256 {HASH} event {EVENT_ID}",
        "2026-03-02 09:00:10,000 ERROR MainThread nexa: board loaded in 412 ms",
        "Traceback (most recent call last)",
        "StorageError: The database is locked",
    ]
    (paths.logs_dir() / "nexa.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (paths.logs_dir() / "nexa.log.1").write_text(
        f"older: {secret['name']} {secret['pm']}\n", encoding="utf-8"
    )
    return secret


def _zip_text(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name).decode("utf-8") for name in zf.namelist()}


def test_saved_bundle_has_nothing_sensitive(
    sensitive: dict[str, str], tmp_path: Path, data_dir: Path
) -> None:
    settings = Settings(
        user_name=USER, database_url=f"postgresql://nexa:{DB_PASSWORD}@db.office.example/nexa"
    )
    report = run_checks(Settings(user_name=USER), quick=True)
    target = tmp_path / "support" / "diag.zip"

    written = save_diagnostics(
        target, report, f"sqlite:///{paths.database_file().as_posix()}", settings=settings
    )

    assert written == target
    members = _zip_text(target)
    assert {"README.txt", "doctor.json", "doctor.txt", "settings.json", "versions.json"} <= members.keys()
    assert {"logs/nexa.log", "logs/nexa.log.1"} <= members.keys()
    everything = "\n".join(members.values())
    for what, value in sensitive.items():
        assert value not in everything, f"{what} survived: {value!r}"
        assert value.lower() not in everything.lower(), what
    assert DB_PASSWORD not in everything
    for name, *_ in PEOPLE:
        for part in name.split():
            assert part not in everything, part
    log = members["logs/nexa.log"]
    for kept in KEEP:
        assert kept in log, kept
    for placeholder in ("[PM]", "[NOTIFICATION]", "[ADDRESS]", "[NAME]", "[EMAIL]", "[LAN ID]", "[LICENSE]"):
        assert placeholder in log, placeholder
    assert [c["name"] for c in json.loads(members["doctor.json"])["checks"]] == list(CHECK_NAMES)
    assert json.loads(members["settings.json"])["database_url"].startswith("postgresql")
    assert "SQLAlchemy" in json.loads(members["versions.json"])["packages"]
    assert [p.name for p in target.parent.iterdir()] == ["diag.zip"]  # no temp file left


def test_saving_again_replaces_the_file_and_adds_zip(sensitive: dict[str, str], tmp_path: Path) -> None:
    report = run_checks(Settings(user_name=USER), quick=True, checks=())
    first = save_diagnostics(tmp_path / "diag", report)
    assert first.name == "diag.zip"
    (paths.logs_dir() / "nexa.log").write_text("second run\n", encoding="utf-8")
    second = save_diagnostics(first, report)
    assert second == first
    assert _zip_text(second)["logs/nexa.log"] == "second run\n"


def test_a_long_log_is_cut_to_its_newest_part(data_dir: Path, tmp_path: Path) -> None:
    line = "2026-03-02 09:00:00,000 INFO MainThread nexa: routine line without secrets\n"
    count = LOG_FILE_MAX // len(line) + 5000
    (paths.logs_dir() / "nexa.log").write_text(line * count + "THE NEWEST LINE\n", encoding="utf-8")
    report = run_checks(Settings(), quick=True, checks=())

    text = _zip_text(save_diagnostics(tmp_path / "d.zip", report))["logs/nexa.log"]

    assert len(text.encode("utf-8")) <= LOG_FILE_MAX + 200
    assert text.startswith("[… the first")
    assert text.rstrip().endswith("THE NEWEST LINE")


def test_unwritable_target_is_a_clear_error(data_dir: Path, tmp_path: Path) -> None:
    from nexa_desktop.services.diagnostics import DiagnosticsError

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    report = run_checks(Settings(), quick=True, checks=())
    with pytest.raises(DiagnosticsError, match="Choose another folder"):
        save_diagnostics(blocker / "diag.zip", report)


@pytest.mark.parametrize(
    ("text", "gone", "placeholder"),
    [
        ("PM 35589054 is late", "35589054", "[PM]"),
        ("file PM35589054_ASBUILT_20260302.pdf", "35589054", "[PM]"),
        ("Notification #119080350 tagged", "119080350", "[NOTIFICATION]"),
        ("PM# 3558-9054 moved", "3558-9054", "[PM]"),
        ("at 900 W 5th Ave Apt 3, Fresno", "900 W 5th Ave", "[ADDRESS]"),
        ("site 12 Hwy 99 Frontage Rd", "12 Hwy 99 Frontage Rd", "[ADDRESS]"),
        ("lan_id=AB1C saved", "AB1C", "[LAN ID]"),
        ('{"lan_id": "ZX9Q"}', "ZX9Q", "[LAN ID]"),
        ("mail Someone.Else+x@Example.COM now", "Someone.Else", "[EMAIL]"),
        ("postgresql://nexa:pw123456@db/nexa", "pw123456", "[CREDENTIALS]"),
        ("callback?code=XYZ987654&state=1", "XYZ987654", "[SECRET]"),
        ('{"password": "letmein99"}', "letmein99", "[SECRET]"),
        ("call 209.555.0143", "555.0143", "[PHONE]"),
    ],
)
def test_redact_patterns(text: str, gone: str, placeholder: str) -> None:
    out = redact(text, Redactor.build())
    assert gone not in out
    assert placeholder in out


def test_redact_keeps_ordinary_text() -> None:
    text = (
        "2026-03-02 09:00:00,000 INFO MainThread nexa.board: 12 jobs in Scheduled, took 35 ms; "
        f"version 0.1.0; sha256 {HASH}; id {EVENT_ID}; LAN is up"
    )
    assert redact(text, Redactor.build()) == text


def test_known_names_whole_and_in_parts() -> None:
    redactor = Redactor.build(names=["María de la Cruz"], groups=["Line Crew Alpha"], lan_ids=["mc01"])
    out = redact("María de la Cruz, CRUZ, Cruz and crew line crew alpha; MC01 signed; cruz ship", redactor)
    assert "María" not in out and "Cruz" not in out and "CRUZ" not in out
    assert "line crew alpha" not in out.lower()
    assert "MC01" not in out
    assert "cruz ship" in out  # lower-case words are not taken for a name part

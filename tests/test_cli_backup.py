"""``nexa backup create|list|verify|restore`` on the embedded database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nexa_desktop.cli import app
from nexa_desktop.store.db import Database, open_database
from tests.services.backup_data import change, fill, fingerprint

runner = CliRunner()


@pytest.fixture
def office(data_dir: Path) -> Iterator[Database]:
    db = open_database()
    fill(db, jobs=20)
    try:
        yield db
    finally:
        db.dispose()


def _content() -> str:
    db = open_database()
    try:
        return fingerprint(db)
    finally:
        db.dispose()


def _create() -> dict[str, object]:
    result = runner.invoke(app, ["backup", "create", "--json"])
    assert result.exit_code == 0, result.output
    made: dict[str, object] = json.loads(result.stdout)
    return made


def test_create_and_list_as_json(office: Database) -> None:
    made = _create()
    assert Path(str(made["path"])).is_file() and made["kind"] == "manual"

    result = runner.invoke(app, ["backup", "list", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert isinstance(listed, list) and len(listed) == 1
    assert set(listed[0]) == {"path", "created", "kind", "size_bytes", "schema_revision"}
    assert listed[0]["path"] == made["path"] and listed[0]["size_bytes"] > 0

    text = runner.invoke(app, ["backup", "list"])
    assert text.exit_code == 0 and "manual" in text.stdout and str(made["path"]) in text.stdout


def test_create_if_due_makes_one_a_day(office: Database) -> None:
    first = runner.invoke(app, ["backup", "create", "--if-due", "--json"])
    assert first.exit_code == 0 and json.loads(first.stdout)["kind"] == "weekly"
    again = runner.invoke(app, ["backup", "create", "--if-due"])
    assert again.exit_code == 0 and "nothing to do" in again.stdout


def test_verify_good_and_bad(office: Database, tmp_path: Path) -> None:
    made = _create()
    good = runner.invoke(app, ["backup", "verify", str(made["path"]), "--json"])
    assert good.exit_code == 0
    assert json.loads(good.stdout)["ok"] is True and json.loads(good.stdout)["integrity"] == "ok"

    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    bad = runner.invoke(app, ["backup", "verify", str(junk)])
    assert bad.exit_code == 1
    assert bad.stderr.startswith("nexa: ") and "not a NEXA Desktop backup" in bad.stderr
    bad_json = runner.invoke(app, ["backup", "verify", str(junk), "--json"])
    assert bad_json.exit_code == 1 and json.loads(bad_json.stdout)["ok"] is False


def test_restore_with_yes_and_with_a_prompt(office: Database) -> None:
    before = fingerprint(office)
    made = _create()
    change(office)
    office.dispose()
    changed = _content()

    refused = runner.invoke(app, ["backup", "restore", str(made["path"])], input="n\n")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == "nexa: Restore cancelled; nothing was changed."
    assert _content() == changed

    no_answer = runner.invoke(app, ["backup", "restore", str(made["path"])], input="")
    assert no_answer.exit_code == 1 and _content() == changed

    done = runner.invoke(app, ["backup", "restore", str(made["path"]), "--yes"])
    assert done.exit_code == 0, done.output
    assert "Restored" in done.stdout and "pre-restore" in done.stdout
    assert _content() == before

    confirmed = runner.invoke(app, ["backup", "restore", str(made["path"])], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output


def test_restore_of_a_bad_file_is_one_line_on_stderr(office: Database, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00" * 4096)
    result = runner.invoke(app, ["backup", "restore", str(junk), "--yes"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nexa: Not restored:")


def test_the_real_command_line(office: Database) -> None:
    office.dispose()
    made = _create()
    done = subprocess.run(
        [sys.executable, "-m", "nexa_desktop", "backup", "list", "--json"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [b["path"] for b in json.loads(done.stdout)] == [made["path"]]

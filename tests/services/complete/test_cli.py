"""``nexa models`` and ``nexa complete`` through the real CLI (Typer runner), on SQLite demo data."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nexa_desktop.cli import app
from nexa_desktop.services.demo import seed_demo
from nexa_desktop.store.db import open_database


def test_models_check_add_list_and_a_bad_file(small_gguf: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(app, ["models", "check", str(small_gguf)])
    assert checked.exit_code == 0, checked.output
    assert "llama model" in checked.output and "fits" in checked.output and "SHA-256" in checked.output
    added = runner.invoke(app, ["models", "add", str(small_gguf)])
    assert added.exit_code == 0, added.output
    listed = json.loads(runner.invoke(app, ["models", "list", "--json"]).output)
    assert [row["path"] for row in listed if row["source"] == "added"] == [str(small_gguf)]
    fake = tmp_path / "phi3.gguf"
    fake.write_text("this is not a model")
    refused = runner.invoke(app, ["models", "check", str(fake)])
    assert refused.exit_code == 1 and "phi3.gguf" in refused.output


def test_complete_prints_the_fill_with_facts_from_the_job_record() -> None:
    db = open_database()
    seed_demo(db, jobs=30, seed=5)
    snapshot_pm = db.engine.connect().exec_driver_sql("SELECT pm_number FROM jobs LIMIT 1").scalar_one()
    db.dispose()
    runner = CliRunner()
    result = runner.invoke(app, ["complete", "cwc_header", "--job", snapshot_pm, "--json",
                                 "--set", "purpose=Replace crossarm per sketch"])  # fmt: skip
    assert result.exit_code == 0, result.output
    fill = json.loads(result.output.strip().splitlines()[-1])
    assert fill["form"] == "cwc_header"
    text = json.dumps(fill)
    assert snapshot_pm in text and "Replace crossarm per sketch" in text
    missing = runner.invoke(app, ["complete", "cwc_header", "--job", "12345678", "--json"])
    assert missing.exit_code == 1 and "12345678" in missing.output

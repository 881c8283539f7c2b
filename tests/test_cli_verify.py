"""``nexa verify`` as the corpus scorer runs it: a real subprocess, JSON on the last stdout line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "packages"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"sample corpus not found at {CORPUS}")


def _nexa(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "nexa_desktop", "verify", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )


@needs_corpus
def test_verify_json_contract_and_batch(tmp_path: Path) -> None:
    packages = tmp_path / "inbox"
    packages.mkdir()
    shutil.copytree(CORPUS / "pkg-016", packages / "pkg-016")
    broken = packages / "pkg-broken"
    broken.mkdir()
    (broken / "scan.pdf").write_bytes(b"%PDF-1.7\n%broken beyond repair")
    single = _nexa(str(packages / "pkg-016"), "--json")
    assert single.returncode == 0, single.stderr
    report = json.loads(single.stdout.strip().splitlines()[-1])
    assert set(report) >= {
        "package",
        "work_type",
        "pm_number",
        "notification_number",
        "pages",
        "documents",
        "findings",
        "verdict",
    }
    truth = json.loads((CORPUS / "pkg-016.truth.json").read_text(encoding="utf-8"))
    assert report["pm_number"] == truth["pm_number"]
    assert [(p["file"], p["page"]) for p in report["pages"]] == [
        (p["file"], p["page"]) for p in truth["pages"]
    ]
    assert {f["code"] for f in report["findings"]} == {f["code"] for f in truth["findings"]}
    assert report["verdict"] == "fail"
    assert all(
        set(f) >= {"code", "severity", "doc_type", "field", "pages", "message"} for f in report["findings"]
    )

    batch = _nexa(str(packages), "--batch", "--json")
    assert batch.returncode == 0, batch.stderr  # a broken file still gives a report (with a file error)
    lines = [json.loads(line) for line in batch.stdout.strip().splitlines()]
    assert [r["package"] for r in lines] == ["pkg-016", "pkg-broken"]
    assert lines[1]["verdict"] == "fail" and lines[1]["findings"][0]["code"] == "FILE_ERROR"


def test_verify_errors_are_one_line_and_non_zero(tmp_path: Path) -> None:
    missing = _nexa(str(tmp_path / "nope"), "--json")
    assert missing.returncode != 0 and missing.stdout == ""
    assert missing.stderr.strip().count("\n") == 0 and "does not exist" in missing.stderr
    (tmp_path / "readme.txt").write_text("no pdf here", encoding="utf-8")
    empty = _nexa(str(tmp_path), "--json")
    assert empty.returncode != 0 and "PDF" in empty.stderr

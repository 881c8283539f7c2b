"""The installed form: a normal (non-editable) wheel must behave exactly like the checkout.

The wheel is built from this tree, its contents are compared with what the code loads, and it is
installed into a throw-away venv that borrows the dependencies of the running environment (nothing is
downloaded or rebuilt). ``nexa verify`` run from there, outside the checkout, must print the same
report as the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nexa_desktop import paths

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "packages"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"sample corpus not found at {CORPUS}")
PACKAGE = "pkg-016"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # setuptools builds in build/ and never empties it: files deleted from the tree would linger.
    for stale in [ROOT / "build" / "lib", *(ROOT / "build").glob("bdist.*")]:
        shutil.rmtree(stale, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            ".",
        ],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    (built,) = out.glob("nexa_desktop-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv holding only the wheel; the running environment's site-packages supply the deps."""
    venv = tmp_path_factory.mktemp("venv")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # A plain path entry: the deps become importable, but the checkout's editable-install hook
    # (a .pth inside that folder) is not run, so `nexa_desktop` can only come from the wheel.
    (site / "_borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        check=True,
        timeout=300,
    )
    yield python


def _wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def test_wheel_carries_every_resource_and_migration(wheel: Path) -> None:
    names = _wheel_names(wheel)
    shipped = [p for p in (ROOT / "resources").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert shipped, "resources/ is empty"
    missing = [
        str(p.relative_to(ROOT))
        for p in shipped
        if "nexa_desktop/resources/" + p.relative_to(ROOT / "resources").as_posix() not in names
    ]
    assert missing == []
    migrations = [
        p.relative_to(ROOT).as_posix()
        for folder in ("nexa_desktop/store/migrations", "nexa_cloud/migrations")
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert migrations and [m for m in migrations if m not in names] == []
    assert not any(n.startswith(("tests/", "resources/")) for n in names), "only packages go in the wheel"


def _run(python: Path, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "nexa_desktop", *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=cwd,
        env=env,
    )


@needs_corpus
@pytest.mark.slow
def test_installed_wheel_verifies_like_the_checkout(installed: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", paths.DATA_DIR_ENV: str(tmp_path / "data")}
    elsewhere = tmp_path / "elsewhere"  # not the checkout: nothing may be read from it
    elsewhere.mkdir()
    where = subprocess.run(
        [str(installed), "-c", "import nexa_desktop.paths as p; print(p.resources_dir())"],
        capture_output=True,
        text=True,
        check=True,
        cwd=elsewhere,
        env=env,
    ).stdout.strip()
    assert Path(where).is_dir() and not Path(where).is_relative_to(ROOT)

    package = CORPUS / PACKAGE
    from_wheel = _run(installed, "verify", str(package), "--json", cwd=elsewhere, env=env)
    assert from_wheel.returncode == 0, from_wheel.stderr
    from_checkout = _run(Path(sys.executable), "verify", str(package), "--json", cwd=ROOT, env=env)
    assert from_checkout.returncode == 0, from_checkout.stderr
    report = json.loads(from_wheel.stdout.strip().splitlines()[-1])
    expected = json.loads(from_checkout.stdout.strip().splitlines()[-1])
    assert report.pop("seconds") > 0 and expected.pop("seconds") > 0  # wall time: the one difference
    assert report == expected
    truth = json.loads((CORPUS / f"{PACKAGE}.truth.json").read_text(encoding="utf-8"))
    assert report["verdict"] == truth["verdict"]


@needs_corpus
@pytest.mark.slow
def test_missing_resource_is_a_clear_error_and_no_report(installed: Path, tmp_path: Path) -> None:
    """An installation without its rules profile says which file is missing and exits non-zero."""
    fake_install = tmp_path / "site"
    fake_install.mkdir()
    # A copy of the installed package whose resources/ lacks the rules profile, put first on the path.
    shutil.copytree(
        ROOT / "nexa_desktop", fake_install / "nexa_desktop", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "resources", fake_install / "nexa_desktop" / "resources")
    (fake_install / "nexa_desktop" / "resources" / "rules" / "pge.toml").unlink()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        paths.DATA_DIR_ENV: str(tmp_path / "data"),
        "PYTHONPATH": str(fake_install),
    }
    result = subprocess.run(
        [str(installed), "-P", "-m", "nexa_desktop", "verify", str(CORPUS / PACKAGE), "--json"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode != 0
    assert result.stdout.strip() == ""
    assert "pge.toml" in result.stderr and "reinstall" in result.stderr.lower()

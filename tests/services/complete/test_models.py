"""Model manager: discovery, added paths, checks against this machine, GPU layer planning."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from nexa_desktop.services.complete import models as models_mod
from nexa_desktop.services.complete.gguf_info import ModelFileError, read_gguf_info
from nexa_desktop.services.complete.models import (
    RECOMMENDED_MODEL_TEXT,
    ModelManager,
    check_info,
    gpu_offload_supported,
    plan_gpu_layers,
    recommended_threads,
)


@pytest.fixture
def manager(tmp_path: Path, data_dir: Path) -> ModelManager:
    app = tmp_path / "app-models"
    app.mkdir()
    return ModelManager(app_models_dir=app, data_dir=data_dir)


def test_lists_models_from_both_folders_and_added_paths(
    manager: ModelManager, tmp_path: Path, small_gguf: Path
) -> None:
    app_dir = manager.search_dirs()[0]
    (app_dir / "B-model.gguf").write_bytes(b"GGUF")
    (app_dir / "readme.txt").write_text("not a model")
    manager.data_models_dir.mkdir()
    (manager.data_models_dir / "a-model.gguf").write_bytes(b"GGUF")
    manager.add(small_gguf)
    entries = manager.list()
    assert [(e.name, e.source) for e in entries] == [
        ("B-model.gguf", "app"),
        ("a-model.gguf", "data"),
        (small_gguf.name, "added"),
    ]
    assert entries[2].size_bytes == small_gguf.stat().st_size
    assert json.loads(manager.registry_file.read_text())["paths"] == [str(small_gguf.resolve())]


def test_add_is_idempotent_and_files_in_folders_are_not_listed_twice(
    manager: ModelManager, small_gguf: Path
) -> None:
    copy = manager.search_dirs()[0] / small_gguf.name
    shutil.copyfile(small_gguf, copy)
    manager.add(copy)
    manager.add(copy)
    assert [e.source for e in manager.list()] == ["app"]
    assert len(json.loads(manager.registry_file.read_text())["paths"]) == 1


def test_add_refuses_a_bad_file(manager: ModelManager, tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_text("hello")
    with pytest.raises(ModelFileError):
        manager.add(bad)
    assert manager.list() == []


def test_vanished_added_file_is_marked(manager: ModelManager, small_gguf: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere.gguf"
    shutil.copyfile(small_gguf, copy)
    manager.add(copy)
    copy.unlink()
    [entry] = manager.list()
    assert entry.source == "added" and not entry.exists
    assert manager.remove(copy) and manager.list() == []
    assert not manager.remove(copy)


def test_check_the_real_model(manager: ModelManager, small_gguf: Path) -> None:
    check = manager.check(small_gguf, n_ctx=2048)
    assert check.fits_in_ram and check.ok
    assert check.info.sha256 is not None
    assert check.memory.kv_cache_bytes == check.info.kv_cache_bytes(2048)
    assert check.n_threads == recommended_threads()
    assert check.gpu_offload_supported == gpu_offload_supported()
    if not check.gpu_offload_supported:  # this machine's llama-cpp build is CPU-only
        assert check.gpu.n_gpu_layers == 0 and "CPU" in check.gpu.reason
    lines = check.summary_lines()
    assert "fits." in lines[1] and any(line.startswith("GPU:") for line in lines)


def test_check_warns_about_memory_and_context(small_gguf: Path) -> None:
    info = read_gguf_info(small_gguf, with_sha256=False)
    check = check_info(info, n_ctx=16384, available_bytes=50 * 1024 * 1024, n_threads=3)
    assert not check.fits_in_ram and check.n_threads == 3
    text = " ".join(check.warnings)
    assert "only 50.0 MB is free" in text and "trained for (8192)" in text


def test_gpu_plan(small_gguf: Path) -> None:
    info = read_gguf_info(small_gguf, with_sha256=False)
    assert plan_gpu_layers(info, 2048, supported=False).n_gpu_layers == 0
    assert plan_gpu_layers(info, 2048, 0, supported=True).n_gpu_layers == 0
    assert plan_gpu_layers(info, 2048, 12, supported=True).n_gpu_layers == 12
    assert plan_gpu_layers(info, 2048, supported=True, vram_free_bytes=8 * 2**30).n_gpu_layers == -1
    partial = plan_gpu_layers(info, 2048, supported=True, vram_free_bytes=200 * 2**20)
    assert 0 < partial.n_gpu_layers < 30 and "of 30 layers" in partial.reason
    assert plan_gpu_layers(info, 2048, supported=True, vram_free_bytes=10 * 2**20).n_gpu_layers == 0


def test_unknown_vram_runs_on_cpu_off_mac(small_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = read_gguf_info(small_gguf, with_sha256=False)
    monkeypatch.setattr(models_mod, "nvidia_free_vram_bytes", lambda: None)
    monkeypatch.setattr(sys, "platform", "linux")
    plan = plan_gpu_layers(info, 2048, supported=True)
    assert plan.n_gpu_layers == 0 and "could not be measured" in plan.reason


def test_threads_default_is_sane() -> None:
    assert 1 <= recommended_threads() <= 8


def test_recommended_model_text() -> None:
    assert "Phi-3-mini-4k-instruct" in RECOMMENDED_MODEL_TEXT and "Q4_K_M" in RECOMMENDED_MODEL_TEXT
    assert "never downloads" in RECOMMENDED_MODEL_TEXT

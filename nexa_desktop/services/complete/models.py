"""Model manager: find GGUF files, remember user-added ones, and check a model fits this machine."""

from __future__ import annotations

import builtins
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from nexa_desktop import paths
from nexa_desktop.services.complete.gguf_info import (
    GgufInfo,
    MemoryEstimate,
    ModelFileError,
    human_size,
    read_gguf_info,
)

REGISTRY_NAME = "models.json"
MAX_DEFAULT_THREADS = 8

RECOMMENDED_MODEL_NAME = "Phi-3-mini-4k-instruct (Q4_K_M)"
RECOMMENDED_MODEL_TEXT = (
    "Recommended model: Phi-3-mini-4k-instruct, quantised Q4_K_M (about 2.4 GB, needs about 3.5 GB of "
    "free memory). Get the .gguf file from Microsoft's Phi-3-mini-4k-instruct-gguf page on Hugging Face "
    "(or your IT department), then put it in the models/ folder next to NEXA or in the models folder "
    "of your NEXA data directory, or add it from any folder with 'Add model'. NEXA never downloads "
    "models by itself and nothing leaves this computer."
)

Source = Literal["app", "data", "added"]


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """A model file NEXA knows about (not yet validated: see :meth:`ModelManager.check`)."""

    path: Path
    size_bytes: int
    source: Source
    exists: bool = True

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class GpuPlan:
    """How many layers go to the GPU (-1 = all) and why."""

    n_gpu_layers: int
    reason: str
    vram_free_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class ModelCheck:
    """Everything the Models view shows before a load."""

    info: GgufInfo
    n_ctx: int
    memory: MemoryEstimate
    available_ram_bytes: int
    fits_in_ram: bool
    gpu_offload_supported: bool
    gpu: GpuPlan
    n_threads: int
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.fits_in_ram

    def summary_lines(self) -> builtins.list[str]:
        """Plain sentences for the UI and ``nexa models check``."""
        info = self.info
        lines = [
            f"{info.path.name}: {info.architecture} model, {info.quantization}, "
            f"{human_size(info.size_bytes)}, trained context {info.context_length or 'unknown'} tokens.",
            f"Needs about {human_size(self.memory.ram_bytes)} of memory at a {self.n_ctx}-token context "
            f"({human_size(self.available_ram_bytes)} free now): "
            + ("fits." if self.fits_in_ram else "does NOT fit."),
            f"GPU: {self.gpu.reason}",
            f"Threads: {self.n_threads}.",
        ]
        if info.sha256:
            lines.append(f"SHA-256: {info.sha256}")
        return lines + builtins.list(self.warnings)


# -- machine facts ---------------------------------------------------------------------------------


def recommended_threads() -> int:
    """Physical cores, capped at 8 (generation is memory-bound; more threads stop helping)."""
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
    except Exception:
        physical = None
    cores = physical or os.cpu_count() or 1
    return max(1, min(int(cores), MAX_DEFAULT_THREADS))


def available_ram_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def gpu_offload_supported() -> bool:
    """What the installed llama-cpp build supports (CPU-only builds answer False)."""
    try:
        import llama_cpp
    except Exception:
        return False
    return bool(llama_cpp.llama_supports_gpu_offload())


def nvidia_free_vram_bytes() -> int | None:
    """Free memory on the first NVIDIA GPU via ``nvidia-smi`` (None when unknown)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
        return int(out.strip().splitlines()[0]) * 1024 * 1024
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def plan_gpu_layers(
    info: GgufInfo,
    n_ctx: int,
    requested: int | None = None,
    *,
    supported: bool | None = None,
    vram_free_bytes: int | None = None,
) -> GpuPlan:
    """Pick ``n_gpu_layers``: 0 with the reason when there is no usable GPU, else what fits."""
    if requested == 0:
        return GpuPlan(0, "GPU offload is turned off in the settings; the model runs on the CPU.")
    if supported is None:
        supported = gpu_offload_supported()
    if not supported:
        return GpuPlan(
            0,
            "This NEXA build's llama-cpp engine runs on the CPU only (no CUDA, Metal or Vulkan support "
            "compiled in); the model runs on the CPU.",
        )
    if requested is not None:
        return GpuPlan(
            requested, f"{'All' if requested < 0 else requested} layers on the GPU (from the settings)."
        )
    n_layer = max(1, info.block_count or 1)
    if vram_free_bytes is None:
        vram_free_bytes = nvidia_free_vram_bytes()
    if vram_free_bytes is None:
        if sys.platform == "darwin":
            return GpuPlan(-1, "Apple GPU (Metal, shared memory): all layers on the GPU.")
        return GpuPlan(
            0,
            "The GPU's free memory could not be measured, so the model runs on the CPU. "
            "Set the GPU layers in the settings to use the GPU.",
        )
    budget = int(vram_free_bytes * 0.9)
    full = info.estimate_memory(n_ctx, n_gpu_layers=-1).vram_bytes
    if full <= budget:
        return GpuPlan(
            -1,
            f"All {n_layer} layers on the GPU ({human_size(full)} of {human_size(vram_free_bytes)} free).",
            vram_free_bytes,
        )
    estimate = info.estimate_memory(n_ctx)
    per_layer = (estimate.weights_bytes + estimate.kv_cache_bytes) / n_layer
    layers = max(0, min(n_layer, int((budget - estimate.overhead_bytes // 2) / per_layer)))
    if layers == 0:
        return GpuPlan(
            0,
            f"Only {human_size(vram_free_bytes)} free on the GPU, too little for one layer; "
            "the model runs on the CPU.",
            vram_free_bytes,
        )
    return GpuPlan(
        layers,
        f"{layers} of {n_layer} layers on the GPU (only {human_size(vram_free_bytes)} "
        "free), the rest on the CPU.",
        vram_free_bytes,
    )


# -- the manager -----------------------------------------------------------------------------------


class ModelManager:
    """Finds ``*.gguf`` in ``models/`` beside the app and ``<data dir>/models``, plus added paths."""

    def __init__(self, *, app_models_dir: Path | None = None, data_dir: Path | None = None) -> None:
        self._app_dir = app_models_dir or paths.models_dir()
        self._data_dir = data_dir or paths.data_dir()

    @property
    def data_models_dir(self) -> Path:
        return self._data_dir / "models"

    @property
    def registry_file(self) -> Path:
        return self._data_dir / REGISTRY_NAME

    def search_dirs(self) -> builtins.list[Path]:
        return [self._app_dir, self.data_models_dir]

    def list(self) -> builtins.list[ModelEntry]:
        """Known model files, found ones first by name; added files that vanished are marked."""
        seen: set[Path] = set()
        entries: builtins.list[ModelEntry] = []
        sources: tuple[tuple[Path, Source], ...] = ((self._app_dir, "app"), (self.data_models_dir, "data"))
        for folder, source in sources:
            if not folder.is_dir():
                continue
            for p in sorted(folder.glob("*.gguf"), key=lambda q: q.name.lower()):
                resolved = p.resolve()
                if resolved in seen or not p.is_file():
                    continue
                seen.add(resolved)
                entries.append(ModelEntry(p, p.stat().st_size, source))
        for raw in self._registered():
            p = Path(raw)
            resolved = p.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            exists = p.is_file()
            entries.append(ModelEntry(p, p.stat().st_size if exists else 0, "added", exists))
        return entries

    def add(self, path: str | os.PathLike[str]) -> ModelEntry:
        """Validate the file (header and sha256) and remember it; raises :class:`ModelFileError`."""
        p = Path(path).expanduser().resolve()
        read_gguf_info(p, with_sha256=True)
        registered = self._registered()
        if str(p) not in registered:
            registered.append(str(p))
            self._save(registered)
        return ModelEntry(p, p.stat().st_size, "added")

    def remove(self, path: str | os.PathLike[str]) -> bool:
        """Forget an added path (the file itself is never deleted)."""
        p = str(Path(path).expanduser().resolve())
        registered = self._registered()
        if p not in registered:
            return False
        registered.remove(p)
        self._save(registered)
        return True

    def check(
        self,
        path: str | os.PathLike[str],
        n_ctx: int = 2048,
        *,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
    ) -> ModelCheck:
        """Validate, hash and size up a model for ``n_ctx``; raises :class:`ModelFileError`."""
        info = read_gguf_info(path, with_sha256=True)
        return check_info(info, n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers)

    def _registered(self) -> builtins.list[str]:
        try:
            data = json.loads(self.registry_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        items = data.get("paths", []) if isinstance(data, dict) else []
        return [str(x) for x in items if isinstance(x, str)]

    def _save(self, registered: builtins.list[str]) -> None:
        self.registry_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.registry_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": 1, "paths": registered}, indent=2), encoding="utf-8")
        os.replace(tmp, self.registry_file)


def check_info(
    info: GgufInfo,
    n_ctx: int = 2048,
    *,
    n_threads: int | None = None,
    n_gpu_layers: int | None = None,
    available_bytes: int | None = None,
) -> ModelCheck:
    """The :class:`ModelCheck` for an already-read file."""
    if n_ctx < 256:
        raise ValueError("n_ctx must be at least 256 tokens")
    supported = gpu_offload_supported()
    gpu = plan_gpu_layers(info, n_ctx, n_gpu_layers, supported=supported)
    memory = info.estimate_memory(n_ctx, n_gpu_layers=gpu.n_gpu_layers)
    available = available_ram_bytes() if available_bytes is None else available_bytes
    warnings: builtins.list[str] = []
    if info.context_length and n_ctx > info.context_length:
        warnings.append(
            f"The context ({n_ctx} tokens) is longer than the model was trained for "
            f"({info.context_length}); answers will get worse. Use {info.context_length} or less."
        )
    fits = memory.ram_bytes <= available
    if not fits:
        warnings.append(
            f"This model needs about {human_size(memory.ram_bytes)} of memory but only "
            f"{human_size(available)} is free. Close other programs, use a smaller quantisation "
            "(Q4_K_M) or a shorter context."
        )
    return ModelCheck(
        info=info,
        n_ctx=n_ctx,
        memory=memory,
        available_ram_bytes=available,
        fits_in_ram=fits,
        gpu_offload_supported=supported,
        gpu=gpu,
        n_threads=n_threads or recommended_threads(),
        warnings=tuple(warnings),
    )


__all__ = [
    "RECOMMENDED_MODEL_NAME",
    "RECOMMENDED_MODEL_TEXT",
    "GpuPlan",
    "ModelCheck",
    "ModelEntry",
    "ModelFileError",
    "ModelManager",
    "check_info",
    "plan_gpu_layers",
    "recommended_threads",
]

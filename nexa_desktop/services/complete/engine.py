"""``LocalEngine``: the :class:`TextGenerator` that runs a GGUF model in a worker process.

The app process never loads llama.cpp's model: a crash, an out-of-memory kill or a hung prompt
takes down only the worker. Tokens stream back over a pipe; ``should_stop`` is polled while
waiting and sets the worker's cancel flag; a worker that does not finish within
``cancel_grace_s`` (1.5 s) is killed and restarted, with the same model, on the next call.

KV reuse: the worker keeps the last prompt's KV cache and llama-cpp-python re-evaluates only the
tokens after the longest common prefix, so a fixed system prompt is evaluated once and reused by
every later request that starts with it (``GenerationStats.cached_prompt_tokens`` says how many).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from nexa_desktop.domain.errors import NexaError
from nexa_desktop.services.complete.gguf_info import GgufInfo, human_size, read_gguf_info
from nexa_desktop.services.complete.models import (
    GpuPlan,
    available_ram_bytes,
    plan_gpu_layers,
    recommended_threads,
)
from nexa_desktop.services.complete.protocol import ChatMessage, GenerationResult
from nexa_desktop.services.complete.templates import PromptTemplate, template_for_info
from nexa_desktop.services.complete.worker import (
    Done,
    Failed,
    GenerateRequest,
    Loaded,
    LoadRequest,
    Reply,
    ResetDone,
    ResetRequest,
    Token,
    WorkerDied,
    WorkerProcess,
)

DEFAULT_REPEAT_PENALTY = 1.1
Finish = Literal["stop", "length", "cancelled", "error"]
POLL_S = 0.025


class ModelLoadError(NexaError):
    """The model could not be loaded (too big, damaged, unsupported) or none is loaded."""


class WorkerCrashed(NexaError):
    """The worker process died while it was working (killed, crashed, out of memory)."""

    def __init__(self, message: str, exitcode: int | None = None) -> None:
        super().__init__(message)
        self.exitcode = exitcode


class GenerationError(NexaError):
    """A request was refused: prompt too long for the context, unusable schema, engine error."""


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """The model the engine runs and how."""

    path: Path
    info: GgufInfo
    template: PromptTemplate
    n_ctx: int
    n_threads: int
    n_gpu_layers: int
    gpu_reason: str
    load_ms: float


@dataclass(frozen=True, slots=True)
class GenerationStats:
    """Timings of the last request (the parent's clock for TTFT and tok/s)."""

    prompt_tokens: int
    cached_prompt_tokens: int
    completion_tokens: int
    prompt_ms: float
    generation_ms: float
    time_to_first_token_ms: float | None
    tokens_per_second: float | None
    restarted_worker: bool

    @property
    def prompt_tokens_per_second(self) -> float | None:
        evaluated = self.prompt_tokens - self.cached_prompt_tokens
        return evaluated / (self.prompt_ms / 1000) if self.prompt_ms > 0 and evaluated > 0 else None


def _describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "it stopped responding"
    if exitcode in (-9, 137):
        return "it was killed (often because the computer ran out of memory)"
    if exitcode in (-11, 139, -6, 134, -7):
        return "it crashed inside the model runtime"
    return f"it exited unexpectedly (code {exitcode})"


class LocalEngine:
    """Runs one GGUF model in a worker process; implements ``TextGenerator``. Thread-safe."""

    def __init__(self, *, cancel_grace_s: float = 1.5, load_timeout_s: float = 600.0) -> None:
        self.cancel_grace_s = cancel_grace_s
        self.load_timeout_s = load_timeout_s
        self._lock = threading.RLock()
        #: CPU threads the user chose (Models page); None means the recommended count.
        self.preferred_threads: int | None = None
        self._cancel = threading.Event()
        self._worker: WorkerProcess | None = None
        self._model: LoadedModel | None = None
        self._needs_restart = False
        self._last_stats: GenerationStats | None = None

    # -- state -------------------------------------------------------------------------------

    @property
    def model(self) -> LoadedModel | None:
        return self._model

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    @property
    def worker_pid(self) -> int | None:
        worker = self._worker
        return worker.pid if worker is not None and worker.is_alive() else None

    @property
    def last_stats(self) -> GenerationStats | None:
        return self._last_stats

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.unload()

    # -- load / unload -----------------------------------------------------------------------

    def load(
        self,
        path: str | os.PathLike[str],
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        *,
        check_memory: bool = True,
    ) -> LoadedModel:
        """Validate the file, start a fresh worker and load the model in it.

        Raises :class:`ModelFileError` (bad file) or :class:`ModelLoadError` (too big, refused by
        llama.cpp, loader died). Any model loaded before is unloaded first.
        """
        if n_ctx < 256:
            raise ValueError("n_ctx must be at least 256 tokens")
        info = read_gguf_info(path, with_sha256=False)
        gpu = plan_gpu_layers(info, n_ctx, n_gpu_layers)
        if check_memory:
            need = info.estimate_memory(n_ctx, n_gpu_layers=gpu.n_gpu_layers).ram_bytes
            free = available_ram_bytes()
            if need > free:
                raise ModelLoadError(
                    f"{info.path.name} needs about {human_size(need)} of memory at a {n_ctx}-token context, "
                    f"but only {human_size(free)} is free. Close other programs, choose a smaller model "
                    "(Q4_K_M) or a shorter context."
                )
        with self._lock:
            self._stop_worker()
            self._model = None
            model = self._start(
                info, n_ctx, n_threads or self.preferred_threads or recommended_threads(), gpu
            )
            self._model = model
            return model

    def unload(self) -> None:
        """Stop any generation, end the worker process and return its memory."""
        self._cancel.set()
        with self._lock:
            self._stop_worker()
            self._model = None
            self._needs_restart = False
            self._cancel.clear()

    close = unload

    def cancel(self) -> None:
        """Ask the running generation to stop (same effect as ``should_stop`` returning true)."""
        self._cancel.set()

    def reset_cache(self) -> None:
        """Drop the worker's KV cache so the next prompt is evaluated from scratch."""
        with self._lock:
            worker = self._worker
            if worker is None or self._needs_restart:
                return
            try:
                worker.send(ResetRequest())
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    if isinstance(worker.receive(0.1), ResetDone):
                        return
            except WorkerDied:
                self._needs_restart = True

    def _stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.shutdown()
            self._worker = None

    def _start(self, info: GgufInfo, n_ctx: int, n_threads: int, gpu: GpuPlan) -> LoadedModel:
        try:
            return self._start_once(info, n_ctx, n_threads, gpu)
        except ModelLoadError:
            if gpu.n_gpu_layers == 0:
                raise
        # Offload failed (driver, VRAM): fall back to the CPU and say why.
        cpu = GpuPlan(0, f"Loading on the GPU failed ({gpu.reason}); the model runs on the CPU instead.")
        return self._start_once(info, n_ctx, n_threads, cpu)

    def _start_once(self, info: GgufInfo, n_ctx: int, n_threads: int, gpu: GpuPlan) -> LoadedModel:
        worker = WorkerProcess()
        name = info.path.name
        try:
            worker.send(LoadRequest(str(info.path), n_ctx, n_threads, gpu.n_gpu_layers))
            deadline = time.monotonic() + self.load_timeout_s
            reply: Reply | None = None
            while reply is None:
                if time.monotonic() > deadline:
                    worker.kill()
                    raise ModelLoadError(
                        f"Loading {name} took longer than {self.load_timeout_s:.0f} s and was stopped."
                    )
                reply = worker.receive(0.1)
        except WorkerDied as died:
            worker.kill()
            raise ModelLoadError(
                f"{name} could not be loaded: the loader process stopped ({_describe_exit(died.exitcode)}). "
                "The file may be damaged or too big for this computer's memory."
            ) from None
        if isinstance(reply, Failed):
            worker.shutdown()
            raise ModelLoadError(
                f"{name} could not be loaded by the model runtime ({reply.message}). "
                "The file may be damaged, or made for a newer version of NEXA."
            )
        if not isinstance(reply, Loaded):
            worker.kill()
            raise ModelLoadError(f"{name} could not be loaded: the loader gave an unexpected answer.")
        self._worker = worker
        self._needs_restart = False
        return LoadedModel(
            path=info.path,
            info=info,
            template=template_for_info(info),
            n_ctx=reply.n_ctx,
            n_threads=n_threads,
            n_gpu_layers=gpu.n_gpu_layers,
            gpu_reason=gpu.reason,
            load_ms=reply.load_ms,
        )

    def _ensure_worker(self) -> tuple[WorkerProcess, LoadedModel, bool]:
        model = self._model
        if model is None:
            raise ModelLoadError("No model is loaded. Open the Models view and load one.")
        worker = self._worker
        if worker is not None and not self._needs_restart and worker.is_alive():
            return worker, model, False
        if worker is not None:
            worker.kill()
            self._worker = None
        gpu = GpuPlan(model.n_gpu_layers, model.gpu_reason)
        self._model = self._start(model.info, model.n_ctx, model.n_threads, gpu)
        assert self._worker is not None
        return self._worker, self._model, True

    # -- generate ----------------------------------------------------------------------------

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        on_token: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> GenerationResult:
        """Stream a reply to ``messages`` (see :class:`TextGenerator`).

        Raises :class:`WorkerCrashed` if the worker dies mid-request (the next call restarts it),
        :class:`GenerationError` for a refused request, :class:`ModelLoadError` when no model is loaded
        or a restart fails.
        """
        with self._lock:
            self._cancel.clear()
            worker, model, restarted = self._ensure_worker()
            request = GenerateRequest(
                segments=tuple(model.template.segments(messages)),
                max_tokens=max(1, max_tokens),
                temperature=max(0.0, temperature),
                repeat_penalty=DEFAULT_REPEAT_PENALTY,
                json_schema=json.dumps(json_schema) if json_schema is not None else None,
                stop_strings=model.template.stop_strings,
            )
            return self._run(worker, request, on_token, should_stop, restarted)

    def _run(
        self,
        worker: WorkerProcess,
        request: GenerateRequest,
        on_token: Callable[[str], None] | None,
        should_stop: Callable[[], bool] | None,
        restarted: bool,
    ) -> GenerationResult:
        parts: list[str] = []
        count = 0
        t_first: float | None = None
        t_last = 0.0
        cancel_at: float | None = None
        callback_error: BaseException | None = None
        worker.clear_cancel()
        t0 = time.perf_counter()
        in_flight = True  # until Done/Failed: if we leave early the worker must not keep talking
        try:
            worker.send(request)
            while True:
                if cancel_at is None:
                    stop = self._cancel.is_set() or callback_error is not None
                    if not stop and should_stop is not None:
                        try:
                            stop = should_stop()
                        except BaseException as exc:  # stop the worker, then re-raise
                            callback_error, stop = exc, True
                    if stop:
                        worker.request_cancel()
                        cancel_at = time.monotonic()
                if cancel_at is not None and time.monotonic() - cancel_at > self.cancel_grace_s:
                    worker.kill()  # hard cancel: it did not answer in time
                    self._needs_restart = True
                    in_flight = False
                    return self._finish(
                        parts, "cancelled", None, count, t0, t_first, t_last, restarted, callback_error
                    )
                reply = worker.receive(POLL_S)
                if reply is None:
                    continue
                if isinstance(reply, Token):
                    now = time.perf_counter()
                    if reply.count:
                        count += reply.count
                        t_last = now
                        if t_first is None:
                            t_first = now
                    if reply.text and cancel_at is None:
                        parts.append(reply.text)
                        if on_token is not None:
                            try:
                                on_token(reply.text)
                            except BaseException as exc:  # stop the worker, then re-raise
                                callback_error = exc
                elif isinstance(reply, Done):
                    in_flight = False
                    return self._finish(
                        parts,
                        reply.finish_reason if cancel_at is None else "cancelled",
                        reply,
                        count,
                        t0,
                        t_first,
                        t_last,
                        restarted,
                        callback_error,
                    )
                elif isinstance(reply, Failed):
                    in_flight = False
                    self._raise_failed(reply)
        except WorkerDied as died:
            in_flight = False
            self._needs_restart = True
            if cancel_at is not None:  # it died while stopping: that is what was asked
                return self._finish(
                    parts, "cancelled", None, count, t0, t_first, t_last, restarted, callback_error
                )
            raise WorkerCrashed(
                f"The text generator stopped while writing: {_describe_exit(died.exitcode)}. "
                "Nothing was saved. Press Generate to try again; the model will be reloaded.",
                died.exitcode,
            ) from None
        finally:
            if in_flight:  # left by an unexpected error: a half-read stream must not reach the next call
                worker.kill()
                self._needs_restart = True

    def _raise_failed(self, reply: Failed) -> None:
        model = self._model
        if reply.kind == "prompt_too_long":
            n_ctx = model.n_ctx if model else 0
            raise GenerationError(
                f"The text is too long for the model's context ({reply.message}). Shorten the package text "
                f"or load the model with a context larger than {n_ctx} tokens."
            )
        if reply.kind == "schema":
            raise GenerationError(
                f"The form's field schema cannot be used to guide the model: {reply.message}"
            )
        if reply.kind == "not_loaded":
            self._needs_restart = True
            raise ModelLoadError("No model is loaded in the text generator. Load the model again.")
        raise GenerationError(f"The model runtime reported an error and stopped: {reply.message}")

    def _finish(
        self,
        parts: list[str],
        finish: Finish,
        done: Done | None,
        count: int,
        t0: float,
        t_first: float | None,
        t_last: float,
        restarted: bool,
        callback_error: BaseException | None,
    ) -> GenerationResult:
        ttft = (t_first - t0) * 1000 if t_first is not None else None
        tps = (
            (count - 1) / (t_last - t_first)
            if t_first is not None and count > 1 and t_last > t_first
            else None
        )
        text = done.text if done is not None and finish != "cancelled" else "".join(parts)
        completion = done.completion_tokens if done is not None else count
        prompt_tokens = done.prompt_tokens if done is not None else 0
        self._last_stats = GenerationStats(
            prompt_tokens=prompt_tokens,
            cached_prompt_tokens=done.cached_prompt_tokens if done is not None else 0,
            completion_tokens=completion,
            prompt_ms=done.prompt_ms if done is not None else 0.0,
            generation_ms=done.generation_ms if done is not None else 0.0,
            time_to_first_token_ms=ttft,
            tokens_per_second=tps,
            restarted_worker=restarted,
        )
        if callback_error is not None:
            raise callback_error
        return GenerationResult(
            text=text,
            finish_reason=finish,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion,
            time_to_first_token_ms=ttft,
            tokens_per_second=tps,
        )


__all__ = [
    "GenerationError",
    "GenerationStats",
    "LoadedModel",
    "LocalEngine",
    "ModelLoadError",
    "WorkerCrashed",
]

"""The inference worker process and the pipe protocol that drives it.

Parent → worker (one at a time over a ``multiprocessing`` Pipe): :class:`LoadRequest`,
:class:`GenerateRequest`, :class:`ResetRequest`, :class:`ShutdownRequest`.
Worker → parent: :class:`Loaded`, a stream of :class:`Token` then :class:`Done` per generation,
:class:`Failed` for any refused request.

Cancel is a shared ``multiprocessing.Event`` rather than a message, so the worker sees it while it
is busy: between generated tokens, and inside llama.cpp's prompt processing through llama.cpp's
abort callback (``llama_set_abort_callback``), which stops ``llama_decode`` between graph nodes. If the
worker does not answer in time the parent kills the process (see ``engine.py``); unloading ends it.

The worker never lets llama-cpp-python touch the Jinja chat template stored in a GGUF file: its
chat formatter is replaced by an inert stand-in before the model loads (NEXA builds prompts with
``templates.py``; ``create_chat_completion`` is never used).

Everything that touches llama_cpp objects stays in this module, behind small typed helpers.
"""

from __future__ import annotations

import codecs
import ctypes
import signal
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import connection
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event as EventType
from typing import Any, Literal

from nexa_desktop.services.complete.templates import Segment

FailKind = Literal["load", "not_loaded", "prompt_too_long", "schema", "decode", "protocol"]
FinishReason = Literal["stop", "length", "cancelled"]

# -- protocol -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadRequest:
    path: str
    n_ctx: int
    n_threads: int
    n_gpu_layers: int
    n_batch: int = 512


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    segments: tuple[Segment, ...]
    max_tokens: int
    temperature: float = 0.0
    repeat_penalty: float = 1.1
    json_schema: str | None = None
    stop_strings: tuple[str, ...] = ()
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    #: Tokens are coalesced into one message per this many ms (the first goes at once): fewer
    #: wake-ups of the app process, which on a small machine compete with llama.cpp's threads.
    stream_interval_ms: float = 20.0


@dataclass(frozen=True, slots=True)
class ResetRequest:
    """Forget the KV cache (the next prompt is evaluated from scratch)."""


@dataclass(frozen=True, slots=True)
class ShutdownRequest:
    """Free the model and end the process."""


Request = LoadRequest | GenerateRequest | ResetRequest | ShutdownRequest


@dataclass(frozen=True, slots=True)
class Loaded:
    n_ctx: int
    n_ctx_train: int
    n_vocab: int
    load_ms: float
    gpu_offload_supported: bool


@dataclass(frozen=True, slots=True)
class Token:
    """Text for the stream and how many sampled tokens it covers (0 for a final flush)."""

    text: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class Done:
    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    cached_prompt_tokens: int
    completion_tokens: int
    prompt_ms: float
    generation_ms: float


@dataclass(frozen=True, slots=True)
class Failed:
    kind: FailKind
    message: str


@dataclass(frozen=True, slots=True)
class ResetDone:
    pass


Reply = Loaded | Token | Done | Failed | ResetDone

# -- typed helpers around llama_cpp (worker side and the bench) ------------------------------------


class LlamaLog:
    """llama.cpp's log, kept off the console: warnings and errors are remembered for messages.

    (An intended abort makes llama.cpp log an error line; the app's console should not show it.)
    """

    def __init__(self) -> None:
        self.lines: deque[str] = deque(maxlen=20)
        self._callback: Any = None
        self._keep = False

    def install(self) -> None:
        import llama_cpp

        def on_log(level: int, text: bytes, _user_data: Any) -> None:
            line = text.decode("utf-8", errors="replace")
            if level == 5:  # continuation of the previous line
                if self._keep and self.lines:
                    self.lines[-1] += line.rstrip("\n")
                return
            self._keep = level in (3, 4)  # GGML_LOG_LEVEL_WARN, GGML_LOG_LEVEL_ERROR
            if self._keep and line.strip():
                self.lines.append(line.strip())

        self._callback = llama_cpp.llama_log_callback(on_log)
        llama_cpp.llama_log_set(self._callback, ctypes.c_void_p(0))

    def recent(self, n: int = 3) -> str:
        return " | ".join(list(self.lines)[-n:])


def disable_gguf_chat_templates() -> None:
    """Make llama-cpp-python unable to compile or render a GGUF's Jinja chat template."""
    import llama_cpp.llama_chat_format as chat_format

    class _InertChatFormatter:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def to_chat_handler(self) -> Any:
            def refuse(*args: Any, **kwargs: Any) -> Any:
                raise RuntimeError("NEXA never renders the chat template stored in a model file")

            return refuse

    setattr(chat_format, "Jinja2ChatFormatter", _InertChatFormatter)  # noqa: B010  (mypy: not a type)


def open_llama(path: str, *, n_ctx: int, n_threads: int, n_gpu_layers: int, n_batch: int = 512) -> Any:
    """``llama_cpp.Llama`` with NEXA's settings (embedded chat templates disabled first)."""
    disable_gguf_chat_templates()
    from llama_cpp import Llama

    return Llama(
        model_path=path,
        n_ctx=n_ctx,
        n_threads=n_threads,
        n_threads_batch=n_threads,
        n_gpu_layers=n_gpu_layers,
        n_batch=n_batch,
        verbose=False,
    )


def tokenize_segments(llama: Any, segments: Sequence[Segment]) -> list[int]:
    """Tokens of a prompt: markup parsed for special tokens, text never; BOS as the vocab wants."""
    tokens: list[int] = []
    for i, seg in enumerate(segments):
        if seg.text:
            tokens += [
                int(t) for t in llama.tokenize(seg.text.encode("utf-8"), add_bos=i == 0, special=seg.markup)
            ]
        elif i == 0:
            tokens += [int(t) for t in llama.tokenize(b"", add_bos=True, special=False)]
    return tokens


def stop_token_ids(llama: Any, stop_strings: Sequence[str]) -> set[int]:
    """Ids of stop strings that are single special tokens in this vocabulary."""
    ids: set[int] = set()
    for s in stop_strings:
        toks = llama.tokenize(s.encode("utf-8"), add_bos=False, special=True)
        if len(toks) == 1:
            ids.add(int(toks[0]))
    return ids


def is_end_of_generation(llama: Any, token: int) -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_vocab_is_eog(llama._model.vocab, token))


def token_bytes(llama: Any, token: int) -> bytes:
    return bytes(llama.detokenize([token]))


def gpu_offload_supported() -> bool:
    """Whether the installed llama-cpp build can offload layers to a GPU."""
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


class AbortHook:
    """llama.cpp's abort callback bound to ``flag``: ``llama_decode`` returns early when it is set."""

    def __init__(self, llama: Any, flag: EventType) -> None:
        import llama_cpp

        self._llama_cpp = llama_cpp
        self._ctx = llama._ctx.ctx
        self._flag = flag
        self._callback = llama_cpp.ggml_abort_callback(self._check)  # keep a reference

    def _check(self, _data: Any) -> bool:
        return self._flag.is_set()

    def install(self) -> None:
        self._llama_cpp.llama_set_abort_callback(self._ctx, self._callback, None)

    def remove(self) -> None:
        self._llama_cpp.llama_set_abort_callback(self._ctx, self._llama_cpp.ggml_abort_callback(), None)


def common_prefix(cached: Sequence[int], tokens: Sequence[int]) -> int:
    n = 0
    for a, b in zip(cached, tokens, strict=False):
        if a != b:
            break
        n += 1
    return n


class StopScanner:
    """Holds back text that could be the start of a stop string; finds the first stop string."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = tuple(s for s in stops if s)
        self.pending = ""

    def feed(self, piece: str) -> tuple[str, bool]:
        """Text safe to emit now, and whether a stop string was reached."""
        self.pending += piece
        cut = -1
        for s in self.stops:
            i = self.pending.find(s)
            if i >= 0 and (cut < 0 or i < cut):
                cut = i
        if cut >= 0:
            out, self.pending = self.pending[:cut], ""
            return out, True
        hold = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(self.pending)), hold, -1):
                if s.startswith(self.pending[-k:]):
                    hold = k
                    break
        out = self.pending[: len(self.pending) - hold]
        self.pending = self.pending[len(self.pending) - hold :]
        return out, False

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return out


# -- the worker process ---------------------------------------------------------------------------


class _Runner:
    """The model inside the worker process."""

    def __init__(self, conn: connection.Connection, cancel: EventType) -> None:
        self.conn = conn
        self.cancel = cancel
        self.llama: Any = None
        self.abort: AbortHook | None = None
        self.log = LlamaLog()
        self.log.install()

    def handle(self, msg: object) -> bool:
        """Serve one request; False when the process should end."""
        if isinstance(msg, ShutdownRequest):
            self.llama = None
            return False
        if isinstance(msg, LoadRequest):
            self._load(msg)
        elif isinstance(msg, GenerateRequest):
            if self.llama is None:
                self.conn.send(Failed("not_loaded", "No model is loaded."))
            else:
                self._generate(msg)
        elif isinstance(msg, ResetRequest):
            if self.llama is not None:
                self.llama.reset()
            self.conn.send(ResetDone())
        else:
            self.conn.send(Failed("protocol", f"Unknown request {type(msg).__name__}."))
        return True

    def _load(self, req: LoadRequest) -> None:
        t0 = time.perf_counter()
        self.llama = None
        try:
            llama = open_llama(
                req.path,
                n_ctx=req.n_ctx,
                n_threads=req.n_threads,
                n_gpu_layers=req.n_gpu_layers,
                n_batch=req.n_batch,
            )
        except Exception as exc:  # llama-cpp raises ValueError/RuntimeError on bad files
            detail = self.log.recent()
            message = str(exc).split(": /", 1)[0] or type(exc).__name__  # without the path
            self.conn.send(Failed("load", f"{message}: {detail}" if detail else message))
            return
        self.llama = llama
        self.abort = AbortHook(llama, self.cancel)
        self.conn.send(
            Loaded(
                n_ctx=int(llama.n_ctx()),
                n_ctx_train=int(llama._model.n_ctx_train()),
                n_vocab=int(llama.n_vocab()),
                load_ms=(time.perf_counter() - t0) * 1000,
                gpu_offload_supported=gpu_offload_supported(),
            )
        )

    def _generate(self, req: GenerateRequest) -> None:
        llama = self.llama
        tokens = tokenize_segments(llama, req.segments)
        n_ctx = int(llama.n_ctx())
        if len(tokens) + 1 >= n_ctx:
            self.conn.send(Failed("prompt_too_long", f"{len(tokens)} tokens; the context holds {n_ctx}."))
            return
        budget = max(1, min(req.max_tokens, n_ctx - len(tokens)))
        grammar = None
        if req.json_schema is not None:
            try:
                from llama_cpp.llama_grammar import LlamaGrammar

                grammar = LlamaGrammar.from_json_schema(req.json_schema, verbose=False)
            except Exception as exc:
                self.conn.send(Failed("schema", str(exc) or type(exc).__name__))
                return
        n_cached = int(llama.n_tokens)
        cached = common_prefix(llama.input_ids[:n_cached].tolist(), tokens) if n_cached else 0
        if cached == len(tokens):
            cached -= 1  # llama-cpp re-evaluates one token to refresh the logits
        stop_ids = stop_token_ids(llama, req.stop_strings)
        scanner = StopScanner(req.stop_strings)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        parts: list[str] = []
        finish: FinishReason = "length"
        n = 0
        t0 = time.perf_counter()
        t_first = t0
        interval = req.stream_interval_ms / 1000
        batch: list[str] = []
        batch_count = 0
        last_send = t0
        gen = llama.generate(
            tokens,
            top_k=req.top_k,
            top_p=req.top_p,
            min_p=req.min_p,
            temp=req.temperature,
            repeat_penalty=req.repeat_penalty,
            grammar=grammar,
            reset=True,
        )
        # The abort callback runs ~600 times per decode (once per graph node): worth it while a
        # prompt batch takes seconds, measurable overhead (~5-10%) per generated token. So it is on
        # for the prompt only; between generated tokens the flag is checked in the loop below.
        abort = self.abort
        if abort is not None:
            abort.install()
        try:
            for tok in gen:
                if n == 0:
                    t_first = time.perf_counter()
                    if abort is not None:
                        abort.remove()
                        abort = None
                if self.cancel.is_set():
                    finish = "cancelled"
                    break
                if tok in stop_ids or is_end_of_generation(llama, tok):
                    finish = "stop"
                    break
                n += 1
                out, hit = scanner.feed(decoder.decode(token_bytes(llama, tok)))
                parts.append(out)
                batch.append(out)
                batch_count += 1
                now = time.perf_counter()
                if n == 1 or now - last_send >= interval:
                    self.conn.send(Token("".join(batch), batch_count))
                    batch.clear()
                    batch_count = 0
                    last_send = now
                if hit:
                    finish = "stop"
                    break
                if n >= budget:
                    break
        except RuntimeError as exc:  # llama_decode returned 2: aborted by the cancel flag
            if not self.cancel.is_set():
                self.conn.send(Failed("decode", str(exc)))
                return
            finish = "cancelled"
        finally:
            gen.close()
            if abort is not None:
                abort.remove()
        if finish != "stop":
            tail = scanner.flush() + decoder.decode(b"", final=True)
            if tail:
                parts.append(tail)
                batch.append(tail)
        if batch or batch_count:
            self.conn.send(Token("".join(batch), batch_count))
        t_end = time.perf_counter()
        self.conn.send(
            Done(
                text="".join(parts),
                finish_reason=finish,
                prompt_tokens=len(tokens),
                cached_prompt_tokens=max(0, cached),
                completion_tokens=n,
                prompt_ms=((t_first if n else t_end) - t0) * 1000,
                generation_ms=(t_end - t_first) * 1000 if n else 0.0,
            )
        )


def worker_main(conn: connection.Connection, cancel: EventType) -> None:
    """Entry point of the worker process: serve requests until shutdown or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    runner = _Runner(conn, cancel)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            break
        try:
            if not runner.handle(msg):
                break
        except (BrokenPipeError, EOFError, OSError):
            break
    conn.close()


# -- parent side ----------------------------------------------------------------------------------


class WorkerDied(Exception):
    """The worker process ended (internal; the engine turns it into a user-facing error)."""

    def __init__(self, exitcode: int | None) -> None:
        super().__init__(f"worker exited with {exitcode}")
        self.exitcode = exitcode


class WorkerProcess:
    """A spawned worker process, its pipe and its cancel flag."""

    def __init__(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe(duplex=True)
        self._cancel = ctx.Event()
        self._proc: SpawnProcess = ctx.Process(
            target=worker_main, args=(child, self._cancel), name="nexa-llm-worker", daemon=True
        )
        self._proc.start()
        child.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    @property
    def exitcode(self) -> int | None:
        return self._proc.exitcode

    def is_alive(self) -> bool:
        return self._proc.is_alive()

    def request_cancel(self) -> None:
        self._cancel.set()

    def clear_cancel(self) -> None:
        self._cancel.clear()

    def send(self, msg: Request) -> None:
        try:
            self._conn.send(msg)
        except (BrokenPipeError, EOFError, OSError):
            self._proc.join(1.0)
            raise WorkerDied(self._proc.exitcode) from None

    def receive(self, timeout: float) -> Reply | None:
        """The next reply, None after ``timeout`` seconds; raises :class:`WorkerDied`."""
        ready = connection.wait([self._conn, self._proc.sentinel], timeout)
        if not ready:
            return None
        if self._conn in ready or self._conn.poll():
            try:
                msg: Reply = self._conn.recv()
                return msg
            except (EOFError, OSError):
                pass
        self._proc.join(1.0)
        raise WorkerDied(self._proc.exitcode)

    def kill(self) -> None:
        """End the process now (SIGKILL) and reap it."""
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join(5.0)
        self._conn.close()

    def shutdown(self, timeout: float = 3.0) -> None:
        """Ask the process to free the model and exit; kill it if it does not."""
        if self._proc.is_alive():
            try:
                self._conn.send(ShutdownRequest())
            except (BrokenPipeError, EOFError, OSError):
                pass
            self._proc.join(timeout)
        self.kill()


def process_rss(pid: int) -> int | None:
    """Resident memory of a process in bytes (None when it is gone)."""
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except Exception:
        return None


__all__ = [
    "Done",
    "Failed",
    "GenerateRequest",
    "LoadRequest",
    "Loaded",
    "ResetDone",
    "ResetRequest",
    "ShutdownRequest",
    "Token",
    "WorkerDied",
    "WorkerProcess",
]

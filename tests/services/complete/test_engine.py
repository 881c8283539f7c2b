"""``LocalEngine`` with the real SmolLM2 GGUF in a worker process: streaming, grammar, KV reuse,
cancel (prompt and generation, soft and hard), crash recovery, unload and bad files."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from nexa_desktop.services.complete import engine as engine_mod
from nexa_desktop.services.complete.engine import (
    GenerationError,
    LocalEngine,
    ModelLoadError,
    WorkerCrashed,
)
from nexa_desktop.services.complete.gguf_info import ModelFileError
from nexa_desktop.services.complete.protocol import ChatMessage, TextGenerator
from nexa_desktop.services.complete.worker import (
    GenerateRequest,
    LoadRequest,
    ResetRequest,
    ShutdownRequest,
    WorkerProcess,
)
from tests.services.complete.conftest import WriteGguf

SYSTEM = ChatMessage(
    "system", "You are NEXA, an assistant for PG&E electric contractors. Answer in plain English."
)
LONG_ANSWER = [
    SYSTEM,
    ChatMessage("user", "Write a long, detailed safety briefing for a crew replacing a pole."),
]


@pytest.fixture(scope="module")
def engine(small_gguf: Path) -> Iterator[LocalEngine]:
    eng = LocalEngine()
    eng.load(small_gguf, n_ctx=2048, n_threads=2)
    yield eng
    eng.unload()


def _gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def test_is_a_text_generator(engine: LocalEngine) -> None:
    generator: TextGenerator = engine
    assert generator is engine
    model = engine.model
    assert model is not None and model.template.family == "chatml" and model.n_ctx == 2048
    assert model.n_threads == 2


def test_streams_tokens_and_the_pieces_make_the_result(engine: LocalEngine) -> None:
    pieces: list[str] = []
    result = engine.generate(LONG_ANSWER, max_tokens=64, on_token=pieces.append)
    assert len(pieces) >= 3
    assert "".join(pieces) == result.text and result.text.strip()
    assert result.finish_reason in ("stop", "length")
    assert 0 < result.completion_tokens <= 64 and result.prompt_tokens > 20
    assert result.time_to_first_token_ms is not None and result.time_to_first_token_ms > 0
    assert result.tokens_per_second is not None and result.tokens_per_second > 0


def test_schema_constrained_json(engine: LocalEngine) -> None:
    schema = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["complete", "partial", "cancelled"]},
            "crew_size": {"type": "integer", "minimum": 1, "maximum": 9},
            "notes": {"type": "string", "maxLength": 40},
        },
        "required": ["status", "crew_size", "notes"],
        "additionalProperties": False,
    }
    messages = [SYSTEM, ChatMessage("user", "Crew of 4 replaced pole 7 and finished the job. Give the JSON.")]
    result = engine.generate(messages, json_schema=schema, max_tokens=96)
    assert result.finish_reason == "stop", result.text
    data = json.loads(result.text)
    assert set(data) == {"status", "crew_size", "notes"}
    assert data["status"] in ("complete", "partial", "cancelled")
    assert isinstance(data["crew_size"], int) and 1 <= data["crew_size"] <= 9
    assert isinstance(data["notes"], str) and len(data["notes"]) <= 40


def test_system_prompt_kv_is_reused(engine: LocalEngine) -> None:
    engine.reset_cache()
    engine.generate([SYSTEM, ChatMessage("user", "Name one tool.")], max_tokens=4)
    first = engine.last_stats
    engine.generate([SYSTEM, ChatMessage("user", "What does a lineman do?")], max_tokens=4)
    second = engine.last_stats
    assert first is not None and second is not None
    assert first.cached_prompt_tokens == 0
    assert second.cached_prompt_tokens >= 25  # the whole system turn, evaluated once


def test_cancel_during_a_long_prompt(engine: LocalEngine) -> None:
    pid = engine.worker_pid
    text = "The crew checked the pole, the crossarm and the transformer. " * 125  # ~1500 tokens
    t0 = time.monotonic()
    result = engine.generate(
        [SYSTEM, ChatMessage("user", text)], max_tokens=16, should_stop=lambda: time.monotonic() - t0 > 0.05
    )
    elapsed = time.monotonic() - t0
    assert result.finish_reason == "cancelled"
    assert elapsed < 2.0
    assert result.completion_tokens == 0 and result.text == ""
    stats = engine.last_stats
    assert stats is not None and stats.prompt_tokens >= 1400
    assert engine.worker_pid == pid  # stopped inside llama.cpp, no kill needed
    assert (
        engine.generate([SYSTEM, ChatMessage("user", "Say OK.")], max_tokens=4).finish_reason != "cancelled"
    )


def test_cancel_during_generation(engine: LocalEngine) -> None:
    pid = engine.worker_pid
    pieces: list[str] = []
    result = engine.generate(
        LONG_ANSWER, max_tokens=200, on_token=pieces.append, should_stop=lambda: len(pieces) >= 2
    )
    assert result.finish_reason == "cancelled"
    assert result.text == "".join(pieces) and 0 < result.completion_tokens < 200
    assert engine.worker_pid == pid


def test_engine_cancel_method(engine: LocalEngine) -> None:
    def stop_now(_: str) -> None:
        engine.cancel()

    assert engine.generate(LONG_ANSWER, max_tokens=200, on_token=stop_now).finish_reason == "cancelled"


def test_unresponsive_worker_is_killed_and_restarted(engine: LocalEngine) -> None:
    """Hard cancel: a worker that does not acknowledge within 1.5 s is killed."""
    pid = engine.worker_pid
    assert pid is not None
    frozen: list[bool] = []

    def freeze(_: str) -> None:
        if not frozen:
            os.kill(pid, signal.SIGSTOP)
            frozen.append(True)

    t0 = time.monotonic()
    result = engine.generate(LONG_ANSWER, max_tokens=200, on_token=freeze, should_stop=lambda: bool(frozen))
    assert result.finish_reason == "cancelled"
    assert time.monotonic() - t0 < engine.cancel_grace_s + 2.0
    assert _gone(pid)
    again = engine.generate([SYSTEM, ChatMessage("user", "Say OK.")], max_tokens=4)
    assert again.finish_reason in ("stop", "length")
    stats = engine.last_stats
    assert stats is not None and stats.restarted_worker
    assert engine.worker_pid not in (None, pid)


def test_worker_killed_mid_generation_is_reported_then_recovered(engine: LocalEngine) -> None:
    pid = engine.worker_pid
    assert pid is not None

    def kill(_: str) -> None:
        os.kill(pid, signal.SIGKILL)

    with pytest.raises(WorkerCrashed) as caught:
        engine.generate(LONG_ANSWER, max_tokens=200, on_token=kill)
    assert "killed" in str(caught.value) and "try again" in str(caught.value)
    assert _gone(pid)
    result = engine.generate([SYSTEM, ChatMessage("user", "Say OK.")], max_tokens=4)
    assert result.finish_reason in ("stop", "length")
    assert engine.worker_pid not in (None, pid)


def test_on_token_error_propagates_and_engine_stays_usable(engine: LocalEngine) -> None:
    def boom(_: str) -> None:
        raise KeyError("ui went away")

    with pytest.raises(KeyError):
        engine.generate(LONG_ANSWER, max_tokens=50, on_token=boom)
    assert engine.generate([SYSTEM, ChatMessage("user", "Say OK.")], max_tokens=4).text is not None


def test_prompt_too_long(engine: LocalEngine) -> None:
    with pytest.raises(GenerationError, match="too long"):
        engine.generate([ChatMessage("user", "pole " * 3000)], max_tokens=8)


def test_malicious_embedded_template_is_never_compiled(malicious_copy: Path) -> None:
    """Its template is invalid Jinja: llama-cpp-python alone refuses to load this file."""
    with LocalEngine() as eng:
        model = eng.load(malicious_copy, n_ctx=512, n_threads=2)
        assert model.info.has_chat_template and model.template.family == "chatml"
        result = eng.generate([ChatMessage("user", "Say hello.")], max_tokens=8)
    for fragment in ("PWNED", "INJECTED", "cycler"):
        assert fragment not in result.text
    assert not Path("NEXA-PWNED").exists()


def test_unload_ends_the_process(small_gguf: Path) -> None:
    eng = LocalEngine()
    eng.load(small_gguf, n_ctx=512, n_threads=2)
    pid = eng.worker_pid
    assert pid is not None and psutil.Process(pid).memory_info().rss > 50 * 2**20
    eng.unload()
    assert _gone(pid) and eng.worker_pid is None and not eng.is_loaded
    with pytest.raises(ModelLoadError, match="No model is loaded"):
        eng.generate([ChatMessage("user", "hi")])


def test_loading_a_second_model_replaces_the_first(small_gguf: Path) -> None:
    with LocalEngine() as eng:
        eng.load(small_gguf, n_ctx=512, n_threads=2)
        first = eng.worker_pid
        eng.load(small_gguf, n_ctx=1024, n_threads=2)
        assert first is not None and _gone(first)
        assert eng.model is not None and eng.model.n_ctx == 1024


def test_bad_files_give_clear_errors_and_start_nothing(tmp_path: Path, small_gguf: Path) -> None:
    eng = LocalEngine()
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(ModelFileError, match="not a GGUF"):
        eng.load(text)
    cut = tmp_path / "cut.gguf"
    with small_gguf.open("rb") as fh:
        cut.write_bytes(fh.read(30_000_000))
    with pytest.raises(ModelFileError, match="incomplete"):
        eng.load(cut)
    with pytest.raises(ModelFileError, match="not found"):
        eng.load(tmp_path / "missing.gguf")
    assert eng.worker_pid is None and not eng.is_loaded


def test_file_the_runtime_refuses(write_gguf: WriteGguf) -> None:
    """A valid header without weights passes our checks; llama.cpp's refusal becomes a clear error."""
    eng = LocalEngine()
    with pytest.raises(ModelLoadError, match="could not be loaded") as caught:
        eng.load(write_gguf("empty-weights.gguf"), n_ctx=512, n_threads=2)
    assert "error loading model" in str(caught.value)  # llama.cpp's own reason, from its log
    assert eng.worker_pid is None and not eng.is_loaded


def test_too_big_for_memory(small_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_mod, "available_ram_bytes", lambda: 64 * 2**20)
    with pytest.raises(ModelLoadError, match=r"only 64\.0 MB is free"):
        LocalEngine().load(small_gguf, n_ctx=2048)


def test_loader_dying_gives_a_clear_error(small_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Out-of-memory kills during load look like this: the worker vanishes before answering."""

    class DiesAtOnce(WorkerProcess):
        def send(self, msg: LoadRequest | GenerateRequest | ResetRequest | ShutdownRequest) -> None:
            super().send(msg)
            assert self.pid is not None
            os.kill(self.pid, signal.SIGKILL)

    monkeypatch.setattr(engine_mod, "WorkerProcess", DiesAtOnce)
    eng = LocalEngine()
    with pytest.raises(ModelLoadError, match="killed") as caught:
        eng.load(small_gguf, n_ctx=512, n_threads=2)
    assert "too big for this computer's memory" in str(caught.value)
    assert eng.worker_pid is None and not eng.is_loaded


def test_should_stop_error_propagates_and_the_stream_stays_in_step(engine: LocalEngine) -> None:
    calls: list[int] = []

    def broken() -> bool:
        calls.append(1)
        if len(calls) > 3:
            raise ValueError("settings closed")
        return False

    with pytest.raises(ValueError):
        engine.generate(LONG_ANSWER, max_tokens=100, should_stop=broken)
    ask = [SYSTEM, ChatMessage("user", "Name one tool a lineman uses.")]
    first = engine.generate(ask, max_tokens=12)
    second = engine.generate(ask, max_tokens=12)  # greedy: same answer, no stale tokens from before
    assert (second.text, second.completion_tokens) == (first.text, first.completion_tokens)
    assert first.text.strip()


def test_the_chosen_thread_count_is_used_when_loading(small_gguf: Path) -> None:
    with LocalEngine() as eng:
        eng.preferred_threads = 1
        assert eng.load(small_gguf).n_threads == 1
        assert eng.load(small_gguf, n_threads=2).n_threads == 2  # an explicit count still wins

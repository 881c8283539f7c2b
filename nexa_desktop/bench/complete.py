"""``nexa bench complete``: raw llama-cpp-python in this process vs NEXA's worker-process engine.

Same model, threads, context, prompt tokens and sampler (greedy, repeat penalty 1.1) on both sides;
runs alternate raw/ours so machine noise hits both. Reported per side: prompt tok/s, generation
tok/s and time to first token (median and best of ``repeats``) and the our/raw ratios, both sides
called plainly from this thread. Then ours the way the app uses it: ``generate`` on a worker thread
while an asyncio loop here ticks every 5 ms; that loop's lag (p50/p99/max) and the tok/s under it
are reported. For context: one raw run on a thread beside the same loop, and the system-prompt KV
reuse (a second request with the same system prompt). Prints nothing.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nexa_desktop.services.complete.protocol import ChatMessage

TICK_S = 0.005
SYSTEM_PROMPT = (
    "You are NEXA, an assistant for PG&E electric contractors. You draft completion notes for as-built "
    "packages from the job record. Write plain, factual sentences; never invent numbers."
)
_FILLER = (
    "Crew replaced the 45 ft class 3 pole at the corner location, transferred the primary and secondary "
    "conductors, installed a new 25 kVA transformer, reset the service drop and restored power after a "
    "two hour outage. The old pole was topped and removed; guying was replaced with a new down guy and "
    "anchor. Field notes mention a changed anchor location because of a buried gas line. "
)


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def _measure_lag(work: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """Run ``work`` in a thread while an asyncio loop here ticks every 5 ms; return its result and lag."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # re-raised below
            box["error"] = exc

    async def tick() -> list[float]:
        lags: list[float] = []
        thread = threading.Thread(target=target, name="bench-generate")
        thread.start()
        while thread.is_alive():
            start = time.perf_counter()
            await asyncio.sleep(TICK_S)
            lags.append(max(0.0, (time.perf_counter() - start - TICK_S) * 1000))
        thread.join()
        return lags

    lags = asyncio.run(tick())
    if "error" in box:
        raise box["error"]
    return box["result"], {
        "lag_p50_ms": round(_percentile(lags, 50), 2),
        "lag_p99_ms": round(_percentile(lags, 99), 2),
        "lag_max_ms": round(max(lags, default=0.0), 2),
        "ticks": len(lags),
    }


def _user_text(llama: Any, template: Any, target_tokens: int) -> str:
    """A job-description prompt of about ``target_tokens`` tokens with NEXA's template."""
    from nexa_desktop.services.complete.worker import tokenize_segments

    text = "Draft the completion notes for job 35123456 from these field notes:\n"
    words = _FILLER.split()
    i = 0
    while True:
        messages = [ChatMessage("system", SYSTEM_PROMPT), ChatMessage("user", text)]
        if len(tokenize_segments(llama, template.segments(messages))) >= target_tokens:
            return text
        text += words[i % len(words)] + " "
        i += 1


def _raw_run(llama: Any, segments: Any, stops: tuple[str, ...], max_tokens: int) -> dict[str, float]:
    """Plain llama-cpp-python: tokenize, ``Llama.generate`` greedily, detokenize each token."""
    from nexa_desktop.services.complete.worker import is_end_of_generation, stop_token_ids, token_bytes
    from nexa_desktop.services.complete.worker import tokenize_segments as tok

    llama.reset()
    t0 = time.perf_counter()
    tokens = tok(llama, segments)
    stop_ids = stop_token_ids(llama, stops)
    n = 0
    t_first = t_last = t0
    for token in llama.generate(tokens, top_k=40, top_p=0.95, min_p=0.05, temp=0.0, repeat_penalty=1.1):
        now = time.perf_counter()
        if n == 0:
            t_first = now
        if token in stop_ids or is_end_of_generation(llama, token):
            break
        token_bytes(llama, token)
        n += 1
        t_last = now
        if n >= max_tokens:
            break
    ttft = (t_first - t0) * 1000
    return {
        "prompt_tokens": len(tokens),
        "completion_tokens": n,
        "ttft_ms": ttft,
        "prompt_tok_s": len(tokens) / (ttft / 1000),
        "gen_tok_s": (n - 1) / (t_last - t_first) if n > 1 and t_last > t_first else 0.0,
    }


def _summary(
    runs: list[dict[str, float]], key: str, best: Callable[[list[float]], float]
) -> dict[str, float]:
    values = [r[key] for r in runs]
    return {"median": round(statistics.median(values), 2), "best": round(best(values), 2)}


def run_complete_bench(
    model_path: str | os.PathLike[str],
    *,
    threads: int | None = None,
    prompt_tokens: int = 200,
    max_tokens: int = 128,
    n_ctx: int = 2048,
    repeats: int = 3,
    n_gpu_layers: int = 0,
) -> dict[str, Any]:
    """Benchmark raw llama-cpp-python vs :class:`LocalEngine` on the same model; return the figures."""
    import psutil

    from nexa_desktop.services.complete.engine import LocalEngine
    from nexa_desktop.services.complete.gguf_info import read_gguf_info
    from nexa_desktop.services.complete.models import gpu_offload_supported, recommended_threads
    from nexa_desktop.services.complete.templates import template_for_info
    from nexa_desktop.services.complete.worker import open_llama

    path = Path(model_path)
    info = read_gguf_info(path, with_sha256=False)
    template = template_for_info(info)
    n_threads = threads or recommended_threads()
    me = psutil.Process()

    rss0 = me.memory_info().rss
    t = time.perf_counter()
    raw = open_llama(str(path), n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers)
    raw_load_ms = (time.perf_counter() - t) * 1000
    raw_rss = me.memory_info().rss - rss0

    user = _user_text(raw, template, prompt_tokens)
    messages = [ChatMessage("system", SYSTEM_PROMPT), ChatMessage("user", user)]
    segments = template.segments(messages)

    engine = LocalEngine()
    t = time.perf_counter()
    loaded = engine.load(path, n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers)
    ours_load_ms = (time.perf_counter() - t) * 1000
    pid = engine.worker_pid
    worker_rss = psutil.Process(pid).memory_info().rss if pid else 0

    def ours_once(streamed: bool) -> tuple[dict[str, float], dict[str, float] | None]:
        engine.reset_cache()
        if streamed:
            result, lag = _measure_lag(lambda: engine.generate(messages, max_tokens=max_tokens))
        else:
            result, lag = engine.generate(messages, max_tokens=max_tokens), None
        stats = engine.last_stats
        assert stats is not None
        ttft = result.time_to_first_token_ms or 0.0
        run = {
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "ttft_ms": ttft,
            "prompt_tok_s": result.prompt_tokens / (ttft / 1000) if ttft else 0.0,
            "worker_prompt_tok_s": stats.prompt_tokens_per_second or 0.0,
            "gen_tok_s": result.tokens_per_second or 0.0,
        }
        return run, lag

    def raw_once() -> dict[str, float]:
        return _raw_run(raw, segments, template.stop_strings, max_tokens)

    raw_runs: list[dict[str, float]] = []
    our_runs: list[dict[str, float]] = []
    ui_runs: list[dict[str, float]] = []
    ui_lag: list[dict[str, float]] = []
    try:
        # Warm both once (the first decode allocates buffers), then alternate measured runs.
        _raw_run(raw, segments, template.stop_strings, 8)
        engine.reset_cache()
        engine.generate(messages, max_tokens=8)
        for _ in range(repeats):
            raw_runs.append(raw_once())
            our_runs.append(ours_once(streamed=False)[0])
        # The app's way: generate on a thread while the event loop ticks every 5 ms.
        for _ in range(max(1, repeats // 2)):
            run, lag = ours_once(streamed=True)
            ui_runs.append(run)
            assert lag is not None
            ui_lag.append(lag)
        # For context: raw llama-cpp-python on a thread of the UI process, beside the same loop.
        raw_threaded, raw_lag = _measure_lag(raw_once)

        # System-prompt KV reuse: same system prompt, a different question.
        engine.reset_cache()
        cold = engine.generate(messages, max_tokens=4)
        cold_stats = engine.last_stats
        follow = [
            ChatMessage("system", SYSTEM_PROMPT),
            ChatMessage("user", "List the materials used on job 35123456."),
        ]
        engine.generate(messages, max_tokens=4)  # the cache now holds system + long user prompt
        warm = engine.generate(follow, max_tokens=4)
        warm_stats = engine.last_stats
        engine.reset_cache()
        uncached = engine.generate(follow, max_tokens=4)
        uncached_stats = engine.last_stats
    finally:
        engine.unload()
        raw.close()

    raw_gen = statistics.median(r["gen_tok_s"] for r in raw_runs)
    our_gen = statistics.median(r["gen_tok_s"] for r in our_runs)
    raw_ttft = statistics.median(r["ttft_ms"] for r in raw_runs)
    our_ttft = statistics.median(r["ttft_ms"] for r in our_runs)
    lag_p99 = max(x["lag_p99_ms"] for x in ui_lag)
    assert cold_stats is not None and warm_stats is not None and uncached_stats is not None
    return {
        "model": path.name,
        "architecture": info.architecture,
        "quantization": info.quantization,
        "template": template.family,
        "threads": n_threads,
        "n_ctx": n_ctx,
        "n_gpu_layers": loaded.n_gpu_layers,
        "gpu_offload_supported": gpu_offload_supported(),
        "prompt_tokens": raw_runs[0]["prompt_tokens"],
        "max_tokens": max_tokens,
        "repeats": repeats,
        "raw": {
            "load_ms": round(raw_load_ms, 1),
            "rss_delta_mb": round(raw_rss / 2**20, 1),
            "completion_tokens": raw_runs[0]["completion_tokens"],
            "prompt_tok_s": _summary(raw_runs, "prompt_tok_s", max),
            "gen_tok_s": _summary(raw_runs, "gen_tok_s", max),
            "ttft_ms": _summary(raw_runs, "ttft_ms", min),
            "on_ui_thread_pool": {
                "gen_tok_s": round(raw_threaded["gen_tok_s"], 2),
                "lag_p99_ms": raw_lag["lag_p99_ms"],
            },
        },
        "ours": {
            "load_ms": round(ours_load_ms, 1),
            "worker_rss_mb": round(worker_rss / 2**20, 1),
            "completion_tokens": our_runs[0]["completion_tokens"],
            "prompt_tok_s": _summary(our_runs, "prompt_tok_s", max),
            "worker_prompt_tok_s": _summary(our_runs, "worker_prompt_tok_s", max),
            "gen_tok_s": _summary(our_runs, "gen_tok_s", max),
            "ttft_ms": _summary(our_runs, "ttft_ms", min),
            "with_ui_loop": {
                "gen_tok_s": _summary(ui_runs, "gen_tok_s", max),
                "ttft_ms": _summary(ui_runs, "ttft_ms", min),
                "lag_p50_ms": max(x["lag_p50_ms"] for x in ui_lag),
                "lag_p99_ms": lag_p99,
                "lag_max_ms": max(x["lag_max_ms"] for x in ui_lag),
            },
        },
        "ratio_gen_tok_s": round(our_gen / raw_gen, 3) if raw_gen else None,
        "ratio_gen_tok_s_best": round(
            max(r["gen_tok_s"] for r in our_runs) / max(r["gen_tok_s"] for r in raw_runs), 3
        ),
        "ratio_gen_tok_s_with_ui_loop": round(statistics.median(r["gen_tok_s"] for r in ui_runs) / raw_gen, 3)
        if raw_gen
        else None,
        "ratio_prompt_tok_s": round(
            statistics.median(r["prompt_tok_s"] for r in our_runs)
            / statistics.median(r["prompt_tok_s"] for r in raw_runs),
            3,
        ),
        "ttft_overhead_ms": round(our_ttft - raw_ttft, 1),
        "kv_reuse": {
            "system_prompt_tokens_reused": warm_stats.cached_prompt_tokens,
            "follow_up_prompt_tokens": warm_stats.prompt_tokens,
            "follow_up_ttft_ms_cached": round(warm.time_to_first_token_ms or 0.0, 1),
            "follow_up_ttft_ms_uncached": round(uncached.time_to_first_token_ms or 0.0, 1),
            "first_request_ttft_ms": round(cold.time_to_first_token_ms or 0.0, 1),
            "first_request_prompt_tokens": cold_stats.prompt_tokens,
        },
        "targets": {
            "ratio_gen_tok_s>=0.95": bool(raw_gen and our_gen / raw_gen >= 0.95),
            "ttft_overhead_ms<100": our_ttft - raw_ttft < 100,
            "lag_p99_ms<50": lag_p99 < 50,
        },
    }

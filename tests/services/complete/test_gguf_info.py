"""GGUF header validation and metadata: the real SmolLM2 file and crafted bad files."""

from __future__ import annotations

import hashlib
import os
import struct
import time
import tracemalloc
from pathlib import Path

import gguf
import pytest

from nexa_desktop.services.complete.gguf_info import (
    HASH_CACHE_NAME,
    ModelFileError,
    file_sha256,
    read_gguf_info,
)
from tests.services.complete.conftest import WriteGguf, gguf_header, gguf_string, kv_string


def _refused(path: Path, reason: str) -> ModelFileError:
    with pytest.raises(ModelFileError) as caught:
        read_gguf_info(path, with_sha256=False)
    assert caught.value.reason == reason, str(caught.value)
    assert path.name in str(caught.value) or reason == "unreadable"
    return caught.value


# -- the real file ------------------------------------------------------------------------------


def test_reads_the_real_model(small_gguf: Path) -> None:
    info = read_gguf_info(small_gguf, with_sha256=False)
    assert info.version == 3
    assert info.architecture == "llama"
    assert info.quantization == "Q4_1"
    assert info.context_length == 8192
    assert info.block_count == 30
    assert info.embedding_length == 576
    assert (info.head_count, info.head_count_kv) == (9, 3)
    assert info.vocab_size == 49152
    assert info.has_chat_template and info.chat_template_bytes > 100
    assert info.tensor_count == 272
    assert 0 < info.tensor_data_bytes <= info.size_bytes == small_gguf.stat().st_size
    assert 130_000_000 < info.parameter_count < 140_000_000
    assert info.sha256 is None
    # The template text itself is never kept.
    assert not any("chat_template" in k for k in info.metadata)


def test_agrees_with_the_gguf_package_reader(small_gguf: Path) -> None:
    """Our struct walk and ``gguf.GGUFReader`` see the same header, metadata and tensor bytes."""
    info = read_gguf_info(small_gguf, with_sha256=False)
    reader = gguf.GGUFReader(small_gguf)
    fields = reader.fields
    assert fields["general.architecture"].contents() == info.architecture
    assert fields["llama.block_count"].contents() == info.block_count
    assert fields["llama.context_length"].contents() == info.context_length
    assert fields["general.file_type"].contents() == info.file_type
    assert len(fields["tokenizer.ggml.tokens"].data) == info.vocab_size
    assert len(reader.tensors) == info.tensor_count
    assert sum(int(t.n_bytes) for t in reader.tensors) == info.tensor_data_bytes


def test_kv_cache_and_memory_estimate(small_gguf: Path) -> None:
    info = read_gguf_info(small_gguf, with_sha256=False)
    # 2 (K and V) × 30 layers × 2048 slots × 3 KV heads × 64 dims × 2 bytes (f16)
    assert info.kv_cache_bytes(2048) == 2 * 30 * 2048 * 3 * 64 * 2
    cpu = info.estimate_memory(2048)
    assert cpu.vram_bytes == 0
    assert cpu.ram_bytes == cpu.total_bytes > info.tensor_data_bytes + info.kv_cache_bytes(2048)
    assert info.estimate_memory(4096).total_bytes > cpu.total_bytes
    gpu = info.estimate_memory(2048, n_gpu_layers=-1)
    assert gpu.vram_bytes > info.tensor_data_bytes and gpu.ram_bytes < cpu.ram_bytes
    half = info.estimate_memory(2048, n_gpu_layers=15)
    assert 0 < half.vram_bytes < gpu.vram_bytes


def test_sha256_is_streamed_and_cached(tmp_path: Path, data_dir: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"x" * 3_000_000)
    expected = hashlib.sha256(f.read_bytes()).hexdigest()
    assert file_sha256(f) == expected
    cache = data_dir / HASH_CACHE_NAME
    assert expected in cache.read_text()
    # A cached value is used while size and mtime match...
    stat = f.stat()
    cache.write_text(cache.read_text().replace(expected, "0" * 64))
    assert file_sha256(f) == "0" * 64
    # ...and recomputed when the file changes.
    f.write_bytes(b"y" * 3_000_000)
    os.utime(f, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert file_sha256(f) == hashlib.sha256(b"y" * 3_000_000).hexdigest()


def test_read_with_sha256(small_gguf: Path) -> None:
    info = read_gguf_info(small_gguf)
    assert info.sha256 is not None and len(info.sha256) == 64


def test_metadata_only_file_from_gguf_writer(write_gguf: WriteGguf) -> None:
    path = write_gguf(arch="phi3", general__name="Phi-3-mini-4k-instruct")
    info = read_gguf_info(path, with_sha256=False)
    assert (info.architecture, info.name, info.tensor_count) == ("phi3", "Phi-3-mini-4k-instruct", 0)
    assert info.context_length == 512 and not info.has_chat_template


# -- bad files ----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    error = _refused(tmp_path / "nope.gguf", "missing")
    assert "not found" in str(error)


def test_folder_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "dir.gguf").mkdir()
    _refused(tmp_path / "dir.gguf", "unreadable")


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.gguf").write_bytes(b"")
    assert "empty" in str(_refused(tmp_path / "empty.gguf", "empty"))


def test_text_file_is_not_gguf(tmp_path: Path) -> None:
    (tmp_path / "notes.gguf").write_text("These are not model weights.\n" * 10)
    assert "not a GGUF" in str(_refused(tmp_path / "notes.gguf", "not_gguf"))


def test_wrong_magic(tmp_path: Path, small_gguf: Path) -> None:
    head = bytearray(small_gguf.open("rb").read(4096))
    head[:4] = b"GGML"
    (tmp_path / "magic.gguf").write_bytes(bytes(head))
    _refused(tmp_path / "magic.gguf", "not_gguf")


@pytest.mark.parametrize("version", [1, 4, 0xFFFFFFFF])
def test_unsupported_version(tmp_path: Path, version: int) -> None:
    (tmp_path / "v.gguf").write_bytes(gguf_header(version=version) + b"\0" * 64)
    _refused(tmp_path / "v.gguf", "unsupported_version")


@pytest.mark.parametrize(
    ("tensors", "kvs"), [(2**63, 1), (2**64 - 1, 0), (0, 2**62), (100_001, 0), (0, 10_001)]
)
def test_absurd_counts_are_refused_fast_without_allocating(tmp_path: Path, tensors: int, kvs: int) -> None:
    (tmp_path / "absurd.gguf").write_bytes(gguf_header(tensors=tensors, kvs=kvs) + b"\0" * 256)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        error = _refused(tmp_path / "absurd.gguf", "absurd")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 0.5
    assert peak < 1_000_000
    assert "damaged or not a real model" in str(error)


def test_counts_larger_than_the_file_can_hold(tmp_path: Path) -> None:
    (tmp_path / "short.gguf").write_bytes(gguf_header(tensors=5_000, kvs=100) + b"\0" * 64)
    _refused(tmp_path / "short.gguf", "truncated")


def test_absurd_string_length(tmp_path: Path) -> None:
    key = struct.pack("<Q", 2**62) + b"general.architecture"
    (tmp_path / "str.gguf").write_bytes(gguf_header(kvs=1) + key + b"\0" * 64)
    _refused(tmp_path / "str.gguf", "absurd")


def test_absurd_array_length(tmp_path: Path) -> None:
    body = kv_string(b"general.architecture", b"llama")
    body += gguf_string(b"tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2**40)
    (tmp_path / "arr.gguf").write_bytes(gguf_header(kvs=2) + body + b"\0" * 64)
    _refused(tmp_path / "arr.gguf", "absurd")


def test_unknown_value_type_is_corrupt(tmp_path: Path) -> None:
    body = gguf_string(b"general.architecture") + struct.pack("<I", 77) + b"\0" * 16
    (tmp_path / "type.gguf").write_bytes(gguf_header(kvs=1) + body)
    _refused(tmp_path / "type.gguf", "corrupt")


def test_missing_architecture_is_corrupt(tmp_path: Path) -> None:
    (tmp_path / "noarch.gguf").write_bytes(gguf_header(kvs=1) + kv_string(b"general.name", b"x"))
    _refused(tmp_path / "noarch.gguf", "corrupt")


def test_unknown_tensor_type_is_corrupt(tmp_path: Path) -> None:
    tensor = gguf_string(b"w") + struct.pack("<IQIQ", 1, 32, 999, 0)
    body = kv_string(b"general.architecture", b"llama") + tensor
    (tmp_path / "tt.gguf").write_bytes(gguf_header(tensors=1, kvs=1) + body + b"\0" * 256)
    _refused(tmp_path / "tt.gguf", "corrupt")


def test_truncated_header(tmp_path: Path, small_gguf: Path) -> None:
    with small_gguf.open("rb") as fh:
        (tmp_path / "cut.gguf").write_bytes(fh.read(20_000))
    assert "incomplete" in str(_refused(tmp_path / "cut.gguf", "truncated"))


def test_truncated_weights(tmp_path: Path, small_gguf: Path) -> None:
    """Header intact, weights cut short: the classic interrupted download."""
    with small_gguf.open("rb") as fh:
        (tmp_path / "half.gguf").write_bytes(fh.read(small_gguf.stat().st_size // 2))
    error = _refused(tmp_path / "half.gguf", "truncated")
    assert "copy the file again" in str(error)


def test_tensor_past_the_end(tmp_path: Path) -> None:
    tensor = gguf_string(b"w") + struct.pack("<IQIQ", 1, 1024, 0, 0)  # 1024 f32 = 4 KiB
    body = kv_string(b"general.architecture", b"llama") + tensor
    (tmp_path / "past.gguf").write_bytes(gguf_header(tensors=1, kvs=1) + body + b"\0" * 512)
    _refused(tmp_path / "past.gguf", "truncated")

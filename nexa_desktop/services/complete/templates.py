"""NEXA's own prompt templates per model family.

The chat template stored in a GGUF file is Jinja code written by whoever made the file; rendering
it has been an attack vector, so NEXA never does. The family is chosen from the architecture and
the model name, and the prompt is built here from fixed strings.

A prompt is a list of :class:`Segment`. Markup segments hold only the family's control tokens and
are tokenized with special-token parsing; text segments (role names, message content) are tokenized
as plain text, so a document that contains ``<|im_end|>`` cannot end a turn or forge a system
message. The markers are also broken in content as a second line of defence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from nexa_desktop.services.complete.gguf_info import GgufInfo
from nexa_desktop.services.complete.protocol import ChatMessage

Family = Literal["phi3", "chatml", "gemma"]

#: Every control marker of the supported families (broken up when they appear in content).
_MARKERS = (
    "<|im_start|>",
    "<|im_end|>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|end|>",
    "<|endoftext|>",
    "<start_of_turn>",
    "<end_of_turn>",
    "<bos>",
    "<eos>",
    "</s>",
    "<s>",
)
_ZWSP = "\u200b"


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of the prompt; ``markup`` pieces are parsed for special tokens, others never."""

    text: str
    markup: bool = False


def neutralize(content: str) -> str:
    """Break control markers inside user/system content (a zero-width space after ``<``)."""
    if "<" not in content:
        return content
    for marker in _MARKERS:
        if marker in content:
            content = content.replace(marker, marker[0] + _ZWSP + marker[1:])
    return content


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    """One family's turn markup and stop strings."""

    family: Family
    stop_strings: tuple[str, ...]

    def segments(self, messages: Sequence[ChatMessage]) -> list[Segment]:
        """The prompt for ``messages`` followed by the opening of the assistant's turn."""
        if not messages:
            raise ValueError("a prompt needs at least one message")
        if self.family == "phi3":
            return _phi3(messages)
        if self.family == "gemma":
            return _gemma(messages)
        return _chatml(messages)

    def render(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt as text (for previews, logs and tests)."""
        return "".join(s.text for s in self.segments(messages))


def _phi3(messages: Sequence[ChatMessage]) -> list[Segment]:
    out: list[Segment] = []
    for m in messages:
        out += [
            Segment(f"<|{m.role}|>", True),
            Segment("\n" + neutralize(m.content)),
            Segment("<|end|>", True),
        ]
        out.append(Segment("\n"))
    out += [Segment("<|assistant|>", True), Segment("\n")]
    return out


def _chatml(messages: Sequence[ChatMessage]) -> list[Segment]:
    out: list[Segment] = []
    for m in messages:
        out += [
            Segment("<|im_start|>", True),
            Segment(f"{m.role}\n{neutralize(m.content)}"),
            Segment("<|im_end|>", True),
            Segment("\n"),
        ]
    out += [Segment("<|im_start|>", True), Segment("assistant\n")]
    return out


def _gemma(messages: Sequence[ChatMessage]) -> list[Segment]:
    """Gemma has no system role: the system text opens the first user turn."""
    system = "\n\n".join(neutralize(m.content) for m in messages if m.role == "system")
    out: list[Segment] = []
    first_user = True
    for m in messages:
        if m.role == "system":
            continue
        role = "model" if m.role == "assistant" else "user"
        content = neutralize(m.content)
        if role == "user" and first_user and system:
            content = f"{system}\n\n{content}"
        if role == "user":
            first_user = False
        out += [
            Segment("<start_of_turn>", True),
            Segment(f"{role}\n{content}"),
            Segment("<end_of_turn>", True),
            Segment("\n"),
        ]
    if first_user and system:  # only a system message was given
        out += [Segment("<start_of_turn>", True), Segment(f"user\n{system}"), Segment("<end_of_turn>", True)]
        out.append(Segment("\n"))
    out += [Segment("<start_of_turn>", True), Segment("model\n")]
    return out


TEMPLATES: dict[Family, PromptTemplate] = {
    "phi3": PromptTemplate("phi3", ("<|end|>", "<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>")),
    "chatml": PromptTemplate("chatml", ("<|im_end|>", "<|im_start|>", "<|endoftext|>")),
    "gemma": PromptTemplate("gemma", ("<end_of_turn>", "<start_of_turn>", "<eos>")),
}


def family_for(architecture: str | None, name: str | None = None) -> Family:
    """Pick the template family from the GGUF architecture, then the model name."""
    arch = (architecture or "").lower()
    label = (name or "").lower().replace(" ", "-").replace("_", "-")
    if arch.startswith("phi3") or "phi-3" in label or "phi3" in label or "phi-4-mini" in label:
        return "phi3"
    if arch.startswith("gemma") or "gemma" in label:
        return "gemma"
    # qwen2/qwen3, SmolLM2 and other llama-architecture instruct models speak ChatML.
    return "chatml"


def template_for(architecture: str | None, name: str | None = None) -> PromptTemplate:
    """The template for a model family (ChatML when the family is not recognised)."""
    return TEMPLATES[family_for(architecture, name)]


def template_for_info(info: GgufInfo) -> PromptTemplate:
    """The template for a validated GGUF file (uses its architecture, name and file name)."""
    name = " ".join(part for part in (info.name, info.path.name) if part)
    return template_for(info.architecture, name)

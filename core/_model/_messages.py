"""The data that travels between the core and connectors.

These are plain slotted dataclasses rather than pydantic models: they are
created on every model call, and the hot path should not pay for validation
of data the core built itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._sensitivity import Sensitivity

__all__ = [
    "Completion",
    "CompletionRequest",
    "Message",
    "TextCallback",
    "ToolCall",
    "Usage",
]

Role = Literal["system", "user", "assistant", "tool"]
TextCallback = Callable[[str], None]
"""Receives each increment of streamed text."""


@dataclass(slots=True, frozen=True)
class ToolCall:
    """A function call a model asked for.

    Attributes:
        id: The provider's call id, echoed back with the tool result.
        name: The tool (skill) name.
        arguments: The raw JSON arguments string, as the model wrote it.
    """

    id: str
    name: str
    arguments: str


@dataclass(slots=True, frozen=True)
class Message:
    """One chat message.

    Attributes:
        role: ``system``, ``user``, ``assistant`` or ``tool``.
        content: The text.
        tool_calls: Calls an assistant message asked for.
        tool_call_id: For ``tool`` messages, the call this answers.
        name: Optional participant or tool name.
    """

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def system(cls, content: str) -> Message:
        """Build a system message."""
        return cls("system", content)

    @classmethod
    def user(cls, content: str) -> Message:
        """Build a user message."""
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str, tool_calls: Sequence[ToolCall] = ()) -> Message:
        """Build an assistant message."""
        return cls("assistant", content, tuple(tool_calls))

    @classmethod
    def tool(cls, content: str, tool_call_id: str) -> Message:
        """Build a tool-result message."""
        return cls("tool", content, tool_call_id=tool_call_id)


@dataclass(slots=True, frozen=True)
class Usage:
    """Token counts reported by the model (or estimated when it did not say).

    Attributes:
        input_tokens: Prompt tokens.
        output_tokens: Completion tokens.
    """

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)


@dataclass(slots=True)
class CompletionRequest:
    """What a connector is asked to complete.

    Attributes:
        messages: The conversation.
        max_tokens: Upper bound on generated tokens.
        temperature: Sampling temperature; ``None`` leaves the model's default.
        json_schema: When set, the reply must be JSON valid against this schema.
        tools: OpenAI-format tool definitions the model may call.
        stop: Stop sequences.
        on_text: When set, the connector streams and calls this with each increment.
        sensitivity: The sensitivity of the payload (for connectors that log or audit).
        timeout: Seconds the whole call may take; ``None`` uses the connector default.
        metadata: Free-form values for connectors (never sent as content).
    """

    messages: list[Message]
    max_tokens: int | None = None
    temperature: float | None = None
    json_schema: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    stop: list[str] | None = None
    on_text: TextCallback | None = None
    sensitivity: Sensitivity = Sensitivity.GENERAL
    timeout: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def stream(self) -> bool:
        """Whether the caller wants incremental text."""
        return self.on_text is not None


@dataclass(slots=True)
class Completion:
    """A model's answer.

    Attributes:
        text: The generated text (empty when the model only called tools).
        tool_calls: Function calls the model asked for.
        usage: Token counts.
        finish_reason: ``stop``, ``length``, ``tool_calls``, ``content_filter`` ...
        model: The model the provider reports, when it does.
        model_card: The card name that produced this, filled in by the executor.
        latency_s: Wall time of the successful attempt, filled in by the executor.
    """

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = "stop"
    model: str | None = None
    model_card: str | None = None
    latency_s: float = 0.0

    def __str__(self) -> str:
        return self.text

"""Model cards (the catalog's entries) and the connector seam."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._messages import Completion, CompletionRequest
from ._sensitivity import Sensitivity

__all__ = ["Connector", "ModelCard", "PromptProfile", "StreamingConnector", "Track"]


class Track(enum.StrEnum):
    """Where a model runs: at a partner (OpenAI, Azure) or in-house."""

    PARTNER = "partner"
    IN_HOUSE = "in-house"


class PromptProfile(enum.StrEnum):
    """How skills should prompt a model.

    ``standard``: the model follows long, multi-part instructions and writes
    structured replies (JSON, cited bullets) reliably. ``small``: a small model
    (a few hundred million parameters) that does best with one short instruction
    per call, a plain-text reply the skill parses itself, and grammar-constrained
    JSON where the connector supports it; skills attach citations themselves
    instead of asking the model for them.
    """

    STANDARD = "standard"
    SMALL = "small"


@runtime_checkable
class Connector(Protocol):
    """How to talk to one model. One required method.

    Connectors map every failure to a :class:`~dualtrack.ConnectorError` subclass.
    When ``request.on_text`` is set they stream and call it with each increment,
    still returning the assembled :class:`~dualtrack.Completion`.

    Optional promise: a connector whose every call ends by ``request.timeout``
    (raising :class:`~dualtrack.ModelTimeoutError` or ``TimeoutError``), on its own,
    sets ``enforces_timeout = True`` (class or instance attribute). The executor then
    arms no timer of its own for its attempts; without the promise it cuts every
    attempt off at ``request.timeout``.
    """

    async def complete(self, request: CompletionRequest) -> Completion:
        """Complete one request."""
        ...


@runtime_checkable
class StreamingConnector(Connector, Protocol):
    """A connector that can also yield text increments directly (optional)."""

    def stream(self, request: CompletionRequest) -> AsyncIterator[str]:
        """Yield text increments of the reply."""
        ...


class ModelCard(BaseModel):
    """A configured model.

    Attributes:
        name: Unique name in the catalog (``gpt-4o-mini``, ``smollm2``).
        track: ``partner`` or ``in-house``.
        capabilities: Tags the model can serve (``chat``, ``json``, ``code`` ...).
        context_window: Tokens of prompt plus reply the model accepts.
        cost_input: USD per 1M input tokens.
        cost_output: USD per 1M output tokens.
        latency_ms: Typical time to a full short answer, a hint for scoring.
        quality: 0..1 hint of answer quality, for the ``quality`` objective.
        clearance: The highest sensitivity this model may receive.
        connector: A connector name (entry point in ``dualtrack.connectors``) or
            a connector instance.
        settings: Connector settings (``model``, ``base_url``, ``api_key`` ...).
        enabled: Whether the router may choose this model.
        disabled_reason: Why it is disabled, shown in route explanations.
        max_concurrency: Calls in flight at once to this model.
        prompt_profile: How skills should prompt it (``standard`` or ``small``,
            see :class:`PromptProfile`).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True, extra="forbid", defer_build=True)

    name: str = Field(min_length=1)
    track: Track
    capabilities: frozenset[str] = frozenset({"chat"})
    context_window: int = Field(default=8192, gt=0)
    cost_input: float = Field(default=0.0, ge=0)
    cost_output: float = Field(default=0.0, ge=0)
    latency_ms: float = Field(default=1000.0, ge=0)
    quality: float = Field(default=0.5, ge=0, le=1)
    clearance: Sensitivity = Sensitivity.GENERAL
    connector: Any = "openai"
    settings: dict[str, Any] = Field(default_factory=dict, repr=False)
    enabled: bool = True
    disabled_reason: str | None = None
    max_concurrency: int = Field(default=16, gt=0)
    prompt_profile: PromptProfile = PromptProfile.STANDARD

    @field_validator("capabilities", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset({value})
        return value

    @field_validator("clearance", mode="before")
    @classmethod
    def _clearance(cls, value: Any) -> Any:
        if isinstance(value, str):
            return Sensitivity.parse(value)
        return value

    @field_validator("connector")
    @classmethod
    def _connector(cls, value: Any) -> Any:
        if isinstance(value, str) or isinstance(value, Connector):
            return value
        raise ValueError(
            "connector must be a connector name (e.g. 'openai') or an object with "
            "an async complete(request) method"
        )

    @property
    def connector_name(self) -> str:
        """The connector's name, or its class name for an instance."""
        c = self.connector
        return c if isinstance(c, str) else type(c).__name__

    def blended_cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD for a call of the given size."""
        return (input_tokens * self.cost_input + output_tokens * self.cost_output) / 1e6

    def summary(self) -> dict[str, Any]:
        """Plain data for tables and manifests (no settings, no secrets)."""
        return {
            "name": self.name,
            "track": self.track.value,
            "capabilities": sorted(self.capabilities),
            "context_window": self.context_window,
            "cost_input": self.cost_input,
            "cost_output": self.cost_output,
            "latency_ms": self.latency_ms,
            "clearance": self.clearance.value,
            "connector": self.connector_name,
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "prompt_profile": self.prompt_profile.value,
        }

"""OpenTelemetry spans for skill calls and model calls (GenAI semantic conventions).

Only ``opentelemetry-api`` is required, and it is imported on the first span,
not with ``dualtrack``. Without an SDK configured the API hands out no-op spans,
so tracing costs next to nothing until a host installs a tracer provider.

Spans::

    execute_tool {skill}          one per skill call (host calls use host.generate / host.ask)
    └── chat {model}              one per attempt: every retry, fallback and shadow call

``chat`` spans carry ``gen_ai.operation.name``, ``gen_ai.system``,
``gen_ai.request.model``, ``gen_ai.request.max_tokens``, ``gen_ai.usage.*``,
``gen_ai.response.finish_reasons`` and ``error.type``, plus ``dualtrack.*``
attributes for the route. Every text that reaches a span goes through
the orchestrator's :class:`~dualtrack.Redactor`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._model._redact import Redactor

if TYPE_CHECKING:
    from .._model._cards import ModelCard
    from .._model._messages import Completion, CompletionRequest
    from .._routing._decision import RouteDecision

__all__ = ["ChatSpan", "Telemetry", "gen_ai_system"]

_SYSTEMS = {
    "openai": "openai",
    "azure-openai": "azure.ai.openai",
    "azure": "azure.ai.openai",
    "llama-cpp": "llama_cpp",
}


def gen_ai_system(card: ModelCard) -> str:
    """The ``gen_ai.system`` value for a card, from its connector name."""
    name = card.connector_name
    return _SYSTEMS.get(name, name.lower())


class ChatSpan:
    """One ``chat {model}`` span, ended exactly once with :meth:`ok` or :meth:`fail`."""

    __slots__ = ("_ended", "_redactor", "span")

    def __init__(self, span: Any, redactor: Redactor) -> None:
        self.span = span
        self._redactor = redactor
        self._ended = False

    @contextlib.contextmanager
    def current(self) -> Iterator[None]:
        """Make this span current while the connector runs (so its own spans nest under it)."""
        from opentelemetry import trace

        # exceptions are recorded by ok()/fail(), redacted; the raw ones may carry secrets
        with trace.use_span(
            self.span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        ):
            yield

    def ok(self, completion: Completion) -> None:
        """End the span with the response's model, usage and finish reason."""
        if self._ended:
            return
        self._ended = True
        span = self.span
        if span.is_recording():
            attrs: dict[str, Any] = {
                "gen_ai.usage.input_tokens": completion.usage.input_tokens,
                "gen_ai.usage.output_tokens": completion.usage.output_tokens,
                "gen_ai.response.finish_reasons": [completion.finish_reason or "stop"],
            }
            if completion.model:
                attrs["gen_ai.response.model"] = completion.model
            span.set_attributes(attrs)
        span.end()

    def fail(self, error: BaseException) -> None:
        """End the span with ``error.type`` and a redacted status description."""
        if self._ended:
            return
        self._ended = True
        span = self.span
        if span.is_recording():
            from opentelemetry.trace import Status, StatusCode

            span.set_attribute("error.type", type(error).__name__)
            span.set_status(Status(StatusCode.ERROR, self._redactor.text(str(error))[:500]))
        span.end()


class _NullSpan:
    """Stands in for the skill span while no tracer provider is configured."""

    __slots__ = ()

    def is_recording(self) -> bool:
        return False


_NULL = _NullSpan()
_RECHECK_S = 1.0


class Telemetry:
    """Creates dualtrack's spans.

    Args:
        tracer: An OpenTelemetry ``Tracer``; ``None`` asks the global tracer
            provider (a no-op until the host configures an SDK).
    """

    __slots__ = ("_checked_at", "_enabled", "_tracer", "redactor")

    def __init__(self, tracer: Any | None = None, *, redactor: Redactor | None = None) -> None:
        self._tracer = tracer
        self.redactor = redactor if redactor is not None else Redactor()
        self._enabled: bool = tracer is not None
        self._checked_at: float = float("-inf")

    @property
    def tracer(self) -> Any:
        """The tracer (resolved lazily so ``import dualtrack`` stays fast)."""
        if self._tracer is None:
            from opentelemetry import trace

            from .. import __version__

            self._tracer = trace.get_tracer("dualtrack", __version__)
        return self._tracer

    @property
    def enabled(self) -> bool:
        """Whether spans are recorded: a tracer was given, or the host set a provider.

        Until a host installs an SDK the global provider is the API's proxy, and every
        span would be a no-op; skipping them saves tens of microseconds per call. The
        global provider is looked up at most once a second (the lookup reads the
        environment), so a provider set while calls run is seen within a second.
        """
        if self._tracer is not None:
            return True
        now = time.monotonic()
        if now - self._checked_at < _RECHECK_S:
            return self._enabled
        from opentelemetry import trace

        self._checked_at = now
        self._enabled = not isinstance(
            trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider
        )
        return self._enabled

    @contextlib.contextmanager
    def skill_span(self, skill: str, sensitivity: str) -> Iterator[Any]:
        """The parent span of one skill call; records an error type if the call raises."""
        if not self.enabled:
            yield _NULL
            return
        attrs = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": skill,
            "dualtrack.skill": skill,
            "dualtrack.sensitivity": sensitivity,
        }
        with self.tracer.start_as_current_span(
            f"execute_tool {skill}", attributes=attrs, record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                yield span
            except BaseException as exc:
                if span.is_recording():
                    from opentelemetry.trace import Status, StatusCode

                    span.set_attribute("error.type", type(exc).__name__)
                    span.set_status(Status(StatusCode.ERROR, self.redactor.text(str(exc))[:500]))
                raise

    def chat(
        self,
        card: ModelCard,
        request: CompletionRequest,
        decision: RouteDecision | None,
        *,
        attempt: int,
        retry: int,
        shadow: bool = False,
    ) -> ChatSpan | None:
        """Start the span of one attempt to call ``card`` (a child of the current span).

        Returns:
            The span, or ``None`` while no tracer provider is configured.
        """
        if not self.enabled:
            return None
        model = str(card.settings.get("model") or card.name)
        span = self.tracer.start_span(f"chat {model}")
        if span.is_recording():
            system = gen_ai_system(card)
            attrs: dict[str, Any] = {
                "gen_ai.operation.name": "chat",
                "gen_ai.system": system,
                "gen_ai.provider.name": system,
                "gen_ai.request.model": model,
                "dualtrack.model": card.name,
                "dualtrack.route.track": card.track.value,
                "dualtrack.sensitivity": request.sensitivity.value,
                "dualtrack.attempts": attempt,
                "dualtrack.retry": retry,
                "dualtrack.shadow": shadow,
            }
            if request.max_tokens is not None:
                attrs["gen_ai.request.max_tokens"] = request.max_tokens
            if request.temperature is not None:
                attrs["gen_ai.request.temperature"] = request.temperature
            if decision is not None:
                req = decision.requirements
                attrs["dualtrack.skill"] = req.skill or "-"
                attrs["dualtrack.route.chosen"] = decision.chosen or "-"
                attrs["dualtrack.route.rejected_count"] = len(decision.rejections)
                attrs["dualtrack.route.candidates"] = len(decision.candidates)
            span.set_attributes(attrs)
        return ChatSpan(span, self.redactor)

"""Connectors for tests: scripted replies and a function stand-in."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .._model._cards import ModelCard, Track
from .._model._messages import Completion, CompletionRequest, Usage
from .._model._sensitivity import Sensitivity

__all__ = ["FunctionConnector", "ScriptedConnector", "model_card"]

Reply = str | Completion | BaseException | Callable[[CompletionRequest], Any]


def _estimate(request: CompletionRequest, text: str) -> Usage:
    prompt = sum(len(m.content) for m in request.messages)
    return Usage(max(1, prompt // 4), max(1, len(text) // 4))


async def _deliver(request: CompletionRequest, value: Any) -> Completion:
    if inspect.isawaitable(value):
        value = await value
    if isinstance(value, BaseException):
        raise value
    done = value if isinstance(value, Completion) else Completion(str(value))
    if done.usage == Usage():
        done.usage = _estimate(request, done.text)
    if request.on_text is not None and done.text:
        step = max(1, len(done.text) // 4)
        for i in range(0, len(done.text), step):
            request.on_text(done.text[i : i + step])
    return done


class ScriptedConnector:
    """Replies in order: strings, completions, exceptions to raise, or callables.

    Attributes:
        calls: Every request received, in order.

    Args:
        replies: The script. A callable receives the request and returns a reply.
        repeat_last: Keep answering with the last reply once the script is used up.
    """

    def __init__(self, replies: Iterable[Reply] = (), *, repeat_last: bool = False) -> None:
        self.replies: list[Reply] = list(replies)
        self.repeat_last = repeat_last
        self.calls: list[CompletionRequest] = []
        self._next = 0

    async def complete(self, request: CompletionRequest) -> Completion:
        """Answer with the next scripted reply."""
        self.calls.append(request)
        if self._next >= len(self.replies):
            if not (self.repeat_last and self.replies):
                raise AssertionError(
                    f"ScriptedConnector has no reply left for call {len(self.calls)}; "
                    f"it was given {len(self.replies)}. Last prompt: {request.messages[-1].content[:200]!r}"
                )
            reply = self.replies[-1]
        else:
            reply = self.replies[self._next]
            self._next += 1
        value = reply(request) if callable(reply) and not isinstance(reply, BaseException) else reply
        return await _deliver(request, value)

    @property
    def remaining(self) -> int:
        """Replies not used yet."""
        return len(self.replies) - self._next

    def assert_complete(self) -> None:
        """Fail when scripted replies were left unused."""
        if self.remaining:
            raise AssertionError(f"{self.remaining} scripted repl(ies) were never requested")

    @property
    def prompts(self) -> list[str]:
        """The last message of each request (usually the prompt)."""
        return [c.messages[-1].content for c in self.calls]


class FunctionConnector:
    """Answers every request by calling ``fn(request)`` (sync or async).

    Attributes:
        calls: Every request received, in order.
    """

    def __init__(self, fn: Callable[[CompletionRequest], Reply | Awaitable[Reply]]) -> None:
        self.fn = fn
        self.calls: list[CompletionRequest] = []

    async def complete(self, request: CompletionRequest) -> Completion:
        """Answer with ``fn(request)``."""
        self.calls.append(request)
        return await _deliver(request, self.fn(request))


def model_card(connector: Any, name: str = "test-model", **fields: Any) -> ModelCard:
    """A model card for tests: in-house, every common tag, highest clearance.

    Args:
        connector: The connector instance (or name).
        name: The card name.
        **fields: Any :class:`~dualtrack.ModelCard` field to override.

    Returns:
        The card.
    """
    base: dict[str, Any] = {
        "name": name,
        "track": Track.IN_HOUSE,
        "capabilities": frozenset(
            {"chat", "json", "tools", "summarize", "rewrite", "extract", "code", "reasoning", "long-context"}
        ),
        "context_window": 128_000,
        "clearance": Sensitivity.HIGHLY_CONFIDENTIAL,
        "connector": connector,
    }
    base.update(fields)
    return ModelCard(**base)

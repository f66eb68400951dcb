"""The executor: try the router's candidates in order, with retries and breakers.

Only models in ``decision.candidates`` are ever called: a model the hard
constraints rejected is never tried on any path (retry or fallback), and a
last clearance check guards every single attempt.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ._cards import Connector, ModelCard
from ._circuit import CircuitBreaker
from ._decision import RouteDecision
from ._discovery import create_connector
from ._errors import (
    AllAttemptsFailedError,
    AuthenticationError,
    ConnectorError,
    ContextLengthError,
    DualtrackError,
    ModelTimeoutError,
    UserError,
)
from ._messages import Completion, CompletionRequest

__all__ = ["Attempt", "Executor", "RetryPolicy"]


class RetryPolicy(BaseModel):
    """How hard to try each model.

    Attributes:
        max_retries: Retries per model after the first attempt, for retryable errors.
        base_delay_s: First backoff delay; doubles per retry, with full jitter.
        max_delay_s: Cap on one backoff (and on a server's ``Retry-After``).
        attempt_timeout_s: Timeout of one attempt when the request sets none.
        deadline_s: Overall deadline of one model call across all attempts.
        breaker_threshold: Failures within ``breaker_window_s`` that open a circuit.
        breaker_window_s: The breaker's sliding window.
        breaker_cooldown_s: How long a circuit stays open before a probe.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_retries: int = Field(default=2, ge=0)
    base_delay_s: float = Field(default=0.5, ge=0)
    max_delay_s: float = Field(default=20.0, ge=0)
    attempt_timeout_s: float = Field(default=120.0, gt=0)
    deadline_s: float = Field(default=300.0, gt=0)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_window_s: float = Field(default=60.0, gt=0)
    breaker_cooldown_s: float = Field(default=30.0, ge=0)


@dataclass(slots=True, frozen=True)
class Attempt:
    """One try of one model.

    Attributes:
        model: The card name.
        ok: Whether it produced the completion.
        error: The error type and message when it failed.
        duration_s: Wall time.
        retry: 0 for the first try of this model, then 1, 2, ...
    """

    model: str
    ok: bool
    error: str | None
    duration_s: float
    retry: int = 0

    def describe(self) -> str:
        """A one-line account, e.g. ``gpt-4o: RateLimitError: slow down (0.12 s)``."""
        what = "ok" if self.ok else (self.error or "failed")
        again = f" retry {self.retry}" if self.retry else ""
        return f"{self.model}{again}: {what} ({self.duration_s:.2f} s)"


Sleep = Callable[[float], Awaitable[Any]]


class Executor:
    """Runs model calls for the orchestrator.

    Args:
        cards: The catalog, by name.
        retry: Retry, deadline and breaker settings.
        sleep: The sleep function (injectable so tests need not wait).
        clock: Monotonic clock for the breakers.
    """

    def __init__(
        self,
        cards: Mapping[str, ModelCard],
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cards = cards
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._connectors: dict[str, Connector] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}
        self.breakers: dict[str, CircuitBreaker] = {}
        self._rng = random.Random(0x5EED)

    def breaker(self, model: str) -> CircuitBreaker:
        """The circuit breaker of ``model`` (created on first use)."""
        b = self.breakers.get(model)
        if b is None:
            r = self.retry
            b = CircuitBreaker(r.breaker_threshold, r.breaker_window_s, r.breaker_cooldown_s, self._clock)
            self.breakers[model] = b
        return b

    def unavailable(self) -> dict[str, str]:
        """Models whose circuit is open now, with the reason (for the router)."""
        out: dict[str, str] = {}
        for name, b in self.breakers.items():
            reason = b.unavailable_reason()
            if reason:
                out[name] = reason
        return out

    def connector(self, model: str) -> Connector:
        """The connector of ``model`` (built on first use, then shared)."""
        conn = self._connectors.get(model)
        if conn is None:
            conn = create_connector(self.cards[model])
            self._connectors[model] = conn
        return conn

    async def aclose(self) -> None:
        """Close connectors that hold resources (HTTP pools, model instances)."""
        for conn in self._connectors.values():
            close = getattr(conn, "aclose", None)
            if close is not None:
                await close()
        self._connectors.clear()

    async def run(
        self,
        decision: RouteDecision,
        request: CompletionRequest,
        attempts: list[Attempt],
        on_success: Callable[[ModelCard, Completion], None] | None = None,
    ) -> Completion:
        """Try the decision's candidates in order until one answers.

        Args:
            decision: The router's decision for this call.
            request: The request to send.
            attempts: Receives every attempt made, in order.
            on_success: Called with the card and completion of the winning attempt.

        Returns:
            The completion, with ``model_card`` and ``latency_s`` filled in.

        Raises:
            AllAttemptsFailedError: When every candidate failed.
        """
        deadline = self._clock() + self.retry.deadline_s
        too_small: int | None = None
        for cand in decision.candidates:
            card = self.cards[cand.model]
            if card.clearance < request.sensitivity:  # defence in depth; the router filtered
                raise UserError(f"refusing to send {request.sensitivity} data to {card.name}")
            if too_small is not None and card.context_window <= too_small:
                attempts.append(Attempt(card.name, False, "skipped: window too small", 0.0))
                continue
            try:
                completion = await self._try_model(card, request, attempts, deadline)
            except ContextLengthError:
                too_small = card.context_window
                continue
            except (ConnectorError, _Skip):
                continue
            if on_success is not None:
                on_success(card, completion)
            return completion
        raise AllAttemptsFailedError(attempts)

    async def _try_model(
        self, card: ModelCard, request: CompletionRequest, attempts: list[Attempt], deadline: float
    ) -> Completion:
        breaker = self.breaker(card.name)
        limit = self._limits.get(card.name)
        if limit is None:
            limit = self._limits[card.name] = asyncio.Semaphore(card.max_concurrency)
        try:
            conn = self.connector(card.name)
        except DualtrackError as exc:
            attempts.append(Attempt(card.name, False, f"{type(exc).__name__}: {exc}", 0.0))
            raise _Skip from exc
        retry = 0
        while True:
            if not breaker.allow():
                attempts.append(Attempt(card.name, False, "circuit open", 0.0, retry))
                raise _Skip
            remaining = deadline - self._clock()
            timeout = min(request.timeout or self.retry.attempt_timeout_s, remaining)
            start = time.perf_counter()
            try:
                if remaining <= 0:
                    raise ModelTimeoutError("overall deadline passed", model=card.name)
                async with limit:
                    completion = await asyncio.wait_for(conn.complete(request), timeout)
            except (TimeoutError, ConnectorError) as exc:
                err = (
                    exc
                    if isinstance(exc, ConnectorError)
                    else ModelTimeoutError(f"no answer within {timeout:.1f}s", model=card.name)
                )
                err.model = card.name
                elapsed = time.perf_counter() - start
                attempts.append(Attempt(card.name, False, f"{type(err).__name__}: {err}", elapsed, retry))
                if isinstance(err, ContextLengthError):
                    breaker.release()
                    raise err from None
                breaker.record_failure()
                if (
                    isinstance(err, AuthenticationError)
                    or not err.retryable
                    or retry >= self.retry.max_retries
                ):
                    raise err from None
                delay = self._backoff(retry, getattr(err, "retry_after", None))
                if self._clock() + delay >= deadline:
                    raise err from None
                await self._sleep(delay)
                retry += 1
                continue
            except BaseException:
                breaker.release()
                raise
            breaker.record_success()
            completion.model_card = card.name
            completion.latency_s = time.perf_counter() - start
            attempts.append(Attempt(card.name, True, None, completion.latency_s, retry))
            return completion

    def _backoff(self, retry: int, retry_after: float | None) -> float:
        cap = self.retry.max_delay_s
        if retry_after is not None:
            return min(max(retry_after, 0.0), cap)
        return self._rng.uniform(0, min(cap, self.retry.base_delay_s * (2**retry)))


class _Skip(Exception):
    """Internal: move on to the next candidate."""

"""The executor: try the router's candidates in order, with retries, breakers and deadlines.

Rules, in the order they are applied to each candidate:

1. **Data boundary.** A candidate whose clearance is below the payload's
   sensitivity (the higher of the request's and the decision's) is never called,
   whatever path led to it; only models in ``decision.candidates`` are considered.
2. **Deadline.** One deadline covers the whole skill call: every attempt, backoff
   and fallback. When it passes, no new attempt starts.
3. **Circuit breaker.** A model whose circuit is open is skipped (fallback).
4. **Gate.** An optional admission check (budgets) may refuse a model just
   before the call, atomically with reserving what the call may spend.
5. **Retries.** Retryable errors (rate limits, 5xx, timeouts, malformed replies)
   are retried with exponential backoff and full jitter, waiting at least the
   server's ``Retry-After``; then the next candidate is tried. Other errors of
   one model (rejected credentials, a 404 deployment, a 400 its API dislikes)
   move straight to the next candidate; a context-length error moves to the
   next candidate with a larger window. A content-filter refusal is raised as
   it is: sending the same content to another model to get past a filter is
   not a fallback.
6. **Streaming.** Once any text reached the host's ``on_text``, the call is
   neither retried nor moved to another model (the host would see text twice);
   the error is raised with a note. Text a stale attempt emits after it ended is
   dropped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from ._cards import Connector, ModelCard
from ._circuit import CircuitBreaker
from ._decision import RouteDecision
from ._discovery import create_connector
from ._errors import (
    AllAttemptsFailedError,
    ConnectorError,
    ContentFilterError,
    ContextLengthError,
    DualtrackError,
    ModelTimeoutError,
)
from ._messages import Completion, CompletionRequest, TextCallback
from ._redact import redact
from ._retry import Attempt, RetryPolicy, backoff
from ._sensitivity import Sensitivity
from ._telemetry import Telemetry

__all__ = ["Attempt", "Executor", "Gate", "RetryPolicy"]

_log = logging.getLogger("dualtrack")


Sleep = Callable[[float], Awaitable[Any]]


class Gate(Protocol):
    """An admission check run just before each attempt (budgets implement it)."""

    def enter(self, card: ModelCard) -> str | None:
        """Reserve for a call to ``card``; return a reason to skip it instead."""
        ...

    def exit(self, card: ModelCard, completion: Completion | None) -> None:
        """Settle the reservation: with the completion's real usage, or ``None`` on failure."""
        ...


class Executor:
    """Runs model calls for the orchestrator.

    Attributes:
        breakers: The circuit breaker of each model that was called.
        clock: Monotonic clock for deadlines and breakers (replace it in tests).
        sleep: The backoff sleep (replace it in tests so they need not wait).
        rng: Source of backoff jitter.

    Args:
        cards: The catalog, by name.
        retry: Retry, deadline and breaker settings.
        sleep: The sleep function.
        clock: Monotonic clock.
        telemetry: Span factory; a no-op tracer unless the host configured one.
    """

    def __init__(
        self,
        cards: Mapping[str, ModelCard],
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.cards = cards
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.telemetry = telemetry or Telemetry()
        self.rng = random.Random(0x5EED)
        self.breakers: dict[str, CircuitBreaker] = {}
        self._connectors: dict[str, Connector] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._background: set[asyncio.Task[Any]] = set()

    # -- shared state -------------------------------------------------------------

    def now(self) -> float:
        """The executor's clock (what deadlines are measured against)."""
        return self.clock()

    def breaker(self, model: str) -> CircuitBreaker:
        """The circuit breaker of ``model`` (created on first use)."""
        b = self.breakers.get(model)
        if b is None:
            r = self.retry
            b = CircuitBreaker(
                r.breaker_threshold,
                r.breaker_window_s,
                r.breaker_cooldown_s,
                self.now,
                r.breaker_failure_ratio,
            )
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
        """The connector of ``model`` (built on first use, then shared by every call)."""
        conn = self._connectors.get(model)
        if conn is None:
            conn = create_connector(self.cards[model])
            self._connectors[model] = conn
        return conn

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run ``coro`` in the background until done or :meth:`aclose` (shadow calls)."""
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def drain(self) -> None:
        """Wait for background work (shadow calls) to finish."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel background work and close connectors that hold resources (HTTP pools, models)."""
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        connectors, self._connectors = list(self._connectors.values()), {}
        self._limits.clear()  # semaphores bind to the loop that used them
        for conn in connectors:
            close = getattr(conn, "aclose", None)
            if close is not None:
                await close()

    # -- running ------------------------------------------------------------------

    async def run(
        self,
        decision: RouteDecision,
        request: CompletionRequest,
        attempts: list[Attempt],
        on_success: Callable[[ModelCard, Completion], None] | None = None,
        *,
        deadline: float | None = None,
        gate: Gate | None = None,
    ) -> Completion:
        """Try the decision's candidates in order until one answers.

        Args:
            decision: The router's decision for this call.
            request: The request to send (not modified; each attempt gets a copy).
            attempts: Receives every attempt made, in order.
            on_success: Called with the card and completion of the winning attempt.
            deadline: When the whole skill call must end, on :attr:`clock`;
                ``None`` allows ``retry.deadline_s`` from now.
            gate: Admission check before each attempt (budgets).

        Returns:
            The completion, with ``model_card`` and ``latency_s`` filled in.

        Raises:
            AllAttemptsFailedError: When every candidate failed or was skipped.
            ConnectorError: A content-filter refusal or client error (no model
                would do better), or any failure after text was streamed.
        """
        level = max(request.sensitivity, decision.requirements.sensitivity)
        if deadline is None:
            deadline = self.clock() + self.retry.deadline_s
        stream = _Stream(request.on_text) if request.on_text is not None else None
        too_small: int | None = None
        last: BaseException | None = None
        for cand in decision.candidates:
            card = self.cards.get(cand.model)
            if card is None or not card.enabled or card.clearance < level:
                why, kind = ("not in the catalog" if card is None else "disabled"), "Rejected"
                if card is not None and card.clearance < level:
                    why, kind = f"clearance {card.clearance.value} < {level.value}", "Clearance"
                    _log.error("refused to send %s data to %s (%s)", level.value, card.name, why)
                attempts.append(Attempt(cand.model, False, f"refused: {why}", 0.0, 0, kind))
                continue
            if too_small is not None and card.context_window <= too_small:
                attempts.append(
                    Attempt(
                        card.name,
                        False,
                        f"skipped: window {card.context_window} too small",
                        0.0,
                        0,
                        "WindowTooSmall",
                    )
                )
                continue
            try:
                completion = await self._try_model(
                    card, request, level, decision, attempts, deadline, stream, gate
                )
            except ContextLengthError as exc:
                too_small = max(too_small or 0, card.context_window)
                last = exc
                continue
            except _Abort as abort:
                raise abort.error from None
            except _Fallback as fb:
                last = fb.__cause__ or last
                if fb.stop:
                    break
                continue
            if on_success is not None:
                on_success(card, completion)
            return completion
        raise AllAttemptsFailedError(attempts) from last

    async def _try_model(
        self,
        card: ModelCard,
        request: CompletionRequest,
        level: Sensitivity,
        decision: RouteDecision | None,
        attempts: list[Attempt],
        deadline: float,
        stream: _Stream | None,
        gate: Gate | None,
        *,
        max_retries: int | None = None,
        shadow: bool = False,
    ) -> Completion:
        if card.clearance < level:  # the last line of defence, on every path
            attempts.append(Attempt(card.name, False, "refused: clearance", 0.0, 0, "Clearance"))
            raise _Fallback()
        limit = self._limits.get(card.name)
        if limit is None:
            limit = self._limits[card.name] = asyncio.Semaphore(card.max_concurrency)
        try:
            conn = self.connector(card.name)
        except DualtrackError as exc:
            msg = redact(f"{type(exc).__name__}: {exc}")
            attempts.append(Attempt(card.name, False, msg, 0.0, 0, "ConnectorUnavailable"))
            raise _Fallback() from exc
        retries = self.retry.max_retries if max_retries is None else max_retries
        retry = 0
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:
                attempts.append(
                    Attempt(card.name, False, "skipped: skill call deadline passed", 0.0, retry, "Deadline")
                )
                raise _Fallback(stop=True)
            if limit.locked():  # queueing for a slot is not the model's fault: only the deadline bounds it
                try:
                    await asyncio.wait_for(limit.acquire(), remaining)
                except TimeoutError:
                    why = (
                        f"skipped: no free slot (max_concurrency={card.max_concurrency}) before the deadline"
                    )
                    attempts.append(Attempt(card.name, False, why, remaining, retry, "Deadline"))
                    raise _Fallback(stop=True) from None
            else:
                await limit.acquire()
            try:
                outcome = await self._attempt(
                    card,
                    conn,
                    request,
                    level,
                    decision,
                    attempts,
                    deadline,
                    stream,
                    gate,
                    retry,
                    retries,
                    shadow,
                )
            finally:
                limit.release()
            if isinstance(outcome, Completion):
                return outcome
            await self.sleep(outcome)
            retry += 1

    async def _attempt(
        self,
        card: ModelCard,
        conn: Connector,
        request: CompletionRequest,
        level: Sensitivity,
        decision: RouteDecision | None,
        attempts: list[Attempt],
        deadline: float,
        stream: _Stream | None,
        gate: Gate | None,
        retry: int,
        retries: int,
        shadow: bool,
    ) -> Completion | float:
        """One call; returns the completion or the backoff before the next retry."""
        breaker = self.breaker(card.name)
        permit = breaker.acquire()
        if permit is None:
            reason = breaker.unavailable_reason() or "circuit open"
            attempts.append(Attempt(card.name, False, f"skipped: {reason}", 0.0, retry, "CircuitOpen"))
            raise _Fallback()
        if gate is not None:
            refusal = gate.enter(card)
            if refusal:
                breaker.release(permit)
                attempts.append(Attempt(card.name, False, f"skipped: {refusal}", 0.0, retry, "Budget"))
                raise _Fallback()
        timeout = max(min(request.timeout or self.retry.attempt_timeout_s, deadline - self.clock()), 0.001)
        call = dataclasses.replace(
            request, sensitivity=level, timeout=timeout, on_text=stream.attempt() if stream else None
        )
        span = self.telemetry.chat(
            card, call, decision, attempt=len(attempts) + 1, retry=retry, shadow=shadow
        )
        start = time.perf_counter()
        try:
            with span.current():
                async with asyncio.timeout(timeout):
                    completion = await conn.complete(call)
        except (TimeoutError, ConnectorError) as exc:
            err = _as_connector_error(exc, card, timeout)
            elapsed = time.perf_counter() - start
            if stream is not None:
                stream.end()
            if gate is not None:
                gate.exit(card, None)
            span.fail(err)
            kind = type(err).__name__
            if isinstance(err, ContextLengthError | ContentFilterError):
                breaker.release(permit)
            else:
                opened = breaker.opened_count
                breaker.record_failure(permit, kind)
                if breaker.opened_count > opened:
                    _log.warning(
                        "circuit opened for %s after %s; traffic moves to other models", card.name, kind
                    )
            attempts.append(Attempt(card.name, False, redact(f"{kind}: {err}"), elapsed, retry, kind))
            if stream is not None and stream.chars:
                _note(err, f"after {stream.chars} characters were streamed; not retried so no text repeats")
                raise _Abort(err) from None
            if isinstance(err, ContextLengthError | ContentFilterError):
                raise err from None
            delay = self._backoff(retry, getattr(err, "retry_after", None))
            if not err.retryable or retry >= retries or delay is None:
                raise _Fallback() from err
            if self.clock() + delay >= deadline:
                raise _Fallback() from err
            _log.debug("retrying %s in %.2fs after %s", card.name, delay, kind)
            return delay
        except BaseException as exc:  # cancelled, or a connector bug: no verdict on health
            if stream is not None:
                stream.end()
            if gate is not None:
                gate.exit(card, None)
            breaker.release(permit)
            span.fail(exc)
            raise
        if stream is not None:
            stream.end()
        breaker.record_success(permit)
        if permit == "probe":
            _log.warning("circuit closed for %s: the probe call succeeded", card.name)
        completion.model_card = card.name
        completion.latency_s = time.perf_counter() - start
        if gate is not None:
            gate.exit(card, completion)
        span.ok(completion)
        attempts.append(Attempt(card.name, True, None, completion.latency_s, retry))
        return completion

    async def call_once(
        self,
        card: ModelCard,
        request: CompletionRequest,
        decision: RouteDecision | None,
        deadline: float,
        *,
        gate: Gate | None = None,
    ) -> tuple[Completion | None, list[Attempt]]:
        """One attempt without retries or streaming (shadow calls); never raises a connector error.

        The clearance check, breaker, gate and telemetry apply exactly as on the main path.
        """
        attempts: list[Attempt] = []
        quiet = dataclasses.replace(request, on_text=None)
        level = request.sensitivity
        if decision is not None:
            level = max(level, decision.requirements.sensitivity)
        try:
            done = await self._try_model(
                card, quiet, level, decision, attempts, deadline, None, gate, max_retries=0, shadow=True
            )
        except (ConnectorError, _Fallback, _Abort):
            return None, attempts
        return done, attempts

    def _backoff(self, retry: int, retry_after: float | None) -> float | None:
        return backoff(self.retry, self.rng, retry, retry_after)


class _Stream:
    """Forwards streamed text to the host, counting it, and mutes attempts that ended."""

    __slots__ = ("_live", "chars", "sink")

    def __init__(self, sink: TextCallback) -> None:
        self.sink = sink
        self.chars = 0
        self._live = 0

    def attempt(self) -> TextCallback:
        self._live += 1
        token = self._live

        def on_text(chunk: str) -> None:
            if token == self._live and chunk:
                self.chars += len(chunk)
                self.sink(chunk)

        return on_text

    def end(self) -> None:
        self._live += 1


class _Abort(Exception):
    """Internal: raise ``error`` to the caller without trying anything else."""

    def __init__(self, error: ConnectorError) -> None:
        super().__init__()
        self.error = error


class _Fallback(Exception):
    """Internal: give up on this model; ``stop`` gives up on the whole call."""

    def __init__(self, *, stop: bool = False) -> None:
        super().__init__()
        self.stop = stop


def _as_connector_error(exc: BaseException, card: ModelCard, timeout: float) -> ConnectorError:
    err = exc if isinstance(exc, ConnectorError) else ModelTimeoutError(f"no answer within {timeout:.1f}s")
    err.model = card.name
    if err.args and isinstance(err.args[0], str):
        err.args = (redact(err.args[0]), *err.args[1:])
    if err.body:
        err.body = redact(err.body)
    return err


def _note(err: ConnectorError, note: str) -> None:
    first = err.args[0] if err.args else ""
    err.args = (f"{first} ({note})", *err.args[1:])

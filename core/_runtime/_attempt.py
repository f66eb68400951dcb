"""Calling one candidate model: its concurrency slot, its retries and each single attempt.

The executor (:mod:`dualtrack._runtime._execution`) walks the router's candidates and
applies rules 1 and 2 (data boundary, deadline). Each candidate is called here,
where both are enforced again: a model below the payload's clearance is refused
(the last line of defence, on every path, shadow calls included), and no
attempt starts, or waits for a concurrency slot, after the deadline. Then, in
order, for each attempt:

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
import time
from typing import TYPE_CHECKING, Protocol

from .._errors import (
    ConnectorError,
    ContentFilterError,
    ContextLengthError,
    DualtrackError,
    ModelTimeoutError,
)
from .._model._cards import Connector, ModelCard
from .._model._messages import Completion, CompletionRequest, TextCallback
from .._model._redact import redact
from .._model._sensitivity import Sensitivity
from ._retry import Attempt

if TYPE_CHECKING:
    from .._routing._decision import RouteDecision
    from ._execution import Executor

__all__ = ["Abort", "Fallback", "Gate", "Stream", "try_model"]

_log = logging.getLogger("dualtrack")


class Gate(Protocol):
    """An admission check run just before each attempt (budgets implement it)."""

    def enter(self, card: ModelCard) -> str | None:
        """Reserve for a call to ``card``; return a reason to skip it instead."""
        ...

    def exit(self, card: ModelCard, completion: Completion | None) -> None:
        """Settle the reservation: with the completion's real usage, or ``None`` on failure."""
        ...


class Stream:
    """Forwards streamed text to the host, counting it, and mutes attempts that ended.

    Attributes:
        sink: The host's ``on_text``.
        chars: Characters forwarded so far, over every attempt.
    """

    __slots__ = ("_live", "chars", "sink")

    def __init__(self, sink: TextCallback) -> None:
        self.sink = sink
        self.chars = 0
        self._live = 0

    def attempt(self) -> TextCallback:
        """The ``on_text`` of a new attempt; it goes quiet when :meth:`end` is called."""
        self._live += 1
        token = self._live

        def on_text(chunk: str) -> None:
            if token == self._live and chunk:
                self.chars += len(chunk)
                self.sink(chunk)

        return on_text

    def end(self) -> None:
        """Mute the current attempt (it ended, whether it answered or not)."""
        self._live += 1


class Abort(Exception):
    """Internal: raise ``error`` to the caller without trying anything else."""

    def __init__(self, error: ConnectorError) -> None:
        super().__init__()
        self.error = error


class Fallback(Exception):
    """Internal: give up on this model; ``stop`` gives up on the whole call."""

    def __init__(self, *, stop: bool = False) -> None:
        super().__init__()
        self.stop = stop


async def try_model(
    ex: Executor,
    card: ModelCard,
    request: CompletionRequest,
    level: Sensitivity,
    decision: RouteDecision | None,
    attempts: list[Attempt],
    deadline: float,
    stream: Stream | None,
    gate: Gate | None,
    *,
    max_retries: int | None = None,
    shadow: bool = False,
) -> Completion:
    """Call one model, retrying it while the rules allow (see the module docstring).

    Args:
        ex: The executor whose breakers, connectors, slots, clock and settings apply.
        card: The model.
        request: The caller's request (each attempt gets a copy).
        level: The payload's sensitivity.
        decision: The router's decision (for telemetry), if any.
        attempts: Receives every attempt made, in order.
        deadline: When the whole skill call must end, on ``ex.clock``.
        stream: The host's streaming guard, or ``None`` when not streaming.
        gate: Admission check before each attempt (budgets).
        max_retries: Overrides ``ex.retry.max_retries``.
        shadow: Whether this is a shadow call (for telemetry).

    Returns:
        The completion, with ``model_card`` and ``latency_s`` filled in.

    Raises:
        Fallback: Try the next candidate (or, with ``stop``, none).
        Abort: Raise its error to the caller as it is.
        ContextLengthError: The request does not fit this model's window.
        ContentFilterError: The provider refused the content.
    """
    if card.clearance < level:  # the last line of defence, on every path
        attempts.append(Attempt(card.name, False, "refused: clearance", 0.0, 0, "Clearance"))
        raise Fallback()
    limit = ex.slot(card)
    try:
        conn = ex.connector(card.name)
    except DualtrackError as exc:
        msg = redact(f"{type(exc).__name__}: {exc}")
        attempts.append(Attempt(card.name, False, msg, 0.0, 0, "ConnectorUnavailable"))
        raise Fallback() from exc
    retries = ex.retry.max_retries if max_retries is None else max_retries
    retry = 0
    while True:
        remaining = deadline - ex.clock()
        if remaining <= 0:
            attempts.append(
                Attempt(card.name, False, "skipped: skill call deadline passed", 0.0, retry, "Deadline")
            )
            raise Fallback(stop=True)
        if limit.locked():  # queueing for a slot is not the model's fault: only the deadline bounds it
            try:
                await asyncio.wait_for(limit.acquire(), remaining)
            except TimeoutError:
                why = f"skipped: no free slot (max_concurrency={card.max_concurrency}) before the deadline"
                attempts.append(Attempt(card.name, False, why, remaining, retry, "Deadline"))
                raise Fallback(stop=True) from None
        else:
            await limit.acquire()
        try:
            outcome = await _attempt(
                ex,
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
        await ex.sleep(outcome)
        retry += 1


async def _attempt(
    ex: Executor,
    card: ModelCard,
    conn: Connector,
    request: CompletionRequest,
    level: Sensitivity,
    decision: RouteDecision | None,
    attempts: list[Attempt],
    deadline: float,
    stream: Stream | None,
    gate: Gate | None,
    retry: int,
    retries: int,
    shadow: bool,
) -> Completion | float:
    """One call; returns the completion or the backoff before the next retry."""
    breaker = ex.breaker(card.name)
    permit = breaker.acquire()
    if permit is None:
        reason = breaker.unavailable_reason() or "circuit open"
        attempts.append(Attempt(card.name, False, f"skipped: {reason}", 0.0, retry, "CircuitOpen"))
        raise Fallback()
    if gate is not None:
        refusal = gate.enter(card)
        if refusal:
            breaker.release(permit)
            attempts.append(Attempt(card.name, False, f"skipped: {refusal}", 0.0, retry, "Budget"))
            raise Fallback()
    timeout = max(min(request.timeout or ex.retry.attempt_timeout_s, deadline - ex.clock()), 0.001)
    call = dataclasses.replace(
        request, sensitivity=level, timeout=timeout, on_text=stream.attempt() if stream else None
    )
    span = ex.telemetry.chat(card, call, decision, attempt=len(attempts) + 1, retry=retry, shadow=shadow)
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
                _log.warning("circuit opened for %s after %s; traffic moves to other models", card.name, kind)
        attempts.append(Attempt(card.name, False, redact(f"{kind}: {err}"), elapsed, retry, kind))
        if stream is not None and stream.chars:
            _note(err, f"after {stream.chars} characters were streamed; not retried so no text repeats")
            raise Abort(err) from None
        if isinstance(err, ContextLengthError | ContentFilterError):
            raise err from None
        delay = ex._backoff(retry, getattr(err, "retry_after", None))
        if not err.retryable or retry >= retries or delay is None:
            raise Fallback() from err
        if ex.clock() + delay >= deadline:
            raise Fallback() from err
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

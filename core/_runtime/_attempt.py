"""Calling one candidate model: its breaker permit, its concurrency slot, its retries.

The executor (:mod:`dualtrack._runtime._execution`) walks the router's candidates
and builds one :class:`CandidateCall` per model it tries. The call enforces the
data boundary and the deadline again (a model below the payload's clearance is
refused on every path, shadow calls included; no attempt starts, or waits for a
slot, after the deadline), then:

3. **Circuit breaker.** A model whose circuit is open is skipped (fallback). The
   breaker hears one verdict per call, not per attempt: a call that succeeded
   after retries is a success; a call whose every retry failed is one failure.
4. **Gate.** An optional admission check (budgets) may refuse a model just
   before each attempt, atomically with reserving what the attempt may spend.
5. **Retries.** Retryable errors (rate limits, 5xx, timeouts, malformed replies)
   are retried with exponential backoff and full jitter, waiting at least the
   server's ``Retry-After``; then the next candidate is tried. Other errors of
   one model (rejected credentials, a 404 deployment, a 400 its API dislikes,
   and any untyped exception a connector lets escape) move straight to the next
   candidate; a context-length error moves to the next candidate with a larger
   window. A content-filter refusal is raised as it is: sending the same content
   to another model to get past a filter is not a fallback.
6. **Streaming.** Once any text reached the host's ``on_text``, the call is
   neither retried nor moved to another model (the host would see text twice);
   the error is raised with a note. Text a stale attempt emits after it ended is
   dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Protocol

from .._errors import (
    ConnectorError,
    ContentFilterError,
    ContextLengthError,
    DualtrackError,
    ModelTimeoutError,
)
from .._model._messages import Completion, CompletionRequest, TextCallback
from ._retry import Attempt, Outcome

if TYPE_CHECKING:
    from .._model._cards import Connector, ModelCard
    from .._model._redact import Redactor
    from .._model._sensitivity import Sensitivity
    from .._routing._decision import RouteDecision
    from ._circuit import CircuitBreaker, Permit
    from ._execution import Executor
    from ._telemetry import ChatSpan

__all__ = ["Abort", "CandidateCall", "Fallback", "Gate", "Stream"]

_log = logging.getLogger("dualtrack")
_UNHEALTHY_NOT = (ContextLengthError, ContentFilterError)  # say nothing of the model's health


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


class CandidateCall:
    """One call to one candidate model, with its retries (see the module docstring).

    Built by :class:`~dualtrack._runtime._execution.Executor` for each candidate it
    tries; :meth:`run` returns the completion or raises :class:`Fallback`,
    :class:`Abort`, :class:`~dualtrack.ContextLengthError` or
    :class:`~dualtrack.ContentFilterError`.

    Args:
        executor: Whose breakers, connectors, slots, clock and settings apply.
        card: The model.
        request: The caller's request (each attempt gets a copy).
        level: The payload's sensitivity.
        decision: The router's decision (for telemetry), if any.
        attempts: Receives every attempt made, in order.
        deadline: When the whole skill call must end, on ``executor.clock``.
        stream: The host's streaming guard, or ``None`` when not streaming.
        gate: Admission check before each attempt (budgets).
        retries: Retries after the first attempt, for retryable errors.
        shadow: Whether this is a shadow call (for telemetry).
        probe: Ask the breaker for its probe even before the cool-down ends
            (no other model can take the call).
    """

    __slots__ = (
        "_attempts",
        "_card",
        "_deadline",
        "_decision",
        "_ex",
        "_gate",
        "_level",
        "_probe",
        "_request",
        "_retries",
        "_shadow",
        "_stream",
    )

    def __init__(
        self,
        executor: Executor,
        card: ModelCard,
        request: CompletionRequest,
        level: Sensitivity,
        decision: RouteDecision | None,
        attempts: list[Attempt],
        deadline: float,
        *,
        stream: Stream | None = None,
        gate: Gate | None = None,
        retries: int = 0,
        shadow: bool = False,
        probe: bool = False,
    ) -> None:
        self._ex = executor
        self._card = card
        self._request = request
        self._level = level
        self._decision = decision
        self._attempts = attempts
        self._deadline = deadline
        self._stream = stream
        self._gate = gate
        self._retries = retries
        self._shadow = shadow
        self._probe = probe

    def _skip(self, outcome: Outcome, why: str, retry: int = 0, duration: float = 0.0) -> None:
        self._attempts.append(
            Attempt(model=self._card.name, outcome=outcome, error=why, duration_s=duration, retry=retry)
        )

    async def run(self) -> Completion:
        """Call the model, retrying while the rules allow; one breaker verdict for the call."""
        conn, breaker, permit = self._admit()
        try:
            completion = await self._loop(conn, permit == "probe")
        except (Fallback, Abort):
            self._verdict_failed(breaker, permit)
            raise
        except BaseException:  # cancelled, context length, content filter: no verdict on health
            breaker.release(permit)
            raise
        breaker.record_success(permit)
        if permit == "probe":
            _log.warning("circuit closed for %s: the probe call succeeded", self._card.name)
        return completion

    def _admit(self) -> tuple[Connector, CircuitBreaker, Permit]:
        """Clearance, connector and breaker permit, or :class:`Fallback` with the skip recorded."""
        card, ex = self._card, self._ex
        if card.clearance < self._level:  # the last line of defence, on every path
            self._skip(Outcome.CLEARANCE, "refused: clearance")
            raise Fallback()
        try:
            conn = ex.connector(card.name)
        except DualtrackError as exc:
            self._skip(Outcome.CONNECTOR_UNAVAILABLE, ex.redactor.text(f"{type(exc).__name__}: {exc}"))
            raise Fallback() from exc
        breaker = ex.breaker(card.name)
        permit = breaker.acquire(early=self._probe)
        if permit is None:
            self._skip(Outcome.CIRCUIT_OPEN, f"skipped: {breaker.unavailable_reason() or 'circuit open'}")
            raise Fallback()
        return conn, breaker, permit

    def _verdict_failed(self, breaker: CircuitBreaker, permit: Permit) -> None:
        """The call gave up on this model: a failure if any attempt failed, else no verdict."""
        card = self._card
        failed = None
        for a in reversed(self._attempts):
            if a.model != card.name:
                break
            if a.outcome is Outcome.ERROR:
                failed = a.error_type
                break
        if failed is None:  # skipped before any request (deadline, budget): not the model's fault
            breaker.release(permit)
            return
        opened = breaker.opened_count
        breaker.record_failure(permit, failed)
        if breaker.opened_count > opened:
            _log.warning("circuit opened for %s after %s; traffic moves to other models", card.name, failed)

    async def _loop(self, conn: Connector, probe: bool) -> Completion:
        """The attempts: slot, gate, one request with its timeout and span, backoff."""
        card, ex, stream, gate = self._card, self._ex, self._stream, self._gate
        limit = ex.slot(card)
        complete = conn.complete
        # A connector that promises to cut every call off at `request.timeout` itself needs no
        # second timer here; any other one gets the safety net (a hung connector is still cut off).
        own_timeout = getattr(conn, "enforces_timeout", False) is True
        retry = 0
        while True:
            remaining = self._deadline - ex.clock()
            if remaining <= 0:
                self._skip(Outcome.DEADLINE, "skipped: skill call deadline passed", retry)
                raise Fallback(stop=True)
            if limit.locked():  # queueing for a slot is not the model's fault: only the deadline bounds it
                try:
                    await asyncio.wait_for(limit.acquire(), remaining)
                except TimeoutError:
                    why = (
                        f"skipped: no free slot (max_concurrency={card.max_concurrency}) before the deadline"
                    )
                    self._skip(Outcome.DEADLINE, why, retry, remaining)
                    raise Fallback(stop=True) from None
            else:
                await limit.acquire()
            try:
                call = self._prepare(retry)
                timeout = call.timeout or 0.001
                span = ex.telemetry.chat(
                    card,
                    call,
                    self._decision,
                    attempt=len(self._attempts) + 1,
                    retry=retry,
                    shadow=self._shadow,
                )
                start = time.perf_counter()
                try:
                    answer = complete(call) if own_timeout else _within(timeout, complete(call))
                    if span is None:
                        completion = await answer
                    else:
                        with span.current():
                            completion = await answer
                except Exception as exc:  # noqa: BLE001 - every failure becomes a typed, recorded attempt
                    delay = self._failed(exc, retry, timeout, time.perf_counter() - start, span, probe)
                except BaseException as exc:  # cancelled: no verdict on health
                    if stream is not None:
                        stream.end()
                    if gate is not None:
                        gate.exit(card, None)
                    if span is not None:
                        span.fail(exc)
                    raise
                else:
                    return self._answered(completion, retry, time.perf_counter() - start, span, probe)
            finally:
                limit.release()
            await ex.sleep(delay)
            retry += 1

    def _prepare(self, retry: int) -> CompletionRequest:
        """Pass the gate, then the request of one attempt: its sensitivity, timeout and stream."""
        card, ex, request = self._card, self._ex, self._request
        if self._gate is not None:
            refusal = self._gate.enter(card)
            if refusal:
                self._skip(Outcome.BUDGET, f"skipped: {refusal}", retry)
                raise Fallback()
        timeout = min(request.timeout or ex.retry.attempt_timeout_s, self._deadline - ex.clock())
        return CompletionRequest(
            request.messages,
            request.max_tokens,
            request.temperature,
            request.json_schema,
            request.tools,
            request.stop,
            self._stream.attempt() if self._stream is not None else None,
            self._level,
            max(timeout, 0.001),
            request.metadata,
        )

    def _answered(
        self, completion: Completion, retry: int, elapsed: float, span: ChatSpan | None, probe: bool
    ) -> Completion:
        card = self._card
        if self._stream is not None:
            self._stream.end()
        completion.model_card = card.name
        completion.latency_s = elapsed
        if self._gate is not None:
            self._gate.exit(card, completion)
        if span is not None:
            span.ok(completion)
        self._attempts.append(
            Attempt(model=card.name, outcome=Outcome.OK, duration_s=elapsed, retry=retry, probe=probe)
        )
        return completion

    def _failed(
        self, exc: Exception, retry: int, timeout: float, elapsed: float, span: ChatSpan | None, probe: bool
    ) -> float:
        """Record a failed attempt; return the backoff before a retry, or raise what comes next."""
        card, ex, stream = self._card, self._ex, self._stream
        err, kind, untyped = _typed(exc, card, timeout, ex.redactor)
        if stream is not None:
            stream.end()
        if self._gate is not None:
            self._gate.exit(card, None)
        if span is not None:
            span.fail(err)
        detail = ex.redactor.text(f"{kind}: {exc if untyped else err}")
        self._attempts.append(
            Attempt(
                model=card.name,
                outcome=Outcome.ERROR,
                error=detail,
                duration_s=elapsed,
                retry=retry,
                error_type=kind,
                probe=probe,
            )
        )
        if stream is not None and stream.chars:
            _note(err, f"after {stream.chars} characters were streamed; not retried so no text repeats")
            raise Abort(err) from None
        if isinstance(err, _UNHEALTHY_NOT):
            raise err from None
        if untyped:
            raise Fallback() from err  # an untyped connector failure: next candidate, no retry
        delay = ex.backoff(retry, getattr(err, "retry_after", None))
        if not err.retryable or retry >= self._retries or delay is None:
            raise Fallback() from err
        if ex.clock() + delay >= self._deadline:
            raise Fallback() from err
        _log.debug("retrying %s in %.2fs after %s", card.name, delay, kind)
        return delay


async def _within(timeout: float, answer: Awaitable[Completion]) -> Completion:
    """The executor's safety net for a connector that does not enforce ``request.timeout``."""
    async with asyncio.timeout(timeout):
        return await answer


def _typed(
    exc: Exception, card: ModelCard, timeout: float, redactor: Redactor
) -> tuple[ConnectorError, str, bool]:
    """The typed, redacted error of a failed attempt, the type name to record, and whether it was untyped."""
    if isinstance(exc, ConnectorError):
        err = exc
    elif isinstance(exc, TimeoutError):
        err = ModelTimeoutError(f"no answer within {timeout:.1f}s")
    else:  # a connector let an untyped error escape: keep the call going, say whose bug it is
        err = ConnectorError(
            redactor.text(
                f"the {card.connector_name} connector of model {card.name!r} failed with "
                f"{type(exc).__name__}: {exc}; check the model's settings, "
                "or report it to the connector's authors"
            )
        )
        err.__cause__ = exc
        err.model = card.name
        return err, type(exc).__name__, True
    err.model = card.name
    if err.args and isinstance(err.args[0], str):
        err.args = (redactor.text(err.args[0]), *err.args[1:])
    if err.body:
        err.body = redactor.text(err.body)
    return err, type(err).__name__, False


def _note(err: ConnectorError, note: str) -> None:
    first = err.args[0] if err.args else ""
    err.args = (f"{first} ({note})", *err.args[1:])

"""The executor: try the router's candidates in order, with retries, breakers and deadlines.

Rules 1 and 2 are applied here, to each candidate; rules 3 to 6 (circuit
breaker, gate, retries, streaming) by the :class:`~dualtrack._runtime._attempt.CandidateCall`
built for each candidate tried.

1. **Data boundary.** A candidate whose clearance is below the payload's
   sensitivity (the higher of the request's and the decision's) is never called,
   whatever path led to it; only models in ``decision.candidates`` are considered.
2. **Deadline.** One deadline covers the whole skill call: every attempt, backoff
   and fallback. When it passes, no new attempt starts.

After a model fails, the next candidate is tried; after a context-length error,
only a candidate with a larger window. A content-filter refusal, or any failure
once text was streamed, is raised to the caller as it is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._errors import AllAttemptsFailedError, ConnectorError, ContextLengthError
from .._model._cards import Connector, ModelCard
from .._model._discovery import create_connector
from .._model._messages import Completion, CompletionRequest
from .._model._redact import Redactor
from .._routing._decision import Constraint, Rejection, RouteDecision
from ._attempt import Abort, CandidateCall, Fallback, Gate, Stream
from ._circuit import CircuitBreaker
from ._retry import Attempt, Outcome, RetryPolicy, backoff
from ._telemetry import Telemetry

if TYPE_CHECKING:
    from ._state_circuit import CircuitBoard

__all__ = ["Attempt", "Executor", "Gate", "Outcome", "RetryPolicy"]

_log = logging.getLogger("dualtrack")


Sleep = Callable[[float], Awaitable[Any]]


class Executor:
    """Runs model calls for the orchestrator.

    Attributes:
        breakers: The circuit breaker of each model that was called.
        clock: Monotonic clock for deadlines and breakers (replace it in tests).
        sleep: The backoff sleep (replace it in tests so they need not wait).
        rng: Source of backoff jitter, seeded from the OS so that executors in
            different processes do not retry in lockstep (seed it in tests).

    Args:
        cards: The catalog, by name.
        retry: Retry, deadline and breaker settings.
        sleep: The sleep function.
        clock: Monotonic clock.
        telemetry: Span factory; a no-op tracer unless the host configured one.
        redactor: Masks secrets in attempt records, errors and spans; handed to the
            connectors it builds (the telemetry's own when ``None``).
    """

    def __init__(
        self,
        cards: Mapping[str, ModelCard],
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        telemetry: Telemetry | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.cards = cards
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.telemetry = telemetry or Telemetry(redactor=redactor)
        self.redactor = redactor if redactor is not None else self.telemetry.redactor
        self.rng = random.Random()
        self.breakers: dict[str, CircuitBreaker] = {}
        self.circuits: CircuitBoard | None = None  # set when workers share circuit state
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
            settings = (
                r.breaker_threshold,
                r.breaker_window_s,
                r.breaker_cooldown_s,
                self.now,
                r.breaker_failure_ratio,
                r.breaker_min_calls,
            )
            if self.circuits is not None:
                from ._state_circuit import SharedCircuitBreaker

                b = SharedCircuitBreaker(self.circuits, model, *settings)
            else:
                b = CircuitBreaker(*settings)
            self.breakers[model] = b
        return b

    def slot(self, card: ModelCard) -> asyncio.Semaphore:
        """The concurrency limit of ``card``'s model (created on first use, from ``max_concurrency``)."""
        limit = self._limits.get(card.name)
        if limit is None:
            limit = self._limits[card.name] = asyncio.Semaphore(card.max_concurrency)
        return limit

    def unavailable(self) -> dict[str, Rejection]:
        """Models whose circuit is open now, each with its rejection (for the router)."""
        out: dict[str, Rejection] = {}
        if self.circuits is not None:  # circuits other workers opened, for models not called here yet
            for name in self.circuits.open_models():
                if name in self.cards and name not in self.breakers:
                    self.breaker(name)
        for name, b in self.breakers.items():
            if b.is_open:
                reason = b.unavailable_reason()
                if reason:
                    out[name] = Rejection(model=name, constraint=Constraint.CIRCUIT, detail=reason)
        return out

    def backoff(self, retry: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry ``retry + 1``, or ``None`` to move on (see :func:`backoff`)."""
        return backoff(self.retry, self.rng, retry, retry_after)

    def connector(self, model: str) -> Connector:
        """The connector of ``model`` (built on first use, then shared by every call)."""
        conn = self._connectors.get(model)
        if conn is None:
            conn = create_connector(self.cards[model], redactor=self.redactor)
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
        probe: bool = False,
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
            probe: Let a candidate whose circuit is open take its half-open probe
                now (the gateway sets it when no other model qualifies).

        Returns:
            The completion, with ``model_card`` and ``latency_s`` filled in.

        Raises:
            AllAttemptsFailedError: When every candidate failed or was skipped.
            ConnectorError: A content-filter refusal (the content goes to no other
                model), or any failure after text was streamed. Other client errors
                (credentials, 400, 404, an untyped error a connector let escape)
                move on to the next candidate.
        """
        level = max(request.sensitivity, decision.requirements.sensitivity)
        if deadline is None:
            deadline = self.clock() + self.retry.deadline_s
        stream = Stream(request.on_text) if request.on_text is not None else None
        too_small: int | None = None
        last: BaseException | None = None
        for cand in decision.candidates:
            card = self.cards.get(cand.model)
            if card is None or not card.enabled or card.clearance < level:
                why, outcome = ("not in the catalog" if card is None else "disabled"), Outcome.REJECTED
                if card is not None and card.clearance < level:
                    why, outcome = f"clearance {card.clearance.value} < {level.value}", Outcome.CLEARANCE
                    _log.error("refused to send %s data to %s (%s)", level.value, card.name, why)
                attempts.append(Attempt(model=cand.model, outcome=outcome, error=f"refused: {why}"))
                continue
            if too_small is not None and card.context_window <= too_small:
                why = f"skipped: window {card.context_window} too small"
                attempts.append(Attempt(model=card.name, outcome=Outcome.WINDOW_TOO_SMALL, error=why))
                continue
            call = CandidateCall(
                self,
                card,
                request,
                level,
                decision,
                attempts,
                deadline,
                stream=stream,
                gate=gate,
                retries=self.retry.max_retries,
                probe=probe,
            )
            try:
                completion = await call.run()
            except ContextLengthError as exc:
                too_small = max(too_small or 0, card.context_window)
                last = exc
                continue
            except Abort as abort:
                raise abort.error from None
            except Fallback as fb:
                last = fb.__cause__ or last
                if fb.stop:
                    break
                continue
            if on_success is not None:
                on_success(card, completion)
            return completion
        raise AllAttemptsFailedError(attempts) from last

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
        call = CandidateCall(self, card, quiet, level, decision, attempts, deadline, gate=gate, shadow=True)
        try:
            done = await call.run()
        except (ConnectorError, Fallback, Abort):
            return None, attempts
        return done, attempts

"""Circuit breakers whose open state every worker sees.

Each worker still counts its own calls and failures (the per-call path stays in
memory); only **transitions** go to the shared state: a circuit opening (with its
cool-down deadline and reason), the half-open probe being claimed, the probe's
verdict. Every worker reads the open circuits back at most every ``refresh_s``
seconds (one read for all models), so a model one worker found broken is skipped
by the others within that interval, and only one worker in the fleet sends the
half-open probe.

Deadlines are wall-clock times in the shared state (machines are assumed to agree
on the time, as NTP keeps them) and monotonic times inside each breaker.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from ._circuit import CircuitBreaker, CircuitState, Permit
from ._state import CircuitRecord, SharedState, SharedStateError

__all__ = ["CircuitBoard", "SharedCircuitBreaker"]

_log = logging.getLogger("dualtrack")


class CircuitBoard:
    """This worker's cached view of the fleet's open circuits.

    Args:
        state: The shared state.
        refresh_s: How stale the view may be (the per-call cost is one clock read
            while it is fresh).
        probe_ttl_s: How long a claimed probe keeps other workers from probing
            (longer than one call can take; a worker that dies frees it then).
        wall: Wall clock, injectable for tests.
    """

    def __init__(
        self,
        state: SharedState,
        *,
        refresh_s: float = 0.5,
        probe_ttl_s: float = 300.0,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self.refresh_s = refresh_s
        self.probe_ttl_s = probe_ttl_s
        self.wall = wall
        self._view: dict[str, CircuitRecord] = {}
        self._next = 0.0
        self._warned = False

    def view(self) -> dict[str, CircuitRecord]:
        """The open circuits, re-read when the cached view is older than ``refresh_s``."""
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.refresh_s
            try:
                self._view = self.state.circuits()
                self._warned = False
            except SharedStateError as exc:  # keep the last view: breakers still work per worker
                if not self._warned:
                    _log.warning("cannot read shared circuit state (%s); using this worker's view", exc)
                    self._warned = True
        return self._view

    def open_models(self) -> list[str]:
        """Models whose circuit is open in the shared state."""
        return list(self.view())

    def opened(self, record: CircuitRecord) -> None:
        """Publish a circuit this worker opened (the cached view has it at once)."""
        self._view[record.model] = record
        self._write(lambda: self.state.open_circuit(record))

    def closed(self, model: str) -> None:
        """Publish a circuit this worker's probe closed (the cached view drops it at once)."""
        self._view.pop(model, None)
        self._write(lambda: self.state.close_circuit(model))

    def unclaimed(self, model: str) -> None:
        """Give back the probe this worker claimed, without a verdict."""
        rec = self._view.get(model)
        if rec is not None:
            self._view[model] = dataclasses.replace(rec, probe_until=0.0)
        self._write(lambda: self.state.end_probe(model))

    def _write(self, call: Callable[[], object]) -> None:
        try:
            call()
        except SharedStateError as exc:
            _log.warning("cannot write shared circuit state (%s); other workers will not see it", exc)


class SharedCircuitBreaker(CircuitBreaker):
    """A :class:`CircuitBreaker` that adopts open circuits from the board and publishes its own."""

    __slots__ = ("_board", "_model", "_seen")

    def __init__(
        self,
        board: CircuitBoard,
        model: str,
        threshold: int = 5,
        window_s: float = 60.0,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        failure_ratio: float = 0.5,
        min_calls: int = 10,
    ) -> None:
        super().__init__(threshold, window_s, cooldown_s, clock, failure_ratio, min_calls)
        self._board = board
        self._model = model
        self._seen: float | None = None  # opened_at (wall) of the shared record adopted

    def _sync(self) -> None:
        """Adopt the shared view of this model: opened elsewhere, or closed elsewhere."""
        rec = self._board.view().get(self._model)
        if rec is None:
            if self._opened_at is not None and not self._probing and self._seen is not None:
                self._close()  # another worker's probe closed it
                self._seen = None
            return
        if rec.opened_at == self._seen:
            return
        self._seen = rec.opened_at
        left = rec.until - self._board.wall()
        self._opened_at = self._clock() - (self.cooldown_s - left)
        self._why = rec.why
        self._last_error = rec.last_error or self._last_error
        self._buckets.clear()
        self._streak = 0

    def _probe_elsewhere(self) -> bool:
        rec = self._board.view().get(self._model)
        return rec is not None and rec.probe_until > self._board.wall() and not self._probing

    @property
    def state(self) -> CircuitState:
        """``closed``, ``open`` or ``half-open``, as the fleet sees it."""
        self._sync()
        return super().state

    @property
    def is_open(self) -> bool:
        """Whether the circuit is open or half-open here or in another worker."""
        self._sync()
        return self._opened_at is not None

    def unavailable_reason(self) -> str | None:
        """Why the router must skip this model now (another worker's probe included)."""
        self._sync()
        reason = super().unavailable_reason()
        if reason is None and self._probe_elsewhere():
            last = f"; last error {self._last_error}" if self._last_error else ""
            return f"circuit half-open, another worker is probing{last}"
        return reason

    def acquire(self, *, early: bool = False) -> Permit | None:
        """Ask to start a call; the half-open probe is claimed fleet-wide."""
        self._sync()
        permit = super().acquire(early=early)
        if permit != "probe":
            return permit
        now = self._board.wall()
        try:
            claimed = self._board.state.claim_probe(self._model, now, self._board.probe_ttl_s)
        except SharedStateError:
            claimed = True  # the shared state is down: probe as a lone worker would
        if not claimed and self._model in self._board.view():
            self._probing = False
            return None
        return permit

    def record_success(self, permit: Permit = "call") -> None:
        """A call succeeded; a successful probe closes the circuit for every worker."""
        super().record_success(permit)
        if permit == "probe":
            self._seen = None
            self._board.closed(self._model)

    def record_failure(self, permit: Permit = "call", error: str | None = None) -> None:
        """A call failed; when that opens the circuit here, it opens for every worker."""
        before = self.opened_count
        super().record_failure(permit, error)
        if self.opened_count == before or self._opened_at is None:
            return
        wall = self._board.wall()
        rec = CircuitRecord(
            model=self._model,
            opened_at=wall,
            until=wall + self.cooldown_s,
            why=self._why,
            last_error=self._last_error,
        )
        self._seen = wall
        self._board.opened(rec)

    def release(self, permit: Permit = "call") -> None:
        """End a call without a verdict; a probe is given back to the fleet."""
        super().release(permit)
        if permit == "probe":
            self._board.unclaimed(self._model)

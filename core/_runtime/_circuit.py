"""A circuit breaker per model: stop calling a model that keeps failing.

States::

    closed ──(threshold failures in a row, or threshold failures in the window that
              are at least failure_ratio of its calls)──▶ open
    open ──(cool-down elapsed)──▶ half-open: exactly one probe call is let through
    half-open ──probe succeeds──▶ closed        half-open ──probe fails──▶ open again

The window is kept as ten time buckets, so memory stays constant however many
calls a model serves. The breaker is not thread-safe; the executor uses it from
the event loop only.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

__all__ = ["CircuitBreaker", "CircuitState", "Permit"]

CircuitState = Literal["closed", "open", "half-open"]
Permit = Literal["call", "probe"]
"""What :meth:`CircuitBreaker.acquire` grants: an ordinary call or the half-open probe."""

_BUCKETS = 10


class CircuitBreaker:
    """Opens after ``threshold`` failures within ``window_s``; probes after ``cooldown_s``.

    It opens on ``threshold`` consecutive failures within the window (a hard
    outage opens it at once, however many calls succeeded before), or on
    ``threshold`` failures within the window that are at least ``failure_ratio``
    of its calls (a flapping model). A busy model with rare errors stays closed.

    Args:
        threshold: Failures within the window that open the circuit.
        window_s: The sliding window, in seconds.
        cooldown_s: How long the circuit stays open before a probe.
        clock: A monotonic clock, injectable for tests.
        failure_ratio: Share of failed calls in the window needed to open (0..1).
    """

    __slots__ = (
        "_buckets",
        "_clock",
        "_last_error",
        "_opened_at",
        "_probing",
        "_streak",
        "_streak_since",
        "cooldown_s",
        "failure_ratio",
        "opened_count",
        "threshold",
        "window_s",
    )

    def __init__(
        self,
        threshold: int = 5,
        window_s: float = 60.0,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        failure_ratio: float = 0.5,
    ) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self.failure_ratio = failure_ratio
        self._clock = clock
        self._buckets: deque[list[float]] = deque()  # [start, successes, failures]
        self._opened_at: float | None = None
        self._probing = False
        self._last_error: str | None = None
        self._streak = 0
        self._streak_since = 0.0
        self.opened_count = 0

    # -- state --------------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """``closed``, ``open`` or ``half-open``."""
        if self._opened_at is None:
            return "closed"
        if self._probing or self._clock() - self._opened_at >= self.cooldown_s:
            return "half-open"
        return "open"

    @property
    def failures(self) -> int:
        """Failures counted in the current window (while closed)."""
        self._prune(self._clock())
        return int(sum(b[2] for b in self._buckets))

    def unavailable_reason(self) -> str | None:
        """Why the router must skip this model now, or ``None`` when it may be tried."""
        if self._opened_at is None:
            return None
        remaining = self.cooldown_s - (self._clock() - self._opened_at)
        last = f"; last error {self._last_error}" if self._last_error else ""
        if remaining > 0:
            window = f"{self.threshold}+ failures in {self.window_s:g}s{last}"
            return f"circuit open ({window}), probe in {remaining:.0f}s"
        if self._probing:
            return f"circuit half-open, probe in flight{last}"
        return None

    # -- calls --------------------------------------------------------------------

    def acquire(self) -> Permit | None:
        """Ask to start a call: ``"call"``, ``"probe"`` (half-open), or ``None`` while open."""
        if self._opened_at is None:
            return "call"
        if self._probing or self._clock() - self._opened_at < self.cooldown_s:
            return None
        self._probing = True
        return "probe"

    def allow(self) -> bool:
        """Whether a call may start now; claims the probe slot when half-open."""
        return self.acquire() is not None

    def record_success(self, permit: Permit = "call") -> None:
        """A call succeeded: count it; a successful probe closes the circuit."""
        if permit == "probe":
            self._opened_at = None
            self._probing = False
            self._buckets.clear()
            self._last_error = None
            self._streak = 0
            return
        if self._opened_at is None:
            self._streak = 0
            self._bucket(self._clock())[1] += 1

    def record_failure(self, permit: Permit = "call", error: str | None = None) -> None:
        """A call failed: a failed probe re-opens; enough failures in the window open."""
        now = self._clock()
        if error:
            self._last_error = error
        if permit == "probe":
            self._probing = False
            self._opened_at = now
            self.opened_count += 1
            return
        if self._opened_at is not None:  # a straggler that started before the circuit opened
            return
        self._bucket(now)[2] += 1
        if self._streak == 0 or now - self._streak_since > self.window_s:
            self._streak, self._streak_since = 0, now
        self._streak += 1
        ok = sum(b[1] for b in self._buckets)
        bad = sum(b[2] for b in self._buckets)
        if self._streak >= self.threshold or (
            bad >= self.threshold and bad >= self.failure_ratio * (ok + bad)
        ):
            self._opened_at = now
            self._buckets.clear()
            self._streak = 0
            self.opened_count += 1

    def release(self, permit: Permit = "call") -> None:
        """End a call without a verdict (cancelled, or a failure that says nothing of health)."""
        if permit == "probe":
            self._probing = False

    # -- window -------------------------------------------------------------------

    def _prune(self, now: float) -> None:
        width = self.window_s / _BUCKETS
        while self._buckets and self._buckets[0][0] + width <= now - self.window_s:
            self._buckets.popleft()

    def _bucket(self, now: float) -> list[float]:
        self._prune(now)
        width = self.window_s / _BUCKETS
        if not self._buckets or now - self._buckets[-1][0] >= width:
            self._buckets.append([now, 0, 0])
        return self._buckets[-1]

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state!r}, failures={self.failures}, threshold={self.threshold})"

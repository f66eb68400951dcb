"""A circuit breaker per model: stop calling a model that keeps failing.

The breaker counts **calls**, not requests: a call that succeeded after two
retries is one success, a call whose every retry failed is one failure. So a
flaky model that answers most calls within its retries stays in service.

States::

    closed ──(threshold failed calls in a row, or at least min_calls calls in the
              window of which failure_ratio failed)──▶ open
    open ──(cool-down elapsed)──▶ half-open: exactly one probe call is let through
    half-open ──probe succeeds──▶ closed        half-open ──probe fails──▶ open again

While open, :meth:`CircuitBreaker.acquire` with ``early=True`` grants the probe
before the cool-down ends: the gateway asks for it when no other model can take
the call, so a sole model is probed instead of refusing every call.

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
    """Opens on a run of failed calls or a high failure ratio; probes after ``cooldown_s``.

    It opens on ``threshold`` failed calls in a row within the window (a hard
    outage opens it at once, however many calls succeeded before), or when the
    window holds at least ``min_calls`` calls and at least ``failure_ratio`` of
    them failed (a flapping model). A busy model with rare errors stays closed.

    Args:
        threshold: Failed calls in a row (within the window) that open the circuit.
        window_s: The sliding window, in seconds.
        cooldown_s: How long the circuit stays open before a probe.
        clock: A monotonic clock, injectable for tests.
        failure_ratio: Share of failed calls in the window that opens it (0..1).
        min_calls: Calls the window must hold before the ratio can open it.
    """

    __slots__ = (
        "_buckets",
        "_clock",
        "_last_error",
        "_opened_at",
        "_probing",
        "_streak",
        "_streak_since",
        "_why",
        "cooldown_s",
        "failure_ratio",
        "min_calls",
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
        min_calls: int = 10,
    ) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self.failure_ratio = failure_ratio
        self.min_calls = min_calls
        self._clock = clock
        self._buckets: deque[list[float]] = deque()  # [start, successes, failures]
        self._opened_at: float | None = None
        self._probing = False
        self._last_error: str | None = None
        self._why = ""
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
        """Failed calls counted in the current window (while closed)."""
        self._prune(self._clock())
        return int(sum(b[2] for b in self._buckets))

    @property
    def is_open(self) -> bool:
        """Whether the circuit is open or half-open (a model the router should skip when it can)."""
        return self._opened_at is not None

    @property
    def cooldown_left_s(self) -> float:
        """Seconds until an open circuit lets a probe through (0 when closed or due)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.cooldown_s - (self._clock() - self._opened_at))

    def unavailable_reason(self) -> str | None:
        """Why the router must skip this model now, or ``None`` when it may be tried."""
        if self._opened_at is None:
            return None
        remaining = self.cooldown_s - (self._clock() - self._opened_at)
        last = f"; last error {self._last_error}" if self._last_error else ""
        if remaining > 0:
            return f"circuit open ({self._why}{last}), probe in {remaining:.0f}s"
        if self._probing:
            return f"circuit half-open, probe in flight{last}"
        return None

    # -- calls --------------------------------------------------------------------

    def acquire(self, *, early: bool = False) -> Permit | None:
        """Ask to start a call: ``"call"``, ``"probe"`` (half-open), or ``None`` while open.

        Args:
            early: Grant the probe before the cool-down ends (no other model can
                take the call); still one probe at a time.
        """
        if self._opened_at is None:
            return "call"
        if self._probing or (not early and self._clock() - self._opened_at < self.cooldown_s):
            return None
        self._probing = True
        return "probe"

    def allow(self) -> bool:
        """Whether a call may start now; claims the probe slot when half-open."""
        return self.acquire() is not None

    def record_success(self, permit: Permit = "call") -> None:
        """A call succeeded (after however many retries): count it; a successful probe closes."""
        if permit == "probe":
            self._close()
            return
        if self._opened_at is None:
            self._streak = 0
            self._bucket(self._clock())[1] += 1

    def record_failure(self, permit: Permit = "call", error: str | None = None) -> None:
        """A call failed (every retry): a failed probe re-opens; enough failed calls open."""
        now = self._clock()
        if error:
            self._last_error = error
        if permit == "probe":
            self._probing = False
            self._opened_at = now
            self._why = "the probe call failed"
            self.opened_count += 1
            return
        if self._opened_at is not None:  # a straggler that started before the circuit opened
            return
        self._bucket(now)[2] += 1
        if self._streak == 0 or now - self._streak_since > self.window_s:
            self._streak, self._streak_since = 0, now
        self._streak += 1
        if self._streak >= self.threshold:
            calls = "call" if self._streak == 1 else "calls"
            self._open(now, f"{self._streak} failed {calls} in a row")
            return
        ok = sum(b[1] for b in self._buckets)
        bad = sum(b[2] for b in self._buckets)
        total = ok + bad
        if total >= self.min_calls and bad >= self.failure_ratio * total:
            self._open(now, f"{int(bad)} of {int(total)} calls failed in {self.window_s:g}s")

    def release(self, permit: Permit = "call") -> None:
        """End a call without a verdict (cancelled, or a failure that says nothing of health)."""
        if permit == "probe":
            self._probing = False

    def _close(self) -> None:
        self._opened_at = None
        self._probing = False
        self._buckets.clear()
        self._last_error = None
        self._streak = 0

    def _open(self, now: float, why: str) -> None:
        self._opened_at = now
        self._why = why
        self._buckets.clear()
        self._streak = 0
        self.opened_count += 1

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

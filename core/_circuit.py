"""A circuit breaker per model: stop calling a model that keeps failing."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

__all__ = ["CircuitBreaker", "CircuitState"]

CircuitState = Literal["closed", "open", "half-open"]


class CircuitBreaker:
    """Opens after ``threshold`` failures within ``window_s``; probes after ``cooldown_s``.

    While open, :meth:`allow` is false. After the cool-down one probe call is let
    through (half-open): its success closes the circuit, its failure re-opens it.

    Args:
        threshold: Failures within the window that open the circuit.
        window_s: The sliding window, in seconds.
        cooldown_s: How long the circuit stays open before a probe.
        clock: A monotonic clock, injectable for tests.
    """

    __slots__ = ("_clock", "_failures", "_opened_at", "_probing", "cooldown_s", "threshold", "window_s")

    def __init__(
        self,
        threshold: int = 5,
        window_s: float = 60.0,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures: deque[float] = deque()
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> CircuitState:
        """``closed``, ``open`` or ``half-open``."""
        if self._opened_at is None:
            return "closed"
        if self._probing or self._clock() - self._opened_at >= self.cooldown_s:
            return "half-open"
        return "open"

    def unavailable_reason(self) -> str | None:
        """Why the router must skip this model now, or ``None`` when it may be tried."""
        if self._opened_at is None:
            return None
        remaining = self.cooldown_s - (self._clock() - self._opened_at)
        if remaining > 0:
            return f"circuit open ({self.threshold} failures), probe in {remaining:.0f}s"
        if self._probing:
            return "circuit half-open, probe in flight"
        return None

    def allow(self) -> bool:
        """Whether a call may start now; claims the probe slot when half-open."""
        if self._opened_at is None:
            return True
        if self._probing or self._clock() - self._opened_at < self.cooldown_s:
            return False
        self._probing = True
        return True

    def record_success(self) -> None:
        """A call succeeded: close the circuit."""
        self._failures.clear()
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        """A call failed: count it, and open the circuit past the threshold."""
        now = self._clock()
        if self._probing:
            self._probing = False
            self._opened_at = now
            return
        self._failures.append(now)
        while self._failures and now - self._failures[0] > self.window_s:
            self._failures.popleft()
        if len(self._failures) >= self.threshold:
            self._opened_at = now
            self._failures.clear()

    def release(self) -> None:
        """Give back a probe slot claimed by :meth:`allow` without a verdict."""
        self._probing = False

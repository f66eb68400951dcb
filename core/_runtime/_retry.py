"""Retry settings, backoff with full jitter, and the record of each attempt."""

from __future__ import annotations

import random
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Attempt", "RetryPolicy", "backoff"]


class RetryPolicy(BaseModel):
    """How hard to try each model, and for how long.

    Attributes:
        max_retries: Retries per model after the first attempt, for retryable errors.
        base_delay_s: First backoff delay; doubles per retry, with full jitter.
        max_delay_s: Cap on one backoff. A ``Retry-After`` longer than this moves
            on to the next candidate instead of waiting.
        attempt_timeout_s: Timeout of one attempt when the request sets none.
        deadline_s: Overall deadline of one skill call across all its model
            calls, attempts, backoffs and fallbacks.
        breaker_threshold: Failures within ``breaker_window_s`` that open a circuit.
        breaker_window_s: The breaker's sliding window.
        breaker_cooldown_s: How long a circuit stays open before a probe.
        breaker_failure_ratio: Share of calls in the window that must have failed
            for the circuit to open (so a busy model with rare errors stays closed).
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
    breaker_failure_ratio: float = Field(default=0.5, ge=0, le=1)


@dataclass(slots=True, frozen=True)
class Attempt:
    """One try of one model (or a candidate skipped without a call).

    Attributes:
        model: The card name.
        ok: Whether it produced the completion.
        error: The error type and (redacted) message, or why it was skipped.
        duration_s: Wall time.
        retry: 0 for the first try of this model, then 1, 2, ...
        error_type: The error's class name, or why no call was made: ``CircuitOpen``,
            ``Budget``, ``Clearance``, ``Deadline``, ``WindowTooSmall``,
            ``ConnectorUnavailable`` or ``Rejected``; ``None`` when ok.
    """

    model: str
    ok: bool
    error: str | None
    duration_s: float
    retry: int = 0
    error_type: str | None = None

    @property
    def called(self) -> bool:
        """Whether a request actually went to the model (skips are not calls)."""
        return self.ok or self.error_type not in _SKIPS

    def describe(self) -> str:
        """A one-line account, e.g. ``gpt-4o retry 1: RateLimitError: slow down (0.12 s)``."""
        what = "ok" if self.ok else (self.error or "failed")
        again = f" retry {self.retry}" if self.retry else ""
        return f"{self.model}{again}: {what} ({self.duration_s:.2f} s)"


_SKIPS = frozenset(
    {"CircuitOpen", "Budget", "Clearance", "Deadline", "WindowTooSmall", "ConnectorUnavailable", "Rejected"}
)


def backoff(policy: RetryPolicy, rng: random.Random, retry: int, retry_after: float | None) -> float | None:
    """Seconds to wait before retry number ``retry + 1``, or ``None`` to try another model instead.

    Without a server hint: full jitter, uniform in ``[0, min(max_delay_s, base_delay_s * 2**retry)]``.
    With ``Retry-After``: at least what the server asked, plus a little jitter so
    many clients do not return at once; ``None`` when it asked for more than ``max_delay_s``.
    """
    if retry_after is not None:
        if retry_after > policy.max_delay_s:
            return None
        wait = max(retry_after, 0.0)
        return min(wait + rng.uniform(0, policy.base_delay_s / 4), max(wait, policy.max_delay_s))
    return rng.uniform(0, min(policy.max_delay_s, policy.base_delay_s * (2**retry)))

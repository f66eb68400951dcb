"""Retry settings, backoff with full jitter, and the record of each attempt (:class:`Attempt`)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Attempt", "Outcome", "RetryPolicy", "backoff"]


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
        breaker_threshold: Failed calls in a row (within ``breaker_window_s``) that
            open a circuit: a hard outage. A call that succeeded after retries is a
            success; each call counts once, however many retries it took.
        breaker_window_s: The breaker's sliding window.
        breaker_cooldown_s: How long a circuit stays open before a probe.
        breaker_failure_ratio: Share of calls in the window that must have failed
            for the circuit to open (so a busy model with rare errors stays closed).
        breaker_min_calls: Calls the window must hold before the ratio can open it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    max_retries: int = Field(default=2, ge=0)
    base_delay_s: float = Field(default=0.5, ge=0)
    max_delay_s: float = Field(default=20.0, ge=0)
    attempt_timeout_s: float = Field(default=120.0, gt=0)
    deadline_s: float = Field(default=300.0, gt=0)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_window_s: float = Field(default=60.0, gt=0)
    breaker_cooldown_s: float = Field(default=30.0, ge=0)
    breaker_failure_ratio: float = Field(default=0.5, ge=0, le=1)
    breaker_min_calls: int = Field(default=10, ge=1)


class Outcome(StrEnum):
    """How one attempt ended: answered, failed, or why no request was sent."""

    OK = "ok"
    """The model answered."""
    ERROR = "error"
    """The request was sent and failed (the attempt's ``error_type`` names the error)."""
    CIRCUIT_OPEN = "circuit-open"
    """Skipped: the model's circuit is open."""
    BUDGET = "budget"
    """Skipped: a budget would be exceeded."""
    CLEARANCE = "clearance"
    """Refused: the model is not cleared for the payload's sensitivity."""
    DEADLINE = "deadline"
    """Skipped: the skill call's deadline passed (or no slot freed up before it)."""
    WINDOW_TOO_SMALL = "window-too-small"
    """Skipped: a model with a smaller window already said the request does not fit."""
    CONNECTOR_UNAVAILABLE = "connector-unavailable"
    """Skipped: the model's connector could not be built (missing extra, bad settings)."""
    REJECTED = "rejected"
    """Refused: not in the catalog, or disabled, or rejected by a hard constraint."""


_CALLED = frozenset({Outcome.OK, Outcome.ERROR})


@dataclass(slots=True, frozen=True, kw_only=True)
class Attempt:
    """One try of one model (or a candidate skipped without a call).

    Attributes:
        model: The card name.
        outcome: How it ended.
        error: The error type and (redacted) message, or why it was skipped;
            ``None`` when it answered.
        duration_s: Wall time.
        retry: 0 for the first try of this model, then 1, 2, ...
        error_type: The class name of the error, for :attr:`Outcome.ERROR`.
        probe: Whether this was the half-open probe of an open circuit.
    """

    model: str
    outcome: Outcome
    error: str | None = None
    duration_s: float = 0.0
    retry: int = 0
    error_type: str | None = None
    probe: bool = False

    @property
    def ok(self) -> bool:
        """Whether it produced the completion."""
        return self.outcome is Outcome.OK

    @property
    def called(self) -> bool:
        """Whether a request actually went to the model (skips are not calls)."""
        return self.outcome in _CALLED

    def describe(self) -> str:
        """A one-line account, e.g. ``gpt-4o retry 1: RateLimitError: slow down (0.12 s)``."""
        what = "ok" if self.outcome is Outcome.OK else (self.error or self.outcome.value)
        again = f" retry {self.retry}" if self.retry else ""
        probe = " (circuit probe)" if self.probe else ""
        return f"{self.model}{again}{probe}: {what} ({self.duration_s:.2f} s)"


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

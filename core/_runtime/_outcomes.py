"""Records of checked replies: what a check found, what each try produced, and the typed failure.

A *check* is any callable ``(reply_text, context) -> CheckResult`` (or an awaitable
of one). ``SkillContext.generate_checked`` runs the checks on every reply, keeps
the outcomes on the :class:`~dualtrack.ModelCall` of that reply, and raises
:class:`CheckFailedError` (or returns the caller's fallback) when no model passed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .._errors import CheckFailedError

__all__ = [
    "Check",
    "CheckContext",
    "CheckFailedError",
    "CheckResult",
    "CheckStage",
    "CheckedAttempt",
]


class CheckStage(StrEnum):
    """Which try of a checked call a reply came from."""

    INITIAL = "initial"
    """The first reply, from the model the router chose."""
    FEEDBACK = "feedback"
    """The same route asked again, with the reasons the first reply failed."""
    ESCALATION = "escalation"
    """The next qualifying model, excluding every model already tried."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """The outcome of one check on one reply.

    Attributes:
        name: The check's name (``repetition``, ``schema``, ``formula`` ...).
        passed: Whether the reply passed.
        reason: Why it failed (or a note when it passed), for people and for the
            model the reason is fed back to.
        value: What the check parsed the reply into, if it parses (``None`` otherwise);
            checks that run later see it as ``context.value``.
    """

    name: str
    passed: bool
    reason: str = ""
    value: Any = None

    def describe(self) -> str:
        """``passed`` or ``rejected by check <name> (<reason>)``."""
        if self.passed:
            return "passed"
        return f"rejected by check {self.name}" + (f" ({self.reason})" if self.reason else "")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the parsed value is left out)."""
        return {"name": self.name, "passed": self.passed, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckContext:
    """What a check may look at besides the reply text.

    Attributes:
        prompt: The text of the last user message sent (the prompt of this try).
        source: The text the reply must stay faithful to (the paragraph being
            rewritten, the passage being summarized), when the caller gave one.
        value: The value parsed so far (by ``schema=`` or an earlier check).
        model: The model that wrote the reply.
        stage: Which try this is.
        finish_reason: Why the model stopped (``length`` when it hit the reply budget).
    """

    prompt: str = ""
    source: str = ""
    value: Any = None
    model: str | None = None
    stage: CheckStage = CheckStage.INITIAL
    finish_reason: str | None = None


Check = Callable[[str, CheckContext], CheckResult | Awaitable[CheckResult]]
"""A check: ``(reply_text, context) -> CheckResult``, sync or async."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedAttempt:
    """One try of a checked call.

    Attributes:
        stage: Initial, feedback or escalation.
        model: The model that replied (``None`` when no model could be asked).
        text: The reply text.
        outcomes: The outcome of each check run on it, in order (checks stop at the
            first failure).
        error: Why no model replied (no qualifying model left to escalate to).
    """

    stage: CheckStage
    model: str | None = None
    text: str = ""
    outcomes: tuple[CheckResult, ...] = field(default_factory=tuple)
    error: str | None = None

    @property
    def passed(self) -> bool:
        """Whether a model replied and every check passed."""
        return self.error is None and all(o.passed for o in self.outcomes)

    @property
    def failures(self) -> list[CheckResult]:
        """The outcomes that failed."""
        return [o for o in self.outcomes if not o.passed]

    def describe(self) -> str:
        """``model: passed`` or ``model: rejected by check ...``, for people."""
        if self.error is not None:
            return f"no model to {self.stage.value} to ({self.error})"
        failed = self.failures
        verdict = "; ".join(o.describe() for o in failed) if failed else "passed"
        return f"{self.model or '?'}: {verdict}"

"""What one evaluated skill call produced: an :class:`Observation` read off its result or error.

An *arm* is one way of serving the workload: a single model (the catalog holds
that model alone, so its replies are measured without escalation) or a routing
strategy over the whole catalog (``current``, ``all-partner``, ``in-house-first``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .._model._cards import ModelCard
from .._runtime._result import ModelCall

__all__ = ["ArmKind", "Observation", "RowStatus", "Strategy", "observe", "value_text"]

_SKIP_KEYS = frozenset({"output", "path", "file", "files", "notes", "model", "models", "sensitivity"})


class ArmKind(enum.StrEnum):
    """What an arm of the evaluation is."""

    MODEL = "model"
    """One model alone."""
    STRATEGY = "strategy"
    """A routing strategy over the whole catalog."""


class Strategy(enum.StrEnum):
    """The routings whose costs the report compares."""

    CURRENT = "current"
    """The configured policy, as it routes today."""
    ALL_PARTNER = "all-partner"
    """Partner models first for every skill (in-house only where no partner is cleared)."""
    IN_HOUSE_FIRST = "in-house-first"
    """The best in-house model first; a failed check escalates to the next qualifying model."""


class RowStatus(enum.StrEnum):
    """How one evaluated call ended."""

    OK = "ok"
    """The skill returned (its checked calls may still have fallen back)."""
    FAILED = "failed"
    """The skill raised (garbage the skill could not use, a connector error ...)."""
    TIMEOUT = "timeout"
    """No result within the time limit."""
    SKIPPED = "skipped"
    """The arm may not serve the call (no qualifying model: clearance, tags, window)."""


@dataclass(slots=True, kw_only=True)
class Observation:
    """One workload row served by one arm.

    Attributes:
        row: The row's id.
        skill: The full skill name.
        arm: The model or strategy name.
        kind: Model or strategy.
        status: How the call ended.
        error: Why it failed or was skipped.
        replies: Checked replies (model calls that had checks).
        passed: Checked replies that passed every check.
        check_errors: Check outcomes where the check itself raised.
        groups: Checked calls (each may span several replies: feedback, escalation).
        accepted: Checked calls that ended with a reply passing every check.
        escalated: Checked calls that went to more than one model.
        duration_s: Wall time of the skill call.
        input_tokens: Prompt tokens of every call.
        output_tokens: Reply tokens of every call.
        cost_usd: Dollars of every call.
        answered: Model calls answered, by model.
        in_house_calls: Of those, calls answered by an in-house model.
        clearance_violations: Calls answered by a model whose clearance is below the
            level of the data they carried (must stay 0).
        text: The skill's output as text (for agreement; never in the report).
        agreement: Token-multiset F1 against the reference model's output of the row.
    """

    row: str
    skill: str
    arm: str
    kind: ArmKind
    status: RowStatus = RowStatus.OK
    error: str | None = None
    replies: int = 0
    passed: int = 0
    check_errors: int = 0
    groups: int = 0
    accepted: int = 0
    escalated: int = 0
    duration_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    answered: dict[str, int] = field(default_factory=dict)
    in_house_calls: int = 0
    clearance_violations: int = 0
    text: str = ""
    agreement: float | None = None

    @property
    def measured(self) -> bool:
        """Whether the arm served the row (it was not skipped)."""
        return self.status is not RowStatus.SKIPPED

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the output text is left out)."""
        return {
            "row": self.row,
            "skill": self.skill,
            "arm": self.arm,
            "kind": self.kind.value,
            "status": self.status.value,
            "error": self.error,
            "replies": self.replies,
            "passed": self.passed,
            "check_errors": self.check_errors,
            "groups": self.groups,
            "accepted": self.accepted,
            "escalated": self.escalated,
            "duration_s": round(self.duration_s, 6),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "answered": dict(self.answered),
            "clearance_violations": self.clearance_violations,
            "agreement": self.agreement,
        }


def value_text(value: Any) -> str:
    """The text of a skill's value for the agreement measure: its strings and numbers, paths left out."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    parts: list[str] = []

    def walk(item: Any, key: str | None) -> None:
        if key in _SKIP_KEYS:
            return
        if isinstance(item, Mapping):
            for k, v in item.items():
                walk(v, str(k))
        elif isinstance(item, (list, tuple)):
            for v in item:
                walk(v, key)
        elif isinstance(item, str):
            if not (len(item) < 4096 and Path(item).is_absolute()):
                parts.append(item)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            parts.append(str(item))

    walk(value, None)
    return "\n".join(parts)


def observe(obs: Observation, calls: Sequence[ModelCall], cards: Mapping[str, ModelCard]) -> Observation:
    """Fill ``obs``'s check, usage and clearance figures from a skill call's model calls."""
    groups: dict[int, list[ModelCall]] = {}
    for call in calls:
        if call.model:
            obs.answered[call.model] = obs.answered.get(call.model, 0) + 1
            card = cards.get(call.model)
            if card is not None:
                if card.track.value == "in-house":
                    obs.in_house_calls += 1
                if card.clearance < call.decision.requirements.sensitivity:
                    obs.clearance_violations += 1
        obs.input_tokens += call.usage.input_tokens
        obs.output_tokens += call.usage.output_tokens
        obs.cost_usd += call.cost_usd
        if call.checks:
            obs.replies += 1
            obs.passed += all(c.passed for c in call.checks)
            obs.check_errors += sum(1 for c in call.checks if c.reason.startswith("the check raised"))
            groups.setdefault(call.check_group if call.check_group is not None else -id(call), []).append(
                call
            )
    for tries in groups.values():
        obs.groups += 1
        obs.accepted += all(c.passed for c in tries[-1].checks)
        obs.escalated += len({c.model for c in tries}) > 1
    return obs

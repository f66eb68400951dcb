"""What a skill call returns: its value plus the trace of every model call."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .._model._messages import Usage
from .._model._sensitivity import Sensitivity
from .._routing._decision import RouteDecision
from ._execution import Attempt
from ._outcomes import CheckResult

__all__ = ["ModelCall", "SkillResult"]


@dataclass(slots=True)
class ModelCall:
    """One routed model call made while a skill ran.

    Attributes:
        decision: The router's decision.
        attempts: Every attempt the executor made for it.
        model: The card that answered, or ``None`` if all failed.
        usage: Tokens used by the answer.
        cost_usd: Cost of the answer.
        checks: The outcome of each check run on the answer (``generate_checked``).
        check_group: Shared by the calls of one checked call (its tries), so that
            :meth:`SkillResult.explain` can show one chain of escalation.
    """

    decision: RouteDecision
    attempts: list[Attempt] = field(default_factory=list)
    model: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    check_group: int | None = None

    def describe_checks(self) -> str:
        """``model: passed`` or ``model: rejected by check <name> (<reason>)``."""
        failed = [c for c in self.checks if not c.passed]
        verdict = "; ".join(c.describe() for c in failed) if failed else "passed"
        return f"{self.model or '?'}: {verdict}"


@dataclass(slots=True)
class SkillResult:
    """The outcome of ``orc.invoke``.

    Attributes:
        skill: The full skill name.
        value: What the skill returned.
        calls: Every model call made, with its decision and attempts.
        duration_s: Wall time of the whole skill call.
        sensitivity: The sensitivity of the data the skill call handled, as it
            ended (files it opened raise it); whoever passes the value on to a
            model must carry at least this level.
        outputs: Files written back through file sources (OneDrive, SharePoint ...):
            the reference of each file written → the reference of the input it was
            written next to.
    """

    skill: str
    value: Any
    calls: list[ModelCall] = field(default_factory=list)
    duration_s: float = 0.0
    sensitivity: Sensitivity | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def decisions(self) -> list[RouteDecision]:
        """The routing decision of each model call, in order."""
        return [c.decision for c in self.calls]

    @property
    def attempts(self) -> list[Attempt]:
        """Every attempt of every model call, in order."""
        return [a for c in self.calls for a in c.attempts]

    @property
    def usage(self) -> Usage:
        """Total tokens."""
        total = Usage()
        for c in self.calls:
            total = total + c.usage
        return total

    @property
    def cost_usd(self) -> float:
        """Total cost."""
        return sum(c.cost_usd for c in self.calls)

    @property
    def models(self) -> list[str]:
        """The models that answered, in call order."""
        return [c.model for c in self.calls if c.model]

    def explain(self) -> str:
        """Every decision and attempt, for people."""
        if not self.calls:
            return f"{self.skill}: no model calls"
        parts = []
        for i, call in enumerate(self.calls, 1):
            parts.append(f"call {i}: " + call.decision.explain())
            for a in call.attempts:
                parts.append(f"    attempt {a.describe()}")
            if call.checks:
                parts.append(f"    checks {call.describe_checks()}")
        parts += self._check_chains()
        u = self.usage
        parts.append(
            f"total: {len(self.calls)} call(s), {u.input_tokens} in / {u.output_tokens} out tokens, "
            f"${self.cost_usd:.6f}, {self.duration_s:.2f} s"
        )
        return "\n".join(parts)

    def _check_chains(self) -> list[str]:
        """One line per checked call: each model's verdict, in the order they were tried."""
        chains: dict[int, list[ModelCall]] = {}
        for call in self.calls:
            if call.check_group is not None and call.checks:
                chains.setdefault(call.check_group, []).append(call)
        lines = []
        for calls in chains.values():
            text = " → ".join(c.describe_checks() for c in calls)
            if not all(c.passed for c in calls[-1].checks):
                text += " → no model passed the checks"
            lines.append(f"checked: {text}")
        return lines

    def tool_text(self) -> str:
        """The value as the text a model reads when the skill ran as its tool (JSON where it can be)."""
        value = self.value
        if hasattr(value, "model_dump_json"):
            return str(value.model_dump_json())
        try:
            return json.dumps(value, default=str)
        except (TypeError, ValueError):
            return str(value)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: value plus the full trace."""
        value = self.value
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        return {
            "skill": self.skill,
            "value": value,
            "duration_s": round(self.duration_s, 4),
            "usage": {"input_tokens": self.usage.input_tokens, "output_tokens": self.usage.output_tokens},
            "cost_usd": self.cost_usd,
            "outputs": dict(self.outputs),
            "calls": [
                {
                    "model": c.model,
                    "decision": c.decision.to_dict(),
                    "attempts": [
                        {
                            "model": a.model,
                            "ok": a.ok,
                            "outcome": a.outcome.value,
                            "error": a.error,
                            "duration_s": round(a.duration_s, 4),
                        }
                        for a in c.attempts
                    ],
                    "checks": [o.to_dict() for o in c.checks],
                }
                for c in self.calls
            ],
        }

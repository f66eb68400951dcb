"""Route decisions and how they explain themselves to people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._model._sensitivity import Sensitivity

if TYPE_CHECKING:
    from ._router import Requirements

__all__ = ["Candidate", "Rejection", "RouteDecision"]

_LEVELS = list(Sensitivity)


@dataclass(slots=True, frozen=True)
class Candidate:
    """A model that passed every hard constraint.

    Attributes:
        model: The card name.
        score: The policy's score (higher is better).
    """

    model: str
    score: float


@dataclass(slots=True, frozen=True)
class Rejection:
    """Why one model was not a candidate.

    Attributes:
        model: The card name.
        constraint: ``disabled``, ``excluded``, ``denied``, ``unavailable``,
            ``capabilities``, ``clearance`` or ``context``.
        detail: Constraint-specific data; :attr:`reason` renders it.
    """

    model: str
    constraint: str
    detail: Any = None

    @property
    def reason(self) -> str:
        """A one-line reason, e.g. ``clearance general < confidential``."""
        c, d = self.constraint, self.detail
        if c == "capabilities":
            return "missing tags " + ", ".join(d)
        if c == "clearance":
            return f"clearance {_LEVELS[d[0]].value} < {_LEVELS[d[1]].value}"
        if c == "context":
            return f"context window {d[0]} < {d[1]} tokens needed"
        if c == "disabled":
            return f"disabled ({d})" if d else "disabled"
        if c == "denied":
            return f"denied for {d} by policy"
        if c == "unavailable":
            return str(d)
        return "excluded (already tried)"

    @property
    def hint(self) -> str:
        """What would let a call like this one through."""
        c, d = self.constraint, self.detail
        if c == "capabilities":
            return "add a model with tag(s) " + ", ".join(d)
        if c == "clearance":
            return f"add a model with clearance {_LEVELS[d[1]].value} or higher"
        if c == "context":
            return f"add a model with a context window of at least {d[1]} tokens, or send less"
        if c == "disabled":
            return "enable a model (set its API key or `enabled = true`)"
        if c == "denied":
            return "relax the policy's deny list"
        if c == "unavailable":
            return "wait for the model to recover, or raise the budget"
        return "add another model"


class RouteDecision:
    """The router's answer: candidates best first, plus a rejection for every other model.

    Attributes:
        requirements: What was asked for.
        objective: The policy objective that ordered the candidates.
    """

    __slots__ = ("_candidates", "_ranked", "_reject", "_rejections", "objective", "requirements")

    def __init__(
        self,
        requirements: Requirements,
        ranked: tuple[tuple[str, float], ...],
        objective: str = "balanced",
        rejections: tuple[Rejection, ...] | Callable[[], tuple[Rejection, ...]] = (),
    ) -> None:
        self.requirements = requirements
        self.objective = objective
        self._ranked = ranked
        self._candidates: tuple[Candidate, ...] | None = None
        if callable(rejections):
            self._reject: Callable[[], tuple[Rejection, ...]] | None = rejections
            self._rejections: tuple[Rejection, ...] | None = None
        else:
            self._reject, self._rejections = None, rejections

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """Models to try, in order."""
        if self._candidates is None:
            self._candidates = tuple(Candidate(name, score) for name, score in self._ranked)
        return self._candidates

    @property
    def rejections(self) -> tuple[Rejection, ...]:
        """One entry per model that may not serve this call, with its reason."""
        if self._rejections is None:
            assert self._reject is not None
            self._rejections, self._reject = self._reject(), None
        return self._rejections

    def __repr__(self) -> str:
        return f"RouteDecision(order={self.order}, rejected={len(self.rejections)})"

    @property
    def chosen(self) -> str | None:
        """The first candidate, or ``None``."""
        return self._ranked[0][0] if self._ranked else None

    @property
    def order(self) -> list[str]:
        """Candidate names in order."""
        return [name for name, _ in self._ranked]

    def _header(self) -> str:
        r = self.requirements
        parts = [f"requires [{', '.join(sorted(r.requires)) or '-'}]"]
        if r.prefers:
            parts.append(f"prefers [{', '.join(sorted(r.prefers))}]")
        parts.append(f"sensitivity {r.sensitivity.value}")
        parts.append(f"~{r.tokens} tokens")
        parts.append(f"objective {self.objective}")
        head = "route" + (f" for {r.skill}" if r.skill else "")
        return f"{head}: " + ", ".join(parts)

    def explain(self) -> str:
        """Render every model: chosen, fallback rank, or rejected with its reason."""
        lines = [self._header()]
        for i, cand in enumerate(self.candidates):
            status = "chosen" if i == 0 else f"fallback #{i}"
            lines.append(f"  {cand.model:<24} {status:<12} score {cand.score:+.3f}")
        for rej in self.rejections:
            lines.append(f"  {rej.model:<24} rejected: {rej.reason}")
        if not self.candidates and not self.rejections:
            lines.append("  (the catalog is empty: configure a model in dualtrack.toml)")
        return "\n".join(lines)

    def explain_failure(self) -> str:
        """Why no model qualified and what to add; used by :class:`NoRouteError`."""
        hints: list[str] = []
        for rej in self.rejections:
            if rej.constraint != "excluded" and rej.hint not in hints:
                hints.append(rej.hint)
        if not self.rejections:
            hints.append("configure at least one model (dualtrack.toml or Orchestrator(models=...))")
        return "no model can serve this call.\n" + self.explain() + "\nTo fix: " + "; or ".join(hints)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for logs, JSON output and result objects."""
        r = self.requirements
        return {
            "skill": r.skill,
            "requires": sorted(r.requires),
            "prefers": sorted(r.prefers),
            "sensitivity": r.sensitivity.value,
            "tokens": r.tokens,
            "objective": self.objective,
            "candidates": [{"model": c.model, "score": round(c.score, 4)} for c in self.candidates],
            "rejected": [{"model": x.model, "reason": x.reason} for x in self.rejections],
        }

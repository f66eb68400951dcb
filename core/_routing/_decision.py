"""Route decisions and how they explain themselves to people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .._model._sensitivity import Sensitivity

if TYPE_CHECKING:
    from ._router import Requirements

__all__ = ["Candidate", "Constraint", "Rejection", "RouteDecision"]

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


class Constraint(StrEnum):
    """The hard constraint that kept a model from being a candidate."""

    DISABLED = "disabled"
    """The model is disabled (no API key, or ``enabled = false``)."""
    EXCLUDED = "excluded"
    """The caller excluded it (already tried, for example)."""
    DENIED = "denied"
    """The policy denies it for this skill or plugin."""
    CIRCUIT = "circuit"
    """Its circuit is open: it failed too many calls lately."""
    BUDGET = "budget"
    """A call to it would exceed a budget."""
    UNAVAILABLE = "unavailable"
    """Unavailable for another reason the caller gave the router."""
    TAGS = "tags"
    """It lacks a required capability tag."""
    CLEARANCE = "clearance"
    """It is not cleared for the call's sensitivity."""
    CONTEXT_WINDOW = "context"
    """The call does not fit its context window."""


@dataclass(slots=True, frozen=True, kw_only=True)
class Rejection:
    """Why one model was not a candidate.

    Attributes:
        model: The card name.
        constraint: The hard constraint that rejected it.
        detail: Constraint-specific data; :attr:`reason` renders it: missing tags
            (a tuple), ``(clearance rank, needed rank)``, ``(window, tokens needed)``,
            or a text for the others.
    """

    model: str
    constraint: Constraint
    detail: Any = None

    @property
    def reason(self) -> str:
        """A one-line reason, e.g. ``clearance general < confidential``."""
        c, d = self.constraint, self.detail
        if c is Constraint.TAGS:
            return "missing tags " + ", ".join(d)
        if c is Constraint.CLEARANCE:
            return f"clearance {_LEVELS[d[0]].value} < {_LEVELS[d[1]].value}"
        if c is Constraint.CONTEXT_WINDOW:
            return f"context window {d[0]} < {d[1]} tokens needed"
        if c is Constraint.DISABLED:
            return f"disabled ({d})" if d else "disabled"
        if c is Constraint.DENIED:
            return f"denied for {d} by policy"
        if c is Constraint.EXCLUDED:
            return "excluded (already tried)"
        if c is Constraint.CIRCUIT:
            return str(d) if d else "circuit open"
        return str(d) if d else c.value

    @property
    def hint(self) -> str:
        """What would let a call like this one through."""
        return _HINTS[self.constraint](self.detail)


_HINTS: dict[Constraint, Callable[[Any], str]] = {
    Constraint.TAGS: lambda d: "add a model with tag(s) " + ", ".join(d),
    Constraint.CLEARANCE: lambda d: f"add a model with clearance {_LEVELS[d[1]].value} or higher",
    Constraint.CONTEXT_WINDOW: lambda d: (
        f"add a model with a context window of at least {d[1]} tokens, or send less"
    ),
    Constraint.DISABLED: lambda d: "enable a model (set its API key or `enabled = true`)",
    Constraint.DENIED: lambda d: "relax the policy's deny list",
    Constraint.CIRCUIT: lambda d: "wait for the model to recover (`dualtrack models` shows its circuit)",
    Constraint.BUDGET: lambda d: (
        "raise the budget under [budgets] in dualtrack.toml, or wait for the next day (UTC)"
    ),
    Constraint.UNAVAILABLE: lambda d: "wait for the model to become available",
    Constraint.EXCLUDED: lambda d: "add another model",
}


class RouteDecision:
    """The router's answer: candidates best first, plus a rejection for every other model.

    Attributes:
        requirements: What was asked for.
        objective: The policy objective that ordered the candidates.
        probes: Candidates whose circuit is open, chosen for a probe call because
            no other model qualifies (model name → the circuit's state).
    """

    __slots__ = ("_candidates", "_ranked", "_reject", "_rejections", "objective", "probes", "requirements")

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
        self.probes: dict[str, str] = {}
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
            line = f"  {cand.model:<24} {status:<12} score {cand.score:+.3f}"
            if cand.model in self.probes:
                line += f" (probe: {self.probes[cand.model]}; no other model qualifies)"
            lines.append(line)
        for rej in self.rejections:
            lines.append(f"  {rej.model:<24} rejected: {rej.reason}")
        if not self.candidates and not self.rejections:
            lines.append("  (the catalog is empty: configure a model in dualtrack.toml)")
        return "\n".join(lines)

    def explain_failure(self) -> str:
        """Why no model qualified and what to add; used by :class:`NoRouteError`."""
        hints: list[str] = []
        for rej in self.rejections:
            if rej.constraint is not Constraint.EXCLUDED and rej.hint not in hints:
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

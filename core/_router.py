"""Capability-tag routing: hard constraints first, then a policy's score.

The router is pure: no I/O, no clock, no randomness. The same catalog, policy,
requirements and ``unavailable`` map always give the same decision. The catalog
is compiled once into tuples so a decision over 50 models costs microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from math import log1p
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ._cards import ModelCard, Track
from ._decision import Candidate, Rejection, RouteDecision
from ._errors import NoRouteError
from ._sensitivity import Sensitivity

__all__ = ["Policy", "Requirements", "Router"]

Objective = Literal["cost", "quality", "latency", "balanced"]
# name, capabilities, clearance rank, window, enabled, $in, $out, latency, quality, track
_Entry = tuple[str, frozenset[str], int, int, bool, float, float, float, float, Track]

# (quality, cost, latency) weights per objective.
_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "cost": (0.1, 1.0, 0.1),
    "quality": (1.0, 0.1, 0.1),
    "latency": (0.1, 0.1, 1.0),
    "balanced": (1 / 3, 1 / 3, 1 / 3),
}
_PREFERS_WEIGHT = 0.15
_TRACK_WEIGHT = 0.2
_PIN_WEIGHT = 100.0


class Policy(BaseModel):
    """How the router scores the models that pass the hard constraints.

    Attributes:
        objective: What to optimise: ``cost``, ``quality``, ``latency`` or ``balanced``.
        prefer_track: A track that gets a bonus (e.g. keep work in-house when possible).
        pin: Skill (``plugin.skill``) or plugin name → models to try first, in order.
        deny: Skill or plugin name → models that must never serve it (a hard constraint).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    objective: Objective = "balanced"
    prefer_track: Track | None = None
    pin: dict[str, list[str]] = Field(default_factory=dict)
    deny: dict[str, list[str]] = Field(default_factory=dict)

    def _lookup(self, table: dict[str, list[str]], skill: str | None) -> Sequence[str]:
        if not skill or not table:
            return ()
        found = table.get(skill)
        if found is None:
            found = table.get(skill.split(".", 1)[0], [])
        return found


@dataclass(slots=True, frozen=True)
class Requirements:
    """What one model call needs.

    Attributes:
        requires: Tags every candidate must have.
        prefers: Tags that raise a candidate's score.
        sensitivity: The sensitivity of the data carried; a hard constraint.
        input_tokens: Estimated prompt tokens.
        output_tokens: Tokens reserved for the reply.
        skill: The full skill name, for per-skill pins and denials.
        exclude: Models not to consider (already tried, for example).
    """

    requires: frozenset[str] = frozenset()
    prefers: frozenset[str] = frozenset()
    sensitivity: Sensitivity = Sensitivity.GENERAL
    input_tokens: int = 0
    output_tokens: int = 0
    skill: str | None = None
    exclude: frozenset[str] = field(default_factory=frozenset)

    @property
    def tokens(self) -> int:
        """Input plus output tokens the call needs to fit."""
        return self.input_tokens + self.output_tokens


class Router:
    """Chooses models for requirements under a policy.

    Args:
        cards: The model catalog.
        policy: The scoring policy; defaults to ``Policy()``.
    """

    __slots__ = ("_cards", "_entries", "policy")

    def __init__(self, cards: Iterable[ModelCard], policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._cards: dict[str, ModelCard] = {}
        for card in cards:
            self._cards[card.name] = card
        self._entries: tuple[_Entry, ...] = tuple(
            (
                c.name,
                c.capabilities,
                c.clearance.rank,
                c.context_window,
                c.enabled,
                c.cost_input,
                c.cost_output,
                c.latency_ms,
                c.quality,
                c.track,
            )
            for c in sorted(self._cards.values(), key=lambda c: c.name)
        )

    @property
    def cards(self) -> Mapping[str, ModelCard]:
        """The catalog, by name."""
        return self._cards

    def route(self, req: Requirements, unavailable: Mapping[str, str] | None = None) -> RouteDecision:
        """Decide which models may serve ``req``, best first.

        Args:
            req: The call's requirements.
            unavailable: Model name → reason it cannot be used right now
                (an open circuit, an exhausted budget). A hard constraint.

        Returns:
            The decision: candidates in order and a rejection for every other model.
        """
        policy = self.policy
        denied = policy._lookup(policy.deny, req.skill)
        pinned = policy._lookup(policy.pin, req.skill)
        requires = req.requires
        level = req.sensitivity.rank
        tokens = req.input_tokens + req.output_tokens
        exclude = req.exclude
        unavail = unavailable or {}
        rejections: list[Rejection] = []
        passed: list[_Entry] = []
        for entry in self._entries:
            name, caps, clearance, window, enabled = entry[:5]
            if not enabled:
                rejections.append(Rejection(name, "disabled", self._cards[name].disabled_reason))
            elif name in exclude:
                rejections.append(Rejection(name, "excluded", None))
            elif denied and name in denied:
                rejections.append(Rejection(name, "denied", req.skill))
            elif name in unavail:
                rejections.append(Rejection(name, "unavailable", unavail[name]))
            elif not requires <= caps:
                rejections.append(Rejection(name, "capabilities", tuple(sorted(requires - caps))))
            elif clearance < level:
                rejections.append(Rejection(name, "clearance", (clearance, level)))
            elif tokens > window:
                rejections.append(Rejection(name, "context", (window, tokens)))
            else:
                passed.append(entry)
        candidates = self._score(passed, req, pinned) if passed else ()
        return RouteDecision(req, candidates, tuple(rejections), policy.objective)

    def _score(self, passed: list[_Entry], req: Requirements, pinned: Sequence[str]) -> tuple[Candidate, ...]:
        wq, wc, wl = _WEIGHTS[self.policy.objective]
        prefer_track = self.policy.prefer_track
        tin, tout = req.input_tokens or 1, req.output_tokens or 1
        # Costs span orders of magnitude: compare them on a log scale relative to the
        # cheapest paid candidate, so "10x cheaper" matters at every price level.
        raw = [tin * e[5] + tout * e[6] for e in passed]
        unit = min((c for c in raw if c > 0), default=1.0)
        costs = [log1p(c / unit) for c in raw]
        max_cost = max(costs) or 1.0
        max_lat = max(e[7] for e in passed) or 1.0
        prefers = req.prefers
        n_prefers = len(prefers) or 1
        scored = []
        for entry, cost in zip(passed, costs, strict=True):
            name = entry[0]
            score = wq * entry[8] - wc * cost / max_cost - wl * entry[7] / max_lat
            if prefers:
                score += _PREFERS_WEIGHT * len(prefers & entry[1]) / n_prefers
            if prefer_track is not None and entry[9] is prefer_track:
                score += _TRACK_WEIGHT
            if pinned and name in pinned:
                score += _PIN_WEIGHT * (len(pinned) - pinned.index(name))
            scored.append((-score, name))
        scored.sort()
        return tuple(Candidate(name, -neg) for neg, name in scored)

    def require(self, req: Requirements, unavailable: Mapping[str, str] | None = None) -> RouteDecision:
        """Like :meth:`route`, but raise :class:`NoRouteError` when nothing qualifies."""
        decision = self.route(req, unavailable)
        if not decision.candidates:
            raise NoRouteError(decision)
        return decision

"""Capability-tag routing: hard constraints first, then a policy's score.

The router is pure: no I/O, no clock, no randomness. The same catalog, policy,
requirements and ``unavailable`` map always give the same decision. The catalog
is compiled once into tuples so a decision over 50 models costs microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from math import log1p
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .._errors import NoRouteError
from .._model._cards import ModelCard, Track
from .._model._sensitivity import Sensitivity
from ._decision import Constraint, Rejection, RouteDecision

__all__ = ["Policy", "Requirements", "Router", "Unavailable"]

Objective = Literal["cost", "quality", "latency", "balanced"]
# name, capabilities, clearance rank, window, static score, $in per 1M, $out per 1M
_Entry = tuple[str, frozenset[str], int, int, float, float, float]
Unavailable = Mapping[str, "str | Rejection"]
"""Model name → why it may not be used now: a :class:`Rejection` or a plain reason."""

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
_INDEX_SIZE = 4096  # distinct (tags, sensitivity) shapes remembered per router


class Policy(BaseModel):
    """How the router scores the models that pass the hard constraints.

    Attributes:
        objective: What to optimise: ``cost``, ``quality``, ``latency`` or ``balanced``.
        prefer_track: A track that gets a bonus (e.g. keep work in-house when possible).
        pin: Skill (``plugin.skill``) or plugin name → models to try first, in order.
        deny: Skill or plugin name → models that must never serve it (a hard constraint).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    objective: Objective = "balanced"
    prefer_track: Track | None = None
    pin: dict[str, list[str]] = Field(default_factory=dict)
    deny: dict[str, list[str]] = Field(default_factory=dict)


def _lookup(table: dict[str, list[str]], skill: str | None) -> Sequence[str]:
    """The entry of ``skill`` in a pin or deny table, else its plugin's."""
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

    The catalog is compiled once: each enabled model becomes a tuple holding its
    tags, clearance rank, window, prices and the part of its score that does not
    depend on the call (quality, latency normalised over the catalog, track
    preference). A decision then costs one filtering pass and one small sort;
    rejection reasons are worked out only when someone reads them.

    Args:
        cards: The model catalog.
        policy: The scoring policy; defaults to ``Policy()``.
    """

    __slots__ = ("_cards", "_eligible", "_live", "_order", "policy")

    def __init__(self, cards: Iterable[ModelCard], policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._cards: dict[str, ModelCard] = {}
        for card in cards:
            self._cards[card.name] = card
        self._order = tuple(sorted(self._cards))
        wq, _wc, wl = _WEIGHTS[self.policy.objective]
        live = [self._cards[n] for n in self._order if self._cards[n].enabled]
        max_lat = max((c.latency_ms for c in live), default=1.0) or 1.0
        prefer = self.policy.prefer_track
        self._eligible: dict[tuple[frozenset[str], int], tuple[_Entry, ...]] = {}
        self._live: tuple[_Entry, ...] = tuple(
            (
                c.name,
                c.capabilities,
                c.clearance.rank,
                c.context_window,
                wq * c.quality - wl * c.latency_ms / max_lat + (_TRACK_WEIGHT if c.track is prefer else 0.0),
                c.cost_input,
                c.cost_output,
            )
            for c in live
        )

    def _index(self, requires: frozenset[str], level: int) -> tuple[_Entry, ...]:
        """Models whose tags and clearance admit calls of this shape (memoised).

        Tags and clearance never change for a router, so each shape of call is
        worked out once; per call only the window and availability are checked.
        """
        if len(self._eligible) >= _INDEX_SIZE:
            self._eligible.clear()
        found = tuple(e for e in self._live if requires <= e[1] and e[2] >= level)
        self._eligible[(requires, level)] = found
        return found

    @property
    def cards(self) -> Mapping[str, ModelCard]:
        """The catalog, by name."""
        return self._cards

    def route(self, req: Requirements, unavailable: Unavailable | None = None) -> RouteDecision:
        """Decide which models may serve ``req``, best first.

        Args:
            req: The call's requirements.
            unavailable: Model name → why it cannot be used right now: a
                :class:`Rejection` (an open circuit, an exhausted budget) or a
                plain reason. A hard constraint.

        Returns:
            The decision: candidates in order and a rejection for every other model.
        """
        policy = self.policy
        denied = _lookup(policy.deny, req.skill) if policy.deny else ()
        pinned = _lookup(policy.pin, req.skill) if policy.pin else ()
        requires = req.requires
        level = req.sensitivity.rank
        tokens = req.input_tokens + req.output_tokens
        blocked: AbstractSet[str] = req.exclude
        if unavailable:
            blocked = blocked | unavailable.keys()
        if denied:
            blocked = blocked | set(denied)
        eligible = self._eligible.get((requires, level))
        if eligible is None:
            eligible = self._index(requires, level)
        if blocked:
            passed = [e for e in eligible if e[3] >= tokens and e[0] not in blocked]
        else:
            passed = [e for e in eligible if e[3] >= tokens]
        ranked = self._score(passed, req, pinned) if passed else ()
        unavail = dict(unavailable) if unavailable else {}
        return RouteDecision(
            req, ranked, policy.objective, lambda: self._rejections(req, unavail, denied, ranked)
        )

    def _score(
        self, passed: list[_Entry], req: Requirements, pinned: Sequence[str]
    ) -> tuple[tuple[str, float], ...]:
        wc = _WEIGHTS[self.policy.objective][1]
        tin, tout = req.input_tokens or 1, req.output_tokens or 1
        # Costs span orders of magnitude: compare them on a log scale relative to the
        # cheapest paid candidate, so "10x cheaper" matters at every price level.
        raws = [tin * e[5] + tout * e[6] for e in passed]
        top = max(raws)
        if top > 0:
            unit = min([r for r in raws if r > 0])
            k = wc / (log1p(top / unit) or 1.0)
            scored = [(k * log1p(r / unit) - e[4], e[0]) for e, r in zip(passed, raws, strict=True)]
        else:
            scored = [(-e[4], e[0]) for e in passed]
        prefers = req.prefers
        if prefers or pinned:
            bonus = _PREFERS_WEIGHT / len(prefers) if prefers else 0.0
            for i, e in enumerate(passed):
                neg, name = scored[i]
                if prefers:
                    neg -= bonus * len(prefers & e[1])
                if name in pinned:
                    neg -= _PIN_WEIGHT * (len(pinned) - pinned.index(name))
                scored[i] = (neg, name)
        scored.sort()
        return tuple([(name, -neg) for neg, name in scored])

    def _rejections(
        self,
        req: Requirements,
        unavail: Unavailable,
        denied: Sequence[str],
        ranked: tuple[tuple[str, float], ...],
    ) -> tuple[Rejection, ...]:
        chosen = {name for name, _ in ranked}
        level = req.sensitivity.rank
        tokens = req.tokens
        out: list[Rejection] = []
        for name in self._order:
            if name in chosen:
                continue
            c = self._cards[name]
            if not c.enabled:
                out.append(Rejection(model=name, constraint=Constraint.DISABLED, detail=c.disabled_reason))
            elif name in req.exclude:
                out.append(Rejection(model=name, constraint=Constraint.EXCLUDED))
            elif name in denied:
                out.append(Rejection(model=name, constraint=Constraint.DENIED, detail=req.skill))
            elif name in unavail:
                why = unavail[name]
                if not isinstance(why, Rejection):
                    why = Rejection(model=name, constraint=Constraint.UNAVAILABLE, detail=why)
                out.append(why)
            elif not req.requires <= c.capabilities:
                missing = tuple(sorted(req.requires - c.capabilities))
                out.append(Rejection(model=name, constraint=Constraint.TAGS, detail=missing))
            elif c.clearance.rank < level:
                out.append(
                    Rejection(model=name, constraint=Constraint.CLEARANCE, detail=(c.clearance.rank, level))
                )
            else:
                out.append(
                    Rejection(
                        model=name, constraint=Constraint.CONTEXT_WINDOW, detail=(c.context_window, tokens)
                    )
                )
        return tuple(out)

    def require(self, req: Requirements, unavailable: Unavailable | None = None) -> RouteDecision:
        """Like :meth:`route`, but raise :class:`NoRouteError` when nothing qualifies."""
        decision = self.route(req, unavailable)
        if not decision.candidates:
            raise NoRouteError(decision)
        return decision

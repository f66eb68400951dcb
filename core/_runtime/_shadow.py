"""Shadow calls: a copy of a model call sent to a second model in the background, for comparison.

A shadow model must pass the same hard constraints as the primary call (clearance
first, then tags, window, circuit and budget): one the router rejected is never
called; the host's ``on_shadow`` hears why it was skipped instead.

With a sampling ``fraction`` below 1, only that share of the calls is shadowed
(a seeded draw per primary call). A call made by ``generate_checked`` carries its
checks (through :data:`shadow_grader`), so the shadow's reply is checked the same
way, in the background, and :class:`ShadowResult` says whether it passed and how
far it agrees with the primary reply (:func:`~dualtrack._runtime._similarity.agreement`).
Nothing a shadow does reaches the primary result: it starts after the primary
reply is in, runs in its own task, and its errors are logged, never raised.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._model._messages import Completion, CompletionRequest
from ._outcomes import CheckResult
from ._retry import Attempt, Outcome
from ._similarity import agreement

if TYPE_CHECKING:
    from .._model._cards import ModelCard
    from .._routing._decision import RouteDecision
    from ._execution import Executor, Gate

__all__ = ["ShadowCallback", "ShadowGrader", "ShadowResult", "Shadows", "shadow_grader"]

_log = logging.getLogger("dualtrack")


@dataclass(slots=True, kw_only=True)
class ShadowResult:
    """The outcome of one shadow call (a copy of a request sent to a second model).

    Attributes:
        skill: The skill whose call was shadowed.
        model: The shadow model.
        completion: Its answer, or ``None`` when it failed or was not allowed.
        attempts: What happened (a skip says which hard constraint refused it).
        primary: The model that answered the real call.
        sensitivity: The level of the data the call carried.
        duration_s: Wall time of the shadow call.
        cost_usd: What the shadow call cost.
        checks: The outcome of each check of the primary call run on the shadow's
            reply (empty when the call had no checks or the shadow failed).
        agreement: Token-multiset F1 of the shadow's reply against the primary's
            (``None`` when the shadow did not answer).
    """

    skill: str | None
    model: str
    completion: Completion | None
    attempts: list[Attempt]
    primary: str | None = None
    sensitivity: str | None = None
    duration_s: float = 0.0
    cost_usd: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    agreement: float | None = None

    @property
    def passed(self) -> bool | None:
        """Whether the reply passed every check (``None``: no reply, or no checks to run)."""
        if self.completion is None or not self.checks:
            return None
        return all(c.passed for c in self.checks)


ShadowCallback = Callable[[ShadowResult], None]
Record = Callable[["ModelCard", "str | None", Completion], None]
"""Records the usage of an answered call: ``(card, skill, completion)``."""
ShadowGrader = Callable[[Completion], Awaitable[Sequence[CheckResult]]]
"""Runs a checked call's checks on another model's reply to the same request."""

shadow_grader: ContextVar[ShadowGrader | None] = ContextVar("dualtrack_shadow_grader", default=None)
"""Set by ``generate_checked`` around its model calls, so shadows of them are checked too."""


class Shadows:
    """Which models shadow which skills, and the background calls that serve them.

    Args:
        table: Skill or plugin name (or ``"*"`` for every skill) → models that also
            get a copy of its calls.
        executor: Runs the shadow calls (one attempt each, no retries).
        on_shadow: Receives each :class:`ShadowResult`.
        fraction: The share of calls shadowed, in ``[0, 1]``.
        seed: Seeds the sampling draw (reproducible runs).
    """

    __slots__ = ("_executor", "_rng", "fraction", "on_shadow", "table")

    def __init__(
        self,
        table: Mapping[str, Sequence[str]],
        executor: Executor,
        on_shadow: ShadowCallback | None = None,
        *,
        fraction: float = 1.0,
        seed: int | None = None,
    ) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"shadow fraction must be between 0 and 1, got {fraction}")
        self.table = {key: list(targets) for key, targets in table.items()}
        self._executor = executor
        self.on_shadow = on_shadow
        self.fraction = fraction
        self._rng = random.Random(seed)

    def models_for(self, skill: str | None) -> Sequence[str]:
        """The shadow models of ``skill`` (its own entry, else its plugin's, else ``"*"``)."""
        if not self.table or not skill:
            return ()
        found = self.table.get(skill)
        if found is None:
            found = self.table.get(skill.split(".", 1)[0])
        if found is None:
            found = self.table.get("*")
        return found or ()

    def sample(self) -> bool:
        """Whether this call is one of the shadowed fraction."""
        fraction = self.fraction
        return fraction >= 1.0 or (fraction > 0.0 and self._rng.random() < fraction)

    def start(
        self,
        models: Sequence[str],
        decision: RouteDecision,
        request: CompletionRequest,
        primary: str,
        *,
        gate: Callable[[], Gate | None],
        record: Record,
        primary_text: str | None = None,
    ) -> None:
        """Send ``request`` to each shadow model the decision allows, in the background.

        Args:
            models: The shadow models of the call's skill.
            decision: The primary call's decision (shadows pass its hard constraints or are skipped).
            request: The primary call's request.
            primary: The model that answered the primary call.
            gate: Makes the admission check (budgets) of one shadow call.
            record: Records the usage of an answered shadow call.
            primary_text: The primary reply, for the agreement measure.
        """
        req = decision.requirements
        grader = shadow_grader.get()
        level = max(req.sensitivity, request.sensitivity).value
        allowed = set(decision.order)
        for name in models:
            if name == primary:
                continue
            if name not in allowed:  # rejected by a hard constraint: never called, on this path either
                why = next((r.reason for r in decision.rejections if r.model == name), "not in the catalog")
                skipped = [Attempt(model=name, outcome=Outcome.REJECTED, error=f"skipped: {why}")]
                self._deliver(
                    ShadowResult(
                        skill=req.skill,
                        model=name,
                        completion=None,
                        attempts=skipped,
                        primary=primary,
                        sensitivity=level,
                    )
                )
                continue
            card = self._executor.cards[name]
            shadow = _Shadow(
                card=card, primary=primary, primary_text=primary_text, grader=grader, level=level
            )
            self._executor.spawn(self._shadow(shadow, decision, request, gate(), record))

    async def _shadow(
        self,
        shadow: _Shadow,
        decision: RouteDecision,
        request: CompletionRequest,
        gate: Gate | None,
        record: Record,
    ) -> None:
        ex = self._executor
        card = shadow.card
        skill = decision.requirements.skill
        deadline = ex.now() + ex.retry.attempt_timeout_s
        start = time.perf_counter()
        done, attempts = await ex.call_once(card, request, decision, deadline, gate=gate)
        elapsed = time.perf_counter() - start
        result = ShadowResult(
            skill=skill,
            model=card.name,
            completion=done,
            attempts=attempts,
            primary=shadow.primary,
            sensitivity=shadow.level,
            duration_s=elapsed,
        )
        if done is not None:
            record(card, skill, done)
            result.cost_usd = card.blended_cost(done.usage.input_tokens, done.usage.output_tokens)
            if shadow.primary_text is not None:
                result.agreement = agreement(done.text, shadow.primary_text)
            if shadow.grader is not None:
                try:
                    result.checks = list(await shadow.grader(done))
                except Exception as exc:  # noqa: BLE001 - grading a shadow must never surface
                    why = f"the checks raised {type(exc).__name__}"
                    result.checks = [CheckResult(name="checks", passed=False, reason=why)]
        self._deliver(result)

    def _deliver(self, result: ShadowResult) -> None:
        if self.on_shadow is None:
            return
        try:
            self.on_shadow(result)
        except Exception:  # noqa: BLE001 - a host callback must not break the primary path
            _log.exception("on_shadow callback failed")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Shadow:
    """What one background shadow call needs to know about its primary call."""

    card: ModelCard
    primary: str
    primary_text: str | None
    grader: ShadowGrader | None
    level: str

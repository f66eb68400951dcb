"""Shadow calls: a copy of a model call sent to a second model in the background, for comparison.

A shadow model must pass the same hard constraints as the primary call (clearance
first, then tags, window, circuit and budget): one the router rejected is never
called; the host's ``on_shadow`` hears why it was skipped instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._model._messages import Completion, CompletionRequest
from ._retry import Attempt, Outcome

if TYPE_CHECKING:
    from .._model._cards import ModelCard
    from .._routing._decision import RouteDecision
    from ._execution import Executor, Gate

__all__ = ["ShadowCallback", "ShadowResult", "Shadows"]

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
    """

    skill: str | None
    model: str
    completion: Completion | None
    attempts: list[Attempt]
    primary: str | None = None


ShadowCallback = Callable[[ShadowResult], None]
Record = Callable[["ModelCard", "str | None", Completion], None]
"""Records the usage of an answered call: ``(card, skill, completion)``."""


class Shadows:
    """Which models shadow which skills, and the background calls that serve them.

    Args:
        table: Skill or plugin name → models that also get a copy of its calls.
        executor: Runs the shadow calls (one attempt each, no retries).
        on_shadow: Receives each :class:`ShadowResult`.
    """

    __slots__ = ("_executor", "on_shadow", "table")

    def __init__(
        self,
        table: Mapping[str, Sequence[str]],
        executor: Executor,
        on_shadow: ShadowCallback | None = None,
    ) -> None:
        self.table = {key: list(targets) for key, targets in table.items()}
        self._executor = executor
        self.on_shadow = on_shadow

    def models_for(self, skill: str | None) -> Sequence[str]:
        """The shadow models of ``skill`` (its own entry, else its plugin's)."""
        if not self.table or not skill:
            return ()
        found = self.table.get(skill)
        if found is None:
            found = self.table.get(skill.split(".", 1)[0])
        return found or ()

    def start(
        self,
        models: Sequence[str],
        decision: RouteDecision,
        request: CompletionRequest,
        primary: str,
        *,
        gate: Callable[[], Gate | None],
        record: Record,
    ) -> None:
        """Send ``request`` to each shadow model the decision allows, in the background.

        Args:
            models: The shadow models of the call's skill.
            decision: The primary call's decision (shadows pass its hard constraints or are skipped).
            request: The primary call's request.
            primary: The model that answered the primary call.
            gate: Makes the admission check (budgets) of one shadow call.
            record: Records the usage of an answered shadow call.
        """
        req = decision.requirements
        allowed = set(decision.order)
        for name in models:
            if name == primary:
                continue
            if name not in allowed:  # rejected by a hard constraint: never called, on this path either
                why = next((r.reason for r in decision.rejections if r.model == name), "not in the catalog")
                skipped = [Attempt(model=name, outcome=Outcome.REJECTED, error=f"skipped: {why}")]
                self._deliver(
                    ShadowResult(
                        skill=req.skill, model=name, completion=None, attempts=skipped, primary=primary
                    )
                )
                continue
            card = self._executor.cards[name]
            self._executor.spawn(self._shadow(card, decision, request, primary, gate(), record))

    async def _shadow(
        self,
        card: ModelCard,
        decision: RouteDecision,
        request: CompletionRequest,
        primary: str,
        gate: Gate | None,
        record: Record,
    ) -> None:
        ex = self._executor
        skill = decision.requirements.skill
        deadline = ex.now() + ex.retry.attempt_timeout_s
        done, attempts = await ex.call_once(card, request, decision, deadline, gate=gate)
        if done is not None:
            record(card, skill, done)
        self._deliver(
            ShadowResult(skill=skill, model=card.name, completion=done, attempts=attempts, primary=primary)
        )

    def _deliver(self, result: ShadowResult) -> None:
        if self.on_shadow is None:
            return
        try:
            self.on_shadow(result)
        except Exception:  # noqa: BLE001 - a host callback must not break the primary path
            _log.exception("on_shadow callback failed")

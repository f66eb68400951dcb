"""Budgets kept in a :class:`~dualtrack._runtime._state.SharedState`: one budget for every worker.

:class:`SharedBudgetTracker` decides exactly as :class:`~dualtrack._runtime._budget.BudgetTracker`
does (same scopes, same reasons), but today's spend and the reservations of calls in
flight live in the shared state: the router reads them once per call, and the gate
before each attempt checks and reserves in one atomic step on the shared state, so
two workers can never both take the last dollar. A reservation lapses after
``hold_ttl_s`` if its worker died before settling it.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from ._budget import GLOBAL, Budget, Budgets, BudgetTracker, _today, refusal_text
from ._state import ScopeLimit, SharedState

if TYPE_CHECKING:
    from .._model._cards import ModelCard
    from .._model._messages import Completion
    from .._routing._router import Requirements

__all__ = ["SharedBudgetGate", "SharedBudgetTracker"]


class SharedBudgetTracker(BudgetTracker):
    """A :class:`BudgetTracker` whose spend and reservations live in shared state.

    Args:
        budgets: The limits.
        state: Where every worker's spend and reservations are kept.
        hold_ttl_s: How long an unsettled reservation holds budget (longer than a call can take).
        today: Returns the current UTC day as ISO text (injectable for tests).
    """

    def __init__(
        self,
        budgets: Budgets,
        state: SharedState,
        *,
        hold_ttl_s: float = 900.0,
        today: Callable[[], str] = _today,
    ) -> None:
        super().__init__(budgets, None, today)
        self.state = state
        self.hold_ttl_s = hold_ttl_s
        self._ids = itertools.count()
        self._prefix = f"{uuid.uuid4().hex[:12]}-{os.getpid()}-"

    # -- accounting ---------------------------------------------------------------

    def record(self, skill: str | None, usd: float, tokens: int) -> None:
        """Count real usage of an answered call."""
        self.state.settle(self._today(), list(self._keys(skill)), None, usd, tokens)

    def spent(self, scope: str = GLOBAL) -> tuple[float, int]:
        """Today's ``(usd, tokens)`` of a scope, over every worker."""
        return self.state.spent(self._today(), scope)

    # -- decisions ----------------------------------------------------------------

    def _used(self, scopes: Sequence[tuple[str, Budget]]) -> Mapping[str, Sequence[float]]:
        """Spent plus reserved ``(usd, tokens)`` of each scope today, over every worker (one read)."""
        return self.state.used(self._today(), [k for k, _ in scopes])

    def gate(self, req: Requirements) -> SharedBudgetGate:  # type: ignore[override]
        """The executor gate for one model call: reserve in the shared state before each attempt."""
        return SharedBudgetGate(self, req)

    def take(self, card: ModelCard, req: Requirements) -> str | tuple[str, float, int]:
        """Refuse a call with a reason, or reserve its estimate: ``(hold id, usd, tokens)``."""
        usd = card.blended_cost(req.input_tokens, req.output_tokens)
        tokens = req.input_tokens + req.output_tokens
        hold = f"{self._prefix}{next(self._ids)}"
        limits = [
            ScopeLimit(key=k, usd=b.usd_per_day, tokens=b.tokens_per_day)
            for k, b in self.budgets.scopes(req.skill)
        ]
        short = self.state.reserve(
            self._today(), list(self._keys(req.skill)), limits, usd, tokens, hold=hold, ttl_s=self.hold_ttl_s
        )
        if short is not None:
            return refusal_text(short, usd, tokens)
        return hold, usd, tokens

    def give_back(
        self, card: ModelCard, req: Requirements, hold: str | None, completion: Completion | None
    ) -> None:
        """Drop a reservation; count the real usage when the call answered."""
        usd, tokens = 0.0, 0
        if completion is not None:
            u = completion.usage
            usd, tokens = card.blended_cost(u.input_tokens, u.output_tokens), u.total_tokens
        if hold is None and not (usd or tokens):
            return
        self.state.settle(self._today(), list(self._keys(req.skill)), hold, usd, tokens)


class SharedBudgetGate:
    """Reserves a call's estimate in shared state before an attempt and settles it after."""

    __slots__ = ("_hold", "_req", "_tracker")

    def __init__(self, tracker: SharedBudgetTracker, req: Requirements) -> None:
        self._tracker = tracker
        self._req = req
        self._hold: str | None = None

    def enter(self, card: ModelCard) -> str | None:
        """Refuse ``card`` with a reason, or reserve its estimate."""
        got = self._tracker.take(card, self._req)
        if isinstance(got, str):
            return got
        self._hold = got[0]
        return None

    def exit(self, card: ModelCard, completion: Completion | None) -> None:
        """Drop the reservation; count the real usage when the call answered."""
        hold, self._hold = self._hold, None
        self._tracker.give_back(card, self._req, hold, completion)

"""Daily budgets in USD and tokens, global and per skill (or per plugin).

Budgets are enforced *before* a call: a model whose estimated cost would take a
scope past its limit is handed to the router as unavailable, with the reason
(``budget: document.summarize $0.98 of $1.00 today``), so the route explanation
says why and a cheaper model (an in-house one, say) serves the call instead.
Just before each attempt the executor's gate re-checks and *reserves* the
estimate, so many concurrent calls cannot all slip under the same limit; after
the call the reservation is replaced by the real usage.

A model whose estimated cost is zero is never refused by a USD limit. Spend is
counted per UTC day and seeded from the usage ledger when it can list rows.

Configuration::

    [budgets]
    usd_per_day = 10.0
    tokens_per_day = 5_000_000
    [budgets.skills]
    "document.summarize" = { usd_per_day = 1.0 }
    spreadsheet = { tokens_per_day = 200_000 }   # a plugin name covers all its skills
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from ._state import BudgetUnit, Shortfall

if TYPE_CHECKING:
    from .._model._cards import ModelCard
    from .._model._messages import Completion
    from .._routing._router import Requirements

__all__ = ["Budget", "BudgetTracker", "Budgets", "refusal_text"]

GLOBAL = "global"


class Budget(BaseModel):
    """Limits of one scope per UTC day (``None`` means no limit).

    Attributes:
        usd_per_day: Dollars per day.
        tokens_per_day: Input plus output tokens per day.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    usd_per_day: float | None = Field(default=None, ge=0)
    tokens_per_day: int | None = Field(default=None, ge=0)

    @property
    def limited(self) -> bool:
        """Whether any limit is set."""
        return self.usd_per_day is not None or self.tokens_per_day is not None


class Budgets(Budget):
    """The global daily limits plus limits per skill or plugin.

    Attributes:
        skills: ``plugin.skill`` or ``plugin`` → its own daily limits.
    """

    skills: dict[str, Budget] = Field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Whether anything is limited at all."""
        return self.limited or any(b.limited for b in self.skills.values())

    def scopes(self, skill: str | None) -> list[tuple[str, Budget]]:
        """The scopes that limit calls of ``skill``: global, plugin, skill."""
        out: list[tuple[str, Budget]] = []
        if self.limited:
            out.append((GLOBAL, self))
        if skill:
            plugin = skill.split(".", 1)[0]
            if plugin != skill and plugin in self.skills and self.skills[plugin].limited:
                out.append((plugin, self.skills[plugin]))
            if skill in self.skills and self.skills[skill].limited:
                out.append((skill, self.skills[skill]))
        return out


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def _shortfall(
    scopes: Sequence[tuple[str, Budget]], used: Mapping[str, Sequence[float]], usd: float, tokens: int
) -> Shortfall | None:
    """The first scope a call would take past its limit, or ``None`` if it fits.

    Args:
        scopes: The limited scopes, as :meth:`Budgets.scopes` lists them.
        used: Spent plus reserved ``(usd, tokens)`` today, by scope (absent: nothing).
        usd: The call's estimated cost (a zero cost is never refused by a USD limit).
        tokens: The call's estimated tokens.
    """
    for key, limit in scopes:
        u, t = used.get(key, (0.0, 0.0))
        if limit.usd_per_day is not None and usd > 0 and u + usd > limit.usd_per_day:
            return Shortfall(key=key, unit=BudgetUnit.USD, used=u, limit=limit.usd_per_day)
        if limit.tokens_per_day is not None and t + tokens > limit.tokens_per_day:
            return Shortfall(key=key, unit=BudgetUnit.TOKENS, used=t, limit=limit.tokens_per_day)
    return None


def refusal_text(short: Shortfall, usd: float, tokens: int) -> str:
    """The reason a call is refused, as route explanations and errors show it."""
    if short.unit is BudgetUnit.USD:
        return f"budget: {short.key} ${short.used:.2f} of ${short.limit:.2f} today (this call ~${usd:.4f})"
    used, limit = int(short.used), int(short.limit)
    return f"budget: {short.key} {used:,} of {limit:,} tokens today (this call ~{tokens:,})"


class BudgetTracker:
    """Counts today's spend per scope and decides whether a call fits.

    Args:
        budgets: The limits.
        ledger: A ledger with ``rows(days=...)`` to seed today's spend from (optional).
        today: Returns the current UTC day as ISO text (injectable for tests).
    """

    def __init__(self, budgets: Budgets, ledger: Any = None, today: Callable[[], str] = _today) -> None:
        self.budgets = budgets
        self._ledger = ledger
        self._today = today
        self._day: str | None = None
        self._spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # usd, tokens
        self._reserved: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self._lock = threading.Lock()

    # -- accounting ---------------------------------------------------------------

    def _roll(self) -> None:
        day = self._today()
        if day == self._day:
            return
        self._day = day
        self._spent.clear()
        rows = getattr(self._ledger, "rows", None)
        if rows is None:
            return
        for row in rows(days=1):
            if row.day == day:
                self._add(row.skill, row.cost_usd, row.input_tokens + row.output_tokens)

    def _keys(self, skill: str | None) -> Iterable[str]:
        yield GLOBAL
        if skill:
            yield skill
            plugin = skill.split(".", 1)[0]
            if plugin != skill:
                yield plugin

    def _add(self, skill: str | None, usd: float, tokens: float) -> None:
        for key in self._keys(skill):
            v = self._spent[key]
            v[0] += usd
            v[1] += tokens

    def record(self, skill: str | None, usd: float, tokens: int) -> None:
        """Count real usage of an answered call."""
        with self._lock:
            self._roll()
            self._add(skill, usd, tokens)

    def spent(self, scope: str = GLOBAL) -> tuple[float, int]:
        """Today's ``(usd, tokens)`` of a scope (``global``, a plugin or a skill)."""
        with self._lock:
            self._roll()
            usd, tokens = self._spent.get(scope, (0.0, 0.0))
            return usd, int(tokens)

    # -- decisions ----------------------------------------------------------------

    def _used(self, scopes: Sequence[tuple[str, Budget]]) -> Mapping[str, Sequence[float]]:
        """Spent plus reserved ``(usd, tokens)`` of each scope today."""
        with self._lock:
            self._roll()
            return self._totals(scopes)

    def _totals(self, scopes: Sequence[tuple[str, Budget]]) -> dict[str, tuple[float, float]]:
        """:meth:`_used` with the lock held and the day rolled."""
        spent, held = self._spent, self._reserved
        out: dict[str, tuple[float, float]] = {}
        for key, _ in scopes:
            s, h = spent.get(key, (0.0, 0.0)), held.get(key, (0.0, 0.0))
            out[key] = (s[0] + h[0], s[1] + h[1])
        return out

    def unavailable(self, cards: Iterable[ModelCard], req: Requirements) -> dict[str, str]:
        """Model name → budget reason for every card the call would not fit (for the router)."""
        scopes = self.budgets.scopes(req.skill)
        if not scopes:
            return {}
        used = self._used(scopes)
        tokens = req.input_tokens + req.output_tokens
        out: dict[str, str] = {}
        for card in cards:
            usd = card.blended_cost(req.input_tokens, req.output_tokens)
            short = _shortfall(scopes, used, usd, tokens)
            if short is not None:
                out[card.name] = refusal_text(short, usd, tokens)
        return out

    def gate(self, req: Requirements) -> BudgetGate:
        """The executor gate for one model call: re-check and reserve before each attempt."""
        return BudgetGate(self, req)

    def reserve(self, card: ModelCard, req: Requirements) -> str | tuple[float, int]:
        """Refuse a call of ``req`` to ``card`` with a reason, or reserve its estimate.

        Returns:
            The reason, or the ``(usd, tokens)`` reserved (give it back to :meth:`settle`).
        """
        usd = card.blended_cost(req.input_tokens, req.output_tokens)
        tokens = req.input_tokens + req.output_tokens
        scopes = self.budgets.scopes(req.skill)
        with self._lock:
            self._roll()
            short = _shortfall(scopes, self._totals(scopes), usd, tokens) if scopes else None
            if short is not None:
                return refusal_text(short, usd, tokens)
            for key in self._keys(req.skill):
                held = self._reserved[key]
                held[0] += usd
                held[1] += tokens
        return usd, tokens

    def settle(
        self,
        card: ModelCard,
        req: Requirements,
        held: tuple[float, int] | None,
        completion: Completion | None,
    ) -> None:
        """Drop a reservation; count the real usage when the call answered."""
        with self._lock:
            if held is not None:
                usd, tokens = held
                for key in self._keys(req.skill):
                    h = self._reserved[key]
                    h[0] = max(0.0, h[0] - usd)
                    h[1] = max(0.0, h[1] - tokens)
            if completion is not None:
                self._roll()
                u = completion.usage
                self._add(req.skill, card.blended_cost(u.input_tokens, u.output_tokens), u.total_tokens)


class BudgetGate:
    """Reserves a call's estimate before an attempt and settles it after (see :class:`Gate`)."""

    __slots__ = ("_held", "_req", "_tracker")

    def __init__(self, tracker: BudgetTracker, req: Requirements) -> None:
        self._tracker = tracker
        self._req = req
        self._held: tuple[float, int] | None = None

    def enter(self, card: ModelCard) -> str | None:
        """Refuse ``card`` with a reason, or reserve its estimate."""
        got = self._tracker.reserve(card, self._req)
        if isinstance(got, str):
            return got
        self._held = got
        return None

    def exit(self, card: ModelCard, completion: Completion | None) -> None:
        """Drop the reservation; count the real usage when the call answered."""
        held, self._held = self._held, None
        self._tracker.settle(card, self._req, held, completion)

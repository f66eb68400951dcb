"""Usage ledgers: where the tokens and dollars of every answered call are recorded."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

from .._model._cards import ModelCard
from .._model._messages import Usage

__all__ = ["Ledger", "MemoryLedger", "UsageRow", "UtcDay"]

_DAY_S = 86_400


class UtcDay:
    """Today's UTC date as ISO text, worked out once per day instead of once per call."""

    __slots__ = ("_end", "_start", "_text")

    def __init__(self) -> None:
        self._start = self._end = 0.0
        self._text = ""

    def of(self, now: float) -> str:
        """The ISO date (UTC) of the POSIX time ``now``."""
        if self._start <= now < self._end:
            return self._text
        start = now - now % _DAY_S  # POSIX time has no leap seconds: days are 86,400 s
        text = dt.datetime.fromtimestamp(start, dt.UTC).date().isoformat()
        self._start, self._end, self._text = start, start + _DAY_S, text
        return text


@dataclass(slots=True, frozen=True)
class UsageRow:
    """One aggregated line of usage.

    Attributes:
        day: ISO date (UTC).
        model: Card name.
        track: ``partner`` or ``in-house``.
        skill: Full skill name (``host.ask`` for free-form calls).
        calls: Answered calls.
        input_tokens: Prompt tokens.
        output_tokens: Completion tokens.
        cost_usd: Dollars.
    """

    day: str
    model: str
    track: str
    skill: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class Ledger(Protocol):
    """Records usage after each answered call. One required method."""

    def record(self, card: ModelCard, skill: str | None, usage: Usage, cost_usd: float) -> None:
        """Record one answered call."""
        ...


class MemoryLedger:
    """A ledger kept in memory, aggregated by day, model and skill."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str, str, str], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
        self._lock = threading.Lock()
        self._day = UtcDay()

    def record(self, card: ModelCard, skill: str | None, usage: Usage, cost_usd: float) -> None:
        """Record one answered call."""
        key = (self._day.of(time.time()), card.name, card.track.value, skill or "-")
        with self._lock:
            row = self._rows[key]
            row[0] += 1
            row[1] += usage.input_tokens
            row[2] += usage.output_tokens
            row[3] += cost_usd

    def rows(self, days: int | None = None) -> list[UsageRow]:
        """Aggregated rows of the last ``days`` days (all when ``None``), sorted."""
        since = ""
        if days is not None:
            since = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days - 1)).isoformat()
        with self._lock:
            return [
                UsageRow(*key, int(v[0]), int(v[1]), int(v[2]), float(v[3]))
                for key, v in sorted(self._rows.items())
                if key[0] >= since
            ]

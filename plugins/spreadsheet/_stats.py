"""Per-column statistics in one pass with bounded memory.

Counts, types, min/max/mean and date ranges are exact. Distinct values are
exact up to :data:`DISTINCT_CAP` (then reported as capped). Outliers use the
IQR rule (below Q1 - 1.5 IQR or above Q3 + 1.5 IQR) on a reservoir sample of
:data:`SAMPLE` values with their row numbers: exact for columns up to that
size, an estimate (flagged) beyond.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from typing import Any

from ._models import ColumnProfile

__all__ = ["DISTINCT_CAP", "EXCEL_ERRORS", "SAMPLE", "ColumnStats"]

DISTINCT_CAP = 10_000
SAMPLE = 20_000
_TOP_CAP = 2_000


class ColumnStats:
    """Accumulates one column's statistics, one value at a time."""

    __slots__ = (
        "_distinct",
        "_dmax",
        "_dmin",
        "_max",
        "_min",
        "_rng",
        "_sample",
        "_seen_numbers",
        "_sum",
        "_top",
        "count",
        "errors",
        "kinds",
        "missing",
    )

    def __init__(self) -> None:
        self.count = 0
        self.missing = 0
        self.errors = 0
        self.kinds: Counter[str] = Counter()
        self._distinct: set[Any] | None = set()
        self._top: Counter[str] = Counter()
        self._sum = 0.0
        self._min: float | None = None
        self._max: float | None = None
        self._dmin: dt.datetime | None = None
        self._dmax: dt.datetime | None = None
        self._sample: list[tuple[float, int]] = []
        self._seen_numbers = 0
        self._rng = random.Random(1234)

    def add(self, value: Any, row: int) -> None:
        """Take the value of this column in ``row`` (``None`` or blank counts as missing)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            self.missing += 1
            return
        self.count += 1
        if self._distinct is not None:
            self._distinct.add(value)
            if len(self._distinct) > DISTINCT_CAP:
                self._distinct = None
        if isinstance(value, bool):
            self.kinds["bool"] += 1
            self._count_top(str(value).upper())
        elif isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                self.errors += 1
                return
            self.kinds["integer" if isinstance(value, int) or value.is_integer() else "number"] += 1
            self._number(float(value), row)
        elif isinstance(value, dt.datetime | dt.date):
            self.kinds["date"] += 1
            d = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
            self._dmin = d if self._dmin is None or d < self._dmin else self._dmin
            self._dmax = d if self._dmax is None or d > self._dmax else self._dmax
        elif isinstance(value, str) and value in EXCEL_ERRORS:
            self.errors += 1
            self.kinds["error"] += 1
        else:
            self.kinds["text"] += 1
            self._count_top(str(value)[:100])

    def _count_top(self, key: str) -> None:
        if key in self._top or len(self._top) < _TOP_CAP:
            self._top[key] += 1

    def _number(self, v: float, row: int) -> None:
        self._sum += v
        self._min = v if self._min is None or v < self._min else self._min
        self._max = v if self._max is None or v > self._max else self._max
        self._seen_numbers += 1
        if len(self._sample) < SAMPLE:
            self._sample.append((v, row))
        else:
            j = self._rng.randrange(self._seen_numbers)
            if j < SAMPLE:
                self._sample[j] = (v, row)

    def kind(self) -> str:
        """The column's type: the dominant kind when it covers 90% of values, else ``mixed``."""
        if not self.count:
            return "empty"
        kinds = Counter(self.kinds)
        if kinds["number"] and kinds["integer"]:
            kinds["number"] += kinds.pop("integer")
        top, n = kinds.most_common(1)[0]
        return top if n >= 0.9 * self.count else "mixed"

    def result(self, column: str, name: str) -> ColumnProfile:
        """The finished profile of the column."""
        kind = self.kind()
        prof = ColumnProfile(
            column=column,
            name=name,
            kind=kind,
            count=self.count,
            missing=self.missing,
            distinct=len(self._distinct) if self._distinct is not None else DISTINCT_CAP,
            distinct_capped=self._distinct is None,
            errors=self.errors,
        )
        if self._seen_numbers and kind in ("number", "integer", "mixed"):
            prof.min, prof.max = self._min, self._max
            prof.mean = self._sum / self._seen_numbers
            self._outliers(prof)
        if self._dmin is not None:
            prof.first_date = self._dmin.isoformat()
            prof.last_date = self._dmax.isoformat() if self._dmax else None
            if kind == "date":
                prof.min, prof.max = prof.first_date, prof.last_date
        if kind in ("text", "bool", "mixed") and self._top:
            prof.top_values = [(k, n) for k, n in self._top.most_common(5)]
        return prof

    def _outliers(self, prof: ColumnProfile) -> None:
        values = sorted(v for v, _ in self._sample)
        if len(values) < 8:
            return
        q1, q3 = _quantile(values, 0.25), _quantile(values, 0.75)
        iqr = q3 - q1
        if iqr <= 0:
            return
        lo, hi = q1 - 1.5 * iqr, q3 + 1.5 * iqr
        flagged = sorted(((v, r) for v, r in self._sample if v < lo or v > hi), key=lambda x: x[1])
        scale = self._seen_numbers / len(self._sample)
        prof.outliers = round(len(flagged) * scale)
        prof.outliers_estimated = scale > 1
        prof.outlier_examples = [(r, v) for v, r in flagged[:5]]


EXCEL_ERRORS = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA"}
)


def _quantile(sorted_values: list[float], q: float) -> float:
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)

"""Per-column statistics in one pass with bounded memory.

Counts, types, min/max/mean and date ranges are exact. Distinct values are
counted exactly up to :data:`DISTINCT_EXACT`, then estimated with a K-minimum-values
sketch (256 hashes, about 6% error) and flagged as estimated. Outliers use the
IQR rule (below Q1 - 1.5 IQR or above Q3 + 1.5 IQR) on a reservoir sample of
:data:`SAMPLE` values with their row numbers: exact for columns up to that
size, an estimate (flagged) beyond.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import re
from array import array
from collections import Counter
from typing import Any

from ._models import ColumnProfile

__all__ = ["DISTINCT_EXACT", "EXCEL_ERRORS", "SAMPLE", "ColumnStats", "DistinctCounter"]

DISTINCT_EXACT = 1_000
_KMV = 256
_MASK = (1 << 64) - 1
_NUMBER_TEXT = re.compile(r"^\s*[-+]?(\d+[.,]?\d*|[.,]\d+)([eE][-+]?\d+)?\s*$")
SAMPLE = 20_000
_TOP_CAP = 2_000


def _mix(value: Any) -> int:
    """A well-spread 64-bit hash (splitmix64 finaliser over Python's hash, which is the identity for ints)."""
    z = (hash(value) + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class DistinctCounter:
    """Distinct values: exact up to :data:`DISTINCT_EXACT`, then a K-minimum-values estimate.

    Attributes:
        estimated: Whether :meth:`count` is an estimate.
    """

    __slots__ = ("_heap", "_kept", "_seen", "estimated")

    def __init__(self) -> None:
        self._seen: set[int] | None = set()
        self._heap: list[int] = []  # negated: the largest of the k smallest hashes sits on top
        self._kept: set[int] = set()
        self.estimated = False

    def add(self, value: Any) -> None:
        """Count one value."""
        h = _mix(value)
        if self._seen is not None:
            self._seen.add(h)
            if len(self._seen) <= DISTINCT_EXACT:
                return
            self.estimated, seen, self._seen = True, self._seen, None
            for x in seen:
                self._keep(x)
            return
        self._keep(h)

    def _keep(self, h: int) -> None:
        if h in self._kept:
            return
        if len(self._heap) < _KMV:
            heapq.heappush(self._heap, -h)
            self._kept.add(h)
        elif h < -self._heap[0]:
            self._kept.discard(-heapq.heappushpop(self._heap, -h))
            self._kept.add(h)

    def count(self) -> int:
        """The number of distinct values (estimated once past the exact range)."""
        if self._seen is not None:
            return len(self._seen)
        kth = -self._heap[0] / _MASK
        return max(DISTINCT_EXACT + 1, round((_KMV - 1) / kth))


class ColumnStats:
    """Accumulates one column's statistics, one value at a time."""

    __slots__ = (
        "_distinct",
        "_dmax",
        "_dmin",
        "_max",
        "_min",
        "_rng",
        "_sample_rows",
        "_sample_values",
        "_seen_numbers",
        "_sum",
        "_top",
        "count",
        "errors",
        "kinds",
        "missing",
        "numbers_as_text",
    )

    def __init__(self) -> None:
        self.count = 0
        self.missing = 0
        self.errors = 0
        self.numbers_as_text = 0
        self.kinds: Counter[str] = Counter()
        self._distinct = DistinctCounter()
        self._top: Counter[str] = Counter()
        self._sum = 0.0
        self._min: float | None = None
        self._max: float | None = None
        self._dmin: dt.datetime | None = None
        self._dmax: dt.datetime | None = None
        self._sample_values = array("d")
        self._sample_rows = array("q")
        self._seen_numbers = 0
        self._rng = random.Random(1234)

    def add(self, value: Any, row: int) -> None:
        """Take the value of this column in ``row`` (``None`` or blank counts as missing)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            self.missing += 1
            return
        self.count += 1
        self._distinct.add(value)
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
            if isinstance(value, str) and _NUMBER_TEXT.match(value):
                self.numbers_as_text += 1

    def _count_top(self, key: str) -> None:
        if key in self._top or len(self._top) < _TOP_CAP:
            self._top[key] += 1

    def _number(self, v: float, row: int) -> None:
        self._sum += v
        self._min = v if self._min is None or v < self._min else self._min
        self._max = v if self._max is None or v > self._max else self._max
        self._seen_numbers += 1
        if len(self._sample_values) < SAMPLE:
            self._sample_values.append(v)
            self._sample_rows.append(row)
        else:
            j = self._rng.randrange(self._seen_numbers)
            if j < SAMPLE:
                self._sample_values[j] = v
                self._sample_rows[j] = row

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
            distinct=self._distinct.count(),
            distinct_estimated=self._distinct.estimated,
            errors=self.errors,
            numbers_as_text=self.numbers_as_text,
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
        values = sorted(self._sample_values)
        if len(values) < 8:
            return
        q1, q3 = _quantile(values, 0.25), _quantile(values, 0.75)
        iqr = q3 - q1
        if iqr <= 0:
            return
        lo, hi = q1 - 1.5 * iqr, q3 + 1.5 * iqr
        pairs = zip(self._sample_values, self._sample_rows, strict=True)
        flagged = sorted(((v, r) for v, r in pairs if v < lo or v > hi), key=lambda x: x[1])
        scale = self._seen_numbers / len(self._sample_values)
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

"""Independent checks: what a request's answer must be, computed in Python.

When a request plainly asks for one aggregate of one column (a total,
average, count, maximum or minimum, optionally for one category such as
"North", or above/below a threshold), :func:`infer_check` reads that from the
request itself, without the model, and :meth:`Check.expected` computes it from
the table's values. Anything less plain (groupings, percentages, dates,
negations, several candidate columns) gets no check rather than a wrong one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ._evaluator import to_number
from ._layout import filled
from ._table import Column, Table

__all__ = ["Check", "close_enough", "infer_check"]

_OPS: dict[str, tuple[str, ...]] = {
    "sum": ("total", "sum", "add up", "sum up"),
    "average": ("average", "mean", "avg"),
    "count": ("count", "how many", "number of"),
    "max": ("max", "maximum", "highest", "largest", "biggest"),
    "min": ("min", "minimum", "lowest", "smallest"),
}
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
)
_COMPLEX = (
    *_MONTHS,
    "today",
    "yesterday",
    "last",
    "next",
    "latest",
    "recent",
    "first",
    "per",
    "each",
    "every",
    "by",
    "percent",
    "percentage",
    "ratio",
    "share",
    "growth",
    "difference",
    "median",
    "running",
    "cumulative",
    "weighted",
    "not",
    "except",
    "excluding",
    "without",
    "between",
    "distinct",
    "unique",
    "top",
    "bottom",
    "rank",
    "month",
    "year",
    "week",
    "quarter",
    "day",
    "date",
    "before",
    "after",
    "since",
    "until",
    "or",
)
_THRESHOLD = re.compile(
    r"(over|above|greater than|more than|exceeding|at least|under|below|less than|at most|>=|<=|>|<)\s*"
    r"\$?(-?\d+(?:[.,]\d+)?)"
)
_OP_OF = {
    "over": ">",
    "above": ">",
    "greater than": ">",
    "more than": ">",
    "exceeding": ">",
    ">": ">",
    "at least": ">=",
    ">=": ">=",
    "under": "<",
    "below": "<",
    "less than": "<",
    "<": "<",
    "at most": "<=",
    "<=": "<=",
}


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(phrase)}(?![\w])", text) is not None


@dataclass(slots=True)
class Check:
    """An aggregate the request asks for, computable without the model.

    Attributes:
        op: ``sum``, ``average``, ``count``, ``max`` or ``min``.
        column: The column aggregated (``None`` when counting rows).
        where: Conditions: ``(column, operator, value)``.
    """

    op: str
    column: Column | None
    where: list[tuple[Column, str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        """The check in words, e.g. ``sum of 'Amount' where 'Region' = 'North'``."""
        what = f"{self.op} of {self.column.name!r}" if self.column else f"{self.op} of rows"
        if self.where:
            what += " where " + " and ".join(f"{c.name!r} {o} {v!r}" for c, o, v in self.where)
        return what

    def expected(self, table: Table) -> float | None:
        """Compute the answer directly from the table's values (``None`` when there is none)."""
        picked: list[Any] = []
        for i in range(table.last_row - table.first_row + 1):
            if not all(_match(table.values[c.index][i], op, v) for c, op, v in self.where):
                continue
            if self.column is None:
                row = [table.values[c.index][i] for c in table.columns]
                if any(filled(v) for v in row):
                    picked.append(1)
            else:
                picked.append(table.values[self.column.index][i])
        if self.column is None:
            return float(len(picked))
        nums = [float(to_number(v)) for v in picked if _is_number(to_number(v))]
        if self.op == "count":
            return float(len(nums)) if self.column.numeric else float(sum(1 for v in picked if filled(v)))
        if not nums:
            return None
        if self.op == "sum":
            return math.fsum(nums)
        if self.op == "average":
            return math.fsum(nums) / len(nums)
        return max(nums) if self.op == "max" else min(nums)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _match(value: Any, op: str, want: Any) -> bool:
    if op == "=":
        return isinstance(value, str) and value.casefold() == str(want).casefold()
    v = to_number(value)
    if not _is_number(v):
        return False
    return bool({">": v > want, ">=": v >= want, "<": v < want, "<=": v <= want}[op])


def close_enough(got: Any, expected: float, *, rounded: bool = False) -> bool:
    """Whether a computed value matches the expected one (tolerating float noise, or rounding)."""
    got = to_number(got)
    if not _is_number(got):
        return False
    tol = max(1e-9, 1e-9 * abs(expected)) if not rounded else max(0.5, 1e-2 * abs(expected))
    return abs(float(got) - expected) <= tol


def infer_check(request: str, table: Table) -> Check | None:
    """Read a plain single-aggregate request; ``None`` when it is not plain enough to check."""
    text = " ".join(request.lower().replace("'", " ").replace('"', " ").split())
    matched = {op: [w for w in words if _has(text, w)] for op, words in _OPS.items()}
    ops = [op for op, hit in matched.items() if hit]
    if len(ops) > 1:  # in "highest Total", "Total" names a column, not the operation
        names = {c.name.strip().lower() for c in table.columns}
        ops = [op for op in ops if any(w not in names for w in matched[op])]
    if len(ops) != 1 or any(_has(text, w) for w in _COMPLEX):
        return None
    op = ops[0]
    mentioned = [c for c in table.columns if _mentions(text, c.name)]
    numeric = [c for c in mentioned if c.numeric]
    if len(numeric) > 1:  # "total Q3" names the column Q3; "Total" is the operation there, not a column
        keywords = {w for words in _OPS.values() for w in words}
        numeric = [c for c in numeric if c.name.strip().lower() not in keywords]
        mentioned = [c for c in mentioned if c.numeric is False or c in numeric]
    where: list[tuple[Column, str, Any]] = []
    for col in table.columns:
        if col.kind != "text":
            continue
        distinct = {str(v) for v in table.values[col.index] if isinstance(v, str)}
        if len(distinct) > 200:
            continue
        hits = [
            v
            for v in distinct
            if v.strip() and _value_in(request, text, v) and not _mentions(v.lower(), col.name)
        ]
        if len(hits) > 1:
            return None
        if hits:
            if any(h.lower() == hits[0].lower() for c, _o, h in where):
                return None
            where.append((col, "=", hits[0]))
    thresholds = _THRESHOLD.findall(text)
    if len(thresholds) > 1:
        return None
    column: Column | None
    if op == "count":
        column = None
        if thresholds:
            if len(numeric) != 1:
                return None
            word, num = thresholds[0]
            where.append((numeric[0], _OP_OF[word], float(num.replace(",", "."))))
    else:
        if len(numeric) != 1:
            return None
        column = numeric[0]
        if thresholds:
            word, num = thresholds[0]
            where.append((column, _OP_OF[word], float(num.replace(",", "."))))
    for c in mentioned:
        if c not in numeric and not any(w[0] is c for w in where):
            return None  # a column is named without a value to match: the request is not plain
    if _unexplained_numbers(text, mentioned, where):
        return None  # "in 2024", "top 5", "product 3": something this reader does not model
    return Check(op, column, where)


def _unexplained_numbers(text: str, mentioned: list[Column], where: list[tuple[Column, str, Any]]) -> bool:
    rest = _THRESHOLD.sub(" ", text)
    for phrase in [c.name for c in mentioned] + [str(v) for _c, _o, v in where]:
        rest = rest.replace(" ".join(phrase.lower().split()), " ")
    return re.search(r"\d", rest) is not None


def _value_in(request: str, text: str, value: str) -> bool:
    """Whether a category value is named in the request (short codes like "A" must match case too)."""
    if len(value.strip()) <= 2:
        return _has(request, value.strip())
    return _has(text, " ".join(value.lower().split()))


def _mentions(text: str, name: str) -> bool:
    key = " ".join(name.lower().split())
    if not key:
        return False
    return _has(text, key) or _has(text, key + "s") or (key.endswith("s") and _has(text, key[:-1]))

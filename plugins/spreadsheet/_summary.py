"""``spreadsheet.summarize``: a group-by summary sheet of live formulas, checked twice.

Each summary cell is a SUMIFS / COUNTIFS / AVERAGEIFS / MINIFS / MAXIFS formula
over the source table, so the summary follows later edits of the data. Before
the workbook is saved, every summary cell is computed by the evaluator and
compared with the same aggregate computed in Python from the table's values.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from openpyxl.styles import Font
from openpyxl.utils.cell import get_column_letter
from pydantic import BaseModel, Field

from dualtrack import UserError

from ._cells import write_formula, write_value
from ._evaluator import to_number
from ._fastcalc import FastCalc, compute_with
from ._layout import filled
from ._table import Column, Table

__all__ = ["FUNCTIONS", "SummaryPlan", "groups_of", "verify_group_sheet", "write_group_sheet"]

Function = Literal["sum", "count", "average", "min", "max"]
FUNCTIONS: dict[str, tuple[str, str]] = {
    "sum": ("SUMIFS", "Sum"),
    "average": ("AVERAGEIFS", "Average"),
    "min": ("MINIFS", "Min"),
    "max": ("MAXIFS", "Max"),
}
MAX_GROUPS = 500


class SummaryPlan(BaseModel):
    """What to summarise, as the model reads the request."""

    group_by: str = Field(description="Header of the column to group by")
    values: list[str] = Field(default_factory=list, description="Headers of numeric columns to aggregate")
    functions: list[Function] = Field(default=["sum"], description="Aggregations to compute")


def groups_of(table: Table, group: Column) -> list[Any]:
    """The distinct group values (case-insensitive for text, as SUMIFS matches), sorted."""
    seen: dict[Any, Any] = {}
    for v in table.values[group.index]:
        if not filled(v):
            continue
        key = v.casefold() if isinstance(v, str) else v
        seen.setdefault(key, v)
    if len(seen) > MAX_GROUPS:
        raise UserError(
            f"column {group.name!r} has {len(seen)} distinct values (limit {MAX_GROUPS}); group by a column "
            "with fewer categories"
        )
    return sorted(
        seen.values(),
        key=lambda v: (isinstance(v, str), str(v).casefold() if isinstance(v, str) else to_number(v)),
    )


def _columns(values: list[Column], functions: list[str]) -> list[tuple[str, Column | None]]:
    cols: list[tuple[str, Column | None]] = []
    for fn in functions:
        if fn == "count":
            continue
        cols += [(fn, v) for v in values]
    if "count" in functions:
        cols.append(("count", None))
    return cols


def write_group_sheet(
    wb: Any,
    table: Table,
    group: Column,
    values: list[Column],
    functions: list[str],
    name: str,
    *,
    totals: bool = True,
) -> tuple[Any, int, int]:
    """Write the summary sheet.

    Returns:
        ``(worksheet, first group row, last group row)``.
    """
    for v in values:
        if not v.numeric:
            raise UserError(f"column {v.name!r} holds {v.kind} values; summaries aggregate numeric columns")
    if not values and any(f != "count" for f in functions):
        raise UserError("name at least one numeric column to aggregate, or use the 'count' function only")
    groups = groups_of(table, group)
    ws = wb.create_sheet(name)
    key_range = table.range_ref(group, sheet=True)
    cols = _columns(values, functions)
    write_value(ws.cell(1, 1), group.name)
    for j, (fn, col) in enumerate(cols, 2):
        label = "Count" if col is None else f"{FUNCTIONS[fn][1]} of {col.name}"
        write_value(ws.cell(1, j), label)
        ws.cell(1, j).font = Font(bold=True)
    ws.cell(1, 1).font = Font(bold=True)
    for i, g in enumerate(groups, 2):
        write_value(ws.cell(i, 1), g)
        for j, (fn, col) in enumerate(cols, 2):
            if col is None:
                formula = f"=COUNTIFS({key_range},$A{i})"
            else:
                formula = f"={FUNCTIONS[fn][0]}({table.range_ref(col, sheet=True)},{key_range},$A{i})"
            write_formula(ws.cell(i, j), formula)
            if fn == "average":
                ws.cell(i, j).number_format = "0.00"
    last = 1 + len(groups)
    if totals and groups:
        t = last + 1
        write_value(ws.cell(t, 1), "Total")
        ws.cell(t, 1).font = Font(bold=True)
        for j, (fn, col) in enumerate(cols, 2):
            letter = get_column_letter(j)
            if fn in ("sum", "count"):
                formula = f"=SUM({letter}2:{letter}{last})"
            else:
                assert col is not None
                agg = {"average": "AVERAGE", "min": "MIN", "max": "MAX"}[fn]
                formula = f"={agg}({table.range_ref(col, sheet=True)})"
            write_formula(ws.cell(t, j), formula)
            ws.cell(t, j).font = Font(bold=True)
    ws.column_dimensions["A"].width = max(12, min(40, max((len(str(g)) for g in groups), default=10) + 2))
    return ws, 2, last


def _expected(table: Table, group: Column, key: Any, fn: str, col: Column | None) -> float | None:
    rows = range(table.last_row - table.first_row + 1)
    gvals = table.values[group.index]
    want = key.casefold() if isinstance(key, str) else to_number(key)

    def same(v: Any) -> bool:
        return (v.casefold() if isinstance(v, str) else to_number(v)) == want

    hits = [i for i in rows if filled(gvals[i]) and same(gvals[i])]
    if col is None:
        return float(len(hits))
    nums = [
        float(v)
        for i in hits
        if isinstance(v := table.values[col.index][i], int | float) and not isinstance(v, bool)
    ]
    if fn == "sum":
        return math.fsum(nums)
    if not nums:
        return None if fn == "average" else 0.0
    return {"average": math.fsum(nums) / len(nums), "min": min(nums), "max": max(nums)}[fn]


def verify_group_sheet(
    wb: Any,
    table: Table,
    group: Column,
    values: list[Column],
    functions: list[str],
    name: str,
    first: int,
    last: int,
    calc: FastCalc | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Compute every summary cell with the evaluator and compare with Python.

    Returns:
        ``(rows as dicts, mismatches)``; no mismatches means the summary is right.
    """
    ws = wb[name]
    cols = _columns(values, functions)
    cells = [
        (name, f"{get_column_letter(j)}{i}") for i in range(first, last + 1) for j in range(2, 2 + len(cols))
    ]
    done = compute_with(calc, wb, cells) if cells else {}
    rows: list[dict[str, Any]] = []
    mismatches: list[str] = []
    for i in range(first, last + 1):
        key = ws.cell(i, 1).value
        row: dict[str, Any] = {group.name: key}
        for j, (fn, col) in enumerate(cols, 2):
            coord = f"{get_column_letter(j)}{i}"
            got = done[(name, coord)]
            want = _expected(table, group, key, fn, col)
            label = ws.cell(1, j).value
            row[str(label)] = got.value if got.ok else got.error
            if want is None:
                if got.ok and got.value not in (None, ""):
                    mismatches.append(f"{coord} ({label}, {key}): computed {got.value!r}, expected no value")
            elif (
                not got.ok
                or not isinstance(got.value, int | float)
                or abs(got.value - want) > 1e-9 * max(1.0, abs(want))
            ):
                shown = got.value if got.ok else got.error
                mismatches.append(
                    f"{coord} ({label}, {key}): formula gives {shown!r}, the data gives {want!r}"
                )
        rows.append(row)
    return rows, mismatches

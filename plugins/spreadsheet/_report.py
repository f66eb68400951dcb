"""The bodies of the report skills: highlight, chart and summarize.

Each opens the workbook through :func:`open_session` (checked before parsing,
destination decided before any model call), edits, and saves atomically.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from dualtrack import SkillContext, UserError
from dualtrack.checks import Check, CheckContext, CheckResult, degenerate, named, on_parts

from ._charts import ChartSpec, build_chart
from ._highlight import HighlightRule, apply_rule, parse_color
from ._models import ChartResult, HighlightResult, SummaryResult
from ._session import load_table, open_session
from ._summary import SummaryPlan, verify_group_sheet, write_group_sheet
from ._table import Table

__all__ = ["chart", "columns_exist", "highlight", "summarize"]


def columns_exist(table: Table, pick: Callable[[Any], list[str | None]]) -> Check:
    """A check that every column header a parsed plan names is a column of ``table``."""

    @named("columns")
    def check(text: str, context: CheckContext) -> CheckResult:
        for name in pick(context.value):
            if name:
                try:
                    table.column(name)
                except UserError as exc:
                    return CheckResult(name="columns", passed=False, reason=str(exc))
        return CheckResult(name="columns", passed=True)

    return check


def _text(*fields: str | None) -> list[str]:
    return [f for f in fields if f]


async def highlight(
    ctx: SkillContext,
    path: str,
    request: str,
    sheet: str | None,
    output: str | None,
    in_place: bool,
    max_cells: int,
) -> HighlightResult:
    """Body of ``spreadsheet.highlight``.

    The rule must be valid JSON naming a column of the table, its description no
    loop; a failing one is fed back once, then escalated. There is no fallback
    for a rule: where none passes, :class:`~dualtrack.CheckFailedError` is raised
    and nothing is written.
    """
    session, dest = await open_session(ctx, path, max_cells, output, in_place)
    table = await load_table(session, sheet)
    checked = await ctx.generate_checked(
        f"{table.describe()}\n\nTurn this request into one conditional-formatting rule: {request}\n"
        "Use operator 'formula' only when no other operator fits; its formula tests the first data row "
        f"(row {table.first_row}) with $-anchored columns, e.g. =AND($D{table.first_row}<TODAY(),"
        f'$E{table.first_row}<>"Paid").',
        schema=HighlightRule,
        checks=[
            columns_exist(table, lambda r: [r.column]),
            on_parts(lambda r: _text(r.description), degenerate(), name="description"),
        ],
        max_tokens=300,
    )
    rule: HighlightRule = checked.value
    color = parse_color(rule.color)
    rng, shown, matches = await asyncio.to_thread(apply_rule, session.wb, table, rule, color, session.calc)
    warnings = await asyncio.to_thread(session.save, dest, in_place)
    return HighlightResult(
        sheet=table.sheet,
        range=rng,
        rule=shown,
        color=color,
        matching_rows=matches,
        description=rule.description,
        output=str(dest),
        warnings=warnings,
    )


async def chart(
    ctx: SkillContext,
    path: str,
    request: str,
    sheet: str | None,
    kind: str | None,
    output: str | None,
    in_place: bool,
    max_cells: int,
) -> ChartResult:
    """Body of ``spreadsheet.chart``.

    The chart description must be valid JSON naming columns of the table, its
    titles no loop; a failing one is fed back once, then escalated. There is no
    fallback: where none passes, :class:`~dualtrack.CheckFailedError` is raised
    and nothing is written.
    """
    session, dest = await open_session(ctx, path, max_cells, output, in_place)
    table = await load_table(session, sheet)
    hint = f" It must be a {kind} chart." if kind else ""
    checked = await ctx.generate_checked(
        f"{table.describe()}\n\nDescribe the chart for this request: {request}.{hint} Choose the category "
        "column and the numeric value columns by their headers; give a short title and axis titles.",
        schema=ChartSpec,
        checks=[
            columns_exist(table, lambda s: [s.category, *s.values]),
            on_parts(lambda s: _text(s.title, s.x_title, s.y_title), degenerate(), name="titles"),
        ],
        max_tokens=300,
    )
    spec: ChartSpec = checked.value
    if kind:
        spec = spec.model_copy(update={"kind": kind})
    data_sheet = session.new_sheet_name(f"Chart data {table.sheet}")
    anchor, cats, vals, warnings, _ = await asyncio.to_thread(
        build_chart, session.wb, table, spec, data_sheet
    )
    warnings += await asyncio.to_thread(session.save, dest, in_place)
    chart_obj = session.wb[table.sheet]._charts[-1]
    return ChartResult(
        sheet=table.sheet,
        kind=spec.kind,
        title=_title_text(chart_obj) or spec.title,
        categories=cats,
        values=vals,
        anchor=anchor,
        x_title=_axis_title(chart_obj, "x_axis"),
        y_title=_axis_title(chart_obj, "y_axis"),
        output=str(dest),
        warnings=warnings,
    )


def _title_text(chart_obj: Any) -> str:
    title = getattr(chart_obj, "title", None)
    if title is None or isinstance(title, str):
        return title or ""
    try:
        return "".join(r.t for p in title.tx.rich.p for r in (p.r or []))
    except AttributeError:
        return ""


def _axis_title(chart_obj: Any, axis: str) -> str | None:
    ax = getattr(chart_obj, axis, None)
    return _title_text(ax) or None if ax is not None and getattr(ax, "title", None) is not None else None


async def summarize(
    ctx: SkillContext,
    path: str,
    request: str,
    group_by: str | None,
    values: list[str] | None,
    functions: list[str] | None,
    sheet: str | None,
    output: str | None,
    in_place: bool,
    max_cells: int,
) -> SummaryResult:
    """Body of ``spreadsheet.summarize``.

    A planned summary must be valid JSON naming columns of the table; a failing
    plan is fed back once, then escalated. There is no fallback for a plan:
    where none passes, :class:`~dualtrack.CheckFailedError` is raised and nothing
    is written. The written summary is verified against the data either way.
    """
    session, dest = await open_session(ctx, path, max_cells, output, in_place)
    table = await load_table(session, sheet)
    if group_by is None:
        if not request.strip():
            raise UserError("say what to summarise (request) or name the group_by column")
        checked = await ctx.generate_checked(
            f"{table.describe()}\n\nPlan a group-by summary for this request: {request}\n"
            "Name the column to group by, the numeric columns to aggregate and the aggregations "
            "(sum, count, average, min, max).",
            schema=SummaryPlan,
            checks=[columns_exist(table, lambda p: [p.group_by, *p.values])],
            max_tokens=300,
        )
        plan: SummaryPlan = checked.value
        group_by, values = plan.group_by, values or plan.values
        functions = functions or list(plan.functions)
    group = table.column(group_by)
    value_cols = [table.column(v) for v in (values or [])]
    fns = list(dict.fromkeys(functions or (["sum", "count"] if value_cols else ["count"])))
    name = session.new_sheet_name(f"Summary by {group.name}")

    def build() -> tuple[list[dict[str, Any]], list[str]]:
        _, first, last = write_group_sheet(session.wb, table, group, value_cols, fns, name)
        return verify_group_sheet(session.wb, table, group, value_cols, fns, name, first, last, session.calc)

    rows, mismatches = await asyncio.to_thread(build)
    result = SummaryResult(
        ok=not mismatches,
        sheet=name,
        group_by=group.name,
        values=[v.name for v in value_cols],
        rows=rows,
        mismatches=mismatches,
    )
    if mismatches:
        result.warnings.append("the summary formulas disagree with the data; nothing was written")
        return result
    result.warnings += await asyncio.to_thread(session.save, dest, in_place)
    result.output = str(dest)
    return result

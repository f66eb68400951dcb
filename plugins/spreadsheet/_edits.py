"""The bodies of the writing skills: formula, add_column, highlight, chart, summarize.

Each opens the workbook through :class:`Session` (checked before parsing),
decides the destination first (so a lossy in-place edit is refused before any
model call), edits, and saves atomically.
"""

from __future__ import annotations

import asyncio
from typing import Any

from openpyxl.utils.cell import get_column_letter

from dualtrack import SkillContext, UserError

from ._cells import write_formula, write_value
from ._charts import ChartSpec, build_chart
from ._checks import infer_check
from ._columns import ColumnPlan, fill_by_model, formula_column, write_formula_column
from ._formula import FORMULA_RULES, cell_validator, solve, target_text
from ._highlight import HighlightRule, apply_rule, parse_color
from ._layout import filled
from ._models import AddColumnResult, ChartResult, FormulaResult, HighlightResult, SummaryResult
from ._session import Session, parse_cell
from ._summary import SummaryPlan, verify_group_sheet, write_group_sheet
from ._table import Table

__all__ = ["add_column", "chart", "formula", "highlight", "summarize"]


async def _open(
    ctx: SkillContext, path: str, max_cells: int, output: str | None, in_place: bool
) -> tuple[Session, Any]:
    session = await asyncio.to_thread(Session.open, ctx, path, max_cells=max_cells)
    return session, session.plan(output, in_place)


async def _table(session: Session, sheet: str | None) -> Table:
    return await asyncio.to_thread(session.table, sheet)


async def formula(
    ctx: SkillContext,
    path: str,
    request: str,
    target: str | None,
    sheet: str | None,
    output: str | None,
    in_place: bool,
    max_cells: int,
) -> FormulaResult:
    """Body of ``spreadsheet.formula`` (see the skill for the arguments)."""
    session, dest = await _open(ctx, path, max_cells, output, in_place)
    table = await _table(session, sheet)
    label_cell = None
    if target:
        tsheet, coord = parse_cell(target, table.sheet)
        tsheet = session.sheet_name(tsheet)
    else:
        col = session.free_column(table, gap=1)
        tsheet, coord = (
            table.sheet,
            f"{get_column_letter(col)}{(table.block.header_row or table.first_row) + 1}",
        )
        label_cell = f"{get_column_letter(col)}{table.block.header_row or table.first_row}"
    check = infer_check(request, table)
    expected = check.expected(table) if check else None
    validate = cell_validator(session.wb, tsheet, coord, check, expected, rounded="round" in request.lower())
    prompt = (
        f"{table.describe()}\n"
        f"Write one Excel formula for cell {target_text(tsheet, coord)} that does this: {request}\n"
        f"{FORMULA_RULES}\n"
        'Reply as JSON {"formula": "=...", "explanation": "one or two sentences"}.'
    )
    reply, verdict, attempts = await solve(ctx, prompt, validate, system="You write spreadsheet formulas.")
    result = FormulaResult(
        ok=False,
        sheet=tsheet,
        target=coord,
        check=check.describe() if check else None,
        expected=expected,
        attempts=attempts,
    )
    if reply is None or verdict is None:
        return result
    ws = session.wb[tsheet]
    old = ws[coord].value
    warnings = [f"{coord} held {str(old)[:60]!r}, now replaced"] if filled(old) else []
    write_formula(ws[coord], reply.formula)
    if label_cell:
        write_value(ws[label_cell], request[:80])
    warnings += await asyncio.to_thread(session.save, dest, in_place)
    return result.model_copy(
        update={
            "ok": True,
            "formula": reply.formula,
            "value": verdict.value,
            "explanation": reply.explanation,
            "output": str(dest),
            "warnings": warnings,
        }
    )


async def add_column(
    ctx: SkillContext,
    path: str,
    instruction: str,
    header: str | None,
    sheet: str | None,
    mode: str,
    source_columns: list[str] | None,
    batch_size: int,
    max_rows: int,
    output: str | None,
    in_place: bool,
    max_cells: int,
) -> AddColumnResult:
    """Body of ``spreadsheet.add_column``."""
    if batch_size < 1 or max_rows < 1:
        raise UserError("batch_size and max_rows must be at least 1")
    session, dest = await _open(ctx, path, max_cells, output, in_place)
    table = await _table(session, sheet)
    col = session.free_column(table, gap=0)
    plan: ColumnPlan | None = None
    if mode == "auto":
        plan = await ctx.generate_json(
            ColumnPlan,
            f"{table.describe()}\n\nA new column is to be added to this table: {instruction}\n"
            "Decide whether a spreadsheet formula can compute it from each row's cells ('formula', then "
            f"give the formula for row {table.first_row} with relative references) or whether each row "
            f"needs reading text, e.g. to classify, extract or summarize ('model').\n{FORMULA_RULES}",
            max_tokens=400,
        )
        mode = plan.kind
    name = (header or (plan.header if plan else "") or instruction).strip()[:60] or "New column"
    result = AddColumnResult(
        ok=False, sheet=table.sheet, column=get_column_letter(col), header=name, mode=mode
    )
    if mode == "formula":
        reply, verdict, attempts = await formula_column(ctx, session, table, col, instruction, plan)
        result.attempts = attempts
        if reply is None or verdict is None:
            return result
        rows = await asyncio.to_thread(write_formula_column, session, table, col, name, reply.formula)
        result.formula, result.rows_filled, result.sample = reply.formula, rows, list(verdict.value or [])
    else:
        sources = [table.column(c) for c in source_columns] if source_columns else list(table.columns)
        if table.block.header_row:
            write_value(session.wb[table.sheet].cell(table.block.header_row, col), name)
        filled_rows, missing, calls, sample, warns = await fill_by_model(
            ctx, session, table, col, instruction, sources, batch_size, max_rows
        )
        result.rows_filled, result.rows_missing, result.model_calls = filled_rows, missing, calls
        result.sample, result.warnings = sample, warns
    result.warnings += await asyncio.to_thread(session.save, dest, in_place)
    result.ok, result.output = True, str(dest)
    return result


async def highlight(
    ctx: SkillContext,
    path: str,
    request: str,
    sheet: str | None,
    output: str | None,
    in_place: bool,
    max_cells: int,
) -> HighlightResult:
    """Body of ``spreadsheet.highlight``."""
    session, dest = await _open(ctx, path, max_cells, output, in_place)
    table = await _table(session, sheet)
    rule = await ctx.generate_json(
        HighlightRule,
        f"{table.describe()}\n\nTurn this request into one conditional-formatting rule: {request}\n"
        "Use operator 'formula' only when no other operator fits; its formula tests the first data row "
        f"(row {table.first_row}) with $-anchored columns, e.g. =AND($D{table.first_row}<TODAY(),"
        f'$E{table.first_row}<>"Paid").',
        max_tokens=300,
    )
    color = parse_color(rule.color)
    rng, shown, matches = await asyncio.to_thread(apply_rule, session.wb, table, rule, color)
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
    """Body of ``spreadsheet.chart``."""
    session, dest = await _open(ctx, path, max_cells, output, in_place)
    table = await _table(session, sheet)
    hint = f" It must be a {kind} chart." if kind else ""
    spec = await ctx.generate_json(
        ChartSpec,
        f"{table.describe()}\n\nDescribe the chart for this request: {request}.{hint} Choose the category "
        "column and the numeric value columns by their headers; give a short title and axis titles.",
        max_tokens=300,
    )
    if kind:
        spec = spec.model_copy(update={"kind": kind})
    helper = session.new_sheet_name(f"Chart data {table.sheet}")
    anchor, cats, vals, warnings, _ = await asyncio.to_thread(build_chart, session.wb, table, spec, helper)
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
    """Body of ``spreadsheet.summarize``."""
    session, dest = await _open(ctx, path, max_cells, output, in_place)
    table = await _table(session, sheet)
    if group_by is None:
        if not request.strip():
            raise UserError("say what to summarise (request) or name the group_by column")
        plan = await ctx.generate_json(
            SummaryPlan,
            f"{table.describe()}\n\nPlan a group-by summary for this request: {request}\n"
            "Name the column to group by, the numeric columns to aggregate and the aggregations "
            "(sum, count, average, min, max).",
            max_tokens=300,
        )
        group_by, values, functions = plan.group_by, values or plan.values, functions or plan.functions
    group = table.column(group_by)
    value_cols = [table.column(v) for v in (values or [])]
    fns = list(dict.fromkeys(functions or (["sum", "count"] if value_cols else ["count"])))
    name = session.new_sheet_name(f"Summary by {group.name}")

    def build() -> tuple[list[dict[str, Any]], list[str]]:
        _, first, last = write_group_sheet(session.wb, table, group, value_cols, fns, name)
        return verify_group_sheet(session.wb, table, group, value_cols, fns, name, first, last)

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

"""The bodies of the writing skills that add formulas: formula and add_column.

Each opens the workbook through :class:`Session` (checked before parsing),
decides the destination first (so a lossy in-place edit is refused before any
model call), edits, and saves atomically.
"""

from __future__ import annotations

import asyncio
from typing import Any

from openpyxl.utils.cell import get_column_letter

from dualtrack import SkillContext, UserError
from dualtrack.checks import degenerate, on_parts

from ._cells import write_formula, write_value
from ._checks import infer_check
from ._columns import ColumnPlan, column_target, fill_by_model, formula_column, write_formula_column
from ._formula import FORMULA_RULES, cell_validator, solve, target_text
from ._layout import filled
from ._models import AddColumnResult, FormulaResult
from ._session import Session, load_table, open_session, parse_cell

__all__ = ["CONFIRM_CELLS", "add_column", "formula"]

CONFIRM_CELLS = 50_000
"""Up to this size the formula skill also computes a whole temporary copy of the workbook."""


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
    session, dest = await open_session(ctx, path, max_cells, output, in_place)
    whole_column = column_target(target) if target else None
    if whole_column is not None:
        return await _formula_column(
            ctx, session, dest, in_place, request, whole_column[0] or sheet, whole_column[1]
        )
    table = await load_table(session, sheet)
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
    validate = cell_validator(
        session.wb,
        tsheet,
        coord,
        check,
        expected,
        rounded="round" in request.lower(),
        calc=session.calc,
        confirm=session.checked.largest_cells <= CONFIRM_CELLS,
    )
    others = [s for s in session.wb.sheetnames if s != table.sheet]
    prompt = (
        f"{table.describe()}\n"
        + (f"Other sheets: {', '.join(others)}\n" if others else "")
        + f"Write one Excel formula for cell {target_text(tsheet, coord)} that does this: {request}\n"
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


async def _formula_column(
    ctx: SkillContext, session: Session, dest: Any, in_place: bool, request: str, sheet: str | None, col: int
) -> FormulaResult:
    """``formula`` aimed at a whole column: one formula per data row, checked on sample rows."""
    table = await load_table(session, sheet)
    letter = get_column_letter(col)
    ws = session.wb[table.sheet]
    if any(filled(ws.cell(r, col).value) for r in range(table.first_row, table.last_row + 1)):
        raise UserError(
            f"column {letter} of {table.sheet!r} holds data; name an empty column for the formula"
        )
    reply, verdict, attempts = await formula_column(ctx, session, table, col, request, None)
    result = FormulaResult(
        ok=False,
        sheet=table.sheet,
        target=f"{letter}{table.first_row}:{letter}{table.last_row}",
        attempts=attempts,
    )
    if reply is None or verdict is None:
        return result
    header = (
        request[:60]
        if table.block.header_row and not filled(ws.cell(table.block.header_row, col).value)
        else None
    )
    if header is None and table.block.header_row:
        header = str(ws.cell(table.block.header_row, col).value)
    await asyncio.to_thread(write_formula_column, session, table, col, header or "", reply.formula)
    warnings = await asyncio.to_thread(session.save, dest, in_place)
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
    """Body of ``spreadsheet.add_column``.

    In ``auto`` mode the plan must be valid JSON whose header and explanation
    are no loop (a failing one is fed back once, then escalated; with none
    passing, :class:`~dualtrack.CheckFailedError` is raised and nothing is
    written). A formula column's formula must then compute for every row (see
    :func:`formula_column`); model-filled rows are checked per batch (see
    :func:`fill_by_model`).
    """
    if batch_size < 1 or max_rows < 1:
        raise UserError("batch_size and max_rows must be at least 1")
    session, dest = await open_session(ctx, path, max_cells, output, in_place)
    table = await load_table(session, sheet)
    col = session.free_column(table, gap=0)
    plan: ColumnPlan | None = None
    if mode == "auto":
        checked = await ctx.generate_checked(
            f"{table.describe()}\n\nA new column is to be added to this table: {instruction}\n"
            "Decide whether a spreadsheet formula can compute it from each row's cells ('formula', then "
            f"give the formula for row {table.first_row} with relative references) or whether each row "
            f"needs reading text, e.g. to classify, extract or summarize ('model').\n{FORMULA_RULES}",
            schema=ColumnPlan,
            checks=[
                on_parts(lambda p: [t for t in (p.header, p.explanation) if t], degenerate(), name="plan")
            ],
            max_tokens=400,
        )
        plan = checked.value
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

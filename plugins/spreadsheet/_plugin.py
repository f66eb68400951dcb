"""The ``spreadsheet`` plugin: Copilot-style skills for .xlsx and .xlsm workbooks."""

from __future__ import annotations

import asyncio
from typing import Literal

from dualtrack import SkillContext, plugin, skill, tags

from . import _edits, _report
from ._ask import answer
from ._explain import explain
from ._models import (
    AddColumnResult,
    AnswerResult,
    ChartResult,
    FormulaExplanation,
    FormulaResult,
    HighlightResult,
    SummaryResult,
    WorkbookProfile,
)
from ._profile import profile_workbook
from ._session import Session
from ._workbook import open_checked

__all__ = ["SpreadsheetPlugin"]

Aggregation = Literal["sum", "count", "average", "min", "max"]


@plugin(
    "spreadsheet",
    description="Profile, formulas checked by computing them, AI columns, formatting, charts, summaries.",
)
class SpreadsheetPlugin:
    """Skills for Excel workbooks (.xlsx, .xlsm), built on openpyxl and the ``formulas`` evaluator.

    Args:
        max_cells: Most cells a sheet may declare before it is refused as absurd.
        max_edit_cells: Most cells a sheet may declare for skills that load it whole.
        stream_above: ``profile`` streams workbooks whose largest sheet declares more cells.
    """

    def __init__(
        self, max_cells: int = 50_000_000, max_edit_cells: int = 2_000_000, stream_above: int = 200_000
    ) -> None:
        self.max_cells = max_cells
        self.max_edit_cells = max_edit_cells
        self.stream_above = stream_above

    @skill
    def profile(self, ctx: SkillContext, path: str) -> WorkbookProfile:
        """Describe every sheet: tables, header rows, column types, counts, ranges and outliers.

        Needs no model. Large sheets are streamed row by row with bounded memory.

        Args:
            ctx: The skill context (routing, progress, sensitivity).
            path: The .xlsx or .xlsm workbook.
        """
        checked = open_checked(ctx, path, max_cells=self.max_cells)
        return profile_workbook(checked, str(ctx.sensitivity), ctx.progress, stream_above=self.stream_above)

    @skill(requires=(tags.JSON,), effects="write")
    async def formula(
        self,
        ctx: SkillContext,
        path: str,
        request: str,
        target: str | None = None,
        sheet: str | None = None,
        output: str | None = None,
        in_place: bool = False,
    ) -> FormulaResult:
        """Write a formula from a request, checked by computing it against the workbook's data.

        A formula that fails (error, wrong value) goes back to the model once, then to a
        stronger model (tag ``reasoning``); every attempt is reported.

        Args:
            ctx: The skill context (routing, progress, sensitivity).
            path: The .xlsx or .xlsm workbook.
            request: What the formula should compute, in plain words.
            target: The cell to write it to (``H2`` or ``Sales!H2``), or an empty column (``H`` or
                ``H:H``) to get one formula per row; default: a cell beside the table.
            sheet: The sheet whose table the request is about (default: the active sheet).
            output: Where to write the edited workbook (default: ``<name>.edited.xlsx``).
            in_place: Edit the input file itself instead of writing a copy.
        """
        return await _edits.formula(ctx, path, request, target, sheet, output, in_place, self.max_edit_cells)

    @skill(requires=(tags.CHAT,), prefers=(tags.REWRITE,))
    async def explain_formula(
        self, ctx: SkillContext, path: str, cell: str, sheet: str | None = None
    ) -> FormulaExplanation:
        """Explain a cell's formula in plain words, with the cells and ranges it reads.

        Args:
            ctx: The skill context (routing, progress, sensitivity).
            path: The .xlsx or .xlsm workbook.
            cell: The cell holding the formula (``F2`` or ``Sales!F2``).
            sheet: The sheet, when ``cell`` names none (default: the active sheet).
        """
        session = await asyncio.to_thread(Session.open, ctx, path, max_cells=self.max_edit_cells)
        return await explain(ctx, session, cell, sheet)

    @skill(requires=(tags.JSON,), prefers=(tags.EXTRACT,), effects="write")
    async def add_column(
        self,
        ctx: SkillContext,
        path: str,
        instruction: str,
        header: str | None = None,
        sheet: str | None = None,
        mode: Literal["auto", "formula", "model"] = "auto",
        source_columns: list[str] | None = None,
        batch_size: int = 20,
        max_rows: int = 1000,
        output: str | None = None,
        in_place: bool = False,
    ) -> AddColumnResult:
        """Add a column computed by a checked formula or filled row by row by the model.

        Args:
            ctx: The skill context (routing, progress, sensitivity).
            path: The .xlsx or .xlsm workbook.
            instruction: What the column holds, e.g. "price times quantity" or "sentiment of Feedback".
            header: The new column's header (default: proposed by the model).
            sheet: The sheet whose table gets the column (default: the active sheet).
            mode: "formula", "model" (classify, extract or summarize each row) or "auto" (the model decides).
            source_columns: Columns the model reads in "model" mode (default: all).
            batch_size: Rows per model call in "model" mode.
            max_rows: Most rows filled by the model in "model" mode.
            output: Where to write the edited workbook (default: ``<name>.edited.xlsx``).
            in_place: Edit the input file itself instead of writing a copy.
        """
        return await _edits.add_column(
            ctx,
            path,
            instruction,
            header,
            sheet,
            mode,
            source_columns,
            batch_size,
            max_rows,
            output,
            in_place,
            self.max_edit_cells,
        )

    @skill(requires=(tags.JSON,), effects="write")
    async def highlight(
        self,
        ctx: SkillContext,
        path: str,
        request: str,
        sheet: str | None = None,
        output: str | None = None,
        in_place: bool = False,
    ) -> HighlightResult:
        """Add conditional formatting from a request, e.g. "highlight overdue rows in red".

        Args:
            ctx: The skill context (routing, progress, sensitivity).
            path: The .xlsx or .xlsm workbook.
            request: What to highlight and in which colour.
            sheet: The sheet whose table is formatted (default: the active sheet).
            output: Where to write the edited workbook (default: ``<name>.edited.xlsx``).
            in_place: Edit the input file itself instead of writing a copy.
        """
        return await _report.highlight(ctx, path, request, sheet, output, in_place, self.max_edit_cells)

    @skill(requires=(tags.JSON,), effects="write")
    async def chart(
        self,
        ctx: SkillContext,
        path: str,
        request: str,
        sheet: str | None = None,
        kind: Literal["bar", "line", "pie", "scatter"] | None = None,
        output: str | None = None,
        in_place: bool = False,
    ) -> ChartResult:
        """Add a bar, line, pie or scatter chart of the table, with titles and axes.

        Args:
            ctx: The skill context (routing, progress, sensitivity).
            path: The .xlsx or .xlsm workbook.
            request: What to chart, e.g. "amount by region".
            sheet: The sheet whose table is charted (default: the active sheet).
            kind: Force the chart type (default: chosen from the request).
            output: Where to write the edited workbook (default: ``<name>.edited.xlsx``).
            in_place: Edit the input file itself instead of writing a copy.
        """
        return await _report.chart(ctx, path, request, sheet, kind, output, in_place, self.max_edit_cells)

    @skill(requires=(tags.JSON,), effects="write")
    async def summarize(
        self,
        ctx: SkillContext,
        path: str,
        request: str = "",
        group_by: str | None = None,
        values: list[str] | None = None,
        functions: list[Aggregation] | None = None,
        sheet: str | None = None,
        output: str | None = None,
        in_place: bool = False,
    ) -> SummaryResult:
        """Write a group-by summary sheet of live formulas (SUMIFS, COUNTIFS ...), checked against the data.

        With ``group_by`` given no model is needed; otherwise the model reads the request.

        Args:
            ctx: The skill context (routing, progress, sensitivity).
            path: The .xlsx or .xlsm workbook.
            request: What to summarise, e.g. "total and average amount per region".
            group_by: The column to group by (skips the model).
            values: Numeric columns to aggregate.
            functions: Aggregations: sum, count, average, min, max (default: sum and count).
            sheet: The sheet whose table is summarised (default: the active sheet).
            output: Where to write the edited workbook (default: ``<name>.edited.xlsx``).
            in_place: Edit the input file itself instead of writing a copy.
        """
        return await _report.summarize(
            ctx,
            path,
            request,
            group_by,
            values,
            list(functions) if functions else None,
            sheet,
            output,
            in_place,
            self.max_edit_cells,
        )

    @skill(requires=(tags.JSON,))
    async def ask(
        self, ctx: SkillContext, path: str, question: str, sheet: str | None = None
    ) -> AnswerResult:
        """Answer a question about the data, citing the formula that computed the answer.

        Args:
            ctx: The skill context (routing, progress, sensitivity).
            path: The .xlsx or .xlsm workbook.
            question: The question, e.g. "What is the total amount for North?".
            sheet: The sheet whose table the question is about (default: the active sheet).
        """
        session = await asyncio.to_thread(Session.open, ctx, path, max_cells=self.max_edit_cells)
        table = await asyncio.to_thread(session.table, sheet)
        return await answer(ctx, session, table, question)

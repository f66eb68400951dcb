"""``spreadsheet.chart``: bar, line, pie and scatter charts with sensible ranges, titles and axes.

The model chooses the kind, the category column and the value columns; this
module checks them against the table and builds the openpyxl chart. When the
categories repeat (one row per sale, many sales per region) the chart would be
unreadable, so the values are first summed per category on a chart data sheet of
live SUMIFS formulas and the chart plots that.
"""

from __future__ import annotations

from typing import Any, Literal

from openpyxl.chart import BarChart, LineChart, PieChart, Reference, ScatterChart, Series
from openpyxl.utils.cell import get_column_letter
from pydantic import BaseModel, Field

from dualtrack import UserError

from ._table import Column, Table

__all__ = ["ChartSpec", "build_chart"]

Kind = Literal["bar", "line", "pie", "scatter"]
_MAX_PIE = 12


class ChartSpec(BaseModel):
    """A chart as the model describes it."""

    kind: Kind = Field(description="bar, line, pie or scatter")
    category: str | None = Field(default=None, description="Header of the category (x) column")
    values: list[str] = Field(description="Headers of the numeric columns to plot")
    title: str = Field(default="", description="Chart title")
    x_title: str | None = Field(default=None, description="Horizontal axis title")
    y_title: str | None = Field(default=None, description="Vertical axis title")
    aggregate: Literal["auto", "none", "sum", "average", "count"] = Field(
        default="auto", description="How to combine rows that share a category ('auto' sums repeated ones)"
    )


def _check(table: Table, spec: ChartSpec) -> tuple[Column | None, list[Column]]:
    if not spec.values:
        raise UserError("the chart needs at least one value column")
    values = [table.column(v) for v in spec.values]
    for v in values:
        if not v.numeric:
            raise UserError(
                f"column {v.name!r} holds {v.kind} values, not numbers; pick a numeric column to plot"
            )
    category = table.column(spec.category) if spec.category else None
    if spec.kind == "pie" and len(values) != 1:
        raise UserError("a pie chart shows one value column; pick one")
    if spec.kind == "scatter":
        if category is None or not category.numeric:
            raise UserError("a scatter chart needs a numeric column for the horizontal axis")
    return category, values


def build_chart(
    wb: Any, table: Table, spec: ChartSpec, summary_sheet: str
) -> tuple[str, str | None, list[str], list[str], str | None]:
    """Add the chart next to the table.

    Args:
        wb: The workbook (with formulas) being edited.
        table: The table plotted.
        spec: The chart request.
        summary_sheet: Name for the chart data sheet, if categories must be aggregated.

    Returns:
        ``(anchor, categories ref, value refs, warnings, chart data sheet or None)``.

    Raises:
        UserError: When the columns do not suit the chart.
    """
    category, values = _check(table, spec)
    warnings: list[str] = []
    ws = wb[table.sheet]
    src_ws, first, last = ws, table.first_row, table.last_row
    header_row = table.block.header_row or first
    cat_col = category.index if category else None
    val_cols = [v.index for v in values]
    data_sheet = None
    if category is not None and spec.kind != "scatter":
        cats = [c for c in table.values[category.index] if c is not None]
        repeated = len({str(c).casefold() for c in cats}) < len(cats)
        agg = spec.aggregate
        if agg == "auto":
            agg = "sum" if repeated else "none"
        if agg != "none":
            data_sheet = summary_sheet
            src_ws, first, last = _aggregate(wb, table, category, values, agg, data_sheet)
            header_row, cat_col = 1, 1
            val_cols = [2] if agg == "count" else list(range(2, 2 + len(values)))
            warnings.append(f"rows sharing a {category.name!r} were combined ({agg}) on sheet {data_sheet!r}")
    n_points = last - first + 1
    if spec.kind == "pie" and n_points > _MAX_PIE:
        warnings.append(f"a pie chart of {n_points} slices is hard to read; consider a bar chart")
    chart = _make(spec.kind)
    chart.title = spec.title or _default_title(spec, category, values)
    if spec.kind == "scatter":
        xref = Reference(src_ws, min_col=cat_col, min_row=first, max_row=last)
        for col in val_cols:
            yref = Reference(src_ws, min_col=col, min_row=header_row, max_row=last)
            series = Series(yref, xref, title_from_data=True)
            series.marker.symbol = "circle"
            series.graphicalProperties.line.noFill = True
            chart.series.append(series)
    else:
        for col in val_cols:
            chart.add_data(
                Reference(src_ws, min_col=col, min_row=header_row, max_row=last), titles_from_data=True
            )
        if cat_col is not None:
            chart.set_categories(Reference(src_ws, min_col=cat_col, min_row=first, max_row=last))
    if spec.kind != "pie":
        chart.x_axis.title = spec.x_title or (category.name if category else None)
        chart.y_axis.title = spec.y_title or (values[0].name if len(values) == 1 else None)
        chart.x_axis.delete = False
        chart.y_axis.delete = False
    chart.width, chart.height = 18, 9
    anchor = f"{get_column_letter(table.block.last_col + 2)}{table.block.first_row}"
    ws.add_chart(chart, anchor)
    title = src_ws.title.replace("'", "''")
    cat_ref = (
        f"'{title}'!${get_column_letter(cat_col)}${first}:${get_column_letter(cat_col)}${last}"
        if cat_col
        else None
    )
    val_refs = [f"'{title}'!${get_column_letter(c)}${first}:${get_column_letter(c)}${last}" for c in val_cols]
    return anchor, cat_ref, val_refs, warnings, data_sheet


def _make(kind: str) -> Any:
    if kind == "bar":
        chart = BarChart()
        chart.type = "col"
        return chart
    if kind == "line":
        return LineChart()
    if kind == "pie":
        return PieChart()
    chart = ScatterChart()
    chart.style = 13
    return chart


def _default_title(spec: ChartSpec, category: Column | None, values: list[Column]) -> str:
    what = " and ".join(v.name for v in values)
    return f"{what} by {category.name}" if category else what


def _aggregate(
    wb: Any, table: Table, category: Column, values: list[Column], agg: str, name: str
) -> tuple[Any, int, int]:
    from ._summary import write_group_sheet

    ws, first, last = write_group_sheet(wb, table, category, values, [agg], name, totals=False)
    return ws, first, last

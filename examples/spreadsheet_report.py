"""A small report from the sample workbook: a summary sheet, a chart, highlights and answers.

- ``summarize`` writes "Summary by Region" as live SUMIFS/COUNTIFS/AVERAGEIFS formulas and
  checks every cell against the data before saving;
- ``chart`` adds a bar chart of the amount per region (summed on a chart data sheet);
- ``highlight`` colours overdue, still-open feedback rows;
- ``ask`` answers a question with the formula that computed the answer.

Each step reads the previous step's output, so the last file holds everything::

    python examples/spreadsheet_report.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import run_and_close, run_or_exit
from _sample_workbooks import make_sales_workbook

from dualtrack import Orchestrator


async def run(orc: Orchestrator, workdir: Path) -> dict[str, Any]:
    book = make_sales_workbook(workdir / "sales.xlsx")
    report = workdir / "sales-report.xlsx"
    results: dict[str, Any] = {}
    summary = await orc.invoke(
        "spreadsheet.summarize",
        path=str(book),
        request="total and average amount per region",
        output=str(report),
    )
    s = summary.value
    print(f"== spreadsheet.summarize -> sheet {s.sheet!r} (checked: {s.ok})")
    for row in s.rows:
        print(
            "   "
            + ", ".join(f"{k}: {v:,.2f}" if isinstance(v, float) else f"{k}: {v}" for k, v in row.items())
        )
    print(summary.explain())
    results["summary"] = summary

    chart = await orc.invoke(
        "spreadsheet.chart", path=str(report), request="bar chart of the amount per region", in_place=True
    )
    c = chart.value
    print(f"\n== spreadsheet.chart {c.kind} {c.title!r} at {c.sheet}!{c.anchor}: {c.categories} / {c.values}")
    for w in c.warnings:
        print(f"   note: {w}")
    print(chart.explain())
    results["chart"] = chart

    marked = await orc.invoke(
        "spreadsheet.highlight",
        path=str(report),
        sheet="Feedback",
        request="highlight open items whose reply is overdue in red",
        in_place=True,
    )
    h = marked.value
    print(f"\n== spreadsheet.highlight {h.range}: {h.rule} ({h.matching_rows} rows match)")
    print(marked.explain())
    results["highlight"] = marked

    answer = await orc.invoke(
        "spreadsheet.ask", path=str(report), question="What is the average amount in the South?"
    )
    a = answer.value
    print(f"\n== spreadsheet.ask: {a.question}\n   {a.answer}")
    print(answer.explain())
    results["ask"] = answer
    print(f"\nreport written to {report}")
    return results


def main(orc: Orchestrator | None = None, workdir: Path | None = None) -> dict[str, Any]:
    return run_and_close(run, orc, workdir or Path(tempfile.mkdtemp(prefix="dualtrack-sheets-")))


if __name__ == "__main__":
    run_or_exit(main)

"""Formulas from plain words, checked by computing them; formulas explained; new columns.

- ``formula`` turns a request into a formula, computes it against the workbook's data
  and compares it with the same total computed directly in Python; a wrong formula goes
  back to the model, then to a stronger one, and every attempt is listed;
- ``explain_formula`` explains the Amount formula and lists the cells it reads;
- ``add_column`` adds a VAT column (a checked formula, copied down) and a sentiment
  column for customer comments (filled by the model in batches, stored as text).

The sample workbook is created in a temporary folder; every skill writes its own copy::

    python examples/spreadsheet_formulas.py
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
    results: dict[str, Any] = {}
    # 1. a formula for a request, checked against the data before it is written
    made = await orc.invoke(
        "spreadsheet.formula",
        path=str(book),
        request="total amount for the North region",
        output=str(workdir / "sales-formula.xlsx"),
    )
    v = made.value
    print(f"== spreadsheet.formula -> {v.sheet}!{v.target}: {v.formula} = {v.value}")
    print(f"   check: {v.check} (expected {v.expected})")
    for a in v.attempts:
        print(
            f"   attempt {a.model}: {a.formula} {'ok' if a.ok else a.error}{' (escalated)' if a.escalated else ''}"
        )
    print(made.explain())
    results["formula"] = made

    # 2. explain a formula cell, with its precedents
    explained = await orc.invoke("spreadsheet.explain_formula", path=str(book), cell="Sales!G2")
    e = explained.value
    print(f"\n== spreadsheet.explain_formula {e.sheet}!{e.cell}: {e.formula} = {e.value}")
    for p in e.precedents:
        print(f"   reads {p.ref} ({p.header or 'no header'}), e.g. {p.sample}")
    print(f"   {e.explanation}")
    print(explained.explain())
    results["explain"] = explained

    # 3. a computed column: the model proposes a formula, it is checked on sample rows and copied down
    vat = await orc.invoke(
        "spreadsheet.add_column",
        path=str(book),
        instruction="the amount including 20% VAT",
        header="Amount incl. VAT",
        output=str(workdir / "sales-vat.xlsx"),
    )
    c = vat.value
    print(
        f"\n== spreadsheet.add_column ({c.mode}) {c.column} {c.header!r}: {c.formula}, {c.rows_filled} rows"
    )
    print(vat.explain())
    results["vat"] = vat

    # 4. a column filled by the model row by row (batched), like Excel's COPILOT function
    mood = await orc.invoke(
        "spreadsheet.add_column",
        path=str(book),
        sheet="Feedback",
        instruction="classify the sentiment of the comment as positive, neutral or negative",
        header="Sentiment",
        mode="model",
        source_columns=["Comment"],
        output=str(workdir / "feedback-sentiment.xlsx"),
    )
    m = mood.value
    print(
        f"\n== spreadsheet.add_column ({m.mode}) {m.header!r}: {m.rows_filled} rows in {m.model_calls} call(s)"
    )
    print(f"   first answers: {m.sample}")
    print(mood.explain())
    results["sentiment"] = mood
    return results


def main(orc: Orchestrator | None = None, workdir: Path | None = None) -> dict[str, Any]:
    return run_and_close(run, orc, workdir or Path(tempfile.mkdtemp(prefix="dualtrack-sheets-")))


if __name__ == "__main__":
    run_or_exit(main)

"""Profile a workbook: tables, header rows, column types and statistics (no model needed).

Creates the sample workbook in a temporary folder and profiles it::

    python examples/spreadsheet_profile.py
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
    result = await orc.invoke("spreadsheet.profile", path=str(book))
    prof = result.value
    print(f"== spreadsheet.profile {book.name} (streamed: {prof.streamed}, sensitivity: {prof.sensitivity})")
    for sheet in prof.sheets:
        tables = ", ".join(t.ref for t in sheet.tables)
        print(f"\nsheet {sheet.sheet!r}: {sheet.rows} rows, header row {sheet.header_row}, tables {tables}")
        for c in sheet.column_profiles:
            line = f"  {c.column} {c.name:<10} {c.kind:<8} count {c.count:<3} missing {c.missing:<2} distinct {c.distinct}"
            if c.mean is not None:
                line += f"  min {c.min:g} max {c.max:g} mean {c.mean:.2f}"
            if c.first_date:
                line += f"  {c.first_date[:10]} .. {c.last_date[:10] if c.last_date else ''}"
            if c.outliers:
                line += f"  outliers {c.outliers} (rows {[r for r, _ in c.outlier_examples]})"
            if c.top_values and c.kind == "text" and c.distinct <= 10:
                line += "  top " + ", ".join(f"{v} ({n})" for v, n in c.top_values[:3])
            print(line)
    print()
    print(result.explain())
    return {"profile": result}


def main(orc: Orchestrator | None = None, workdir: Path | None = None) -> dict[str, Any]:
    return run_and_close(run, orc, workdir or Path(tempfile.mkdtemp(prefix="dualtrack-sheets-")))


if __name__ == "__main__":
    run_or_exit(main)

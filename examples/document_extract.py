"""Get facts out of a report: action items, a question with citations, a comparison, a table.

- ``extract`` lists the action items as validated JSON and adds them as a table;
- ``ask`` answers a question citing the paragraphs it relied on (or says the
  report does not contain the answer);
- ``compare`` diffs the report against a later version and summarizes the changes;
- ``to_table`` turns the supplier list into a real Word table.

Run: ``.venv/bin/python examples/document_extract.py [--out DIR]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import invoke_and_explain, run_with_out_dir
from _sample_docs import make_revised_docx, make_sample_docx

from dualtrack import Orchestrator


async def main(orc: Orchestrator | None = None, out: Path = Path("out")) -> int:
    report = make_sample_docx(out / "quarterly-report.docx")
    revised = make_revised_docx(report, out / "quarterly-report-v2.docx")
    orc = orc or Orchestrator.from_config()
    async with orc:
        items = await invoke_and_explain(
            orc, "document.extract", path=str(report), kind="action_items", insert_table=True
        )
        if items:
            print(json.dumps(items.value.data, indent=2))
            print(f"table added in {items.value.output}")
        answer = await invoke_and_explain(
            orc, "document.ask", path=str(report), question="Who audits the Scotland invoices?"
        )
        if answer:
            print(f"answer: {answer.value.answer} (found: {answer.value.found})")
            for c in answer.value.citations:
                print(f"  [{c.id}] {c.text}")
        diff = await invoke_and_explain(orc, "document.compare", path=str(report), other=str(revised))
        if diff:
            for change in diff.value.changes:
                print(
                    f"  {change.op:<8} {change.old_id or '-':>4} -> {change.new_id or '-':<4} "
                    f"{(change.new_text or change.old_text or '')[:70]}"
                )
            print(f"summary: {diff.value.summary}")
        table = await invoke_and_explain(
            orc,
            "document.to_table",
            path=str(report),
            section="Suppliers",
            columns=["Supplier", "Service"],
            delimiter=": ",
        )
        if table:
            print(f"{table.value.rows} rows in {table.value.output}")
        failures = [items, answer, diff, table].count(None)
    return 1 if failures else 0


if __name__ == "__main__":
    run_with_out_dir(main, __doc__)

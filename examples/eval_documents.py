"""Write the documents of ``eval_workload.toml``, then run ``dualtrack eval`` on them.

Usage::

    python examples/eval_documents.py            # writes examples/eval_docs/
    dualtrack eval examples/eval_workload.toml --out eval-report.html
    # optional: --models smollm2,gpt-4o-mini --reference gpt-4o

The documents are ordinary business files: a three-page quarterly report (.docx),
a later revision of it, a short board memo, and a sales workbook (.xlsx).
"""

from __future__ import annotations

import sys
from pathlib import Path

import docx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sample_docs import make_revised_docx, make_sample_docx
from _sample_workbooks import make_sales_workbook

MEMO = [
    "Board memo: depot expansion",
    "The board met on 12 May and reviewed the proposal for a second depot near Glasgow. The site survey "
    "costs 42,000 pounds and takes six weeks. Rural deliveries in Scotland currently take two days for a "
    "third of parcels; a local depot would bring them to next day for all but the islands.",
    "Decisions: the board approved the survey. Finance will model the lease options by 30 June. "
    "Operations will keep the regional pallet carrier until the end of the year.",
    "Risks: the lease market near Glasgow is tight, and the survey may find access problems for articulated "
    "lorries. A fallback site in Motherwell is on the shortlist.",
]


def make_eval_documents(folder: str | Path) -> list[Path]:
    """Write the evaluation documents into ``folder`` and return their paths."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    report = make_sample_docx(out / "q2_report.docx")
    revised = make_revised_docx(report, out / "q2_report_v2.docx")
    memo = docx.Document()
    memo.add_heading(MEMO[0], 1)
    for text in MEMO[1:]:
        memo.add_paragraph(text)
    memo.save(str(out / "board_memo.docx"))
    sales = make_sales_workbook(out / "sales.xlsx")
    return [report, revised, out / "board_memo.docx", sales]


if __name__ == "__main__":
    for path in make_eval_documents(Path(__file__).resolve().parent / "eval_docs"):
        print(f"wrote {path}")

"""Summarize a multi-page report, then write the summary as a styled .docx.

The sample report is generated next to the outputs. With no configuration the
embedded in-house model does the work; configure partner models in
``dualtrack.toml`` and the router picks among them by tags, sensitivity and cost.

Run: ``.venv/bin/python examples/document_summarize.py [--out DIR]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_progress, run_with_out_dir
from _sample_docs import make_sample_docx

from dualtrack import DualtrackError, Orchestrator


async def main(orc: Orchestrator | None = None, out: Path = Path("out")) -> int:
    report = make_sample_docx(out / "quarterly-report.docx")
    orc = orc or Orchestrator.from_config()
    async with orc:
        print(f"Summarizing {report.name} as bullet points ...")
        try:
            result = await orc.invoke(
                "document.summarize", path=str(report), style="bullets", save=True, on_progress=print_progress
            )
        except DualtrackError as exc:
            print(f"could not summarize: {exc}")
            return 1
    value = result.value
    print("\nSummary:\n" + value.summary)
    print(f"\nCited blocks: {', '.join(value.cited) or 'none'}; parts summarized: {value.chunks}")
    if value.fallback_parts:
        print(
            f"{value.fallback_parts} part(s) fell back to an extractive summary (the model's reply was unusable)"
        )
    print(f"Summary document: {value.output}")
    print("\nRouting:\n" + result.explain())
    return 0


if __name__ == "__main__":
    run_with_out_dir(main, __doc__)

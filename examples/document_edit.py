"""Edit a report three ways: a direct rewrite, tracked-change suggestions, and review comments.

- ``rewrite`` changes the "Executive summary" section, keeping bold, italic and the
  hyperlink on every word that survives;
- ``suggest_edits`` proposes plain-language edits to the "Risks" section as tracked
  changes (accept or reject them in Word or LibreOffice);
- ``review`` adds comments anchored to the exact words they discuss.

The input report is never modified: each skill writes its own copy next to it.

Run: ``.venv/bin/python examples/document_edit.py [--out DIR]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import invoke_and_explain, run_with_out_dir
from _sample_docs import make_sample_docx

from dualtrack import Orchestrator


async def main(orc: Orchestrator | None = None, out: Path = Path("out")) -> int:
    report = str(make_sample_docx(out / "quarterly-report.docx"))
    orc = orc or Orchestrator.from_config()
    failures = 0
    async with orc:
        rewritten = await invoke_and_explain(
            orc, "document.rewrite", path=report, instruction="more concise", section="Executive summary"
        )
        if rewritten:
            for change in rewritten.value.changed:
                print(f"\n[{change.id}] before: {change.before}\n[{change.id}] after:  {change.after}")
            print(f"written to {rewritten.value.output}")
        suggested = await invoke_and_explain(
            orc,
            "document.suggest_edits",
            path=report,
            instruction="plain language",
            section="Risks",
            author="Operations Office",
        )
        if suggested:
            print(f"{suggested.value.revisions} tracked changes in {suggested.value.output}")
        reviewed = await invoke_and_explain(
            orc, "document.review", path=report, focus="unclear figures", max_comments=4
        )
        if reviewed:
            for note in reviewed.value.comments:
                print(f"  comment on {note.id} at {note.anchored_text!r}: {note.comment}")
            print(f"written to {reviewed.value.output}")
        failures = [rewritten, suggested, reviewed].count(None)
    return 1 if failures else 0


if __name__ == "__main__":
    run_with_out_dir(main, __doc__)

"""Explain and review code in the shipped sample project (read-only: nothing is changed).

Run it with a model configured in dualtrack.toml (or an OpenAI key in the environment)::

    python examples/code_explain_review.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import run_and_close, run_or_exit

from dualtrack import Orchestrator

SAMPLE = Path(__file__).resolve().parent / "sample_project"


async def run(orc: Orchestrator) -> dict[str, Any]:
    pricing = SAMPLE / "inventory" / "pricing.py"
    results: dict[str, Any] = {}
    # 1. explain one function: the facts come from Python's ast, the prose from a model
    explained = await orc.invoke("code.explain", path=str(pricing), symbol="order_total")
    facts = explained.value.facts
    print(f"== code.explain order_total (lines {facts.line_start}-{facts.line_end})")
    print(f"calls: {facts.calls}  raises: {facts.raises}  complexity: {facts.complexity}")
    print(explained.value.explanation)
    print(explained.explain())
    results["explain"] = explained

    # 2. review a file: compiler and ruff first, then the model; every finding on a real line
    reviewed = await orc.invoke("code.review", path=str(SAMPLE / "inventory" / "stock.py"))
    print("\n== code.review inventory/stock.py")
    for f in reviewed.value.findings:
        print(f"  {f.file}:{f.line_start}-{f.line_end} [{f.severity}/{f.category}/{f.source}] {f.message}")
    for reason in reviewed.value.dropped:
        print(f"  dropped: {reason}")
    print(reviewed.explain())
    results["review"] = reviewed
    return results


def main(orc: Orchestrator | None = None) -> dict[str, Any]:
    return run_and_close(run, orc)


if __name__ == "__main__":
    run_or_exit(main)  # exits 1 with the reason if, e.g., no configured model has the `code` tag

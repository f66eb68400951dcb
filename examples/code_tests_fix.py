"""Write tests, fix a seeded bug and add docstrings in a copy of the shipped sample project.

The sample project is copied to a temporary folder first, so running this never
changes ``examples/sample_project``. Tests and fixes are checked by really running
pytest in a sandbox (no network, limited time and memory, writes confined)::

    python examples/code_tests_fix.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import run_and_close, run_or_exit

from dualtrack import Orchestrator

SAMPLE = Path(__file__).resolve().parent / "sample_project"


async def run(orc: Orchestrator, project: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    # 1. tests for the Stock class: only tests that passed in the sandbox come back
    tests = await orc.invoke(
        "code.tests",
        path=str(project / "inventory" / "stock.py"),
        symbol="Stock",
        write_to=str(project / "tests" / "test_stock.py"),
    )
    print("== code.tests Stock")
    for a in tests.value.attempts:
        print(
            f"  {a.kind:<10} {a.model or '-':<20} {a.status:<8} passed {len(a.passed)} failed {len(a.failed)}"
        )
    print(f"  verified tests: {tests.value.passed}")
    print(f"  written to: {tests.value.written_to}")
    print(tests.explain())
    results["tests"] = tests

    # 2. fix the seeded bug: the diff is returned (and applied here) only once pytest passes
    fixed = await orc.invoke(
        "code.fix", command=["python", "-m", "pytest", "-q", "tests"], project=str(project), apply=True
    )
    print(f"\n== code.fix: {fixed.value.status}")
    print(fixed.value.explanation)
    print(fixed.value.diff)
    print(fixed.explain())
    results["fix"] = fixed

    # 3. docstrings for stock.py: a diff that changes nothing but docstrings (not applied)
    docs = await orc.invoke("code.docstrings", path=str(project / "inventory" / "stock.py"))
    print(f"\n== code.docstrings: added {docs.value.added}")
    print(docs.value.diff)
    print(docs.explain())
    results["docstrings"] = docs
    return results


def main(orc: Orchestrator | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="dualtrack-sample-") as tmp:
        project = Path(tmp) / "sample_project"
        shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        results = run_and_close(run, orc, project)
        results["project"] = {
            str(p.relative_to(project)): p.read_text() for p in sorted(project.rglob("*.py"))
        }
        return results


if __name__ == "__main__":
    run_or_exit(main)  # exits 1 with the reason if, e.g., no configured model has the `code` tag

"""Running pytest in the sandbox, reading its per-test outcomes, pruning failing tests."""

from __future__ import annotations

import ast
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from ._sandbox import RunResult, Sandbox

__all__ = ["PytestRun", "prune_tests", "pytest_argv", "run_pytest"]

_PARAM = re.compile(r"\[.*\]$")
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(slots=True)
class PytestRun:
    """The outcome of one pytest run on one test file.

    Attributes:
        result: The sandboxed process.
        passed: Node ids that passed.
        failed: Node ids that failed or errored (a collection error names the file).
    """

    result: RunResult
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``passed`` only when pytest exited 0 and every collected test passed."""
        if self.result.status != "failed" and not self.result.ok:
            return self.result.status
        if self.result.ok and self.passed and not self.failed:
            return "passed"
        return "failed"


def pytest_argv(test_rel: str, report: Path, config: Path, rootdir: Path) -> list[str]:
    """The pytest command: only the given file, no cache, no outside config, a JUnit report."""
    return [
        "python",
        "-m",
        "pytest",
        test_rel,
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:dualtrack",
        "-c",
        str(config),
        "--rootdir",
        str(rootdir),
        f"--junitxml={report}",
        "-o",
        "junit_family=xunit1",
        "--no-header",
        "-rfE",
    ]


def run_pytest(sandbox: Sandbox, test_rel: str) -> PytestRun:
    """Run pytest on ``work/test_rel`` inside ``sandbox`` and read its report."""
    config = sandbox.root / "boot" / "pytest.ini"
    config.write_text("[pytest]\n", encoding="utf-8")
    report = sandbox.root / "tmp" / f"report-{secrets.token_hex(6)}.xml"
    # only pytest itself: generated tests use the standard library and pytest, and
    # third-party plugins would slow every run by seconds
    result = sandbox.run(
        pytest_argv(test_rel, report, config, sandbox.work), env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    )
    run = PytestRun(result)
    if not report.is_file():
        return run
    try:
        root = ElementTree.parse(report).getroot()
    except ElementTree.ParseError:
        return run
    module = test_rel[:-3].replace("/", ".") if test_rel.endswith(".py") else test_rel
    for case in root.iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        inner = classname[len(module) :].lstrip(".") if classname.startswith(module) else ""
        parts = [test_rel, *(inner.split(".") if inner else []), name] if classname else [test_rel]
        nodeid = "::".join(p for p in parts if p)
        bad = any(case.find(tag) is not None for tag in ("failure", "error"))
        if case.find("skipped") is not None:
            continue
        (run.failed if bad else run.passed).append(nodeid)
    return run


def prune_tests(code: str, failing: list[str]) -> str | None:
    """Remove the failing test functions (and classes left with no tests).

    Args:
        code: The test file.
        failing: Node ids (``file::Class::test_x[param]``).

    Returns:
        The pruned file, or ``None`` when a failure cannot be pinned on one test
        (a collection error, a module-level failure).
    """
    tree = ast.parse(code)
    spans: list[tuple[int, int]] = []
    emptied: dict[int, set[str]] = {}
    for nodeid in failing:
        parts = [_PARAM.sub("", p) for p in nodeid.split("::")[1:]]
        if not parts:
            return None
        body: list[ast.stmt] = tree.body
        owner: ast.ClassDef | None = None
        node: ast.stmt | None = None
        for part in parts:
            node = next((n for n in body if isinstance(n, _DEFS) and n.name == part), None)
            if node is None:
                return None
            if isinstance(node, ast.ClassDef) and part != parts[-1]:
                owner, body = node, node.body
        assert node is not None
        spans.append(_span(node))
        if owner is not None:
            emptied.setdefault(id(owner), set()).add(parts[-1])
    for n in ast.walk(tree):
        if isinstance(n, ast.ClassDef) and id(n) in emptied:
            tests = {m.name for m in n.body if isinstance(m, _DEFS) and m.name.startswith("test")}
            if tests <= emptied[id(n)]:
                spans.append(_span(n))
    lines = code.splitlines(keepends=True)
    drop: set[int] = set()
    for a, b in spans:
        drop.update(range(a - 1, b))
    kept = "".join(line for i, line in enumerate(lines) if i not in drop)
    return re.sub(r"\n{4,}", "\n\n\n", kept)


def _span(node: ast.stmt) -> tuple[int, int]:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return first, node.end_lineno or node.lineno

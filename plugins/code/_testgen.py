"""``code.tests``: write pytest tests, run them in the sandbox, feed back, escalate, prune.

The cascade: the first model the router picks writes the tests; if any fail,
the failures go back to the same conversation once; if some still fail, the
request is escalated with the ``reasoning`` tag, excluding every model tried.
The returned file is the latest attempt whose every test passed; when there
is none, the attempt with the most passing tests keeps only those, and the
pruned file is run once more in a fresh sandbox: only a file whose every test
passed there is returned (so failing tests are removed, never returned).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

from dualtrack import SkillContext, atomic_write
from dualtrack.checks import CheckContext, CheckResult

from ._facts import module_facts, symbol_facts
from ._models import TestAttempt, TestsResult
from ._prompts import block, extract_python, facts_block, is_python, prove_by_running, system_prompt
from ._pytest import PytestRun, prune_tests, run_pytest
from ._sandbox import Sandbox, SandboxLimits

__all__ = ["TestTarget", "generate_tests", "locate_module"]

SYSTEM = system_prompt(
    "You write pytest test modules. Tests are deterministic and fast; they use only the standard "
    "library and pytest; they never use the network, never write outside pytest's tmp_path and "
    "never start processes. Reply with the complete test file in one ```python block."
)


@dataclass(slots=True)
class TestTarget:
    """What to test and how to import it.

    Attributes:
        path: The module file.
        source: Its text.
        top: The file or top-level package folder copied into the sandbox.
        module: The import name (``shop.pricing``).
        symbol: A function or class to focus on, if any.
    """

    __test__ = False

    path: Path
    source: str
    top: Path
    module: str
    symbol: str | None = None


def locate_module(path: Path) -> tuple[Path, str]:
    """The folder (or file) to copy and the dotted import name of ``path``."""
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    top = folder / parts[0] if len(parts) > 1 or path.stem == "__init__" else path
    return (top if top.exists() else path), ".".join(parts)


def _prompt(target: TestTarget) -> str:
    if target.symbol:
        facts = symbol_facts(target.source, target.symbol)
        what = f"`{target.symbol}` in module `{target.module}`"
        how = f"from {target.module} import {target.symbol.split('.')[0]}"
    else:
        facts = module_facts(target.source)
        what = f"the module `{target.module}`"
        how = f"import {target.module} (or from {target.module} import <names>)"
    return "\n\n".join(
        [
            f"Write pytest tests for {what}. Import it with `{how}`; it is importable as is.",
            "Cover typical inputs, edge cases and every exception the code raises.",
            facts_block(facts),
            block(target.source, f"module {target.module} ({target.path.name})"),
        ]
    )


async def _run(target: TestTarget, code: str, filename: str, limits: SandboxLimits) -> PytestRun | str:
    problem = is_python(code)
    if problem:
        return f"the reply is not valid Python ({problem})"

    def go() -> PytestRun:
        with Sandbox(replace(limits, restrict_reads=True)) as sb:
            if target.top.is_file():  # a plain module: bring its sibling modules along
                for sibling in sorted(target.top.parent.glob("*.py")):
                    sb.copy_in(sibling)
            else:
                sb.copy_in(target.top)
            sb.write(filename, code)
            return run_pytest(sb, filename)

    return await asyncio.to_thread(go)


def _attempt(kind: str, model: str | None, run: PytestRun | str) -> TestAttempt:
    if isinstance(run, str):
        return TestAttempt(kind=kind, model=model, status="invalid", output=run)
    r = run.result
    return TestAttempt(
        kind=kind,
        model=model,
        status=run.status,
        passed=run.passed,
        failed=run.failed,
        refusals=r.refusals,
        output=r.output(3000),
    )


def _feedback(att: TestAttempt) -> str:
    failing = ", ".join(att.failed) or "(no test ran)"
    return "\n\n".join(
        [
            f"The tests were run with pytest in a sandbox: status {att.status}; failing: {failing}.",
            block(att.output or "(no output)", "pytest output"),
            "Return the complete corrected test file. Where a test's expectation disagrees with what the "
            "code actually does, test the actual behaviour. Do not use the network, files outside "
            "tmp_path, or processes.",
        ]
    )


async def generate_tests(
    ctx: SkillContext, target: TestTarget, limits: SandboxLimits, write_to: Path | None = None
) -> TestsResult:
    """Run the cascade and return only tests that passed in the sandbox."""
    leaf = target.module.rsplit(".", 1)[-1]
    filename = (
        f"test_{leaf}_{target.symbol.split('.')[-1].lower()}.py" if target.symbol else f"test_{leaf}.py"
    )
    prompt = _prompt(target)
    attempts: list[TestAttempt] = []
    results: list[tuple[str, PytestRun]] = []

    async def passes(text: str, context: CheckContext) -> CheckResult:
        code = extract_python(text)
        run = await _run(target, code, filename, limits)
        att = _attempt(context.stage.value, context.model, run)
        attempts.append(att)
        if not isinstance(run, str):
            results.append((code, run))
        ctx.progress(len(attempts), 3, f"{att.kind} attempt: {att.status}")
        return CheckResult(name="tests", passed=att.status == "passed", reason=att.status, value=att)

    checked = await prove_by_running(ctx, SYSTEM, prompt, passes, lambda: _feedback(attempts[-1]))
    last = checked.attempts[-1]
    if last.error is not None:
        attempts.append(TestAttempt(kind="escalation", status="no-route", output=last.error[:2000]))
    code, passed, removed = await _best(results, target, filename, limits)
    isolation = results[-1][1].result.isolation if results else []
    written = None
    if write_to is not None and code:
        with atomic_write(write_to, "w") as fh:
            fh.write(code)
        written = str(write_to)
    return TestsResult(
        target=f"{target.module}.{target.symbol}" if target.symbol else target.module,
        module=target.module,
        filename=filename,
        code=code,
        passed=passed,
        removed=removed,
        attempts=attempts,
        isolation=isolation,
        written_to=written,
    )


async def _best(
    results: list[tuple[str, PytestRun]], target: TestTarget, filename: str, limits: SandboxLimits
) -> tuple[str, list[str], list[str]]:
    """Prune the best attempt to its passing tests and confirm them in a fresh sandbox."""
    # an attempt whose every test passed wins (latest first); else the most passing tests, pruned
    ranked = sorted(
        enumerate(results),
        key=lambda r: (r[1][1].status == "passed", len(r[1][1].passed), r[0]),
        reverse=True,
    )
    for _, (code, run) in ranked:
        if not run.passed:
            continue
        if run.status == "passed":
            return code, run.passed, []
        removed = list(run.failed)
        for _round in range(2):
            pruned = prune_tests(code, removed)
            if pruned is None:
                break
            check = await _run(target, pruned, filename, limits)
            if isinstance(check, str):
                break
            if check.status == "passed":
                return pruned, check.passed, removed
            removed += [n for n in check.failed if n not in removed]
    return "", [], []

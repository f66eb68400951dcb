"""``code.fix``: propose a diff, prove it in a sandbox copy, and only then return it.

The command that is re-run is exactly the one the user gave (or pytest node ids
read from the test output they gave); nothing a model writes is ever run except
through the code it patches, inside the sandbox. The sandbox copy leaves out the
files the file rules refuse (secret-looking ones), and the command may read only
that copy and the Python installation, so its output (which goes to models) cannot
quote anything else; what the sandbox refused is reported with the output. Diffs may not touch tests or
test configuration unless the user allows it, so a "fix" cannot delete the check.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from pydantic import BaseModel

from dualtrack import SkillContext, atomic_write
from dualtrack.checks import CheckContext, CheckResult, json_schema

from ._access import copy_rule, patch_target, project_file
from ._models import FixAttempt, FixResult
from ._patch import PatchError, apply_patches, git_apply_check, make_diff, parse_diff, read_text, safe_path
from ._prompts import block, prove_by_running, system_prompt
from ._sandbox import RunResult, Sandbox, SandboxLimits

__all__ = ["FixProposal", "command_from_output", "fix_project", "protected"]

SYSTEM = system_prompt(
    'You fix bugs in the code under test. Reply with JSON {"diff": <unified diff with --- a/<path> and '
    "+++ b/<path> headers, paths relative to the project root, context lines copied exactly>, "
    '"explanation": <one paragraph>}. Change the code, not the tests.'
)
_TESTISH = re.compile(
    r"(^|/)(test_[^/]*\.py|[^/]*_test\.py|conftest\.py|pytest\.ini|tox\.ini|setup\.cfg|pyproject\.toml)$"
)
_TRACE = re.compile(r"(?:File \"([^\"]+)\"|^([\w./-]+\.py):\d+)", re.M)
_NODE = re.compile(r"^(?:FAILED |ERROR )?([\w./-]+\.py(?:::[\w\[\]\-.,]+)*)", re.M)


class FixProposal(BaseModel):
    """The model's reply."""

    diff: str
    explanation: str = ""


def protected(rel: str, command: Iterable[str]) -> bool:
    """Whether a diff may not change ``rel``: tests, test config, or files the command names."""
    names = {c.split("::")[0] for c in command}
    return bool(_TESTISH.search(rel)) or rel in names


def command_from_output(output: str, project: Path) -> list[str] | None:
    """A pytest command for the failing node ids named in ``output`` (only existing files)."""
    ids: list[str] = []
    for m in _NODE.finditer(output):
        nodeid = m.group(1)
        try:
            if safe_path(project, nodeid.split("::")[0]).is_file() and nodeid not in ids:
                ids.append(nodeid)
        except PatchError:
            continue
    return ["python", "-m", "pytest", "-q", *ids] if ids else None


def _context_files(
    ctx: SkillContext, project: Path, output: str, extra: list[str], limit: int = 8
) -> dict[str, str]:
    """Files shown to the model, each through the file rules (a named one refused is an error)."""
    picked: dict[str, str] = {}
    root = project.resolve()
    for rel in extra:
        found = project_file(ctx, root, rel, strict=True)
        if found is not None and len(picked) < limit:
            picked.setdefault(*found)
    queue = [m.group(1) or m.group(2) for m in _TRACE.finditer(output)]
    queue += [i for text in list(picked.values()) for i in _imported_files(text, root)]
    while queue and len(picked) < limit:
        found = project_file(ctx, root, queue.pop(0))
        if found is None or found[0] in picked:
            continue
        picked[found[0]] = found[1]
        queue += _imported_files(found[1], root)  # the code a failing test exercises
    return picked


def _imported_files(source: str, root: Path) -> list[str]:
    """Project files that ``source`` imports (``pkg.mod`` -> ``pkg/mod.py``, also under ``src/``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.append(node.module)
            modules += [f"{node.module}.{a.name}" for a in node.names]
    found = []
    for mod in modules:
        base = mod.replace(".", "/")
        for cand in (f"{base}.py", f"{base}/__init__.py", f"src/{base}.py", f"src/{base}/__init__.py"):
            if (root / cand).is_file():
                found.append(cand)
                break
    return found


Skip = Callable[[Path], bool]


def _run_copy(
    project: Path, command: list[str], limits: SandboxLimits, changes: dict[str, str | None], skip: Skip
) -> RunResult:
    with Sandbox(limits) as sb:
        sb.copy_in(project, "project", skip=skip)
        work = sb.work / "project"
        for rel, text in changes.items():
            target = safe_path(work, rel)
            if text is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(text.encode("utf-8"))
        return sb.run(command, cwd=work, extra_path=[str(work)])


def _check(
    ctx: SkillContext, project: Path, diff: str, command: list[str], allow_tests: bool
) -> tuple[dict[str, str | None], str]:
    """Apply ``diff`` in memory; return new contents and the canonical diff (or raise PatchError)."""
    patches = parse_diff(diff)
    for p in patches:
        if not allow_tests and protected(p.path, command):
            raise PatchError(f"the diff changes {p.path}, a test or test configuration; fix the code instead")
        patch_target(ctx, project, p.path)  # the file rules hold for every file a diff touches
    changes = apply_patches(project, patches)
    canonical = "".join(
        make_diff(rel, read_text(project / rel) if (project / rel).is_file() else None, new)
        for rel, new in changes.items()
    )
    if not canonical:
        raise PatchError("the diff changes nothing")
    return changes, canonical


async def fix_project(
    ctx: SkillContext,
    project: Path,
    command: list[str],
    user_output: str,
    files: list[str],
    limits: SandboxLimits,
    *,
    apply: bool = False,
    allow_test_edits: bool = False,
) -> FixResult:
    """Run the failing command, then the propose-verify cascade; apply only on request."""
    limits = replace(limits, restrict_reads=True)  # its output goes to models: the copy and Python only
    skip = copy_rule(ctx)
    baseline = await asyncio.to_thread(_run_copy, project, command, limits, {}, skip)
    if baseline.ok:
        return FixResult(status="already-passing", command=command, isolation=baseline.isolation)
    output = _output(baseline, 6000)
    context = _context_files(ctx, project, output + "\n" + user_output, files)
    prompt_parts = [
        f"This command fails in the project: {json.dumps(command)}",
        block(output, "command output"),
    ]
    if user_output.strip():
        prompt_parts.append(block(user_output[-4000:], "test output the user gave"))
    prompt_parts += [block(text, f"file {rel}") for rel, text in context.items()]
    prompt_parts.append("Propose the smallest change to the code that makes the command pass.")
    prompt = "\n\n".join(prompt_parts)
    attempts: list[FixAttempt] = []
    parse = json_schema(FixProposal)

    async def proves(text: str, context: CheckContext) -> CheckResult:
        kind, model = context.stage.value, context.model
        parsed = parse(text, context)
        assert isinstance(parsed, CheckResult)
        if not parsed.passed:
            attempts.append(FixAttempt(kind=kind, model=model, status="invalid", detail=parsed.reason[:2000]))
            return parsed
        proposal: FixProposal = parsed.value
        try:
            changes, canonical = _check(ctx, project, proposal.diff, command, allow_test_edits)
            problem = await asyncio.to_thread(_git_check, project, canonical, limits, skip)
            if problem:
                raise PatchError(f"git apply rejects the diff: {problem}")
        except PatchError as exc:
            att = FixAttempt(kind=kind, model=model, status="rejected", detail=str(exc), diff=proposal.diff)
            attempts.append(att)
            return CheckResult(name="fix", passed=False, reason=str(exc))
        run = await asyncio.to_thread(_run_copy, project, command, limits, changes, skip)
        att = FixAttempt(kind=kind, model=model, status=run.status, detail=_output(run, 3000), diff=canonical)
        attempts.append(att)
        ctx.progress(len(attempts), 3, f"{kind} attempt: {att.status}")
        return CheckResult(
            name="fix",
            passed=run.status == "passed",
            reason=run.status,
            value=(att, proposal.explanation, changes),
        )

    checked = await prove_by_running(
        ctx,
        SYSTEM,
        prompt,
        proves,
        lambda: _feedback(attempts[-1]),
        json_schema=FixProposal.model_json_schema(),
    )
    if checked.attempts[-1].error is not None:
        attempts.append(
            FixAttempt(kind="escalation", status="no-route", detail=checked.attempts[-1].error[:2000])
        )
    if checked.fell_back:
        return FixResult(status="not-fixed", command=command, attempts=attempts, isolation=baseline.isolation)
    att, explanation, changes = checked.value
    applied = False
    if apply:  # re-derive from the files as they are now, so a concurrent edit is never overwritten
        current, _ = _check(ctx, project, att.diff, command, allow_test_edits)
        _write(ctx, project, current)
        applied = True
    return FixResult(
        status="fixed",
        command=command,
        diff=att.diff,
        explanation=explanation,
        files=sorted(changes),
        applied=applied,
        attempts=attempts,
        isolation=baseline.isolation,
    )


def _output(run: RunResult, limit: int) -> str:
    """The run's output, then what the sandbox refused (a command may hide its own errors)."""
    refused = "\n".join(run.refusals[:10])
    text = run.output(limit)
    return f"{text}\n{refused}".strip() if refused else text


def _git_check(project: Path, diff: str, limits: SandboxLimits, skip: Skip) -> str | None:
    with Sandbox(limits) as sb:
        sb.copy_in(project, "project", skip=skip)
        return git_apply_check(sb.work / "project", diff)


def _feedback(att: FixAttempt) -> str:
    what = (
        "was rejected"
        if att.status == "rejected"
        else f"was applied, but the command still ends {att.status}"
    )
    return "\n\n".join(
        [
            f"Your diff {what}.",
            block(att.detail or "(no output)", "result"),
            "Reply with a corrected diff against the ORIGINAL files (not on top of your previous diff).",
        ]
    )


def _write(ctx: SkillContext, project: Path, changes: dict[str, str | None]) -> None:
    """Write each changed file atomically (a temporary sibling, then a rename), by the output rule."""
    for rel, text in changes.items():
        target = ctx.output_path(safe_path(project, rel), "", in_place=True)
        if text is None:
            target.unlink(missing_ok=True)
            continue
        with atomic_write(target, "wb") as fh:
            fh.write(text.encode("utf-8"))

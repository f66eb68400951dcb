"""The ``code`` plugin: explain, review, tests, docstrings and fix.

Written with dualtrack's public API only. Every skill needs the ``code`` tag;
checks that fail (tests that do not pass, a fix that does not make the command
pass) escalate to a model with the ``reasoning`` tag, excluding the models tried.
Every file is read and written through the orchestrator's file rules, and a source
file's level comes from a header comment (``# Sensitivity: Confidential``; see ``_access``).
"""

from __future__ import annotations

from pathlib import Path

from dualtrack import ArgumentError, InputFileError, InputPath, Sensitivity, SkillContext, plugin, skill, tags

from ._access import project_level, read_source
from ._docgen import write_docstrings
from ._explain import explain_code, review_file
from ._facts import symbol_facts
from ._fixer import command_from_output, fix_project
from ._models import DocstringsResult, Explanation, FixResult, ReviewResult, TestsResult
from ._sandbox import SandboxLimits
from ._testgen import TestTarget, generate_tests, locate_module

__all__ = ["CodePlugin"]


def _read(ctx: SkillContext, path: str) -> tuple[Path, str]:
    return read_source(ctx, path)


def _raise_to(ctx: SkillContext, level: Sensitivity | None) -> None:
    if level is not None:
        ctx.raise_sensitivity(level)


def _display(file: Path) -> str:
    """How diffs and findings name a file: relative to the working directory, else its name.

    Diff headers then carry a relative path that ``git apply`` accepts from that directory.
    """
    try:
        return file.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return file.name


def _python(path: Path) -> None:
    if path.suffix not in (".py", ".pyi"):
        raise InputFileError(str(path), "is not a Python file (.py); this skill works on Python code")


@plugin(
    "code",
    description="Explain, review, test, document and fix source code, with every check run for real.",
)
class CodePlugin:
    """Explain, review, test, document and fix source code."""

    @skill(requires=[tags.CODE])
    async def explain(
        self,
        ctx: SkillContext,
        path: str,
        symbol: str | None = None,
        line_start: int | None = None,
        line_end: int | None = None,
    ) -> Explanation:
        """Explain a file, a function or class, or a line range, grounded in static facts.

        Args:
            ctx: The skill context.
            path: The source file.
            symbol: A qualified name (``Class.method``) to explain instead of the whole file.
            line_start: First line of a range to explain.
            line_end: Last line of the range (defaults to ``line_start``).

        Returns:
            The facts (definitions, calls, raises, complexity, imports) and the explanation.
        """
        file, source = _read(ctx, path)
        return await explain_code(ctx, file, _display(file), source, symbol, line_start, line_end)

    @skill(requires=[tags.CODE], prefers=[tags.REASONING])
    async def review(
        self, ctx: SkillContext, path: str, diff: str | None = None, use_model: bool = True
    ) -> ReviewResult:
        """Review a file (or a change to it): compiler and ruff findings, then the model's.

        Args:
            ctx: The skill context.
            path: The file to review (the new version when ``diff`` is given).
            diff: A unified diff of the change; only lines it adds or modifies are reviewed.
            use_model: Whether to ask a model as well as the static tools.

        Returns:
            Deduplicated findings anchored to real lines, and what was dropped and why.
        """
        file, source = _read(ctx, path)
        return await review_file(ctx, file, _display(file), source, diff, use_model)

    @skill(requires=[tags.CODE], effects="write")
    async def tests(
        self,
        ctx: SkillContext,
        path: str,
        symbol: str | None = None,
        write_to: str | None = None,
        timeout_s: float = 60.0,
    ) -> TestsResult:
        """Write pytest tests and return only those that pass in a sandboxed run.

        Args:
            ctx: The skill context.
            path: The Python module to test.
            symbol: A function or class in it to focus on.
            write_to: Write the verified tests to this file (nothing is written otherwise).
            timeout_s: Wall-clock limit of each sandboxed pytest run.

        Returns:
            The verified tests, which passed and which were removed, and every attempt.
        """
        file, source = _read(ctx, path)
        _python(file)
        top, module = locate_module(file)
        _raise_to(ctx, project_level(top))  # the sandboxed run can print any file of the package
        target = TestTarget(path=file, source=source, top=top, module=module, symbol=symbol)
        if symbol:
            symbol_facts(source, symbol)  # fails early, naming close matches, when it is not defined
        limits = SandboxLimits(timeout_s=timeout_s, cpu_s=max(1, int(timeout_s)))
        write = ctx.output_path(file, "tests", write_to) if write_to else None
        return await generate_tests(ctx, target, limits, write)

    @skill(requires=[tags.CODE], effects="write")
    async def docstrings(
        self,
        ctx: SkillContext,
        path: str,
        symbols: list[str] | None = None,
        include_private: bool = False,
        apply: bool = False,
    ) -> DocstringsResult:
        """Add or fix Google-style docstrings, changing nothing else in the file.

        Args:
            ctx: The skill context.
            path: The Python file.
            symbols: Only these qualified names (``<module>`` for the module); default: every
                public definition whose docstring is missing or incomplete.
            include_private: Also document names starting with an underscore.
            apply: Rewrite the file (atomically); otherwise only the diff is returned.

        Returns:
            The diff, what was added, updated or skipped, and whether the file was rewritten.
        """
        file, _ = _read(ctx, path)
        _python(file)
        return await write_docstrings(
            ctx, file, _display(file), names=symbols, include_private=include_private, apply=apply
        )

    @skill(requires=[tags.CODE], effects="write")
    async def fix(
        self,
        ctx: SkillContext,
        command: list[str] | None = None,
        test_output: str | None = None,
        project: InputPath = ".",
        files: list[str] | None = None,
        apply: bool = False,
        allow_test_edits: bool = False,
        allow_processes: bool = False,
        timeout_s: float = 120.0,
    ) -> FixResult:
        """Propose a diff for a failing command and return it only once the command passes.

        Args:
            ctx: The skill context.
            command: The failing command as an argument list (``["python", "-m", "pytest", "tests"]``).
            test_output: Failing test output; used to find the tests when no command is given.
            project: The project root; the command runs in a sandboxed copy of it.
            files: Extra files (relative to the project) to show the model.
            apply: Write the verified diff to the project's files (atomically, per file).
            allow_test_edits: Let the diff change tests and test configuration.
            allow_processes: Let Python code run by the command start processes (for test
                suites that run subprocesses); refused by default.
            timeout_s: Wall-clock limit of each sandboxed run of the command.

        Returns:
            The verified diff (empty when no attempt passed) and every attempt.
        """
        root = Path(project).expanduser().resolve()
        if not root.is_dir():
            raise InputFileError(str(root), "is not a folder; pass the project root as `project`")
        _raise_to(ctx, project_level(root))  # the command's output can quote any file of it
        argv = list(command or [])
        if not argv:
            derived = command_from_output(test_output or "", root)
            if derived is None:
                raise ArgumentError(
                    "code.fix", [("command", "give the failing command, or test output naming test files")]
                )
            argv = derived
        limits = SandboxLimits(
            timeout_s=timeout_s, cpu_s=max(1, int(timeout_s)), allow_subprocess=allow_processes
        )
        return await fix_project(
            ctx, root, argv, test_output or "", list(files or []), limits,
            apply=apply, allow_test_edits=allow_test_edits,
        )  # fmt: skip

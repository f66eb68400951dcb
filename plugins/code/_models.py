"""The structured values the code skills return."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "CodeFacts",
    "Definition",
    "DocstringsResult",
    "Explanation",
    "Finding",
    "FixAttempt",
    "FixResult",
    "ReviewResult",
    "TestAttempt",
    "TestsResult",
]

Severity = Literal["error", "warning", "info"]


class Definition(BaseModel):
    """A function or class defined in a file.

    Attributes:
        name: The qualified name (``Class.method``).
        kind: ``function``, ``async function``, ``method`` or ``class``.
        line_start: First line (decorators included).
        line_end: Last line.
    """

    name: str
    kind: str
    line_start: int
    line_end: int


class CodeFacts(BaseModel):
    """What static analysis established about the code being explained.

    Attributes:
        language: ``python`` or the language guessed from the file suffix.
        kind: ``module``, ``function``, ``class`` or ``lines``.
        name: The qualified name, for a function or class.
        line_start: First line covered.
        line_end: Last line covered.
        signature: The ``def``/``class`` line(s), for a function or class.
        docstring: The first line of its docstring, if it has one.
        definitions: Functions and classes defined in the code.
        imports: Modules imported (``module`` or ``module.name``).
        calls: Functions called, as written (``os.path.join``, ``self.save``).
        raises: Exceptions raised (``ValueError``; ``re-raise`` for a bare ``raise``).
        catches: Exceptions caught by ``except`` clauses.
        complexity: Cyclomatic complexity (1 + decision points), for Python; for a
            class, that of its most complex method.
        uses_imports: Imported names the code uses, for a function or line range.
        syntax_error: The parse error, when the file is not valid Python.
    """

    language: str
    kind: str
    name: str | None = None
    line_start: int = 1
    line_end: int = 1
    signature: str | None = None
    docstring: str | None = None
    definitions: list[Definition] = Field(default_factory=list)
    imports: list[str] = Field(default_factory=list)
    calls: list[str] = Field(default_factory=list)
    raises: list[str] = Field(default_factory=list)
    catches: list[str] = Field(default_factory=list)
    complexity: int | None = None
    uses_imports: list[str] = Field(default_factory=list)
    syntax_error: str | None = None


class Explanation(BaseModel):
    """The value of ``code.explain``.

    Attributes:
        path: The file explained.
        target: What was explained (``file``, a qualified name, or ``lines A-B``).
        facts: The statically established facts the explanation is grounded in.
        explanation: The model's explanation.
    """

    path: str
    target: str
    facts: CodeFacts
    explanation: str


class Finding(BaseModel):
    """One review finding, anchored to real lines of the file.

    Attributes:
        file: The file.
        line_start: First line (1-based).
        line_end: Last line (inclusive).
        severity: ``error``, ``warning`` or ``info``.
        category: ``syntax``, ``lint``, ``bug``, ``security``, ``performance``, ``style`` ...
        message: What is wrong and why.
        suggested_patch: A unified diff that fixes it (verified to apply), if any.
        source: ``python`` (compile), ``ruff`` or ``model``.
        rule: The linter rule code, for ruff findings.
    """

    file: str
    line_start: int
    line_end: int
    severity: Severity
    category: str
    message: str
    suggested_patch: str | None = None
    source: str = "model"
    rule: str | None = None


class ReviewResult(BaseModel):
    """The value of ``code.review``.

    Attributes:
        path: The file reviewed.
        findings: Deduplicated findings, by line.
        dropped: Model findings that were discarded, each with the reason.
        tools: What each static tool did (``ran``, ``missing``, an error).
    """

    path: str
    findings: list[Finding] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)
    tools: dict[str, str] = Field(default_factory=dict)


class TestAttempt(BaseModel):
    """One generated test file and how it fared in the sandbox.

    Attributes:
        kind: ``initial``, ``feedback`` (failures sent back) or ``escalation``.
        model: The model that wrote it.
        status: ``passed``, ``failed``, ``timeout``, ``cpu-limit``, ``killed``,
            ``invalid`` (not Python) or ``no-route`` (no stronger model).
        passed: Node ids of tests that passed.
        failed: Node ids of tests that failed or errored.
        refusals: Operations the sandbox refused (network, writes, processes).
        output: The tail of pytest's output.
    """

    __test__ = False

    kind: str
    model: str | None = None
    status: str
    passed: list[str] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list)
    refusals: list[str] = Field(default_factory=list)
    output: str = ""


class TestsResult(BaseModel):
    """The value of ``code.tests``.

    Attributes:
        target: The module (and function) the tests are for.
        module: The import name the tests use.
        filename: The suggested test file name.
        code: The test file: only tests that passed in the sandbox (empty if none did).
        passed: Node ids of the returned tests, all verified to pass.
        removed: Failing tests removed from the best attempt.
        attempts: Every attempt, in order.
        isolation: The sandbox layers that were in effect.
        written_to: Where the file was written, when asked.
    """

    __test__ = False

    target: str
    module: str
    filename: str
    code: str
    passed: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    attempts: list[TestAttempt] = Field(default_factory=list)
    isolation: list[str] = Field(default_factory=list)
    written_to: str | None = None


class FixAttempt(BaseModel):
    """One proposed patch and what happened to it.

    Attributes:
        kind: ``initial``, ``feedback`` or ``escalation``.
        model: The model that proposed it.
        status: ``passed``, ``failed``, ``timeout``, ``rejected`` (did not apply or
            touched files it may not), ``invalid`` (no valid JSON reply), or ``no-route``.
        detail: Why it was rejected, or the tail of the command's output.
        diff: The proposed diff (normalised when it applied).
    """

    kind: str
    model: str | None = None
    status: str
    detail: str = ""
    diff: str = ""


class FixResult(BaseModel):
    """The value of ``code.fix``.

    Attributes:
        status: ``fixed``, ``not-fixed`` or ``already-passing``.
        command: The command that was failing.
        diff: A unified diff (``git apply`` accepts it) that makes the command pass;
            empty unless verified.
        explanation: The model's explanation of the fix.
        files: Files the diff changes.
        applied: Whether the diff was written to the project.
        attempts: Every attempt, in order.
        isolation: The sandbox layers that were in effect.
    """

    status: str
    command: list[str]
    diff: str = ""
    explanation: str = ""
    files: list[str] = Field(default_factory=list)
    applied: bool = False
    attempts: list[FixAttempt] = Field(default_factory=list)
    isolation: list[str] = Field(default_factory=list)


class DocstringsResult(BaseModel):
    """The value of ``code.docstrings``.

    Attributes:
        path: The file.
        diff: A unified diff that only adds or changes docstrings.
        added: Qualified names that got a new docstring.
        updated: Qualified names whose docstring was rewritten.
        skipped: Names left alone, each with the reason.
        warnings: Docstrings written that still lack a Google section.
        applied: Whether the file was rewritten.
    """

    path: str
    diff: str = ""
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    applied: bool = False

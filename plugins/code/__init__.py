"""The built-in ``code`` plugin: explain, review, tests, docstrings and fix.

Register it by name (``Orchestrator(plugins=["code"])``) or as a class::

    from dualtrack import Orchestrator
    from dualtrack.plugins.code import CodePlugin

    orc = Orchestrator.from_config(plugins=[CodePlugin])
    result = orc.invoke_sync("code.review", path="src/app.py")
"""

from __future__ import annotations

from ._models import (
    CodeFacts,
    Definition,
    DocstringsResult,
    Explanation,
    Finding,
    FixAttempt,
    FixResult,
    ReviewResult,
    TestAttempt,
    TestsResult,
)
from ._plugin import CodePlugin
from ._process import RunResult, SandboxLimits
from ._sandbox import Sandbox

__all__ = [
    "CodeFacts",
    "CodePlugin",
    "Definition",
    "DocstringsResult",
    "Explanation",
    "Finding",
    "FixAttempt",
    "FixResult",
    "ReviewResult",
    "RunResult",
    "Sandbox",
    "SandboxLimits",
    "TestAttempt",
    "TestsResult",
]

"""A small real project with seeded bugs, and orchestrators with scripted models."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dualtrack import Orchestrator, Track
from dualtrack.plugins.code import CodePlugin
from dualtrack.plugins.code._sandbox import Sandbox
from dualtrack.testing import ScriptedConnector, model_card

OPS = '''\
"""Arithmetic helpers."""

import math


def add(a, b):
    return a + b


def divide(a, b):
    if b == 0:
        raise ZeroDivisionError("b must not be zero")
    return a / b


def clamp(value, low, high):
    if low > high:
        raise ValueError("low must not exceed high")
    if value < low:
        return low
    if value > high:
        return low
    return value


def mean(values):
    if not values:
        raise ValueError("mean of nothing")
    return math.fsum(values) / (len(values) - 1)
'''

TESTS = """\
import pytest

from calc.ops import add, clamp, divide, mean


def test_add():
    assert add(2, 3) == 5


def test_divide_by_zero():
    with pytest.raises(ZeroDivisionError):
        divide(1, 0)


def test_clamp_high():
    assert clamp(15, 0, 10) == 10


def test_mean():
    assert mean([1, 2, 3]) == 2
"""

# The bugs: clamp returns low instead of high; mean divides by len - 1.
FIX_DIFF = """\
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -19,5 +19,5 @@
     if value < low:
         return low
     if value > high:
-        return low
+        return high
     return value
@@ -27,3 +27,3 @@
     if not values:
         raise ValueError("mean of nothing")
-    return math.fsum(values) / (len(values) - 1)
+    return math.fsum(values) / len(values)
"""


def make_project(root: Path) -> Path:
    """Write the project: calc/ops.py (two seeded bugs) and tests/test_ops.py."""
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text('"""Calc."""\n')
    (root / "calc" / "ops.py").write_text(OPS)
    (root / "tests" / "test_ops.py").write_text(TESTS)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj")


def snapshot(root: Path) -> dict[str, str]:
    """Hash of every file below root, to prove nothing changed."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def run_pytest_outside(project: Path, test_code: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    """Run pytest on the returned tests with a plain interpreter, no dualtrack involved."""
    tmp.mkdir(parents=True, exist_ok=True)
    test_file = tmp / "test_returned.py"
    test_file.write_text(test_code)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:dualtrack",
            str(test_file),
        ],
        cwd=tmp,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def py_block(code: str) -> str:
    return "Here are the tests:\n```python\n" + textwrap.dedent(code) + "```\n"


def fix_reply(diff: str, explanation: str = "fixed", **extra: Any) -> str:
    return json.dumps({"diff": diff, "explanation": explanation, **extra})


@pytest.fixture
def cascade() -> Callable[..., tuple[Orchestrator, ScriptedConnector, ScriptedConnector]]:
    """An in-house coder without `reasoning` and a partner with it; the in-house one routes first."""

    def make(small: list[Any], big: list[Any] | None = None) -> tuple[Orchestrator, Any, Any]:
        small_conn = ScriptedConnector(small)
        big_conn = ScriptedConnector(big or [])
        cards = [
            model_card(small_conn, name="local-coder", capabilities={"chat", "json", "code"}),
            model_card(
                big_conn,
                name="partner-reasoner",
                track=Track.PARTNER,
                cost_input=2.5,
                cost_output=10.0,
                latency_ms=3000,
            ),
        ]
        return Orchestrator(models=cards, plugins=[CodePlugin]), small_conn, big_conn

    return make


@pytest.fixture
def sandbox_commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every argv the plugin's sandbox runs during the test, in order (the commands still run)."""
    commands: list[list[str]] = []
    real_run = Sandbox.run

    def spy(self: Sandbox, argv: list[str], **kw: object) -> object:
        commands.append(list(argv))
        return real_run(self, argv, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Sandbox, "run", spy)
    return commands

"""Static findings: Python's own compiler and ruff, run before any model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ._models import Finding
from ._patch import make_diff

__all__ = ["find_ruff", "ruff_findings", "syntax_findings"]


def find_ruff() -> str | None:
    """The ruff executable next to this interpreter, else on ``PATH``, else ``None``."""
    for folder in (Path(sys.executable).parent, Path(sys.prefix) / "bin"):
        candidate = folder / "ruff"
        if candidate.is_file():
            return str(candidate)
    return shutil.which("ruff")


def syntax_findings(source: str, display: str) -> list[Finding]:
    """A finding for a syntax error, from ``compile`` (empty when the file compiles)."""
    try:
        compile(source, display, "exec", dont_inherit=True)
    except SyntaxError as exc:
        line = max(1, exc.lineno or 1)
        end = max(line, exc.end_lineno or line)
        return [
            Finding(
                file=display,
                line_start=line,
                line_end=end,
                severity="error",
                category="syntax",
                message=f"SyntaxError: {exc.msg}",
                source="python",
            )
        ]
    except ValueError as exc:  # null bytes and the like
        return [
            Finding(
                file=display,
                line_start=1,
                line_end=1,
                severity="error",
                category="syntax",
                message=str(exc),
                source="python",
            )
        ]
    return []


def ruff_findings(path: Path, display: str, source: str, timeout_s: float = 60) -> tuple[list[Finding], str]:
    """Run ``ruff check --output-format json`` on one file.

    The project's own ruff configuration applies (it is found from the file's
    folder), so the findings match what the user's CI reports.

    Args:
        path: The file.
        display: The name to put in findings.
        source: The file's text (to turn ruff's fixes into diffs).
        timeout_s: How long ruff may take.

    Returns:
        The findings and a status: ``ran``, ``missing`` or the error.
    """
    ruff = find_ruff()
    if ruff is None:
        return [], "missing (install ruff for lint findings)"
    argv = [ruff, "check", "--output-format", "json", "--no-cache", "--exit-zero", str(path)]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout_s, cwd=path.parent, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return [], f"error: {exc}"
    try:
        items: list[dict[str, Any]] = json.loads(done.stdout or b"[]")
    except ValueError:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return [], f"error: {err[-1] if err else 'unreadable output'}"
    findings = []
    for item in items:
        code = item.get("code")
        syntax = code in (None, "invalid-syntax", "E999") or str(item.get("message", "")).startswith(
            "SyntaxError"
        )
        start = int(item.get("location", {}).get("row") or 1)
        end = int((item.get("end_location") or {}).get("row") or start)
        findings.append(
            Finding(
                file=display,
                line_start=start,
                line_end=max(start, end),
                severity="error" if syntax or str(code).startswith(("E9", "F82")) else "warning",
                category="syntax" if syntax else "lint",
                message=f"{code}: {item.get('message', '')}"
                if code and not syntax
                else str(item.get("message")),
                suggested_patch=_fix_diff(item.get("fix"), display, source),
                source="ruff",
                rule=None if syntax else code,
            )
        )
    return findings, "ran"


def _fix_diff(fix: dict[str, Any] | None, display: str, source: str) -> str | None:
    """Turn ruff's fix edits (1-based rows and columns) into a unified diff."""
    if not fix or not fix.get("edits"):
        return None
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(loc: dict[str, int]) -> int:
        row, col = int(loc["row"]), int(loc["column"])
        if row - 1 >= len(lines):
            return len(source)
        return min(starts[row - 1] + col - 1, starts[row])

    new = source
    try:
        for edit in sorted(fix["edits"], key=lambda e: offset(e["location"]), reverse=True):
            a, b = offset(edit["location"]), offset(edit["end_location"])
            new = new[:a] + str(edit.get("content") or "") + new[b:]
    except (KeyError, TypeError, ValueError):
        return None
    return make_diff(display, source, new) if new != source else None

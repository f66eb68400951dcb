"""Model review: the prompt, the reply schema, and anchoring findings to real lines."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ._models import Finding
from ._patch import PatchError, apply_patches, make_diff, parse_diff
from ._prompts import block, numbered, system_prompt

__all__ = ["ModelReview", "anchor", "changed_lines", "deduplicate", "review_prompt"]

SYSTEM = system_prompt(
    "You are a meticulous code reviewer. Report real defects: bugs, security problems, error "
    "handling, performance traps, unclear code. Cite exact 1-based line numbers from the numbered "
    "listing and quote the code each finding is about. Do not repeat the static findings given."
)
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
_SOURCE_RANK = {"python": 0, "ruff": 1, "model": 2}


_SEVERITY_WORDS = {
    "error": "error", "critical": "error", "blocker": "error", "high": "error", "major": "warning",
    "warning": "warning", "medium": "warning", "minor": "info", "low": "info", "info": "info",
    "note": "info", "suggestion": "info", "nit": "info",
}  # fmt: skip


class ModelFinding(BaseModel):
    """One finding as the model reports it (severity words are normalised)."""

    line_start: int
    line_end: int | None = None
    severity: Literal["error", "warning", "info"] = "warning"
    category: str = "bug"

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: object) -> object:
        if isinstance(value, str):
            return _SEVERITY_WORDS.get(value.strip().lower(), "info")
        return value

    message: str
    quote: str | None = Field(
        default=None, description="The exact code (one or more lines) the finding is about"
    )
    suggested_patch: str | None = Field(default=None, description="A unified diff against the file, optional")


class ModelReview(BaseModel):
    """The model's reply."""

    findings: list[ModelFinding] = Field(default_factory=list)


def review_prompt(display: str, source: str, static: list[Finding], diff: str | None) -> str:
    """The review request: numbered file (or the diff plus the file), and static findings."""
    known = [f"{f.line_start}-{f.line_end} {f.category}: {f.message}" for f in static]
    parts = [
        f"Review {'the change below to ' if diff else ''}the file {display}.",
        'Reply with JSON: {"findings": [{"line_start", "line_end", "severity" (error|warning|info), '
        '"category" (bug|security|performance|error-handling|style|maintainability), "message", '
        '"quote" (the exact code), "suggested_patch" (optional unified diff)}]}.',
    ]
    if diff:
        parts += ["Only report problems in lines the change adds or modifies.", block(diff, "unified diff")]
    parts.append(block(numbered(source), f"file {display} (numbered lines)"))
    if known:
        parts.append(block("\n".join(known), "static findings already reported"))
    return "\n\n".join(parts)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def anchor(
    raw: list[ModelFinding], display: str, source: str, root: Path | None = None
) -> tuple[list[Finding], list[str]]:
    """Keep model findings that point at real lines whose code matches their quote.

    Lines outside the file are dropped; an end past the file is clamped; a quote
    found elsewhere re-anchors the finding there; a quote found nowhere drops it.
    A suggested patch is kept only if it applies to the file.

    Returns:
        The anchored findings and one reason per dropped finding.
    """
    lines = source.splitlines()
    n = len(lines)
    kept: list[Finding] = []
    dropped: list[str] = []
    for f in raw:
        label = f"{f.line_start}: {f.message[:80]}"
        start, end = f.line_start, max(f.line_end or f.line_start, f.line_start)
        if start < 1 or start > n:
            dropped.append(f"{label} (line {start} does not exist; the file has {n} lines)")
            continue
        end = min(end, n)
        if f.quote and f.quote.strip():
            quote = _norm(f.quote)
            if quote not in _norm("\n".join(lines[start - 1 : end])):
                found = _locate(lines, f.quote)
                if found is None:
                    dropped.append(f"{label} (quoted code is not in the file)")
                    continue
                start, end = found
        patch = _check_patch(f.suggested_patch, display, source, root) if f.suggested_patch else None
        kept.append(
            Finding(
                file=display,
                line_start=start,
                line_end=end,
                severity=f.severity,
                category=f.category.strip().lower() or "bug",
                message=f.message.strip(),
                suggested_patch=patch,
                source="model",
            )
        )
    return kept, dropped


def _locate(lines: list[str], quote: str) -> tuple[int, int] | None:
    """Where the quote's lines occur (whitespace-insensitive), if they occur exactly once."""
    want = [_norm(q) for q in quote.strip().splitlines() if q.strip()]
    norm = [_norm(line) for line in lines]
    hits = [
        (i + 1, i + len(want))
        for i in range(len(norm) - len(want) + 1)
        if want and all(w in norm[i + k] for k, w in enumerate(want))
    ]
    return hits[0] if len(hits) == 1 else None


def _check_patch(patch: str, display: str, source: str, root: Path | None) -> str | None:
    """The patch re-rendered canonically if it applies to this file alone, else ``None``."""
    try:
        patches = parse_diff(patch)
    except PatchError:
        return None
    if len(patches) != 1 or Path(patches[0].path).name != Path(display).name:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "f").write_text(source, encoding="utf-8")
        patches[0].old_path = patches[0].new_path = "f"
        try:
            new = apply_patches(Path(tmp), patches)["f"]
        except PatchError:
            return None
    return make_diff(display, source, new) if new is not None and new != source else None


def changed_lines(diff: str, display: str) -> set[int] | None:
    """New-side line numbers the diff adds or modifies in ``display`` (``None``: not in the diff)."""
    try:
        patches = parse_diff(diff)
    except PatchError:
        return None
    name = Path(display).as_posix()
    for p in patches:
        if p.path == name or name.endswith("/" + p.path) or p.path.endswith("/" + name):
            out: set[int] = set()
            for h in p.hunks:
                line = h.new_start or 1
                offset = 0
                for tag, _ in h.lines:
                    if tag == "+":
                        out.add(line + offset)
                    if tag in " +":
                        offset += 1
            return out
    return None


def deduplicate(findings: list[Finding]) -> list[Finding]:
    """One finding per (file, line range, category): static sources first, then severity."""
    best: dict[tuple[str, int, int, str], Finding] = {}
    for f in sorted(findings, key=lambda f: (_SOURCE_RANK.get(f.source, 3), _SEVERITY_RANK[f.severity])):
        best.setdefault((f.file, f.line_start, f.line_end, f.category), f)
    return sorted(best.values(), key=lambda f: (f.line_start, f.line_end, _SEVERITY_RANK[f.severity]))

"""``code.docstrings``: ask for Google-style docstrings, insert them, verify, diff, apply on request."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
from pydantic import BaseModel, Field

from dualtrack import InputFileError, SkillContext, atomic_write
from dualtrack.checks import Check, CheckContext, CheckResult, degenerate, named, on_parts

from ._docstrings import (
    DocTarget,
    collect_targets,
    google_problems,
    insert_docstrings,
    only_docstrings_changed,
    render,
)
from ._facts import find_symbol
from ._models import DocstringsResult
from ._patch import make_diff, read_text
from ._prompts import block, system_prompt

__all__ = ["DocItem", "DocReply", "docstring_checks", "write_docstrings"]

SYSTEM = system_prompt(
    "You write Google-style Python docstrings: a one-line summary ending with a period, then, as "
    "needed, 'Args:' (every parameter, `name: description`), 'Returns:', 'Yields:', 'Raises:' and "
    "'Attributes:' sections. Describe what the code does, not how. Give only the docstring text: no "
    "quotes, no indentation of the first line."
)
_BATCH = 20


class DocItem(BaseModel):
    """One docstring the model wrote."""

    name: str = Field(description="The qualified name exactly as listed, or <module>")
    docstring: str


class DocReply(BaseModel):
    """The model's reply."""

    docstrings: list[DocItem] = Field(default_factory=list)


def _literals(reply: DocReply, batch: list[DocTarget], newline: str) -> tuple[dict[str, str], list[str]]:
    """The docstring literals of ``reply`` for ``batch``, and the names skipped (with why)."""
    given = {item.name.strip(): item.docstring for item in reply.docstrings}
    literals: dict[str, str] = {}
    skipped: list[str] = []
    for t in batch:
        text = given.get(t.name)
        if not text or not text.strip():
            skipped.append(f"{t.name} (no docstring in the reply)")
            continue
        try:
            literals[t.name] = render(text, t.indent, newline)
        except ValueError as exc:
            skipped.append(f"{t.name} ({exc})")
    return literals, skipped


def docstring_checks(source: str, batch: list[DocTarget], done: dict[str, str], newline: str) -> list[Check]:
    """Docstrings are no loop, and inserting them changes nothing but docstrings."""

    @named("docstring-only")
    def only_docstrings(text: str, context: CheckContext) -> CheckResult:
        literals, _ = _literals(context.value, batch, newline)
        if literals and not only_docstrings_changed(source, insert_docstrings(source, {**done, **literals})):
            why = "inserting these docstrings would change code other than docstrings"
            return CheckResult(name="docstring-only", passed=False, reason=why)
        return CheckResult(name="docstring-only", passed=True)

    loop = on_parts(lambda r: [i.docstring for i in r.docstrings], degenerate(), name="docstrings")
    return [loop, only_docstrings]


def _request(display: str, source: str, batch: list[DocTarget]) -> str:
    wanted = []
    for t in batch:
        need = "; ".join(t.problems) or "rewrite"
        wanted.append(f"- {t.name} ({t.kind}) needs: {need}" + (f"\n  {t.signature}" if t.signature else ""))
    return "\n\n".join(
        [
            f"Write docstrings for these definitions of {display}:",
            "\n".join(wanted),
            'Reply with JSON {"docstrings": [{"name": ..., "docstring": ...}]}, one entry per name.',
            block(source, f"python file {display}"),
        ]
    )


async def write_docstrings(
    ctx: SkillContext,
    path: Path,
    display: str,
    *,
    names: list[str] | None,
    include_private: bool,
    apply: bool,
) -> DocstringsResult:
    """Add or fix docstrings; the file is only rewritten when ``apply`` is true.

    Each batch's reply must be valid JSON whose docstrings are no loop and, once
    inserted, change nothing but docstrings; a failing reply is fed back once,
    then escalated. Where no model's reply passes, the batch's definitions keep
    their docstrings (listed in ``skipped``, the tries in ``warnings``).
    """
    source = read_text(path)
    try:
        module = cst.parse_module(source)
        targets = collect_targets(source, include_private=include_private, names=names)
    except (SyntaxError, cst.ParserSyntaxError) as exc:
        raise InputFileError(str(path), f"is not valid Python ({exc}); fix the syntax first") from None
    result = DocstringsResult(path=display)
    if names:
        found = {t.name for t in targets}
        result.skipped += [f"{n} (not found, or a one-line body)" for n in names if n not in found]
    literals: dict[str, str] = {}
    for i in range(0, len(targets), _BATCH):
        batch = targets[i : i + _BATCH]
        checked = await ctx.generate_checked(
            _request(display, source, batch),
            schema=DocReply,
            checks=docstring_checks(source, batch, literals, module.default_newline),
            fallback=None,
            system=SYSTEM,
            max_tokens=3000,
        )
        if checked.fell_back:
            tries = " → ".join(a.describe() for a in checked.attempts)
            result.skipped += [f"{t.name} (no docstring passed the checks)" for t in batch]
            result.warnings.append(f"docstrings of {len(batch)} definition(s) left as they were ({tries})")
        else:
            written, skipped = _literals(checked.value, batch, module.default_newline)
            result.skipped += skipped
            literals.update(written)
            for t in batch:
                if t.name in written:
                    (result.updated if t.current else result.added).append(t.name)
        ctx.progress(min(i + _BATCH, len(targets)), len(targets), "docstrings written")
    if not literals:
        return result
    new = insert_docstrings(source, literals)
    if not only_docstrings_changed(source, new):
        raise InputFileError(
            str(path), "inserting the docstrings would change other code; nothing was written"
        )
    result.diff = make_diff(display, source, new)
    result.warnings += _still_incomplete(new, literals)
    if apply:
        if read_text(path) != source:
            raise InputFileError(str(path), "the file changed while docstrings were written; run again")
        with atomic_write(ctx.output_path(path, "", in_place=True), "wb") as fh:
            fh.write(new.encode(module.encoding))
        result.applied = True
    return result


def _still_incomplete(source: str, names: dict[str, str]) -> list[str]:
    """Names whose new docstring still lacks Google sections (reported, not rejected)."""
    tree = ast.parse(source)
    notes = []
    for name in names:
        if name == "<module>":
            continue
        node = find_symbol(tree, name)
        problems = google_problems(ast.get_docstring(node), node)
        if problems:
            notes.append(f"{name} (docstring written, but it still lacks {', '.join(problems)})")
    return notes

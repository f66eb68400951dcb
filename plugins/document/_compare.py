"""``compare``: a block-level diff of two documents, plus a model's summary of it."""

from __future__ import annotations

import difflib

from dualtrack import SkillContext
from dualtrack.checks import degenerate, grounded

from ._chunks import DEFAULT_CHUNK_TOKENS, truncate
from ._models import BlockChange, CompareResult
from ._package import load
from ._prompts import SYSTEM, compare_prompt
from ._reader import Block
from ._replies import tried

__all__ = ["diff_blocks", "run_compare"]

_SIMILAR = 0.5
_DIFF_WORDS = "version versions added removed deleted changed change changes paragraph paragraphs lines"
"""Words a summary of a diff uses about the diff itself; grounding counts them as supported."""


def _norm(text: str) -> str:
    return " ".join(text.split())


def diff_blocks(old: list[Block], new: list[Block]) -> list[BlockChange]:
    """Added, removed and changed blocks between two versions, in document order.

    Blocks are matched on their normalised text; within a replaced stretch a
    pair of blocks at least half similar counts as *changed*, others as a
    removal plus an addition.
    """
    a = [_norm(b.text) for b in old]
    b = [_norm(x.text) for x in new]
    changes: list[BlockChange] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        olds, news = old[i1:i2], new[j1:j2]
        paired = 0
        if tag == "replace":
            for o, n in zip(olds, news, strict=False):
                if difflib.SequenceMatcher(None, _norm(o.text), _norm(n.text)).ratio() < _SIMILAR:
                    break
                changes.append(
                    BlockChange(op="changed", old_id=o.id, new_id=n.id, old_text=o.text, new_text=n.text)
                )
                paired += 1
        changes += [BlockChange(op="removed", old_id=o.id, old_text=o.text) for o in olds[paired:]]
        changes += [BlockChange(op="added", new_id=n.id, new_text=n.text) for n in news[paired:]]
    return changes


def render_diff(changes: list[BlockChange]) -> str:
    """The diff as lines a model (or a person) reads: ``-``, ``+`` and ``~`` entries."""
    lines: list[str] = []
    for c in changes:
        if c.op == "removed":
            lines.append(f"- [{c.old_id}] {c.old_text}")
        elif c.op == "added":
            lines.append(f"+ [{c.new_id}] {c.new_text}")
        else:
            lines.append(f"~ [{c.old_id} -> {c.new_id}] {c.old_text}  =>  {c.new_text}")
    return "\n".join(lines)


async def run_compare(
    ctx: SkillContext, path: str, other: str, *, summarize: bool, chunk_tokens: int | None
) -> CompareResult:
    """Compare two documents (see ``DocumentPlugin.compare``).

    The model's summary of the diff must be no loop, no echo of the diff, and
    supported by it; a failing one is fed back once, then escalated. Where no
    model's summary passes, ``summary`` counts the changes instead and ``notes``
    says so (the block-level diff never depends on a model).
    """
    old, new = await load(ctx, path), await load(ctx, other)
    changes = diff_blocks(old.view.body(), new.view.body())
    result = CompareResult(
        changes=changes,
        added=sum(c.op == "added" for c in changes),
        removed=sum(c.op == "removed" for c in changes),
        changed=sum(c.op == "changed" for c in changes),
    )
    if not changes:
        result.summary = "The two documents have the same text."
    elif summarize:
        diff = truncate(render_diff(changes), chunk_tokens or DEFAULT_CHUNK_TOKENS)
        counted = f"{result.added} added, {result.removed} removed and {result.changed} changed block(s)."
        checked = await ctx.generate_checked(
            compare_prompt(diff),
            checks=[degenerate(echo_source=True), grounded()],
            source=f"{diff}\n{_DIFF_WORDS}",
            fallback=counted,
            system=SYSTEM,
            max_tokens=400,
            temperature=0.2,
        )
        result.summary = str(checked.value).strip()
        if checked.fell_back:
            result.notes.append(
                f"no model summary passed the checks ({tried(checked.attempts)}); the changes are counted"
            )
    ctx.progress(1, 1, "compared")
    return result

"""``rewrite`` and ``suggest_edits``: model rewrites applied run by run, directly or as tracked changes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dualtrack import SkillContext

from ._chunks import estimate, gather_bounded
from ._models import EditResult, ParagraphChange
from ._package import load, resolve_output, save_document
from ._prompts import SYSTEM, rewrite_prompt
from ._quality import is_looping
from ._revisions import RevisionStamp, apply_tracked
from ._runs import apply_plan, plan_edit
from ._targets import Unit, resolve_targets
from ._xml import paragraph_text

__all__ = ["clean_rewrite", "run_edit"]

_FENCE = re.compile(r"^```[\w-]*\n?|\n?```$")
_PREAMBLE = re.compile(
    r"^(here is|here's|sure|certainly|rewritten( paragraph| text)?|revised( paragraph| text)?)\b[^\n]*:\s*\n",
    re.I,
)
_TAGS = re.compile(r"</?\s*(passage|document)\s*>", re.I)
_ANY_TAG = re.compile(r"</?[A-Za-z][\w-]{0,30}>")
_TRANSLATE = re.compile(r"\btranslat", re.I)


def clean_rewrite(reply: str, original: str) -> str:
    """The paragraph text in a model's reply: no fences, preambles, echoed tags or wrapping quotes."""
    text = _FENCE.sub("", reply.strip()).strip()
    text = _PREAMBLE.sub("", text, count=1).strip()
    text = _TAGS.sub("", text).strip()
    if "<" not in original:  # markup-like tags a model made up around the text
        text = _ANY_TAG.sub("", text).strip()
    for q1, q2 in (('"', '"'), ("\u201c", "\u201d"), ("'", "'")):
        if len(text) > 1 and text.startswith(q1) and text.endswith(q2) and not original.startswith(q1):
            text = text[1:-1].strip()
    if "\n" not in original:
        text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    if len(text) > 5 * len(original) + 400 or is_looping(text):
        return ""  # a runaway reply (a loop or an echo of the prompt) is not a rewrite
    return text


async def run_edit(
    ctx: SkillContext,
    path: str,
    instruction: str,
    *,
    paragraphs: Sequence[str] | None,
    section: str | None,
    match: str | None,
    output: str | None,
    in_place: bool,
    tracked: bool,
    author: str,
    concurrency: int,
) -> EditResult:
    """Rewrite the targeted paragraphs (see ``DocumentPlugin.rewrite`` / ``suggest_edits``)."""
    doc = await load(ctx, path)
    target = resolve_output(doc.path, output, "suggested" if tracked else "edited", in_place=in_place)
    units = resolve_targets(
        doc.view, ctx.skill.full_name, paragraphs=paragraphs, section=section, match=match
    )
    prefers = ("translate",) if _TRANSLATE.search(instruction) else ()

    async def rewrite(i: int, unit: Unit) -> str:
        old = paragraph_text(unit.p)
        done = await ctx.generate(
            rewrite_prompt(old, instruction),
            system=SYSTEM,
            prefers=prefers,
            max_tokens=max(128, min(1024, 3 * estimate(old) + 64)),
            temperature=0.3,
        )
        return clean_rewrite(done.text, old)

    new_texts = await gather_bounded(
        units,
        rewrite,
        concurrency=concurrency,
        on_done=lambda n: ctx.progress(n, len(units), f"rewrote {n} of {len(units)} paragraphs"),
    )
    stamp = RevisionStamp.for_document(doc.document, author) if tracked else None
    result = EditResult(output=str(target))
    for unit, new in zip(units, new_texts, strict=True):
        old = paragraph_text(unit.p)
        if not new or new == old:
            result.unchanged.append(unit.id)
            continue
        plan = plan_edit(unit.p, new)
        if stamp is not None:
            result.revisions += apply_tracked(plan, stamp)
        else:
            apply_plan(plan)
        result.changed.append(ParagraphChange(id=unit.id, before=old, after=new))
    await save_document(doc.document, target)
    return result

"""``rewrite`` and ``suggest_edits``: model rewrites applied run by run, directly or as tracked changes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dualtrack import CheckedAttempt, PromptProfile, SkillContext
from dualtrack.checks import (
    Check,
    CheckContext,
    CheckResult,
    degenerate,
    length_ratio,
    named,
    preserved_facts,
)

from ._chunks import estimate, gather_bounded
from ._models import EditResult, ParagraphChange, RejectedRewrite
from ._package import load, resolve_output, save_document
from ._prompts import SMALL_SYSTEM, SYSTEM, rewrite_prompt, small_rewrite_prompt
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
    text = _strip(reply, original)
    if len(text) > 5 * len(original) + 400 or is_looping(text):
        return ""  # a runaway reply (a loop or an echo of the prompt) is not a rewrite
    return text


def _strip(reply: str, original: str) -> str:
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
    return text


@named("cleaned")
def _cleaned(reply: str, context: CheckContext) -> CheckResult:
    """Strip wrappers from the reply; later checks see the paragraph text only."""
    return CheckResult(name="cleaned", passed=True, value=_strip(reply, context.source))


def _feedback(attempt: CheckedAttempt) -> str | None:
    """Tell the model what a rewrite lost or how far its length strayed; a degenerate reply escalates."""
    failed = attempt.failures[0]
    if failed.name not in ("preserved-facts", "length-ratio"):
        return None
    return (
        f"That rewrite was not used: {failed.name} ({failed.reason}). Rewrite the paragraph again, "
        "keeping every number, date, name, link and placeholder of the original. Reply with the text only."
    )


def rewrite_checks(instruction: str) -> list[Check]:
    """The checks a rewrite must pass before it is written to a document."""
    translating = bool(_TRANSLATE.search(instruction))
    return [
        _cleaned,
        degenerate(),
        length_ratio(0.2, 4.0, slack=60),
        preserved_facts(names=not translating),
    ]


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
    target = resolve_output(ctx, doc.path, output, "suggested" if tracked else "edited", in_place=in_place)
    units = resolve_targets(
        doc.view, ctx.skill.full_name, paragraphs=paragraphs, section=section, match=match
    )
    prefers = ("translate",) if _TRANSLATE.search(instruction) else ()
    checks = rewrite_checks(instruction)
    rejected: dict[str, str] = {}

    async def rewrite(i: int, unit: Unit) -> str:
        old = paragraph_text(unit.p)
        small = ctx.prompt_profile() is PromptProfile.SMALL  # a short prompt; the same checks
        reply = await ctx.generate_checked(
            small_rewrite_prompt(old, instruction) if small else rewrite_prompt(old, instruction),
            checks=checks,
            source=old,
            feedback=_feedback,
            fallback=old,  # no rewrite passed: the paragraph stays as it was
            system=SMALL_SYSTEM if small else SYSTEM,
            prefers=prefers,
            max_tokens=max(128, min(1024, 3 * estimate(old) + 64)),
            temperature=0.3,
        )
        if reply.fell_back:
            rejected[unit.id] = " → ".join(a.describe() for a in reply.attempts)
        return str(reply.value)

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
        if unit.id in rejected:
            result.rejected.append(RejectedRewrite(id=unit.id, reason=rejected[unit.id]))
            result.notes.append(
                f"{unit.id} kept unchanged: no rewrite passed the checks ({rejected[unit.id]})"
            )
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

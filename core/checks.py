"""Named, reusable checks for :meth:`SkillContext.generate_checked <dualtrack.SkillContext.generate_checked>`.

Each factory returns a check ``(reply_text, context) -> CheckResult``; attach
them to a call and a failing reply is fed back or escalated to another model::

    from dualtrack import checks

    reply = await ctx.generate_checked(
        rewrite_prompt,
        source=paragraph,
        checks=[checks.degenerate(), checks.length_ratio(), checks.preserved_facts()],
        fallback=paragraph,
    )

Any callable of the same shape is a check too (sync or async), so domain checks
("the formula computes the expected value", "the tests pass") plug in the same way.
"""

from __future__ import annotations

from ._plugins._checks import (
    degenerate,
    json_schema,
    length_ratio,
    named,
    on_parts,
    parse_json,
    repetition,
)
from ._plugins._facts import Claims, block_lines, citations, facts_of, grounded, preserved_facts
from ._runtime._outcomes import Check, CheckContext, CheckResult, CheckStage

__all__ = [
    "Check",
    "CheckContext",
    "CheckResult",
    "CheckStage",
    "Claims",
    "block_lines",
    "citations",
    "degenerate",
    "facts_of",
    "grounded",
    "json_schema",
    "length_ratio",
    "named",
    "on_parts",
    "parse_json",
    "preserved_facts",
    "repetition",
]

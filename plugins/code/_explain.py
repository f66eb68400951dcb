"""``code.explain`` and ``code.review``: static facts first, then the model, grounded in them."""

from __future__ import annotations

from pathlib import Path

from dualtrack import ArgumentError, SkillContext
from dualtrack.checks import degenerate, on_parts

from ._facts import module_facts, range_facts, symbol_facts
from ._languages import language_of, text_facts
from ._models import CodeFacts, Explanation, Finding, ReviewResult
from ._prompts import block, facts_block, numbered, system_prompt
from ._review import SYSTEM as REVIEW_SYSTEM
from ._review import ModelReview, anchor, changed_lines, deduplicate, review_prompt
from ._static import ruff_findings, syntax_findings

__all__ = ["explain_code", "review_file"]

SYSTEM = system_prompt(
    "You explain code to a developer who is about to change it: its purpose, inputs and outputs, "
    "control flow, side effects, error cases and anything surprising. Ground every statement in "
    "the code and the static facts given; say so when something cannot be known from them."
)
_MAX_CHARS = 60_000


def _facts(source: str, language: str, symbol: str | None, start: int | None, end: int | None) -> CodeFacts:
    lines = source.splitlines()
    if start is not None:
        end = end or start
        if start < 1 or end < start or end > len(lines):
            raise ArgumentError(
                "code.explain",
                [("line_start", f"lines {start}-{end} are not in the file ({len(lines)} lines)")],
            )
    if language != "python":
        if symbol:
            raise ArgumentError(
                "code.explain", [("symbol", f"symbols are only resolved in Python, not {language}")]
            )
        return text_facts(source, language, start or 1, end)
    if symbol:
        try:
            return symbol_facts(source, symbol)
        except SyntaxError as exc:
            raise ArgumentError(
                "code.explain",
                [
                    (
                        "symbol",
                        f"the file is not valid Python (line {exc.lineno}: {exc.msg}); "
                        "explain the whole file or a line range instead",
                    )
                ],
            ) from None
    if start is not None and end is not None:
        whole = module_facts(source)
        if whole.syntax_error:
            facts = text_facts(source, language, start, end)
            facts.syntax_error = whole.syntax_error
            return facts
        return range_facts(source, start, end)
    return module_facts(source)


async def explain_code(
    ctx: SkillContext,
    path: Path,
    display: str,
    source: str,
    symbol: str | None,
    start: int | None,
    end: int | None,
) -> Explanation:
    """Explain a file, a symbol or a line range, grounded in static facts.

    The explanation must be no loop and no echo of the prompt; a failing one is
    fed back once, then escalated. There is no fallback for an explanation:
    where no model's passes, :class:`~dualtrack.CheckFailedError` is raised.
    """
    language = language_of(path.suffix)
    facts = _facts(source, language, symbol, start, end)
    lines = source.splitlines()
    excerpt = "\n".join(lines[facts.line_start - 1 : facts.line_end])
    if len(excerpt) > _MAX_CHARS:
        excerpt = excerpt[:_MAX_CHARS] + "\n... (truncated)"
    target = symbol or (f"lines {facts.line_start}-{facts.line_end}" if start is not None else "file")
    prompt = "\n\n".join(
        [
            f"Explain {target if target != 'file' else 'this file'} of {display} ({language}).",
            facts_block(facts),
            block(numbered(excerpt, facts.line_start), f"{language} code from {display}"),
        ]
    )
    done = await ctx.generate_checked(prompt, checks=[degenerate()], system=SYSTEM, max_tokens=1500)
    return Explanation(path=display, target=target, facts=facts, explanation=done.text.strip())


async def review_file(
    ctx: SkillContext, path: Path, display: str, source: str, diff: str | None, use_model: bool
) -> ReviewResult:
    """Static findings (compile, ruff), then the model's, anchored and deduplicated.

    The model's reply must be valid JSON whose finding messages are no loop; a
    failing one is fed back once, then escalated. Where no model's reply passes,
    the static findings stand alone and ``tools["model"]`` says why.
    """
    result = ReviewResult(path=display)
    static: list[Finding] = []
    if language_of(path.suffix) == "python":
        static += syntax_findings(source, display)
        result.tools["python"] = "ran"
        found, status = ruff_findings(path, display, source)
        static += found
        result.tools["ruff"] = status
    scope = changed_lines(diff, display) if diff else None
    if diff and scope is None:
        raise ArgumentError("code.review", [("diff", f"the diff does not change {display}")])
    model_findings: list[Finding] = []
    if use_model:
        prompt = review_prompt(display, source, static, diff)
        checked = await ctx.generate_checked(
            prompt,
            schema=ModelReview,
            checks=[on_parts(lambda r: [f.message for f in r.findings], degenerate(), name="findings")],
            fallback=None,
            system=REVIEW_SYSTEM,
            max_tokens=2500,
        )
        if checked.fell_back:  # keep the static findings; say what happened
            tries = " → ".join(a.describe() for a in checked.attempts)
            result.tools["model"] = f"no valid reply ({tries[:300]})"
        else:
            model_findings, result.dropped = anchor(checked.value.findings, display, source)
            result.tools["model"] = "ran"
    findings = deduplicate(static + model_findings)
    if scope is not None:
        inside = [f for f in findings if any(line in scope for line in range(f.line_start, f.line_end + 1))]
        result.dropped += [
            f"{f.line_start}: {f.message[:80]} (outside the lines the diff changes)"
            for f in findings
            if f.source == "model" and f not in inside
        ]
        findings = inside
    result.findings = findings
    return result

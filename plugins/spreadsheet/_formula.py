"""Natural language to a formula that is checked by computing it.

:func:`solve` asks a model for a formula and hands each candidate to a
validator (which computes it against the workbook's data). A failing formula
goes back to the same route once with the reason; if the second one fails
too, the request is escalated through the router to a model with the
``reasoning`` tag, excluding every model already tried. Every attempt is
reported.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from dualtrack import CheckedAttempt, CheckStage, Completion, Message, SkillContext, tags
from dualtrack.checks import CheckContext, CheckResult

from ._checks import Check, close_enough
from ._evaluator import check_syntax, compute
from ._fastcalc import FastCalc, compute_with
from ._models import FormulaAttempt
from ._refs import formula_refs, quote_sheet

__all__ = [
    "FORMULA_RULES",
    "FormulaReply",
    "Verdict",
    "cell_validator",
    "normalize_formula",
    "solve",
    "target_text",
]

ESCALATION_TAG = tags.REASONING
FORMULA_RULES = (
    "Rules: compute from the cells (ranges such as $C$2:$C$51), never type the answer as a constant; "
    "use functions that Excel and LibreOffice both have (SUM, SUMIFS, COUNTIFS, AVERAGEIFS, MAXIFS, "
    "MINIFS, IF, INDEX, MATCH, ROUND ...); put text criteria in double quotes; English function names "
    "and commas between arguments."
)


class FormulaReply(BaseModel):
    """A model's proposed formula."""

    formula: str = Field(description="The Excel formula, starting with '='")
    explanation: str = Field(default="", description="One or two sentences on what it computes")


@dataclass(slots=True, frozen=True)
class Verdict:
    """What checking a formula found."""

    ok: bool
    error: str | None = None
    value: Any = None


Validator = Callable[[str], Verdict]
_FENCE = re.compile(r"^`+(?:excel)?\s*|`+$")


def normalize_formula(text: str) -> str:
    """Strip code fences and blanks; add the leading ``=`` a model sometimes leaves out."""
    f = _FENCE.sub("", text.strip()).strip()
    return f if f.startswith("=") else "=" + f


def cell_validator(
    wb: Any,
    sheet: str,
    coord: str,
    check: Check | None,
    expected: float | None,
    *,
    rounded: bool = False,
    calc: FastCalc | None = None,
    confirm: bool = False,
) -> Validator:
    """A validator for a formula meant for one cell.

    Args:
        wb: The workbook (with formulas) the formula is computed in; left unchanged.
        sheet: The target sheet.
        coord: The target cell.
        check: The independent check the value must pass, if any.
        expected: The check's expected value.
        rounded: Whether the request asks for rounding (looser comparison).
        calc: The workbook's fast calculator, if any.
        confirm: Also compute the formula in a temporary copy of the whole workbook and
            require the same value (used for small workbooks, where that is cheap).

    Returns:
        A function giving the :class:`Verdict` of a formula.
    """
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    letters, row = coordinate_from_string(coord)
    col = column_index_from_string(letters)
    sheets = {s.lower() for s in wb.sheetnames}

    def run(formula: str) -> Verdict:
        problem = check_syntax(formula)
        if problem:
            return Verdict(False, problem)
        try:
            refs = formula_refs(formula, sheet)
        except ValueError as exc:
            return Verdict(False, str(exc))
        cells = [r for r in refs if r.name is None]
        if not cells:
            return Verdict(False, "it has no cell references; compute the answer from the data's ranges")
        for r in cells:
            if r.sheet.lower() not in sheets:
                return Verdict(False, f"it refers to sheet {r.sheet!r}, which does not exist")
            if r.contains(sheet, col, row):
                return Verdict(
                    False, f"it refers to its own cell {coord} (circular reference) through {r.text}"
                )
        res = compute_with(calc, wb, [(sheet, coord)], {(sheet, coord): formula})[(sheet, coord)]
        if confirm and calc is not None and res.ok:
            # write it into a temporary copy of the whole workbook and compute that too
            copy = compute(wb, [(sheet, coord)], {(sheet, coord): formula})[(sheet, coord)]
            if not _same(copy.value, res.value) or copy.error != res.error:
                return Verdict(
                    False, f"it computes {copy.value!r} in the workbook but {res.value!r} alone; simplify it"
                )
        if not res.ok:
            hint = (
                " (a function the evaluator does not know, or a misspelt name)"
                if res.error == "#NAME?"
                else ""
            )
            return Verdict(False, f"it computes to the error {res.error}{hint}")
        if res.value is None or res.value == "":
            return Verdict(False, "it computes to an empty value", res.value)
        if (
            check is not None
            and expected is not None
            and not close_enough(res.value, expected, rounded=rounded)
        ):
            return Verdict(
                False,
                f"it computes {res.value!r}, which does not match the {check.describe()} computed "
                "directly from the data; check the ranges and the criteria",
                res.value,
            )
        return Verdict(True, None, res.value)

    return run


async def solve(
    ctx: SkillContext,
    prompt: str,
    validate: Validator,
    *,
    system: str,
    max_tokens: int = 400,
    first: FormulaReply | None = None,
) -> tuple[FormulaReply | None, Verdict | None, list[FormulaAttempt]]:
    """Ask for a formula until one validates: once, once more with feedback, then escalated.

    Args:
        ctx: The skill context (its calls are routed).
        prompt: What the formula must do, with the table's description.
        validate: Checks a candidate (computed against the data).
        system: The system message.
        max_tokens: Reply budget per call.
        first: A reply already obtained (e.g. with a plan), used as the first attempt.

    Returns:
        ``(reply, verdict, attempts)``; ``reply`` is ``None`` when nothing validated.
    """

    async def computes(text: str, context: CheckContext) -> CheckResult:
        reply: FormulaReply = context.value
        formula = normalize_formula(reply.formula)
        verdict = await asyncio.to_thread(validate, formula)
        fixed = reply.model_copy(update={"formula": formula})
        return CheckResult(
            name="formula", passed=verdict.ok, reason=verdict.error or "", value=(fixed, verdict)
        )

    def feedback(attempt: CheckedAttempt) -> str:
        failed = attempt.failures[0]
        if failed.name != "formula":
            return (
                f"That reply was not valid JSON for the schema: {failed.reason}\n"
                "Reply again with only the corrected JSON."
            )
        return (
            f"The formula {failed.value[0].formula} was computed against the workbook's data and failed: "
            f"{failed.reason}. Reply with a corrected formula as JSON."
        )

    def escalated(tried: Sequence[CheckedAttempt]) -> list[Message]:
        failed = "\n".join(f"- {a.formula or '(no formula)'}: {a.error}" for a in _attempts(tried))
        return [
            Message.system(system),
            Message.user(
                f"{prompt}\n\nEarlier formulas were computed against the data and failed:\n{failed}"
            ),
        ]

    done = None
    if first is not None:
        done = Completion(text=first.model_dump_json(), model_card=ctx.last_model)
    checked = await ctx.generate_checked(
        [Message.system(system), Message.user(prompt)],
        schema=FormulaReply,
        checks=[computes],
        feedback=feedback,
        escalate_requires=[ESCALATION_TAG],
        escalate_prompt=escalated,
        first=done,
        fallback=None,
        max_tokens=max_tokens,
    )
    attempts = _attempts(checked.attempts)
    last = checked.attempts[-1].outcomes[-1] if checked.attempts[-1].outcomes else None
    if checked.fell_back:
        verdict = last.value[1] if last is not None and last.name == "formula" else None
        return None, verdict, attempts
    reply, verdict = checked.value
    return reply, verdict, attempts


def _attempts(tried: Sequence[CheckedAttempt]) -> list[FormulaAttempt]:
    """What each try proposed and what checking it found."""
    out = []
    for a in tried:
        escalated = a.stage is CheckStage.ESCALATION
        if a.error is not None:
            error = f"no stronger model could take over: {a.error}"
            out.append(FormulaAttempt(formula="", model=None, ok=False, escalated=True, error=error))
            continue
        last = a.outcomes[-1]
        if last.name != "formula":  # the reply was not a formula reply at all
            out.append(
                FormulaAttempt(formula="", model=a.model, ok=False, error=last.reason, escalated=escalated)
            )
            continue
        reply, verdict = last.value
        out.append(
            FormulaAttempt(
                formula=reply.formula,
                model=a.model,
                ok=verdict.ok,
                error=verdict.error,
                value=verdict.value,
                escalated=escalated,
            )
        )
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return bool(a == b)


def target_text(sheet: str, coord: str) -> str:
    """``'My Sheet'!B7`` for prompts."""
    return f"{quote_sheet(sheet)}!{coord}"

"""``spreadsheet.ask``: answer a question about the data with the computation behind it.

The model never states the answer itself: it proposes a formula, the formula
is computed against the workbook (in a temporary copy, in an empty cell next
to the table), checked against Python where the question is a plain
aggregate, and the answer quotes the value together with the formula.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from openpyxl.utils.cell import get_column_letter

from dualtrack import SkillContext

from ._checks import infer_check
from ._formula import FORMULA_RULES, cell_validator, solve, target_text
from ._models import AnswerResult
from ._session import Session
from ._table import Table

__all__ = ["answer", "format_value"]

_SYSTEM = "You answer questions about spreadsheet data by writing the Excel formula that computes the answer."


def format_value(value: Any) -> str:
    """A computed value for people (thousands separators, at most 4 decimals)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


async def answer(ctx: SkillContext, session: Session, table: Table, question: str) -> AnswerResult:
    """Answer ``question`` from ``table``'s data.

    Args:
        ctx: The skill context.
        session: The opened workbook (never saved by this skill).
        table: The table the question is about.
        question: The question.

    Returns:
        The answer, its value, the formula that computed it and every attempt.
    """
    scratch_col = session.free_column(table, gap=1)
    scratch = f"{get_column_letter(scratch_col)}{table.block.first_row}"
    check = infer_check(question, table)
    expected = check.expected(table) if check else None
    validate = cell_validator(
        session.wb,
        table.sheet,
        scratch,
        check,
        expected,
        rounded="round" in question.lower(),
        calc=session.calc,
    )
    others = [s for s in session.wb.sheetnames if s != table.sheet]
    prompt = (
        f"{table.describe()}\n"
        + (f"Other sheets: {', '.join(others)}\n" if others else "")
        + f"\nQuestion: {question}\n"
        f"Write one Excel formula that computes the answer; it will be computed in the empty cell "
        f"{target_text(table.sheet, scratch)}.\n{FORMULA_RULES}\n"
        'Reply as JSON {"formula": "=...", "explanation": "what it computes, in one sentence"}.'
    )
    reply, verdict, attempts = await solve(ctx, prompt, validate, system=_SYSTEM)
    described = check.describe() if check else None
    if reply is None or verdict is None:
        last = attempts[-1].error if attempts else "no attempt"
        return AnswerResult(
            ok=False,
            question=question,
            answer=f"No formula computed a checked answer ({last}).",
            check=described,
            expected=expected,
            attempts=attempts,
        )
    shown = format_value(verdict.value)
    explanation = reply.explanation.strip().rstrip(".")
    text = f"{shown}. Computed on sheet {table.sheet!r} with {reply.formula}"
    text += f" ({explanation})." if explanation else "."
    if check is not None and expected is not None:
        text += (
            f" Cross-checked: the {described} computed directly from the data is {format_value(expected)}."
        )
    return AnswerResult(
        ok=True,
        question=question,
        answer=text,
        value=verdict.value,
        formula=reply.formula,
        computation=explanation or None,
        check=described,
        expected=expected,
        attempts=attempts,
    )

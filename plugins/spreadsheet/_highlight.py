"""``spreadsheet.highlight``: conditional formatting from a request.

The model returns a structured rule (column, operator, value, colour, whole
row or not); this module builds the openpyxl ``CellIsRule`` or ``FormulaRule``
itself, so values from the model only ever appear as quoted literals. Matching
rows are counted in Python (or, for a model-written condition formula, by
computing the validated condition on every row).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.cell import get_column_letter
from pydantic import BaseModel, Field

from dualtrack import UserError

from ._evaluator import check_syntax, to_number
from ._fastcalc import FastCalc, compute_with
from ._layout import filled
from ._refs import formula_refs, translate
from ._table import Table

__all__ = ["COLORS", "HighlightRule", "apply_rule", "condition", "parse_color"]

Operator = Literal[
    "greater_than",
    "greater_or_equal",
    "less_than",
    "less_or_equal",
    "equal",
    "not_equal",
    "between",
    "contains",
    "not_contains",
    "begins_with",
    "blank",
    "not_blank",
    "date_before_today",
    "date_after_today",
    "duplicate",
    "formula",
]
COLORS = {
    "red": "FFC7CE",
    "green": "C6EFCE",
    "yellow": "FFEB9C",
    "orange": "FCD5B4",
    "blue": "BDD7EE",
    "purple": "E4DFEC",
    "grey": "D9D9D9",
    "gray": "D9D9D9",
    "pink": "F8CBAD",
}
_FONTS = {"FFC7CE": "9C0006", "C6EFCE": "006100", "FFEB9C": "9C5700"}
_HEX = re.compile(r"^#?([0-9A-Fa-f]{6})$")
_CELL_IS = {
    "greater_than": "greaterThan",
    "greater_or_equal": "greaterThanOrEqual",
    "less_than": "lessThan",
    "less_or_equal": "lessThanOrEqual",
    "equal": "equal",
    "not_equal": "notEqual",
    "between": "between",
}


class HighlightRule(BaseModel):
    """A conditional-formatting rule as the model describes it."""

    column: str = Field(description="Header of the column the condition tests")
    operator: Operator = Field(description="The test")
    value: str | float | None = Field(
        default=None, description="The value compared with (dates as YYYY-MM-DD)"
    )
    value2: str | float | None = Field(default=None, description="Upper bound for 'between'")
    formula: str | None = Field(
        default=None,
        description="For 'formula': a condition for the first data row, e.g. =AND($D2<TODAY(),$E2<>\"Paid\")",
    )
    color: str = Field(default="red", description="A colour name (red, green, yellow ...) or hex RRGGBB")
    whole_row: bool = Field(default=True, description="Colour the whole table row, not just the cell")
    description: str = Field(default="", description="The rule in a few words")


def parse_color(text: str) -> str:
    """An ``RRGGBB`` fill colour from a name or hex code (raises ``UserError`` otherwise)."""
    key = text.strip().lower()
    if key in COLORS:
        return COLORS[key]
    m = _HEX.match(text.strip())
    if m:
        return m.group(1).upper()
    raise UserError(
        f"unknown colour {text!r}; use one of {', '.join(sorted(COLORS))} or a hex code like FF9900"
    )


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) and not value.is_integer() else str(int(value))
    text = str(value)
    try:
        d = dt.date.fromisoformat(text[:10])
        return f"DATE({d.year},{d.month},{d.day})"
    except ValueError:
        pass
    try:
        return str(float(text)) if not float(text).is_integer() else str(int(float(text)))
    except ValueError:
        return '"' + text.replace('"', '""')[:255] + '"'


_COMPARISONS = {
    "greater_than": ">",
    "greater_or_equal": ">=",
    "less_than": "<",
    "less_or_equal": "<=",
    "equal": "=",
    "not_equal": "<>",
}
_FUNCTION_RULES = {
    "contains": "=ISNUMBER(SEARCH({v},{ref}))",
    "not_contains": "=ISERROR(SEARCH({v},{ref}))",
    "begins_with": "=LEFT({ref},LEN({v}))={v}",
    "blank": "=LEN(TRIM({ref}))=0",
    "not_blank": "=LEN(TRIM({ref}))>0",
    "date_before_today": "=AND(ISNUMBER({ref}),{ref}<TODAY())",
    "date_after_today": "=AND(ISNUMBER({ref}),{ref}>TODAY())",
}


def condition(rule: HighlightRule, ref: str) -> str:
    """The condition formula (with ``=``) for the cell ``ref`` of the first data row."""
    v = _literal(rule.value) if rule.value is not None else '""'
    op = rule.operator
    if op == "between":
        return f"=AND({ref}>={v},{ref}<={_literal(rule.value2)})"
    if op in _COMPARISONS:
        return f"={ref}{_COMPARISONS[op]}{v}"
    template = _FUNCTION_RULES.get(op)
    if template is not None:
        return template.format(ref=ref, v=v)
    raise UserError(f"operator {op!r} needs its own formula")


def _python_match(rule: HighlightRule, value: Any, column_values: list[Any]) -> bool:
    op = rule.operator
    if op in ("blank", "not_blank"):
        return filled(value) == (op == "not_blank")
    if op == "duplicate":
        return filled(value) and column_values.count(value) > 1
    if op in ("date_before_today", "date_after_today"):
        if not isinstance(value, dt.date):
            return False
        today = dt.date.today()
        day = value.date() if isinstance(value, dt.datetime) else value
        return day < today if op == "date_before_today" else day > today
    if op in ("contains", "not_contains", "begins_with"):
        text, needle = str(value or "").lower(), str(rule.value or "").lower()
        hit = text.startswith(needle) if op == "begins_with" else needle in text
        return hit if op != "not_contains" else not hit
    want = to_number(_coerce(rule.value))
    got = to_number(value)
    if isinstance(want, str) or isinstance(got, str):
        a, b = str(got).lower() if got is not None else "", str(want).lower()
        return {"equal": a == b, "not_equal": a != b}.get(op, False)
    if not isinstance(got, int | float) or isinstance(got, bool) or got is None:
        return op == "not_equal"
    if op == "between":
        hi = to_number(_coerce(rule.value2))
        return isinstance(hi, int | float) and bool(want <= got <= hi)
    return bool(
        {
            "greater_than": got > want,
            "greater_or_equal": got >= want,
            "less_than": got < want,
            "less_or_equal": got <= want,
            "equal": got == want,
            "not_equal": got != want,
        }[op]
    )


def _coerce(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value[:10])
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    return value


def apply_rule(
    wb: Any, table: Table, rule: HighlightRule, color: str, calc: FastCalc | None = None
) -> tuple[str, str, int]:
    """Add the rule's conditional formatting to the table's sheet.

    Returns:
        ``(range formatted, rule formula or operator, matching rows)``.

    Raises:
        UserError: When the rule names an unknown column or its formula does not compute.
    """
    col = table.column(rule.column)
    ws = wb[table.sheet]
    first, last = table.first_row, table.last_row
    letter = col.letter
    if rule.whole_row:
        left, right = get_column_letter(table.block.first_col), get_column_letter(table.block.last_col)
        rng = f"{left}{first}:{right}{last}"
    else:
        rng = f"{letter}{first}:{letter}{last}"
    fill = PatternFill(start_color=color, end_color=color, fill_type="solid")
    font = Font(color=_FONTS[color]) if color in _FONTS else None
    ref = f"${letter}{first}" if rule.whole_row else f"{letter}{first}"
    values = table.values[col.index]
    if rule.operator == "formula":
        text = (rule.formula or "").strip()
        formula = text if text.startswith("=") else "=" + text
        matches = _formula_matches(wb, table, formula, calc)
        ws.conditional_formatting.add(rng, FormulaRule(formula=[formula[1:]], fill=fill, font=font))
        return rng, formula, matches
    if rule.operator == "duplicate":
        formula = f"=COUNTIF(${letter}${first}:${letter}${last},{ref})>1"
    else:
        formula = condition(rule, ref)
    matches = sum(1 for v in values if _python_match(rule, v, values))
    if not rule.whole_row and rule.operator in _CELL_IS:
        args = [_literal(rule.value)] + ([_literal(rule.value2)] if rule.operator == "between" else [])
        ws.conditional_formatting.add(
            rng, CellIsRule(operator=_CELL_IS[rule.operator], formula=args, fill=fill, font=font)
        )
    else:
        ws.conditional_formatting.add(rng, FormulaRule(formula=[formula[1:]], fill=fill, font=font))
    return rng, formula, matches


def _formula_matches(wb: Any, table: Table, formula: str, calc: FastCalc | None) -> int:
    problem = check_syntax(formula)
    if problem:
        raise UserError(f"the highlight condition {formula} is not a valid formula: {problem}")
    try:
        refs = formula_refs(formula, table.sheet)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    if not any(r.name is None for r in refs):
        raise UserError(f"the highlight condition {formula} does not refer to any cell")
    scratch = get_column_letter(table.block.last_col + 1)
    origin = f"{scratch}{table.first_row}"
    rows = range(table.first_row, table.last_row + 1)
    assignments = {(table.sheet, f"{scratch}{r}"): translate(formula, origin, f"{scratch}{r}") for r in rows}
    done = compute_with(calc, wb, list(assignments), assignments)
    errors = [k[1] for k, v in done.items() if not v.ok]
    if len(errors) == len(assignments):
        raise UserError(f"the highlight condition {formula} computes to an error on every row")
    return sum(1 for v in done.values() if v.ok and v.value not in (False, 0, None, ""))

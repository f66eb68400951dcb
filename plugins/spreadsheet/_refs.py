"""Cell references inside formulas: find them, rewrite them, move them.

Built on openpyxl's formula ``Tokenizer`` and ``Translator`` (no evaluator needed),
so explaining a formula or checking it for circular references stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import column_index_from_string, get_column_letter

__all__ = [
    "Ref",
    "bounded",
    "formula_functions",
    "formula_refs",
    "is_formula",
    "quote_sheet",
    "rewrite_refs",
    "translate",
]

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_COLS = re.compile(r"^\$?([A-Za-z]{1,3})$")
_ROWS = re.compile(r"^\$?(\d+)$")


@dataclass(slots=True, frozen=True)
class Ref:
    """A reference found in a formula.

    Attributes:
        text: The reference as written (``Sales!B2:B9``).
        sheet: The sheet it points at (the formula's own sheet when unqualified).
        min_col: First column (1-based); ``None`` for a whole-row reference.
        min_row: First row; ``None`` for a whole-column reference.
        max_col: Last column.
        max_row: Last row.
        name: A defined name, when the operand is a name rather than cells.
    """

    text: str
    sheet: str
    min_col: int | None = None
    min_row: int | None = None
    max_col: int | None = None
    max_row: int | None = None
    name: str | None = None

    @property
    def address(self) -> str:
        """The range without its sheet, e.g. ``B2:B9`` or ``C:C``."""
        return self.text.rsplit("!", 1)[-1].replace("$", "")

    def contains(self, sheet: str, col: int, row: int) -> bool:
        """Whether the cell ``sheet!(col,row)`` lies inside this reference."""
        if self.name is not None or sheet.lower() != self.sheet.lower():
            return False
        col_ok = self.min_col is None or (self.min_col <= col <= (self.max_col or self.min_col))
        row_ok = self.min_row is None or (self.min_row <= row <= (self.max_row or self.min_row))
        return col_ok and row_ok

    def cell_count(self, max_row: int, max_col: int) -> int:
        """How many cells the reference spans, bounding whole rows/columns by the sheet's size."""
        if self.name is not None:
            return 0
        cols = (self.max_col or max_col) - (self.min_col or 1) + 1
        rows = (self.max_row or max_row) - (self.min_row or 1) + 1
        return max(cols, 0) * max(rows, 0)


def is_formula(value: object) -> bool:
    """Whether a cell value is a formula string."""
    return isinstance(value, str) and value.startswith("=") and len(value) > 1


def quote_sheet(name: str) -> str:
    """A sheet name as formulas write it (quoted when needed)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) and not _CELL.match(name):
        return name
    return "'" + name.replace("'", "''") + "'"


def _split_sheet(text: str) -> tuple[str | None, str]:
    if "!" not in text:
        return None, text
    sheet, addr = text.rsplit("!", 1)
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, addr


def _parse_operand(text: str, default_sheet: str) -> Ref:
    sheet, addr = _split_sheet(text)
    sheet = sheet or default_sheet
    parts = addr.split(":")
    if len(parts) == 1:
        m = _CELL.match(parts[0])
        if m:
            c, r = column_index_from_string(m.group(1).upper()), int(m.group(2))
            return Ref(text, sheet, c, r, c, r)
        return Ref(text, sheet, name=addr)
    if len(parts) == 2:
        a, b = parts
        ma, mb = _CELL.match(a), _CELL.match(b)
        if ma and mb:
            c1, c2 = sorted(column_index_from_string(x.group(1).upper()) for x in (ma, mb))
            r1, r2 = sorted(int(x.group(2)) for x in (ma, mb))
            return Ref(text, sheet, c1, r1, c2, r2)
        ca, cb = _COLS.match(a), _COLS.match(b)
        if ca and cb:
            c1, c2 = sorted(column_index_from_string(x.group(1).upper()) for x in (ca, cb))
            return Ref(text, sheet, c1, None, c2, None)
        ra, rb = _ROWS.match(a), _ROWS.match(b)
        if ra and rb:
            r1, r2 = sorted(int(x.group(1)) for x in (ra, rb))
            return Ref(text, sheet, None, r1, None, r2)
    return Ref(text, sheet, name=addr)


def _operands(formula: str) -> list[Token]:
    try:
        tok = Tokenizer(formula)
    except Exception as exc:
        raise ValueError(f"cannot read formula {formula!r}: {exc}") from exc
    return [t for t in tok.items if t.type == Token.OPERAND and t.subtype == Token.RANGE]


def formula_refs(formula: str, default_sheet: str) -> list[Ref]:
    """Every cell, range or name a formula refers to, in order of appearance.

    Args:
        formula: The formula, starting with ``=``.
        default_sheet: The sheet holding the formula.

    Returns:
        The references; names (defined names, tables) carry ``name``.

    Raises:
        ValueError: When the formula cannot be tokenised.
    """
    return [_parse_operand(t.value, default_sheet) for t in _operands(formula)]


def formula_functions(formula: str) -> list[str]:
    """The functions a formula calls, upper-case, in order, without repeats."""
    try:
        items = Tokenizer(formula).items
    except Exception:  # noqa: BLE001 - the tokenizer raises bare errors on bad input
        return []
    seen: list[str] = []
    for t in items:
        if t.type == Token.FUNC and t.subtype == Token.OPEN:
            name = t.value.rstrip("(").upper()
            if name and name not in seen:
                seen.append(name)
    return seen


def rewrite_refs(formula: str, fn: Callable[[str], str]) -> str:
    """Return ``formula`` with each range operand replaced by ``fn(operand)``."""
    tok = Tokenizer(formula)
    for t in tok.items:
        if t.type == Token.OPERAND and t.subtype == Token.RANGE:
            t.value = fn(t.value)
    return str(tok.render())


def bounded(text: str, sheet_size: Callable[[str | None], tuple[int, int]]) -> str:
    """Turn whole-column (``C:C``) or whole-row (``2:2``) references into bounded ranges.

    Args:
        text: One range operand.
        sheet_size: ``sheet name or None -> (max_row, max_col)``.

    Returns:
        The same cells as a finite range (unchanged when already finite).
    """
    sheet, addr = _split_sheet(text)
    prefix = text[: len(text) - len(addr)]
    parts = addr.split(":")
    if len(parts) != 2:
        return text
    max_row, max_col = sheet_size(sheet)
    ca, cb = _COLS.match(parts[0]), _COLS.match(parts[1])
    if ca and cb:
        return f"{prefix}{parts[0]}$1:{parts[1]}${max(max_row, 1)}"
    ra, rb = _ROWS.match(parts[0]), _ROWS.match(parts[1])
    if ra and rb:
        last = get_column_letter(max(max_col, 1))
        return f"{prefix}$A{parts[0]}:${last}{parts[1]}"
    return text


def translate(formula: str, origin: str, dest: str) -> str:
    """Move a formula from cell ``origin`` to ``dest``, shifting relative references."""
    return str(Translator(formula, origin=origin).translate_formula(dest))

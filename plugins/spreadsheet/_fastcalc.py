"""Single formulas computed over ranges, without building a model of the whole workbook.

``formulas.Parser`` compiles one formula into a function of its input ranges;
this module feeds it the workbook's values (cached values, or values it
computes first for formulas the file holds none for, recursively). A column of
formulas copied down (``=D2*E2``, ``=D3*E3`` ...) is compiled once and re-run
with its relative references moved, so thousands of rows cost milliseconds
each instead of a model node per cell.

Whatever this cannot do exactly (``ROW()``, ``OFFSET``, ``INDIRECT``, names it
cannot resolve, circular references) raises :class:`Unsupported`; callers then
use :func:`~._evaluator.compute`, which computes a temporary copy of the
whole workbook.
"""

from __future__ import annotations

import re
from typing import Any

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from ._evaluator import Computed, compute, load_formulas, plain, to_number
from ._refs import Ref, formula_refs, is_formula, translate
from ._stats import EXCEL_ERRORS

__all__ = ["FastCalc", "Unsupported", "compute_with"]

_POSITIONAL = re.compile(r"\b(ROW|COLUMN|OFFSET|INDIRECT|CELL|INFO)\s*\(", re.I)
_ADDR = re.compile(r"^([A-Z]{1,3})?(\d+)?$")


class Unsupported(Exception):
    """This formula needs the whole-workbook evaluator."""


def _key(
    sheet: str | None, lo: tuple[int | None, int | None], hi: tuple[int | None, int | None]
) -> tuple[Any, ...]:
    return ((sheet or "").upper(), lo, hi)


def _parse_input(
    name: str,
) -> tuple[str | None, tuple[int | None, int | None], tuple[int | None, int | None]] | str:
    """A compiled input (``'MY SHEET'!C3:D4``, ``B2``, ``A:A``) as bounds, or the name itself."""
    sheet, sep, addr = name.rpartition("!")
    if sep and sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1]
    parts = addr.split(":")
    bounds = []
    for p in parts:
        m = _ADDR.match(p)
        if m is None or not (m.group(1) or m.group(2)):
            return name
        bounds.append(
            (
                column_index_from_string(m.group(1)) if m.group(1) else None,
                int(m.group(2)) if m.group(2) else None,
            )
        )
    lo, hi = bounds[0], bounds[-1]
    return (sheet if sep else None, lo, hi)


def _ref_bounds(ref: Ref) -> tuple[Any, ...]:
    return _key(ref.sheet, (ref.min_col, ref.min_row), (ref.max_col, ref.max_row))


class FastCalc:
    """Computes formulas against one workbook's values.

    Args:
        wb: The workbook with formulas.
        values: The same workbook's cached values (``data_only``).
    """

    def __init__(self, wb: Any, values: Any) -> None:
        self.wb = wb
        self.values = values
        self.computed: dict[tuple[str, int, int], Any] = {}
        self._busy: set[tuple[str, int, int]] = set()
        self._compiled: dict[str, tuple[Any, list[tuple[str, Ref | None]]]] = {}
        self._templates: dict[tuple[str, int], tuple[str, str]] = {}
        self._titles: dict[str, str] = {ws.title.upper(): ws.title for ws in wb.worksheets}
        self._sizes: dict[int, tuple[int, int]] = {}  # openpyxl computes max_row by scanning every cell
        self._fm = load_formulas()

    def _size(self, ws: Any) -> tuple[int, int]:
        size = self._sizes.get(id(ws))
        if size is None:
            size = self._sizes[id(ws)] = (ws.max_row, ws.max_column)
        return size

    def _peek(self, ws: Any, row: int, col: int) -> Any:
        """A cell's value without creating cells outside the used range."""
        max_row, max_col = self._size(ws)
        return ws.cell(row, col).value if row <= max_row and col <= max_col else None

    # -- values -------------------------------------------------------------------------

    def _title(self, sheet: str | None, default: str) -> str:
        if sheet is None:
            return default
        if sheet.upper() not in self._titles:  # a sheet added since (a summary, say)
            self._titles = {ws.title.upper(): ws.title for ws in self.wb.worksheets}
        title = self._titles.get(sheet.upper())
        if title is None:
            raise Unsupported(f"no sheet {sheet!r}")
        return title

    def cell_value(self, sheet: str, row: int, col: int) -> Any:
        """The value of one cell: cached, or computed when the file holds none."""
        key = (sheet, row, col)
        if key in self.computed:
            return self.computed[key]
        formula = self._peek(self.wb[sheet], row, col)
        if not is_formula(formula):
            return formula
        cached = self._peek(self.values[sheet], row, col) if sheet in self.values.sheetnames else None
        if cached is not None:
            return cached
        if key in self._busy:
            raise Unsupported("circular reference")
        self._busy.add(key)
        try:
            res = self._run(formula, sheet, f"{get_column_letter(col)}{row}", template=(sheet, col))
        finally:
            self._busy.discard(key)
        value = res.value if res.ok else res.error
        self.computed[key] = value
        return value

    def _array(self, sheet: str, lo: tuple[int | None, int | None], hi: tuple[int | None, int | None]) -> Any:
        import numpy as np
        import schedula

        max_row, max_col = self._size(self.wb[sheet])
        c1, r1 = lo[0] or 1, lo[1] or 1
        c2 = hi[0] or max(max_col, 1)
        r2 = hi[1] or max(max_row, 1)
        if (r2 - r1 + 1) * (c2 - c1 + 1) > 5_000_000:
            raise Unsupported("range too large")
        out = np.empty((r2 - r1 + 1, c2 - c1 + 1), dtype=object)
        errors = _xl_errors()
        for i, r in enumerate(range(r1, r2 + 1)):
            for j, c in enumerate(range(c1, c2 + 1)):
                v = self.cell_value(sheet, r, c)
                if v is None:
                    out[i, j] = schedula.EMPTY
                elif isinstance(v, str) and v in EXCEL_ERRORS:
                    out[i, j] = errors[v]
                elif isinstance(v, float):
                    out[i, j] = round(v, 15)
                else:
                    out[i, j] = to_number(v)
        return out

    # -- formulas -----------------------------------------------------------------------

    def _compile(self, formula: str, sheet: str) -> tuple[Any, list[tuple[str, Ref | None]]]:
        if formula in self._compiled:
            return self._compiled[formula]
        if _POSITIONAL.search(formula):
            raise Unsupported("the formula depends on its position or on the clock")
        try:
            func = self._fm.Parser().ast(formula)[1].compile()
            refs = {_ref_bounds(r): r for r in formula_refs(formula, sheet) if r.name is None}
        except Exception as exc:  # the parser raises many kinds of errors
            raise Unsupported(str(exc)) from exc
        inputs: list[tuple[str, Ref | None]] = []
        for name in func.inputs:
            parsed = _parse_input(name)
            if isinstance(parsed, str):
                raise Unsupported(f"name {name}")
            s, lo, hi = parsed
            ref = refs.get(_key(s or sheet, lo, hi))
            inputs.append((name, ref))
        self._compiled[formula] = (func, inputs)
        return func, inputs

    def _run(self, formula: str, sheet: str, coord: str, template: tuple[str, int] | None = None) -> Computed:
        base = None
        if template is not None:
            known = self._templates.get(template)
            if known is not None and translate(known[1], known[0], coord) == formula:
                base = known
            elif known is None:
                self._templates[template] = (coord, formula)
        src_coord, src_formula = base or (coord, formula)
        func, inputs = self._compile(src_formula, sheet)
        args = []
        for name, ref in inputs:
            if ref is None:
                raise Unsupported(f"cannot place input {name}")
            text = ref.text if src_coord == coord else translate("=" + ref.text, src_coord, coord)[1:]
            (moved,) = formula_refs("=" + text, sheet) if text != ref.text else (ref,)
            title = self._title(moved.sheet, sheet)
            args.append(self._array(title, (moved.min_col, moved.min_row), (moved.max_col, moved.max_row)))
        try:
            return plain(func(*args))
        except Exception as exc:  # let the whole-workbook evaluator decide
            raise Unsupported(f"evaluation failed: {exc}") from exc

    def evaluate(self, formula: str, sheet: str, coord: str) -> Computed:
        """Compute ``formula`` as if written in ``sheet!coord`` (raises :class:`Unsupported`)."""
        return self._run(formula, sheet, coord)


def _xl_errors() -> dict[str, Any]:
    from formulas.tokens import operand

    known = [operand.NULL, operand.DIV, operand.VALUE, operand.REF, operand.NUM, operand.NAME, operand.NA]
    found = {str(e): e for e in known}
    return {e: found.get(e, operand.XlError(e)) for e in EXCEL_ERRORS}


def compute_with(
    calc: FastCalc | None,
    wb: Any,
    cells: list[tuple[str, str]],
    assignments: dict[tuple[str, str], str] | None = None,
) -> dict[tuple[str, str], Computed]:
    """Compute cells (existing ones, or ``assignments`` written there) the fast way where it can.

    Args:
        calc: The fast calculator of this workbook, or ``None`` to use the whole-workbook evaluator.
        wb: The workbook with formulas.
        cells: ``(sheet, coordinate)`` pairs.
        assignments: Formulas to compute in some of those cells instead of what they hold.

    Returns:
        ``(sheet, coordinate) -> Computed``.
    """
    from openpyxl.utils.cell import coordinate_from_string

    assignments = assignments or {}
    out: dict[tuple[str, str], Computed] = {}
    rest: list[tuple[str, str]] = []
    for key in cells:
        sheet, coord = key
        try:
            if calc is None:
                raise Unsupported("no fast calculator")
            if key in assignments:
                out[key] = calc.evaluate(assignments[key], sheet, coord)
            else:
                letters, row = coordinate_from_string(coord)
                v = calc.cell_value(sheet, row, column_index_from_string(letters))
                out[key] = Computed(None, v) if isinstance(v, str) and v in EXCEL_ERRORS else Computed(v)
        except Unsupported:
            rest.append(key)
    if rest:
        out.update(compute(wb, rest, assignments))
    return out

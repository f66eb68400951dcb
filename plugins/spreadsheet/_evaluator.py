"""Compute formulas with the ``formulas`` package (the ``spreadsheet`` extra).

A candidate formula is validated by writing it into a temporary copy of the
workbook and computing it there, with every precedent it needs. The copy
differs from the user's workbook only in ways that do not change values:

* sheets get plain names (``S1``, ``S2`` ...) because ``formulas`` cannot
  address sheet names holding quotes, and references are rewritten to match;
* whole-column references (``C:C``) become bounded ranges (``C$1:C$<max row>``),
  which compute the same values without building a million empty cells.

``formulas`` is imported here, lazily: importing it is slow.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import tempfile
import threading
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dualtrack import UserError

from ._refs import bounded, is_formula, rewrite_refs

__all__ = ["Computed", "check_syntax", "compute", "load_formulas", "plain", "to_number"]

_LOCK = threading.Lock()
_EVAL_NAME = "eval.xlsx"


@dataclass(slots=True, frozen=True)
class Computed:
    """One computed cell.

    Attributes:
        value: The value (number, text, bool or ``None`` for empty).
        error: The Excel error (``#DIV/0!``, ``#NAME?`` ...) when the formula failed.
    """

    value: Any
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the cell computed without an Excel error."""
        return self.error is None


@functools.cache
def load_formulas() -> Any:
    """Import ``formulas`` (quietly) or say which extra to install.

    Returns:
        The ``formulas`` module.

    Raises:
        UserError: When the package is not installed.
    """
    try:
        import formulas
        import formulas.excel
        import tqdm
    except ImportError as exc:
        raise UserError(
            "computing formulas needs the 'formulas' package: pip install 'dualtrack[spreadsheet]'"
        ) from exc
    # formulas draws a progress bar on stderr for every model it builds; keep hosts' output clean.
    formulas.excel.tqdm = types.SimpleNamespace(tqdm=functools.partial(tqdm.tqdm, disable=True))
    return formulas


def check_syntax(formula: str) -> str | None:
    """Parse ``formula``; return the parser's complaint, or ``None`` when it parses."""
    if not is_formula(formula):
        return "a formula must start with '='"
    fm = load_formulas()
    try:
        fm.Parser().ast(formula)
    except Exception as exc:  # noqa: BLE001 - the parser raises many kinds of errors
        detail = " ".join(str(exc).replace("%s", "").split())
        return f"cannot parse the formula ({type(exc).__name__}: {detail})"
    return None


def to_number(value: Any) -> Any:
    """Dates and times as Excel serial numbers (how formulas see them); other values unchanged."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        from openpyxl.utils.datetime import to_excel

        return to_excel(value)
    return value


def plain(value: Any) -> Computed:
    """A value computed by ``formulas`` (arrays, errors, empties) as a :class:`Computed`."""
    import schedula
    from formulas.tokens.operand import XlError

    raw = getattr(value, "value", value)
    while getattr(raw, "ndim", 0) and getattr(raw, "size", 0):
        raw = raw.ravel()[0]
    if isinstance(raw, XlError):
        return Computed(None, str(raw))
    if raw is schedula.EMPTY or getattr(raw, "size", 1) == 0:
        return Computed(None)
    if hasattr(raw, "item"):
        raw = raw.item()
    if isinstance(raw, float) and math.isfinite(raw):
        raw = float(f"{raw:.15g}")  # Excel keeps 15 significant digits: 867.1, not 867.0999999999999
    return Computed(raw)


def _safe_copy(wb: Any, assignments: dict[tuple[str, str], str]) -> tuple[bytes, dict[str, str]]:
    """Serialise ``wb`` with ``assignments`` applied, plain sheet names and bounded references."""
    import openpyxl

    buf = io.BytesIO()
    wb.save(buf)
    copy = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    names = {ws.title: f"S{i}" for i, ws in enumerate(copy.worksheets, 1)}
    lower = {k.lower(): v for k, v in names.items()}
    sizes = {names[ws.title]: (ws.max_row, ws.max_column) for ws in copy.worksheets}

    for (sheet, coord), formula in assignments.items():
        copy[sheet][coord].value = formula

    for ws in copy.worksheets:
        own = names[ws.title]

        def fix(text: str, own: str = own) -> str:
            def size(sheet: str | None, own: str = own) -> tuple[int, int]:
                return sizes.get(sheet or own, (1, 1))

            return bounded(_rename(text, lower), size)

        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str):
                    try:
                        cell.value = rewrite_refs(cell.value, fix)
                    except Exception:  # noqa: BLE001 - leave formulas the tokenizer cannot read as they are
                        continue
    for dn in list(copy.defined_names.values()):
        if dn.attr_text and "!" in dn.attr_text:
            try:
                dn.attr_text = rewrite_refs("=" + dn.attr_text, lambda t: _rename(t, lower))[1:]
            except Exception:  # noqa: BLE001 - leave names we cannot read as they are
                continue
    for title, safe in names.items():
        copy[title].title = safe
    out = io.BytesIO()
    copy.save(out)
    return out.getvalue(), names


def _rename(text: str, lower: dict[str, str]) -> str:
    sheet, sep, addr = text.rpartition("!")
    if not sep:
        return text
    name = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
    target = lower.get(name.lower())
    return f"{target}!{addr}" if target else text


def compute(
    wb: Any, cells: list[tuple[str, str]], assignments: dict[tuple[str, str], str] | None = None
) -> dict[tuple[str, str], Computed]:
    """Compute ``cells`` of ``wb`` after writing ``assignments`` into a temporary copy.

    Args:
        wb: An openpyxl workbook loaded with formulas (not ``data_only``); left unchanged.
        cells: ``(sheet, coordinate)`` pairs to compute.
        assignments: ``(sheet, coordinate) -> formula`` to write into the copy first.

    Returns:
        ``(sheet, coordinate) -> Computed`` for every requested cell.

    Raises:
        UserError: When the ``formulas`` package is missing.
    """
    fm = load_formulas()
    data, names = _safe_copy(wb, dict(assignments or {}))
    targets = {
        (sheet, coord): f"'[{_EVAL_NAME}]{names[sheet].upper()}'!{coord.replace('$', '').upper()}"
        for sheet, coord in cells
    }
    with _LOCK, tempfile.TemporaryDirectory(prefix="dualtrack-eval-") as tmp:
        Path(tmp, _EVAL_NAME).write_bytes(data)
        model = fm.ExcelModel()
        model.basedir = tmp
        try:
            model.from_ranges(*sorted(set(targets.values())))
            model.finish()
            solution = model.calculate()
        except Exception as exc:  # noqa: BLE001 - the evaluator raises many kinds of errors
            return {key: Computed(None, f"#EVAL! the evaluator failed: {exc}") for key in targets}
        out: dict[tuple[str, str], Computed] = {}
        for key, node in targets.items():
            if node in solution:
                out[key] = plain(solution[node])
            else:
                out[key] = Computed(None)
    return out

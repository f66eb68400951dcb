"""Writing cells without formula injection.

openpyxl turns any string that starts with ``=`` into a formula. Text that a
model produced (a label, a classification, an extracted value) must never
become one: :func:`write_value` stores strings starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return as text, with Excel's quote prefix so
they stay text when someone edits the cell. Only :func:`write_formula`, which
skills call with formulas they validated by computing them, writes formulas.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

__all__ = ["DANGEROUS_PREFIXES", "clean_text", "is_dangerous", "write_formula", "write_value"]

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MAX_TEXT = 32_767  # Excel's limit for one cell


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula."""
    return text.startswith(DANGEROUS_PREFIXES)


def clean_text(text: str) -> str:
    """Remove control characters XML cannot hold and cap the length at Excel's limit."""
    return _CONTROL.sub("", text)[:_MAX_TEXT]


def write_value(cell: Any, value: Any) -> None:
    """Write a value a model or user supplied; strings always land as text.

    Args:
        cell: An openpyxl cell.
        value: A number, bool, date, ``None`` or text.
    """
    if value is None or isinstance(value, bool | int | float | dt.date | dt.datetime | dt.time):
        cell.value = value
        return
    text = clean_text(str(value))
    cell.value = text
    # openpyxl infers a formula from a leading "="; force text whatever it inferred.
    cell.data_type = "s"
    if is_dangerous(text):
        cell.quotePrefix = True


def write_formula(cell: Any, formula: str) -> None:
    """Write a formula the skill has validated by computing it.

    Args:
        cell: An openpyxl cell.
        formula: The formula, starting with ``=``.

    Raises:
        ValueError: When ``formula`` does not start with ``=``.
    """
    if not formula.startswith("="):
        raise ValueError(f"not a formula: {formula!r}")
    cell.value = formula
    cell.data_type = "f"

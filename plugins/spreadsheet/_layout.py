"""Find the tables in a sheet, and their header rows, from a stream of rows.

A table is a block of consecutive non-empty rows, split into column runs by
columns that are empty throughout the block; a block that follows a table
after a single blank row, over the same columns and without a header of its
own, continues that table. Its header is the first of its
first few rows whose filled cells are all distinct text covering at least half
the block's width (rows above it are titles). The scanner keeps only the
first rows of the current block, so it works on sheets of any length.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils.cell import get_column_letter

__all__ = ["HEAD_ROWS", "LayoutScanner", "TableBlock", "filled", "find_header", "header_text", "main_table"]

HEAD_ROWS = 6
_MAX_TABLES = 50


def filled(value: Any) -> bool:
    """Whether a cell value counts as data (not ``None`` or blank text)."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def find_header(rows: Sequence[Sequence[Any]], first_col: int, last_col: int) -> int | None:
    """Index (into ``rows``) of the header row among a block's first rows, or ``None``.

    Args:
        rows: The block's first rows (full sheet rows, 1-based columns at index-1).
        first_col: First column of the run (1-based).
        last_col: Last column of the run.

    Returns:
        The position of the header row in ``rows``, or ``None`` when there is none.
    """
    width = last_col - first_col + 1
    for i, row in enumerate(rows[:HEAD_ROWS]):
        cells = [row[c - 1] if c - 1 < len(row) else None for c in range(first_col, last_col + 1)]
        values = [v for v in cells if filled(v)]
        if not values or i + 1 >= len(rows):
            continue
        texts = [_label(v) for v in values]
        if None in texts or not any(isinstance(v, str) for v in values):
            continue  # headers are labels: text, with dates or years allowed (month or year columns)
        if len({str(t).lower() for t in texts}) != len(texts):
            continue
        if len(values) * 2 < width and width > 1:
            continue
        below = [r for r in rows[i + 1 :] if any(filled(x) for x in r[first_col - 1 : last_col])]
        if below:
            return i
    return None


@dataclass(slots=True)
class TableBlock:
    """A table found in a sheet.

    Attributes:
        first_row: First row of the table (its header row when it has one).
        last_row: Last row.
        first_col: First column (1-based).
        last_col: Last column.
        header_row: The header's row number, or ``None``.
        headers: Header texts by column (letters when the table has no header).
    """

    first_row: int
    last_row: int
    first_col: int
    last_col: int
    header_row: int | None = None
    headers: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        """The table's range, e.g. ``A1:E51``."""
        return (
            f"{get_column_letter(self.first_col)}{self.first_row}:"
            f"{get_column_letter(self.last_col)}{self.last_row}"
        )

    @property
    def data_first_row(self) -> int:
        """The first row of data (below the header)."""
        return (self.header_row + 1) if self.header_row else self.first_row

    @property
    def data_rows(self) -> int:
        """How many rows of data it has."""
        return max(self.last_row - self.data_first_row + 1, 0)

    @property
    def cells(self) -> int:
        """Cells spanned."""
        return (self.last_row - self.first_row + 1) * (self.last_col - self.first_col + 1)


@dataclass(slots=True)
class _Open:
    first_row: int
    last_row: int
    cols: set[int] = field(default_factory=set)
    head: list[tuple[Any, ...]] = field(default_factory=list)


class LayoutScanner:
    """Feed a sheet's rows in order; read :attr:`tables` at the end.

    Attributes:
        tables: Tables found so far (at most 50 are kept; see :attr:`more_tables`).
        more_tables: Tables found beyond the kept ones.
    """

    def __init__(self) -> None:
        self.tables: list[TableBlock] = []
        self.more_tables = 0
        self._open: _Open | None = None

    def feed(self, row_number: int, values: Sequence[Any]) -> list[int]:
        """Take one row; return the 1-based columns that hold data."""
        cols = [i for i, v in enumerate(values, 1) if filled(v)]
        if not cols:
            self._close()
            return cols
        blk = self._open
        if blk is None or row_number != blk.last_row + 1:
            self._close()
            blk = self._open = _Open(row_number, row_number)
        blk.last_row = row_number
        blk.cols.update(cols)
        if len(blk.head) < HEAD_ROWS + 1:
            blk.head.append(tuple(values))
        return cols

    def finish(self) -> list[TableBlock]:
        """Close the last block and return every table."""
        self._close()
        return self.tables

    def _close(self) -> None:
        blk, self._open = self._open, None
        if blk is None:
            return
        for first_col, last_col in _runs(sorted(blk.cols)):
            pos = find_header(blk.head, first_col, last_col)
            header_row = blk.first_row + pos if pos is not None else None
            first_row = header_row or blk.first_row
            if header_row is not None:
                row = blk.head[pos]  # type: ignore[index]
                headers = [
                    header_text(row[c - 1] if c - 1 < len(row) else None, c)
                    for c in range(first_col, last_col + 1)
                ]
            else:
                headers = [get_column_letter(c) for c in range(first_col, last_col + 1)]
            table = TableBlock(first_row, blk.last_row, first_col, last_col, header_row, headers)
            prev = self.tables[-1] if self.tables else None
            if (
                prev is not None
                and header_row is None
                and prev.header_row is not None
                and prev.last_row + 2 == blk.first_row
                and prev.first_col == first_col
                and abs(prev.last_col - last_col) <= 1
                and blk.last_row > blk.first_row
            ):
                # one blank row inside the data, not a new table (a lone row below is a total or a note)
                prev.last_row = blk.last_row
                prev.last_col = max(prev.last_col, last_col)
                continue
            if len(self.tables) < _MAX_TABLES:
                self.tables.append(table)
            else:
                self.more_tables += 1


def _label(value: Any) -> str | None:
    """A header cell as text, or ``None`` when the value does not look like a label."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2100:
        return str(value)
    return None


def header_text(value: Any, col: int) -> str:
    """The name a header cell gives its column (the column letter when the cell is empty)."""
    return (_label(value) or str(value).strip()) if filled(value) else get_column_letter(col)


def _runs(cols: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for c in cols:
        if runs and c == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return runs


def main_table(tables: Sequence[TableBlock]) -> TableBlock | None:
    """The table most skills work on: the largest one with a header, else the largest."""
    with_header = [t for t in tables if t.header_row is not None and t.data_rows > 0]
    pool = with_header or list(tables)
    return max(pool, key=lambda t: t.cells, default=None)

"""``spreadsheet.profile``: what each sheet holds, without a model.

Small workbooks are loaded whole, and formulas the file holds no cached value
for are computed. Large ones are streamed in openpyxl's read-only mode (one
row at a time, bounded memory); there, formulas without cached values are
counted and reported rather than computed.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from openpyxl.utils.cell import get_column_letter

from ._fastcalc import FastCalc, compute_with
from ._layout import HEAD_ROWS, LayoutScanner, filled, find_header, header_text, main_table
from ._models import SheetProfile, TableInfo, WorkbookProfile
from ._refs import is_formula
from ._stats import ColumnStats
from ._workbook import CheckedWorkbook, load

__all__ = ["profile_workbook"]

Progress = Callable[[int, int, str], None]
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")
_PROGRESS_EVERY = 5_000


def profile_workbook(
    checked: CheckedWorkbook, sensitivity: str, progress: Progress, *, stream_above: int
) -> WorkbookProfile:
    """Profile every sheet of a checked workbook.

    Args:
        checked: The checked input.
        sensitivity: The call's sensitivity (reported).
        progress: ``(done, total, message)`` callback.
        stream_above: Stream sheets declaring more cells than this.

    Returns:
        The profile.
    """
    streamed = checked.largest_cells > stream_above
    sheets: list[SheetProfile] = []
    if streamed:
        values = load(checked, data_only=True, read_only=True)
        formula_parts = _sheets_with_formulas(
            checked, [getattr(ws, "_worksheet_path", "") for ws in values.worksheets]
        )
        formulas_wb = load(checked, read_only=True) if formula_parts else None
        try:
            for i, ws in enumerate(values.worksheets):
                fws = formulas_wb.worksheets[i] if formulas_wb is not None and i in formula_parts else None
                rows = _zip_rows(
                    ws.iter_rows(values_only=True), fws.iter_rows(values_only=True) if fws else None
                )
                total = ws.max_row or 0
                sheets.append(_profile_rows(ws.title, rows, total, progress))
        finally:
            values.close()
            if formulas_wb is not None:
                formulas_wb.close()
    else:
        wb, wbv = load(checked), load(checked, data_only=True)
        for ws in wb.worksheets:
            sheets.append(
                _profile_rows(ws.title, _computed_rows(wb, ws, wbv[ws.title]), ws.max_row, progress)
            )
    return WorkbookProfile(path=str(checked.path), sheets=sheets, sensitivity=sensitivity, streamed=streamed)


def _sheets_with_formulas(checked: CheckedWorkbook, parts: list[str]) -> set[int]:
    """Positions of worksheets whose XML holds any ``<f>`` element (read in chunks)."""
    found: set[int] = set()
    with zipfile.ZipFile(checked.path) as zf:
        for i, part in enumerate(parts):
            name = part.lstrip("/")
            if name not in zf.namelist():
                found.add(i)
                continue
            with zf.open(name) as fh:
                tail = b""
                while chunk := fh.read(1 << 20):
                    if _FORMULA_TAG.search(tail + chunk):
                        found.add(i)
                        break
                    tail = chunk[-16:]
    return found


class _Uncached:
    """A formula cell whose file holds no cached value."""

    __slots__ = ()


UNCACHED = _Uncached()


def _zip_rows(
    values: Iterable[tuple[Any, ...]], formulas: Iterable[tuple[Any, ...]] | None
) -> Iterator[tuple[Any, ...]]:
    if formulas is None:
        yield from values
        return
    for vrow, frow in zip(values, formulas, strict=False):
        if any(v is None and is_formula(f) for v, f in zip(vrow, frow, strict=False)):
            yield tuple(
                UNCACHED if v is None and is_formula(f) else v for v, f in zip(vrow, frow, strict=False)
            )
        else:
            yield vrow


def _computed_rows(wb: Any, ws: Any, wsv: Any) -> Iterator[tuple[Any, ...]]:
    missing = [
        (ws.title, c.coordinate)
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f" and wsv[c.coordinate].value is None
    ]
    done = compute_with(FastCalc(wb, wsv.parent), wb, missing) if missing else {}
    fixed = {coord: (r.value if r.ok else r.error) for (_, coord), r in done.items()}
    for row in wsv.iter_rows():
        yield tuple(fixed.get(c.coordinate, c.value) if fixed else c.value for c in row)


def _profile_rows(name: str, rows: Iterable[tuple[Any, ...]], total: int, progress: Progress) -> SheetProfile:
    scanner = LayoutScanner()
    stats: dict[int, ColumnStats] = {}
    pending: list[tuple[int, tuple[Any, ...]]] = []
    header: tuple[int, int, int, list[str]] | None = None  # (row, first col, last col, names)
    decided = False
    data_rows = 0
    uncached = 0
    width = 0
    last = 0
    for n, row in enumerate(rows, 1):
        last = n
        if n % _PROGRESS_EVERY == 0:
            progress(n, max(total, n), f"sheet {name}")
        cols = scanner.feed(n, row)
        if not cols:
            if not decided and len(pending) >= 2:
                decided, header = _decide(pending)
                data_rows, uncached = _flush(pending, header, stats, data_rows, uncached)
            pending = [] if not decided else pending  # a one-row block above the table is a title
            continue
        width = max(width, cols[-1])
        if not decided:
            pending.append((n, row))
            if len(pending) > HEAD_ROWS:
                decided, header = _decide(pending)
                data_rows, uncached = _flush(pending, header, stats, data_rows, uncached)
                pending = []
            continue
        data_rows, uncached = _add_row(n, row, stats, data_rows, uncached)
    if pending:
        decided, header = _decide(pending)
        data_rows, uncached = _flush(pending, header, stats, data_rows, uncached)
    progress(last, max(total, last), f"sheet {name} done")
    tables = scanner.finish()
    main = main_table(tables)
    names = {c: get_column_letter(c) for c in stats}
    if header is not None:
        _, first_col, _, header_names = header
        for i, text in enumerate(header_names):
            names[first_col + i] = text
    return SheetProfile(
        sheet=name,
        rows=last,
        columns=width,
        header_row=main.header_row if main else None,
        tables=[
            TableInfo(ref=t.ref, header_row=t.header_row, data_rows=t.data_rows, headers=t.headers)
            for t in tables
        ],
        more_tables=scanner.more_tables,
        column_profiles=[stats[c].result(get_column_letter(c), names[c]) for c in sorted(stats)],
        formulas_without_values=uncached,
    )


def _decide(
    pending: list[tuple[int, tuple[Any, ...]]],
) -> tuple[bool, tuple[int, int, int, list[str]] | None]:
    rows = [r for _, r in pending]
    cols = sorted({i for r in rows for i, v in enumerate(r, 1) if filled(v)})
    if not cols:
        return True, None
    pos = find_header(rows, cols[0], cols[-1])
    if pos is None:
        return True, None
    hrow = rows[pos]
    names = [header_text(hrow[c - 1] if c - 1 < len(hrow) else None, c) for c in range(cols[0], cols[-1] + 1)]
    return True, (pending[pos][0], cols[0], cols[-1], names)


def _flush(
    pending: list[tuple[int, tuple[Any, ...]]],
    header: tuple[int, int, int, list[str]] | None,
    stats: dict[int, ColumnStats],
    data_rows: int,
    uncached: int,
) -> tuple[int, int]:
    if header is not None:
        _, first_col, last_col, _ = header
        for c in range(first_col, last_col + 1):
            stats.setdefault(c, ColumnStats())
    for n, row in pending:
        if header is not None and n <= header[0]:
            continue
        data_rows, uncached = _add_row(n, row, stats, data_rows, uncached)
    return data_rows, uncached


def _add_row(
    n: int, row: tuple[Any, ...], stats: dict[int, ColumnStats], data_rows: int, uncached: int
) -> tuple[int, int]:
    if not any(filled(v) for v in row):
        return data_rows, uncached
    for c, v in enumerate(row, 1):
        st = stats.get(c)
        if st is None:
            if not filled(v):
                continue
            st = stats[c] = ColumnStats()
            st.missing = data_rows
        if v is UNCACHED:
            uncached += 1
            st.missing += 1
            continue
        st.add(v, n)
    for c, st in stats.items():
        if c > len(row):
            st.missing += 1
    return data_rows + 1, uncached

"""One skill call's view of a workbook: checked, loaded twice (formulas and values), saved safely."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import column_index_from_string

from dualtrack import SkillContext, UserError

from ._fastcalc import FastCalc
from ._layout import filled
from ._table import Table, read_table
from ._workbook import CheckedWorkbook, load, open_checked, output_path, save_workbook

__all__ = ["Session", "load_table", "open_session", "parse_cell"]


def parse_cell(text: str, default_sheet: str) -> tuple[str, str]:
    """Split ``Sheet!B7`` (or ``B7``) into ``(sheet, "B7")``.

    Raises:
        UserError: When it is not a single cell address.
    """
    sheet, sep, coord = text.strip().rpartition("!")
    if sep and sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    coord = coord.replace("$", "").upper()
    letters = coord.rstrip("0123456789")
    digits = coord[len(letters) :]
    if not (letters.isalpha() and digits.isdigit() and 1 <= len(letters) <= 3 and int(digits) >= 1):
        raise UserError(f"{text!r} is not a cell address; use one like 'B7' or 'Sales!B7'")
    if column_index_from_string(letters) > 16384 or int(digits) > 1_048_576:
        raise UserError(f"{text!r} is outside the sheet")
    return (sheet if sep else default_sheet), coord


@dataclass(slots=True)
class Session:
    """A workbook opened for one skill call.

    Attributes:
        checked: The checked input.
        wb: The workbook with formulas (the one edits go to).
        values: The same workbook's cached values.
        tables: Tables read so far, by sheet.
    """

    checked: CheckedWorkbook
    wb: Any
    values: Any
    tables: dict[str, Table] = field(default_factory=dict)
    _calc: FastCalc | None = None

    @property
    def calc(self) -> FastCalc:
        """The fast calculator over this workbook's values (made on first use)."""
        if self._calc is None:
            self._calc = FastCalc(self.wb, self.values)
        return self._calc

    @classmethod
    def open(cls, ctx: SkillContext, path: str, *, max_cells: int) -> Session:
        """Check and load ``path`` (raises :class:`~dualtrack.InputFileError` on bad files)."""
        checked = open_checked(ctx, path, max_cells=max_cells)
        return cls(checked, load(checked), load(checked, data_only=True))

    def table(self, sheet: str | None) -> Table:
        """The main table of ``sheet`` (the active sheet when ``None``)."""
        key = sheet or ""
        if key not in self.tables:
            self.tables[key] = read_table(self.wb, self.values, sheet, self.calc)
        return self.tables[key]

    def sheet_name(self, name: str) -> str:
        """The workbook's spelling of a sheet name.

        Raises:
            UserError: When there is no such sheet.
        """
        for title in self.wb.sheetnames:
            if title.lower() == name.lower():
                return str(title)
        raise UserError(f"the workbook has no sheet {name!r}; it has {', '.join(self.wb.sheetnames)}")

    def free_column(self, table: Table, gap: int = 1) -> int:
        """The first column right of ``table`` (after ``gap`` empty ones) that is empty in its rows."""
        ws = self.wb[table.sheet]
        col = table.block.last_col + 1 + gap
        while col <= 16384:
            if not any(
                filled(ws.cell(r, col).value) for r in range(table.block.first_row, table.block.last_row + 1)
            ):
                return col
            col += 1
        raise UserError(f"sheet {table.sheet!r} has no free column right of its table")

    def new_sheet_name(self, base: str) -> str:
        """A sheet name based on ``base`` that the workbook does not have yet (31 chars max)."""
        clean = "".join(ch for ch in base if ch not in "[]:*?/\\'").strip()[:28] or "Sheet"
        name, n = clean, 2
        taken = {s.lower() for s in self.wb.sheetnames}
        while name.lower() in taken:
            name = f"{clean[:26]} {n}"
            n += 1
        return name

    def plan(self, ctx: SkillContext, output: str | None, in_place: bool) -> Path:
        """Decide (before any work) where the edit goes; refuses lossy in-place edits.

        Args:
            ctx: The running skill's context (holds the output rule and the roots).
            output: The output path (default: ``<name>.edited.xlsx`` next to the input).
            in_place: Edit the input itself.

        Returns:
            The destination.
        """
        return output_path(ctx, self.checked, output, in_place)

    def save(self, dest: Path, in_place: bool) -> list[str]:
        """Write the edited workbook atomically to ``dest``; return warnings about lost parts."""
        return save_workbook(self.wb, self.checked, dest, in_place=in_place)


async def open_session(
    ctx: SkillContext, path: str, max_cells: int, output: str | None, in_place: bool
) -> tuple[Session, Any]:
    """Open and check ``path`` off the event loop, and decide the destination before any work."""
    session = await asyncio.to_thread(Session.open, ctx, path, max_cells=max_cells)
    return session, session.plan(ctx, output, in_place)


async def load_table(session: Session, sheet: str | None) -> Table:
    """Read a sheet's main table off the event loop."""
    return await asyncio.to_thread(session.table, sheet)

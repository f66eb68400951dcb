"""Open, inspect and save workbooks safely.

Every workbook a skill touches goes through :func:`open_checked` first: the
file is checked by ``ctx.input_file`` (which reads its sensitivity label) and
by :func:`dualtrack.inspect_package` (not a zip, truncated, bombs, encrypted),
then each worksheet's declared ``<dimension>`` is checked before openpyxl sees
it. Outputs are written by :func:`save_workbook`: serialised in memory, compared
with the input's parts (what openpyxl dropped), then written atomically.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dualtrack import InputFileError, PackageInfo, SkillContext, UserError, atomic_write, inspect_package

from ._parts import lost_parts, static_risks

__all__ = [
    "MAX_COLS",
    "MAX_ROWS",
    "XLSM_MAIN",
    "XLSX_MAIN",
    "CheckedWorkbook",
    "load",
    "open_checked",
    "output_path",
    "save_workbook",
]

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_BYTES_PER_CELL = 24  # a small numeric cell, <c r="B2"><v>1</v></c>, takes about this much XML
MAX_ROWS = 1_048_576
MAX_COLS = 16_384
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Za-z]{1,3})(\d+)(?::([A-Za-z]{1,3})(\d+))?\"")


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n


@dataclass(slots=True)
class CheckedWorkbook:
    """A workbook that passed the checks.

    Attributes:
        path: The resolved input path.
        package: What the package holds.
        macro: Whether it is macro-enabled (.xlsm content).
        dimensions: Worksheet part -> declared (rows, columns).
        largest_cells: The largest declared rows x columns of any sheet (estimated from
            the XML size for sheets that declare none).
    """

    path: Path
    package: PackageInfo
    macro: bool
    dimensions: dict[str, tuple[int, int]] = field(default_factory=dict)
    largest_cells: int = 0

    def risky_parts(self) -> list[str]:
        """What this workbook holds that an openpyxl save certainly drops."""
        return static_risks(self.path, self.package)


def open_checked(ctx: SkillContext | None, path: str | Path, *, max_cells: int) -> CheckedWorkbook:
    """Check a user's workbook before any parser reads it.

    Args:
        ctx: The skill context (reads the sensitivity label); ``None`` outside skills.
        path: The .xlsx or .xlsm file.
        max_cells: Most cells (declared rows x columns) a sheet may have.

    Returns:
        The checked workbook.

    Raises:
        InputFileError: When the file is missing, not a workbook, hostile or too large.
    """
    p = Path(path).expanduser()
    if p.suffix.lower() == ".xlsb":
        raise InputFileError(str(p), "binary workbooks (.xlsb) are not supported; save it as .xlsx in Excel")
    if ctx is not None:
        p = ctx.input_file(p, suffixes=(".xlsx", ".xlsm"))
    elif p.suffix.lower() not in (".xlsx", ".xlsm") or not p.is_file():
        raise InputFileError(str(p), "expected an existing .xlsx or .xlsm file")
    try:
        info = inspect_package(p, main_types=[XLSX_MAIN, XLSM_MAIN])
    except InputFileError:
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as zf:
                if any(n.endswith(".bin") and n.startswith("xl/workbook") for n in zf.namelist()):
                    raise InputFileError(
                        str(p), "is a binary workbook (.xlsb content); save it as .xlsx in Excel"
                    ) from None
        raise
    checked = CheckedWorkbook(p.resolve(), info, info.main_type == XLSM_MAIN)
    if checked.macro and p.suffix.lower() != ".xlsm":
        raise InputFileError(str(p), "holds macros but is named .xlsx; rename it to .xlsm")
    _check_dimensions(checked, max_cells)
    return checked


def _check_dimensions(checked: CheckedWorkbook, max_cells: int) -> None:
    sheets = [n for n, ct in checked.package.content_types.items() if ct == _SHEET_CT]
    with zipfile.ZipFile(checked.path) as zf:
        for name in sheets:
            try:
                with zf.open(name) as fh:
                    head = fh.read(65536)
            except KeyError:
                raise InputFileError(str(checked.path), f"lists {name} but the part is missing") from None
            m = _DIMENSION.search(head)
            if m is None:
                # No declared size (openpyxl's write-only mode omits it): estimate from the XML size.
                estimate = zf.getinfo(name).file_size // _BYTES_PER_CELL
                if estimate > max_cells:
                    raise InputFileError(
                        str(checked.path),
                        f"sheet part {name} holds about {estimate:,} cells (limit {max_cells:,}); "
                        "trim it or raise the plugin's limit",
                    )
                checked.largest_cells = max(checked.largest_cells, estimate)
                continue
            c1, r1, c2, r2 = m.groups()
            rows = int(r2 or r1)
            cols = _col_number(c2 or c1)
            if rows > MAX_ROWS or cols > MAX_COLS or rows < 1 or cols < 1:
                raise InputFileError(
                    str(checked.path),
                    f"sheet part {name} declares an impossible size ({rows} rows x {cols} columns; "
                    f"Excel allows {MAX_ROWS} x {MAX_COLS}); the file is damaged or hostile",
                )
            cells = rows * cols
            if cells > max_cells:
                raise InputFileError(
                    str(checked.path),
                    f"sheet part {name} declares {rows} rows x {cols} columns ({cells:,} cells, "
                    f"limit {max_cells:,}); trim the used range or raise the plugin's limit",
                )
            checked.dimensions[name] = (rows, cols)
            checked.largest_cells = max(checked.largest_cells, cells)


def load(checked: CheckedWorkbook, *, data_only: bool = False, read_only: bool = False) -> Any:
    """Load a checked workbook with openpyxl (macros kept for .xlsm).

    Args:
        checked: The checked workbook.
        data_only: Read cached values instead of formulas.
        read_only: Stream rows with bounded memory (for reading only).

    Returns:
        The openpyxl workbook.

    Raises:
        InputFileError: When openpyxl cannot read it.
    """
    import openpyxl

    try:
        return openpyxl.load_workbook(
            checked.path,
            data_only=data_only,
            read_only=read_only,
            keep_vba=checked.macro and not read_only,
            keep_links=True,
        )
    except Exception as exc:  # any parser failure means the file cannot be used
        raise InputFileError(
            str(checked.path), f"openpyxl cannot read this workbook ({type(exc).__name__}: {exc})"
        ) from exc


def output_path(ctx: SkillContext, checked: CheckedWorkbook, output: str | None, in_place: bool) -> Path:
    """Decide where an edit goes: :meth:`SkillContext.output_path`, plus the workbook's own rules.

    Args:
        ctx: The running skill's context.
        checked: The input.
        output: The requested output path, if any.
        in_place: Whether the user asked to edit the input itself.

    Returns:
        The destination path.

    Raises:
        OutputPathError: When the output is the input without ``in_place``, or a link.
        UserError: When the request is contradictory or would lose parts in place.
    """
    src = checked.path
    dest = ctx.output_path(src, "edited", output or None, in_place)
    if in_place:
        risky = checked.risky_parts()
        if risky:
            raise UserError(
                f"{src.name}: editing in place would lose {', '.join(risky)} (openpyxl cannot write "
                "them back); pass an output path to write an edited copy instead"
            )
        return dest
    want = ".xlsm" if checked.macro else ".xlsx"
    if dest.suffix.lower() != want:
        raise UserError(
            f"output must end with {want} (the input is {'macro-enabled' if checked.macro else 'xlsx'})"
        )
    return dest


def save_workbook(wb: Any, checked: CheckedWorkbook, dest: Path, *, in_place: bool) -> list[str]:
    """Save ``wb`` atomically to ``dest`` and say what the input held that the output lacks.

    Args:
        wb: The edited openpyxl workbook.
        checked: The input it came from.
        dest: Where to write.
        in_place: Whether ``dest`` is the input (then any loss refuses the write).

    Returns:
        Warnings about parts of the input the output does not carry.

    Raises:
        UserError: When an in-place save would lose parts (nothing is written).
    """
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    lost = lost_parts(checked.path, checked.package, data)
    if lost and in_place:
        raise UserError(
            f"{checked.path.name}: saving in place would lose {'; '.join(lost)}; "
            "nothing was written. Pass an output path to write an edited copy"
        )
    with atomic_write(dest) as fh:
        fh.write(data)
    return [f"the output does not keep {item} from the input" for item in lost]

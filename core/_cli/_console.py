"""Output for the CLI: rich when the ``cli`` extra is installed, plain text otherwise.

Both offer the small surface the CLI uses: ``Console.print(...)``,
``Console.print_json(...)`` and ``Table(title=...)`` with ``add_column``/``add_row``.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, TextIO

__all__ = ["HAS_RICH", "PlainConsole", "PlainTable", "escape", "make_console", "make_table"]

try:
    import rich  # noqa: F401 - only probing for the `cli` extra

    HAS_RICH = True
except ModuleNotFoundError:  # the `cli` extra is not installed: plain text
    HAS_RICH = False

_STYLE = r"(?:bold|dim|italic|red|yellow|green|cyan|blue)"
_MARKUP = re.compile(rf"\[/?(?:{_STYLE}(?: {_STYLE})*)?\]")  # the CLI's own style tags only


class PlainTable:
    """A table printed as aligned plain-text columns.

    Args:
        title: Printed above the table.
    """

    def __init__(self, title: str | None = None) -> None:
        self.title = title
        self.columns: list[str] = []
        self.rows: list[tuple[str, ...]] = []

    def add_column(self, name: str) -> None:
        """Add a column (in order)."""
        self.columns.append(name)

    def add_row(self, *cells: str) -> None:
        """Add a row of cells, one per column."""
        self.rows.append(tuple(str(c) for c in cells))

    def __str__(self) -> str:
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]
        lines = [self.title] if self.title else []
        for cells in (tuple(self.columns), tuple("-" * w for w in widths), *self.rows):
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=False)).rstrip())
        return "\n".join(lines)


class PlainConsole:
    """Prints like ``rich.console.Console`` without colours, tables as plain columns.

    Args:
        stderr: Print to standard error instead of standard output.
    """

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr

    @property
    def file(self) -> TextIO:
        """Where the text goes (looked up on each print, as rich does)."""
        return sys.stderr if self._stderr else sys.stdout

    def print(self, *objects: Any, markup: bool | None = None, end: str = "\n", **_: Any) -> None:
        """Print ``objects`` separated by spaces; rich markup is dropped unless ``markup=False``."""
        text = " ".join(str(o) for o in objects)
        if markup is not False:
            text = _MARKUP.sub("", text)
        self.file.write(text + end)
        self.file.flush()

    def print_json(self, text: str) -> None:
        """Pretty-print a JSON document."""
        self.print(json.dumps(json.loads(text), indent=2, ensure_ascii=False), markup=False)


def escape(text: str) -> str:
    """``text`` safe to print with markup (``[document]`` stays as it is, not a style)."""
    if HAS_RICH:
        from rich.markup import escape as rich_escape

        return rich_escape(text)
    return text


def make_console(*, stderr: bool = False) -> Any:
    """A rich console when the ``cli`` extra is installed, else a :class:`PlainConsole`."""
    if HAS_RICH:
        from rich.console import Console

        return Console(stderr=stderr, highlight=False, soft_wrap=True)
    return PlainConsole(stderr=stderr)


def make_table(title: str, columns: tuple[str, ...]) -> Any:
    """A rich table when the ``cli`` extra is installed, else a :class:`PlainTable`."""
    table: Any
    if HAS_RICH:
        from rich.table import Table

        class _Table(Table):  # cells are text, never markup: `dualtrack[document]` is no style
            def add_row(self, *cells: Any, **kw: Any) -> None:
                super().add_row(*(escape(c) if isinstance(c, str) else c for c in cells), **kw)

        table = _Table(title=title)
    else:
        table = PlainTable(title)
    for col in columns:
        table.add_column(col)
    return table

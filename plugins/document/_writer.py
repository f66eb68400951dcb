"""Writing new content into a document with its own styles.

python-docx appends new paragraphs and tables at the end of the body; the
:class:`Inserter` creates them there and moves them to the chosen place, so a
draft, a table or a summary lands exactly after (or before) a given block.
Styles are looked up by name in the target document (``Heading 2``,
``List Bullet``, ``Table Grid``) and fall back to plain formatting when a
document lacks them, as LibreOffice-made files often do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from ._markdown import MdBlock, inline_runs

__all__ = ["Inserter", "has_style"]


def has_style(document: Document, name: str, kind: WD_STYLE_TYPE = WD_STYLE_TYPE.PARAGRAPH) -> bool:
    """Whether the document defines a style of this name and type."""
    try:
        return bool(document.styles[name].type == kind)
    except KeyError:
        return False


class Inserter:
    """Adds paragraphs and tables at one place, in order.

    Args:
        document: The document to write into.
        anchor: A body element (``w:p`` or ``w:tbl``) to insert after, or before
            when ``before`` is set; ``None`` appends at the end of the body.
        before: Insert before ``anchor`` instead of after it.
    """

    def __init__(
        self, document: Document, anchor: etree._Element | None = None, *, before: bool = False
    ) -> None:
        self.document = document
        self._anchor = anchor
        self._before = before
        self.created: list[etree._Element] = []
        self._numbers: dict[int, int] = {}

    def _place(self, el: etree._Element) -> None:
        if self._anchor is not None:
            if self._before:
                self._anchor.addprevious(el)
            else:
                self._anchor.addnext(el)
                self._anchor = el
        self.created.append(el)

    def paragraph(self, text: str = "", style: str | None = None, *, prefix: str = "") -> Paragraph:
        """Add a paragraph whose ``**bold**``/``*italic*`` markup becomes formatted runs."""
        p = self.document.add_paragraph(style=style if style and has_style(self.document, style) else None)
        if prefix:
            p.add_run(prefix)
        for piece, bold, italic in inline_runs(text):
            run = p.add_run(piece)
            if bold:
                run.bold = True
            if italic:
                run.italic = True
        self._place(p._p)
        return p

    def heading(self, text: str, level: int) -> Paragraph:
        """A heading in ``Heading N`` (or ``Title`` for level 0), else bold text."""
        name = "Title" if level == 0 else f"Heading {min(max(level, 1), 9)}"
        if has_style(self.document, name):
            return self.paragraph(text, name)
        p = self.paragraph("")
        p.add_run(text.replace("**", "")).bold = True
        return p

    def list_item(self, text: str, *, numbered: bool, level: int = 0) -> Paragraph:
        """A bullet or numbered item in ``List Bullet``/``List Number`` (``2``, ``3`` for depth)."""
        base = "List Number" if numbered else "List Bullet"
        depth = min(max(level, 0), 2)
        name = base if depth == 0 else f"{base} {depth + 1}"
        for candidate in (name, base):
            if has_style(self.document, candidate):
                return self.paragraph(text, candidate)
        if numbered:
            self._numbers[depth] = self._numbers.get(depth, 0) + 1
            marker = f"{self._numbers[depth]}. "
        else:
            marker = "\u2022 "
        return self.paragraph(text, "List Paragraph", prefix="    " * depth + marker)

    def table(self, rows: Sequence[Sequence[str]], *, header: bool = True) -> Table:
        """A real Word table (``Table Grid`` style when available), header row in bold."""
        width = max((len(r) for r in rows), default=1)
        table = self.document.add_table(rows=len(rows), cols=width)
        if has_style(self.document, "Table Grid", WD_STYLE_TYPE.TABLE):
            table.style = self.document.styles["Table Grid"]
        for r, row in enumerate(rows):
            for c in range(width):
                cell = table.cell(r, c)
                text = str(row[c]) if c < len(row) else ""
                cell.text = ""
                run = cell.paragraphs[0].add_run(text)
                if header and r == 0:
                    run.bold = True
        self._place(table._tbl)
        return cast(Table, table)

    def markdown(self, blocks: Sequence[MdBlock], *, heading_offset: int = 0) -> int:
        """Write parsed Markdown blocks; returns how many were written.

        Args:
            blocks: From ``parse_markdown``.
            heading_offset: Added to heading levels (to nest a draft under an existing heading).
        """
        for b in blocks:
            if b.kind == "heading":
                self.heading(b.text, b.level + heading_offset)
            elif b.kind in ("bullet", "number"):
                self.list_item(b.text, numbered=b.kind == "number", level=b.level)
            elif b.kind == "table":
                self.table(b.rows)
            else:
                self.paragraph(b.text)
            if b.kind != "number":
                self._numbers.clear()
        return len(blocks)

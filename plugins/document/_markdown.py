"""Light Markdown from model replies: headings, lists, tables, bold and italic.

Models write structure most reliably as Markdown; the writer turns these blocks
into real Word paragraphs, list items and tables in the document's own styles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["MdBlock", "inline_runs", "parse_markdown"]

Kind = Literal["heading", "paragraph", "bullet", "number", "table"]
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+\u2022]\s+(.*)$")
_NUMBER = re.compile(r"^(\s*)\d{1,3}[.)]\s+(.*)$")
_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_INLINE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


@dataclass(slots=True)
class MdBlock:
    """One block of parsed Markdown.

    Attributes:
        kind: ``heading``, ``paragraph``, ``bullet``, ``number`` or ``table``.
        text: Its text (inline Markdown kept; see :func:`inline_runs`).
        level: Heading level (1-6) or list depth (0 = top).
        rows: Table cells, row by row.
    """

    kind: Kind
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)


def parse_markdown(text: str) -> list[MdBlock]:
    """Parse a model's Markdown reply into blocks (unknown syntax stays text)."""
    blocks: list[MdBlock] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(MdBlock("paragraph", " ".join(s.strip() for s in para)))
            para.clear()

    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        if line.strip().startswith("```"):
            flush()
            continue
        if not line.strip():
            flush()
            continue
        if line.lstrip().startswith("|"):
            flush()
            if _RULE.match(line):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if blocks and blocks[-1].kind == "table":
                blocks[-1].rows.append(cells)
            else:
                blocks.append(MdBlock("table", rows=[cells]))
            continue
        if m := _HEADING.match(line):
            flush()
            blocks.append(MdBlock("heading", m.group(2), len(m.group(1))))
        elif m := _BULLET.match(line):
            flush()
            blocks.append(MdBlock("bullet", m.group(2).strip(), len(m.group(1).expandtabs(4)) // 2))
        elif m := _NUMBER.match(line):
            flush()
            blocks.append(MdBlock("number", m.group(2).strip(), len(m.group(1).expandtabs(4)) // 2))
        else:
            para.append(line)
    flush()
    for b in blocks:
        if b.kind == "table":
            width = max(len(r) for r in b.rows)
            b.rows = [r + [""] * (width - len(r)) for r in b.rows]
    return blocks


def inline_runs(text: str) -> list[tuple[str, bool, bool]]:
    """Split ``**bold**`` and ``*italic*`` markup into ``(text, bold, italic)`` pieces."""
    out: list[tuple[str, bool, bool]] = []
    pos = 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], False, False))
        if m.group(1) is not None or m.group(2) is not None:
            out.append((m.group(1) or m.group(2), True, False))
        else:
            out.append((m.group(3), False, True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False, False))
    return [piece for piece in out if piece[0]]

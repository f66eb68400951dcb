"""List markers from the numbering part: bullets, and the numbers Word would show."""

from __future__ import annotations

from docx.document import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from lxml import etree

from ._xml import qn, xpath

__all__ = ["Numbering"]


class Numbering:
    """Resolves a paragraph's list marker, counting numbered items as Word does."""

    def __init__(self, root: etree._Element | None, style_numbering: dict[str, tuple[str, int]]) -> None:
        self._formats: dict[tuple[str, int], str] = {}
        self._style_numbering = style_numbering
        self._counters: dict[str, list[int]] = {}
        if root is None:
            return
        abstract: dict[str, dict[int, str]] = {}
        for an in root.findall(qn("w:abstractNum")):
            levels: dict[int, str] = {}
            for lvl in an.findall(qn("w:lvl")):
                fmt = lvl.find(qn("w:numFmt"))
                levels[int(lvl.get(qn("w:ilvl"), "0"))] = (
                    fmt.get(qn("w:val"), "decimal") if fmt is not None else "decimal"
                )
            abstract[an.get(qn("w:abstractNumId"), "")] = levels
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            levels = abstract.get(ref.get(qn("w:val"), "") if ref is not None else "", {})
            for ilvl, fmt in levels.items():
                self._formats[(num.get(qn("w:numId"), ""), ilvl)] = fmt

    @classmethod
    def of(cls, document: Document) -> Numbering:
        """Read the numbering definitions of a document (without creating any)."""
        root: etree._Element | None = None
        for rel in document.part.rels.values():
            if rel.reltype == RT.NUMBERING and not rel.is_external:
                part = rel.target_part
                root = getattr(part, "element", None)
                if root is None:
                    root = parse_xml(part.blob)
        styles: dict[str, tuple[str, int]] = {}
        for style in document.styles.element.findall(qn("w:style")):
            num_id = xpath(style, "string(w:pPr/w:numPr/w:numId/@w:val)")
            if num_id:
                ilvl = xpath(style, "string(w:pPr/w:numPr/w:ilvl/@w:val)")
                styles[style.get(qn("w:styleId"), "")] = (num_id, int(ilvl) if ilvl.isdigit() else 0)
        return cls(root, styles)

    def marker(self, p: etree._Element, style_id: str) -> tuple[int, str] | None:
        """``(depth, marker)`` for a list paragraph, or ``None`` when it is not one.

        Args:
            p: The ``w:p`` element.
            style_id: Its paragraph style id (styles may carry numbering).
        """
        num_id = xpath(p, "string(w:pPr/w:numPr/w:numId/@w:val)")
        ilvl_s = xpath(p, "string(w:pPr/w:numPr/w:ilvl/@w:val)")
        if not num_id and style_id in self._style_numbering:
            num_id, default_lvl = self._style_numbering[style_id]
            ilvl = int(ilvl_s) if ilvl_s.isdigit() else default_lvl
        elif num_id:
            ilvl = int(ilvl_s) if ilvl_s.isdigit() else 0
        elif style_id.lower().replace(" ", "") in ("listbullet", "listnumber"):
            return (0, "-" if "bullet" in style_id.lower() else "1.")
        else:
            return None
        if num_id == "0":
            return None
        ilvl = min(max(ilvl, 0), 8)
        fmt = self._formats.get((num_id, ilvl))
        if fmt is None and style_id.lower().startswith("listnumber"):
            fmt = "decimal"
        if fmt in (None, "bullet", "none"):
            return (ilvl, "-")
        counts = self._counters.setdefault(num_id, [0] * 9)
        counts[ilvl] += 1
        for deeper in range(ilvl + 1, len(counts)):
            counts[deeper] = 0
        return (ilvl, f"{counts[ilvl]}.")

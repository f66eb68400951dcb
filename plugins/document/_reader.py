"""A faithful, addressable view of a Word document for models and editors.

Every block gets a stable id that answers cite and edits target:

- ``p12``: the 12th paragraph of the body (headings, list items and empty
  paragraphs all count, so ids do not shift when a paragraph is blank);
- ``t2``, ``t2.r3`` and ``t2.r3.c1``: a table, one of its rows, one of its cells;
- ``hdr1.p1`` / ``ftr1.p1``: paragraphs of the first section's header or footer;
- ``fn3`` / ``en1``: footnotes and endnotes; ``c0``: existing review comments.

Headings keep their level, list items their marker (``-`` or ``3.``) and depth,
tables render as ``a | b | c`` grids row by row, and images appear as ``[image]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from docx.document import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from lxml import etree

from ._numbering import Numbering
from ._xml import paragraph_text, qn, xpath

__all__ = ["Block", "DocView", "read_document"]

_HEADING = re.compile(r"^heading\s*(\d)$", re.I)
_ID = re.compile(r"^(p\d+|t\d+(\.r\d+(\.c\d+)?)?|(hdr|ftr)\d+\.p\d+|fn\d+|en\d+|c\d+)$")


@dataclass(slots=True)
class Block:
    """One addressable piece of a document.

    Attributes:
        id: The stable id (``p3``, ``t1.r2`` ...).
        kind: ``title``, ``heading``, ``paragraph``, ``list_item``, ``table_row``,
            ``header``, ``footer``, ``footnote``, ``endnote`` or ``comment``.
        text: The visible text (cells of a row joined by `` | ``).
        level: Heading level (1 for ``Heading 1``; 0 for the title) or list depth.
        marker: A list item's marker (``-`` or ``2.``).
        style: The paragraph style name.
        section: Id of the heading this block sits under, if any.
    """

    id: str
    kind: str
    text: str
    level: int = 0
    marker: str = ""
    style: str = ""
    section: str | None = None

    def render(self) -> str:
        """One line for a model: ``[p3] ## Risks``, ``[p4] - first item`` or ``[p1] (title) Report``."""
        if self.kind == "title":
            body = f"(title) {self.text}"
        elif self.kind == "heading":
            body = "#" * max(1, self.level) + " " + self.text
        elif self.kind == "list_item":
            body = "  " * self.level + f"{self.marker} {self.text}"
        elif self.kind in ("header", "footer", "footnote", "endnote"):
            body = f"({self.kind}) {self.text}"
        else:
            body = self.text
        return f"[{self.id}] {body}"


@dataclass(slots=True)
class DocView:
    """The blocks of a document plus the XML elements behind the editable ones.

    Attributes:
        blocks: Every block in reading order (body first, then headers, notes, comments).
        elements: Block or cell id → the ``w:p`` elements it covers (body paragraphs
            and table cells; headers, notes and comments are read-only).
    """

    blocks: list[Block]
    elements: dict[str, list[etree._Element]] = field(default_factory=dict)
    _index: dict[str, Block] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index = {b.id: b for b in self.blocks}

    def get(self, block_id: str) -> Block | None:
        """The block with this id, if any."""
        return self._index.get(block_id)

    def has(self, block_id: str) -> bool:
        """Whether ``block_id`` names a block, a table or a table cell of this document."""
        return block_id in self._index or block_id in self.elements

    def body(self) -> list[Block]:
        """Body blocks (paragraphs, headings, lists, table rows), without empty paragraphs."""
        return [b for b in self.blocks if b.kind in _BODY_KINDS and b.text.strip()]

    def render(self, blocks: Iterable[Block] | None = None) -> str:
        """The text a model sees, one block a line."""
        return "\n".join(b.render() for b in (self.body() if blocks is None else blocks) if b.text.strip())

    def text_of(self, block_id: str) -> str:
        """The text of a block or table cell (empty when unknown)."""
        block = self._index.get(block_id)
        if block is not None:
            return block.text
        return "\n".join(paragraph_text(p) for p in self.elements.get(block_id, []))

    def valid_ids(self, ids: Iterable[str]) -> list[str]:
        """The ids in ``ids`` (brackets stripped) that exist here, deduplicated, in order."""
        seen: list[str] = []
        for raw in ids:
            i = str(raw).strip().strip("[]").strip()
            if _ID.match(i) and self.has(i) and i not in seen:
                seen.append(i)
        return seen


_BODY_KINDS = frozenset({"title", "heading", "paragraph", "list_item", "table_row"})


def read_document(document: Document) -> DocView:
    """Build the addressable view of a python-docx document."""
    numbering = Numbering.of(document)
    blocks: list[Block] = []
    elements: dict[str, list[etree._Element]] = {}
    styles = {s.style_id: s.name or "" for s in document.styles}
    body = document.element.body
    counters = {"p": 0, "t": 0}
    section: list[str | None] = [None]

    def paragraph(p: etree._Element) -> None:
        counters["p"] += 1
        pid = f"p{counters['p']}"
        elements[pid] = [p]
        blocks.append(_paragraph_block(pid, p, styles, numbering, section))

    for child in _flatten(body):
        if child.tag == qn("w:p"):
            paragraph(child)
        elif child.tag == qn("w:tbl"):
            counters["t"] += 1
            _table(f"t{counters['t']}", child, blocks, elements, section[0])
    for kind, prefix, parts in (("header", "hdr", _headers(document)), ("footer", "ftr", _footers(document))):
        for n, part in enumerate(parts, 1):
            for k, p in enumerate(part.iter(qn("w:p")), 1):
                text = paragraph_text(p).strip()
                if text:
                    blocks.append(Block(f"{prefix}{n}.p{k}", kind, text))
    blocks.extend(_notes(document))
    blocks.extend(_comments(document, body, elements))
    return DocView(blocks, elements)


def _flatten(body: etree._Element) -> Iterable[etree._Element]:
    """Body children in order, looking inside block-level content controls."""
    for child in body:
        if child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _flatten(content)
        else:
            yield child


def _paragraph_block(
    pid: str, p: etree._Element, styles: dict[str, str], numbering: Numbering, section: list[str | None]
) -> Block:
    style_id = xpath(p, "string(w:pPr/w:pStyle/@w:val)")
    style = styles.get(style_id, style_id)
    text = paragraph_text(p)
    images = xpath(p, ".//w:drawing | .//w:pict")
    if images:
        alts = [d for d in xpath(p, ".//wp:docPr/@descr") if d]
        text = (text + " " + " ".join(f"[image: {a}]" for a in alts) if alts else text + " [image]").strip()
    outline = xpath(p, "string(w:pPr/w:outlineLvl/@w:val)")
    m = _HEADING.match(style)
    if style.lower() == "title" and text.strip():
        section[0] = pid
        return Block(pid, "title", text, 0, style=style, section=pid)
    if (m or outline.isdigit()) and text.strip():
        level = int(m.group(1)) if m else int(outline) + 1
        section[0] = pid
        return Block(pid, "heading", text, level, style=style, section=pid)
    marker = numbering.marker(p, style_id)
    if marker is not None:
        depth, sign = marker
        return Block(pid, "list_item", text, depth, sign, style, section[0])
    return Block(pid, "paragraph", text, style=style, section=section[0])


def _table(
    tid: str,
    tbl: etree._Element,
    blocks: list[Block],
    elements: dict[str, list[etree._Element]],
    section: str | None,
) -> None:
    elements[tid] = list(tbl.iter(qn("w:p")))
    for r, tr in enumerate(tbl.findall(qn("w:tr")), 1):
        rid = f"{tid}.r{r}"
        elements[rid] = list(tr.iter(qn("w:p")))
        cells: list[str] = []
        for c, tc in enumerate(tr.findall(qn("w:tc")), 1):
            paras = list(tc.iter(qn("w:p")))
            elements[f"{rid}.c{c}"] = paras
            cells.append(" / ".join(t for t in (paragraph_text(p).strip() for p in paras) if t))
        blocks.append(Block(rid, "table_row", " | ".join(cells), section=section))


def _headers(document: Document) -> list[etree._Element]:
    return _section_parts(document, ("header", "first_page_header"))


def _footers(document: Document) -> list[etree._Element]:
    return _section_parts(document, ("footer", "first_page_footer"))


def _section_parts(document: Document, attrs: tuple[str, ...]) -> list[etree._Element]:
    found: list[etree._Element] = []
    seen: set[int] = set()
    for sec in document.sections:
        for attr in attrs:
            hf = getattr(sec, attr)
            if hf.is_linked_to_previous:
                continue
            el = hf._element  # python-docx exposes no public element accessor for headers
            if id(el) not in seen:
                seen.add(id(el))
                found.append(el)
    return found


def _notes(document: Document) -> list[Block]:
    out: list[Block] = []
    for rel in document.part.rels.values():
        if rel.is_external or rel.reltype not in (RT.FOOTNOTES, RT.ENDNOTES):
            continue
        kind, prefix = ("footnote", "fn") if rel.reltype == RT.FOOTNOTES else ("endnote", "en")
        part = rel.target_part
        root = getattr(part, "element", None)
        if root is None:
            root = parse_xml(part.blob)
        for note in root:
            if note.get(qn("w:type")) in ("separator", "continuationSeparator", "continuationNotice"):
                continue
            text = " ".join(t for t in (paragraph_text(p).strip() for p in note.iter(qn("w:p"))) if t)
            if text:
                out.append(Block(f"{prefix}{note.get(qn('w:id'))}", kind, text))
    return out


def _comments(
    document: Document, body: etree._Element, elements: dict[str, list[etree._Element]]
) -> list[Block]:
    anchors: dict[str, str] = {}
    for pid, paras in elements.items():
        if pid.startswith("p"):
            for start in paras[0].iter(qn("w:commentRangeStart")):
                anchors.setdefault(start.get(qn("w:id")) or "", pid)
    out: list[Block] = []
    if not any(r.reltype == RT.COMMENTS and not r.is_external for r in document.part.rels.values()):
        return out  # reading document.comments would create an empty part
    try:
        comments = list(document.comments)
    except Exception:  # noqa: BLE001 - a broken comments part must not stop reading
        return out
    for c in comments:
        on = anchors.get(str(c.comment_id))
        where = f" on {on}" if on else ""
        out.append(
            Block(f"c{c.comment_id}", "comment", f"(comment by {c.author or 'unknown'}{where}) {c.text}")
        )
    return out

"""WordprocessingML primitives shared by the reader and the editors.

A paragraph's *text runs* are the ``w:r`` elements whose text a reader sees:
runs directly in the paragraph and runs nested in hyperlinks, insertions,
simple fields, smart tags and content controls, but not deleted runs and not
runs of paragraphs nested in text boxes. The text of a run maps ``w:t`` to its
text, ``w:tab`` to a tab and ``w:br``/``w:cr`` to a newline; every editor works
on exactly this text, so offsets found by one are valid in the others.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree

__all__ = [
    "NS",
    "W",
    "XML_SPACE",
    "clone_run_shell",
    "in_hyperlink",
    "is_text_child",
    "new_run",
    "next_annotation_id",
    "paragraph_text",
    "qn",
    "remove_if_empty",
    "run_text",
    "set_run_text",
    "text_runs",
    "xpath",
]

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_T, _TAB, _BR, _CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_NBH, _SH, _DEL_TEXT = qn("w:noBreakHyphen"), qn("w:softHyphen"), qn("w:delText")
_TEXT_TAGS = frozenset({_T, _TAB, _BR, _CR, _NBH, _SH})
_P, _R, _RPR = qn("w:p"), qn("w:r"), qn("w:rPr")
_SKIP_ANCESTORS = frozenset({qn("w:del"), qn("w:moveFrom")})
_HYPERLINK = qn("w:hyperlink")
_SPLIT = re.compile(r"(\t|\n)")


NS = {
    "w": W,
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}


@lru_cache(maxsize=64)
def _compiled(expr: str) -> etree.XPath:
    return etree.XPath(expr, namespaces=NS)


def xpath(el: etree._Element, expr: str) -> Any:
    """Evaluate ``expr`` (prefixes ``w``, ``wp``, ``r``) on any element, python-docx's or not."""
    return _compiled(expr)(el)


def is_text_child(el: etree._Element) -> bool:
    """Whether a run child carries text (as opposed to drawings, fields, marks)."""
    return el.tag in _TEXT_TAGS


def run_text(r: etree._Element) -> str:
    """The text of one run, with tabs and line breaks as tab and newline characters."""
    out: list[str] = []
    for child in r:
        tag = child.tag
        if tag == _T:
            out.append(child.text or "")
        elif tag == _TAB:
            out.append("\t")
        elif tag in (_BR, _CR):
            out.append("\n")
        elif tag == _NBH:
            out.append("-")
    return "".join(out)


def text_runs(p: etree._Element) -> list[etree._Element]:
    """The runs of paragraph ``p`` that carry visible text, in reading order."""
    found: list[etree._Element] = []
    for r in p.iter(_R):
        parent = r.getparent()
        ok = True
        while parent is not None and parent is not p:
            if parent.tag in _SKIP_ANCESTORS or parent.tag == _P:
                ok = False
                break
            parent = parent.getparent()
        if ok and parent is p:
            found.append(r)
    return found


def paragraph_text(p: etree._Element) -> str:
    """The visible text of a paragraph (see :func:`text_runs`)."""
    return "".join(run_text(r) for r in text_runs(p))


def in_hyperlink(r: etree._Element) -> bool:
    """Whether the run sits inside a ``w:hyperlink``."""
    parent = r.getparent()
    while parent is not None and parent.tag != _P:
        if parent.tag == _HYPERLINK:
            return True
        parent = parent.getparent()
    return False


def _text_elements(text: str, *, deleted: bool = False) -> list[etree._Element]:
    out: list[etree._Element] = []
    for piece in _SPLIT.split(text):
        if not piece:
            continue
        if piece == "\t":
            out.append(OxmlElement("w:tab"))
        elif piece == "\n":
            out.append(OxmlElement("w:br"))
        else:
            t = OxmlElement("w:delText" if deleted else "w:t")
            t.text = piece
            t.set(XML_SPACE, "preserve")
            out.append(t)
    return out


def set_run_text(r: etree._Element, text: str, *, deleted: bool = False) -> None:
    """Replace the text of a run, keeping its properties and non-text content in place.

    Args:
        r: The ``w:r`` element.
        text: The new text (tabs and newlines become ``w:tab`` and ``w:br``).
        deleted: Write ``w:delText`` (for runs inside ``w:del``).
    """
    children = list(r)
    texts = [c for c in children if is_text_child(c) or c.tag == _DEL_TEXT]
    if texts:
        index = children.index(texts[0])
    else:
        index = 1 if children and children[0].tag == _RPR else 0
    for child in texts:
        r.remove(child)
    for offset, el in enumerate(_text_elements(text, deleted=deleted)):
        r.insert(index + offset, el)


def clone_run_shell(r: etree._Element) -> etree._Element:
    """A new run with a copy of ``r``'s properties and no content."""
    shell = new_run()
    rpr = r.find(_RPR)
    if rpr is not None:
        shell.append(copy.deepcopy(rpr))
    return shell


def new_run() -> etree._Element:
    """An empty ``w:r``."""
    return OxmlElement("w:r")


def remove_if_empty(elements: Iterable[etree._Element]) -> None:
    """Remove runs that lost all content, then hyperlinks/insertions left without runs."""
    for r in elements:
        parent = r.getparent()
        if parent is None:
            continue
        if all(c.tag == _RPR for c in r):
            parent.remove(r)
            container = parent
            while (
                container is not None
                and container.tag in (_HYPERLINK, qn("w:ins"), qn("w:smartTag"))
                and container.find(".//" + _R) is None
            ):
                up = container.getparent()
                if up is None:
                    break
                up.remove(container)
                container = up


def next_annotation_id(root: etree._Element) -> int:
    """An id above every ``w:id`` used by revisions and comments in ``root``."""
    highest = 0
    for value in xpath(root, "//@w:id"):
        try:
            highest = max(highest, int(value))
        except ValueError:
            continue
    return highest + 1

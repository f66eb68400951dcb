"""Which paragraphs an edit applies to: ids and ranges, a heading's section, or matching text.

Targets come only from the caller's arguments, never from model replies, so a
document cannot redirect an edit to other text or another file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from dualtrack import ArgumentError

from ._reader import Block, DocView
from ._xml import paragraph_text

__all__ = ["Unit", "anchor_for", "find_heading", "resolve_targets"]

_BODY = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}body"
_RANGE = re.compile(r"^p(\d+)\s*(?:-|\.\.|:)\s*p?(\d+)$")


@dataclass(slots=True)
class Unit:
    """One paragraph to edit: an id for reports and its element."""

    id: str
    p: etree._Element


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def find_heading(view: DocView, ref: str) -> Block | None:
    """A heading by id (``p7``) or by text (exact, then contained; case and spacing ignored)."""
    heads = [b for b in view.blocks if b.kind in ("title", "heading")]
    key = _norm(ref)
    for test in (
        lambda b: b.id == ref.strip(),
        lambda b: _norm(b.text) == key,
        lambda b: key in _norm(b.text),
    ):
        for b in heads:
            if test(b):
                return b
    return None


def _section_ids(view: DocView, head: Block) -> list[str]:
    body = [b for b in view.blocks if b.kind in ("title", "heading", "paragraph", "list_item", "table_row")]
    start = next(i for i, b in enumerate(body) if b.id == head.id)
    out: list[str] = []
    for b in body[start + 1 :]:
        if b.kind in ("title", "heading") and b.level <= head.level:
            break
        if b.kind != "table_row":
            out.append(b.id)
        else:
            out.extend(sorted((k for k in view.elements if k.startswith(b.id + ".c")), key=_cell_order))
    return out


def _cell_order(cell_id: str) -> int:
    return int(cell_id.rsplit(".c", 1)[1])


def _expand(view: DocView, ref: str, skill: str) -> list[str]:
    ref = ref.strip().strip("[]")
    m = _RANGE.match(ref)
    if m:
        lo, hi = sorted((int(m.group(1)), int(m.group(2))))
        ids = [f"p{i}" for i in range(lo, hi + 1) if f"p{i}" in view.elements]
        if not ids:
            raise ArgumentError(skill, [("paragraphs", f"range {ref!r} names no paragraph of the document")])
        return ids
    if ref not in view.elements:
        last = sum(1 for k in view.elements if k.startswith("p"))
        raise ArgumentError(
            skill,
            [
                (
                    "paragraphs",
                    f"unknown id {ref!r}; this document has p1..p{last} and table ids like t1.r1.c1",
                )
            ],
        )
    if ref.startswith("t") and ".c" not in ref:  # a whole table or row: every cell in it
        return sorted(
            (k for k in view.elements if k.startswith(ref + ".") and ".c" in k),
            key=lambda k: [int(x[1:]) for x in k.split(".")[1:]],
        )
    return [ref]


def resolve_targets(
    view: DocView,
    skill: str,
    *,
    paragraphs: Sequence[str] | None = None,
    section: str | None = None,
    match: str | None = None,
    include_headings: bool = False,
) -> list[Unit]:
    """The paragraphs to edit, in document order.

    Args:
        view: The document's view.
        skill: The skill's full name, for error messages.
        paragraphs: Ids (``p3``, ``t1.r2.c1``) and ranges (``p3-p7``).
        section: A heading's text or id: every block under it, up to the next heading of the same level.
        match: Paragraphs whose text contains this (found across runs; case and spacing ignored).
        include_headings: Keep headings among the targets (otherwise only body text is edited).

    Returns:
        One unit per non-empty paragraph (a multi-paragraph cell gives several).

    Raises:
        ArgumentError: When an id, range or heading does not exist, or nothing matches.
    """
    chosen: list[str] = []
    for ref in paragraphs or []:
        chosen += _expand(view, ref, skill)
    if section:
        head = find_heading(view, section)
        if head is None:
            titles = [b.text for b in view.blocks if b.kind == "heading"][:8]
            raise ArgumentError(skill, [("section", f"no heading matches {section!r}; headings: {titles}")])
        chosen += _section_ids(view, head)
    if match:
        key = _norm(match)
        chosen += [
            k
            for k, ps in view.elements.items()
            if _is_unit(k) and any(key in _norm(paragraph_text(p)) for p in ps)
        ]
    if not (paragraphs or section or match):
        chosen = [k for k in view.elements if _is_unit(k)]
    order = {k: i for i, k in enumerate(view.elements)}
    units: list[Unit] = []
    for key in sorted(dict.fromkeys(chosen), key=lambda k: order.get(k, 0)):
        block = view.get(key)
        if (
            block is not None
            and block.kind in ("title", "heading")
            and not include_headings
            and not paragraphs
        ):
            continue
        ps = [p for p in view.elements[key] if paragraph_text(p).strip()]
        for n, p in enumerate(ps, 1):
            units.append(Unit(key if len(ps) == 1 else f"{key}.p{n}", p))
    if not units:
        what = f"match {match!r}" if match else f"section {section!r}" if section else "the targets"
        raise ArgumentError(skill, [("targets", f"{what} selects no paragraph with text")])
    return units


def _is_unit(key: str) -> bool:
    return key.startswith("p") or ".c" in key


def _body_child(el: etree._Element) -> etree._Element:
    """The top-level body element (paragraph or table) that contains ``el``."""
    while el.getparent() is not None and el.getparent().tag != _BODY:
        el = el.getparent()
    return el


def anchor_for(view: DocView, after: str | None, skill: str) -> etree._Element | None:
    """The body element new content goes after: a block id, the end of a heading's section, or the end.

    Args:
        view: The document's view.
        after: A block id (``p4``, ``t1``), a heading's text (content goes at the end of its
            section), or ``None``/``"end"`` for the end of the document.
        skill: The skill's full name, for error messages.

    Raises:
        ArgumentError: When ``after`` names nothing in the document.
    """
    if not after or after.strip().lower() == "end":
        return None
    ref = after.strip().strip("[]")
    if view.elements.get(ref):
        return _body_child(view.elements[ref][-1])
    head = find_heading(view, ref)
    if head is None:
        raise ArgumentError(skill, [("after", f"no block id or heading {after!r} in the document")])
    last = head.id
    for key in _section_ids(view, head):
        last = key
    return _body_child(view.elements[last][-1])

"""Tracked changes (``w:ins``/``w:del``) built on python-docx's XML layer.

python-docx has no API for revisions, so this module writes them the way Word
does: deleted text moves into ``w:del`` elements holding runs with
``w:delText``, inserted text goes into ``w:ins`` elements, each mark carrying a
unique ``w:id``, the author and an ISO-8601 date. Every piece is a copy of the
original run's properties, so accepted suggestions keep the formatting and
rejected ones restore the original exactly. Word and LibreOffice both show
these as suggestions to accept or reject.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from docx.document import Document
from docx.oxml import OxmlElement
from lxml import etree

from ._runs import EditPlan, RunEdit
from ._xml import clone_run_shell, is_text_child, next_annotation_id, qn, set_run_text, xpath

__all__ = ["Revision", "RevisionStamp", "apply_tracked", "list_revisions"]

_RPR = qn("w:rPr")
_INS, _DEL = qn("w:ins"), qn("w:del")


@dataclass(slots=True)
class RevisionStamp:
    """Issues revision marks for one editing session: one author, one date, fresh ids.

    Attributes:
        author: Shown by Word/LibreOffice as the suggestion's author.
        date: ISO-8601 UTC timestamp (``2025-01-31T12:00:00Z``).
        next_id: The next free ``w:id``.
    """

    author: str
    date: str
    next_id: int

    @classmethod
    def for_document(cls, document: Document, author: str, when: dt.datetime | None = None) -> RevisionStamp:
        """A stamp whose ids do not collide with any annotation already in the document."""
        moment = (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
        date = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        return cls(author or "dualtrack", date, next_annotation_id(document.element))

    def mark(self, tag: str) -> etree._Element:
        """A new ``w:ins`` or ``w:del`` element with id, author and date."""
        el = OxmlElement(tag)
        el.set(qn("w:id"), str(self.next_id))
        el.set(qn("w:author"), self.author)
        el.set(qn("w:date"), self.date)
        self.next_id += 1
        return el


def apply_tracked(plan: EditPlan, stamp: RevisionStamp) -> int:
    """Write a plan as tracked changes instead of changing the text directly.

    Args:
        plan: The run-level plan from ``plan_edit``.
        stamp: Author, date and ids for the marks.

    Returns:
        The number of revision marks written.
    """
    marks = 0
    for edit in plan.runs:
        if not edit.attached:
            ins = stamp.mark("w:ins")
            set_run_text(edit.run, edit.new_text)
            ins.append(edit.run)
            plan.paragraph.append(ins)
            marks += 1
        elif edit.changed:
            marks += _track_run(edit, stamp)
    return marks


def _track_run(edit: RunEdit, stamp: RevisionStamp) -> int:
    run = edit.run
    inside_ins = run.getparent() is not None and run.getparent().tag == _INS
    pieces: list[etree._Element] = []
    extras = [c for c in run if c.tag != _RPR and not is_text_child(c)]
    if extras:  # drawings, field characters, note references: keep them, untouched, first
        holder = clone_run_shell(run)
        for child in extras:
            holder.append(child)
        pieces.append(holder)
    marks = 0
    for seg in edit.segments:
        piece = clone_run_shell(run)
        set_run_text(piece, seg.text, deleted=seg.kind == "delete")
        if seg.kind == "keep" or (seg.kind == "insert" and inside_ins):
            pieces.append(piece)
            continue
        wrapper = stamp.mark("w:del" if seg.kind == "delete" else "w:ins")
        wrapper.append(piece)
        pieces.append(wrapper)
        marks += 1
    for piece in pieces:
        run.addprevious(piece)
    parent = run.getparent()
    if parent is not None:
        parent.remove(run)
    return marks


@dataclass(slots=True)
class Revision:
    """A tracked change found in a document.

    Attributes:
        kind: ``insert`` or ``delete``.
        author: Its author.
        date: Its date attribute.
        text: The inserted or deleted text.
    """

    kind: str
    author: str
    date: str
    text: str = field(default="")


def list_revisions(root: etree._Element) -> list[Revision]:
    """Every ``w:ins``/``w:del`` under ``root`` (a document element or a body), in order."""
    out: list[Revision] = []
    for el in root.iter(_INS, _DEL):
        if el.getparent() is not None and el.getparent().tag == _RPR:
            continue  # paragraph-mark revisions carry no text
        expr = ".//w:delText/text()" if el.tag == _DEL else ".//w:t/text()"
        out.append(
            Revision(
                "delete" if el.tag == _DEL else "insert",
                el.get(qn("w:author"), ""),
                el.get(qn("w:date"), ""),
                "".join(xpath(el, expr)),
            )
        )
    return out

"""Run-level editing: change a paragraph's text while keeping its formatting.

A paragraph's text is spread over runs that each carry formatting (bold,
italic, a character style) and may sit inside hyperlinks. :func:`plan_edit`
diffs the old text against the new one word by word and assigns every
character of the result to a run:

- words that survive stay in the run (and so the formatting) they came from,
  even when a word was split across several runs;
- a replaced word takes the formatting of the word it replaces;
- an inserted word takes the formatting of its neighbour on the side it is
  attached to, avoiding hyperlinks so new words do not become link text.

The plan is applied either directly (:func:`apply_plan`) or as tracked
changes (``_revisions.apply_tracked``), so both editors agree on every run.
"""

from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from ._xml import (
    clone_run_shell,
    in_hyperlink,
    new_run,
    qn,
    remove_if_empty,
    run_text,
    set_run_text,
    text_runs,
)

__all__ = ["EditPlan", "RunEdit", "Segment", "apply_plan", "find_text", "isolate", "plan_edit", "tokenize"]

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
Kind = Literal["keep", "delete", "insert"]


def tokenize(text: str) -> list[tuple[int, int]]:
    """Spans of words, runs of whitespace and single punctuation marks."""
    return [m.span() for m in _TOKEN.finditer(text)]


@dataclass(slots=True)
class Segment:
    """A piece of one run's text in an edit: kept, deleted or inserted."""

    kind: Kind
    text: str


@dataclass(slots=True)
class RunEdit:
    """What happens to one run: its segments in order.

    Attributes:
        run: The ``w:r`` element (a new, detached run when the paragraph had none).
        segments: Its pieces in reading order.
        attached: Whether ``run`` is already in the document.
    """

    run: etree._Element
    segments: list[Segment] = field(default_factory=list)
    attached: bool = True

    def add(self, kind: Kind, text: str) -> None:
        """Append text, merging with the previous segment of the same kind."""
        if not text:
            return
        if self.segments and self.segments[-1].kind == kind:
            self.segments[-1].text += text
        else:
            self.segments.append(Segment(kind, text))

    @property
    def new_text(self) -> str:
        """The run's text after the edit."""
        return "".join(s.text for s in self.segments if s.kind != "delete")

    @property
    def changed(self) -> bool:
        """Whether anything was deleted or inserted in this run."""
        return any(s.kind != "keep" for s in self.segments)


@dataclass(slots=True)
class EditPlan:
    """The run-by-run changes turning a paragraph's text into ``new_text``."""

    paragraph: etree._Element
    old_text: str
    new_text: str
    runs: list[RunEdit]

    @property
    def changed(self) -> bool:
        """Whether the edit changes anything."""
        return self.old_text != self.new_text


def plan_edit(p: etree._Element, new_text: str) -> EditPlan:
    """Plan the edit of paragraph ``p`` to read ``new_text``.

    Args:
        p: The ``w:p`` element.
        new_text: The text the paragraph should have.

    Returns:
        The plan; nothing is changed yet.
    """
    runs = text_runs(p)
    edits = [RunEdit(r) for r in runs]
    owner: list[int] = []
    for i, r in enumerate(runs):
        owner.extend([i] * len(run_text(r)))
    old = "".join(run_text(r) for r in runs)
    if not runs:
        shell = new_run()
        mark = p.find(f"{qn('w:pPr')}/{qn('w:rPr')}")  # the paragraph mark's formatting
        if mark is not None:
            rpr = copy.deepcopy(mark)
            for change in rpr.findall("*"):
                if change.tag in (
                    qn("w:ins"),
                    qn("w:del"),
                    qn("w:moveFrom"),
                    qn("w:moveTo"),
                    qn("w:rPrChange"),
                ):
                    rpr.remove(change)
            shell.append(rpr)
        edit = RunEdit(shell, attached=False)
        edit.add("insert", new_text)
        return EditPlan(p, old, new_text, [edit] if new_text else [])
    old_spans, new_spans = tokenize(old), tokenize(new_text)
    old_toks = [old[a:b] for a, b in old_spans]
    new_toks = [new_text[a:b] for a, b in new_spans]
    matcher = difflib.SequenceMatcher(None, old_toks, new_toks, autojunk=False)

    def chars(kind: Kind, span: tuple[int, int]) -> None:
        for c in range(*span):
            edits[owner[c]].add(kind, old[c])

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "delete"):
            for span in old_spans[i1:i2]:
                chars("keep" if tag == "equal" else "delete", span)
        elif tag == "insert":
            pos = old_spans[i1][0] if i1 < len(old_spans) else len(old)
            text = "".join(new_toks[j1:j2])
            edits[_insert_owner(runs, owner, pos, text)].add("insert", text)
        else:  # replace: spread the new tokens over the replaced ones, in order
            n_old, n_new = i2 - i1, j2 - j1
            for k in range(n_old):
                span = old_spans[i1 + k]
                chars("delete", span)
                mine = [new_toks[j1 + j] for j in range(n_new) if j * n_old // n_new == k]
                edits[owner[span[0]]].add("insert", "".join(mine))
    return EditPlan(p, old, new_text, edits)


def _insert_owner(runs: list[etree._Element], owner: list[int], pos: int, text: str) -> int:
    """The run that receives text inserted at ``pos`` of the old text."""
    before = owner[pos - 1] if pos > 0 else None
    after = owner[pos] if pos < len(owner) else None
    first, second = (after, before) if text[:1].isspace() else (before, after)
    if first is None:
        first, second = second, None
    assert first is not None
    if second is not None and in_hyperlink(runs[first]) and not in_hyperlink(runs[second]):
        return second
    return first


def apply_plan(plan: EditPlan) -> None:
    """Apply a plan directly (no tracked changes): every run gets its new text."""
    emptied: list[etree._Element] = []
    for edit in plan.runs:
        if not edit.attached:
            set_run_text(edit.run, edit.new_text)
            plan.paragraph.append(edit.run)
            continue
        if edit.changed:
            set_run_text(edit.run, edit.new_text)
            if not edit.new_text:
                emptied.append(edit.run)
    remove_if_empty(emptied)


def find_text(p: etree._Element, needle: str, *, start: int = 0) -> tuple[int, int] | None:
    """Find ``needle`` in a paragraph's text, across run boundaries.

    Tries an exact match, then a case-insensitive one, then one that ignores
    differences in whitespace.

    Returns:
        The ``(start, end)`` character offsets, or ``None``.
    """
    text = "".join(run_text(r) for r in text_runs(p))
    if not needle.strip():
        return None
    i = text.find(needle, start)
    if i < 0:
        i = text.lower().find(needle.lower(), start)
    if i >= 0:
        return i, i + len(needle)
    pattern = r"\s+".join(re.escape(w) for w in needle.split())
    m = re.compile(pattern, re.I).search(text, start)
    return m.span() if m else None


def isolate(p: etree._Element, start: int, end: int) -> list[etree._Element]:
    """Split runs so that characters ``start:end`` are exactly whole runs; return them."""
    runs = text_runs(p)
    out: list[etree._Element] = []
    pos = 0
    for r in runs:
        text = run_text(r)
        a, b = pos, pos + len(text)
        pos = b
        if b <= start or a >= end or not text:
            continue
        lo, hi = max(start, a) - a, min(end, b) - a
        if hi < len(text):
            tail = clone_run_shell(r)
            set_run_text(tail, text[hi:])
            r.addnext(tail)
            set_run_text(r, text[:hi])
            text = text[:hi]
        if lo > 0:
            head = clone_run_shell(r)
            set_run_text(head, text[:lo])
            r.addprevious(head)
            set_run_text(r, text[lo:])
        out.append(r)
    return out

"""Review comments anchored to the exact runs they discuss (python-docx 1.2 comments API).

A comment targets a block id and, optionally, a quote from it. The quote is
found across run boundaries (exactly, then ignoring case, then ignoring
whitespace), the runs are split so the quote is a whole number of runs, and
``Document.add_comment`` anchors the comment to the first and last of them.
Without a quote, or when the quote is not in the block, the comment covers the
block's whole text and the result says it was not anchored to the quote.
"""

from __future__ import annotations

from dataclasses import dataclass

from docx.document import Document
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from ._reader import DocView
from ._runs import find_text, isolate
from ._xml import paragraph_text, text_runs

__all__ = ["Placed", "add_review_comment"]


@dataclass(slots=True)
class Placed:
    """Where a comment went.

    Attributes:
        block_id: The block it was attached to.
        anchored_text: The text its range covers.
        exact: Whether the requested quote was found and anchored exactly.
    """

    block_id: str
    anchored_text: str
    exact: bool


def add_review_comment(
    document: Document,
    view: DocView,
    block_id: str,
    text: str,
    *,
    quote: str | None,
    author: str,
    initials: str,
) -> Placed | None:
    """Attach one comment.

    Args:
        document: The document being reviewed (edited in memory).
        view: Its view, read before any edit.
        block_id: A paragraph or table cell id from the view.
        text: The comment.
        quote: Words of the block to anchor to; ``None`` anchors the whole block.
        author: Comment author.
        initials: Author initials.

    Returns:
        Where it was placed, or ``None`` when the block has no text to anchor to.
    """
    paragraphs = [p for p in view.elements.get(block_id, []) if paragraph_text(p).strip()]
    if not paragraphs:
        return None
    if quote:
        for p in paragraphs:
            span = find_text(p, quote)
            if span is not None:
                runs = isolate(p, *span)
                if runs:
                    _comment(document, p, runs, text, author, initials)
                    return Placed(block_id, paragraph_text(p)[span[0] : span[1]], True)
    first, last = paragraphs[0], paragraphs[-1]
    first_runs, last_runs = text_runs(first), text_runs(last)
    runs = [first_runs[0], last_runs[-1]]
    _comment(document, first, runs, text, author, initials, last_paragraph=last)
    covered = " ".join(paragraph_text(p) for p in paragraphs)
    return Placed(block_id, covered, False)


def _comment(
    document: Document,
    p: etree._Element,
    runs: list[etree._Element],
    text: str,
    author: str,
    initials: str,
    *,
    last_paragraph: etree._Element | None = None,
) -> None:
    parent = Paragraph(p, document)  # the parent only has to provide `.part`
    first = Run(runs[0], parent)
    last_parent = Paragraph(last_paragraph, document) if last_paragraph is not None else parent
    last = Run(runs[-1], last_parent)
    document.add_comment([first, last], text=text, author=author, initials=initials)

"""``DocumentPlugin``: the .docx skills, written against dualtrack's public API only."""

from __future__ import annotations

from dualtrack import plugin

from ._skills_edit import EditingSkills
from ._skills_read import ReadingSkills

__all__ = ["DocumentPlugin"]


@plugin("document", description="Read, summarize, question, edit, review and compare Word (.docx) documents.")
class DocumentPlugin(ReadingSkills, EditingSkills):
    """Word documents: summaries, answers with citations, edits that keep formatting, review.

    Every skill opens its input through the context (so sensitivity labels govern
    routing), refuses hostile files with ``InputFileError``, never modifies the input
    unless ``in_place`` is set, and writes outputs atomically next to the input by default.

    Args:
        concurrency: Most model calls one skill call keeps in flight at once.
    """

    def __init__(self, concurrency: int = 4) -> None:
        self.concurrency = concurrency

"""The document plugin: Word (.docx) skills for dualtrack.

Registered under the ``dualtrack.plugins`` entry point as ``document``::

    from dualtrack import Orchestrator

    orc = Orchestrator.from_config()
    result = orc.invoke_sync("document.summarize", path="report.docx")
    print(result.value.summary)
"""

from __future__ import annotations

from ._models import (
    ActionItem,
    Answer,
    BlockChange,
    Citation,
    CompareResult,
    DateMention,
    Decision,
    DraftResult,
    EditResult,
    ExtractResult,
    ParagraphChange,
    Person,
    ReviewNote,
    ReviewResult,
    SummaryResult,
    TableResult,
)
from ._plugin import DocumentPlugin
from ._reader import Block, DocView, read_document
from ._revisions import Revision, list_revisions

__all__ = [
    "ActionItem",
    "Answer",
    "Block",
    "BlockChange",
    "Citation",
    "CompareResult",
    "DateMention",
    "Decision",
    "DocView",
    "DocumentPlugin",
    "DraftResult",
    "EditResult",
    "ExtractResult",
    "ParagraphChange",
    "Person",
    "ReviewNote",
    "ReviewResult",
    "Revision",
    "SummaryResult",
    "TableResult",
    "list_revisions",
    "read_document",
]

"""What the document skills return, and the shapes they ask models for."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "ActionItem",
    "ActionItems",
    "Answer",
    "AnswerReply",
    "BlockChange",
    "Citation",
    "CompareResult",
    "DateMention",
    "DateMentions",
    "Decision",
    "Decisions",
    "DraftResult",
    "EditResult",
    "ExtractResult",
    "ParagraphChange",
    "People",
    "Person",
    "RejectedRewrite",
    "ReviewItem",
    "ReviewNote",
    "ReviewReply",
    "ReviewResult",
    "SummaryResult",
    "TableReply",
    "TableResult",
]

# Reply shapes bound every string and list: a grammar-constrained small model then always
# closes its JSON within the reply budget instead of looping inside one string.
# (llama.cpp refuses grammars for strings much beyond 600 characters, so limits stay modest.)
BlockId = Annotated[str, Field(max_length=24)]
Text = Annotated[str, Field(max_length=200)]
Name = Annotated[str, Field(max_length=60)]
When = Annotated[str, Field(max_length=40)]
_SOURCE: Any = Field(
    default_factory=list, max_length=4, description="Ids of the blocks this comes from, e.g. ['p4']"
)


class DocumentResult(BaseModel):
    """What every skill of this plugin returns besides its own fields."""

    notes: list[str] = Field(
        default_factory=list,
        description="How the inputs were read, e.g. a Strict Open XML file converted to Transitional on load",
    )


class Citation(BaseModel):
    """A block an answer relied on: its id and its text."""

    id: str
    text: str


class SummaryResult(DocumentResult):
    """A summary, the blocks it cites, and the .docx it was written to (if any)."""

    summary: str
    bullets: list[str] = Field(default_factory=list)
    cited: list[str] = Field(default_factory=list)
    chunks: int = 1
    fallback_parts: int = Field(
        default=0, description="Parts summarized extractively because no model gave a usable summary"
    )
    steps: int = Field(default=0, description="Model steps (one per part, plus the steps combining parts)")
    fallback_steps: list[str] = Field(
        default_factory=list,
        description="The steps whose text is quoted from the document, e.g. \"part 2 of 5 ('Risks')\"",
    )
    output: str | None = None


class AnswerReply(BaseModel):
    """The JSON a model answers a question with."""

    answer: str = Field(max_length=600)
    citations: list[BlockId] = Field(
        default_factory=list, max_length=12, description="Block ids relied on, e.g. ['p3']"
    )
    found: bool = Field(description="False when the document does not contain the answer")


class Answer(DocumentResult):
    """An answer grounded in the document, or a clear statement that it is not there."""

    answer: str
    found: bool
    citations: list[Citation] = Field(default_factory=list)
    unverified: list[str] = Field(default_factory=list, description="Cited ids the document does not have")


class ParagraphChange(BaseModel):
    """One paragraph's text before and after an edit."""

    id: str
    before: str
    after: str


class RejectedRewrite(BaseModel):
    """A paragraph kept as it was because no model's rewrite passed the checks."""

    id: str
    reason: str = Field(description="What the checks found, model by model")


class EditResult(DocumentResult):
    """The output of ``rewrite`` or ``suggest_edits``."""

    output: str
    changed: list[ParagraphChange] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    rejected: list[RejectedRewrite] = Field(
        default_factory=list, description="Paragraphs kept unchanged because every rewrite failed a check"
    )
    revisions: int = 0


class ReviewItem(BaseModel):
    """One comment a model proposes."""

    id: BlockId
    quote: Annotated[str, Field(max_length=120)] | None = None
    comment: Annotated[str, Field(max_length=300)]


class ReviewReply(BaseModel):
    """The JSON a model reviews with."""

    comments: list[ReviewItem] = Field(default_factory=list, max_length=5)


class ReviewNote(BaseModel):
    """A comment written into the document."""

    id: str
    comment: str
    quote: str | None = None
    anchored_text: str
    exact: bool


class ReviewResult(DocumentResult):
    """The output of ``review``."""

    output: str
    comments: list[ReviewNote] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)


class DraftResult(DocumentResult):
    """The output of ``draft``: where the content went and what it was."""

    output: str
    blocks: int
    text: str
    position: str


class ActionItem(BaseModel):
    """A task someone has to do."""

    task: Text
    owner: Name | None = None
    due: When | None = None
    source: list[BlockId] = _SOURCE


class Decision(BaseModel):
    """A decision the document records."""

    decision: Text
    made_by: Name | None = None
    date: When | None = None
    source: list[BlockId] = _SOURCE


class DateMention(BaseModel):
    """A date or deadline and what happens then."""

    date: When
    event: Text
    source: list[BlockId] = _SOURCE


class Person(BaseModel):
    """A person named in the document."""

    name: Name
    role: Name | None = None
    source: list[BlockId] = _SOURCE


class ActionItems(BaseModel):
    """Action items found."""

    items: list[ActionItem] = Field(default_factory=list, max_length=6)


class Decisions(BaseModel):
    """Decisions found."""

    items: list[Decision] = Field(default_factory=list, max_length=6)


class DateMentions(BaseModel):
    """Dates found."""

    items: list[DateMention] = Field(default_factory=list, max_length=6)


class People(BaseModel):
    """People found."""

    items: list[Person] = Field(default_factory=list, max_length=6)


class ExtractResult(DocumentResult):
    """Validated extracted data, and the .docx a table of it was written to (if any)."""

    kind: str
    data: Any
    output: str | None = None


class BlockChange(BaseModel):
    """One difference between two versions, by block."""

    op: Literal["added", "removed", "changed"]
    old_id: str | None = None
    new_id: str | None = None
    old_text: str | None = None
    new_text: str | None = None


class CompareResult(DocumentResult):
    """A paragraph-level diff plus a model's summary of it."""

    changes: list[BlockChange] = Field(default_factory=list)
    added: int = 0
    removed: int = 0
    changed: int = 0
    summary: str | None = None


class TableReply(BaseModel):
    """The JSON a model structures a list with."""

    columns: list[Name] = Field(max_length=8)
    rows: list[Annotated[list[Text], Field(max_length=8)]] = Field(max_length=60)


class TableResult(DocumentResult):
    """The output of ``to_table``."""

    output: str
    columns: list[str]
    rows: int
    replaced: list[str]
    used_model: bool

"""The reading skills: ``summarize``, ``ask``, ``extract`` and ``compare``."""

from __future__ import annotations

from typing import Any, Literal

from dualtrack import InputPath, SkillContext, skill, tags

from ._ask import run_ask
from ._compare import run_compare
from ._extract import run_extract
from ._models import Answer, CompareResult, ExtractResult, SummaryResult
from ._package import with_notes
from ._summarize import run_summarize

__all__ = ["ReadingSkills"]


class ReadingSkills:
    """Skills that read a document and answer with data (some may also write a copy)."""

    concurrency: int = 4

    @skill(requires=[tags.SUMMARIZE], prefers=[tags.LONG_CONTEXT], effects="write")
    async def summarize(
        self,
        ctx: SkillContext,
        path: str,
        style: Literal["executive", "bullets"] = "executive",
        max_words: int | None = None,
        save: bool = False,
        output: str | None = None,
        chunk_tokens: int | None = None,
    ) -> SummaryResult:
        """Summarize a .docx; long documents are summarized section by section, then combined.

        Args:
            ctx: The call's context (injected by the orchestrator).
            path: The .docx to summarize.
            style: "executive" for a short paragraph, "bullets" for key points.
            max_words: Upper bound on the summary's length in words.
            save: Also write the summary as a styled .docx (default name report.summary.docx).
            output: Where to write the summary .docx (implies save).
            chunk_tokens: Document tokens per model call; raise it for large-window models.
        """
        return with_notes(
            ctx,
            await run_summarize(
                ctx,
                path,
                style=style,
                max_words=max_words,
                save=save,
                output=output,
                chunk_tokens=chunk_tokens,
                concurrency=self.concurrency,
            ),
        )

    @skill(requires=[tags.CHAT], prefers=[tags.REASONING, tags.LONG_CONTEXT])
    async def ask(
        self, ctx: SkillContext, path: str, question: str, chunk_tokens: int | None = None
    ) -> Answer:
        """Answer a question about a .docx, citing the blocks used, or say it is not there.

        Args:
            ctx: The call's context (injected by the orchestrator).
            path: The .docx to read.
            question: The question to answer from the document alone.
            chunk_tokens: Document tokens per model call; raise it for large-window models.
        """
        return with_notes(
            ctx, await run_ask(ctx, path, question, chunk_tokens=chunk_tokens, concurrency=self.concurrency)
        )

    @skill(requires=[tags.EXTRACT], prefers=[tags.REASONING, tags.LONG_CONTEXT], effects="write")
    async def extract(
        self,
        ctx: SkillContext,
        path: str,
        kind: Literal["action_items", "decisions", "dates", "people", "custom"] = "action_items",
        json_schema: dict[str, Any] | None = None,
        insert_table: bool = False,
        after: str | None = None,
        output: str | None = None,
        chunk_tokens: int | None = None,
    ) -> ExtractResult:
        """Extract action items, decisions, dates, people or any JSON Schema as validated JSON.

        Args:
            ctx: The call's context (injected by the orchestrator).
            path: The .docx to read.
            kind: What to extract; "custom" uses json_schema.
            json_schema: A JSON Schema object for kind "custom".
            insert_table: Also write the result as a table into a copy of the document.
            after: Where the table goes: a block id, a heading, or the end (default).
            output: Where to write the copy with the table (default report.extracted.docx).
            chunk_tokens: Document tokens per model call; raise it for large-window models.
        """
        return with_notes(
            ctx,
            await run_extract(
                ctx,
                path,
                kind,
                schema=json_schema,
                insert_table=insert_table,
                after=after,
                output=output,
                chunk_tokens=chunk_tokens,
                concurrency=self.concurrency,
            ),
        )

    @skill(requires=[tags.SUMMARIZE], prefers=[tags.REASONING])
    async def compare(
        self, ctx: SkillContext, path: InputPath, other: InputPath, summarize: bool = True
    ) -> CompareResult:
        """Show what changed between two versions: a paragraph-level diff plus a summary.

        Args:
            ctx: The call's context (injected by the orchestrator).
            path: The older version.
            other: The newer version.
            summarize: Ask a model to summarize the differences (False gives the diff alone).
        """
        return with_notes(ctx, await run_compare(ctx, path, other, summarize=summarize, chunk_tokens=None))

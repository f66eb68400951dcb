"""The editing skills: ``rewrite``, ``suggest_edits``, ``draft``, ``review`` and ``to_table``."""

from __future__ import annotations

from dualtrack import SkillContext, skill, tags

from ._compose import run_draft, run_to_table
from ._edit import run_edit
from ._models import DraftResult, EditResult, ReviewResult, TableResult
from ._package import with_notes
from ._review import run_review

__all__ = ["EditingSkills"]


class EditingSkills:
    """Skills that write an edited copy of a document (or the document itself, when asked)."""

    concurrency: int = 4

    @skill(requires=[tags.REWRITE], effects="write")
    async def rewrite(
        self,
        ctx: SkillContext,
        path: str,
        instruction: str,
        paragraphs: list[str] | None = None,
        section: str | None = None,
        match: str | None = None,
        output: str | None = None,
        in_place: bool = False,
    ) -> EditResult:
        """Rewrite paragraphs by an instruction, keeping bold, italic, links and styles of kept words.

        Args:
            ctx: The call's context (injected by the orchestrator).
            path: The .docx to edit.
            instruction: How to rewrite (e.g. "more formal", "shorter", "translate to French").
            paragraphs: Paragraph ids or ranges to rewrite (e.g. ["p3", "p7-p9", "t1.r2.c1"]).
            section: A heading (text or id) whose section is rewritten.
            match: Rewrite the paragraphs containing this text.
            output: Where to write the result (default report.edited.docx next to the input).
            in_place: Overwrite the input instead of writing a new file.
        """
        return with_notes(
            ctx,
            await run_edit(
                ctx,
                path,
                instruction,
                paragraphs=paragraphs,
                section=section,
                match=match,
                output=output,
                in_place=in_place,
                tracked=False,
                author="",
                concurrency=self.concurrency,
            ),
        )

    @skill(requires=[tags.REWRITE], effects="write")
    async def suggest_edits(
        self,
        ctx: SkillContext,
        path: str,
        instruction: str,
        paragraphs: list[str] | None = None,
        section: str | None = None,
        match: str | None = None,
        author: str = "dualtrack",
        output: str | None = None,
        in_place: bool = False,
    ) -> EditResult:
        """Propose rewrites as tracked changes that Word and LibreOffice let people accept or reject.

        Args:
            ctx: The call's context (injected by the orchestrator).
            path: The .docx to edit.
            instruction: How to rewrite (e.g. "plain language", "fix grammar").
            paragraphs: Paragraph ids or ranges to edit (e.g. ["p3", "p7-p9"]).
            section: A heading (text or id) whose section is edited.
            match: Edit the paragraphs containing this text.
            author: The name shown on each suggestion.
            output: Where to write the result (default report.suggested.docx next to the input).
            in_place: Write the suggestions into the input itself.
        """
        return with_notes(
            ctx,
            await run_edit(
                ctx,
                path,
                instruction,
                paragraphs=paragraphs,
                section=section,
                match=match,
                output=output,
                in_place=in_place,
                tracked=True,
                author=author,
                concurrency=self.concurrency,
            ),
        )

    @skill(requires=[tags.CHAT], prefers=[tags.LONG_CONTEXT, tags.REASONING], effects="write")
    async def draft(
        self,
        ctx: SkillContext,
        instructions: str,
        path: str | None = None,
        outline: list[str] | None = None,
        after: str | None = None,
        output: str | None = None,
        in_place: bool = False,
    ) -> DraftResult:
        """Draft a new section (into an existing .docx, in its styles) or a new document.

        Args:
            ctx: The call's context (injected by the orchestrator).
            instructions: What to write.
            path: The .docx to add to; omit it to create a new document at output.
            outline: Points or headings the draft must follow, in order.
            after: Where to insert: a block id, a heading (the end of its section), or "end".
            output: Where to write the result (default report.drafted.docx next to the input).
            in_place: Insert into the input file itself.
        """
        return with_notes(
            ctx,
            await run_draft(
                ctx,
                path,
                instructions,
                outline=outline,
                after=after,
                output=output,
                in_place=in_place,
                chunk_tokens=None,
            ),
        )

    @skill(requires=[tags.JSON], prefers=[tags.REASONING, tags.LONG_CONTEXT], effects="write")
    async def review(
        self,
        ctx: SkillContext,
        path: str,
        focus: str = "clarity, correctness and consistency",
        max_comments: int = 10,
        author: str = "dualtrack",
        initials: str = "DT",
        output: str | None = None,
        in_place: bool = False,
    ) -> ReviewResult:
        """Review a .docx with comments anchored to the exact words they discuss.

        Args:
            ctx: The call's context (injected by the orchestrator).
            path: The .docx to review.
            focus: What the review looks for.
            max_comments: Most comments to add.
            author: The comments' author.
            initials: The author's initials.
            output: Where to write the result (default report.reviewed.docx next to the input).
            in_place: Add the comments to the input file itself.
        """
        return with_notes(
            ctx,
            await run_review(
                ctx,
                path,
                focus=focus,
                max_comments=max_comments,
                author=author,
                initials=initials,
                output=output,
                in_place=in_place,
                chunk_tokens=None,
                concurrency=self.concurrency,
            ),
        )

    @skill(requires=[tags.EXTRACT], effects="write")
    async def to_table(
        self,
        ctx: SkillContext,
        path: str,
        paragraphs: list[str] | None = None,
        section: str | None = None,
        match: str | None = None,
        columns: list[str] | None = None,
        delimiter: str | None = None,
        output: str | None = None,
        in_place: bool = False,
    ) -> TableResult:
        """Turn a list-like passage into a real Word table in place of the passage.

        Args:
            ctx: The call's context (injected by the orchestrator).
            path: The .docx to edit.
            paragraphs: Paragraph ids or ranges of the passage (e.g. ["p5-p9"]).
            section: A heading whose section is the passage.
            match: The paragraphs containing this text form the passage.
            columns: Column names for the header row.
            delimiter: Split each line on this text instead of asking a model.
            output: Where to write the result (default report.table.docx next to the input).
            in_place: Edit the input file itself.
        """
        return with_notes(
            ctx,
            await run_to_table(
                ctx,
                path,
                paragraphs=paragraphs,
                section=section,
                match=match,
                columns=columns,
                delimiter=delimiter,
                output=output,
                in_place=in_place,
            ),
        )

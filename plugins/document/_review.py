"""``review``: model review comments anchored to the runs they discuss."""

from __future__ import annotations

from dualtrack import SkillContext
from dualtrack.checks import Check, degenerate, on_parts

from ._chunks import JSON_CHUNK_TOKENS, JSON_REPLY_TOKENS, Chunk, chunk_blocks, gather_bounded
from ._comments import add_review_comment
from ._models import ReviewItem, ReviewNote, ReviewReply, ReviewResult
from ._package import load, resolve_output, save_document
from ._prompts import SYSTEM, review_prompt
from ._replies import tried

__all__ = ["review_checks", "run_review"]


def review_checks() -> list[Check]:
    """Comments are no loop and no echo of the prompt.

    A comment naming a block the part does not have, or quoting words its block
    lacks, does not fail the reply: it is dropped or anchored to the whole block.
    """
    return [on_parts(lambda r: [c.comment for c in r.comments], degenerate(), name="comments")]


async def run_review(
    ctx: SkillContext,
    path: str,
    *,
    focus: str,
    max_comments: int,
    author: str,
    initials: str,
    output: str | None,
    in_place: bool,
    chunk_tokens: int | None,
    concurrency: int,
) -> ReviewResult:
    """Review a document with comments (see ``DocumentPlugin.review``).

    Each part's reply must be valid JSON whose comments are no loop; a failing reply is fed back
    once, then escalated. Where no model's reply for a part passes, that part
    gets no comments and ``notes`` says so (the document is still saved, with
    the comments of the other parts).
    """
    doc = await load(ctx, path)
    target = resolve_output(ctx, doc.path, output, "reviewed", in_place=in_place)
    chunks = chunk_blocks(doc.view.body(), chunk_tokens or JSON_CHUNK_TOKENS)
    per_chunk = max(1, -(-max_comments // max(1, len(chunks))))
    checks = review_checks()
    notes: list[str] = []

    async def one(i: int, chunk: Chunk) -> list[ReviewItem]:
        checked = await ctx.generate_checked(
            review_prompt(chunk.text, focus, per_chunk),
            schema=ReviewReply,
            checks=checks,
            source=chunk.text,
            fallback=ReviewReply(),
            system=SYSTEM,
            max_tokens=JSON_REPLY_TOKENS,
            temperature=0.2,
        )
        if checked.fell_back:
            notes.append(
                f"part {i + 1} of {len(chunks)} has no comments: no reply passed the checks "
                f"({tried(checked.attempts)})"
            )
        reply: ReviewReply = checked.value
        ctx.progress(i + 1, len(chunks), f"reviewed part {i + 1} of {len(chunks)}")
        allowed = set(chunk.ids)
        return [c for c in reply.comments if _row(c.id.strip().strip("[]")) in allowed]

    found = [item for batch in await gather_bounded(chunks, one, concurrency=concurrency) for item in batch]
    result = ReviewResult(output=str(target), notes=notes)
    for item in found:
        block_id = item.id.strip().strip("[]")
        if len(result.comments) >= max_comments or not item.comment.strip():
            result.skipped.append(block_id)
            continue
        placed = add_review_comment(
            doc.document,
            doc.view,
            block_id,
            item.comment.strip(),
            quote=(item.quote or "").strip() or None,
            author=author,
            initials=initials,
        )
        if placed is None:
            result.skipped.append(block_id)
            continue
        result.comments.append(
            ReviewNote(
                id=block_id,
                comment=item.comment.strip(),
                quote=item.quote,
                anchored_text=placed.anchored_text,
                exact=placed.exact,
            )
        )
    await save_document(doc.document, target)
    return result


def _row(block_id: str) -> str:
    """A cell id's row (``t1.r2.c3`` → ``t1.r2``); other ids unchanged."""
    return block_id.rsplit(".c", 1)[0] if block_id.startswith("t") else block_id

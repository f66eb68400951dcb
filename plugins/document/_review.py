"""``review``: model review comments anchored to the runs they discuss."""

from __future__ import annotations

from dualtrack import SkillContext

from ._chunks import JSON_CHUNK_TOKENS, JSON_REPLY_TOKENS, Chunk, chunk_blocks, gather_bounded
from ._comments import add_review_comment
from ._models import ReviewItem, ReviewNote, ReviewReply, ReviewResult
from ._package import load, resolve_output, save_document
from ._prompts import SYSTEM, review_prompt

__all__ = ["run_review"]


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
    """Review a document with comments (see ``DocumentPlugin.review``)."""
    doc = await load(ctx, path)
    target = resolve_output(ctx, doc.path, output, "reviewed", in_place=in_place)
    chunks = chunk_blocks(doc.view.body(), chunk_tokens or JSON_CHUNK_TOKENS)
    per_chunk = max(1, -(-max_comments // max(1, len(chunks))))

    async def one(i: int, chunk: Chunk) -> list[ReviewItem]:
        reply = await ctx.generate_json(
            ReviewReply,
            review_prompt(chunk.text, focus, per_chunk),
            system=SYSTEM,
            max_tokens=JSON_REPLY_TOKENS,
            temperature=0.2,
        )
        ctx.progress(i + 1, len(chunks), f"reviewed part {i + 1} of {len(chunks)}")
        allowed = set(chunk.ids)
        return [c for c in reply.comments if _row(c.id.strip().strip("[]")) in allowed]

    found = [item for batch in await gather_bounded(chunks, one, concurrency=concurrency) for item in batch]
    result = ReviewResult(output=str(target))
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

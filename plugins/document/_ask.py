"""``ask``: answers grounded in the document, with verified citations."""

from __future__ import annotations

from dualtrack import SkillContext

from ._chunks import JSON_CHUNK_TOKENS, JSON_REPLY_TOKENS, Chunk, chunk_blocks, gather_bounded
from ._models import Answer, AnswerReply, Citation
from ._package import load
from ._prompts import SYSTEM, answer_prompt, merge_answers_prompt

__all__ = ["NOT_FOUND", "run_ask"]

NOT_FOUND = "The document does not contain an answer to this question."


async def run_ask(
    ctx: SkillContext, path: str, question: str, *, chunk_tokens: int | None, concurrency: int
) -> Answer:
    """Answer ``question`` from the document (see ``DocumentPlugin.ask``)."""
    doc = await load(ctx, path)
    blocks = [b for b in doc.view.blocks if b.text.strip()]
    chunks = chunk_blocks(blocks, chunk_tokens or JSON_CHUNK_TOKENS)
    if not chunks:
        return Answer(answer=NOT_FOUND, found=False)

    async def one(i: int, chunk: Chunk) -> AnswerReply:
        reply = await ctx.generate_json(
            AnswerReply,
            answer_prompt(chunk.text, question),
            system=SYSTEM,
            max_tokens=JSON_REPLY_TOKENS,
            temperature=0,
        )
        ctx.progress(i + 1, len(chunks), f"read part {i + 1} of {len(chunks)}")
        return reply

    replies = await gather_bounded(chunks, one, concurrency=concurrency)
    found = [r for r in replies if r.found and r.answer.strip()]
    if not found:
        return Answer(answer=NOT_FOUND, found=False)
    if len(found) == 1:
        final = found[0]
    else:
        partials = [f"{r.answer} (cites {', '.join(r.citations) or 'nothing'})" for r in found]
        final = await ctx.generate_json(
            AnswerReply,
            merge_answers_prompt(question, partials),
            system=SYSTEM,
            max_tokens=JSON_REPLY_TOKENS,
            temperature=0,
        )
        if not final.found or not final.answer.strip():
            final = found[0]  # the merge failed; fall back to the first grounded answer
        elif not final.citations:
            final.citations = [c for r in found for c in r.citations]
    raw = [str(c).strip().strip("[]") for c in final.citations]
    valid = doc.view.valid_ids(raw)
    citations = [Citation(id=i, text=doc.view.text_of(i)[:500]) for i in valid]
    unverified = [c for c in dict.fromkeys(raw) if c and c not in valid]
    return Answer(answer=final.answer.strip(), found=True, citations=citations, unverified=unverified)

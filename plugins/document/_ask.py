"""``ask``: answers grounded in the document, with verified citations."""

from __future__ import annotations

from collections.abc import Mapping

from dualtrack import CheckFailedError, SkillContext
from dualtrack.checks import Check, CheckContext, citations, degenerate, grounded, on_parts

from ._chunks import JSON_CHUNK_TOKENS, JSON_REPLY_TOKENS, Chunk, chunk_blocks, gather_bounded
from ._cite import blocks_of
from ._models import Answer, AnswerReply, Citation
from ._package import load
from ._prompts import SYSTEM, answer_prompt, merge_answers_prompt
from ._replies import no_reply, tried

__all__ = ["NOT_FOUND", "answer_checks", "run_ask"]

NOT_FOUND = "The document does not contain an answer to this question."


def _claims(_text: str, context: CheckContext) -> list[tuple[str, list[str]]]:
    reply = context.value
    return [(reply.answer, list(reply.citations))] if isinstance(reply, AnswerReply) and reply.found else []


def answer_checks(blocks: Mapping[str, str]) -> list[Check]:
    """The checks of an :class:`AnswerReply`: a found answer is no loop, grounded, and its citations hold.

    Args:
        blocks: The document's block text by id (what a citation must exist in and support).
    """
    text = on_parts(lambda r: r.answer if r.found else None, degenerate(), grounded(), name="answer-text")
    return [text, citations(blocks, claims=_claims)]


async def run_ask(
    ctx: SkillContext, path: str, question: str, *, chunk_tokens: int | None, concurrency: int
) -> Answer:
    """Answer ``question`` from the document (see ``DocumentPlugin.ask``).

    Every reply must be valid JSON whose answer is no loop, is supported by the
    part it was read from, and cites blocks that exist and contain it; a failing
    reply is fed back once, then escalated. Where no model's reply for a part
    passes, that part counts as "not found" and ``notes`` says so, and when that
    is every part, :class:`~dualtrack.CheckFailedError` is raised (or
    :class:`~dualtrack.MalformedResponseError` when no reply was valid JSON); where the
    merge of several answers fails, the first grounded answer is kept (noted).
    """
    doc = await load(ctx, path)
    blocks = [b for b in doc.view.blocks if b.text.strip()]
    chunks = chunk_blocks(blocks, chunk_tokens or JSON_CHUNK_TOKENS)
    if not chunks:
        return Answer(answer=NOT_FOUND, found=False)
    known = blocks_of(doc.view)
    checks = answer_checks(known)
    notes: list[str] = []

    failures: list[CheckFailedError] = []

    async def one(i: int, chunk: Chunk) -> AnswerReply:
        checked = await ctx.generate_checked(
            answer_prompt(chunk.text, question),
            schema=AnswerReply,
            checks=checks,
            source=chunk.text,
            fallback=AnswerReply(answer="", found=False),
            system=SYSTEM,
            max_tokens=JSON_REPLY_TOKENS,
            temperature=0,
        )
        if checked.fell_back:
            failures.append(CheckFailedError(checked.attempts))
            notes.append(
                f"part {i + 1} of {len(chunks)} was not answered: no reply passed the checks "
                f"({tried(checked.attempts)})"
            )
        ctx.progress(i + 1, len(chunks), f"read part {i + 1} of {len(chunks)}")
        reply: AnswerReply = checked.value
        return reply

    replies = await gather_bounded(chunks, one, concurrency=concurrency)
    found = [r for r in replies if r.found and r.answer.strip()]
    if failures and len(failures) == len(chunks):
        raise no_reply(failures[0], "the answer")  # no part was read: "not found" would be a guess
    if not found:
        return Answer(answer=NOT_FOUND, found=False, notes=notes)
    if len(found) == 1:
        final = found[0]
    else:
        partials = [f"{r.answer} (cites {', '.join(r.citations) or 'nothing'})" for r in found]
        cited = dict.fromkeys(c for r in found for c in r.citations if c in known)
        support = [f"[{i}] {known[i]}" for i in cited] + [r.answer for r in found]
        merged = await ctx.generate_checked(
            merge_answers_prompt(question, partials),
            schema=AnswerReply,
            checks=checks,
            source="\n".join(support),
            fallback=found[0],
            system=SYSTEM,
            max_tokens=JSON_REPLY_TOKENS,
            temperature=0,
        )
        final = merged.value
        if merged.fell_back:
            notes.append("the answers of several parts could not be merged; the first one is given")
        elif not final.found or not final.answer.strip():
            final = found[0]  # the merge found nothing; fall back to the first grounded answer
        elif not final.citations:
            final.citations = [c for r in found for c in r.citations]
    raw = [str(c).strip().strip("[]") for c in final.citations]
    valid = doc.view.valid_ids(raw)
    sources = [Citation(id=i, text=doc.view.text_of(i)[:500]) for i in valid]
    unverified = [c for c in dict.fromkeys(raw) if c and c not in valid]
    return Answer(
        answer=final.answer.strip(), found=True, citations=sources, unverified=unverified, notes=notes
    )

"""``summarize``: map-reduce over heading-aligned chunks with bounded concurrency."""

from __future__ import annotations

import re
from pathlib import Path

import docx
from docx.document import Document

from dualtrack import PromptProfile, SkillContext
from dualtrack.checks import Check, CheckContext, CheckResult, citations, degenerate, named

from ._chunks import DEFAULT_CHUNK_TOKENS, Chunk, chunk_blocks, estimate, gather_bounded, truncate
from ._cite import blocks_of
from ._markdown import parse_markdown
from ._models import SummaryResult
from ._package import Loaded, load, resolve_output, save_document
from ._prompts import SYSTEM, reduce_prompt, summary_prompt
from ._quality import clean_summary, extractive_summary, is_unusable, merge_bullets
from ._small_summary import summarize_small
from ._writer import Inserter

__all__ = ["cited_ids", "run_summarize"]

_CITE = re.compile(r"\[((?:p|t|fn|en|hdr|ftr)[\w.]*(?:\s*,\s*(?:p|t|fn|en|hdr|ftr)[\w.]*)*)\]")


def cited_ids(text: str) -> list[str]:
    """Block ids a model cited in brackets (``[p3]``, ``[p3, t1.r2]``), in order."""
    return [i.strip() for m in _CITE.finditer(text) for i in m.group(1).split(",")]


class _Progress:
    def __init__(self, ctx: SkillContext, total: int) -> None:
        self.ctx, self.done, self.total = ctx, 0, total

    def step(self, message: str) -> None:
        self.done += 1
        self.total = max(self.total, self.done)
        self.ctx.progress(self.done, self.total, message)


def summary_check(source: str) -> Check:
    """Clean a summary reply and reject it when it is empty, looping or mostly an echo of ``source``."""

    @named("usable")
    def check(reply: str, context: CheckContext) -> CheckResult:
        text = clean_summary(reply)
        if is_unusable(text, source):
            why = "no summary left once echoed lines were removed" if text else "empty"
            return CheckResult(name="echo", passed=False, reason=why)
        return CheckResult(name="usable", passed=True, value=text)

    return check


def _reply_tokens(budget: int, max_words: int | None) -> int:
    wanted = int(max_words * 1.6) + 32 if max_words else 256
    return max(64, min(wanted, budget // 2))


async def run_summarize(
    ctx: SkillContext,
    path: str,
    *,
    style: str,
    max_words: int | None,
    save: bool,
    output: str | None,
    chunk_tokens: int | None,
    concurrency: int,
) -> SummaryResult:
    """Summarize a document (see ``DocumentPlugin.summarize``)."""
    doc = await load(ctx, path)
    target = resolve_output(ctx, doc.path, output, "summary") if (save or output) else None
    budget = chunk_tokens or DEFAULT_CHUNK_TOKENS
    notes = [b for b in doc.view.blocks if b.kind in ("footnote", "endnote")]
    chunks = chunk_blocks(doc.view.body() + notes, budget)
    if not chunks:
        return SummaryResult(summary="The document has no text to summarize.", chunks=0)
    if ctx.prompt_profile() is PromptProfile.SMALL:
        small = await summarize_small(
            ctx,
            doc.view.body() + notes,
            style=style,
            max_words=max_words,
            chunk_tokens=chunk_tokens,
            concurrency=concurrency,
        )
        return await _result(doc, small.text, target, small.steps, small.steps, small.fell_back)
    reply = _reply_tokens(budget, max_words)
    progress = _Progress(ctx, len(chunks) + (1 if len(chunks) > 1 else 0))

    fell_back: list[str] = []
    cited = citations(blocks_of(doc.view))  # a part's cited blocks exist and contain its points

    async def usable(label: str, prompt: str, source: str, fallback: str, data: str = "") -> str:
        """A cleaned model summary; another model if the first echoes or loops; else ``fallback``."""
        checked = await ctx.generate_checked(
            prompt,
            checks=[summary_check(source), degenerate(), *([] if data else [cited])],
            source=data or source,
            feedback=False,
            fallback=fallback,
            system=SYSTEM,
            max_tokens=reply,
            temperature=0.2,
        )
        if checked.fell_back:
            fell_back.append(label)
        return str(checked.value)

    async def summarize_chunk(i: int, chunk: Chunk) -> str:
        part = f"part {i + 1} of {len(chunks)}" + (f" (section '{chunk.heading}')" if chunk.heading else "")
        prompt = summary_prompt(chunk.text, style, max_words, part if len(chunks) > 1 else "")
        text = await usable(part, prompt, chunk.text, extractive_summary(chunk.text))
        progress.step(f"summarized {part}")
        return text

    level = await gather_bounded(chunks, summarize_chunk, concurrency=concurrency)
    while len(level) > 1:
        groups = _groups(level, budget)
        progress.total = progress.done + len(groups)

        async def combine(_i: int, group: list[str]) -> str:
            if len(group) == 1:
                return group[0]
            prompt = reduce_prompt(group, style, max_words)
            label = f"combining {len(group)} partial summaries"
            text = await usable(label, prompt, "", merge_bullets(group), data="\n".join(group))
            progress.step(f"combined {len(group)} partial summaries")
            return text

        level = await gather_bounded(groups, combine, concurrency=concurrency)
    progress.ctx.progress(progress.total, progress.total, "summary ready")
    return await _result(doc, level[0], target, len(chunks), progress.done, fell_back)


async def _result(
    doc: Loaded, summary: str, target: Path | None, chunks: int, steps: int, fell_back: list[str]
) -> SummaryResult:
    bullets = [b.text for b in parse_markdown(summary) if b.kind in ("bullet", "number")]
    result = SummaryResult(
        summary=summary,
        bullets=bullets,
        cited=doc.view.valid_ids(cited_ids(summary)),
        chunks=chunks,
        fallback_parts=len(fell_back),
        steps=steps,
        fallback_steps=fell_back,
    )
    if target is not None:
        result.output = await _write_summary(doc.document, doc.path.stem, summary, target)
    return result


def _groups(partials: list[str], budget: int) -> list[list[str]]:
    """Pack partial summaries into groups whose combined prompt fits the budget (at least two a group)."""
    groups: list[list[str]] = [[]]
    for text in partials:
        text = truncate(text, budget // 2)
        if groups[-1] and estimate("\n\n".join([*groups[-1], text])) > budget and len(groups[-1]) >= 2:
            groups.append([])
        groups[-1].append(text)
    while any(estimate("\n\n".join(g)) > budget for g in groups if len(g) > 1):  # never exceed the budget
        groups = [
            part for g in groups for part in ([g[: len(g) // 2], g[len(g) // 2 :]] if len(g) > 2 else [g])
        ]
        groups = [[truncate(t, budget // 2 - 16) for t in g] for g in groups]
    return groups


async def _write_summary(source: Document, name: str, summary: str, target: Path) -> str:
    title = (source.core_properties.title or "").strip() or name
    out = docx.Document()
    writer = Inserter(out)
    writer.heading(f"Summary of {title}", 0)
    blocks = parse_markdown(summary)
    bullets = [b for b in blocks if b.kind in ("bullet", "number")]
    prose = [b for b in blocks if b.kind not in ("bullet", "number")]
    if prose:
        writer.heading("Summary", 1)
        writer.markdown(prose, heading_offset=1)
    if bullets:
        writer.heading("Key points", 1)
        for b in bullets:
            writer.list_item(b.text, numbered=False, level=b.level)
    out.core_properties.title = f"Summary of {title}"
    return await save_document(out, target)

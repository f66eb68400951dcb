"""Splitting long documents along headings and token budgets, and bounded fan-out.

Token counts are estimated at about four characters a token, the same rule the
router uses. The default budget of 800 estimated tokens leaves room, inside a
2k-token window (the embedded model's), for the instructions, a reply of a few
hundred tokens and a real tokenizer counting some 10-20% more than the estimate.
Callers with larger models pass a larger ``chunk_tokens``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ._reader import Block

__all__ = [
    "DEFAULT_CHUNK_TOKENS",
    "JSON_CHUNK_TOKENS",
    "JSON_REPLY_TOKENS",
    "MIN_CHUNK_TOKENS",
    "Chunk",
    "chunk_blocks",
    "estimate",
    "gather_bounded",
    "truncate",
]

DEFAULT_CHUNK_TOKENS = 800
"""Document tokens per model call when the caller does not say."""
JSON_CHUNK_TOKENS = 700
"""The same for JSON replies, whose repair round re-sends the failed reply."""
JSON_REPLY_TOKENS = 400
"""Reply budget of a JSON call: a repair round still fits a 2k window."""
MIN_CHUNK_TOKENS = 100
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")
T = TypeVar("T")
R = TypeVar("R")


def estimate(text: str) -> int:
    """Estimated tokens of ``text`` (about four characters a token, rounded up)."""
    return len(text) // 4 + 1


@dataclass(slots=True)
class Chunk:
    """Consecutive lines of a document's view that fit one budget.

    Attributes:
        lines: Rendered block lines (``[p3] text``), a long block split over several.
        ids: The block ids it covers, in order.
        heading: The first heading it starts with, if any.
    """

    lines: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    heading: str | None = None

    @property
    def text(self) -> str:
        """The chunk as the model sees it."""
        return "\n".join(self.lines)

    @property
    def tokens(self) -> int:
        """Estimated tokens of :attr:`text`."""
        return estimate(self.text)

    def add(self, block: Block, line: str) -> None:
        """Append a line of ``block``."""
        self.lines.append(line)
        if block.id not in self.ids:
            self.ids.append(block.id)
        if self.heading is None and block.kind in ("title", "heading"):
            self.heading = block.text


def _sections(blocks: Sequence[Block]) -> list[list[Block]]:
    out: list[list[Block]] = [[]]
    for b in blocks:
        if b.kind in ("title", "heading") and out[-1]:
            out.append([])
        out[-1].append(b)
    return [s for s in out if s]


def _pieces(line: str, budget_chars: int, prefix: str) -> list[str]:
    """Split one over-long line at sentence ends (or hard, when a sentence is too long)."""
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE.split(line):
        while len(sentence) > budget_chars:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:budget_chars])
            sentence = prefix + sentence[budget_chars:]
        if current and len(current) + len(sentence) + 1 > budget_chars:
            pieces.append(current)
            current = prefix + sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        pieces.append(current)
    return pieces


def chunk_blocks(blocks: Sequence[Block], budget_tokens: int) -> list[Chunk]:
    """Pack blocks into chunks of at most ``budget_tokens``, keeping sections together.

    Whole sections (a heading and what follows it) are packed while they fit; a
    section larger than the budget is split between blocks, and a block larger
    than the budget between sentences.

    Args:
        blocks: Blocks in reading order.
        budget_tokens: Largest estimated size of a chunk's text.

    Returns:
        The chunks, in order; empty for a document without text.
    """
    budget_tokens = max(MIN_CHUNK_TOKENS, budget_tokens)
    budget_chars = (budget_tokens - 1) * 4
    chunks: list[Chunk] = []
    current = Chunk()

    def flush() -> None:
        nonlocal current
        if current.lines:
            chunks.append(current)
        current = Chunk()

    def room(extra: str) -> bool:
        return estimate(current.text + ("\n" if current.lines else "") + extra) <= budget_tokens

    for section in _sections(blocks):
        lines = [(b, b.render()) for b in section if b.text.strip()]
        whole = "\n".join(line for _, line in lines)
        if current.lines and not room(whole) and estimate(whole) <= budget_tokens:
            flush()
        for block, line in lines:
            parts = (
                [line] if estimate(line) <= budget_tokens else _pieces(line, budget_chars, f"[{block.id}] ")
            )
            for part in parts:
                if current.lines and not room(part):
                    flush()
                current.add(block, part)
    flush()
    return chunks


def truncate(text: str, budget_tokens: int) -> str:
    """Cut ``text`` to about ``budget_tokens``, saying so at the end when it was cut."""
    limit = max(0, budget_tokens - 8) * 4
    if len(text) <= limit:
        return text
    return text[:limit].rsplit("\n", 1)[0] + "\n[... truncated to fit the model's window]"


async def gather_bounded(
    items: Sequence[T],
    work: Callable[[int, T], Awaitable[R]],
    *,
    concurrency: int,
    on_done: Callable[[int], None] | None = None,
) -> list[R]:
    """Run ``work(i, item)`` for every item, at most ``concurrency`` at a time, in order.

    Args:
        items: The inputs.
        work: The coroutine function.
        concurrency: Most calls in flight at once.
        on_done: Called with the number finished so far after each one.

    Returns:
        The results, in the order of ``items``.
    """
    gate = asyncio.Semaphore(max(1, concurrency))
    finished = 0

    async def one(i: int, item: T) -> R:
        nonlocal finished
        async with gate:
            result = await work(i, item)
        finished += 1
        if on_done is not None:
            on_done(finished)
        return result

    tasks = [asyncio.ensure_future(one(i, item)) for i, item in enumerate(items)]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:  # one failure cancels the rest, then the first error propagates
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise

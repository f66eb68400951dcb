"""``summarize`` for a model of prompt profile ``small``: one short task per section, cited by the plugin.

A model of a few hundred million parameters cannot follow "summarize as bullets,
cite block ids, combine these partial summaries" in one prompt, but it can
summarize one section of plain text in a sentence or two. So for such a model:

* the document is cut into small, heading-aligned chunks (:data:`SMALL_CHUNK_TOKENS`);
* each chunk is one call: the section's plain text (no block ids) in a data block
  and one instruction, "Summarize this section in 2 sentences.";
* the reply is plain text: the plugin keeps its first complete sentences, then
  checks them (``usable``, :func:`~dualtrack.checks.degenerate` with echo of the
  source, :func:`~dualtrack.checks.grounded`, :func:`no_invented_facts`); a failed reply escalates to the
  next qualifying model or falls back to sentences quoted from the section;
* the plugin cites each sentence with the blocks it overlaps most
  (:mod:`._cite`), and the sections' sentences, in order, are the summary: there
  is no model call to combine them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dualtrack import CheckedReply, SkillContext
from dualtrack.checks import Check, CheckContext, CheckResult, degenerate, facts_of, grounded, named

from ._chunks import Chunk, chunk_blocks, gather_bounded
from ._cite import cite_sentences, plain_lines, sentences
from ._prompts import SMALL_SYSTEM, small_summary_prompt
from ._quality import clean_summary, extractive_summary
from ._reader import Block

__all__ = ["SMALL_CHUNK_TOKENS", "SmallSummary", "first_sentences", "no_invented_facts", "summarize_small"]

SMALL_CHUNK_TOKENS = 320
"""Document tokens per call for a small model: about one section of a business document."""
SMALL_REPLY_TOKENS = 100
"""Reply budget: two sentences and room to finish the second."""
SMALL_TEMPERATURE = 0.2
RETRY_TEMPERATURE = 0.5
_PREAMBLE = re.compile(
    r"^\s*(?:(?:here is|here's|sure[,!.]?|okay[,!.]?)[^.:\n]*:|(?:in summary|(?:section )?summary)\s*:)\s*",
    re.I,
)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+", re.M)


def first_sentences(count: int) -> Check:
    """A check that keeps the first ``count`` complete sentences of a plain reply (its cleaned text).

    Delimiters, a preamble (``Here is a summary:``) and list markers go; a
    sentence the reply budget cut off is dropped. Fails when no complete
    sentence is left.
    """

    @named("sentences")
    def check(reply: str, context: CheckContext) -> CheckResult:
        text = _BULLET.sub("", _PREAMBLE.sub("", clean_summary(reply)))
        found = sentences(text)
        complete = [s for s in found if s.rstrip("\"')\u201d").endswith((".", "!", "?"))]
        if context.finish_reason != "length" and found and not complete:
            complete = found[:1]  # a single sentence without a full stop, and nothing was cut
        kept = complete[:count]
        if not kept:
            return CheckResult(
                name="sentences", passed=False, reason="no complete sentence (the reply was cut off)"
            )
        return CheckResult(name="sentences", passed=True, value=" ".join(kept))

    return check


def no_invented_facts() -> Check:
    """A check that every number, date and name in the reply occurs in ``context.source``.

    The reverse of :func:`~dualtrack.checks.preserved_facts`: a summary may leave
    facts out, but a small model also makes them up ("a 1.2% increase"), which
    lexical grounding does not see. Numbers compare by their digits, names
    case-insensitively. Reported as ``invented-facts``.
    """

    @named("invented-facts")
    def check(reply: str, context: CheckContext) -> CheckResult:
        source = context.source
        digits = {re.sub(r"\D", "", n).lstrip("0") for n in re.findall(r"\d[\d,.]*", source)}
        lower = source.lower()
        found = facts_of(reply)
        invented = [
            n for n in found["numbers"] + found["dates"] if re.sub(r"\D", "", n).lstrip("0") not in digits
        ]
        invented += [
            name
            for name in found["names"]
            if re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", lower) is None
        ]
        if invented:
            shown = ", ".join(repr(f) for f in invented[:4])
            return CheckResult(name="invented-facts", passed=False, reason=f"not in the source: {shown}")
        return CheckResult(name="invented-facts", passed=True)

    return check


class SmallSummary:
    """The outcome: the summary text, its steps and the steps that fell back.

    Attributes:
        text: The summary (bullets or paragraphs, each sentence cited).
        steps: Model steps (one per chunk).
        fell_back: Labels of the steps whose sentences are quoted from the document.
    """

    def __init__(self, text: str, steps: int, fell_back: list[str]) -> None:
        self.text, self.steps, self.fell_back = text, steps, fell_back


def _section_text(chunk: Chunk) -> str:
    return "\n".join(text for _, text in plain_lines(chunk.text) if text)


async def summarize_small(
    ctx: SkillContext,
    blocks: Sequence[Block],
    *,
    style: str,
    max_words: int | None,
    chunk_tokens: int | None,
    concurrency: int,
) -> SmallSummary:
    """Summarize ``blocks`` one small section at a time (see the module docstring)."""
    chunks = chunk_blocks(blocks, chunk_tokens or SMALL_CHUNK_TOKENS)
    count = 1 if max_words and max_words < 35 * len(chunks) else 2
    done = 0
    fell_back: list[str] = []

    async def one(i: int, chunk: Chunk) -> list[str]:
        nonlocal done
        label = f"part {i + 1} of {len(chunks)}" + (f" ('{chunk.heading}')" if chunk.heading else "")
        checked = await _summarize_section(ctx, chunk, count)
        done += 1
        if checked.fell_back:
            fell_back.append(label)
            quoted = extractive_summary(chunk.text, limit=count)
            lines = [_BULLET.sub("", line) for line in quoted.splitlines() if line.strip()]
        else:
            lines = cite_sentences(str(checked.value), plain_lines(chunk.text))
        ctx.progress(done, len(chunks), f"summarized {label}" + (" (quoted)" if checked.fell_back else ""))
        return lines

    parts = await gather_bounded(chunks, one, concurrency=concurrency)
    parts = [p for p in parts if p]
    if max_words:
        parts = _within(parts, max_words)
    if style == "bullets":
        text = "\n".join(f"- {line}" for part in parts for line in part)
    else:
        text = "\n\n".join(" ".join(part) for part in parts)
    return SmallSummary(text, len(chunks), sorted(fell_back, key=lambda s: int(s.split()[1])))


async def _summarize_section(ctx: SkillContext, chunk: Chunk, count: int) -> CheckedReply:
    """Two fresh tries (a small model cannot use a critique of its reply), then escalation.

    The first try asks for ``count`` sentences and stays on the first model; the
    second asks for one sentence, and a reply failing it escalates to the next
    qualifying model (if any) before falling back.
    """
    text = _section_text(chunk)
    checked: CheckedReply | None = None
    for sentences_wanted, temperature, models in ((count, SMALL_TEMPERATURE, 1), (1, RETRY_TEMPERATURE, 2)):
        checked = await ctx.generate_checked(
            small_summary_prompt(text, sentences_wanted),
            checks=[
                first_sentences(sentences_wanted),
                _usable(chunk.text),
                degenerate(echo_source=True),
                grounded(),
                no_invented_facts(),
            ],
            source=chunk.text,
            feedback=False,
            max_models=models,
            fallback=None,
            system=SMALL_SYSTEM,
            max_tokens=SMALL_REPLY_TOKENS,
            temperature=temperature,
        )
        if not checked.fell_back:
            break
    assert checked is not None
    return checked


def _usable(source: str) -> Check:
    from ._summarize import summary_check  # (that module imports this one)

    return summary_check(source)


def _within(parts: list[list[str]], max_words: int) -> list[list[str]]:
    """Drop sentences from the end of each section in turn until the summary fits ``max_words``."""
    parts = [list(p) for p in parts]

    def words() -> int:
        return sum(len(re.sub(r"\[[^\]]*\]", "", s).split()) for p in parts for s in p)

    while words() > max_words and sum(len(p) for p in parts) > 1:
        longest = max(range(len(parts)), key=lambda i: (len(parts[i]), -i))
        if len(parts[longest]) > 1:
            parts[longest].pop()
        else:
            parts.pop()
    return parts

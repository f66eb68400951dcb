"""Citations attached by the plugin: each sentence of a reply aligned to the blocks it comes from.

Small models write better summaries when they are not also asked to cite block
ids, so for them the plugin asks for plain sentences and cites them itself. The
alignment is lexical, like :func:`dualtrack.checks.grounded`: a sentence cites the
block sharing most of its content words (four letters or more, compared by their
first six letters), and a second block when that one adds at least two words the
first lacks. A sentence sharing fewer than two words with every block cites none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._reader import DocView

__all__ = ["align", "blocks_of", "cite_sentences", "plain_lines", "sentences"]

_WORD = re.compile(r"[^\W\d_]{4,}|\d+(?:[.,]\d+)*")
_LINE_ID = re.compile(r"^\[([a-z]+[\w.]*)\]\s?(.*)$")
_SPLIT = re.compile(r"(?<=[.!?])[\"')\u201d]*\s+(?=[\"'(\u201c]*[A-Z0-9])")
_MARKER = re.compile(r"^(#+\s+|\((?:title|footnote|endnote)\)\s*|[-*\u2022]\s+|\d+[.)]\s+)")
_COMMON = frozenset(
    "that this with from have will were been their there which about would could should these those "
    "also into more than then them they what when where while most some such only other over each "
    "section summary document text part".split()
)


def _words(text: str) -> set[str]:
    return {w.lower()[:6] for w in _WORD.findall(text) if w.lower() not in _COMMON}


def blocks_of(view: DocView) -> dict[str, str]:
    """Every block and table cell of a document by id: what a cited id must exist in and support."""
    blocks = {b.id: b.text for b in view.blocks}
    blocks.update((i, view.text_of(i)) for i in view.elements if i not in blocks)
    return blocks


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split after ``.``, ``!`` or ``?`` before a capital or digit)."""
    return [s.strip() for line in text.splitlines() for s in _SPLIT.split(line) if s.strip()]


def plain_lines(rendered: str) -> list[tuple[str, str]]:
    """``(block id, text)`` of each ``[id] text`` line of a rendered chunk (markers removed)."""
    out: list[tuple[str, str]] = []
    for line in rendered.splitlines():
        m = _LINE_ID.match(line.strip())
        if m:
            out.append((m.group(1), _MARKER.sub("", m.group(2)).strip()))
    return out


def align(sentence: str, blocks: Sequence[tuple[str, str]]) -> list[str]:
    """The ids of the blocks ``sentence`` comes from (at most two; none when nothing matches).

    Args:
        sentence: One sentence of a reply.
        blocks: ``(block id, text)`` pairs in document order.

    Returns:
        The best block's id, then a second one that adds two or more of the
        sentence's words; in document order.
    """
    wanted = _words(sentence)
    scored = [(len(wanted & _words(text)), i, bid) for i, (bid, text) in enumerate(blocks)]
    scored = [s for s in scored if s[0] >= 2]
    if not scored:
        return []
    best = max(scored, key=lambda s: (s[0], -s[1]))
    covered = wanted & _words(blocks[best[1]][1])
    extra = [(len((wanted - covered) & _words(blocks[i][1])), i, bid) for _, i, bid in scored if i != best[1]]
    chosen = [best]
    second = max(extra, key=lambda s: (s[0], -s[1]), default=None)
    if second is not None and second[0] >= 2:
        chosen.append(second)
    return [bid for _, _, bid in sorted(chosen, key=lambda s: s[1])]


def cite_sentences(text: str, blocks: Sequence[tuple[str, str]]) -> list[str]:
    """Each sentence of ``text`` with the ids of its blocks appended (``... [p3, p4]``)."""
    out = []
    for sentence in sentences(text):
        ids = align(sentence, blocks)
        out.append(f"{sentence} [{', '.join(ids)}]" if ids else sentence)
    return out

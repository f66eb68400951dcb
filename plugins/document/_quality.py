"""Checking model summaries before they are used, with an extractive fallback.

Small in-house models sometimes echo the prompt's data block back, or loop on
one sentence. :func:`clean_summary` removes echoed delimiters and repeated
lines; :func:`is_unusable` recognises a reply that is mostly an echo of the
input or nothing at all; :func:`extractive_summary` gives the first sentence of
each paragraph, cited, for when no model produced a usable summary.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["clean_summary", "extractive_summary", "is_looping", "is_unusable", "merge_bullets"]

_DELIMITER = re.compile(r"</?\s*(document|passage)\s*>", re.I)
_PART = re.compile(r"^\s*part \d+\s*:\s*$", re.I)
_LINE_ID = re.compile(r"^\[([a-z]+[\w.]*)\]\s*(.*)$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def clean_summary(text: str) -> str:
    """Drop echoed delimiters and ``Part N:`` labels, and keep each distinct line once."""
    seen: set[str] = set()
    lines: list[str] = []
    for line in _DELIMITER.sub("", text).splitlines():
        key = _norm(line)
        if _PART.match(line) or (key and key in seen):
            continue
        seen.add(key)
        lines.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def is_looping(text: str, span: int = 6, repeats: int = 3) -> bool:
    """Whether some run of ``span`` words recurs ``repeats`` times or more (a model stuck in a loop)."""
    words = _norm(text).split()
    if len(words) < span * repeats:
        return False
    counts = Counter(tuple(words[i : i + span]) for i in range(len(words) - span + 1))
    return counts.most_common(1)[0][1] >= repeats


def is_unusable(summary: str, source: str = "") -> bool:
    """Whether a cleaned summary is empty, looping, or mostly an echo.

    A line counts as echoed when it repeats a line of ``source`` or starts with a
    block id the way the document view does (``[p3] ...``); summaries cite ids
    at the end of a point, not at its start.
    """
    lines = [line.strip() for line in summary.splitlines() if _norm(line)]
    if not lines or is_looping(summary):
        return True
    originals = {_norm(_LINE_ID.sub(r"\2", line.strip())) for line in source.splitlines()}
    echoed = sum(1 for line in lines if _LINE_ID.match(line) or _norm(line) in originals)
    return echoed / len(lines) > 0.6


def extractive_summary(source: str, limit: int = 6) -> str:
    """Bullets of the first sentence of the longest paragraphs in ``source`` (``[id] text`` lines)."""
    candidates: list[tuple[int, str, str]] = []
    for order, line in enumerate(source.splitlines()):
        m = _LINE_ID.match(line.strip())
        if not m or m.group(1).startswith("t") or m.group(2).startswith(("#", "(title)")):
            continue
        text = re.sub(r"^\((footnote|endnote)\)\s*", "", m.group(2)).lstrip("-0123456789. ").strip()
        if len(text.split()) >= 5:
            candidates.append((order, m.group(1), _SENTENCE.split(text)[0]))
    best = sorted(sorted(candidates, key=lambda c: -len(c[2]))[:limit])
    return "\n".join(f"- {sentence} [{block_id}]" for _, block_id, sentence in best)


def merge_bullets(partials: list[str], limit: int = 8) -> str:
    """The distinct bullet lines of several partial summaries (the reduce step's fallback)."""
    seen: set[str] = set()
    out: list[str] = []
    for part in partials:
        for line in part.splitlines():
            key = _norm(line)
            if line.lstrip().startswith(("- ", "* ")) and key not in seen:
                seen.add(key)
                out.append(line.strip())
    return "\n".join(out[:limit]) or "\n\n".join(partials)

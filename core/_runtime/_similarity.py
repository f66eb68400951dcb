"""How much two model outputs agree: token-multiset F1, the measure shadow logs and ``dualtrack eval`` use.

``agreement(candidate, reference)`` lower-cases both texts, splits them into
word tokens (letters and digits; ``14,200`` and ``96.1%`` stay one token each),
and returns the F1 of the two token multisets::

    overlap   = sum over tokens t of min(count_candidate(t), count_reference(t))
    precision = overlap / tokens in candidate
    recall    = overlap / tokens in reference
    F1        = 2 * precision * recall / (precision + recall)

It is 1.0 for the same words in any order and 0.0 for no word in common; two
empty texts agree fully. Order does not count, so sections a skill summarized
concurrently compare fairly; wording does, so it measures agreement, not quality.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["AGREEMENT_MEASURE", "agreement", "tokens"]

AGREEMENT_MEASURE = "token-multiset F1 (lower-cased word tokens, order ignored)"
_TOKEN = re.compile(r"[^\W_]+(?:[.,'\u2019%-][^\W_]+)*%?")


def tokens(text: str) -> list[str]:
    """The lower-cased word tokens of ``text`` (numbers with separators stay whole)."""
    return [t.lower() for t in _TOKEN.findall(text)]


def agreement(candidate: str, reference: str) -> float:
    """Token-multiset F1 of ``candidate`` against ``reference``, in ``[0, 1]`` (see the module docstring)."""
    a, b = Counter(tokens(candidate)), Counter(tokens(reference))
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    overlap = sum((a & b).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(a.values())
    recall = overlap / sum(b.values())
    return 2 * precision * recall / (precision + recall)

"""Named checks that compare a reply with its source: preserved facts and grounding.

Both are lexical (no model, no embeddings): fast and predictable, so a reason
such as ``lost 42, 'Acme'`` can be read by a person and fed back to a model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from .._runtime._outcomes import Check, CheckContext, CheckResult
from ._checks import named

__all__ = ["Claims", "block_lines", "citations", "facts_of", "grounded", "preserved_facts"]

_LINK = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"']+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PLACEHOLDER = re.compile(
    r"\{\{\s*[^{}]+?\s*\}\}|\{[A-Za-z_][\w.]*\}|\$\{\w+\}|%\(\w+\)[sd]|<<\w+>>|\[\[\w+\]\]"
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE = re.compile(
    rf"\b\d{{4}}-\d{{1,2}}-\d{{1,2}}\b|\b\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\.?,?\s+\d{{4}}\b|\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
)
_NUMBER = re.compile(r"(?<![\w.,])[-+]?\d+(?:[,.\u00a0\u202f ]\d{3})*(?:[.,]\d+)?(?![\w])")
_CAPITAL = re.compile(r"(?<![\w'\u2019-])([A-Z][\w&'\u2019-]*)")
_SENTENCE_END = re.compile(r"(^|[.!?:;\n]\s*|[\"'(\u201c]\s*)$")
_STOP = frozenset({"I", "A", "The", "This", "That", "It", "We", "You", "He", "She", "They", "In", "On", "Of"})
_CITE = re.compile(r"\[((?:[a-z]+[\w.]*)(?:\s*,\s*[a-z]+[\w.]*)*)\]")
_LINE = re.compile(r"^\[([a-z]+[\w.]*)\]\s?(.*)$")
_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_CONTENT = re.compile(r"[^\W\d_]{4,}")
_CLAIM_WORD = re.compile(r"[^\W\d_]{4,}|\d+(?:[.,]\d+)*")
_COMMON = frozenset(
    "that this with from have will were been their there which about would could should these those "
    "also into more than then them they what when where while most some such only other over each "
    "part parts document section summary point points text main".split()
)


def _digits(token: str) -> str:
    return re.sub(r"\D", "", token).lstrip("0") or "0"


def facts_of(text: str, *, names: bool = True) -> dict[str, list[str]]:
    """The facts a faithful rewrite of ``text`` keeps, by kind.

    Kinds: ``links`` (URLs, e-mail addresses), ``placeholders`` (``{name}``,
    ``{{x}}``, ``${x}``, ``%(x)s``), ``dates``, ``numbers`` and ``names``
    (capitalised words that do not start a sentence, and acronyms).
    """
    facts: dict[str, list[str]] = {"links": [], "placeholders": [], "dates": [], "numbers": [], "names": []}
    rest = text
    for kind, pattern in (("links", _LINK), ("placeholders", _PLACEHOLDER), ("dates", _DATE)):
        for m in pattern.finditer(rest):
            token = m.group(0).rstrip(".,;:") if kind == "links" else m.group(0)
            if token not in facts[kind]:
                facts[kind].append(token)
        rest = pattern.sub(" ", rest)
    for m in _NUMBER.finditer(rest):
        if m.group(0) not in facts["numbers"]:
            facts["numbers"].append(m.group(0))
    if names:
        for line in rest.splitlines():
            words = re.findall(r"[^\W\d_][\w'-]*", line)
            title_case = len(words) >= 2 and sum(w[0].isupper() for w in words) / len(words) > 0.6
            for m in _CAPITAL.finditer(line):
                word = m.group(1).rstrip("'\u2019-")
                acronym = len(word) >= 2 and word.isupper()
                starts = bool(_SENTENCE_END.search(line[: m.start()]))
                if word in _STOP or (not acronym and (starts or title_case or len(word) < 2)):
                    continue
                if word not in facts["names"]:
                    facts["names"].append(word)
    return facts


def _missing(kind: str, fact: str, reply: str, reply_digits: set[str]) -> bool:
    if kind in ("links", "placeholders"):
        return fact not in reply
    if kind == "names":
        return re.search(rf"(?<![\w]){re.escape(fact)}(?![\w])", reply, re.I) is None
    if kind == "numbers":
        return _digits(fact) not in reply_digits
    parts = [_digits(p) for p in re.findall(r"\d+", fact)]  # dates: every number and the month
    month = re.search(_MONTH, fact)
    return any(p not in reply_digits for p in parts) or (
        month is not None and month.group(0)[:3].lower() not in reply.lower()
    )


def preserved_facts(
    *,
    numbers: bool = True,
    dates: bool = True,
    names: bool = True,
    links: bool = True,
    placeholders: bool = True,
) -> Check:
    """A check that every number, date, name, link and placeholder of the source stays in the reply.

    Numbers compare by their digits, so ``1,200.50`` and ``1 200,50`` match; names
    compare case-insensitively; links and placeholders must stay exactly as they
    were. Turn ``names`` off for translations. Passes when there is no source.

    Returns:
        The check, reported as ``preserved-facts``.
    """
    wanted = {
        "numbers": numbers,
        "dates": dates,
        "names": names,
        "links": links,
        "placeholders": placeholders,
    }

    @named("preserved-facts")
    def check(text: str, context: CheckContext) -> CheckResult:
        facts = facts_of(context.source, names=names)
        reply_digits = {_digits(t) for t in re.findall(r"\d+(?:[,.\u00a0\u202f ]\d{3})*(?:[.,]\d+)?", text)}
        reply_digits |= {_digits(t) for t in re.findall(r"\d+", text)}
        lost = [
            fact
            for kind, found in facts.items()
            if wanted[kind]
            for fact in found
            if _missing(kind, fact, text, reply_digits)
        ]
        if lost:
            shown = ", ".join(repr(f) for f in lost[:6]) + (
                f" and {len(lost) - 6} more" if len(lost) > 6 else ""
            )
            return CheckResult(name="preserved-facts", passed=False, reason=f"lost {shown}")
        return CheckResult(name="preserved-facts", passed=True)

    return check


def _content(text: str) -> set[str]:
    return {w.lower()[:6] for w in _CONTENT.findall(text) if w.lower() not in _COMMON}


def grounded(min_overlap: float = 0.5) -> Check:
    """A check that each sentence of a summary or answer is supported by the source.

    This is lexical overlap, not understanding: a sentence is supported when at
    least ``min_overlap`` of its content words (four letters or more, compared by
    their first six letters) occur in the source, or, when it cites block ids
    (``[p3]``), in the cited blocks. A cited id must exist in the source (lines of
    the form ``[p3] text``). Paraphrase with other words can fail it, and a
    sentence that copies words in a false order passes it.

    Args:
        min_overlap: The fraction of a sentence's content words the source must contain.

    Returns:
        The check, reported as ``grounding``.
    """

    @named("grounding")
    def check(text: str, context: CheckContext) -> CheckResult:
        if not context.source.strip():
            return CheckResult(name="grounding", passed=True)
        blocks = {m.group(1): m.group(2) for m in map(_LINE.match, context.source.splitlines()) if m}
        everything = _content(context.source)
        for n, sentence in enumerate((s for s in _SPLIT.split(text) if s.strip()), 1):
            cited = [i.strip() for m in _CITE.finditer(sentence) for i in m.group(1).split(",")]
            unknown = [i for i in cited if i not in blocks]
            if unknown:
                return CheckResult(
                    name="grounding",
                    passed=False,
                    reason=f"sentence {n} cites {', '.join(unknown)}, not in the source",
                )
            words = _content(_CITE.sub("", sentence))
            if not words:
                continue
            pool = set().union(*(_content(blocks[i]) for i in cited)) if cited else everything
            overlap = len(words & pool) / len(words)
            if overlap < min_overlap:
                where = f"the cited {', '.join(cited)}" if cited else "the source"
                return CheckResult(
                    name="grounding",
                    passed=False,
                    reason=f"sentence {n} is not supported by {where} ({overlap:.0%} of its words): "
                    f"{sentence.strip()[:80]!r}",
                )
        return CheckResult(name="grounding", passed=True)

    return check


Claims = Callable[[str, CheckContext], Iterable[tuple[str, Sequence[str]]]]
"""Gives the ``(claim, cited block ids)`` pairs of a reply (for replies that are not prose)."""


def block_lines(source: str) -> dict[str, str]:
    """The blocks of a data block whose lines read ``[p3] text``, by id."""
    return {m.group(1): m.group(2) for m in map(_LINE.match, source.splitlines()) if m}


def _claim_words(text: str) -> set[str]:
    return {w.lower()[:6] for w in _CLAIM_WORD.findall(text) if w.lower() not in _COMMON}


def _inline_claims(text: str, _context: CheckContext) -> list[tuple[str, list[str]]]:
    pairs = []
    for sentence in (s for s in _SPLIT.split(text) if s.strip()):
        cited = [i.strip() for m in _CITE.finditer(sentence) for i in m.group(1).split(",")]
        pairs.append((_CITE.sub("", sentence).strip(), cited))
    return pairs


def citations(
    blocks: Mapping[str, str] | None = None, *, min_overlap: float = 0.5, claims: Claims | None = None
) -> Check:
    """A check that every cited block id exists and contains the claim that cites it.

    A claim (by default each sentence of the reply, citing ids in brackets such
    as ``[p3]`` or ``[p3, t1.r2]``) passes when at least ``min_overlap`` of its
    content words (four letters or more, compared by their first six letters,
    and numbers) occur in the blocks it cites. Claims that cite nothing are left
    to :func:`grounded`. Lexical, like :func:`grounded`: a paraphrase in other
    words can fail it.

    Args:
        blocks: Block text by id; default: the ``[id] text`` lines of ``context.source``.
        min_overlap: The fraction of a claim's words its cited blocks must contain.
        claims: Gives the ``(claim, cited ids)`` pairs of a reply, e.g. from a JSON
            reply's parsed value (``context.value``); default: the reply's sentences.

    Returns:
        The check, reported as ``citations``.
    """

    @named("citations")
    def check(text: str, context: CheckContext) -> CheckResult:
        known = blocks if blocks is not None else block_lines(context.source)
        pairs = list((claims or _inline_claims)(text, context))
        checked = 0
        for n, (claim, cited) in enumerate(pairs, 1):
            ids = [str(i).strip().strip("[]") for i in cited if str(i).strip()]
            if not ids:
                continue
            which = f"claim {n}" if len(pairs) > 1 else "the claim"
            unknown = [i for i in ids if i not in known]
            if unknown:
                return CheckResult(
                    name="citations",
                    passed=False,
                    reason=f"{which} cites {', '.join(unknown)}, not a block of the source",
                )
            words = _claim_words(claim)
            checked += 1
            if not words:
                continue
            pool = set().union(*(_claim_words(known[i]) for i in ids))
            overlap = len(words & pool) / len(words)
            if overlap < min_overlap:
                return CheckResult(
                    name="citations",
                    passed=False,
                    reason=f"{which} is not supported by its cited {', '.join(ids)} "
                    f"({overlap:.0%} of its words): {claim.strip()[:80]!r}",
                )
        return CheckResult(name="citations", passed=True, reason=f"{checked} cited claim(s) supported")

    return check

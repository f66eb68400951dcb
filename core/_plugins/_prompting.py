"""``data_block``: untrusted text goes into prompts as inert, delimited data.

A prompt that carries a document, cells of a workbook or a user's code puts
that text between ``<tag>`` and ``</tag>``, and the system prompt says the
block is data, never instructions. The text must not be able to close the
block early and speak with the user's voice, so every forged delimiter is
neutralised before wrapping: not only ``</document>`` but also ``< /document>``,
``< / document>``, a zero-width or other invisible character inside the tag,
full-width or other look-alike brackets (U+FF1C, U+2039 ...), combining marks,
Cyrillic or Greek look-alike letters and case tricks. A candidate is recognised
on the text normalised the way a reader would see it (NFKC, case folded, invisible characters, whitespace and
slashes ignored), and its opening bracket is replaced by ``&lt;``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["data_block", "forged_tags"]

# brackets a reader could take for "<" and ">": NFKC folds the full-width and small
# forms (U+FF1C, U+FE64); the angle quotation marks and mathematical angle brackets it does not
_OPEN = frozenset("<\uff1c\ufe64\u2039\u3008\u2329\u27e8\u276e\u02c2\u1438")
_CLOSE = frozenset(">\uff1e\ufe65\u203a\u3009\u232a\u27e9\u276f\u02c3\u1433")
_TAG = re.compile(r"[a-z][a-z0-9_-]{0,30}")
# Cyrillic and Greek letters that look like Latin ones in most fonts
_LOOKALIKE = str.maketrans(
    "\u0430\u0441\u0435\u0456\u0458\u043e\u0440\u0455\u0445\u0443\u0501\u051b\u051d\u043a\u043c\u043d\u0442\u0432\u03b1\u03b5\u03b9\u03ba\u03bf\u03c1\u03c4\u03c5\u03c7\u03bd",
    "aceijopsxydqwkmhtbaeikoptuxv",
)


def _opens(ch: str) -> bool:
    return ch in _OPEN or unicodedata.normalize("NFKC", ch) == "<"


def _closes(ch: str) -> bool:
    return ch in _CLOSE or unicodedata.normalize("NFKC", ch) == ">"


def _letters(text: str) -> str:
    """The letters and digits of ``text`` as a reader sees them (NFKC, case folded, look-alikes)."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_LOOKALIKE)
    return "".join(c for c in folded if c.isalnum())


def _forges(text: str, start: int, name: str) -> bool:
    """Whether the bracket at ``start`` begins something that reads as ``<name`` or ``</name``."""
    seen = ""
    for ch in text[start + 1 :]:
        if _opens(ch) or _closes(ch):
            break
        seen += _letters(ch)
        if len(seen) >= len(name):
            break
    return seen.startswith(name)


def forged_tags(text: str, tag: str = "document") -> list[int]:
    """Offsets of every bracket in ``text`` that begins a look-alike of ``<tag>`` or ``</tag>``."""
    name = _letters(tag)
    return [i for i, ch in enumerate(text) if _opens(ch) and _forges(text, i, name)]


def data_block(text: str, tag: str = "document", *, label: str = "", also: Iterable[str] = ()) -> str:
    """Wrap untrusted text in a delimited block whose delimiters it cannot forge.

    Args:
        text: The untrusted text (a document, cells, code, tool output).
        tag: The block's tag name: lowercase letters, digits, ``-`` or ``_``.
        label: What the text is (``file pricing.py lines 1-40``); shown in the
            opening tag as ``label="..."``, with quotes and brackets removed.
        also: Other tag names the text must not forge either (the tags of the
            blocks or instructions around this one).

    Returns:
        ``<tag>`` (or ``<tag label="...">``), a newline, the neutralised text, a
        newline and ``</tag>``. Only the brackets of forged delimiters change (to
        ``&lt;``); everything else is kept as it was.

    Raises:
        ValueError: When ``tag`` is not a simple lowercase name.
    """
    if not _TAG.fullmatch(tag):
        raise ValueError(f"data_block tag must be a simple lowercase name such as 'document', got {tag!r}")
    hits = sorted({i for name in (tag, *also) for i in forged_tags(text, name)})
    if hits:
        parts: list[str] = []
        last = 0
        for i in hits:
            parts += [text[last:i], "&lt;"]
            last = i + 1
        parts.append(text[last:])
        text = "".join(parts)
    if label:
        clean = "".join(c for c in label if c not in '"\n\r' and not _opens(c) and not _closes(c))
        return f'<{tag} label="{clean}">\n{text}\n</{tag}>'
    return f"<{tag}>\n{text}\n</{tag}>"

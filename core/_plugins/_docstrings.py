"""A small parser for Google-style docstrings (summary and ``Args:``)."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

__all__ = ["ParsedDocstring", "parse_docstring"]

_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Returns|Return|Raises|Yields|Examples?|Notes?|"
    r"Attributes|See Also|Warnings?|Todo):\s*$"
)
_ARG = re.compile(r"^(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")


@dataclass(slots=True)
class ParsedDocstring:
    """The parts of a docstring that skills use.

    Attributes:
        summary: The first paragraph, on one line.
        description: Everything before the first section, paragraphs kept.
        args: Parameter name → description.
    """

    summary: str = ""
    description: str = ""
    args: dict[str, str] = field(default_factory=dict)


def parse_docstring(doc: str | None) -> ParsedDocstring:
    """Parse a Google-style docstring.

    Args:
        doc: The raw docstring (indentation is normalised here).

    Returns:
        The summary, description and ``Args:`` descriptions.
    """
    if not doc:
        return ParsedDocstring()
    lines = inspect.cleandoc(doc).splitlines()
    body: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    arg_indent: int | None = None
    for raw in lines:
        stripped = raw.strip()
        m = _SECTION.match(stripped)
        if m and not raw.startswith((" ", "\t")):
            section = m.group(1)
            current, arg_indent = None, None
            continue
        if section is None:
            body.append(raw)
            continue
        if section not in ("Args", "Arguments", "Parameters") or not stripped:
            continue
        indent = len(raw) - len(raw.lstrip())
        am = _ARG.match(stripped)
        if am and (arg_indent is None or indent <= arg_indent):
            arg_indent = indent
            current = am.group(1).lstrip("*")
            args[current] = am.group(3).strip()
        elif current is not None:
            args[current] = (args[current] + " " + stripped).strip()
    description = "\n".join(body).strip()
    summary = " ".join(description.split("\n\n", 1)[0].split())
    return ParsedDocstring(summary=summary, description=description, args=args)

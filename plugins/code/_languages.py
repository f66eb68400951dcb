"""Languages by file suffix, and the facts we can give for code we do not parse."""

from __future__ import annotations

import re

from ._models import CodeFacts, Definition

__all__ = ["LANGUAGES", "language_of", "text_facts"]

LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".java": "java",
    ".kt": "kotlin",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cc": "c++",
    ".cpp": "c++",
    ".hpp": "c++",
    ".cs": "c#",
    ".rb": "ruby",
    ".php": "php",
    ".swift": "swift",
    ".sh": "shell",
    ".sql": "sql",
    ".scala": "scala",
    ".lua": "lua",
}
_TEXT_DEF = re.compile(
    r"^\s*(?:export\s+|public\s+|private\s+|static\s+|async\s+)*"
    r"(?:function|func|fn|def|class|interface|struct|enum|fun|sub)\s+([A-Za-z_][\w$]*)",
    re.M,
)


def language_of(suffix: str) -> str:
    """The language of a file suffix (``text`` when unknown)."""
    return LANGUAGES.get(suffix.lower(), "text")


def text_facts(source: str, language: str, start: int = 1, end: int | None = None) -> CodeFacts:
    """Facts for a language we do not parse: its size and the definitions a pattern finds."""
    lines = source.splitlines()
    end = min(end or len(lines), len(lines)) or 1
    defs = []
    for m in _TEXT_DEF.finditer(source):
        line = source.count("\n", 0, m.start()) + 1
        if start <= line <= end:
            defs.append(Definition(name=m.group(1), kind="definition", line_start=line, line_end=line))
    return CodeFacts(
        language=language,
        kind="module" if start == 1 and end == len(lines) else "lines",
        line_start=start,
        line_end=end,
        definitions=defs,
    )

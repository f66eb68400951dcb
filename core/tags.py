"""Standard capability tags. Any string is a valid tag; these are the shared vocabulary.

Skills declare the tags they need (``requires``) and like (``prefers``); model cards
declare the tags they can serve (``capabilities``).
"""

from __future__ import annotations

__all__ = [
    "CHAT",
    "CODE",
    "EXTRACT",
    "JSON",
    "LONG_CONTEXT",
    "REASONING",
    "REWRITE",
    "STANDARD_TAGS",
    "SUMMARIZE",
    "TOOLS",
    "TRANSLATE",
    "VISION",
]

CHAT = "chat"
"""General chat completion."""
JSON = "json"
"""Reliable JSON output (schema-constrained or strong instruction following)."""
TOOLS = "tools"
"""Function/tool calling."""
LONG_CONTEXT = "long-context"
"""Windows of 32k tokens and more."""
SUMMARIZE = "summarize"
"""Summaries of useful quality."""
REWRITE = "rewrite"
"""Rewriting text by an instruction (tone, length, plain language)."""
EXTRACT = "extract"
"""Extracting structured facts from text."""
TRANSLATE = "translate"
"""Translation between languages."""
CODE = "code"
"""Reading and writing program code."""
REASONING = "reasoning"
"""Multi-step reasoning (formulas, fixes, reviews)."""
VISION = "vision"
"""Image input."""

STANDARD_TAGS = frozenset(
    {CHAT, JSON, TOOLS, LONG_CONTEXT, SUMMARIZE, REWRITE, EXTRACT, TRANSLATE, CODE, REASONING, VISION}
)

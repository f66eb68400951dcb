"""``--arg key=value`` parsed by the type of the skill's parameter.

A parameter whose JSON Schema type is ``string`` keeps the text as it is
(``--arg text=123`` is the string ``"123"``); integers, numbers, booleans, arrays
and objects are parsed as JSON and checked against the type; anything else is an
:class:`~dualtrack.ArgumentError` naming the parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._errors import ArgumentError, UserError

__all__ = ["parse_skill_args", "split_args"]

_CHECKS: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def split_args(items: Iterable[str]) -> list[tuple[str, str]]:
    """Split each ``key=value`` (the value may contain ``=``).

    Raises:
        UserError: An item has no ``=`` or no key.
    """
    pairs = []
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UserError(f"--arg {item!r} must look like key=value, e.g. --arg path=report.docx")
        pairs.append((key, raw))
    return pairs


def _types(prop: Mapping[str, Any], defs: Mapping[str, Any], depth: int = 0) -> set[str]:
    """Every JSON type ``prop`` allows (empty when the schema says nothing: any type)."""
    if depth > 8:
        return set()
    if "$ref" in prop:
        target = defs.get(str(prop["$ref"]).rsplit("/", 1)[-1], {})
        return _types(target, defs, depth + 1)
    kind = prop.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    found: set[str] = set()
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in prop.get(key, ()):
            sub_types = _types(sub, defs, depth + 1)
            if not sub_types:
                return set()  # one branch allows anything
            found |= sub_types
    if not found and "enum" in prop:
        found = {"string" if isinstance(v, str) else "number" for v in prop["enum"]}
    return found


def _matches(value: Any, types: set[str]) -> bool:
    for t in types:
        allowed = _CHECKS.get(t)
        if allowed is None:
            continue
        if isinstance(value, bool) and t in ("integer", "number"):
            continue
        if isinstance(value, allowed):
            return True
    return False


def parse_skill_args(
    skill: str, schema: Mapping[str, Any], pairs: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """Turn ``(key, text)`` pairs into skill arguments by each parameter's JSON Schema type.

    Args:
        skill: The skill's full name (for error messages).
        schema: The skill's parameters schema (``Skill.parameters_schema()``).
        pairs: What :func:`split_args` returned.

    Returns:
        The arguments; unknown keys are passed through as text for the skill's own
        validation to name.

    Raises:
        ArgumentError: A value does not parse as its parameter's type.
    """
    props: Mapping[str, Any] = schema.get("properties", {})
    defs: Mapping[str, Any] = schema.get("$defs", {})
    out: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for key, raw in pairs:
        prop = props.get(key)
        types = _types(prop, defs) if prop is not None else {"string"}
        if "string" in types:
            out[key] = raw
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            if not types:  # any type: the text itself
                out[key] = raw
                continue
            problems.append((key, f"expected {' or '.join(sorted(types))}, got {raw!r}"))
            continue
        if types and not _matches(value, types):
            problems.append((key, f"expected {' or '.join(sorted(types))}, got {raw!r}"))
            continue
        out[key] = value
    if problems:
        raise ArgumentError(skill, problems)
    return out

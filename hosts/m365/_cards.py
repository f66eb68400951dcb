"""Adaptive Cards of the plugin's functions: confirmations for writes, results people read.

Every write is confirmed in an Adaptive Card before Copilot calls it; reads are not.
A result gets a card (``response_semantics`` with a static Adaptive Card template)
when its shape says what people want to see, read from the skill's output schema:

* text results: the first of ``summary``, ``answer``, ``explanation``, ``text``,
  with ``bullets`` (cited summary steps) below it when the skill returns them;
* extracted tables: ``data.items`` of an extraction (what, who, when per row);
* other tables: the first list of objects whose item schema declares plain fields
  (up to four columns of them).

Each card also shows the output file the skill wrote and the result's sensitivity.
The templates bind to the HTTP host's result object: ``value`` is what the skill
returned, ``sensitivity`` and ``skill`` come with it.
"""

from __future__ import annotations

from typing import Any

from dualtrack import Skill

__all__ = ["confirmation", "response_semantics", "security_info"]

_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
_CARD_VERSION = "1.5"
_TEXT_FIELDS = ("summary", "answer", "explanation", "text")
_SCALARS = frozenset({"string", "integer", "number", "boolean"})


def confirmation(skill: Skill, summary: str) -> dict[str, Any] | None:
    """The confirmation card of a write (``None`` for a read: it runs without asking)."""
    if skill.effects != "write":
        return None
    return {
        "type": "AdaptiveCard",
        "title": f"Run {skill.full_name}?",
        "body": (
            f"{summary} This can change files: the service writes next to the input and replaces "
            "a file only when you asked for it."
        ),
    }


def security_info(skill: Skill) -> dict[str, Any]:
    """What the function does with data, for Copilot's risk checks."""
    handling = ["GetPrivateData"] + (["ResourceStateUpdate"] if skill.effects == "write" else [])
    return {"data_handling": handling}


def _resolve(schema: dict[str, Any], node: Any) -> dict[str, Any]:
    """Follow a local ``$ref`` and unwrap ``X | None`` (one level is enough for cards)."""
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        node = schema.get("$defs", {}).get(ref.rsplit("/", 1)[-1], {})
    for key in ("anyOf", "oneOf"):
        branches = [b for b in node.get(key, []) if b.get("type") != "null"]
        if len(branches) == 1:
            return _resolve(schema, branches[0])
    return dict(node)


def _card(title: str, body: list[dict[str, Any]], props: dict[str, Any]) -> dict[str, Any]:
    facts = [{"title": "Sensitivity", "value": "${sensitivity}"}]
    if "output" in props:
        facts.insert(0, {"title": "Written to", "value": "${value.output}"})
    return {
        "$schema": _CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": _CARD_VERSION,
        "body": [
            {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True},
            *body,
            {"type": "FactSet", "facts": facts},
        ],
    }


def _text_body(field: str, props: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": f"${{value.{field}}}", "wrap": True}]
    bullets = _resolve(schema, props.get("bullets"))
    if bullets.get("type") == "array" and _resolve(schema, bullets.get("items")).get("type") == "string":
        body.append(
            {
                "type": "Container",
                "$data": "${value.bullets}",
                "items": [{"type": "TextBlock", "text": "- ${$data}", "wrap": True, "spacing": "Small"}],
            }
        )
    return body


def _table(rows: str, columns: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "Table",
        "firstRowAsHeader": True,
        "columns": [{"width": 1} for _ in columns],
        "rows": [
            {
                "type": "TableRow",
                "cells": [
                    {"type": "TableCell", "items": [{"type": "TextBlock", "text": h, "weight": "Bolder"}]}
                    for h, _ in columns
                ],
            },
            {
                "type": "TableRow",
                "$data": rows,
                "cells": [
                    {"type": "TableCell", "items": [{"type": "TextBlock", "text": expr, "wrap": True}]}
                    for _, expr in columns
                ],
            },
        ],
    }


def _extraction(props: dict[str, Any]) -> list[dict[str, Any]] | None:
    if not ("data" in props and "kind" in props):
        return None
    return [
        {"type": "TextBlock", "text": "${value.kind}", "isSubtle": True, "spacing": "None"},
        _table(
            "${value.data.items}",
            [
                ("What", "${coalesce(task, decision, event, name, '')}"),
                ("Who", "${coalesce(owner, made_by, role, '')}"),
                ("When", "${coalesce(due, date, '')}"),
            ],
        ),
    ]


def _object_table(props: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]] | None:
    for name, prop in props.items():
        prop = _resolve(schema, prop)
        if prop.get("type") != "array":
            continue
        item = _resolve(schema, prop.get("items"))
        fields = [
            (key, sub)
            for key, sub in item.get("properties", {}).items()
            if _resolve(schema, sub).get("type") in _SCALARS
        ][:4]
        if item.get("type") == "object" and fields:
            columns = [(str(sub.get("title") or key), f"${{{key}}}") for key, sub in fields]
            return [_table(f"${{value.{name}}}", columns)]
    return None


def response_semantics(skill: Skill) -> dict[str, Any] | None:
    """The result card of a skill, or ``None`` when its output says nothing a card can show."""
    schema = skill.output_schema()
    if not schema or schema.get("type") != "object":
        return None
    props: dict[str, Any] = schema.get("properties", {})
    text = next((f for f in _TEXT_FIELDS if _resolve(schema, props.get(f)).get("type") == "string"), None)
    if text is not None:
        body = _text_body(text, props, schema)
    else:
        found = _extraction(props) or _object_table(props, schema)
        if found is None:
            return None
        body = found
    return {
        "data_path": "$",
        "properties": {"title": "$.skill", "subtitle": "$.sensitivity"},
        "static_template": _card(skill.full_name, body, props),
    }

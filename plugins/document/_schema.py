"""Checking values against a caller's JSON Schema (the common subset).

``SkillContext.generate_json`` with a dict schema returns plain JSON without
checking it, so ``extract`` validates the result itself. Supported keywords:
``type`` (a name or a list), ``properties``, ``required``,
``additionalProperties`` (boolean or schema), ``items``, ``enum``, ``const``,
``minItems``/``maxItems``, ``anyOf``/``oneOf``/``allOf`` and local ``$ref``
(``#/$defs/...`` or ``#/definitions/...``), which covers what pydantic's
``model_json_schema()`` produces. Other keywords are ignored.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SchemaError", "check_schema", "validate"]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


class SchemaError(ValueError):
    """A value does not match the schema; the message lists each problem with its path."""


def check_schema(schema: Any) -> None:
    """Reject a schema that is not a JSON object with a known ``type``, before any model call."""
    if not isinstance(schema, dict) or not schema:
        raise SchemaError("the schema must be a non-empty JSON Schema object")
    kinds = schema.get("type")
    for kind in kinds if isinstance(kinds, list) else [kinds] if kinds else []:
        if kind not in _TYPES:
            raise SchemaError(f"unknown JSON Schema type {kind!r}; use one of {', '.join(_TYPES)}")


def validate(value: Any, schema: dict[str, Any]) -> None:
    """Raise :class:`SchemaError` listing every mismatch of ``value`` against ``schema``."""
    problems: list[str] = []
    _check(value, schema, schema, "$", problems)
    if problems:
        raise SchemaError("; ".join(problems[:20]))


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 32:
        ref = str(schema["$ref"])
        if not ref.startswith("#/"):
            return {}
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
        schema = node if isinstance(node, dict) else {}
        seen += 1
    return schema


def _is(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(kind, (object,)))


def _check(value: Any, schema: Any, root: dict[str, Any], path: str, problems: list[str]) -> None:
    if not isinstance(schema, dict):
        return
    schema = _resolve(schema, root)
    kinds = schema.get("type")
    if kinds is not None:
        allowed = kinds if isinstance(kinds, list) else [kinds]
        if not any(_is(value, k) for k in allowed):
            problems.append(f"{path}: expected {' or '.join(map(str, allowed))}, got {type(value).__name__}")
            return
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} is not one of {schema['enum']!r}")
    if "const" in schema and value != schema["const"]:
        problems.append(f"{path}: expected {schema['const']!r}")
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = []
            for option in schema[key]:
                sub: list[str] = []
                _check(value, option, root, path, sub)
                branches.append(not sub)
            if not any(branches):
                problems.append(f"{path}: matches none of the allowed shapes")
    for option in schema.get("allOf", []):
        _check(value, option, root, path, problems)
    if isinstance(value, dict):
        props: dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"{path}: missing required property {name!r}")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in props:
                _check(item, props[name], root, f"{path}.{name}", problems)
            elif extra is False:
                problems.append(f"{path}: unexpected property {name!r}")
            elif isinstance(extra, dict):
                _check(item, extra, root, f"{path}.{name}", problems)
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            problems.append(f"{path}: needs at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{path}: allows at most {schema['maxItems']} items")
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                _check(item, items, root, f"{path}[{i}]", problems)

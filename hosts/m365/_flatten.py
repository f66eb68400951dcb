"""Skill arguments in the shape Microsoft 365 Copilot can send.

Copilot's API plugins send flat JSON objects: each property a string, number,
integer, boolean, or an array of those. They do not support nested objects,
``oneOf``/``anyOf``/``allOf`` or circular references in request bodies. This
module turns a skill's request-body schema into that shape where it can without
changing what the HTTP host receives:

* ``anyOf``/``oneOf`` of one type and ``null`` (pydantic's ``X | None``), and
  ``type: [X, "null"]``, become plain ``X``; the parameter stays optional and the
  host fills in its default;
* a ``$ref`` to an enum or another simple schema, and an ``allOf`` of one schema,
  are inlined; ``const`` becomes a one-value ``enum``.

What cannot be flattened without changing the request the host expects (a nested
object, a list of objects, a choice between several types, a value of any type)
is left out: an optional parameter is dropped and the host uses its default; a
required one leaves the whole skill out. Every decision is recorded with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FlatArguments", "Unflattenable", "flatten_arguments"]

_SCALARS = frozenset({"string", "integer", "number", "boolean"})
_KEEP = ("description", "format", "minimum", "maximum", "minLength", "maxLength", "pattern")
Resolver = Callable[[str], Mapping[str, Any]]


class Unflattenable(Exception):
    """A schema Copilot cannot send (the message says why, for people)."""


@dataclass(frozen=True, kw_only=True)
class FlatArguments:
    """A request body Copilot can send, and what was done to get there.

    Attributes:
        properties: Parameter name → flat schema.
        required: The required parameters (all of them in ``properties``).
        flattened: Parameter name → what was simplified.
        dropped: Optional parameter name → why Copilot cannot send it.
        blocked: Required parameter name → why Copilot cannot send it (the skill
            cannot be offered when this is not empty).
    """

    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    flattened: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)

    def schema(self) -> dict[str, Any]:
        """The flat object schema of the request body."""
        out: dict[str, Any] = {"type": "object", "properties": self.properties}
        if self.required:
            out["required"] = list(self.required)
        return out


def flatten_arguments(schema: Mapping[str, Any], resolve: Resolver) -> FlatArguments:
    """Flatten the request-body schema of one skill.

    Args:
        schema: The object schema of the arguments (``$ref`` allowed).
        resolve: Returns the schema a ``$ref`` string points at (``KeyError`` if none).

    Returns:
        The flat parameters and the record of what was simplified or left out.
    """
    root = _Walker(resolve).deref(schema, ())
    required = set(root.get("required", ()))
    flat = FlatArguments()
    for name, prop in root.get("properties", {}).items():
        notes: list[str] = []
        try:
            flat.properties[name] = _Walker(resolve, notes).param(prop)
        except Unflattenable as exc:
            (flat.blocked if name in required else flat.dropped)[name] = str(exc)
            continue
        if name in required:
            flat.required.append(name)
        if notes:
            flat.flattened[name] = "; ".join(dict.fromkeys(notes))
    return flat


class _Walker:
    """Resolves references (refusing cycles) and simplifies one parameter's schema."""

    def __init__(self, resolve: Resolver, notes: list[str] | None = None) -> None:
        self._resolve = resolve
        self.notes = notes if notes is not None else []

    def deref(self, node: Mapping[str, Any], seen: tuple[str, ...]) -> dict[str, Any]:
        out = dict(node)
        while "$ref" in out:
            ref = str(out.pop("$ref"))
            if ref in seen:
                raise Unflattenable(f"refers to itself ({ref}); Copilot cannot follow circular references")
            seen = (*seen, ref)
            try:
                target = dict(self._resolve(ref))
            except KeyError:
                raise Unflattenable(f"refers to {ref}, which the document does not define") from None
            self.notes.append(f"inlined {ref.rsplit('/', 1)[-1]}")
            target.update(out)  # the referring schema's own keywords win (description, default)
            out = target
        return out

    def param(self, node: Mapping[str, Any], seen: tuple[str, ...] = ()) -> dict[str, Any]:
        """The flat schema of one parameter, or :class:`Unflattenable`."""
        node = self.deref(node, seen)
        node = self._unwrap(node, seen)
        kind = node.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            if len(kinds) != 1:
                raise Unflattenable(f"accepts several types ({', '.join(kinds)}); Copilot sends one")
            if len(kinds) < len(kind):
                self.notes.append("optional X | None sent as X (left out: the host's default)")
            kind = kinds[0]
        if kind is None and "const" in node:
            kind = _type_of([node["const"]])
        if kind is None and "enum" in node:
            kind = _type_of(node["enum"])
        if kind is None:
            raise Unflattenable("accepts any JSON value; Copilot sends only typed values")
        if kind == "object":
            if node.get("properties"):
                raise Unflattenable(
                    "is a nested object; Copilot sends flat objects only, and spreading its fields "
                    "into the body would change the request the host expects"
                )
            raise Unflattenable("is a free-form JSON object; Copilot sends flat objects only")
        out: dict[str, Any] = {"type": kind}
        if kind == "array":
            items = node.get("items")
            if not isinstance(items, Mapping) or not items:
                raise Unflattenable("is a list of values of any type; Copilot needs typed items")
            try:
                item = self.param(items, seen)
            except Unflattenable as exc:
                raise Unflattenable(f"is a list whose items {exc}") from None
            if item["type"] not in _SCALARS:
                raise Unflattenable("is a list of lists; Copilot sends lists of plain values only")
            out["items"] = {k: v for k, v in item.items() if k in ("type", "enum")}
        elif kind not in _SCALARS:
            raise Unflattenable(f"has the type {kind!r}, which Copilot cannot send")
        if "const" in node:
            out["enum"] = [node["const"]]
            self.notes.append("const as a one-value enum")
        elif "enum" in node:
            out["enum"] = [v for v in node["enum"] if v is not None]
        for key in _KEEP:
            if key in node:
                out[key] = node[key]
        if node.get("default") is not None:
            out["default"] = node["default"]
        return out

    def _unwrap(self, node: dict[str, Any], seen: tuple[str, ...]) -> dict[str, Any]:
        """``allOf`` of one schema and ``anyOf``/``oneOf`` of one schema and ``null``, inlined."""
        for key in ("allOf", "anyOf", "oneOf"):
            branches = node.get(key)
            if branches is None:
                continue
            rest = {k: v for k, v in node.items() if k != key}
            options = [self.deref(b, seen) for b in branches]
            non_null = [b for b in options if b.get("type") != "null"]
            if key == "allOf":
                if len(options) != 1:
                    raise Unflattenable("combines several schemas (allOf); Copilot cannot send that")
                self.notes.append("allOf of one schema inlined")
            else:
                if len(non_null) != 1:
                    raise Unflattenable(f"accepts one of several shapes ({key}); Copilot sends one")
                if len(non_null) < len(options):
                    self.notes.append("optional X | None sent as X (left out: the host's default)")
            merged = self._unwrap(dict(non_null[0]), seen)
            merged.update({k: v for k, v in rest.items() if k in _KEEP or k == "default"})
            return merged
        return node


def _type_of(values: list[Any]) -> str | None:
    kinds = {
        "boolean"
        if isinstance(v, bool)
        else "integer"
        if isinstance(v, int)
        else "number"
        if isinstance(v, float)
        else "string"
        if isinstance(v, str)
        else "other"
        for v in values
        if v is not None
    }
    return kinds.pop() if len(kinds) == 1 and "other" not in kinds else None

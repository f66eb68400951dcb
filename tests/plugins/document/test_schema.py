"""The JSON Schema subset extract validates a caller's schema with."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from dualtrack.plugins.document._schema import SchemaError, check_schema, validate


class Line(BaseModel):
    sku: str
    qty: int


class Order(BaseModel):
    lines: list[Line]
    note: str | None = None


def test_pydantic_schemas_with_refs_and_optionals_validate() -> None:
    schema = Order.model_json_schema()
    validate({"lines": [{"sku": "A1", "qty": 2}], "note": None}, schema)
    with pytest.raises(SchemaError, match=r"\$\.lines\[0\]\.qty: expected integer, got bool"):
        validate({"lines": [{"sku": "A1", "qty": True}]}, schema)
    with pytest.raises(SchemaError, match="missing required property 'lines'"):
        validate({"note": "x"}, schema)


def test_keywords() -> None:
    schema = {
        "type": "object",
        "properties": {
            "kind": {"enum": ["a", "b"]},
            "n": {"type": "number"},
            "tags": {"type": "array", "maxItems": 1},
        },
        "additionalProperties": False,
    }
    validate({"kind": "a", "n": 1.5, "tags": ["x"]}, schema)
    with pytest.raises(SchemaError) as info:
        validate({"kind": "c", "n": "1", "tags": ["x", "y"], "extra": 1}, schema)
    for part in ("not one of", "expected number", "at most 1 items", "unexpected property 'extra'"):
        assert part in str(info.value)
    validate(3.0, {"type": "integer"})


def test_check_schema_rejects_nonsense_before_any_model_call() -> None:
    for bad in ({}, [], {"type": "banana"}):
        with pytest.raises(SchemaError):
            check_schema(bad)
    check_schema({"type": ["object", "null"]})

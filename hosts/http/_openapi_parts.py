"""The building blocks of the service's OpenAPI document: media types, shared schemas, error responses."""

from __future__ import annotations

import copy
from typing import Any

from ._problems import PROBLEM_TYPES, problem_type

__all__ = [
    "COMMON_ERRORS",
    "JSON",
    "PROBLEM",
    "SSE",
    "base_schemas",
    "error_responses",
    "hoist",
    "schema_ref",
    "simple",
    "sse_or_json",
]

JSON = "application/json"
PROBLEM = "application/problem+json"
SSE = "text/event-stream"


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def hoist(schema: dict[str, Any], prefix: str, into: dict[str, Any]) -> dict[str, Any]:
    """Move ``$defs`` into components (names prefixed) and point every ``$ref`` there."""
    schema = copy.deepcopy(schema)
    defs = schema.pop("$defs", {})

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: fix(v) for k, v in node.items()}
            ref = out.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                out["$ref"] = f"#/components/schemas/{prefix}.{ref.removeprefix('#/$defs/')}"
            return out
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    for name, sub in defs.items():
        into[f"{prefix}.{name}"] = fix(sub)
    return fix(schema)  # type: ignore[no-any-return]


def error_responses(*statuses: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status in statuses:
        kinds = sorted(slug for slug, (s, _) in PROBLEM_TYPES.items() if s == status)
        out[str(status)] = {
            "description": ", ".join(kinds) or "problem",
            "content": {PROBLEM: {"schema": schema_ref("Problem")}},
        }
    return out


COMMON_ERRORS = (400, 401, 403, 413, 429, 500)


def base_schemas() -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "object"}
    return {
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string", "enum": [problem_type(s) for s in sorted(PROBLEM_TYPES)]},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
                "explanation": {"type": "string"},
            },
        },
        "SkillResult": {
            "type": "object",
            "required": ["skill", "value", "sensitivity", "calls", "explanation"],
            "properties": {
                "skill": {"type": "string"},
                "value": {"description": "what the skill returned (files as workspace names)"},
                "sensitivity": {
                    "type": "string",
                    "enum": ["public", "general", "confidential", "highly-confidential"],
                },
                "duration_s": {"type": "number"},
                "usage": obj,
                "cost_usd": {"type": "number"},
                "calls": {"type": "array", "items": obj},
                "explanation": {"type": "string"},
                "files": {"type": "array", "items": schema_ref("StoredFile")},
            },
        },
        "StoredFile": {
            "type": "object",
            "required": ["name", "upload_id", "ref", "size", "sha256", "expires_at", "download"],
            "properties": {
                "name": {"type": "string"},
                "upload_id": {"type": "string"},
                "ref": {"type": "string"},
                "size": {"type": "integer"},
                "sha256": {"type": "string"},
                "expires_at": {"type": "number"},
                "download": {"type": "string"},
                "sensitivity": {"type": ["string", "null"]},
            },
        },
        "SkillInfo": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "plugin": {"type": "string"},
                "description": {"type": "string"},
                "effects": {"type": "string", "enum": ["read", "write"]},
                "requires": {"type": "array", "items": {"type": "string"}},
                "prefers": {"type": "array", "items": {"type": "string"}},
                "path_parameters": {"type": "object", "additionalProperties": {"type": "string"}},
                "parameters": obj,
                "operation": {"type": "string"},
            },
        },
        "ModelInfo": obj,
        "RouteRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["skill"],
            "properties": {
                "skill": {"type": "string"},
                "sensitivity": {"type": "string"},
                "tokens": {"type": "integer", "minimum": 1},
                "requires": {"type": "array", "items": {"type": "string"}},
            },
        },
        "AskRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["prompt"],
            "properties": {
                "prompt": {"type": "string", "minLength": 1},
                "sensitivity": {"type": "string"},
                "max_steps": {"type": "integer", "minimum": 1, "maximum": 20},
            },
        },
        "ConfirmRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["call_id", "decision"],
            "properties": {
                "call_id": {"type": "string"},
                "decision": {"type": "string", "enum": ["approve", "decline"]},
            },
        },
        "GenerateRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["prompt"],
            "properties": {
                "prompt": {"type": "string", "minLength": 1},
                "requires": {"type": "array", "items": {"type": "string"}},
                "sensitivity": {"type": "string"},
                "max_tokens": {"type": "integer", "minimum": 1, "maximum": 32768},
            },
        },
        "Upload": {
            "type": "object",
            "required": ["file"],
            "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream"}},
        },
    }


def sse_or_json(schema: str, description: str) -> dict[str, Any]:
    return {
        "200": {
            "description": description,
            "content": {
                JSON: {"schema": schema_ref(schema)},
                SSE: {
                    "schema": {
                        "type": "string",
                        "description": "events: progress, text, confirm (ask), then one result or error",
                    }
                },
            },
        }
    }


def simple(summary: str, schema: dict[str, Any], *statuses: int, tag: str = "service") -> dict[str, Any]:
    return {
        "summary": summary,
        "tags": [tag],
        "responses": {
            "200": {"description": "OK", "content": {JSON: {"schema": schema}}},
            **error_responses(*statuses),
        },
    }

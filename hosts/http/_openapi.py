"""The OpenAPI 3.1 document of the service, generated from the registered skills.

Each skill is one operation, ``POST /v1/skills/{plugin}.{skill}``, whose request
body is the skill's own JSON Schema (its ``$defs`` moved into
``components/schemas``, since a ``$ref`` in an OpenAPI document resolves from the
document's root). :func:`~._docs.docs_html` renders it as the ``/docs`` page.
"""

from __future__ import annotations

from typing import Any

from dualtrack import Orchestrator, Skill, __version__

from .._shared import function_name
from ._docs import docs_html
from ._openapi_parts import (
    COMMON_ERRORS,
    JSON,
    base_schemas,
    error_responses,
    hoist,
    schema_ref,
    simple,
    sse_or_json,
)

__all__ = ["docs_html", "openapi_document", "operation_id"]


def operation_id(skill: Skill) -> str:
    """``plugin_skill``: a name code generators turn into a method (the MCP tool name too)."""
    return function_name(skill)


def openapi_document(orc: Orchestrator, *, auth: bool, server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service for ``orc``'s skills."""
    schemas = base_schemas()
    stream_param = {
        "name": "stream",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "enum": [0, 1]},
        "description": "1 answers with Server-Sent Events (as Accept: text/event-stream does)",
    }
    sens_param = {
        "name": "sensitivity",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["public", "general", "confidential", "highly-confidential"]},
        "description": "sensitivity of the data you send (uploaded files' labels count too)",
    }
    paths: dict[str, Any] = {
        "/v1/skills": {
            "get": simple(
                "List skills with their JSON schemas",
                {"type": "array", "items": schema_ref("SkillInfo")},
                401,
            )
        },
        "/v1/models": {
            "get": simple(
                "List models with their health", {"type": "array", "items": schema_ref("ModelInfo")}, 401
            )
        },
        "/v1/usage": {"get": simple("Usage by day, model and skill", {"type": "object"}, 401)},
        "/v1/route": {
            "post": {
                "summary": "Dry-run the routing of a skill (no model is called)",
                "tags": ["service"],
                "requestBody": {"required": True, "content": {JSON: {"schema": schema_ref("RouteRequest")}}},
                "responses": {
                    "200": {
                        "description": "the decision",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    },
                    **error_responses(*COMMON_ERRORS, 404, 422),
                },
            }
        },
        "/v1/files": {
            "get": simple(
                "List your workspace's files",
                {"type": "array", "items": schema_ref("StoredFile")},
                401,
                tag="files",
            ),
            "post": {
                "summary": "Upload a file into your workspace",
                "tags": ["files"],
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": schema_ref("Upload")}},
                },
                "responses": {
                    "201": {"description": "stored", "content": {JSON: {"schema": schema_ref("StoredFile")}}},
                    **error_responses(*COMMON_ERRORS, 415, 422),
                },
            },
        },
        "/v1/files/{name}": {
            "parameters": [
                {
                    "name": "name",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "workspace-relative name, e.g. u1a2b3c4d5e/report.docx",
                }
            ],
            "get": {
                "summary": "Download a file of your workspace",
                "tags": ["files"],
                "responses": {
                    "200": {
                        "description": "the file",
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "contentMediaType": "application/octet-stream"}
                            }
                        },
                    },
                    **error_responses(400, 401, 404),
                },
            },
            "delete": {
                "summary": "Delete a file of your workspace",
                "tags": ["files"],
                "responses": {"204": {"description": "deleted"}, **error_responses(400, 401, 404)},
            },
        },
        "/v1/generate": {
            "post": {
                "summary": "One routed model call (streams text deltas over SSE)",
                "tags": ["models"],
                "parameters": [stream_param],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": schema_ref("GenerateRequest")}},
                },
                "responses": {
                    **sse_or_json("SkillResult", "the text with its routing"),
                    **error_responses(*COMMON_ERRORS, 502, 503),
                },
            }
        },
        "/v1/ask": {
            "post": {
                "summary": "A model answers, calling skills as tools; writes wait for a confirm over SSE",
                "tags": ["ask"],
                "parameters": [stream_param],
                "requestBody": {"required": True, "content": {JSON: {"schema": schema_ref("AskRequest")}}},
                "responses": {
                    **sse_or_json("SkillResult", "the answer with every model call"),
                    **error_responses(*COMMON_ERRORS, 502, 503),
                },
            }
        },
        "/v1/ask/{ask_id}/confirm": {
            "parameters": [{"name": "ask_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "post": {
                "summary": "Approve or decline one write a model chose during an ask",
                "tags": ["ask"],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": schema_ref("ConfirmRequest")}},
                },
                "responses": {
                    "200": {"description": "delivered", "content": {JSON: {"schema": {"type": "object"}}}},
                    **error_responses(400, 401, 404, 409),
                },
            },
        },
        "/healthz": {
            "get": {
                "summary": "Liveness",
                "tags": ["service"],
                "security": [],
                "responses": {"200": {"description": "alive"}},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness (503 while starting or draining)",
                "tags": ["service"],
                "security": [],
                "responses": {"200": {"description": "ready"}, **error_responses(503)},
            }
        },
    }
    schemes = sorted({f"{str(s).lower()}:" for src in orc.file_sources for s in src.schemes})
    remote = f", or references ({', '.join(schemes)})" if schemes else ""
    for skill in sorted(orc.registry.skills(), key=lambda s: s.full_name):
        body_name = f"{skill.full_name}.Arguments"
        schemas[body_name] = hoist(skill.parameters_schema(), skill.full_name, schemas)
        effects = "writes files" if skill.effects == "write" else "reads only"
        paths[f"/v1/skills/{skill.full_name}"] = {
            "post": {
                "operationId": operation_id(skill),
                "summary": skill.description.split("\n")[0][:120],
                "description": f"{skill.description}\n\nEffects: {effects}. Requires: "
                f"{', '.join(sorted(skill.requires)) or '-'}. "
                f"Path arguments take workspace names or upload:<id>{remote}.",
                "tags": [skill.plugin],
                "parameters": [stream_param, sens_param],
                "requestBody": {"required": True, "content": {JSON: {"schema": schema_ref(body_name)}}},
                "responses": {
                    **sse_or_json(
                        "SkillResult", "the value, its sensitivity, the model calls and the routing"
                    ),
                    **error_responses(*COMMON_ERRORS, 404, 409, 422, 502, 503),
                },
                "x-dualtrack-effects": skill.effects,
                "x-dualtrack-requires": sorted(skill.requires),
            }
        }
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "dualtrack",
            "version": __version__,
            "description": "Skills of the registered plugins, routed to partner or in-house models.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    if auth:
        doc["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "an API key or an Entra ID token"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
        doc["security"] = [{"bearer": []}, {"apiKey": []}]
    return doc

"""The OpenAPI 3.1 document of the service, generated from the registered skills, and its docs page.

Each skill is one operation, ``POST /v1/skills/{plugin}.{skill}``, whose request
body is the skill's own JSON Schema (its ``$defs`` moved into
``components/schemas``, since a ``$ref`` in an OpenAPI document resolves from the
document's root). The docs page at ``/docs`` is plain HTML rendered here from
that document: it needs no script and no network.
"""

from __future__ import annotations

import copy
import html
import json
from typing import Any

from dualtrack import Orchestrator, Skill, __version__

from .._shared import function_name
from ._problems import PROBLEM_TYPES, problem_type

__all__ = ["docs_html", "openapi_document", "operation_id"]

_JSON = "application/json"
_PROBLEM = "application/problem+json"
_SSE = "text/event-stream"


def operation_id(skill: Skill) -> str:
    """``plugin_skill``: a name code generators turn into a method (the MCP tool name too)."""
    return function_name(skill)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _hoist(schema: dict[str, Any], prefix: str, into: dict[str, Any]) -> dict[str, Any]:
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


def _errors(*statuses: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status in statuses:
        kinds = sorted(slug for slug, (s, _) in PROBLEM_TYPES.items() if s == status)
        out[str(status)] = {
            "description": ", ".join(kinds) or "problem",
            "content": {_PROBLEM: {"schema": _ref("Problem")}},
        }
    return out


_COMMON_ERRORS = (400, 401, 403, 413, 429, 500)


def _base_schemas() -> dict[str, Any]:
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
                "files": {"type": "array", "items": _ref("StoredFile")},
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


def _sse_or_json(schema: str, description: str) -> dict[str, Any]:
    return {
        "200": {
            "description": description,
            "content": {
                _JSON: {"schema": _ref(schema)},
                _SSE: {
                    "schema": {
                        "type": "string",
                        "description": "events: progress, text, confirm (ask), then one result or error",
                    }
                },
            },
        }
    }


def _simple(summary: str, schema: dict[str, Any], *errors: int, tag: str = "service") -> dict[str, Any]:
    return {
        "summary": summary,
        "tags": [tag],
        "responses": {
            "200": {"description": "OK", "content": {_JSON: {"schema": schema}}},
            **_errors(*errors),
        },
    }


def openapi_document(orc: Orchestrator, *, auth: bool, server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service for ``orc``'s skills."""
    schemas = _base_schemas()
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
            "get": _simple(
                "List skills with their JSON schemas", {"type": "array", "items": _ref("SkillInfo")}, 401
            )
        },
        "/v1/models": {
            "get": _simple(
                "List models with their health", {"type": "array", "items": _ref("ModelInfo")}, 401
            )
        },
        "/v1/usage": {"get": _simple("Usage by day, model and skill", {"type": "object"}, 401)},
        "/v1/route": {
            "post": {
                "summary": "Dry-run the routing of a skill (no model is called)",
                "tags": ["service"],
                "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("RouteRequest")}}},
                "responses": {
                    "200": {
                        "description": "the decision",
                        "content": {_JSON: {"schema": {"type": "object"}}},
                    },
                    **_errors(*_COMMON_ERRORS, 404, 422),
                },
            }
        },
        "/v1/files": {
            "get": _simple(
                "List your workspace's files",
                {"type": "array", "items": _ref("StoredFile")},
                401,
                tag="files",
            ),
            "post": {
                "summary": "Upload a file into your workspace",
                "tags": ["files"],
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": _ref("Upload")}},
                },
                "responses": {
                    "201": {"description": "stored", "content": {_JSON: {"schema": _ref("StoredFile")}}},
                    **_errors(*_COMMON_ERRORS, 415, 422),
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
                    **_errors(400, 401, 404),
                },
            },
            "delete": {
                "summary": "Delete a file of your workspace",
                "tags": ["files"],
                "responses": {"204": {"description": "deleted"}, **_errors(400, 401, 404)},
            },
        },
        "/v1/generate": {
            "post": {
                "summary": "One routed model call (streams text deltas over SSE)",
                "tags": ["models"],
                "parameters": [stream_param],
                "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("GenerateRequest")}}},
                "responses": {
                    **_sse_or_json("SkillResult", "the text with its routing"),
                    **_errors(*_COMMON_ERRORS, 502, 503),
                },
            }
        },
        "/v1/ask": {
            "post": {
                "summary": "A model answers, calling skills as tools; writes wait for a confirm over SSE",
                "tags": ["ask"],
                "parameters": [stream_param],
                "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("AskRequest")}}},
                "responses": {
                    **_sse_or_json("SkillResult", "the answer with every model call"),
                    **_errors(*_COMMON_ERRORS, 502, 503),
                },
            }
        },
        "/v1/ask/{ask_id}/confirm": {
            "parameters": [{"name": "ask_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "post": {
                "summary": "Approve or decline one write a model chose during an ask",
                "tags": ["ask"],
                "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("ConfirmRequest")}}},
                "responses": {
                    "200": {"description": "delivered", "content": {_JSON: {"schema": {"type": "object"}}}},
                    **_errors(400, 401, 404, 409),
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
                "responses": {"200": {"description": "ready"}, **_errors(503)},
            }
        },
    }
    schemes = sorted({f"{str(s).lower()}:" for src in orc.file_sources for s in src.schemes})
    remote = f", or references ({', '.join(schemes)})" if schemes else ""
    for skill in sorted(orc.registry.skills(), key=lambda s: s.full_name):
        body_name = f"{skill.full_name}.Arguments"
        schemas[body_name] = _hoist(skill.parameters_schema(), skill.full_name, schemas)
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
                "requestBody": {"required": True, "content": {_JSON: {"schema": _ref(body_name)}}},
                "responses": {
                    **_sse_or_json(
                        "SkillResult", "the value, its sensitivity, the model calls and the routing"
                    ),
                    **_errors(*_COMMON_ERRORS, 404, 409, 422, 502, 503),
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


def docs_html(doc: dict[str, Any]) -> str:
    """A self-contained HTML page describing every operation of ``doc`` (no script, no network)."""
    esc = html.escape
    schemas = doc.get("components", {}).get("schemas", {})
    rows: list[str] = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            body = ""
            content = op.get("requestBody", {}).get("content", {})
            for media, spec in content.items():
                schema = spec.get("schema", {})
                ref = schema.get("$ref", "")
                shown = schemas.get(ref.rsplit("/", 1)[-1], schema) if ref else schema
                body += (
                    f"<details><summary>request body ({esc(media)})</summary>"
                    f"<pre>{esc(json.dumps(shown, indent=2))}</pre></details>"
                )
            statuses = ", ".join(esc(s) for s in op.get("responses", {}))
            anchor = esc(op.get("operationId", f"{method}-{path}"))
            rows.append(
                f'<section id="{anchor}"><h3><span class="m {esc(method)}">{esc(method.upper())}</span> '
                f"<code>{esc(path)}</code></h3><p>{esc(op.get('summary', ''))}</p>"
                + (f"<p class='d'>{esc(op.get('description', ''))}</p>" if op.get("description") else "")
                + f"{body}<p class='r'>responses: {statuses}</p></section>"
            )
    problems = "".join(
        f"<li><code>{esc(problem_type(slug))}</code> ({status}): {esc(title)}</li>"
        for slug, (status, title) in sorted(PROBLEM_TYPES.items())
    )
    info = doc["info"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(info["title"])} API {esc(info["version"])}</title>
<style>
body{{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#1b1b1b}}
section{{border-top:1px solid #ddd;padding:.4rem 0}} h3{{margin:.4rem 0;font-size:1rem}}
.m{{display:inline-block;min-width:4.2em;padding:.1em .4em;border-radius:4px;color:#fff;font-size:.8em;
text-align:center}}
.get{{background:#2b6cb0}} .post{{background:#2f855a}} .delete{{background:#c53030}}
pre{{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:.85em}} .d{{white-space:pre-wrap;color:#444}}
.r{{color:#666;font-size:.85em}} a:focus,summary:focus{{outline:3px solid #2b6cb0}}
</style></head><body>
<h1>{esc(info["title"])} API <small>{esc(info["version"])}</small></h1>
<p>{esc(info.get("description", ""))} The machine-readable document is
<a href="/openapi.json">/openapi.json</a> (OpenAPI {esc(doc["openapi"])}).
Send <code>Accept: text/event-stream</code> (or <code>?stream=1</code>) to get
<code>progress</code>, <code>text</code> and <code>confirm</code> events before one <code>result</code> or
<code>error</code>.</p>
{"".join(rows)}
<h2>Problem types</h2><p>Every failure is <code>application/problem+json</code> with one of these types:</p>
<ul>{problems}</ul>
</body></html>
"""

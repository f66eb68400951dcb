"""The HTTP host's OpenAPI document, cut down to what Microsoft 365 Copilot can call.

The HTTP host describes itself in OpenAPI 3.1 (:func:`dualtrack.hosts.http.openapi_document`).
Copilot's API plugins take OpenAPI 3.0.x, JSON request bodies that are flat objects, and
operation ids that equal the plugin's function names. This module keeps the skill
operations only (``POST /v1/skills/{plugin}.{skill}``), inlines each flattened request
body, answers JSON only (no Server-Sent Events), marks writes consequential
(``x-openai-isConsequential``) and rewrites the 3.1 schema forms 3.0 does not know
(``type: [X, "null"]``, ``const``, ``contentMediaType``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dualtrack import Orchestrator, Skill

from ._flatten import FlatArguments, flatten_arguments

__all__ = ["CopilotOperation", "copilot_openapi", "host_document", "skill_operations"]

OPENAPI_VERSION = "3.0.3"
_JSON = "application/json"
_SKILL_PATH = "/v1/skills/{name}"


@dataclass(frozen=True, kw_only=True)
class CopilotOperation:
    """One skill operation of the host's document, with its flattened arguments.

    Attributes:
        skill: The skill.
        path: Its path in the host's API.
        operation_id: The host's operation id (the plugin function's name).
        arguments: The flattened request body and what was left out.
    """

    skill: Skill
    path: str
    operation_id: str
    arguments: FlatArguments


def host_document(orc: Orchestrator, *, base_url: str, auth: bool) -> dict[str, Any]:
    """The HTTP host's own OpenAPI 3.1 document for ``orc``, served at ``base_url``."""
    from dualtrack.hosts.http import openapi_document

    return openapi_document(orc, auth=auth, server_url=base_url)


def _pointer(doc: Mapping[str, Any]) -> Any:
    def resolve(ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise KeyError(ref)
        node: Any = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        if not isinstance(node, Mapping):
            raise KeyError(ref)
        return node

    return resolve


def skill_operations(orc: Orchestrator, doc: Mapping[str, Any]) -> list[CopilotOperation]:
    """Every skill operation the host's document declares, with its flattened body."""
    resolve = _pointer(doc)
    out: list[CopilotOperation] = []
    for skill in sorted(orc.registry.skills(), key=lambda s: s.full_name):
        path = _SKILL_PATH.format(name=skill.full_name)
        op = doc.get("paths", {}).get(path, {}).get("post")
        if op is None:
            continue
        body = op["requestBody"]["content"][_JSON]["schema"]
        out.append(
            CopilotOperation(
                skill=skill,
                path=path,
                operation_id=str(op.get("operationId", "")),
                arguments=flatten_arguments(body, resolve),
            )
        )
    return out


def to_openapi30(node: Any) -> Any:
    """A JSON Schema of OpenAPI 3.1 in the OpenAPI 3.0 dialect."""
    if isinstance(node, list):
        return [to_openapi30(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: to_openapi30(v) for k, v in node.items() if k not in ("contentMediaType", "examples", "$schema")
    }
    kind = out.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) == 1:
            out["type"] = kinds[0]
        else:
            out.pop("type")
            out["anyOf"] = [{"type": k} for k in kinds]
        if len(kinds) < len(kind):
            out["nullable"] = True
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if "$ref" in out and len(out) > 1:  # 3.0 ignores siblings of $ref: keep the reference alone
        out = {"$ref": out["$ref"]}
    if node.get("contentMediaType") == "application/octet-stream":
        out["format"] = "binary"
    return out


def _referenced(doc: Mapping[str, Any], roots: Any) -> set[str]:
    """Names of the component schemas reachable from ``roots``."""
    schemas = doc.get("components", {}).get("schemas", {})
    found: set[str] = set()
    stack = [roots]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in found and name in schemas:
                    found.add(name)
                    stack.append(schemas[name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def copilot_openapi(
    doc: Mapping[str, Any],
    operations: list[CopilotOperation],
    *,
    title: str,
    description: str,
    bearer: bool,
) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the operations Copilot calls.

    Args:
        doc: The HTTP host's document (:func:`host_document`).
        operations: The operations to keep (already checked and flattened).
        title: The API's title.
        description: What the API is for (Copilot reads it).
        bearer: Whether calls carry a bearer token (an API key or an Entra ID token).

    Returns:
        A document that validates as OpenAPI 3.0.3.
    """
    paths: dict[str, Any] = {}
    for op in operations:
        source = doc["paths"][op.path]["post"]
        write = op.skill.effects == "write"
        responses = {}
        for status, response in source.get("responses", {}).items():
            content = {k: v for k, v in response.get("content", {}).items() if k.endswith("json")}
            responses[status] = {**response, "content": content} if content else dict(response)
        paths[op.path] = {
            "post": {
                "operationId": op.operation_id,
                "summary": source.get("summary", op.skill.full_name),
                "description": source.get("description", op.skill.description),
                "tags": [op.skill.plugin],
                "parameters": [p for p in source.get("parameters", []) if p.get("name") == "sensitivity"],
                "requestBody": {"required": True, "content": {_JSON: {"schema": op.arguments.schema()}}},
                "responses": responses,
                "x-openai-isConsequential": write,
                "x-dualtrack-effects": op.skill.effects,
            }
        }
    paths = to_openapi30(paths)
    schemas = doc.get("components", {}).get("schemas", {})
    keep = _referenced(doc, paths)
    out: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": str(doc["info"]["version"]), "description": description},
        "servers": copy.deepcopy(doc.get("servers", [])),
        "paths": paths,
        "components": {"schemas": {name: to_openapi30(schemas[name]) for name in sorted(keep)}},
    }
    if bearer:
        out["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "an API key or an Entra ID token"}
        }
        out["security"] = [{"bearer": []}]
    return out

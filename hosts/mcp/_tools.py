"""Skills as MCP tool definitions, and skill values as MCP tool results.

One tool per skill: the name is ``plugin_skill`` (the HTTP host's operation id, the
form Microsoft 365 Copilot and every model API accept), the input schema is the skill's parameter schema, the
output schema comes from the return annotation when it is a JSON object (a
pydantic model, a ``TypedDict``, a dataclass ...), and the annotations from the
skill's effects (``readOnlyHint`` for reads, ``destructiveHint`` for writes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mcp import types
from pydantic import TypeAdapter

from dualtrack import Orchestrator, Skill

from .._shared import function_name

__all__ = ["ToolSpec", "tool_specs"]


@dataclass(frozen=True, kw_only=True)
class ToolSpec:
    """One skill offered as an MCP tool.

    Attributes:
        skill: The skill.
        tool: The MCP tool definition; its ``outputSchema`` is the skill's
            :meth:`~dualtrack.Skill.output_schema` when that describes a JSON object.
    """

    skill: Skill
    tool: types.Tool

    def result(self, value: Any) -> types.CallToolResult:
        """The tool result of a skill's value: structured content where there is a schema."""
        if self.tool.outputSchema is not None:
            structured = _json(value)
            if isinstance(structured, dict):
                text = json.dumps(structured, ensure_ascii=False, indent=2)
                return types.CallToolResult(
                    content=[types.TextContent(type="text", text=text)], structuredContent=structured
                )
        return types.CallToolResult(content=[types.TextContent(type="text", text=_text(value))])


def _json(value: Any) -> Any:
    """The value as JSON data (pydantic models, dataclasses, TypedDicts ...), or ``None``."""
    try:
        return TypeAdapter(type(value)).dump_python(value, mode="json")
    except Exception:  # noqa: BLE001 - a value pydantic cannot serialise has no structured form
        return None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json(indent=2))
    data = _json(value)
    if data is None and value is not None:
        return str(value)
    return json.dumps(data, ensure_ascii=False, indent=2)


def _output_schema(skill: Skill) -> dict[str, Any] | None:
    """The skill's output schema when it is a JSON object (MCP allows no other kind)."""
    schema = skill.output_schema()
    return schema if schema is not None and schema.get("type") == "object" else None


def _description(skill: Skill, plugin_description: str) -> str:
    parts = [skill.description.strip()]
    if plugin_description:
        parts.append(f"Part of the {skill.plugin!r} plugin: {plugin_description.strip()}")
    if skill.effects == "write":
        parts.append(
            "Changes files: the user is asked to confirm before it runs. Files must lie inside "
            "the folders this server was started with."
        )
    else:
        parts.append("Reads only; changes nothing.")
    return "\n\n".join(parts)


def tool_specs(orc: Orchestrator) -> dict[str, ToolSpec]:
    """Every skill of ``orc`` as an MCP tool, by tool name.

    Args:
        orc: The orchestrator whose skills are offered.

    Returns:
        Tool name (``plugin_skill``) → spec, in the order of the skills' full names. Two
        skills whose names join to the same ``plugin_skill`` (plugin ``a_b`` skill ``c``,
        plugin ``a`` skill ``b_c``): the second keeps the hyphen form ``plugin-skill``.
    """
    plugins = {p.name: p.description for p in orc.registry}
    specs: dict[str, ToolSpec] = {}
    for skill in orc.registry.skills():
        write = skill.effects == "write"
        name = function_name(skill)
        tool = types.Tool(
            name=name if name not in specs else skill.tool_name,
            title=skill.full_name,
            description=_description(skill, plugins.get(skill.plugin, "")),
            inputSchema=skill.parameters_schema(),
            outputSchema=_output_schema(skill),
            annotations=types.ToolAnnotations(
                title=skill.full_name,
                readOnlyHint=not write,
                destructiveHint=write,
                idempotentHint=False if write else None,
            ),
        )
        specs[tool.name] = ToolSpec(skill=skill, tool=tool)
    return specs

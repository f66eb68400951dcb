"""Skills as MCP tool definitions, and skill values as MCP tool results.

One tool per skill: the name is the skill's tool name (``plugin-skill``, the form
every model API accepts), the input schema is the skill's parameter schema, the
output schema comes from the return annotation when it is a JSON object (a
pydantic model, a ``TypedDict``, a dataclass ...), and the annotations from the
skill's effects (``readOnlyHint`` for reads, ``destructiveHint`` for writes).
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass
from typing import Any

from mcp import types
from pydantic import TypeAdapter

from dualtrack import Orchestrator, Skill

__all__ = ["ToolSpec", "tool_specs"]


@dataclass(frozen=True, kw_only=True)
class ToolSpec:
    """One skill offered as an MCP tool.

    Attributes:
        skill: The skill.
        tool: The MCP tool definition.
        output: Serialises the skill's value to the structured content, when the
            tool has an output schema.
    """

    skill: Skill
    tool: types.Tool
    output: TypeAdapter[Any] | None

    def result(self, value: Any) -> types.CallToolResult:
        """The tool result of a skill's value: structured content where there is a schema."""
        if self.output is not None:
            structured = self.output.dump_python(value, mode="json")
            text = json.dumps(structured, ensure_ascii=False, indent=2)
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=text)], structuredContent=structured
            )
        return types.CallToolResult(content=[types.TextContent(type="text", text=_text(value))])


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json(indent=2))
    try:
        return json.dumps(
            TypeAdapter(type(value)).dump_python(value, mode="json"), ensure_ascii=False, indent=2
        )
    except Exception:  # noqa: BLE001 - a value pydantic cannot serialise is shown as text
        return str(value)


def _output(skill: Skill) -> tuple[dict[str, Any] | None, TypeAdapter[Any] | None]:
    """The output schema and serialiser of a skill whose return type is a JSON object."""
    try:
        hints = typing.get_type_hints(skill.func)
    except Exception:  # noqa: BLE001 - unresolvable annotations just mean no output schema
        return None, None
    ret = hints.get("return")
    if ret is None or ret is Any:
        return None, None
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(ret)
        schema = adapter.json_schema(mode="serialization")
    except Exception:  # noqa: BLE001 - pydantic raises several kinds for unsupported types
        return None, None
    if schema.get("type") != "object":
        return None, None
    return schema, adapter


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
        Tool name → spec, in the order of the skills' full names.
    """
    plugins = {p.name: p.description for p in orc.registry}
    specs: dict[str, ToolSpec] = {}
    for skill in orc.registry.skills():
        out_schema, adapter = _output(skill)
        write = skill.effects == "write"
        tool = types.Tool(
            name=skill.tool_name,
            title=skill.full_name,
            description=_description(skill, plugins.get(skill.plugin, "")),
            inputSchema=skill.parameters_schema(),
            outputSchema=out_schema,
            annotations=types.ToolAnnotations(
                title=skill.full_name,
                readOnlyHint=not write,
                destructiveHint=write,
                idempotentHint=False if write else None,
            ),
        )
        specs[tool.name] = ToolSpec(skill=skill, tool=tool, output=adapter)
    return specs

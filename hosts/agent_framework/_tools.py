"""dualtrack skills as Microsoft Agent Framework tools.

Each skill becomes a ``FunctionTool`` whose parameters are the skill's JSON Schema and
whose description is the skill's. Write skills require approval
(``approval_mode="always_require"``): the agent stops with a function approval request,
and the skill runs only after the host answers it with an approval. Every call is a
model-chosen dualtrack call: schema validation, paths confined to the orchestrator's
roots, data-free errors for the model, and the level of what the skill read recorded on
the result (``additional_properties["dualtrack.sensitivity"]``) so that the dualtrack
chat client routes the rest of the conversation accordingly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agent_framework import Content, FunctionTool

from dualtrack import Orchestrator, Skill, UserError

from ..semantic_kernel._calls import ModelChosenCall, call_skill, inline_refs
from ..semantic_kernel._levels import SENSITIVITY_KEY

__all__ = ["skill_tool", "skill_tools"]


def skill_tool(orc: Orchestrator, skill: Skill | str) -> FunctionTool:
    """One skill as an Agent Framework tool (named ``plugin-skill``).

    Args:
        orc: The orchestrator that runs the skill.
        skill: The skill or its ``plugin.skill`` name.

    Returns:
        The tool; write skills require approval.
    """
    s = orc.skill(skill) if isinstance(skill, str) else skill

    async def run(**arguments: Any) -> ModelChosenCall:
        return await call_skill(orc, s.full_name, arguments)

    note = " Changes files: runs only after the user approves." if s.effects == "write" else ""
    return FunctionTool(
        name=s.tool_name,
        description=f"{s.description}{note}",
        approval_mode="always_require" if s.effects == "write" else "never_require",
        func=run,
        input_model=inline_refs(s.parameters_schema()),
        result_parser=_parse,
        additional_properties={"dualtrack.skill": s.full_name, "dualtrack.effects": s.effects},
    )


def skill_tools(orc: Orchestrator, plugins: Iterable[str] | None = None) -> list[FunctionTool]:
    """The skills of the given plugins (all registered ones by default) as tools.

    Raises:
        UserError: When a plugin name is not registered.
    """
    registered = {p.name: p for p in orc.registry}
    names = list(registered) if plugins is None else list(plugins)
    unknown = [n for n in names if n not in registered]
    if unknown:
        raise UserError(
            f"no dualtrack plugin named {', '.join(map(repr, unknown))}; registered: {', '.join(registered)}"
        )
    return [skill_tool(orc, s) for n in names for s in registered[n].skills.values()]


def _parse(outcome: Any) -> list[Content]:
    if not isinstance(outcome, ModelChosenCall):
        return [Content.from_text(str(outcome))]
    props = {SENSITIVITY_KEY: outcome.sensitivity.value, "dualtrack.skill": outcome.skill}
    return [Content.from_text(outcome.text, additional_properties=props)]

"""dualtrack skills as Microsoft Agent Framework tools.

Each skill becomes a ``FunctionTool`` whose parameters are the skill's JSON Schema and
whose description is the skill's. Write skills require approval
(``approval_mode="always_require"``): the agent stops with a function approval request,
and the skill runs only after the host answers it with an approval, which counts as the
user's confirmation. A tool built with ``approval_mode="never_require"`` leaves a write to
the orchestrator's ``confirm`` (refused without one).

Every call runs as ``orc.invoke(..., chosen_by="model")``: schema validation, paths
confined to the orchestrator's roots, data-free errors for the model, and the level of
what the skill read recorded on the result (``additional_properties["dualtrack.sensitivity"]``,
with its model calls under ``"dualtrack.calls"``, failed or not) so that the dualtrack chat
client routes the rest of the conversation accordingly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from agent_framework import Content, FunctionTool

from dualtrack import Orchestrator, Skill, UserError

from .._shared import SENSITIVITY_KEY, ModelChosenCall, inline_refs, run_model_chosen

__all__ = ["skill_tool", "skill_tools"]


def skill_tool(
    orc: Orchestrator,
    skill: Skill | str,
    *,
    approval_mode: Literal["always_require", "never_require"] | None = None,
) -> FunctionTool:
    """One skill as an Agent Framework tool (named ``plugin-skill``).

    Args:
        orc: The orchestrator that runs the skill.
        skill: The skill or its ``plugin.skill`` name.
        approval_mode: ``None``: write skills require approval, reads do not. With
            ``"never_require"`` a write runs only if ``orc.confirm`` approves it.

    Returns:
        The tool.
    """
    s = orc.skill(skill) if isinstance(skill, str) else skill
    mode = approval_mode or ("always_require" if s.effects == "write" else "never_require")
    approved = mode == "always_require"  # the agent runs the tool only after the user approved

    async def run(**arguments: Any) -> ModelChosenCall:
        return await run_model_chosen(orc, s.full_name, arguments, confirmed=approved)

    note = " Changes files: runs only after the user approves." if s.effects == "write" else ""
    return FunctionTool(
        name=s.tool_name,
        description=f"{s.description}{note}",
        approval_mode=mode,
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
    props = {
        SENSITIVITY_KEY: outcome.sensitivity.value,
        "dualtrack.skill": outcome.skill,
        "dualtrack.calls": list(outcome.calls),
    }
    return [Content.from_text(outcome.text, additional_properties=props)]

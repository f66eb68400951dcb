"""``orc.ask`` without a tool-calling model: a model picks a skill and its arguments as constrained JSON.

When no model with the ``tools`` tag qualifies (the embedded model alone, say),
:func:`~dualtrack._app._ask.run_ask` comes here. One skill at most runs per
request, in three calls, each one task:

1. **choose**: JSON ``{"skill": <one of the skill names, or "none">}`` (a JSON Schema
   with an enum of the names, which a connector with grammars enforces);
2. **arguments**: JSON valid for the chosen skill's own parameter schema;
3. **answer**: the request and the skill's outcome (as a data block); when no reply
   passes the degenerate check, the outcome itself is the answer.

The skill runs through the same path as a tool call (``invoke(chosen_by="model")``):
paths must lie inside the roots, a write skill runs only when confirmed, the
outcome (or a failure) raises the conversation's sensitivity before the answer
call routes, and a failure reaches the model only as its data-free summary.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .._model._messages import Message
from .._plugins._checks import degenerate
from .._plugins._prompting import data_block
from .._plugins._skills import Skill

if TYPE_CHECKING:
    from ._context import SkillContext

__all__ = ["NO_SKILL", "choice_schema", "run_offline"]

NO_SKILL = "none"
"""The choice that answers without running a skill."""
_DESCRIPTION_CHARS = 160
_OUTCOME_CHARS = 6000
RunTool = Callable[[str, str], Awaitable[str]]
"""Runs one model-chosen skill (name, JSON arguments) and returns its outcome text."""


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:_DESCRIPTION_CHARS]


def choice_schema(skills: list[Skill]) -> dict[str, Any]:
    """The JSON Schema of the choice: one skill name (or ``"none"``)."""
    return {
        "type": "object",
        "properties": {"skill": {"type": "string", "enum": [s.full_name for s in skills] + [NO_SKILL]}},
        "required": ["skill"],
        "additionalProperties": False,
    }


def _choice_prompt(prompt: str, skills: list[Skill]) -> str:
    lines = [f"- {s.full_name}: {_first_line(s.description)}" for s in skills]
    lines.append(f"- {NO_SKILL}: answer directly, without a skill")
    return (
        f"Request: {prompt}\n\nSkills:\n" + "\n".join(lines) + "\n\nWhich skill does the request need? "
        'Reply with JSON: {"skill": name}.'
    )


def _arguments_prompt(prompt: str, skill: Skill, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", ()))
    params = []
    for name, spec in schema.get("properties", {}).items():
        kind = spec.get("type", "value") if isinstance(spec, dict) else "value"
        about = spec.get("description", "") if isinstance(spec, dict) else ""
        flag = "required" if name in required else "optional"
        params.append(f"- {name} ({kind}, {flag}){': ' + _first_line(about) if about else ''}")
    listed = "\n".join(params) or "- (none)"
    return (
        f"Request: {prompt}\n\nSkill {skill.full_name}: {_first_line(skill.description)}\nParameters:\n"
        f"{listed}\n\nTake the values from the request. Reply with the arguments as JSON."
    )


def _answer_prompt(prompt: str, skill: str, outcome: str) -> str:
    result = data_block(outcome[:_OUTCOME_CHARS], "result")
    return (
        f"Request: {prompt}\n\nThe skill {skill} returned:\n{result}\n\n"
        "Answer the request in a few sentences, using only this result."
    )


async def run_offline(
    ctx: SkillContext, prompt: str, skills: list[Skill], system: str, run_tool: RunTool
) -> str:
    """Choose a skill, fill its arguments, run it and answer (see the module docstring).

    Args:
        ctx: The conversation's context (its calls and sensitivity).
        prompt: The user's request.
        skills: The skills a model may choose from.
        system: The system prompt of the conversation.
        run_tool: Runs the chosen skill exactly as the tool-calling loop does.

    Returns:
        The answer text.
    """
    by_name = {s.full_name: s for s in skills}
    chosen = await ctx.generate_checked(
        [Message.system(system), Message.user(_choice_prompt(prompt, skills))],
        schema=choice_schema(skills),
        fallback={"skill": NO_SKILL},
        max_tokens=64,
        temperature=0.0,
    )
    name = str(chosen.value.get("skill", NO_SKILL))
    skill = by_name.get(name)
    if skill is None:
        done = await ctx.generate([Message.system(system), Message.user(prompt)])
        return done.text
    schema = skill.parameters_schema()
    filled = await ctx.generate_checked(
        [Message.system(system), Message.user(_arguments_prompt(prompt, skill, schema))],
        schema=schema,
        fallback=None,
        max_tokens=256,
        temperature=0.0,
    )
    if filled.value is None:
        return (
            f"I chose {skill.full_name} for this request but could not work out its arguments; "
            "please give them explicitly."
        )
    outcome = await run_tool(skill.full_name, json.dumps(filled.value))
    answer = await ctx.generate_checked(
        [Message.system(system), Message.user(_answer_prompt(prompt, skill.full_name, outcome))],
        checks=[degenerate()],
        source=outcome,
        feedback=False,
        max_models=1,
        fallback=outcome,
        max_tokens=256,
        temperature=0.2,
    )
    return str(answer.value)

"""``orc.ask`` without a tool-calling model: a model picks a skill and its arguments as constrained JSON.

When no model with the ``tools`` tag qualifies (the embedded model alone, say),
:func:`~dualtrack._app._ask.run_ask` comes here. One skill at most runs per
request, in three calls, each one task:

1. **choose**: JSON ``{"skill": <one of the skill names, or "none">}`` (a JSON Schema
   with an enum of the names, which a connector with grammars enforces). The skills
   are listed most relevant first by the words they share with the request
   (:func:`rank_skills`). A model of prompt profile ``small`` is offered only the
   shortlist that shares the most words (at most :data:`SHORTLIST`): measured on
   the embedded 135M model, it picks the same name among several whatever the
   request, but it can tell a fitting skill from ``none`` and fill its arguments;
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
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .._model._cards import PromptProfile
from .._model._messages import Message
from .._plugins._checks import degenerate
from .._plugins._prompting import data_block
from .._plugins._skills import Skill

if TYPE_CHECKING:
    from ._context import SkillContext

__all__ = ["NO_SKILL", "SHORTLIST", "choice_schema", "rank_skills", "run_offline", "shortlist"]

NO_SKILL = "none"
"""The choice that answers without running a skill."""
SHORTLIST = 5
"""Most skills offered to a small model in one choice."""
_DESCRIPTION_CHARS = 160
_COMMON = frozenset("the and for from with that this what which into about your you are was were".split())
_OUTCOME_CHARS = 6000
RunTool = Callable[[str, str], Awaitable[str]]
"""Runs one model-chosen skill (name, JSON arguments) and returns its outcome text."""


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:_DESCRIPTION_CHARS]


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z]{3,}", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower().replace("_", " "))
    return {w[:5] for w in words if w not in _COMMON}


def rank_skills(prompt: str, skills: list[Skill]) -> list[tuple[int, Skill]]:
    """``skills`` ordered by the words (compared by their first five letters) they share with ``prompt``.

    A skill's words are those of its name, description and parameters. Ties keep
    the registry's order.

    Returns:
        ``(shared words, skill)`` pairs, most shared first.
    """
    wanted = _stems(prompt)

    def words(s: Skill) -> set[str]:
        params = s.parameters_schema().get("properties", {})
        about = " ".join(f"{k} {v.get('description', '')}" for k, v in params.items() if isinstance(v, dict))
        return _stems(f"{s.full_name} {s.description} {about}")

    scored = [(len(wanted & words(s)), i, s) for i, s in enumerate(skills)]
    return [(n, s) for n, _, s in sorted(scored, key=lambda t: (-t[0], t[1]))]


def shortlist(ranked: list[tuple[int, Skill]]) -> list[Skill]:
    """The skills sharing at least half as many words with the request as the best one (at most five).

    Every skill (ranked) when none shares a word with it.
    """
    best = ranked[0][0] if ranked else 0
    if best == 0:
        return [s for _, s in ranked]
    return [s for n, s in ranked if n * 2 >= best][:SHORTLIST]


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
    ranked = rank_skills(prompt, skills)
    small = ctx.prompt_profile(json=True) is PromptProfile.SMALL
    skills = shortlist(ranked) if small else [s for _, s in ranked]
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

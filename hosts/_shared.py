"""What the agent hosts share: a model-chosen skill call and its outcome (no framework imports).

Agent hosts (Semantic Kernel's automatic function calling, an Agent Framework agent)
hand dualtrack calls that a *model* chose. :func:`run_model_chosen` runs each through
:meth:`dualtrack.Orchestrator.invoke` with ``chosen_by="model"``, so the core's rules
hold, the same for every host and for ``orc.ask``:

- the arguments are validated against the skill's schema (:class:`~dualtrack.ArgumentError`);
- a path outside the roots, or a secret-looking one, is refused before the skill runs,
  and files the skill opens later are confined too (:class:`~dualtrack.FileAccessError`);
- a write skill runs only when the host's user confirmed the call (``confirmed``) or the
  orchestrator's ``confirm`` approves it (:class:`~dualtrack.NotConfirmedError`);
- the outcome carries the level of what the skill read and every model call it made,
  failed or not, so the host can keep the rest of the conversation with cleared models;
- a failure reaches the model only as :meth:`~dualtrack.DualtrackError.for_model`
  (the error type and a fixed sentence, never file text or input values).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dualtrack import (
    DualtrackError,
    ModelCall,
    NotConfirmedError,
    Orchestrator,
    Sensitivity,
    Skill,
    SkillResult,
)

__all__ = [
    "FUNCTION_NAME",
    "SENSITIVITY_KEY",
    "ModelChosenCall",
    "function_name",
    "highest_label",
    "inline_refs",
    "not_confirmed",
    "run_model_chosen",
    "tool_arguments",
]

SENSITIVITY_KEY = "dualtrack.sensitivity"
"""The metadata key under which hosts record the level of a message or tool result."""


@dataclass(frozen=True, kw_only=True)
class ModelChosenCall:
    """The outcome of one model-chosen skill call, ready to go back to the model.

    Attributes:
        skill: The full skill name (``plugin.skill``).
        text: What the model receives: the value as JSON text, or ``error: ...``.
        sensitivity: The level of what the call read or sent (or failed on).
        calls: The model calls the skill made, also when it failed.
        result: The skill's result when it succeeded.
        error: The error when it failed.
    """

    skill: str
    text: str
    sensitivity: Sensitivity
    calls: tuple[ModelCall, ...] = ()
    result: SkillResult | None = None
    error: DualtrackError | None = None

    @property
    def ok(self) -> bool:
        """Whether the skill ran and returned a value."""
        return self.error is None


FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_]+$")
"""What a function name may be for Microsoft 365 Copilot (and every model API)."""


def function_name(skill: Skill) -> str:
    """``plugin_skill``: the skill's name as an OpenAPI operation id and an MCP tool name.

    It matches :data:`FUNCTION_NAME` (plugin and skill names are ``[a-z][a-z0-9_]*``).
    """
    return f"{skill.plugin}_{skill.name}"


def skill_name(name: str) -> str:
    """``plugin.skill`` for a skill or tool name (``plugin-skill``)."""
    return name if "." in name else name.replace("-", ".", 1)


async def run_model_chosen(
    orc: Orchestrator,
    name: str,
    arguments: Mapping[str, Any],
    *,
    sensitivity: Sensitivity | str | None = None,
    confirmed: bool = False,
) -> ModelChosenCall:
    """Run a skill a model chose; every dualtrack error becomes a data-free outcome.

    Args:
        orc: The orchestrator (its roots confine the call's files).
        name: ``plugin.skill`` (or the tool name ``plugin-skill``).
        arguments: The arguments the model wrote, already parsed from JSON.
        sensitivity: The level of the conversation the call belongs to.
        confirmed: The host's user already approved this exact call (a write skill
            runs only then, or when ``orc.confirm`` approves it).

    Returns:
        The outcome; its ``sensitivity`` is at least ``sensitivity``.
    """
    level = orc.sensitivity_of(sensitivity)
    full = skill_name(name)
    try:
        result = await orc.invoke(
            name, dict(arguments), sensitivity=level, chosen_by="model", confirmed=confirmed
        )
    except DualtrackError as exc:
        return failed(full, exc, level)
    calls = tuple(result.calls)
    return ModelChosenCall(
        skill=result.skill,
        text=result.tool_text(),
        sensitivity=_reached(level, result.sensitivity, calls),
        calls=calls,
        result=result,
    )


def failed(skill: str, exc: DualtrackError, level: Sensitivity) -> ModelChosenCall:
    """The outcome of a call that failed: data-free text, the level and calls it reached."""
    calls = tuple(c for c in exc.calls if isinstance(c, ModelCall))
    return ModelChosenCall(
        skill=skill,
        text=f"error: {exc.for_model()}",
        sensitivity=_reached(level, exc.sensitivity, calls),
        calls=calls,
        error=exc,
    )


def not_confirmed(name: str, sensitivity: Sensitivity) -> ModelChosenCall:
    """The outcome of a write the host's user declined (the skill never ran)."""
    full = skill_name(name)
    return failed(full, NotConfirmedError(full), sensitivity)


def _reached(level: Sensitivity, read: Sensitivity | str | None, calls: Iterable[ModelCall]) -> Sensitivity:
    levels = [level, *(c.decision.requirements.sensitivity for c in calls)]
    if read:
        levels.append(Sensitivity.parse(read))
    return max(levels)


def highest_label(
    labels: Iterable[Mapping[str, Any] | None], floor: Sensitivity = Sensitivity.PUBLIC
) -> Sensitivity:
    """The highest level recorded under :data:`SENSITIVITY_KEY` in any of ``labels`` (metadata mappings)."""
    level = floor
    for meta in labels:
        raw = (meta or {}).get(SENSITIVITY_KEY)
        if raw is not None:
            level = max(level, Sensitivity.parse(raw))
    return level


def tool_arguments(raw: Any) -> str:
    """A framework's tool-call arguments (``None``, JSON text or a mapping) as JSON text."""
    if raw is None:
        return "{}"
    return raw if isinstance(raw, str) else json.dumps(dict(raw), default=str)


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with ``$ref``s to its ``$defs`` inlined (agent frameworks send each property alone)."""
    defs = schema.get("$defs", {})

    def walk(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                key = ref.removeprefix("#/$defs/")
                if key in seen or key not in defs:
                    return {"type": "object"}
                merged = {**defs[key], **{k: v for k, v in node.items() if k != "$ref"}}
                return walk(merged, seen | {key})
            return {k: walk(v, seen) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(v, seen) for v in node]
        return node

    out: dict[str, Any] = walk(schema, frozenset())
    return out

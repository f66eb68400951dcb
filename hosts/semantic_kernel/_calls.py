"""A skill call that a model chose, run the way ``orc.ask`` runs one (no framework imports).

Agent hosts (a Semantic Kernel's automatic function calling, an Agent Framework agent)
hand dualtrack calls that a *model* chose. Such a call keeps dualtrack's rules:

- its arguments are validated against the skill's schema (:class:`~dualtrack.ArgumentError`);
- a path argument outside the orchestrator's roots, or a secret-looking one, is refused
  (:class:`~dualtrack.FileAccessError`) before the skill runs;
- the result carries the sensitivity of what the skill read, so the host can keep it
  from a model that is not cleared for it;
- a failure reaches the model only as :meth:`~dualtrack.DualtrackError.for_model`
  (the error type and a fixed sentence, never file text or input values).

Confirmation of writes is the host's business (an SK filter, an Agent Framework
approval), decided before :func:`call_skill` runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from dualtrack import (
    DualtrackError,
    Orchestrator,
    PathRole,
    Sensitivity,
    Skill,
    SkillResult,
)

__all__ = [
    "ModelChosenCall",
    "call_skill",
    "check_model_paths",
    "inline_refs",
    "path_parameters",
    "tool_text",
]

# the orchestrator's own naming rule for str parameters that name files
_INPUT_NAMES = frozenset({"path", "paths", "file", "filename", "input_path", "source_path"})
_OUTPUT_NAMES = frozenset({"output", "output_path", "out", "dest", "destination", "write_to", "save_to"})


@dataclass(frozen=True, kw_only=True)
class ModelChosenCall:
    """The outcome of one model-chosen skill call, ready to go back to the model.

    Attributes:
        skill: The full skill name (``plugin.skill``).
        text: What the model receives: the value as JSON text, or ``error: ...``.
        sensitivity: The level of what the call read (or failed on).
        result: The skill's result when it succeeded.
        error: The error when it failed.
    """

    skill: str
    text: str
    sensitivity: Sensitivity
    result: SkillResult | None = None
    error: DualtrackError | None = None

    @property
    def ok(self) -> bool:
        """Whether the skill ran and returned a value."""
        return self.error is None


def tool_text(value: Any) -> str:
    """A skill's value as the text a model reads (JSON where it can be)."""
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json())
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def path_parameters(skill: Skill) -> dict[str, PathRole]:
    """The parameters of ``skill`` that name files, and whether each is read or written."""
    roles: dict[str, PathRole] = {}
    for name, info in skill.params.model_fields.items():
        role = _role_of(info.annotation, info.metadata)
        if role is None and _is_text(info.annotation):
            if name in _OUTPUT_NAMES:
                role = PathRole.OUTPUT
            elif name in _INPUT_NAMES or name.endswith(("_path", "_file", "_dir")):
                role = PathRole.INPUT
        if role is not None:
            roles[name] = role
    return roles


def check_model_paths(orc: Orchestrator, skill: Skill, values: Mapping[str, Any]) -> None:
    """Refuse any path argument of a model-chosen call outside the roots (or secret-looking).

    Raises:
        FileAccessError: Naming the path and how to allow its folder.
    """
    access = orc.files.access(model_chosen=True)
    for name, role in path_parameters(skill).items():
        raw = values.get(name)
        items: Iterable[Any] = raw if isinstance(raw, list) else [raw]
        for item in items:
            if item is None or str(item) == "":
                continue
            p = Path(item).expanduser()
            if role is PathRole.OUTPUT:
                p = p.absolute()
                p = p.parent.resolve() / p.name
            else:
                p = p.resolve()
            access.check(p, verb="write" if role is PathRole.OUTPUT else "read")


async def call_skill(
    orc: Orchestrator,
    name: str,
    arguments: Mapping[str, Any],
    *,
    sensitivity: Sensitivity | str | None = None,
) -> ModelChosenCall:
    """Run a skill a model chose; every dualtrack error becomes a data-free outcome.

    Args:
        orc: The orchestrator.
        name: ``plugin.skill`` (or the tool name ``plugin-skill``).
        arguments: The arguments the model wrote, already parsed from JSON.
        sensitivity: The level of the conversation the call belongs to.

    Returns:
        The outcome; its ``sensitivity`` is at least ``sensitivity``.
    """
    level = orc.sensitivity_of(sensitivity)
    full = name.replace("-", ".", 1) if "." not in name else name
    try:
        skill = orc.skill(full)
        values = skill.bind_arguments(dict(arguments))
        check_model_paths(orc, skill, values)
        result = await orc.invoke(skill.full_name, dict(arguments), sensitivity=level)
    except DualtrackError as exc:
        carried = max(level, Sensitivity.parse(exc.sensitivity)) if exc.sensitivity else level
        return ModelChosenCall(skill=full, text=f"error: {exc.for_model()}", sensitivity=carried, error=exc)
    read = [level, result.sensitivity or level, *(c.decision.requirements.sensitivity for c in result.calls)]
    return ModelChosenCall(skill=full, text=tool_text(result.value), sensitivity=max(read), result=result)


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with ``$ref``s to its ``$defs`` inlined (SK sends each property on its own)."""
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


def _role_of(annotation: Any, metadata: Iterable[Any] = ()) -> PathRole | None:
    for meta in metadata:
        if isinstance(meta, PathRole):
            return meta
    if annotation is Path:
        return PathRole.INPUT
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        return _role_of(base, extra)
    for arg in get_args(annotation):
        role = _role_of(arg)
        if role is not None:
            return role
    return None


def _is_text(annotation: Any) -> bool:
    return annotation is str or any(_is_text(a) for a in get_args(annotation))

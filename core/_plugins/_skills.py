"""``@skill``: typed callables whose JSON Schema comes from their signature.

Decorating only records options; everything is checked when the plugin is
registered (see ``_plugins.py``), so one error can list every problem.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from .._errors import ArgumentError
from ._docstrings import parse_docstring

__all__ = ["Effects", "Skill", "skill"]

Effects = Literal["read", "write"]
F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__dualtrack_skill__"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(slots=True, frozen=True)
class _SkillOptions:
    name: str | None
    requires: tuple[str, ...]
    prefers: tuple[str, ...]
    effects: str
    description: str | None


@overload
def skill(func: F, /) -> F: ...
@overload
def skill(
    *,
    name: str | None = None,
    requires: Iterable[str] = (),
    prefers: Iterable[str] = (),
    effects: Effects = "read",
    description: str | None = None,
) -> Callable[[F], F]: ...
def skill(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    requires: Iterable[str] = (),
    prefers: Iterable[str] = (),
    effects: Effects = "read",
    description: str | None = None,
) -> Any:
    """Mark a plugin method as a skill.

    Args:
        func: The method, when used bare as ``@skill``.
        name: The skill name; defaults to the method name.
        requires: Capability tags every model serving this skill must have.
        prefers: Tags that make a model more attractive for this skill.
        effects: ``"read"``, or ``"write"`` when the skill changes files or state
            (a model-chosen call to a writing skill needs confirmation).
        description: Overrides the docstring summary.

    Returns:
        The method unchanged, carrying the options for registration.
    """
    opts = _SkillOptions(
        name,
        tuple([requires] if isinstance(requires, str) else requires),
        tuple([prefers] if isinstance(prefers, str) else prefers),
        effects,
        description,
    )

    def mark(f: F) -> F:
        setattr(f, _MARK, opts)
        return f

    return mark(func) if func is not None else mark


def skill_options(obj: object) -> _SkillOptions | None:
    """Return the options ``@skill`` stored on ``obj``, if any."""
    return getattr(obj, _MARK, None)


@dataclass(slots=True)
class Skill:
    """A registered skill, bound to its plugin instance.

    Attributes:
        plugin: The plugin name.
        name: The skill name within the plugin.
        description: What it does (from the docstring or the decorator).
        requires: Hard capability tags.
        prefers: Soft capability tags.
        effects: ``read`` or ``write``.
        func: The bound method.
        params: The pydantic model of the parameters (no ``ctx``).
        ctx_param: The name of the injected context parameter, if any.
        is_async: Whether the skill is a coroutine function.
        returns: The JSON Schema of the return value (see :meth:`output_schema`).
    """

    plugin: str
    name: str
    description: str
    requires: frozenset[str]
    prefers: frozenset[str]
    effects: str
    func: Callable[..., Any]
    params: type[BaseModel]
    ctx_param: str | None
    is_async: bool = False
    returns: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def full_name(self) -> str:
        """``plugin.skill``."""
        return f"{self.plugin}.{self.name}"

    @property
    def tool_name(self) -> str:
        """The name used in OpenAI tool definitions (``plugin-skill``)."""
        return f"{self.plugin}-{self.name}"

    def parameters_schema(self) -> dict[str, Any]:
        """The JSON Schema of the parameters."""
        schema = self.params.model_json_schema()
        schema["title"] = self.full_name
        return schema

    def output_schema(self) -> dict[str, Any] | None:
        """The JSON Schema (serialization mode) of what the skill returns, computed at registration.

        ``None`` when the return annotation says nothing a schema adds: none at all,
        ``None``, ``Any`` or plain ``str`` text, or a type pydantic cannot describe.
        MCP offers the schema of an object as a tool's ``outputSchema``.
        """
        return deepcopy(self.returns) if self.returns is not None else None

    def openai_tool(self) -> dict[str, Any]:
        """The OpenAI Chat Completions tool definition."""
        return {
            "type": "function",
            "function": {
                "name": self.tool_name,
                "description": self.description,
                "parameters": self.parameters_schema(),
            },
        }

    def manifest(self) -> dict[str, Any]:
        """Plain data describing the skill."""
        return {
            "name": self.full_name,
            "description": self.description,
            "requires": sorted(self.requires),
            "prefers": sorted(self.prefers),
            "effects": self.effects,
            "parameters": self.parameters_schema(),
            "needs_model": self.ctx_param is not None,
        }

    def bind_arguments(self, args: dict[str, Any]) -> dict[str, Any]:
        """Validate ``args`` against the schema.

        Args:
            args: Raw keyword arguments.

        Returns:
            Validated values, pydantic models kept as instances.

        Raises:
            ArgumentError: Naming the skill and each bad field.
        """
        if not args and not self.params.model_fields:  # a skill without parameters, called without any
            return {}
        try:
            model = self.params.model_validate(args)
        except ValidationError as exc:
            errors = [
                (".".join(str(p) for p in err["loc"]) or "(arguments)", err["msg"]) for err in exc.errors()
            ]
            raise ArgumentError(self.full_name, errors) from None
        return {name: getattr(model, name) for name in type(model).model_fields}


def build_skill(plugin: str, attr: str, func: Callable[..., Any], problems: list[str]) -> Skill | None:
    """Validate one marked method and build its :class:`Skill`.

    Args:
        plugin: The plugin name, for messages.
        attr: The attribute name on the class.
        func: The bound method.
        problems: Where to append each problem found.

    Returns:
        The skill, or ``None`` when it had problems.
    """
    opts = skill_options(func)
    assert opts is not None
    name = opts.name or attr
    where = f"skill {plugin}.{name}"
    start = len(problems)
    if not _NAME.match(name):
        problems.append(f"{where}: name must be lowercase snake_case (e.g. 'summarize_text')")
    if opts.effects not in ("read", "write"):
        problems.append(f"{where}: unknown effects {opts.effects!r}; use 'read' or 'write'")
    for tag in opts.requires + opts.prefers:
        if not isinstance(tag, str) or not tag.strip():
            problems.append(f"{where}: capability tags must be non-empty strings, got {tag!r}")
    doc = parse_docstring(inspect.getdoc(func))
    description = opts.description or doc.description
    if not description:
        problems.append(f"{where}: missing description; add a docstring whose first line says what it does")
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as exc:  # noqa: BLE001 - any failure to resolve annotations is reported
        problems.append(f"{where}: cannot resolve type hints ({exc}); import the types at module level")
        hints = {}
    fields: dict[str, Any] = {}
    ctx_param: str | None = None
    for pname, param in inspect.signature(func).parameters.items():
        ann = hints.get(pname, inspect.Parameter.empty)
        is_ctx = getattr(ann, "__dualtrack_context__", False)
        if is_ctx or (pname == "ctx" and ann is inspect.Parameter.empty):
            ctx_param = pname
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            problems.append(f"{where}: *{pname} is not supported; declare each parameter by name")
            continue
        if ann is inspect.Parameter.empty:
            problems.append(f"{where}: parameter {pname!r} has no type annotation; add one")
            continue
        try:
            TypeAdapter(ann).json_schema()
        except Exception as exc:  # noqa: BLE001 - pydantic raises several kinds here
            problems.append(
                f"{where}: parameter {pname!r} has unsupported type {ann!r} "
                f"({type(exc).__name__}); use JSON-friendly types or a pydantic model"
            )
            continue
        pdesc = doc.args.get(pname)
        if not pdesc and not _has_field_description(ann):
            problems.append(f"{where}: parameter {pname!r} has no description; document it under 'Args:'")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (ann, Field(default, description=pdesc) if pdesc else default)
    if len(problems) > start:
        return None
    params = create_model(  # type: ignore[call-overload]
        f"{plugin}_{name}_params",
        __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=False),
        **fields,
    )
    return Skill(
        plugin=plugin,
        name=name,
        description=description,
        requires=frozenset(opts.requires),
        prefers=frozenset(opts.prefers),
        effects=opts.effects,
        func=func,
        params=params,
        ctx_param=ctx_param,
        is_async=inspect.iscoroutinefunction(func),
        returns=_return_schema(hints.get("return", inspect.Parameter.empty)),
    )


def _return_schema(ann: Any) -> dict[str, Any] | None:
    """The JSON Schema of a return annotation, or ``None`` where it adds nothing."""
    if ann in (inspect.Parameter.empty, None, type(None), Any, str):
        return None
    try:
        schema: dict[str, Any] = TypeAdapter(ann).json_schema(mode="serialization")
    except Exception:  # noqa: BLE001 - pydantic raises several kinds for unsupported types
        return None
    return schema


def _has_field_description(ann: Any) -> bool:
    for meta in getattr(ann, "__metadata__", ()):
        if getattr(meta, "description", None):
            return True
    return False

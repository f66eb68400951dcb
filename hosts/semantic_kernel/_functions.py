"""dualtrack skills inside a Semantic Kernel: one ``KernelFunction`` per skill, plus two filters.

Each :class:`SkillFunction` takes its parameters' JSON Schema and description from the
skill, so SK's automatic function calling offers the model exactly what dualtrack
validates; invoking it runs the skill through :meth:`dualtrack.Orchestrator.invoke`
(routing, labels, ledger kept).

Two filters keep dualtrack's rules on the model-chosen path:

- an *auto function invocation* filter marks a call as chosen by a model, so it runs
  as ``orc.invoke(..., chosen_by="model")``: path arguments must lie inside the roots,
  a write needs confirmation, and errors reach the model data-free. It also withholds
  a result labelled above the clearance of a driving chat service that is not
  dualtrack-routed;
- a *function invocation* filter asks the kernel's own ``confirm`` (which may be async)
  before a model-chosen write skill runs. Without one, the orchestrator's ``confirm``
  decides, with the resolved arguments; with neither, the write is refused.

A skill function run without the filters (someone registered the plugin alone) is a
call the host made, and runs as ``orc.invoke`` does.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from copy import deepcopy
from typing import Any

from pydantic import Field
from semantic_kernel import Kernel
from semantic_kernel.filters import AutoFunctionInvocationContext, FilterTypes, FunctionInvocationContext
from semantic_kernel.functions import (
    FunctionResult,
    KernelFunction,
    KernelFunctionMetadata,
    KernelParameterMetadata,
    KernelPlugin,
)

from dualtrack import Orchestrator, Sensitivity, Skill, UserError

from .._shared import inline_refs, not_confirmed, run_model_chosen
from ._levels import SENSITIVITY_KEY, history_sensitivity

__all__ = ["ConfirmCallback", "SkillFunction", "add_to_kernel", "kernel_plugin"]

ConfirmCallback = Callable[[Skill, dict[str, Any]], "bool | Awaitable[bool]"]
"""Asked before a model-chosen write skill runs: ``(skill, arguments) -> bool`` (may be async)."""

_CHOSEN: ContextVar[AutoFunctionInvocationContext | None] = ContextVar("dualtrack_sk_chosen", default=None)
# the kernel's own confirm answered for this skill: (full name, approved)
_ANSWERED: ContextVar[tuple[str, bool] | None] = ContextVar("dualtrack_sk_answered", default=None)


class SkillFunction(KernelFunction):
    """A dualtrack skill as a Semantic Kernel function (build with :func:`kernel_plugin`)."""

    orchestrator: Any = Field(exclude=True)
    skill: Any = Field(exclude=True)

    @classmethod
    def from_skill(cls, orc: Orchestrator, skill: Skill) -> SkillFunction:
        """Build the function of one skill, its parameters from the skill's JSON Schema."""
        schema = inline_refs(skill.parameters_schema())
        required = set(schema.get("required", ()))
        params = [
            KernelParameterMetadata(
                name=name,
                description=prop.get("description"),
                default_value=prop.get("default"),
                type=_type_name(prop),
                is_required=name in required,
                schema_data=prop,
            )
            for name, prop in schema.get("properties", {}).items()
        ]
        metadata = KernelFunctionMetadata(
            name=skill.name,
            plugin_name=skill.plugin,
            description=_description(skill),
            parameters=params,
            is_prompt=False,
            is_asynchronous=True,
            additional_properties={"dualtrack.effects": skill.effects, "dualtrack.skill": skill.full_name},
        )
        return cls(metadata=metadata, orchestrator=orc, skill=skill)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> SkillFunction:
        copied: SkillFunction = self.model_copy(deep=False)
        copied.metadata = deepcopy(self.metadata, memo)
        return copied  # the orchestrator and the skill are shared, never copied

    async def _invoke_internal(self, context: FunctionInvocationContext) -> None:
        skill: Skill = self.skill
        names = set(skill.params.model_fields)
        args = {k: v for k, v in context.arguments.items() if k in names}
        chosen = _CHOSEN.get()
        if chosen is None:  # the host called it (kernel.invoke): errors raise, as for orc.invoke
            result = await self.orchestrator.invoke(skill.full_name, args)
            meta = {
                SENSITIVITY_KEY: (result.sensitivity or Sensitivity.GENERAL).value,
                "dualtrack.result": result,
            }
            context.result = FunctionResult(function=self.metadata, value=result.value, metadata=meta)
            return
        level = history_sensitivity(
            chosen.chat_history.messages if chosen.chat_history else (),
            self.orchestrator.sensitivity_of(getattr(chosen.execution_settings, "sensitivity", None)),
        )
        answered = _ANSWERED.get()
        if answered == (skill.full_name, False):  # the kernel's confirm declined: never ask anyone else
            outcome = not_confirmed(skill.full_name, level)
        else:
            outcome = await run_model_chosen(
                self.orchestrator,
                skill.full_name,
                args,
                sensitivity=level,
                confirmed=answered == (skill.full_name, True),
            )
        meta = {
            SENSITIVITY_KEY: outcome.sensitivity.value,
            "dualtrack.result": outcome.result,
            "dualtrack.calls": list(outcome.calls),
        }
        if outcome.error is not None:
            meta["dualtrack.error"] = outcome.error
        context.result = FunctionResult(function=self.metadata, value=outcome.text, metadata=meta)

    async def _invoke_internal_stream(self, context: FunctionInvocationContext) -> None:
        await self._invoke_internal(context)


def kernel_plugin(orc: Orchestrator, plugin: str) -> KernelPlugin:
    """The skills of one dualtrack plugin as an SK plugin: ``kernel.add_plugin(kernel_plugin(orc, "doc"))``.

    Prefer :func:`add_to_kernel`, which also installs the filters that confirm writes.

    Raises:
        UnknownSkillError: When the orchestrator has no such plugin.
    """
    for p in orc.registry:
        if p.name == plugin:
            functions = [SkillFunction.from_skill(orc, s) for s in p.skills.values()]
            return KernelPlugin(name=p.name, description=p.description or None, functions=functions)
    known = ", ".join(p.name for p in orc.registry) or "(none)"
    raise UserError(f"no dualtrack plugin named {plugin!r}; registered plugins: {known}")


def add_to_kernel(
    kernel: Kernel,
    orc: Orchestrator,
    plugins: Iterable[str] | None = None,
    *,
    confirm: ConfirmCallback | None = None,
    clearance: Sensitivity | str = Sensitivity.GENERAL,
) -> list[KernelPlugin]:
    """Add dualtrack plugins to ``kernel`` with the filters that keep dualtrack's rules.

    Args:
        kernel: The Semantic Kernel.
        orc: The orchestrator whose skills run.
        plugins: Plugin names; ``None`` adds every registered plugin.
        confirm: Asked before a model-chosen write skill runs (may be async); when it
            declines, the call is refused. ``None`` leaves the decision to
            ``orc.confirm``; with neither, model-chosen writes are refused.
        clearance: The highest sensitivity a chat service of the kernel that is not
            :class:`~dualtrack.hosts.semantic_kernel.DualtrackChatCompletion` may read
            in a tool result; a result labelled above it is withheld from that model.

    Returns:
        The SK plugins added.
    """
    names = [p.name for p in orc.registry] if plugins is None else list(plugins)
    added = [kernel.add_plugin(kernel_plugin(orc, name)) for name in names]
    ceiling = Sensitivity.parse(clearance)

    async def mark_model_chosen(context: AutoFunctionInvocationContext, next: Any) -> None:
        token = _CHOSEN.set(context)
        try:
            await next(context)
        finally:
            _CHOSEN.reset(token)
        if isinstance(context.function, SkillFunction):
            _withhold_above_clearance(context, ceiling)

    async def confirm_writes(context: FunctionInvocationContext, next: Any) -> None:
        fn = context.function
        chosen = _CHOSEN.get() is not None
        if confirm is None or not (isinstance(fn, SkillFunction) and fn.skill.effects == "write" and chosen):
            await next(context)  # no kernel-level confirm: the orchestrator's rule decides
            return
        names = set(fn.skill.params.model_fields)
        args = {k: v for k, v in context.arguments.items() if k in names}
        answer = confirm(fn.skill, args)
        approved = bool(await answer) if inspect.isawaitable(answer) else bool(answer)
        token = _ANSWERED.set((fn.skill.full_name, approved))
        try:
            await next(context)
        finally:
            _ANSWERED.reset(token)

    kernel.add_filter(FilterTypes.AUTO_FUNCTION_INVOCATION, mark_model_chosen)
    kernel.add_filter(FilterTypes.FUNCTION_INVOCATION, confirm_writes)
    return added


def _withhold_above_clearance(context: AutoFunctionInvocationContext, ceiling: Sensitivity) -> None:
    """Keep a labelled result from a driving chat service that dualtrack does not route."""
    from ._chat import DualtrackChatCompletion

    result = context.function_result
    if result is None or SENSITIVITY_KEY not in (result.metadata or {}):
        return
    level = Sensitivity.parse(result.metadata[SENSITIVITY_KEY])
    if level <= ceiling or _driven_by_dualtrack(context, DualtrackChatCompletion):
        return
    text = (
        f"error: the result of {context.function.fully_qualified_name} is labelled {level.value}, above "
        f"what the model driving this conversation is cleared for ({ceiling.value}); it was withheld"
    )
    context.function_result = FunctionResult(
        function=context.function.metadata, value=text, metadata={SENSITIVITY_KEY: ceiling.value}
    )


def _driven_by_dualtrack(context: AutoFunctionInvocationContext, routed: type) -> bool:
    from semantic_kernel.connectors.ai.chat_completion_client_base import ChatCompletionClientBase

    settings = context.execution_settings
    services = context.kernel.get_services_by_type(ChatCompletionClientBase)
    service_id = getattr(settings, "service_id", None)
    if service_id and service_id in services:
        return isinstance(services[service_id], routed)
    return bool(services) and all(isinstance(s, routed) for s in services.values())


def _description(skill: Skill) -> str:
    note = " Changes files: runs only after the user confirms." if skill.effects == "write" else ""
    return f"{skill.description}{note}"


def _type_name(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if isinstance(kind, str):
        return {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}.get(kind, kind)
    return "object"

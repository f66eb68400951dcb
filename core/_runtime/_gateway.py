"""One routed model call, end to end: boundary, budgets, routing, execution, ledger, shadows.

:class:`~dualtrack.Orchestrator` delegates ``ctx.generate`` here. The steps:

1. The payload's sensitivity is the higher of the call's requirements and its
   request (fail closed), and travels on the request to every attempt.
2. Open circuits and budget refusals become the router's ``unavailable`` map, so
   route explanations say why a model was skipped.
3. The executor runs the candidates under the skill call's deadline, with a
   budget gate that reserves spend before each attempt.
4. Real usage goes to the ledger; shadow models configured for the skill get a
   copy of the request in the background, but only if the router let them
   through the same hard constraints (clearance, tags, window, budget).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import BudgetExceededError, NoRouteError
from .._model._messages import Completion, CompletionRequest
from .._model._redact import redact
from ._execution import Attempt

if TYPE_CHECKING:
    from .._app._context import SkillContext
    from .._app._orchestrator import Orchestrator
    from .._model._cards import ModelCard
    from .._routing._decision import RouteDecision
    from .._routing._router import Requirements

__all__ = ["ShadowResult", "SkillScope", "Scopes", "call_model"]

_log = logging.getLogger("dualtrack")


@dataclass(slots=True)
class ShadowResult:
    """The outcome of one shadow call (a copy of a request sent to a second model).

    Attributes:
        skill: The skill whose call was shadowed.
        model: The shadow model.
        completion: Its answer, or ``None`` when it failed or was not allowed.
        attempts: What happened (a skip says which hard constraint refused it).
        primary: The model that answered the real call.
    """

    skill: str | None
    model: str
    completion: Completion | None
    attempts: list[Attempt]
    primary: str | None = None


ShadowCallback = Callable[[ShadowResult], None]


@dataclass(slots=True, eq=False)
class SkillScope:
    """What one skill call shares across its model calls: deadline, span, in-flight tasks."""

    deadline: float
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    cancelled: bool = False

    def cancel(self) -> None:
        """Cancel every in-flight model call of this skill call (and refuse new ones)."""
        self.cancelled = True
        for task in list(self.tasks):
            task.cancel()


class Scopes:
    """Skill scopes by context; a context without one (host calls) gets one on first use."""

    def __init__(self, orc: Orchestrator) -> None:
        self._orc = orc
        self._by_ctx: weakref.WeakKeyDictionary[SkillContext, SkillScope] = weakref.WeakKeyDictionary()

    def get(self, ctx: SkillContext) -> SkillScope:
        """The scope of ``ctx``."""
        scope = self._by_ctx.get(ctx)
        if scope is None:
            scope = self._by_ctx[ctx] = self._new()
        return scope

    def _new(self) -> SkillScope:
        ex = self._orc.executor
        return SkillScope(ex.now() + ex.retry.deadline_s)

    @contextlib.asynccontextmanager
    async def enter(self, ctx: SkillContext) -> AsyncIterator[SkillScope]:
        """Run a skill call inside a span, a deadline and cancellation bookkeeping."""
        scope = self._by_ctx[ctx] = self._new()
        with self._orc.telemetry.skill_span(ctx.skill.full_name, ctx.sensitivity.value) as span:
            try:
                yield scope
            except BaseException:
                scope.cancel()  # model calls a worker thread started are separate tasks
                raise
            finally:
                if span.is_recording():
                    span.set_attributes(
                        {
                            "dualtrack.calls": len(ctx.calls),
                            "dualtrack.cost_usd": sum(c.cost_usd for c in ctx.calls),
                            "dualtrack.sensitivity": ctx.sensitivity.value,
                        }
                    )


def unavailable(orc: Orchestrator, req: Requirements) -> dict[str, str]:
    """Models the router must skip now: open circuits, then budget refusals."""
    out = orc.executor.unavailable()
    budget = orc.budget
    if budget is not None:
        for name, reason in budget.unavailable(orc.models.values(), req).items():
            out.setdefault(name, reason)
    return out


async def call_model(
    orc: Orchestrator, req: Requirements, request: CompletionRequest, ctx: SkillContext
) -> Completion:
    """Route and run one model call for ``ctx`` (see the module docstring)."""
    scope = orc._scopes.get(ctx)
    if scope.cancelled:
        raise asyncio.CancelledError()
    level = max(req.sensitivity, request.sensitivity)
    if req.sensitivity != level:
        req = dataclasses.replace(req, sensitivity=level)
    if request.sensitivity != level:
        request = dataclasses.replace(request, sensitivity=level)
    decision = orc.router.route(req, unavailable(orc, req))
    from ._result import ModelCall

    call = ModelCall(decision)
    ctx.calls.append(call)
    if not decision.candidates:
        raise _no_route(orc, req, decision)
    gate = orc.budget.gate(req) if orc.budget is not None else None
    task = asyncio.current_task()
    if task is not None:
        scope.tasks.add(task)
    try:
        completion = await orc.executor.run(
            decision, request, call.attempts, deadline=scope.deadline, gate=gate
        )
    finally:
        if task is not None:
            scope.tasks.discard(task)
    card = orc.models[completion.model_card or ""]
    call.model = card.name
    call.usage = completion.usage
    call.cost_usd = card.blended_cost(completion.usage.input_tokens, completion.usage.output_tokens)
    _record(orc, card, req.skill, completion, call.cost_usd)
    shadows = _shadow_models(orc.shadow, req.skill)
    if shadows:
        _start_shadows(orc, shadows, decision, req, request, card.name)
    return completion


def _record(orc: Orchestrator, card: ModelCard, skill: str | None, done: Completion, cost: float) -> None:
    try:
        orc.ledger.record(card, skill, done.usage, cost)
    except Exception as exc:  # noqa: BLE001 - a ledger problem must not lose an answer
        _log.warning("usage ledger could not record a call to %s: %s", card.name, redact(str(exc)))


def _no_route(orc: Orchestrator, req: Requirements, decision: RouteDecision) -> Exception:
    budget_only = [r for r in decision.rejections if r.constraint == "unavailable" and _is_budget(r.detail)]
    if budget_only:
        without = orc.router.route(req, orc.executor.unavailable())
        if without.candidates:
            err = BudgetExceededError(
                "every model that could serve this call would exceed a budget.\n"
                + decision.explain()
                + "\nTo fix: raise the limit under [budgets] in dualtrack.toml, wait for the next day "
                "(UTC), or add a cheaper (e.g. in-house) model.",
                decision,
            )
            return err
    return NoRouteError(decision)


def _is_budget(detail: Any) -> bool:
    return isinstance(detail, str) and detail.startswith("budget:")


def _shadow_models(table: Mapping[str, Sequence[str]], skill: str | None) -> Sequence[str]:
    if not table or not skill:
        return ()
    found = table.get(skill)
    if found is None:
        found = table.get(skill.split(".", 1)[0], ())
    return found


def _start_shadows(
    orc: Orchestrator,
    models: Sequence[str],
    decision: RouteDecision,
    req: Requirements,
    request: CompletionRequest,
    primary: str,
) -> None:
    allowed = set(decision.order)
    for name in models:
        if name == primary:
            continue
        if name not in allowed:  # rejected by a hard constraint: never called, on this path either
            why = next((r.reason for r in decision.rejections if r.model == name), "not in the catalog")
            skipped = [Attempt(name, False, f"skipped: {why}", 0.0, 0, "Rejected")]
            _deliver(orc, ShadowResult(req.skill, name, None, skipped, primary))
            continue
        orc.executor.spawn(_shadow(orc, orc.models[name], decision, req, request, primary))


async def _shadow(
    orc: Orchestrator,
    card: ModelCard,
    decision: RouteDecision,
    req: Requirements,
    request: CompletionRequest,
    primary: str,
) -> None:
    gate = orc.budget.gate(req) if orc.budget is not None else None
    deadline = orc.executor.now() + orc.executor.retry.attempt_timeout_s
    done, attempts = await orc.executor.call_once(card, request, decision, deadline, gate=gate)
    if done is not None:
        _record(
            orc, card, req.skill, done, card.blended_cost(done.usage.input_tokens, done.usage.output_tokens)
        )
    _deliver(orc, ShadowResult(req.skill, card.name, done, attempts, primary))


def _deliver(orc: Orchestrator, result: ShadowResult) -> None:
    if orc.on_shadow is None:
        return
    try:
        orc.on_shadow(result)
    except Exception:  # noqa: BLE001 - a host callback must not break the primary path
        _log.exception("on_shadow callback failed")

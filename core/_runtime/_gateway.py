"""The model gateway: one owner for the path from "a skill asks for a model" to a completion.

:class:`ModelGateway` holds the router, the executor, the budget tracker, the
usage ledger and the shadow table. A skill call runs inside a :class:`SkillScope`
(its deadline, cancellation, span and model calls) that the orchestrator opens
with :meth:`ModelGateway.skill_scope`; each ``ctx.generate`` then goes through
:meth:`ModelGateway.call`:

1. The payload's sensitivity is the higher of the call's requirements and its
   request (fail closed), and travels on the request to every attempt.
2. Open circuits and budget refusals become rejections the router sees, so route
   explanations say why a model was skipped. When the only models that qualify
   are behind open circuits, one of them gets its half-open probe now instead
   of every call being refused.
3. The executor runs the candidates under the skill call's deadline, with a
   budget gate that reserves spend before each attempt.
4. Real usage goes to the ledger; shadow models configured for the skill get a
   copy of the request in the background (the sampled fraction of calls), if the
   router let them through the same hard constraints.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._errors import BudgetExceededError, NoRouteError
from .._model._messages import Completion, CompletionRequest
from .._model._sensitivity import Sensitivity
from .._routing._decision import Constraint, Rejection, RouteDecision
from ._result import ModelCall
from ._shadow import ShadowCallback, Shadows

if TYPE_CHECKING:
    from .._model._cards import ModelCard
    from .._routing._router import Requirements, Router
    from ._budget import BudgetGate, BudgetTracker
    from ._execution import Executor
    from ._ledger import Ledger
    from ._telemetry import Telemetry

__all__ = ["ModelGateway", "SkillScope"]

_log = logging.getLogger("dualtrack")


class SkillScope:
    """What one skill call shares across its model calls: deadline, cancellation, span, calls.

    Open one with :meth:`ModelGateway.skill_scope` and ``async with``; a scope that
    is never entered (a host's one-off call) has a deadline and no span.

    Attributes:
        skill: The full skill name.
        sensitivity: The highest sensitivity of the data its calls carried so far.
        deadline: When every model call of the skill call must be done, on the
            executor's clock.
        calls: Every routed model call made in the scope, in order.
        tasks: The tasks running its model calls now (cancelled with the scope).
        cancelled: Set by :meth:`cancel`; later model calls are refused.
    """

    __slots__ = (
        "_span",
        "_span_cm",
        "_telemetry",
        "calls",
        "cancelled",
        "deadline",
        "sensitivity",
        "skill",
        "tasks",
    )

    def __init__(
        self, skill: str, sensitivity: Sensitivity, deadline: float, telemetry: Telemetry | None = None
    ) -> None:
        self.skill = skill
        self.sensitivity = sensitivity
        self.deadline = deadline
        self.calls: list[ModelCall] = []
        self.cancelled = False
        self._telemetry = telemetry
        self.tasks: set[asyncio.Task[Any]] = set()
        self._span_cm: Any = None
        self._span: Any = None

    def cancel(self) -> None:
        """Cancel every in-flight model call of this skill call (and refuse new ones)."""
        self.cancelled = True
        for task in list(self.tasks):
            task.cancel()

    async def __aenter__(self) -> SkillScope:
        telemetry = self._telemetry
        if telemetry is not None and telemetry.enabled:
            self._span_cm = telemetry.skill_span(self.skill, self.sensitivity.value)
            self._span = self._span_cm.__enter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is not None:
            self.cancel()  # model calls a worker thread started are separate tasks
        cm, span, self._span_cm, self._span = self._span_cm, self._span, None, None
        if cm is None:
            return
        if span.is_recording():
            span.set_attributes(
                {
                    "dualtrack.calls": len(self.calls),
                    "dualtrack.cost_usd": sum(c.cost_usd for c in self.calls),
                    "dualtrack.sensitivity": self.sensitivity.value,
                }
            )
        cm.__exit__(exc_type, exc, tb)


class ModelGateway:
    """Routes and runs model calls: budgets, circuits, deadline, ledger and shadows.

    The orchestrator builds one and exposes it as ``orc.gateway``; each
    :class:`~dualtrack.SkillContext` is handed it.

    Args:
        router: Chooses the candidates.
        executor: Runs them (retries, breakers, fallback, deadline).
        ledger: Records the usage of every answered call.
        budget: Daily budgets, or ``None`` when nothing is limited.
        shadow: Skill or plugin name (``"*"``: every skill) → models that also get a copy of its calls.
        on_shadow: Receives each :class:`~dualtrack.ShadowResult`.
        shadow_fraction: The share of calls shadowed, in ``[0, 1]``.
        shadow_seed: Seeds the sampling draw.
    """

    def __init__(
        self,
        router: Router,
        executor: Executor,
        *,
        ledger: Ledger,
        budget: BudgetTracker | None = None,
        shadow: Mapping[str, Sequence[str]] | None = None,
        on_shadow: ShadowCallback | None = None,
        shadow_fraction: float = 1.0,
        shadow_seed: int | None = None,
    ) -> None:
        self.router = router
        self.executor = executor
        self.ledger = ledger
        self.budget = budget
        self.shadows = Shadows(shadow or {}, executor, on_shadow, fraction=shadow_fraction, seed=shadow_seed)

    @property
    def models(self) -> Mapping[str, ModelCard]:
        """The catalog, by name."""
        return self.router.cards

    @property
    def telemetry(self) -> Telemetry:
        """The span factory shared with the executor."""
        return self.executor.telemetry

    # -- scopes -------------------------------------------------------------------

    def skill_scope(self, skill: str, sensitivity: Sensitivity) -> SkillScope:
        """A scope for one skill call, to enter with ``async with`` around the skill.

        Args:
            skill: The full skill name (the span's name).
            sensitivity: The sensitivity the call starts with.

        Returns:
            The scope: its deadline starts now; entering it opens the skill's span.
        """
        ex = self.executor
        return SkillScope(skill, sensitivity, ex.now() + ex.retry.deadline_s, ex.telemetry)

    # -- routing ------------------------------------------------------------------

    def unavailable(self, req: Requirements) -> dict[str, Rejection]:
        """Models the router must skip now: open circuits, then budget refusals."""
        out = self.executor.unavailable()
        if self.budget is not None:
            for name, reason in self.budget.unavailable(self.router.cards.values(), req).items():
                if name not in out:
                    out[name] = Rejection(model=name, constraint=Constraint.BUDGET, detail=reason)
        return out

    def route(self, req: Requirements) -> RouteDecision:
        """Route ``req`` as a call would now, with circuits and budgets (no model is called)."""
        unavailable = self.unavailable(req)
        decision = self.router.route(req, unavailable)
        if not decision.candidates:
            decision = self._probe_route(req, decision, unavailable) or decision
        return decision

    def _probe_route(
        self, req: Requirements, decision: RouteDecision, unavailable: Mapping[str, Rejection]
    ) -> RouteDecision | None:
        """When only open circuits stand in the way, the decision that probes them instead."""
        circuits = {r.model: r.reason for r in decision.rejections if r.constraint is Constraint.CIRCUIT}
        if not circuits:
            return None
        others = {name: rej for name, rej in unavailable.items() if rej.constraint is not Constraint.CIRCUIT}
        probing = self.router.route(req, others)
        if not probing.candidates:
            return None
        probing.probes.update({name: why for name, why in circuits.items() if name in probing.order})
        return probing

    # -- calls --------------------------------------------------------------------

    async def call(self, req: Requirements, request: CompletionRequest, scope: SkillScope) -> Completion:
        """Route and run one model call of a skill call (see the module docstring).

        Args:
            req: What the call needs (tags, sensitivity, tokens, skill, exclusions).
            request: What to send.
            scope: The skill call's scope; the call is appended to ``scope.calls``.

        Returns:
            The completion of the model that answered.

        Raises:
            NoRouteError: No model satisfies the hard constraints.
            BudgetExceededError: Every model that could serve the call would exceed a budget.
            AllAttemptsFailedError: Every candidate failed or was skipped.
            ConnectorError: A content-filter refusal, or a failure after text was streamed.
        """
        if scope.cancelled:
            raise asyncio.CancelledError()
        level = req.sensitivity if req.sensitivity >= request.sensitivity else request.sensitivity
        if req.sensitivity is not level:
            req = dataclasses.replace(req, sensitivity=level)
        if request.sensitivity is not level:
            request = dataclasses.replace(request, sensitivity=level)
        if level > scope.sensitivity:
            scope.sensitivity = level
        unavailable = self.unavailable(req)
        decision = self.router.route(req, unavailable)
        probe = False
        if not decision.candidates and unavailable:
            probing = self._probe_route(req, decision, unavailable)
            if probing is not None:
                decision, probe = probing, True
        call = ModelCall(decision)
        scope.calls.append(call)
        if not decision.candidates:
            raise self._no_route(req, decision, unavailable)
        gate = self._gate(req)
        task = asyncio.current_task()
        tasks = scope.tasks
        if task is not None:
            tasks.add(task)
        try:
            completion = await self.executor.run(
                decision, request, call.attempts, deadline=scope.deadline, gate=gate, probe=probe
            )
        finally:
            if task is not None:
                tasks.discard(task)
        card = self.router.cards[completion.model_card or ""]
        usage = completion.usage
        call.model = card.name
        call.usage = usage
        call.cost_usd = card.blended_cost(usage.input_tokens, usage.output_tokens)
        self._record(card, req.skill, completion, call.cost_usd)
        if self.shadows.table:
            models = self.shadows.models_for(req.skill)
            if models and self.shadows.sample():
                self.shadows.start(
                    models,
                    decision,
                    request,
                    card.name,
                    gate=lambda: self._gate(req),
                    record=self._usage,
                    primary_text=completion.text,
                )
        return completion

    def _gate(self, req: Requirements) -> BudgetGate | None:
        return self.budget.gate(req) if self.budget is not None else None

    def _usage(self, card: ModelCard, skill: str | None, done: Completion) -> None:
        self._record(card, skill, done, card.blended_cost(done.usage.input_tokens, done.usage.output_tokens))

    def _record(self, card: ModelCard, skill: str | None, done: Completion, cost: float) -> None:
        try:
            self.ledger.record(card, skill, done.usage, cost)
        except Exception as exc:  # noqa: BLE001 - a ledger problem must not lose an answer
            why = self.executor.redactor.text(str(exc))
            _log.warning("usage ledger could not record a call to %s: %s", card.name, why)

    def _no_route(
        self, req: Requirements, decision: RouteDecision, unavailable: Mapping[str, Rejection]
    ) -> Exception:
        if any(r.constraint is Constraint.BUDGET for r in decision.rejections):
            circuits = {n: r for n, r in unavailable.items() if r.constraint is not Constraint.BUDGET}
            without = self.router.route(req, circuits)
            if without.candidates:
                return BudgetExceededError(
                    "every model that could serve this call would exceed a budget.\n"
                    + decision.explain()
                    + "\nTo fix: raise the limit under [budgets] in dualtrack.toml, wait for the next day "
                    "(UTC), or add a cheaper (e.g. in-house) model.",
                    decision,
                )
        return NoRouteError(decision)

    # -- lifecycle ----------------------------------------------------------------

    async def aclose(self) -> None:
        """Cancel shadow calls and close the connectors."""
        await self.executor.aclose()

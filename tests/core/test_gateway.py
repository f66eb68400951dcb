"""The model gateway: one owner for routing, running and recording a model call."""

import asyncio

import pytest

from dualtrack import (
    CompletionRequest,
    MemoryLedger,
    Message,
    ModelGateway,
    NoRouteError,
    Orchestrator,
    Outcome,
    Requirements,
    Router,
    Sensitivity,
    SkillScope,
)
from dualtrack._runtime._execution import Executor
from dualtrack.testing import ScriptedConnector, model_card
from tests.core._demo_plugin import Demo


def gateway(*cards):
    router = Router(cards)
    return ModelGateway(router, Executor(router.cards), ledger=MemoryLedger())


def request(text="hi", level=Sensitivity.GENERAL):
    return CompletionRequest([Message.user(text)], sensitivity=level)


async def test_a_call_in_a_scope_is_routed_run_recorded_and_kept_in_the_scope():
    conn = ScriptedConnector(["hello"])
    gw = gateway(model_card(conn, name="m", cost_input=1.0, cost_output=1.0))
    async with gw.skill_scope("demo.echo", Sensitivity.GENERAL) as scope:
        done = await gw.call(Requirements(skill="demo.echo"), request(), scope)
    assert isinstance(scope, SkillScope) and done.text == "hello"
    (call,) = scope.calls
    assert call.model == "m" and [a.outcome for a in call.attempts] == [Outcome.OK]
    assert [(r.model, r.skill, r.calls) for r in gw.ledger.rows()] == [("m", "demo.echo", 1)]


async def test_the_payload_level_wins_over_the_requirements_and_the_scope_remembers_it():
    low = ScriptedConnector([])
    high = ScriptedConnector(["ok"])
    gw = gateway(
        model_card(low, name="low", clearance="general", quality=1.0),
        model_card(high, name="high", clearance="confidential", quality=0.0),
    )
    scope = gw.skill_scope("demo.echo", Sensitivity.GENERAL)
    await gw.call(Requirements(), request(level=Sensitivity.CONFIDENTIAL), scope)
    assert low.calls == [] and high.calls[0].sensitivity is Sensitivity.CONFIDENTIAL
    assert scope.sensitivity is Sensitivity.CONFIDENTIAL
    assert scope.calls[0].decision.requirements.sensitivity is Sensitivity.CONFIDENTIAL


async def test_a_failed_route_is_still_recorded_in_the_scope():
    gw = gateway(model_card(ScriptedConnector([]), name="m", capabilities={"chat"}))
    scope = gw.skill_scope("demo.echo", Sensitivity.GENERAL)
    with pytest.raises(NoRouteError, match="missing tags vision"):
        await gw.call(Requirements(requires=frozenset({"vision"})), request(), scope)
    assert len(scope.calls) == 1 and scope.calls[0].model is None


async def test_a_cancelled_scope_cancels_its_calls_and_refuses_new_ones():
    started = asyncio.Event()

    async def forever(req):
        started.set()
        await asyncio.Event().wait()

    from dualtrack.testing import FunctionConnector

    gw = gateway(model_card(FunctionConnector(forever), name="m"))
    scope = gw.skill_scope("demo.echo", Sensitivity.GENERAL)
    task = asyncio.create_task(gw.call(Requirements(), request(), scope))
    await started.wait()
    assert scope.tasks == {task}
    scope.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(asyncio.CancelledError):
        await gw.call(Requirements(), request(), scope)
    assert gw.executor.breakers["m"].failures == 0  # a cancellation says nothing of the model's health


async def test_the_orchestrator_exposes_its_gateway_and_read_only_views_of_it():
    orc = Orchestrator(models=[model_card(ScriptedConnector(["x"]), name="m")], plugins=[Demo])
    gw = orc.gateway
    assert orc.router is gw.router and orc.executor is gw.executor and orc.ledger is gw.ledger
    assert orc.budget is gw.budget is None and orc.models is gw.models
    with pytest.raises(AttributeError):
        orc.executor = gw.executor
    res = await orc.invoke("demo.echo", text="x")
    assert res.value == "x" and res.calls[0].model == "m"

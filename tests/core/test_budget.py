"""Budgets: refused before the call with a reason, counted from real usage, safe under concurrency."""

import asyncio
import textwrap
from typing import Any, ClassVar

import pytest

from dualtrack import (
    BudgetExceededError,
    Completion,
    Message,
    NoRouteError,
    Orchestrator,
    Policy,
    SkillContext,
    Usage,
    estimate_tokens,
    load_config,
    plugin,
    skill,
)
from dualtrack._runtime._budget import Budget, Budgets, BudgetTracker
from dualtrack._runtime._sqlite_ledger import SqliteLedger
from dualtrack.testing import FunctionConnector, ScriptedConnector, model_card
from tests.core._demo_plugin import EchoSkill


@plugin("demo", description="d")
class Demo(EchoSkill):
    GENERATE: ClassVar[dict[str, Any]] = {"max_tokens": 100}

    @skill
    async def other(self, ctx: SkillContext, text: str) -> str:
        """Another skill of the same plugin.

        Args:
            text: The text.
        """
        return (await ctx.generate(text, **self.GENERATE)).text


QUALITY = Policy(objective="quality")


def paid(conn, **kw):
    # $10 per 1M tokens in and out: a call of 1000 in + 1000 out costs $0.02
    return model_card(
        conn, name="paid", track="partner", cost_input=10.0, cost_output=10.0, quality=1.0, **kw
    )


def free(conn):
    return model_card(conn, name="free", quality=0.0)


def reply(n_in=1000, n_out=1000, text="paid"):
    return Completion(text, usage=Usage(n_in, n_out))


async def test_skill_usd_budget_moves_calls_to_the_free_model_with_the_reason():
    p = ScriptedConnector([reply()], repeat_last=True)
    f = ScriptedConnector(["free"], repeat_last=True)
    orc = Orchestrator(
        policy=QUALITY,
        models=[paid(p), free(f)],
        plugins=[Demo],
        budgets=Budgets(skills={"demo.echo": Budget(usd_per_day=0.05)}),
    )
    # each call is estimated at ~$0.001 before it runs, and really costs $0.02 (1000 + 1000 tokens)
    values = [(await orc.invoke("demo.echo", text="x")).value for _ in range(4)]
    assert values == ["paid", "paid", "paid", "free"]  # $0.04 + ~$0.001 fits; $0.06 + ~$0.001 does not
    res = await orc.invoke("demo.echo", text="x")
    assert "rejected: budget: demo.echo $0.06 of $0.05 today" in res.explain()
    assert (await orc.invoke("demo.other", text="x")).value == "paid"  # other skills are not limited
    usd, tokens = orc.budget.spent("demo.echo")
    assert usd == pytest.approx(0.06) and tokens == 6000 + 2 * 2  # the free model's tokens count too


async def test_plugin_and_global_token_budgets_end_in_a_typed_error():
    p = ScriptedConnector([reply()], repeat_last=True)
    orc = Orchestrator(
        policy=QUALITY,
        models=[paid(p)],
        plugins=[Demo],
        budgets=Budgets(skills={"demo": Budget(tokens_per_day=2050)}),
    )
    await orc.invoke("demo.echo", text="x")
    with pytest.raises(BudgetExceededError, match="budget: demo 2,000 of 2,050 tokens today") as err:
        await orc.invoke("demo.other", text="x")
    assert "raise the limit" in str(err.value) and err.value.decision.rejections[0].model == "paid"
    g = Orchestrator(
        models=[free(ScriptedConnector(["x"]))], plugins=[Demo], budgets=Budgets(tokens_per_day=10)
    )
    with pytest.raises(BudgetExceededError, match="global"):
        await g.invoke("demo.echo", text="x")  # token budgets bind free models too


async def test_free_models_are_never_refused_by_a_usd_limit_even_after_overspend():
    p = ScriptedConnector([reply(50_000, 50_000)])  # real usage far above the estimate
    f = ScriptedConnector(["free"], repeat_last=True)
    orc = Orchestrator(
        models=[paid(p), free(f)], policy=QUALITY, plugins=[Demo], budgets=Budgets(usd_per_day=0.5)
    )
    assert (await orc.invoke("demo.echo", text="x")).value == "paid"
    assert orc.budget.spent()[0] == pytest.approx(1.0)  # recorded from real usage, not the estimate
    assert (await orc.invoke("demo.echo", text="x")).value == "free"


async def test_concurrent_calls_cannot_all_slip_under_the_limit():
    in_flight = asyncio.Event()

    async def slow(req):
        await in_flight.wait()
        return reply()

    p = FunctionConnector(slow)
    f = ScriptedConnector(["free"], repeat_last=True)
    estimate = paid(p).blended_cost(estimate_tokens([Message.user("hi")]), 100)
    limit = 5
    orc = Orchestrator(
        policy=QUALITY,
        models=[paid(p), free(f)],
        plugins=[Demo],
        budgets=Budgets(usd_per_day=estimate * (limit + 0.5)),
    )
    tasks = [asyncio.create_task(orc.invoke("demo.echo", text="hi")) for _ in range(20)]
    await asyncio.sleep(0.05)
    in_flight.set()
    results = await asyncio.gather(*tasks)
    assert sum(r.value == "paid" for r in results) <= limit
    assert len(p.calls) <= limit and sum(r.value == "free" for r in results) >= 20 - limit


async def test_spend_is_seeded_from_the_persistent_ledger(tmp_path):
    ledger = SqliteLedger(tmp_path / "usage.sqlite3")
    card = paid(ScriptedConnector([]))
    for _ in range(3):
        ledger.record(card, "demo.echo", Usage(1000, 1000), 0.02)
    f = ScriptedConnector(["free"])
    orc = Orchestrator(
        policy=QUALITY,
        models=[paid(ScriptedConnector([])), free(f)],
        plugins=[Demo],
        ledger=SqliteLedger(tmp_path / "usage.sqlite3"),
        budgets=Budgets(usd_per_day=0.06),
    )
    assert orc.budget.spent() == (pytest.approx(0.06), 6000)
    assert (await orc.invoke("demo.echo", text="x")).value == "free"


def test_a_new_day_starts_from_zero():
    day = {"d": "2030-01-01"}
    t = BudgetTracker(Budgets(usd_per_day=1.0), today=lambda: day["d"])
    t.record("demo.echo", 0.9, 10)
    assert t.spent() == (pytest.approx(0.9), 10) and t.spent("demo") == (pytest.approx(0.9), 10)
    day["d"] = "2030-01-02"
    assert t.spent() == (0.0, 0)


def test_budgets_from_config(tmp_path):
    path = tmp_path / "dualtrack.toml"
    path.write_text(
        textwrap.dedent(
            """
            models = []
            [budgets]
            usd_per_day = 10.0
            [budgets.skills]
            "document.summarize" = { usd_per_day = 1.0 }
            spreadsheet = { tokens_per_day = 200000 }
            """
        )
    )
    cfg = load_config(path)
    assert cfg.budgets.usd_per_day == 10.0
    assert cfg.budgets.skills["document.summarize"].usd_per_day == 1.0
    scopes = [k for k, _ in cfg.budgets.scopes("spreadsheet.explain")]
    assert scopes == ["global", "spreadsheet"]
    orc = Orchestrator.from_config(path, plugins=[], ledger=None)
    assert orc.budget is not None and orc.budgets.skills["spreadsheet"].tokens_per_day == 200000


async def test_no_budgets_means_no_tracker_and_no_route_stays_no_route():
    orc = Orchestrator(models=[], plugins=[Demo])
    assert orc.budget is None
    with pytest.raises(NoRouteError):
        await orc.invoke("demo.echo", text="x")

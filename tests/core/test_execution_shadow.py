"""Shadow calls: a copy of a call to a second model, only where the hard constraints allow it."""

import asyncio

from dualtrack import (
    Budget,
    Budgets,
    Completion,
    Orchestrator,
    Policy,
    ServerError,
    SkillContext,
    Usage,
    plugin,
    skill,
)
from dualtrack.testing import FunctionConnector, ScriptedConnector, model_card


@plugin("doc", description="d")
class Doc:
    @skill
    async def summarize(self, ctx: SkillContext, text: str) -> str:
        """Summarize.

        Args:
            text: The text.
        """
        chunks = []
        done = await ctx.generate(text, on_text=chunks.append)
        return done.text + "|" + "".join(chunks)


def setup(shadow, **kw):
    primary = ScriptedConnector([Completion("primary", usage=Usage(10, 10))], repeat_last=True)
    candidate = ScriptedConnector([Completion("candidate", usage=Usage(10, 20))], repeat_last=True)
    partner = ScriptedConnector(["partner"], repeat_last=True)
    seen = []
    orc = Orchestrator(
        models=[
            model_card(primary, name="primary", quality=1.0),
            model_card(candidate, name="candidate", quality=0.5, cost_input=1.0, cost_output=1.0),
            model_card(partner, name="partner", track="partner", clearance="general", quality=0.1),
        ],
        policy=Policy(objective="quality"),
        plugins=[Doc],
        shadow=shadow,
        on_shadow=seen.append,
        **kw,
    )
    return orc, primary, candidate, partner, seen


async def test_shadow_gets_a_quiet_copy_and_is_recorded():
    orc, primary, candidate, _, seen = setup({"doc": ["candidate"]})
    res = await orc.invoke("doc.summarize", text="quarterly report", sensitivity="confidential")
    await orc.executor.drain()
    assert res.value.startswith("primary|") and res.models == ["primary"]
    (shadow,) = seen
    assert (shadow.skill, shadow.model, shadow.primary) == ("doc.summarize", "candidate", "primary")
    assert shadow.completion.text == "candidate"
    (copy,) = candidate.calls
    assert copy.messages == primary.calls[0].messages and copy.on_text is None  # never streams to the host
    assert copy.sensitivity.value == "confidential"
    rows = {r.model: r for r in orc.ledger.rows()}
    assert rows["candidate"].calls == 1 and rows["candidate"].cost_usd > 0  # shadows cost money too


async def test_shadow_to_a_model_below_the_clearance_is_never_called():
    orc, _, _, partner, seen = setup({"doc.summarize": ["partner"]})
    await orc.invoke("doc.summarize", text="board minutes", sensitivity="confidential")
    await orc.executor.drain()
    assert partner.calls == []
    (shadow,) = seen
    assert shadow.completion is None and "clearance general < confidential" in shadow.attempts[0].error
    await orc.invoke("doc.summarize", text="press release", sensitivity="public")
    await orc.executor.drain()
    assert len(partner.calls) == 1 and seen[-1].completion.text == "partner"


async def test_shadow_failure_or_budget_never_touches_the_primary():
    orc, _, candidate, _, seen = setup(
        {"doc": ["candidate"]}, budgets=Budgets(skills={"doc": Budget(usd_per_day=0.00002)})
    )
    res = await orc.invoke("doc.summarize", text="x")
    await orc.executor.drain()
    assert res.models == ["primary"] and candidate.calls == []
    assert seen[0].completion is None and "budget" in seen[0].attempts[0].error

    failing = FunctionConnector(lambda req: ServerError("shadow down"))
    orc2 = Orchestrator(
        models=[model_card(ScriptedConnector(["ok"]), name="a", quality=1.0), model_card(failing, name="b")],
        policy=Policy(objective="quality"),
        plugins=[Doc],
        shadow={"doc": ["b"]},
    )
    assert (await orc2.invoke("doc.summarize", text="x")).value == "ok|ok"
    await orc2.executor.drain()
    assert len(failing.calls) == 1  # one try, no retries for a shadow


async def test_closing_cancels_shadows_in_flight():
    cancelled = asyncio.Event()

    async def slow(req):
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    orc = Orchestrator(
        models=[
            model_card(ScriptedConnector(["ok"]), name="a", quality=1.0),
            model_card(FunctionConnector(slow), name="slow"),
        ],
        policy=Policy(objective="quality"),
        plugins=[Doc],
        shadow={"doc": ["slow"]},
    )
    await orc.invoke("doc.summarize", text="x")
    await asyncio.sleep(0)
    await orc.aclose()
    assert cancelled.is_set()


def test_unknown_shadow_models_fail_at_construction():
    import pytest

    from dualtrack import UserError

    with pytest.raises(UserError, match="shadow names unknown model"):
        Orchestrator(
            models=[model_card(ScriptedConnector([]), name="a")], plugins=[Doc], shadow={"doc": ["nope"]}
        )

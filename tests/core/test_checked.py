"""ctx.generate_checked: checks on replies, feedback once, escalation excluding tried models, fallback."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from dualtrack import (
    CheckContext,
    CheckedReply,
    CheckFailedError,
    CheckResult,
    CheckStage,
    Orchestrator,
    Sensitivity,
    SkillContext,
    UserError,
    checks,
    plugin,
    skill,
)
from dualtrack.testing import ScriptedConnector, model_card

DUCK = "Duck " * 10 + "Duck"


@plugin("checked", description="d")
class Checked:
    """A skill that returns the CheckedReply of one checked call."""

    KW: ClassVar[dict[str, Any]] = {}

    @skill
    async def run(self, ctx: SkillContext, text: str) -> Any:
        """Run a checked call.

        Args:
            text: The prompt.
        """
        return await ctx.generate_checked(text, **self.KW)


def _orc(**models: ScriptedConnector) -> Orchestrator:
    cards = [
        model_card(conn, name=name, cost_input=float(i)) for i, (name, conn) in enumerate(models.items())
    ]
    return Orchestrator(models=cards, plugins=[Checked])


@pytest.fixture(autouse=True)
def _reset() -> Any:
    yield
    Checked.KW = {}


async def test_a_passing_reply_is_returned_with_its_outcomes_on_the_trace() -> None:
    Checked.KW = {"checks": [checks.degenerate()], "source": "Duck"}
    small = ScriptedConnector(["Duck"])
    res = await _orc(small=small).invoke("checked.run", text="Fix the grammar")
    reply: CheckedReply = res.value
    assert (reply.text, reply.model, reply.fell_back, reply.escalated) == ("Duck", "small", False, False)
    assert [o.name for o in reply.outcomes] == ["degenerate"]
    assert res.calls[0].checks == list(reply.outcomes)
    assert "checked: small: passed" in res.explain()


async def test_degenerate_reply_escalates_and_explain_shows_the_chain() -> None:
    Checked.KW = {"checks": [checks.degenerate()], "source": "Duck", "feedback": False}
    small, big = ScriptedConnector([DUCK]), ScriptedConnector(["Duck"])
    res = await _orc(**{"smollm2-135m": small, "gpt-4o-mini": big}).invoke("checked.run", text="Fix: Duck")
    reply: CheckedReply = res.value
    assert reply.model == "gpt-4o-mini" and reply.text == "Duck" and reply.escalated
    assert [(a.stage, a.model, a.passed) for a in reply.attempts] == [
        (CheckStage.INITIAL, "smollm2-135m", False),
        (CheckStage.ESCALATION, "gpt-4o-mini", True),
    ]
    assert res.calls[1].decision.requirements.exclude == frozenset({"smollm2-135m"})
    assert (
        "smollm2-135m: rejected by check repetition ('Duck' \u00d711) → gpt-4o-mini: passed" in res.explain()
    )
    assert res.to_dict()["calls"][0]["checks"] == [
        {"name": "repetition", "passed": False, "reason": "'Duck' \u00d711"}
    ]
    small.assert_complete()
    big.assert_complete()


async def test_feedback_goes_back_once_then_escalation_uses_extra_tags() -> None:
    seen: list[str] = []

    def even(text: str, context: CheckContext) -> CheckResult:
        seen.append(f"{context.stage.value}:{context.model}")
        ok = int(text) % 2 == 0
        return CheckResult(name="even", passed=ok, reason="" if ok else f"{text} is odd", value=int(text))

    Checked.KW = {"checks": [even], "escalate_requires": ["reasoning"]}
    small, big = ScriptedConnector(["3", "5"]), ScriptedConnector(["4"])
    res = await _orc(small=small, big=big).invoke("checked.run", text="an even number")
    assert res.value.value == 4 and res.value.model == "big"
    assert seen == ["initial:small", "feedback:small", "escalation:big"]
    assert "3 is odd" in small.prompts[1]  # the reason went back to the same route
    assert small.calls[1].messages[-2].content == "3"  # with the failed reply
    escalated = res.calls[2].decision.requirements
    assert "reasoning" in escalated.requires and "small" in escalated.exclude
    assert big.prompts[0] == "an even number"  # a fresh conversation by default


async def test_schema_is_checked_first_and_its_value_returned() -> None:
    class Answer(BaseModel):
        n: int

    Checked.KW = {"schema": Answer, "feedback": True}
    small = ScriptedConnector(["not json", json.dumps({"n": 7})])
    res = await _orc(small=small).invoke("checked.run", text="give n")
    assert res.value.value == Answer(n=7)
    assert small.calls[0].json_schema is not None  # constrained output where the connector supports it
    first = res.value.attempts[0].outcomes[0]
    assert first.name == "schema" and not first.passed and "invalid JSON" in first.reason


async def test_no_other_candidate_means_no_second_call_and_a_typed_error() -> None:
    Checked.KW = {"checks": [checks.degenerate()], "feedback": False}
    small = ScriptedConnector([""])
    with pytest.raises(CheckFailedError) as info:
        await _orc(small=small).invoke("checked.run", text="say something")
    assert [o.name for o in info.value.outcomes] == ["empty"]
    assert "small: rejected by check empty" in str(info.value)
    assert len(small.calls) == 1


async def test_fallback_is_returned_marked_when_nothing_passes() -> None:
    Checked.KW = {"checks": [checks.degenerate()], "fallback": "kept", "source": "Duck", "feedback": False}
    small, big = ScriptedConnector([DUCK]), ScriptedConnector(["Duck Duck Duck Duck Duck"])
    res = await _orc(small=small, big=big).invoke("checked.run", text="fix")
    assert res.value.fell_back and res.value.value == "kept" and res.value.model is None
    assert "→ no model passed the checks" in res.explain()


async def test_escalation_with_no_qualifying_model_is_recorded() -> None:
    Checked.KW = {"checks": [checks.degenerate()], "fallback": None, "escalate_requires": ["vision"]}
    small = ScriptedConnector(["", ""])
    reply = (await _orc(small=small).invoke("checked.run", text="fix")).value
    assert [a.stage for a in reply.attempts] == [
        CheckStage.INITIAL,
        CheckStage.FEEDBACK,
        CheckStage.ESCALATION,
    ]
    assert reply.attempts[-1].error and "vision" in reply.attempts[-1].error
    assert reply.fell_back


async def test_escalation_never_goes_below_the_calls_sensitivity() -> None:
    Checked.KW = {"checks": [checks.degenerate()], "feedback": False, "fallback": None}
    inside, outside = ScriptedConnector([DUCK]), ScriptedConnector(["never asked"])
    cards = [
        model_card(inside, name="inside", cost_input=0.0),
        model_card(outside, name="outside", cost_input=1.0, clearance=Sensitivity.GENERAL),
    ]
    orc = Orchestrator(models=cards, plugins=[Checked])
    res = await orc.invoke("checked.run", text="fix", sensitivity="confidential")
    assert res.value.fell_back and outside.calls == []


async def test_async_checks_and_a_broken_check_are_outcomes() -> None:
    async def slow_ok(text: str, context: CheckContext) -> CheckResult:
        return CheckResult(name="slow", passed=True, value=text.upper())

    def broken(text: str, context: CheckContext) -> CheckResult:
        assert context.value == "HELLO"  # the value of the check before
        raise ValueError("cannot tell")

    Checked.KW = {"checks": [slow_ok, broken], "feedback": False, "fallback": "x"}
    reply = (await _orc(small=ScriptedConnector(["hello"])).invoke("checked.run", text="hi")).value
    failed = reply.attempts[0].outcomes[-1]
    assert failed.name == "broken" and "raised ValueError: cannot tell" in failed.reason


async def test_a_check_must_return_a_check_result() -> None:
    Checked.KW = {"checks": [lambda text, context: True]}
    with pytest.raises(UserError, match=r"must return a dualtrack\.CheckResult"):
        await _orc(small=ScriptedConnector(["hi"])).invoke("checked.run", text="hi")

"""Orchestrator and SkillContext: routed calls, JSON output, progress, sync skills, errors."""

import asyncio

import pytest
from pydantic import BaseModel

from dualtrack import (
    AllAttemptsFailedError,
    Completion,
    MalformedResponseError,
    Message,
    NoRouteError,
    Orchestrator,
    Sensitivity,
    SkillContext,
    Usage,
    plugin,
    skill,
)
from dualtrack.testing import FunctionConnector, ScriptedConnector, model_card


class Verdict(BaseModel):
    label: str
    score: float


@plugin("demo", description="Skills for tests.")
class Demo:
    @skill(requires=["summarize"])
    async def summarize(self, ctx: SkillContext, text: str) -> str:
        """Summarize text.

        Args:
            text: The text.
        """
        return (await ctx.generate(f"Summarize:\n{text}", system="Be brief.")).text

    @skill(requires=["json"])
    async def classify(self, ctx: SkillContext, text: str) -> Verdict:
        """Classify text.

        Args:
            text: The text.
        """
        return await ctx.generate_json(Verdict, f"Classify: {text}")

    @skill
    async def chunks(self, ctx: SkillContext, parts: list[str]) -> list[str]:
        """Process parts with progress.

        Args:
            parts: The parts.
        """
        out = []
        for i, p in enumerate(parts, 1):
            out.append((await ctx.generate(p)).text)
            ctx.progress(i, len(parts), f"part {i}")
        return out

    @skill
    def blocking(self, ctx: SkillContext, text: str) -> str:
        """A synchronous skill that calls a model.

        Args:
            text: The text.
        """
        return ctx.generate_sync(text).text.upper()


def test_invoke_records_decision_attempts_usage_and_cost():
    conn = ScriptedConnector([Completion("short", usage=Usage(1000, 500))])
    cheap = model_card(conn, name="cheap", cost_input=1.0, cost_output=2.0)
    orc = Orchestrator(models=[cheap], plugins=[Demo])
    res = orc.invoke_sync("demo.summarize", text="long text")
    assert res.value == "short"
    assert res.models == ["cheap"]
    assert res.cost_usd == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)
    assert res.usage.total_tokens == 1500
    (req,) = conn.calls
    assert [m.role for m in req.messages] == ["system", "user"]
    assert req.messages[1].content == "Summarize:\nlong text"
    assert "summarize" in res.decisions[0].requirements.requires
    assert "cheap" in res.explain() and "attempt cheap: ok" in res.explain()
    assert res.to_dict()["calls"][0]["model"] == "cheap"
    conn.assert_complete()


async def test_generate_json_validates_repairs_then_escalates():
    weak = ScriptedConnector(["not json", '{"label": "x"}'])
    strong = ScriptedConnector(['```json\n{"label": "spam", "score": 0.9}\n```'])
    orc = Orchestrator(
        models=[
            model_card(weak, name="a-weak", quality=0.9),
            model_card(strong, name="b-strong", quality=0.1),
        ],
        plugins=[Demo],
    )
    res = await orc.invoke("demo.classify", text="buy now")
    assert res.value == Verdict(label="spam", score=0.9)
    assert [c.model for c in res.calls] == ["a-weak", "a-weak", "b-strong"]
    assert "not valid JSON" in weak.calls[1].messages[-1].content
    assert weak.calls[0].json_schema["properties"]["label"]["type"] == "string"
    assert "a-weak" in res.calls[2].decision.requirements.exclude
    assert "json" in res.calls[0].decision.requirements.requires


async def test_generate_json_gives_up_with_typed_error():
    conn = ScriptedConnector(["nope"], repeat_last=True)
    orc = Orchestrator(models=[model_card(conn)], plugins=[Demo])
    with pytest.raises(MalformedResponseError, match="valid JSON"):
        await orc.invoke("demo.classify", text="x")


async def test_progress_reaches_host_callback():
    seen = []
    conn = FunctionConnector(lambda req: req.messages[-1].content.upper())
    orc = Orchestrator(models=[model_card(conn)], plugins=[Demo])
    res = await orc.invoke("demo.chunks", parts=["a", "b"], on_progress=lambda *a: seen.append(a))
    assert res.value == ["A", "B"]
    assert seen == [("demo.chunks", 1, 2, "part 1"), ("demo.chunks", 2, 2, "part 2")]


async def test_sync_skill_can_call_models_without_blocking_the_loop():
    async def slow(req):
        await asyncio.sleep(0)
        return "ok"

    orc = Orchestrator(models=[model_card(FunctionConnector(slow))], plugins=[Demo])
    res = await orc.invoke("demo.blocking", text="x")
    assert res.value == "OK" and res.models == ["test-model"]


async def test_sensitivity_routes_and_no_route_explains():
    partner = ScriptedConnector(["partner"], repeat_last=True)
    inhouse = ScriptedConnector(["inhouse"], repeat_last=True)
    orc = Orchestrator(
        models=[
            model_card(partner, name="partner", track="partner", clearance="general", quality=1.0),
            model_card(inhouse, name="inhouse", clearance="highly-confidential", quality=0.0),
        ],
        plugins=[Demo],
    )
    assert (await orc.invoke("demo.summarize", text="x")).value == "partner"
    res = await orc.invoke("demo.summarize", text="x", sensitivity="confidential")
    assert res.value == "inhouse"
    assert "rejected: clearance general < confidential" in res.explain()
    only_partner = Orchestrator(models=[model_card(partner, name="p", clearance="general")], plugins=[Demo])
    with pytest.raises(NoRouteError) as err:
        await only_partner.invoke("demo.summarize", text="x", sensitivity=Sensitivity.HIGHLY_CONFIDENTIAL)
    assert "clearance highly-confidential or higher" in str(err.value)
    assert err.value.decision.rejections[0].constraint == "clearance"


async def test_route_dry_run_and_generate():
    conn = ScriptedConnector(["hello"])
    orc = Orchestrator(models=[model_card(conn)], plugins=[Demo])
    decision = orc.route("demo.summarize", sensitivity="confidential", tokens=500)
    assert decision.chosen == "test-model" and conn.calls == []
    chunks = []
    res = await orc.generate("hi", on_text=chunks.append)
    assert res.value == "hello" and "".join(chunks) == "hello"


async def test_ask_runs_tools_and_refuses_unconfirmed_writes():
    @plugin("notes", description="Notes.")
    class Notes:
        def __init__(self):
            self.saved = []

        @skill
        def count_words(self, text: str) -> int:
            """Count words.

            Args:
                text: The text.
            """
            return len(text.split())

        @skill(effects="write")
        def save(self, text: str) -> str:
            """Save a note.

            Args:
                text: The note.
            """
            self.saved.append(text)
            return "saved"

    from dualtrack import ToolCall

    notes = Notes()
    conn = ScriptedConnector(
        [
            Completion(
                "",
                tool_calls=(
                    ToolCall("1", "notes-count_words", '{"text": "a b c"}'),
                    ToolCall("2", "notes-save", '{"text": "secret"}'),
                ),
            ),
            "There are 3 words.",
        ]
    )
    orc = Orchestrator(models=[model_card(conn)], plugins=[notes])
    answer = await orc.ask("How many words in 'a b c'? Then save it.")
    assert answer.value == "There are 3 words." and answer.skill == "host.ask"
    assert len(answer.calls) == 2 and "call 2:" in answer.explain()
    tool_msgs = [m for m in conn.calls[1].messages if m.role == "tool"]
    assert tool_msgs[0].content == "3"
    assert "not confirmed" in tool_msgs[1].content and notes.saved == []
    assert conn.calls[0].tools and conn.calls[0].tools[0]["type"] == "function"


def test_scripted_connector_reports_unused_and_exhausted():
    conn = ScriptedConnector(["a", "b"])
    with pytest.raises(AssertionError, match="never requested"):
        conn.assert_complete()
    orc = Orchestrator(models=[model_card(ScriptedConnector([]))], plugins=[Demo])
    with pytest.raises(AllAttemptsFailedError, match="no reply left"):
        orc.invoke_sync("demo.summarize", text="x")


def test_messages_helpers():
    m = Message.tool("r", "id1")
    assert m.role == "tool" and m.tool_call_id == "id1"


async def test_invoke_sync_inside_a_loop_says_what_to_do():
    from dualtrack import UserError

    orc = Orchestrator(models=[model_card(ScriptedConnector([]))], plugins=[Demo])
    with pytest.raises(UserError, match=r"await orc\.invoke"):
        orc.invoke_sync("demo.summarize", text="x")


def test_invoke_sync_keeps_connectors_warm_until_close():

    class Counting(ScriptedConnector):
        closed = False

        async def aclose(self):
            self.closed = True

    conn = Counting(["one", "two"])
    with Orchestrator(models=[model_card(conn)], plugins=[Demo]) as orc:
        assert orc.invoke_sync("demo.summarize", text="a").value == "one"
        assert orc.invoke_sync("demo.summarize", text="b").value == "two"
        assert not conn.closed
        assert orc.executor.connector("test-model") is conn
    assert conn.closed
    orc.close()  # idempotent


async def test_generate_json_with_a_dict_schema_validates_it():
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}, "required": ["n"]}

    @plugin("nums", description="Numbers.")
    class Nums:
        @skill(requires=["json"])
        async def count(self, ctx: SkillContext, text: str) -> dict:
            """Count things.

            Args:
                text: The text.
            """
            return await ctx.generate_json(schema, text)

        @skill
        async def window(self, ctx: SkillContext) -> int:
            """Report the window a call would get."""
            return ctx.context_window(json=True)

    conn = ScriptedConnector(['{"n": -1}', '{"n": 3}'])
    orc = Orchestrator(models=[model_card(conn, context_window=4096)], plugins=[Nums])
    res = await orc.invoke("nums.count", text="x")
    assert res.value == {"n": 3}
    assert (
        "minimum" in conn.calls[1].messages[-1].content or "less than" in conn.calls[1].messages[-1].content
    )
    assert (await orc.invoke("nums.window")).value == 4096


async def test_generate_json_rejects_an_invalid_schema():
    from dualtrack import UserError

    @plugin("bad", description="Bad schema.")
    class Bad:
        @skill
        async def go(self, ctx: SkillContext) -> dict:
            """Go."""
            return await ctx.generate_json({"type": "nonsense"}, "x")

    orc = Orchestrator(models=[model_card(ScriptedConnector(["{}"]))], plugins=[Bad])
    with pytest.raises(UserError, match="invalid JSON Schema"):
        await orc.invoke("bad.go")


async def test_context_tracks_models_for_escalation():
    @plugin("esc", description="Escalation.")
    class Esc:
        @skill
        async def go(self, ctx: SkillContext) -> list:
            """Ask, then escalate away from whoever answered."""
            assert ctx.last_model is None and ctx.tried_models == frozenset()
            await ctx.generate("first")
            first = ctx.last_model
            await ctx.generate("again", requires=["reasoning"], exclude=ctx.tried_models)
            return [first, ctx.last_model, sorted(ctx.tried_models)]

    weak = model_card(ScriptedConnector(["a"]), name="weak", capabilities={"chat", "reasoning"}, quality=1.0)
    strong = model_card(
        ScriptedConnector(["b"]), name="strong", capabilities={"chat", "reasoning"}, quality=0.0
    )
    res = await Orchestrator(models=[weak, strong], plugins=[Esc]).invoke("esc.go")
    assert res.value == ["weak", "strong", ["strong", "weak"]]

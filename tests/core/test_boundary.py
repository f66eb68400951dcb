"""The data boundary: no payload ever reaches a model cleared below it, on any path.

A hypothesis property test generates catalogs, policies, budgets, shadows,
sensitivities and failure scripts, and checks every request every model received.
"""

import asyncio
import itertools
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualtrack import (
    AuthenticationError,
    Budgets,
    Completion,
    ContentFilterError,
    ContextLengthError,
    DualtrackError,
    MalformedResponseError,
    ModelCard,
    ModelTimeoutError,
    Orchestrator,
    Policy,
    RateLimitError,
    RetryPolicy,
    Sensitivity,
    ServerError,
    SkillContext,
    Usage,
    plugin,
    skill,
)
from dualtrack.testing import FunctionConnector

LEVELS = list(Sensitivity)
MARK = re.compile(r"payload<(\w[\w-]*)>")
OUTCOMES = ["ok", "ok", "ok", "rate", "server", "timeout", "context", "auth", "malformed", "filter", "cut"]


@plugin("probe", description="Skills that carry labelled payloads.")
class Probe:
    @skill
    async def run(self, ctx: SkillContext, plan: list[list[str]]) -> int:
        """Make one model call per step of the plan.

        Args:
            plan: Steps of ``[mode, level]``; ``mode`` is ``text``, ``stream``, ``json`` or ``raise``.
        """
        done = 0
        for mode, level in plan:
            if mode == "raise":  # the skill opened a more sensitive file, say
                ctx.raise_sensitivity(level)
                continue
            # the payload carries the highest level the skill has seen so far
            carried = max(ctx.sensitivity, Sensitivity.parse(level))
            prompt = f"payload<{carried.value}>"
            try:
                if mode == "json":
                    await ctx.generate_json({"type": "object"}, prompt, sensitivity=level)
                else:
                    chunks: list[str] = []
                    await ctx.generate(
                        prompt, sensitivity=level, on_text=chunks.append if mode == "stream" else None
                    )
                done += 1
            except DualtrackError:
                pass
        return done


def scripted(name, script, log):
    counter = itertools.count()

    def reply(request):
        content = " ".join(m.content for m in request.messages)
        levels = [Sensitivity.parse(x) for x in MARK.findall(content)]
        log.append((name, max(levels) if levels else None, request.sensitivity))
        i = next(counter)
        what = script[i] if i < len(script) else "ok"
        if what == "ok":
            return Completion('{"ok": true}', usage=Usage(10, 5))
        if what == "cut":
            if request.on_text is not None:
                request.on_text('{"ok"')
            return ServerError("stream cut")
        return {
            "rate": RateLimitError("slow down", retry_after=0.0),
            "server": ServerError("500"),
            "timeout": ModelTimeoutError("late"),
            "context": ContextLengthError("too long"),
            "auth": AuthenticationError("bad key"),
            "malformed": MalformedResponseError("garbage"),
            "filter": ContentFilterError("refused"),
        }[what]

    return FunctionConnector(reply)


cards_st = st.lists(
    st.fixed_dictionaries(
        {
            "track": st.sampled_from(["partner", "in-house"]),
            "clearance": st.sampled_from(LEVELS),
            "context_window": st.sampled_from([600, 4096, 128_000]),
            "caps": st.sets(st.sampled_from(["json", "summarize"])),
            "cost": st.sampled_from([0.0, 0.5, 30.0]),
            "quality": st.floats(0, 1),
            "enabled": st.sampled_from([True, True, True, False]),
            "script": st.lists(st.sampled_from(OUTCOMES), max_size=6),
        }
    ),
    min_size=1,
    max_size=6,
)
plan_st = st.lists(
    st.tuples(st.sampled_from(["text", "text", "stream", "json", "raise"]), st.sampled_from(LEVELS)).map(
        list
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cards=cards_st,
    objective=st.sampled_from(["cost", "quality", "latency", "balanced"]),
    prefer=st.sampled_from([None, "partner", "in-house"]),
    invoke_level=st.sampled_from(LEVELS),
    plan=plan_st,
    shadow_all=st.booleans(),
    budget=st.sampled_from([None, 0.00001, 1.0]),
    max_retries=st.integers(0, 2),
)
def test_no_payload_reaches_a_model_cleared_below_it(
    cards, objective, prefer, invoke_level, plan, shadow_all, budget, max_retries
):
    log = []
    catalog = [
        ModelCard(
            name=f"m{i}",
            track=c["track"],
            clearance=c["clearance"],
            context_window=c["context_window"],
            capabilities=frozenset({"chat", *c["caps"]}),
            cost_input=c["cost"],
            cost_output=c["cost"],
            quality=c["quality"],
            enabled=c["enabled"],
            connector=scripted(f"m{i}", c["script"], log),
        )
        for i, c in enumerate(cards)
    ]
    clearance = {c.name: c.clearance for c in catalog}
    shadows = {"probe": [c.name for c in catalog]} if shadow_all else None
    orc = Orchestrator(
        models=catalog,
        policy=Policy(objective=objective, prefer_track=prefer),
        plugins=[Probe],
        retry=RetryPolicy(max_retries=max_retries, base_delay_s=0, breaker_threshold=2),
        budgets=Budgets(usd_per_day=budget) if budget else None,
        shadow=shadows,
    )

    async def nosleep(_):
        return None

    orc.executor.sleep = nosleep

    async def go():
        try:
            await orc.invoke("probe.run", plan=plan, sensitivity=invoke_level)
        except DualtrackError:
            pass
        await orc.executor.drain()
        await orc.aclose()

    asyncio.run(go())
    for model, payload, declared in log:
        assert payload is not None
        assert declared >= payload, (model, payload, declared)  # the request says what it carries
        assert clearance[model] >= payload, (model, clearance[model], payload)  # and never goes upward
        assert payload >= invoke_level


def test_budget_rejections_and_open_circuits_never_widen_the_route():
    """When the cleared model is unavailable, nothing else is tried: the call fails closed."""
    log = []
    secret = ModelCard(
        name="inhouse",
        track="in-house",
        clearance="confidential",
        connector=scripted("inhouse", ["server"] * 9, log),
    )
    public = ModelCard(
        name="partner", track="partner", clearance="general", connector=scripted("partner", [], log)
    )
    orc = Orchestrator(
        models=[secret, public], plugins=[Probe], retry=RetryPolicy(max_retries=0, breaker_threshold=1)
    )

    async def go():
        for _ in range(3):
            await orc.invoke("probe.run", plan=[["text", "confidential"]])

    asyncio.run(go())
    # one failure opened the circuit; as the only cleared model it is probed, never widened to the partner
    assert [m for m, *_ in log] == ["inhouse"] * 3


async def test_a_tool_that_reads_a_labelled_file_raises_the_ask_conversation(tmp_path):
    """orc.ask: text a tool read from a confidential file never goes back to a general model."""
    import zipfile

    from dualtrack import ToolCall
    from dualtrack.testing import ScriptedConnector, model_card

    path = tmp_path / "merger.docx"
    gid = "f42aa342-8706-4288-bd11-ebb85995028c"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(
            "docProps/custom.xml",
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            f'<property fmtid="x" pid="2" name="MSIP_Label_{gid}_Name"><vt:lpwstr>Confidential</vt:lpwstr>'
            "</property></Properties>",
        )

    @plugin("files", description="Files.")
    class Files:
        @skill
        def read(self, ctx: SkillContext, path: str) -> str:
            """Read a file without any model call.

            Args:
                path: The file.
            """
            ctx.input_file(path)
            return "TOP SECRET MERGER PLAN"

    call = ToolCall("1", "files-read", json.dumps({"path": str(path)}))
    partner = ScriptedConnector([Completion("", tool_calls=(call,)), "partner summary"])
    inhouse = ScriptedConnector(["in-house summary"])
    orc = Orchestrator(
        models=[
            model_card(partner, name="gpt", track="partner", clearance="general", quality=1.0),
            model_card(inhouse, name="local", clearance="confidential", quality=0.0),
        ],
        policy=Policy(objective="quality"),
        plugins=[Files],
        roots=[tmp_path],
    )
    result = await orc.ask("summarize my file")
    assert result.value == "in-house summary" and result.sensitivity is Sensitivity.CONFIDENTIAL
    assert len(partner.calls) == 1  # only the first turn, before the file was read
    assert "TOP SECRET" in inhouse.calls[0].messages[-1].content
    assert inhouse.calls[0].sensitivity is Sensitivity.CONFIDENTIAL

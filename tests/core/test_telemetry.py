"""OpenTelemetry spans: GenAI semantic conventions plus dualtrack route attributes."""

import subprocess
import sys
from typing import Any, ClassVar

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from dualtrack import (
    AllAttemptsFailedError,
    Completion,
    Orchestrator,
    Policy,
    RetryPolicy,
    ServerError,
    Usage,
    plugin,
)
from dualtrack._runtime._telemetry import gen_ai_system
from dualtrack.testing import ScriptedConnector, model_card
from tests.core._demo_plugin import EchoSkill


@plugin("demo", description="d")
class Demo(EchoSkill):
    GENERATE: ClassVar[dict[str, Any]] = {"max_tokens": 64, "temperature": 0.2}


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider.get_tracer("test"), exporter
    provider.shutdown()


async def test_skill_span_parents_one_chat_span_per_attempt(spans):
    tracer, exporter = spans
    partner = ScriptedConnector([ServerError("503 upstream")])
    local = ScriptedConnector([Completion("ok", usage=Usage(12, 3), model="qwen-2.5", finish_reason="stop")])
    orc = Orchestrator(
        models=[
            model_card(partner, name="gpt", track="partner", clearance="general", quality=1.0),
            model_card(local, name="local", quality=0.0, settings={"model": "qwen"}),
        ],
        policy=Policy(objective="quality"),
        plugins=[Demo],
        retry=RetryPolicy(max_retries=0),
        tracer=tracer,
    )
    await orc.invoke("demo.echo", text="x")
    finished = exporter.get_finished_spans()
    by_name = {s.name: s for s in finished}
    assert set(by_name) == {"execute_tool demo.echo", "chat gpt", "chat qwen"}
    parent = by_name["execute_tool demo.echo"]
    failed, ok = by_name["chat gpt"], by_name["chat qwen"]
    for child in (failed, ok):
        assert child.parent.span_id == parent.context.span_id
        assert child.context.trace_id == parent.context.trace_id
    a = dict(ok.attributes)
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.system"] == "scriptedconnector"
    assert a["gen_ai.request.model"] == "qwen" and a["gen_ai.response.model"] == "qwen-2.5"
    assert a["gen_ai.request.max_tokens"] == 64 and a["gen_ai.request.temperature"] == 0.2
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (12, 3)
    assert tuple(a["gen_ai.response.finish_reasons"]) == ("stop",)
    assert a["dualtrack.skill"] == "demo.echo" and a["dualtrack.route.chosen"] == "gpt"
    assert a["dualtrack.route.track"] == "in-house" and a["dualtrack.model"] == "local"
    assert a["dualtrack.route.rejected_count"] == 0 and a["dualtrack.sensitivity"] == "general"
    assert a["dualtrack.attempts"] == 2 and "error.type" not in a
    f = dict(failed.attributes)
    assert f["error.type"] == "ServerError" and failed.status.status_code is StatusCode.ERROR
    assert f["dualtrack.route.track"] == "partner" and f["dualtrack.attempts"] == 1
    p = dict(parent.attributes)
    assert p["dualtrack.skill"] == "demo.echo" and p["dualtrack.calls"] == 1


async def test_failed_skill_call_marks_the_parent_span(spans):
    tracer, exporter = spans
    orc = Orchestrator(
        models=[model_card(ScriptedConnector([ServerError("down")]), name="m")],
        plugins=[Demo],
        retry=RetryPolicy(max_retries=0),
        tracer=tracer,
    )
    with pytest.raises(AllAttemptsFailedError):
        await orc.invoke("demo.echo", text="x")
    parent = next(s for s in exporter.get_finished_spans() if s.name.startswith("execute_tool"))
    assert parent.attributes["error.type"] == "AllAttemptsFailedError"
    assert parent.status.status_code is StatusCode.ERROR


def test_gen_ai_system_names_follow_the_connector():
    assert gen_ai_system(model_card("openai", name="a")) == "openai"
    assert gen_ai_system(model_card("azure-openai", name="a")) == "azure.ai.openai"
    assert gen_ai_system(model_card("llama-cpp", name="a")) == "llama_cpp"


def test_import_dualtrack_loads_neither_opentelemetry_nor_sqlite():
    code = (
        "import sys, dualtrack\n"
        "from dualtrack import Orchestrator, SqliteLedger\n"
        "Orchestrator(models=[], plugins=[])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'sqlite3'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

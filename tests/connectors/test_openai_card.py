"""Building from a ModelCard, settings validation, the injected-client seam, and the orchestrator path."""

from __future__ import annotations

import json

import httpx
import pytest

from dualtrack import (
    CompletionRequest,
    ConfigError,
    Message,
    ModelCard,
    Orchestrator,
    Policy,
    RetryPolicy,
    SkillContext,
    plugin,
    skill,
)
from dualtrack.connectors.openai import OpenAIConnector
from tests.connectors.servers.fault import TEXT, FaultServer


def card(**settings: object) -> ModelCard:
    return ModelCard(name="local", track="in-house", connector="openai", settings=settings)


def test_from_card_reads_settings() -> None:
    conn = OpenAIConnector.from_card(card(base_url="http://127.0.0.1:9/v1/", model="qwen", timeout=5))
    assert conn.model == "qwen"
    assert conn.url == "http://127.0.0.1:9/v1/chat/completions"
    assert repr(conn) == "OpenAIConnector(base_url='http://127.0.0.1:9/v1', model='qwen')"
    assert OpenAIConnector.from_card(card(base_url="http://127.0.0.1:9/v1")).model == "local"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"base_url": "http://127.0.0.1:9/v1", "timout": 3}, "Did you mean 'timeout'?"),
        ({"base_url": "127.0.0.1:9"}, r"absolute http\(s\) URL"),
        ({"base_url": "http://127.0.0.1:9/v1", "timeout": -1}, "positive number"),
        ({"base_url": "http://127.0.0.1:9/v1", "json_mode": "yaml"}, "json_mode must be one of"),
        ({"base_url": "http://127.0.0.1:9/v1", "strict_schema": 1}, "strict_schema must be one of"),
        ({"base_url": "http://127.0.0.1:9/v1", "extra_headers": {"X": 1}}, "extra_headers"),
    ],
)
def test_bad_settings_are_rejected_with_the_fix(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OpenAIConnector.from_card(card(**settings))


def test_openai_api_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        OpenAIConnector.from_card(card())
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-1234")
    assert OpenAIConnector.from_card(card()).base_url == "https://api.openai.com/v1"


async def test_injected_mock_transport_client() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "choices": [{"message": {"role": "assistant", "content": "mocked"}, "finish_reason": "stop"}]
            },
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        conn = OpenAIConnector(
            "m",
            base_url="https://api.example.test/v1",
            api_key="sk-mock-key",
            organization="org-1",
            client=client,
        )
        done = await conn.complete(CompletionRequest([Message.user("hi")], max_tokens=3))
        await conn.aclose()  # must not close the client it was given
        assert not client.is_closed
    assert done.text == "mocked"
    request = seen[0]
    assert str(request.url) == "https://api.example.test/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-mock-key"
    assert request.headers["openai-organization"] == "org-1"
    assert json.loads(request.content) == {
        "messages": [{"role": "user", "content": "hi"}],
        "model": "m",
        "max_tokens": 3,
    }


async def test_default_session_sends_headers(fault_server: FaultServer) -> None:
    conn = OpenAIConnector(
        "ok", base_url=fault_server.url, api_key="sk-hdr-check", extra_headers={"X-Team": "finance"}
    )
    try:
        await conn.complete(CompletionRequest([Message.user("hi")]))
    finally:
        await conn.aclose()
    headers = fault_server.requests[-1].headers
    assert headers["authorization"] == "Bearer sk-hdr-check"
    assert headers["x-team"] == "finance"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("dualtrack/")


@plugin("greet", description="Greets people.")
class Greeter:
    @skill(requires=["chat"])
    async def hello(self, ctx: SkillContext, name: str) -> str:
        """Greet someone.

        Args:
            name: Who to greet.
        """
        pieces: list[str] = []
        done = await ctx.generate(f"Greet {name}", on_text=pieces.append)
        assert "".join(pieces) == done.text
        return done.text


async def test_orchestrator_uses_the_entry_point_and_from_card(fault_server: FaultServer) -> None:
    model = ModelCard(
        name="loopback",
        track="in-house",
        capabilities={"chat"},
        clearance="confidential",
        connector="openai",
        settings={"base_url": fault_server.url, "model": "ok", "api_key": "sk-e2e-key-0042"},
    )
    async with Orchestrator(models=[model], plugins=[Greeter]) as orc:
        result = await orc.invoke("greet.hello", name="Ada")
        conn = orc.executor.connector("loopback")
    assert isinstance(conn, OpenAIConnector)
    assert result.value == TEXT
    assert result.calls[0].model == "loopback"
    assert result.calls[0].usage.output_tokens == 7
    assert fault_server.requests[-1].body["messages"][-1] == {"role": "user", "content": "Greet Ada"}


async def test_orchestrator_falls_back_after_typed_errors(fault_server: FaultServer) -> None:
    def model(name: str, scenario: str, quality: float) -> ModelCard:
        settings = {"base_url": fault_server.url, "model": scenario}
        return ModelCard(name=name, track="in-house", quality=quality, connector="openai", settings=settings)

    models = [model("flaky", "server-error", 1.0), model("steady", "ok", 0.1)]
    retry = RetryPolicy(max_retries=1, base_delay_s=0.0)
    async with Orchestrator(
        models=models, plugins=[Greeter], retry=retry, policy=Policy(objective="quality")
    ) as orc:
        result = await orc.invoke("greet.hello", name="Ada")
    tried = [(a.model, a.ok, (a.error or "").split(":")[0]) for a in result.attempts]
    assert tried == [("flaky", False, "ServerError"), ("flaky", False, "ServerError"), ("steady", True, "")]
    assert result.value == TEXT


def test_bad_settings_surface_as_config_error_through_the_orchestrator() -> None:
    from dualtrack.testing import model_card

    bad = model_card("openai", name="bad", settings={"base_url": "http://127.0.0.1:9/v1", "timout": 1})
    orc = Orchestrator(models=[bad], plugins=[])
    with pytest.raises(ConfigError, match="timout"):
        orc.executor.connector("bad")

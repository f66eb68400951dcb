"""Azure OpenAI with an API key: both URL shapes against a loopback server that checks them."""

from __future__ import annotations

import pytest

from dualtrack import (
    AuthenticationError,
    CompletionRequest,
    Message,
    ModelCard,
    Orchestrator,
    SkillContext,
    plugin,
    skill,
)
from dualtrack.connectors.azure import DEFAULT_API_VERSION, AzureOpenAIConnector
from tests.connectors.servers.fault import FaultServer


def req(**kw: object) -> CompletionRequest:
    return CompletionRequest([Message.user("hi")], max_tokens=5, **kw)  # type: ignore[arg-type]


async def test_deployments_shape(fault_server: FaultServer) -> None:
    conn = AzureOpenAIConnector(fault_server.root, "gpt4o-dep", api_key=fault_server.azure_api_key)
    try:
        done = await conn.complete(req())
    finally:
        await conn.aclose()
    sent = fault_server.requests[-1]
    assert sent.path == "/openai/deployments/gpt4o-dep/chat/completions"
    assert sent.query == {"api-version": DEFAULT_API_VERSION}
    assert sent.headers["api-key"] == fault_server.azure_api_key
    assert "authorization" not in sent.headers
    assert "model" not in sent.body
    assert done.text == "deployment=gpt4o-dep"


async def test_v1_shape_sends_the_deployment_as_model(fault_server: FaultServer) -> None:
    conn = AzureOpenAIConnector(
        f"{fault_server.root}/openai/v1/", "mini-dep", api_shape="v1", api_key=fault_server.azure_api_key
    )
    try:
        done = await conn.complete(req())
        seen: list[str] = []
        streamed = await conn.complete(req(on_text=seen.append))
    finally:
        await conn.aclose()
    first, second = fault_server.requests[-2:]
    assert first.path == "/openai/v1/chat/completions" and first.query == {}
    assert first.body["model"] == "mini-dep"
    assert done.text == "deployment=mini-dep"
    assert second.body["stream"] is True and seen == ["deployment=mini-dep"] == [streamed.text]


async def test_explicit_api_version(fault_server: FaultServer) -> None:
    conn = AzureOpenAIConnector(
        fault_server.root, "d", api_shape="v1", api_version="preview", api_key=fault_server.azure_api_key
    )
    try:
        await conn.complete(req())
    finally:
        await conn.aclose()
    assert fault_server.requests[-1].query == {"api-version": "preview"}


async def test_wrong_key_is_an_authentication_error(fault_server: FaultServer) -> None:
    conn = AzureOpenAIConnector(fault_server.root, "d", api_key="not-the-right-key")
    try:
        with pytest.raises(AuthenticationError) as info:
            await conn.complete(req())
    finally:
        await conn.aclose()
    assert info.value.status_code == 401


def test_repr_and_url() -> None:
    conn = AzureOpenAIConnector("https://contoso.openai.azure.com/openai", "gpt-4o", api_key="k" * 32)
    assert repr(conn) == (
        "AzureOpenAIConnector(endpoint='https://contoso.openai.azure.com', deployment='gpt-4o', "
        "api_shape='deployments', auth='api-key')"
    )
    assert conn.url == "https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"deployment": "d"}, "needs settings.endpoint"),
        ({"endpoint": "https://x.openai.azure.com"}, "no usable sign-in"),
        ({"endpoint": "https://x.openai.azure.com", "api_key": "k", "api_shape": "v2"}, "api_shape"),
        ({"endpoint": "https://x.openai.azure.com", "client_id": "c", "client_secret": "s"}, "tenant_id"),
        (
            {"endpoint": "https://x.openai.azure.com", "api_key": "k", "deploymnt": "d"},
            "Did you mean 'deployment'",
        ),
    ],
)
def test_bad_settings(settings: dict[str, object], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    card = ModelCard(name="az", track="partner", connector="azure-openai", settings=settings)
    with pytest.raises(ValueError, match=message):
        AzureOpenAIConnector.from_card(card)


@plugin("azure_echo", description="Calls the model once.")
class Once:
    @skill
    async def run(self, ctx: SkillContext) -> str:
        """Make one model call."""
        return (await ctx.generate("hello")).text


async def test_orchestrator_through_the_azure_entry_point(fault_server: FaultServer) -> None:
    card = ModelCard(
        name="azure-gpt",
        track="partner",
        connector="azure-openai",
        settings={
            "endpoint": fault_server.root,
            "deployment": "prod-dep",
            "api_key": fault_server.azure_api_key,
        },
    )
    async with Orchestrator(models=[card], plugins=[Once]) as orc:
        result = await orc.invoke("azure_echo.run")
        assert isinstance(orc.executor.connector("azure-gpt"), AzureOpenAIConnector)
    assert result.value == "deployment=prod-dep"
    assert fault_server.requests[-1].path == "/openai/deployments/prod-dep/chat/completions"

"""No key or token ever shows in a log line, an exception, a repr or a result (openai and azure)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from pathlib import Path

import pytest

from dualtrack import (
    AuthenticationError,
    CompletionRequest,
    ConnectorError,
    Message,
    ModelCard,
    Orchestrator,
    SkillContext,
    plugin,
    skill,
)
from dualtrack.connectors.azure import AzureOpenAIConnector, EntraTokenProvider
from dualtrack.connectors.openai import OpenAIConnector
from tests.connectors.servers.authority import FakeAuthority
from tests.connectors.servers.fault import FaultServer
from tests.connectors.servers.llama import free_port

OPENAI_KEY = "sk-DTSCAN-openai-key-7f3a9c1e55"
AZURE_KEY = "az-DTSCAN-azure-key-5b2e8d4f11"
CLIENT_SECRET = "cs-DTSCAN-client-secret-9a1c"


def texts_of(exc: BaseException) -> list[str]:
    out = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, ConnectorError):
        out.append(exc.body or "")
    return out


def assert_clean(haystack: Iterable[str], secrets: Iterable[str]) -> None:
    joined = "\n".join(haystack)
    for secret in secrets:
        assert secret not in joined, f"secret {secret[:6]}... leaked"


@plugin("scan", description="One model call.")
class Scan:
    @skill
    async def run(self, ctx: SkillContext) -> str:
        """Call the model once."""
        return (await ctx.generate("hello")).text


async def test_no_secret_anywhere(
    fault_server: FaultServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    authority = FakeAuthority(client_secret=CLIENT_SECRET, on_token=fault_server.valid_tokens.add)
    seen: list[str] = []
    cards = [
        ModelCard(
            name="oa",
            track="partner",
            connector="openai",
            settings={"base_url": fault_server.url, "model": "ok", "api_key": OPENAI_KEY},
        ),
        ModelCard(
            name="az",
            track="partner",
            connector="azure-openai",
            settings={"endpoint": fault_server.root, "deployment": "d", "api_key": AZURE_KEY},
        ),
    ]
    seen += [repr(c) for c in cards] + [str(c) for c in cards] + [str(c.summary()) for c in cards]

    async with Orchestrator(models=cards, plugins=[Scan]) as orc:
        result = await orc.invoke("scan.run")
        seen += [repr(orc), result.explain(), str(result.to_dict())]
        seen += [repr(orc.executor.connector(n)) for n in ("oa", "az")]

    # Failures: a server that echoes the Authorization header back, a refused connection,
    # a rejected Azure key, and an Entra sign-in with a bad secret.
    failing = [
        OpenAIConnector("unauthorized", base_url=fault_server.url, api_key=OPENAI_KEY),
        OpenAIConnector("ok", base_url=f"http://127.0.0.1:{free_port()}/v1", api_key=OPENAI_KEY),
        AzureOpenAIConnector(fault_server.root, "d", api_key=AZURE_KEY + "-wrong"),
    ]
    cred = EntraTokenProvider(
        client_id="app",
        authority=authority.authority,
        client_secret=CLIENT_SECRET + "-bad",
        cache_path=tmp_path / "bad.json",
        http_client=authority,
        validate_authority=False,
        instance_discovery=False,
    )
    failing.append(AzureOpenAIConnector(fault_server.root, "d", credential=cred))  # type: ignore[arg-type]
    for conn in failing:
        seen.append(repr(conn))
        for stream in (False, True):
            request = CompletionRequest([Message.user("x")], on_text=(lambda _t: None) if stream else None)
            with pytest.raises(ConnectorError) as info:
                await conn.complete(request)
            seen += texts_of(info.value)
        await conn.aclose()
    assert isinstance(info.value, AuthenticationError)
    echoed = fault_server.requests[-1]
    assert echoed is not None

    # Entra tokens: a working sign-in, with its tokens checked too.
    good = EntraTokenProvider(
        client_id="app",
        authority=authority.authority,
        client_secret=CLIENT_SECRET,
        cache_path=tmp_path / "good.json",
        http_client=authority,
        validate_authority=False,
        instance_discovery=False,
    )
    entra = AzureOpenAIConnector(fault_server.root, "d", api_shape="v1", credential=good)
    await entra.complete(CompletionRequest([Message.user("x")]))
    seen += [repr(entra), repr(good)]
    await entra.aclose()
    tokens = list(authority.issued)
    assert tokens and fault_server.requests[-1].headers["authorization"] == f"Bearer {tokens[-1]}"

    log_text = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any("POST" in line for line in log_text)  # the debug lines exist, and were checked
    assert_clean(seen + log_text, [OPENAI_KEY, AZURE_KEY, CLIENT_SECRET, *tokens])


async def test_echoed_key_is_masked_in_the_error(fault_server: FaultServer) -> None:
    conn = OpenAIConnector("unauthorized", base_url=fault_server.url, api_key=OPENAI_KEY)
    try:
        with pytest.raises(AuthenticationError) as info:
            await conn.complete(CompletionRequest([Message.user("x")]))
    finally:
        await conn.aclose()
    assert "Incorrect API key provided: Bearer [REDACTED]" in str(info.value)  # one mask everywhere
    assert "Bearer [REDACTED]" in (info.value.body or "")

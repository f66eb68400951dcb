"""dualtrack as SK's model layer, SK's services as dualtrack models, and the service selector."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from openai import AsyncOpenAI
from semantic_kernel import Kernel
from semantic_kernel.connectors.ai.open_ai import OpenAIChatCompletion
from semantic_kernel.connectors.ai.prompt_execution_settings import PromptExecutionSettings
from semantic_kernel.contents import ChatHistory
from semantic_kernel.exceptions import KernelInvokeException

from dualtrack import ModelCard, NoRouteError, Orchestrator, Policy, RetryPolicy, ServerError
from dualtrack.hosts.semantic_kernel import (
    DualtrackChatCompletion,
    DualtrackExecutionSettings,
    DualtrackServiceSelector,
    SKConnector,
)
from tests.connectors.servers.fault import TEXT, TEXT_PIECES
from tests.hosts.semantic_kernel.conftest import cards
from tests.hosts.semantic_kernel.script_server import SUMMARY_MARK, ScriptServer


@pytest.fixture
async def client(script_server: ScriptServer) -> AsyncIterator[AsyncOpenAI]:
    c = AsyncOpenAI(api_key="test-key", base_url=script_server.url, max_retries=0)
    yield c
    await c.close()


def _sk_card(name: str, service: Any, **kw: Any) -> ModelCard:
    return ModelCard(name=name, track=kw.pop("track", "in-house"), connector=SKConnector(service), **kw)


async def test_an_sk_service_serves_a_model_card(client: AsyncOpenAI) -> None:
    service = OpenAIChatCompletion(ai_model_id="ok", async_client=client)
    async with Orchestrator(models=[_sk_card("sk-local", service)], plugins=[]) as orc:
        result = await orc.generate("Say hello")
        assert result.value == TEXT and result.models == ["sk-local"]
        pieces: list[str] = []
        streamed = await orc.generate("Say hello", on_text=pieces.append)
        assert streamed.value == TEXT and "".join(pieces) == TEXT and len(pieces) >= len(TEXT_PIECES) - 1
        assert [r.model for r in orc.ledger.rows()] == ["sk-local"]
        assert orc.ledger.rows()[0].input_tokens == 22  # usage from SK's metadata, both calls


async def test_a_failing_sk_service_falls_back_to_the_next_model(client: AsyncOpenAI) -> None:
    broken = _sk_card(
        "sk-broken", OpenAIChatCompletion(ai_model_id="server-error", async_client=client), quality=1.0
    )
    good = _sk_card("sk-good", OpenAIChatCompletion(ai_model_id="ok", async_client=client), quality=0.1)
    fast = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02)
    async with Orchestrator(
        models=[broken, good], policy=Policy(objective="quality"), plugins=[], retry=fast
    ) as orc:
        result = await orc.generate("hi")
        assert result.value == TEXT and result.models == ["sk-good"]
        failed = [a for a in result.attempts if a.model == "sk-broken"]
        assert failed and all(a.error_type == ServerError.__name__ for a in failed)


async def test_the_routed_service_answers_sk_chat_with_fallback_and_the_ledger(
    script_server: ScriptServer,
) -> None:
    partner, inhouse = cards(script_server.url)
    broken = partner.model_copy(update={"settings": {**partner.settings, "model": "server-error"}})
    fast = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02)
    async with Orchestrator(
        models=[broken, inhouse], policy=Policy(objective="quality"), plugins=[], retry=fast
    ) as orc:
        service = DualtrackChatCompletion(orc, requires=["summarize"])
        history = ChatHistory()
        history.add_user_message("What does the memo say?")
        reply = await service.get_chat_message_content(history, DualtrackExecutionSettings(max_tokens=64))
        assert reply is not None and SUMMARY_MARK in str(reply)
        assert reply.metadata["dualtrack.model"] == "inhouse"  # the partner failed: fallback
        assert {row.skill for row in orc.ledger.rows()} == {"sk.chat"}
        # sensitivity in the settings is a hard constraint: only the in-house model may take it
        async with Orchestrator(
            models=cards(script_server.url), policy=Policy(objective="quality"), plugins=[]
        ) as o2:
            routed = DualtrackChatCompletion(o2)
            general = await routed.get_chat_message_content(history, DualtrackExecutionSettings())
            secret = await routed.get_chat_message_content(
                history, DualtrackExecutionSettings(sensitivity="confidential")
            )
            assert general.metadata["dualtrack.model"] == "partner"
            assert secret.metadata["dualtrack.model"] == "inhouse"
            chunks = [
                c
                async for c in routed.get_streaming_chat_message_content(
                    history, DualtrackExecutionSettings()
                )
            ]
            assert SUMMARY_MARK in "".join(str(c) for c in chunks if c)


async def test_the_selector_picks_kernel_services_by_tags_and_sensitivity(client: AsyncOpenAI) -> None:
    kernel = Kernel()
    kernel.add_service(
        OpenAIChatCompletion(service_id="partner", ai_model_id="script-partner", async_client=client)
    )
    kernel.add_service(
        OpenAIChatCompletion(service_id="inhouse", ai_model_id="script-inhouse", async_client=client)
    )
    tags = frozenset({"chat", "summarize"})
    kernel.ai_service_selector = DualtrackServiceSelector(
        [
            ModelCard(name="partner", track="partner", capabilities=tags, clearance="general", quality=1.0),
            ModelCard(
                name="inhouse",
                track="in-house",
                capabilities=tags,
                clearance="highly-confidential",
                quality=0.1,
            ),
        ],
        Policy(objective="quality"),
    )

    def fn(name: str, **data: Any) -> Any:
        settings = PromptExecutionSettings(extension_data=data)
        return kernel.add_function(plugin_name="app", function_name=name, prompt="Summarize it",
                                   prompt_execution_settings=settings)  # fmt: skip

    plain = fn("plain", requires=["summarize"])
    secret = fn("secret", requires=["summarize"], sensitivity="confidential")
    assert SUMMARY_MARK in str(await kernel.invoke(plain))
    assert kernel.ai_service_selector.last_decision.chosen == "partner"
    assert SUMMARY_MARK in str(await kernel.invoke(secret))
    assert kernel.ai_service_selector.last_decision.chosen == "inhouse"
    with pytest.raises(KernelInvokeException) as info:
        await kernel.invoke(fn("vision", requires=["vision"]))
    assert isinstance(info.value.__cause__, NoRouteError)
    assert "vision" in str(info.value.__cause__)


async def test_an_sk_service_behind_a_card_calls_skills_in_orc_ask(
    client: AsyncOpenAI, script_server: ScriptServer, tmp_path: Path
) -> None:
    from dualtrack.plugins.document import DocumentPlugin
    from tests.hosts.semantic_kernel.conftest import make_docx

    doc = make_docx(tmp_path / "memo.docx")
    script_server.requests.clear()
    tags = frozenset({"chat", "tools", "summarize"})
    card = _sk_card("sk-script", OpenAIChatCompletion(ai_model_id="script-inhouse", async_client=client),
                    capabilities=tags, clearance="highly-confidential")  # fmt: skip
    confirm = lambda skill, args: skill.full_name == "document.summarize"  # noqa: E731
    async with Orchestrator(
        models=[card], plugins=[DocumentPlugin], roots=[tmp_path], confirm=confirm
    ) as orc:
        order = f'CALL document-summarize {{"path": "{doc}"}}'
        result = await orc.ask(order)
    assert result.value.startswith("Done: ") and SUMMARY_MARK in result.value
    sent = [json.loads(b) for b in script_server.bodies("script-inhouse")]
    assert any(t["function"]["name"] == "document-summarize" for t in sent[0]["tools"])
    assert any(m["role"] == "tool" for m in sent[-1]["messages"])  # the tool result went back through SK

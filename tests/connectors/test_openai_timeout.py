"""The OpenAI connector keeps its promise to end every call by ``request.timeout``.

With its default session it sets ``enforces_timeout``, so the executor arms no timer of
its own: a server that never answers (or stops in the middle of a stream) must be cut
off by the connector itself, through the whole orchestrator path.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from dualtrack import (
    AllAttemptsFailedError,
    ModelCard,
    ModelTimeoutError,
    Orchestrator,
    RetryPolicy,
    SkillContext,
    plugin,
    skill,
)
from dualtrack.connectors.openai import OpenAIConnector
from tests.connectors.servers.fault import FaultServer


@plugin("ask", description="One model call.")
class Ask:
    @skill
    async def once(self, ctx: SkillContext, stream: bool = False) -> str:
        """Ask a model once.

        Args:
            stream: Stream the reply.
        """
        on_text = (lambda _t: None) if stream else None
        return (await ctx.generate("Say hello", on_text=on_text)).text


async def _no_headers() -> dict[str, str]:
    return {}


async def test_the_promise_is_made_only_where_the_session_keeps_it(fault_server: FaultServer) -> None:
    own = OpenAIConnector("ok", base_url=fault_server.url)
    async with httpx.AsyncClient() as client:
        injected = OpenAIConnector("ok", base_url=fault_server.url, client=client)
        assert injected.enforces_timeout is False  # httpx timeouts bound each read, not the call
    hooked = OpenAIConnector("ok", base_url=fault_server.url, auth=_no_headers)
    assert own.enforces_timeout is True
    assert hooked.enforces_timeout is False  # the auth hook is awaited before any request timer
    await own.aclose()
    await hooked.aclose()


@pytest.mark.parametrize("stream", [False, True])
async def test_server_that_never_answers_is_cut_off_by_the_connector(
    fault_server: FaultServer, stream: bool
) -> None:
    conn = OpenAIConnector("hang", base_url=fault_server.url)
    card = ModelCard(name="m", track="in-house", connector=conn)
    orc = Orchestrator(
        models=[card],
        plugins=[Ask],
        retry=RetryPolicy(attempt_timeout_s=0.4, max_retries=0, base_delay_s=0),
    )
    try:
        async with asyncio.timeout(20):  # the server waits 30 s: only a cut-off ends the call sooner
            with pytest.raises((AllAttemptsFailedError, ModelTimeoutError)) as info:
                await orc.invoke("ask.once", stream=stream)
    finally:
        await orc.aclose()
    if stream:  # "Hel" was streamed first: the timeout is raised as it is, never retried
        assert isinstance(info.value, ModelTimeoutError)
        error = str(info.value)
        assert "after 3 characters were streamed" in error
    else:
        assert isinstance(info.value, AllAttemptsFailedError)
        (attempt,) = info.value.attempts
        assert attempt.error_type == "ModelTimeoutError"
        error = attempt.error or ""
    # the connector's own message, not the executor's safety net ("no answer within ...")
    assert "no reply from" in error

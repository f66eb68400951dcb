"""Every failure a server can produce maps to the right typed error (both transports)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dualtrack import (
    AuthenticationError,
    CompletionRequest,
    ConnectorError,
    ContentFilterError,
    ContextLengthError,
    MalformedResponseError,
    Message,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
)
from dualtrack.connectors.openai import OpenAIConnector
from tests.connectors.servers.fault import TEXT, TEXT_PIECES, FaultServer

Make = Callable[..., OpenAIConnector]


def req(**kw: object) -> CompletionRequest:
    return CompletionRequest([Message.user("Say hello")], max_tokens=16, **kw)  # type: ignore[arg-type]


async def test_plain_completion(connector: Make) -> None:
    done = await connector("ok").complete(req())
    assert done.text == TEXT
    assert (done.usage.input_tokens, done.usage.output_tokens) == (11, 7)
    assert done.finish_reason == "stop"
    assert done.model == "fault-model"


async def test_stream_sends_increments_and_assembles(connector: Make) -> None:
    seen: list[str] = []
    done = await connector("ok").complete(req(on_text=seen.append))
    assert seen == TEXT_PIECES
    assert done.text == "".join(seen) == TEXT
    assert (done.usage.input_tokens, done.usage.output_tokens) == (11, 7)


async def test_stream_method_yields_increments(connector: Make) -> None:
    pieces = [p async for p in connector("ok").stream(req())]
    assert pieces == TEXT_PIECES


async def test_usage_estimated_when_server_omits_it(connector: Make) -> None:
    done = await connector("no-usage").complete(req())
    assert done.usage.input_tokens > 0 and done.usage.output_tokens == (len(TEXT) + 3) // 4
    streamed = await connector("no-usage").complete(req(on_text=lambda _t: None))
    assert streamed.usage.output_tokens == len(TEXT_PIECES)


async def test_server_that_ignores_stream_flag(connector: Make) -> None:
    seen: list[str] = []
    done = await connector("ignore-stream").complete(req(on_text=seen.append))
    assert seen == [TEXT] and done.text == TEXT


@pytest.mark.parametrize(
    ("scenario", "retry_after"),
    [("rate-limit-ms", 1.5), ("rate-limit-seconds", 7.0)],
)
async def test_rate_limit_carries_retry_after(connector: Make, scenario: str, retry_after: float) -> None:
    with pytest.raises(RateLimitError) as info:
        await connector(scenario).complete(req())
    assert info.value.retry_after == retry_after
    assert info.value.status_code == 429
    assert "rate_limit_exceeded" in (info.value.body or "")


async def test_rate_limit_with_http_date(connector: Make) -> None:
    with pytest.raises(RateLimitError) as info:
        await connector("rate-limit-date").complete(req())
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= 31


async def test_insufficient_quota_is_not_retried_as_a_rate_limit(connector: Make) -> None:
    with pytest.raises(ConnectorError) as info:
        await connector("quota").complete(req())
    assert type(info.value) is ConnectorError and not info.value.retryable
    assert info.value.status_code == 429


@pytest.mark.parametrize("stream", [False, True])
async def test_server_errors(connector: Make, stream: bool) -> None:
    kw = {"on_text": lambda _t: None} if stream else {}
    with pytest.raises(ServerError) as info:
        await connector("server-error").complete(req(**kw))
    assert info.value.status_code == 500 and info.value.retryable
    with pytest.raises(ServerError) as busy:
        await connector("unavailable").complete(req(**kw))
    assert busy.value.status_code == 503
    assert busy.value.retry_after == 3.0  # type: ignore[attr-defined]
    assert busy.value.body == "upstream busy"


@pytest.mark.parametrize("stream", [False, True])
async def test_hanging_server_times_out(connector: Make, stream: bool) -> None:
    kw = {"on_text": lambda _t: None} if stream else {}
    with pytest.raises(ModelTimeoutError):
        await connector("hang", timeout=0.5).complete(req(**kw))


async def test_request_timeout_bounds_the_whole_call(connector: Make) -> None:
    with pytest.raises(ModelTimeoutError):
        await connector("hang").complete(req(timeout=0.5))


async def test_cut_stream_is_a_server_error_after_the_text_so_far(connector: Make) -> None:
    seen: list[str] = []
    with pytest.raises(ServerError):
        await connector("cut-stream").complete(req(on_text=seen.append))
    assert seen == ["Hello", " fr"]


async def test_stream_ending_without_finish_is_a_server_error(connector: Make) -> None:
    with pytest.raises(ServerError, match="ended before the reply was complete"):
        await connector("early-end").complete(req(on_text=lambda _t: None))
    with pytest.raises(ServerError):
        async for _ in connector("early-end").stream(req()):
            pass


async def test_cut_body_and_reset_connection(connector: Make) -> None:
    with pytest.raises(ServerError):
        await connector("cut-body").complete(req())
    with pytest.raises(ServerError):
        await connector("reset").complete(req())


async def test_error_event_in_stream(connector: Make) -> None:
    with pytest.raises(ServerError, match="overloaded"):
        await connector("stream-error").complete(req(on_text=lambda _t: None))


@pytest.mark.parametrize("scenario", ["malformed", "no-choices", "bad-event"])
async def test_malformed_replies(connector: Make, scenario: str) -> None:
    kw = {"on_text": lambda _t: None} if scenario == "bad-event" else {}
    with pytest.raises(MalformedResponseError) as info:
        await connector(scenario).complete(req(**kw))
    assert info.value.retryable
    assert "OpenAI-compatible" in str(info.value)


@pytest.mark.parametrize("scenario", ["context-length", "context-llama", "context-vllm"])
async def test_context_length_errors(connector: Make, scenario: str) -> None:
    with pytest.raises(ContextLengthError) as info:
        await connector(scenario).complete(req())
    assert info.value.status_code == 400
    assert "context" in (info.value.body or "")


@pytest.mark.parametrize(("scenario", "stream"), [("content-filter", False), ("filtered-reply", False),
                                                  ("filtered-reply", True)])  # fmt: skip
async def test_content_filter(connector: Make, scenario: str, stream: bool) -> None:
    kw = {"on_text": lambda _t: None} if stream else {}
    with pytest.raises(ContentFilterError):
        await connector(scenario).complete(req(**kw))


@pytest.mark.parametrize(("scenario", "status"), [("unauthorized", 401), ("forbidden", 403)])
async def test_authentication_errors(connector: Make, scenario: str, status: int) -> None:
    with pytest.raises(AuthenticationError) as info:
        await connector(scenario, api_key="sk-test-not-shown-0123").complete(req())
    assert info.value.status_code == status
    assert not info.value.retryable


async def test_connection_refused_is_a_server_error(connector: Make) -> None:
    from tests.connectors.servers.llama import free_port

    with pytest.raises(ServerError, match="could not connect"):
        await connector("ok", base_url=f"http://127.0.0.1:{free_port()}/v1").complete(req())


async def test_json_schema_falls_back_to_json_object_once(connector: Make, fault_server: FaultServer) -> None:
    conn = connector("json-schema-reject")
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    first = await conn.complete(req(json_schema=schema))
    assert first.text == '{"name": "Ada", "age": 36}'
    second = await conn.complete(req(json_schema=schema))
    assert second.text == first.text
    formats = [r.body["response_format"]["type"] for r in fault_server.requests[-3:]]
    assert formats == ["json_schema", "json_object", "json_object"]


async def test_forced_json_schema_mode_does_not_fall_back(connector: Make) -> None:
    conn = connector("json-schema-reject", json_mode="json_schema")
    with pytest.raises(ServerError):
        await conn.complete(req(json_schema={"type": "object"}))


async def test_rejected_schema_content_does_not_switch_modes(
    connector: Make, fault_server: FaultServer
) -> None:
    conn = connector("schema-invalid")
    for _ in range(2):
        with pytest.raises(ConnectorError, match="Invalid schema"):
            await conn.complete(req(json_schema={"type": "object"}))
    assert [r.body["response_format"]["type"] for r in fault_server.requests[-2:]] == ["json_schema"] * 2


async def test_stream_closed_early_releases_the_connection(connector: Make) -> None:
    import contextlib

    conn = connector("ok")
    for _ in range(3):  # leaking the response would leave connections hanging between rounds
        async with contextlib.aclosing(conn.stream(req())) as pieces:
            async for first in pieces:
                assert first == TEXT_PIECES[0]
                break
    assert (await conn.complete(req())).text == TEXT

"""The wire format, SSE parsing and error mapping as pure functions."""

from __future__ import annotations

import email.utils
import json
from collections.abc import AsyncIterator

from hypothesis import given
from hypothesis import strategies as st

from dualtrack import (
    AuthenticationError,
    CompletionRequest,
    ConnectorError,
    ContentFilterError,
    ContextLengthError,
    Message,
    RateLimitError,
    ServerError,
    ToolCall,
)
from dualtrack.connectors._http import Redactor
from dualtrack.connectors.openai._errors import error_from_response, parse_retry_after
from dualtrack.connectors.openai._sse import sse_events
from dualtrack.connectors.openai._wire import is_strict_schema, request_body, response_format

WHERE = "http://127.0.0.1:1/v1/chat/completions"


def test_request_body_maps_every_field() -> None:
    call = ToolCall("call_1", "get_weather", '{"city": "Paris"}')
    request = CompletionRequest(
        [
            Message.system("Be brief."),
            Message.user("Weather in Paris?"),
            Message.assistant("", [call]),
            Message.tool('{"temp": 21}', "call_1"),
        ],
        max_tokens=50,
        temperature=0.2,
        stop=["END"],
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
    )
    body = request_body(request, model="gpt-x", stream=True)
    assert body["model"] == "gpt-x"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": call.arguments},
                }
            ],
        },
        {"role": "tool", "content": '{"temp": 21}', "tool_call_id": "call_1"},
    ]
    assert (body["max_tokens"], body["temperature"], body["stop"]) == (50, 0.2, ["END"])
    assert body["tools"] == request.tools
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_request_body_options() -> None:
    request = CompletionRequest([Message.user("hi")], max_tokens=5)
    body = request_body(request, model=None, stream=False, max_tokens_field="max_completion_tokens")
    assert "model" not in body and "stream" not in body and "temperature" not in body
    assert body["max_completion_tokens"] == 5 and "max_tokens" not in body
    assert "stream_options" not in request_body(request, model="m", stream=True, stream_usage=False)


def test_strict_only_for_schemas_openai_accepts() -> None:
    loose = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "required": ["a"],
    }
    strict = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "items": {"type": "array", "items": {"$ref": "#/$defs/I"}}},
        "required": ["a", "items"],
        "additionalProperties": False,
        "$defs": {"I": {"type": "object", "properties": {}, "required": [], "additionalProperties": False}},
    }
    assert not is_strict_schema(loose)
    assert is_strict_schema(strict)
    nested_loose = json.loads(json.dumps(strict))
    nested_loose["$defs"]["I"]["properties"] = {"x": {"type": "string"}}
    assert not is_strict_schema(nested_loose)
    fmt = response_format({**strict, "title": "My Person!"}, "json_schema", "auto")
    assert fmt["json_schema"]["strict"] is True and fmt["json_schema"]["name"] == "My_Person_"
    assert response_format(loose, "json_schema", "auto")["json_schema"]["strict"] is False
    assert response_format(loose, "json_schema", True)["json_schema"]["strict"] is True
    assert response_format(loose, "json_object", "auto") == {"type": "json_object", "schema": loose}


def test_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "12"}) == 12.0
    assert parse_retry_after({"retry-after": email.utils.formatdate(now + 42, usegmt=True)}, now=now) == 42.0
    assert parse_retry_after({"retry-after": email.utils.formatdate(now - 42, usegmt=True)}, now=now) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def _err(status: int, payload: object, headers: dict[str, str] | None = None) -> ConnectorError:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return error_from_response(status, headers or {}, raw, where=WHERE, redactor=Redactor(["sk-very-secret"]))


def test_error_mapping_table() -> None:
    assert isinstance(_err(401, {"error": {"message": "bad key sk-very-secret"}}), AuthenticationError)
    assert isinstance(_err(429, {"error": {"code": "rate_limit_exceeded"}}), RateLimitError)
    assert type(_err(429, {"error": {"code": "insufficient_quota"}})) is ConnectorError
    assert isinstance(_err(400, {"error": {"code": "context_length_exceeded"}}), ContextLengthError)
    assert isinstance(_err(400, {"detail": "prompt is too long: 300000 tokens > 200000"}), ContextLengthError)
    assert isinstance(_err(413, b"Payload Too Large"), ContextLengthError)
    assert isinstance(_err(400, {"error": {"code": "content_filter"}}), ContentFilterError)
    assert isinstance(_err(502, b"<html>bad gateway</html>"), ServerError)
    assert type(_err(404, {"error": {"message": "model not found"}})) is ConnectorError
    masked = _err(401, {"error": {"message": "bad key sk-very-secret"}})
    assert "sk-very-secret" not in str(masked) and "sk-very-secret" not in (masked.body or "")
    long = _err(500, b"x" * 10_000)
    assert long.body is not None and len(long.body) == 2000


async def _aiter(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for c in chunks:
        yield c


async def _events(chunks: list[bytes]) -> list[tuple[str, str]]:
    return [e async for e in sse_events(_aiter(chunks))]


STREAM = b': keep-alive\n\ndata: {"a": 1}\n\nevent: error\r\ndata: {"b":\r\ndata: 2}\r\n\r\ndata:[DONE]\n\n'


async def test_sse_events_parse() -> None:
    assert await _events([STREAM]) == [("message", '{"a": 1}'), ("error", '{"b":\n2}'), ("message", "[DONE]")]


async def test_sse_event_without_trailing_blank_line_is_delivered() -> None:
    assert await _events([b'data: {"a": 1}\n\ndata: {"last": true}']) == [
        ("message", '{"a": 1}'),
        ("message", '{"last": true}'),
    ]


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
async def test_sse_parsing_does_not_depend_on_chunking(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    pieces = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert await _events([p for p in pieces if p]) == await _events([STREAM])

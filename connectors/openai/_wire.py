"""The OpenAI Chat Completions wire format: request bodies and reply parsing.

Replies are parsed with :mod:`json` and plain dict look-ups (no model
validation): this runs on every call and the fields used are few.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from dualtrack import (
    Completion,
    CompletionRequest,
    ContentFilterError,
    Message,
    ToolCall,
    Usage,
    estimate_tokens,
)

from .._http import Redactor
from ._errors import error_from_payload, malformed

__all__ = [
    "JsonMode",
    "StrictMode",
    "is_strict_schema",
    "message_dict",
    "parse_completion",
    "refused",
    "request_body",
    "response_format",
    "tool_calls_from",
    "usage_from",
]

JsonMode = Literal["json_schema", "json_object"]
"""``json_schema``: OpenAI structured outputs. ``json_object``: ``{"type": "json_object",
"schema": ...}`` as llama-cpp-python's server expects."""
StrictMode = Literal["auto"] | bool
_NAME_OK = re.compile(r"[^a-zA-Z0-9_-]+")


def message_dict(m: Message) -> dict[str, Any]:
    """One :class:`~dualtrack.Message` as a Chat Completions message."""
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["content"] = m.content or None
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls
        ]
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    if m.name:
        out["name"] = m.name
    return out


def is_strict_schema(schema: Any) -> bool:
    """Whether OpenAI's strict mode accepts ``schema`` as it is.

    Strict mode needs every object to list all its properties as required and
    to forbid additional ones. Schemas that do not comply are sent non-strict
    rather than rewritten (rewriting would change which fields are optional).
    """
    if isinstance(schema, list):
        return all(is_strict_schema(s) for s in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return False
        if set(schema.get("required", ())) != set(props):
            return False
    return all(is_strict_schema(v) for k, v in schema.items() if k not in ("required", "enum", "const"))


def response_format(schema: dict[str, Any], mode: JsonMode, strict: StrictMode) -> dict[str, Any]:
    """The ``response_format`` for a JSON Schema, in the server's dialect."""
    if mode == "json_object":
        return {"type": "json_object", "schema": schema}
    name = _NAME_OK.sub("_", str(schema.get("title") or "reply"))[:64] or "reply"
    use_strict = is_strict_schema(schema) if strict == "auto" else bool(strict)
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": use_strict}}


def request_body(
    request: CompletionRequest,
    *,
    model: str | None,
    stream: bool,
    json_mode: JsonMode = "json_schema",
    strict: StrictMode = "auto",
    max_tokens_field: str = "max_tokens",
    stream_usage: bool = True,
) -> dict[str, Any]:
    """The JSON body of a ``/chat/completions`` request.

    Args:
        request: What the core asks for.
        model: The ``model`` field (``None`` omits it, as Azure deployment URLs allow).
        stream: Ask for server-sent events.
        json_mode: How to ask for JSON-schema output.
        strict: Strict structured outputs: ``"auto"`` when the schema qualifies.
        max_tokens_field: ``max_tokens`` or ``max_completion_tokens`` (reasoning models).
        stream_usage: Ask for a final usage chunk when streaming.

    Returns:
        The body as plain data.
    """
    body: dict[str, Any] = {"messages": [message_dict(m) for m in request.messages]}
    if model:
        body["model"] = model
    if request.max_tokens is not None:
        body[max_tokens_field] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.stop:
        body["stop"] = request.stop
    if request.tools:
        body["tools"] = request.tools
    if request.json_schema is not None:
        body["response_format"] = response_format(request.json_schema, json_mode, strict)
    if stream:
        body["stream"] = True
        if stream_usage:
            body["stream_options"] = {"include_usage": True}
    return body


def tool_calls_from(raw: Any) -> tuple[ToolCall, ...]:
    """Tool calls from a message's ``tool_calls`` list (missing fields become empty)."""
    if not raw:
        return ()
    calls = []
    for i, c in enumerate(raw):
        fn = c.get("function") or {}
        args = fn.get("arguments")
        if not isinstance(args, str):  # some servers send an object
            args = json.dumps(args if args is not None else {})
        calls.append(ToolCall(c.get("id") or f"call_{i}", fn.get("name") or "", args))
    return tuple(calls)


def usage_from(raw: Any, request: CompletionRequest, text: str, output_tokens: int | None = None) -> Usage:
    """Usage as reported, or estimated (about 4 characters a token) when the server did not say."""
    if isinstance(raw, dict) and raw.get("prompt_tokens") is not None:
        return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))
    out = output_tokens if output_tokens is not None else (len(text) + 3) // 4
    return Usage(estimate_tokens(request.messages), out)


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def refused(where: str, finish_reason: str | None, refusal: Any, redactor: Redactor) -> ContentFilterError:
    """The error for a reply the provider filtered or the model refused."""
    why = f"the model refused: {redactor.text(str(refusal))[:300]}" if refusal else "the reply was filtered"
    return ContentFilterError(
        f"{where}: {why} (finish_reason={finish_reason!r}) - rephrase, or route to another model",
        status_code=200,
    )


def parse_completion(
    data: Any, request: CompletionRequest, *, where: str, redactor: Redactor, raw: bytes
) -> Completion:
    """Turn a decoded ``chat.completion`` object into a :class:`~dualtrack.Completion`.

    Raises:
        ContentFilterError: The reply was filtered or refused.
        MalformedResponseError: The object has no usable choice.
        ConnectorError: The body was an error object despite a 2xx status.
    """
    try:
        choice = data["choices"][0]
        msg = choice["message"]
    except (KeyError, IndexError, TypeError):
        if isinstance(data, dict) and "error" in data:
            raise error_from_payload(
                data, status=200, where=where, redactor=redactor, raw=raw.decode("utf-8", "replace")
            ) from None
        raise malformed(where, "no choices[0].message", raw, redactor) from None
    finish = choice.get("finish_reason")
    refusal = msg.get("refusal")
    if finish == "content_filter" or refusal:
        raise refused(where, finish, refusal, redactor)
    text = _text(msg.get("content"))
    calls = tool_calls_from(msg.get("tool_calls"))
    return Completion(
        text=text,
        tool_calls=calls,
        usage=usage_from(data.get("usage"), request, text),
        finish_reason=finish,
        model=data.get("model"),
    )

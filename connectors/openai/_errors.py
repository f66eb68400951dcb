"""Map OpenAI-style error replies (status, headers, body) to the core's typed errors.

Covers OpenAI, Azure OpenAI, vLLM, llama.cpp (both servers), Ollama and other
OpenAI-compatible servers, which differ in where they put the message and code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from dualtrack import (
    AuthenticationError,
    ConnectorError,
    ContentFilterError,
    ContextLengthError,
    MalformedResponseError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
)

from .._http import Redactor

__all__ = ["BODY_LIMIT", "error_from_payload", "error_from_response", "malformed", "parse_retry_after"]

BODY_LIMIT = 2000
"""Characters of a response body kept on an error (after redaction)."""

_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "maximum context length",
    "exceeds the available context size",
    "exceed_context_size",
    "context window",
    "prompt is too long",
    "too many tokens",
    "input is too long",
)
_FILTER_MARKERS = ("content_filter", "content_policy_violation", "responsibleaipolicyviolation")


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds a server asked us to wait, from ``retry-after-ms`` or ``Retry-After``.

    Args:
        headers: Case-insensitive response headers.
        now: The current Unix time (for HTTP-date values); defaults to ``time.time()``.

    Returns:
        Seconds (never negative), or ``None`` when the server did not say.
    """
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    import email.utils  # an HTTP date here is rare: loaded only for one

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _details(payload: Any) -> tuple[str, str]:
    """``(message, codes)`` from the many error shapes servers use."""
    if not isinstance(payload, dict):
        return (str(payload) if payload is not None else "", "")
    err = payload.get("error", payload)
    if isinstance(err, str):
        return err, str(payload.get("code") or payload.get("type") or "")
    if not isinstance(err, dict):
        return str(err), ""
    message = err.get("message") or err.get("detail") or payload.get("message") or payload.get("detail") or ""
    if not isinstance(message, str):
        message = json.dumps(message)
    codes = [err.get("code"), err.get("type"), payload.get("code"), payload.get("type")]
    inner = err.get("innererror")
    if isinstance(inner, dict):
        codes.append(inner.get("code"))
    return message, " ".join(str(c) for c in codes if c)


def _kind(status: int, message: str, codes: str) -> type[ConnectorError]:
    text = f"{codes} {message}".lower()
    if status in (401, 403) or "invalid_api_key" in text:
        return AuthenticationError
    if "insufficient_quota" in text:
        return ConnectorError  # billing, not a rate: waiting will not help
    if status == 429 or "rate_limit" in text:
        return RateLimitError
    if any(m in text for m in _FILTER_MARKERS):
        return ContentFilterError
    if status == 413 or any(m in text for m in _CONTEXT_MARKERS):
        return ContextLengthError
    if status in (408, 504):
        return ModelTimeoutError
    if status >= 500 or "server_error" in text or "overloaded" in text:
        return ServerError
    return ConnectorError


_HINTS: dict[type[ConnectorError], str] = {
    AuthenticationError: "check the API key or credentials in the model's settings",
    RateLimitError: "the provider is rate limiting; the call is retried after the delay it asked for",
    ContentFilterError: "the provider's content filter refused it; rephrase, or route to another model",
    ContextLengthError: "shorten the input or route to a model with a larger context_window",
    ModelTimeoutError: "the server gave up waiting; retry or raise the timeout",
    ServerError: "the server failed; the call is retried and then falls back to another model",
    ConnectorError: "check `base_url`, `model` and the request",
}


def error_from_payload(
    payload: Any,
    *,
    status: int | None,
    where: str,
    redactor: Redactor,
    headers: Mapping[str, str] | None = None,
    raw: str | None = None,
) -> ConnectorError:
    """Build the typed error for an error object (from a body or a stream event).

    Args:
        payload: The decoded JSON (or ``None`` when the body was not JSON).
        status: The HTTP status, if any.
        where: The endpoint, for the message.
        redactor: Masks secrets in the message and body.
        headers: Response headers (for ``Retry-After``).
        raw: The raw body text, kept (truncated) on the error.

    Returns:
        The error to raise.
    """
    message, codes = _details(payload)
    if not message and raw:
        message = raw.strip()
    kind = _kind(status or 0, message, codes)
    summary = redactor.text(" ".join(message.split())[:300]) or "no message"
    code_note = f" [{codes}]" if codes else ""
    status_note = f" with HTTP {status}" if status else ""
    text = f"{where} failed{status_note}{code_note}: {summary} - {_HINTS[kind]}"
    body = redactor.text(raw[:BODY_LIMIT]) if raw else None
    if kind is RateLimitError:
        return RateLimitError(
            text,
            retry_after=parse_retry_after(headers or {}),
            status_code=status,
            body=body,
        )
    err = kind(text, status_code=status, body=body)
    if kind is ServerError and headers is not None:  # 503 often says when to come back
        err.retry_after = parse_retry_after(headers)  # type: ignore[attr-defined]
    return err


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, where: str, redactor: Redactor
) -> ConnectorError:
    """Build the typed error for a non-2xx response.

    Args:
        status: The HTTP status.
        headers: The response headers.
        body: The raw body.
        where: The endpoint, for the message.
        redactor: Masks secrets in the message and body.

    Returns:
        The error to raise.
    """
    raw = body.decode("utf-8", "replace")
    try:
        payload: Any = json.loads(raw) if raw.strip() else None
    except ValueError:
        payload = None
    return error_from_payload(
        payload, status=status, where=where, redactor=redactor, headers=headers, raw=raw
    )


def malformed(where: str, problem: str, body: bytes | str, redactor: Redactor) -> MalformedResponseError:
    """A :class:`~dualtrack.MalformedResponseError` for a 2xx reply that made no sense."""
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    snippet = redactor.text(" ".join(raw[:200].split()))
    return MalformedResponseError(
        f"{where} sent a reply that is not an OpenAI chat completion ({problem}): {snippet!r} - "
        "check that `base_url` points at an OpenAI-compatible /v1 endpoint",
        status_code=200,
        body=redactor.text(raw[:BODY_LIMIT]),
    )

"""``OpenAIConnector``: the Chat Completions API of OpenAI and of OpenAI-compatible servers."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from dualtrack import Completion, CompletionRequest, ConnectorError, ModelCard, ServerError

from .._http import HttpSession, HttpStream, Redactor, safe_url
from ._errors import error_from_response, malformed
from ._settings import HTTP_SETTINGS, check_base_url, check_keys, http_options
from ._sse import StreamAssembler, read_stream
from ._transport import AiohttpSession, HttpxSession, default_session
from ._wire import JsonMode, StrictMode, parse_completion, request_body

if TYPE_CHECKING:
    import httpx  # imported by the caller that injects a client; never by the connector itself

__all__ = ["DEFAULT_BASE_URL", "AuthHeaders", "OpenAIConnector"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
AuthHeaders = Callable[[], Awaitable[Mapping[str, str]]]
"""Returns headers to add to each request (e.g. a fresh bearer token)."""

_log = logging.getLogger("dualtrack.connectors.openai")
_SETTINGS = {
    "model": "the model name sent to the server (default: the card's name)",
    "base_url": f"the API root, default {DEFAULT_BASE_URL}",
    "api_key": "the API key (use ${OPENAI_API_KEY} in config files)",
    "organization": "the OpenAI organization id",
    "project": "the OpenAI project id",
    **HTTP_SETTINGS,
}


class OpenAIConnector:
    """Talks to ``POST {base_url}/chat/completions``.

    Streams (server-sent events) when the request has ``on_text``; maps every
    failure to a :class:`~dualtrack.ConnectorError` subclass. The API key is
    sent but never shown: ``repr`` gives the base URL and model only, and keys
    are masked in error messages, error bodies and log lines. With its default
    session (no ``client``, no ``auth``) every call ends by ``request.timeout``
    on its own, so ``enforces_timeout`` is true and the executor arms no second timer.

    Args:
        model: The ``model`` field; ``None`` leaves it out.
        base_url: The API root (``.../v1``).
        api_key: Sent as ``Authorization: Bearer``.
        organization: Sent as ``OpenAI-Organization``.
        project: Sent as ``OpenAI-Project``.
        client: An ``httpx.AsyncClient`` to use instead of the default pooled
            aiohttp session (tests pass one built on ``httpx.MockTransport``).
            The connector does not close a client it was given.
        timeout: Seconds to wait for each read (default session only).
        connect_timeout: Seconds to wait for a connection (default session only).
        max_connections: Pool size of the default session.
        extra_headers: Headers added to every request.
        verify: Verify TLS (default session only); a path selects a CA bundle.
        proxy: Proxy URL (default session only); by default the environment's.
        query: Query parameters added to the URL (Azure's ``api-version``).
        auth: Async callable giving per-request headers (bearer tokens).
        redactor: Shared secret masker (a new one when ``None``).
        json_mode: ``auto`` sends OpenAI ``json_schema`` and falls back to
            ``json_object`` once if the server rejects it; or force either.
        strict_schema: Strict structured outputs: ``auto`` when the schema qualifies.
        max_tokens_field: ``max_tokens`` or ``max_completion_tokens``.
        stream_usage: Ask for a usage chunk at the end of streams.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_connections: int = 256,
        extra_headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        proxy: str | None = None,
        query: Mapping[str, str] | None = None,
        auth: AuthHeaders | None = None,
        redactor: Redactor | None = None,
        json_mode: JsonMode | str = "auto",
        strict_schema: StrictMode = "auto",
        max_tokens_field: str = "max_tokens",
        stream_usage: bool = True,
    ) -> None:
        self.model = model
        self.base_url = check_base_url(base_url)
        self._url = f"{self.base_url}/chat/completions" + (f"?{urlencode(dict(query))}" if query else "")
        self._where = safe_url(self._url)
        self._redactor = redactor or Redactor()
        self._redactor.add(api_key)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if organization:
            headers["OpenAI-Organization"] = organization
        if project:
            headers["OpenAI-Project"] = project
        headers.update(extra_headers or {})
        self._headers = headers
        self._stream_headers = {**headers, "Accept": "text/event-stream"}
        self._auth = auth
        self._http: HttpSession
        if client is not None:
            self._http = HttpxSession(client, redactor=self._redactor)
        else:
            self._http = default_session(
                timeout=timeout,
                connect_timeout=connect_timeout,
                max_connections=max_connections,
                verify=verify,
                proxy=proxy,
                base_url=self.base_url,
                redactor=self._redactor,
            )
        self._json_auto = json_mode == "auto"
        self._json_mode: JsonMode = "json_object" if json_mode == "json_object" else "json_schema"
        self._strict: StrictMode = strict_schema
        self._max_tokens_field = max_tokens_field
        self._stream_usage = stream_usage
        # The default aiohttp session bounds each whole exchange (connect, send, every read of a
        # reply or stream) by `request.timeout`, so the executor needs no timer of its own. Not so
        # with an injected httpx client (its timeouts are per read) or an `auth` hook (awaited first).
        self.enforces_timeout = isinstance(self._http, AiohttpSession) and auth is None

    @classmethod
    def from_card(
        cls, card: ModelCard, *, client: httpx.AsyncClient | None = None, redactor: Redactor | None = None
    ) -> OpenAIConnector:
        """Build from a card's settings (the ``openai`` entry point).

        Args:
            card: The model card; ``settings.model`` defaults to the card name.
            client: Optional ``httpx.AsyncClient`` to use instead of the default session.
            redactor: The orchestrator's secret masker (the connector adds its key to it).

        Returns:
            The connector.

        Raises:
            ValueError: A setting is unknown or invalid, or OpenAI's API has no key.
        """
        s = card.settings
        check_keys(s, _SETTINGS, "openai")
        base_url = check_base_url(s.get("base_url") or DEFAULT_BASE_URL)
        api_key = s.get("api_key") or None
        if api_key is None and base_url == DEFAULT_BASE_URL:
            api_key = os.environ.get("OPENAI_API_KEY") or None
            if api_key is None:
                raise ValueError(
                    f"model {card.name!r} calls the OpenAI API but has no API key: export OPENAI_API_KEY "
                    'or set api_key = "${OPENAI_API_KEY}" in its settings'
                )
        return cls(
            str(s.get("model") or card.name),
            base_url=base_url,
            api_key=api_key,
            organization=s.get("organization"),
            project=s.get("project"),
            client=client,
            redactor=redactor,
            **http_options(s),
        )

    # -- the Connector protocol -------------------------------------------------

    async def complete(self, request: CompletionRequest) -> Completion:
        """Complete one request (streamed to ``request.on_text`` when it is set).

        Raises:
            ConnectorError: A typed subclass for every failure (rate limit,
                authentication, context length, content filter, server error,
                timeout, malformed reply).
        """
        on_text = request.on_text
        if on_text is not None:
            assembler = StreamAssembler(self._where, self._redactor)
            increments = self._stream(request, assembler)
            try:
                async for text in increments:
                    on_text(text)
            finally:
                await increments.aclose()
            return assembler.completion(request)
        timeout, started = request.timeout, time.monotonic()
        while True:
            payload = self._payload(request, stream=False)
            headers = self._headers if self._auth is None else {**self._headers, **await self._auth()}
            if _log.isEnabledFor(logging.DEBUG):
                self._debug(request, headers, stream=False)
            resp = await self._http.post(self._url, payload, headers, timeout)
            if resp.status >= 300:
                err = error_from_response(
                    resp.status, resp.headers, resp.body, where=self._where, redactor=self._redactor
                )
                if self._downgrade_json(err, request):
                    timeout = _left(request.timeout, started)
                    continue
                raise err
            try:
                data = json.loads(resp.body)
            except ValueError:
                raise malformed(self._where, "the body is not JSON", resp.body, self._redactor) from None
            return parse_completion(data, request, where=self._where, redactor=self._redactor, raw=resp.body)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[str]:
        """Yield text increments as the server produces them.

        Raises:
            ConnectorError: As :meth:`complete`; a stream cut before its end
                raises :class:`~dualtrack.ServerError` after the last increment.
        """
        assembler = StreamAssembler(self._where, self._redactor)
        increments = self._stream(request, assembler)
        try:
            async for text in increments:
                yield text
        finally:
            await increments.aclose()
        assembler.completion(request)

    async def aclose(self) -> None:
        """Close the connection pool (an injected client is left open)."""
        await self._http.aclose()

    @property
    def url(self) -> str:
        """The chat completions URL (without query string or credentials)."""
        return self._where

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={safe_url(self.base_url)!r}, model={self.model!r})"

    # -- internals ----------------------------------------------------------------

    def _payload(self, request: CompletionRequest, *, stream: bool) -> bytes:
        body = request_body(
            request,
            model=self.model,
            stream=stream,
            json_mode=self._json_mode,
            strict=self._strict,
            max_tokens_field=self._max_tokens_field,
            stream_usage=self._stream_usage,
        )
        return json.dumps(body).encode()

    def _downgrade_json(self, err: ConnectorError, request: CompletionRequest) -> bool:
        """After a server rejected ``json_schema``, switch to ``json_object`` (once)."""
        if not (self._json_auto and request.json_schema is not None and self._json_mode == "json_schema"):
            return False
        if type(err) not in (ConnectorError, ServerError) or err.status_code not in (400, 422, 500):
            return False
        body = err.body or ""
        if "json_schema" not in body or "json_object" not in body:  # "expected 'text' or 'json_object'"
            return False
        _log.info("%s rejected response_format json_schema; using json_object from now on", self._where)
        self._json_mode = "json_object"
        return True

    async def _open(self, request: CompletionRequest) -> HttpStream:
        timeout, started = request.timeout, time.monotonic()
        while True:
            payload = self._payload(request, stream=True)
            headers = self._stream_headers
            if self._auth is not None:
                headers = {**headers, **await self._auth()}
            if _log.isEnabledFor(logging.DEBUG):
                self._debug(request, headers, stream=True)
            response = await self._http.open_stream(self._url, payload, headers, timeout)
            if response.status < 300:
                return response
            try:
                body = await response.read()
            finally:
                await response.close()
            err = error_from_response(
                response.status, response.headers, body, where=self._where, redactor=self._redactor
            )
            if not self._downgrade_json(err, request):
                raise err
            timeout = _left(request.timeout, started)

    async def _stream(
        self, request: CompletionRequest, assembler: StreamAssembler
    ) -> AsyncGenerator[str, None]:
        response = await self._open(request)
        try:
            if "text/event-stream" not in response.headers.get("content-type", "text/event-stream"):
                # Some servers ignore stream=true and answer with one JSON object.
                raw = await response.read()
                try:
                    data: Any = json.loads(raw)
                except ValueError:
                    raise malformed(self._where, "the body is not JSON", raw, self._redactor) from None
                done = parse_completion(data, request, where=self._where, redactor=self._redactor, raw=raw)
                assembler.adopt(done)
                if done.text:
                    yield done.text
                return
            async for text in read_stream(response, assembler):
                yield text
        finally:
            await response.close()

    def _debug(self, request: CompletionRequest, headers: Mapping[str, str], *, stream: bool) -> None:
        _log.debug(
            "POST %s model=%s stream=%s messages=%d tools=%d json=%s headers=%s",
            self._where,
            self.model,
            stream,
            len(request.messages),
            len(request.tools or ()),
            request.json_schema is not None,
            self._redactor.headers(headers),
        )


def _left(timeout: float | None, started: float) -> float | None:
    """What is left of a call's ``timeout`` for its second request (after a JSON downgrade)."""
    return None if timeout is None else max(timeout - (time.monotonic() - started), 0.001)

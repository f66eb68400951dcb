"""The HTTP seam shared by the HTTP connectors.

Connectors speak to a small :class:`HttpSession` interface with two backends:

* :class:`AiohttpSession` - the default. One pooled ``aiohttp`` session per
  connector, created on first use inside the running event loop. It costs a
  fraction of the CPU per call of httpx's own connection pool (see
  ``bench/transport.py``), which matters when a host fans out many calls.
* :class:`HttpxSession` - wraps an ``httpx.AsyncClient`` the caller injects,
  so ``httpx.MockTransport``, custom transports, proxies and event hooks work.

Both raise the core's typed errors for transport failures (timeouts, refused or
dropped connections, cut streams); HTTP status codes are left to the connector.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
import httpx

from dualtrack import ConnectorError, MalformedResponseError, ModelTimeoutError, ServerError, __version__

__all__ = [
    "AiohttpSession",
    "HttpResponse",
    "HttpSession",
    "HttpStream",
    "HttpxSession",
    "Redactor",
    "USER_AGENT",
    "safe_url",
    "transport_error",
]

USER_AGENT = f"dualtrack/{__version__}"
_SECRET_HEADERS = frozenset(
    {"authorization", "api-key", "x-api-key", "proxy-authorization", "cookie", "ocp-apim-subscription-key"}
)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class Redactor:
    """Masks known secret values (API keys, tokens) in any text.

    Connectors register every secret they send; error messages, response
    bodies and log lines pass through :meth:`text` before anyone sees them.
    """

    __slots__ = ("_pattern", "_secrets")

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        self._pattern: re.Pattern[str] | None = None
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        """Mask ``secret`` from now on (values under 4 characters are ignored)."""
        if not secret or len(secret) < 4 or secret in self._secrets:
            return
        self._secrets.append(secret)
        del self._secrets[:-16]  # rotating tokens: keep the most recent ones
        alts = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in alts))

    def text(self, value: str) -> str:
        """``value`` with every registered secret replaced by ``***``."""
        if self._pattern is None:
            return value
        return self._pattern.sub("***", value)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A copy of ``headers`` safe to log (credential headers masked)."""
        return {k: "***" if k.lower() in _SECRET_HEADERS else self.text(v) for k, v in headers.items()}

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secret(s))"


def safe_url(url: str) -> str:
    """``url`` without user info or query string, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


@dataclass(slots=True)
class HttpResponse:
    """A whole HTTP response.

    Attributes:
        status: The status code.
        headers: Case-insensitive response headers.
        body: The raw body.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes


class HttpStream(Protocol):
    """A response whose body is read incrementally."""

    status: int
    headers: Mapping[str, str]

    async def read(self) -> bytes:
        """Read the rest of the body."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """Yield body chunks as they arrive."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...


class HttpSession(Protocol):
    """What a connector needs from HTTP."""

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float | None
    ) -> HttpResponse:
        """POST ``body`` and read the whole response."""
        ...

    async def open_stream(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float | None
    ) -> HttpStream:
        """POST ``body`` and return once the response headers arrived."""
        ...

    async def aclose(self) -> None:
        """Close pooled connections."""
        ...


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def transport_error(exc: BaseException, url: str, redactor: Redactor | None = None) -> ConnectorError:
    """Map an aiohttp/httpx/socket failure to the core's typed error.

    Args:
        exc: The exception raised by the HTTP library.
        url: The URL being called (shown without query or credentials).
        redactor: Masks secrets in the library's message.

    Returns:
        A :class:`~dualtrack.ConnectorError` subclass ready to raise ``from exc``.
    """
    where = safe_url(url)
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if redactor is not None:
        detail = redactor.text(detail)
    chain = list(_chain(exc))
    for e in chain:  # httpx-aiohttp wraps aiohttp errors; the cause is the precise one
        if isinstance(e, aiohttp.ClientError):
            return _from_aiohttp(e, where, detail)
    if isinstance(exc, httpx.TimeoutException):
        return _timeout(where, detail)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ConnectorError(f"cannot call {where} ({detail}); check `base_url` in the model's settings")
    if isinstance(exc, httpx.DecodingError | httpx.LocalProtocolError):
        return MalformedResponseError(f"{where} sent a reply that could not be decoded ({detail})")
    if isinstance(exc, httpx.RemoteProtocolError):
        return ServerError(f"the reply from {where} was cut off ({detail})")
    if isinstance(exc, httpx.ConnectError):
        return ServerError(f"could not connect to {where} ({detail}); is the server running?")
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            return _tls(where, detail)
        if isinstance(e, TimeoutError):
            return _timeout(where, detail)
    return ServerError(f"calling {where} failed ({detail})")


def _from_aiohttp(e: aiohttp.ClientError, where: str, detail: str) -> ConnectorError:
    if isinstance(e, aiohttp.ClientConnectorCertificateError):
        return _tls(where, detail)
    if isinstance(e, aiohttp.ClientPayloadError):
        return ServerError(f"the reply from {where} was cut off before it was complete ({detail})")
    if isinstance(e, TimeoutError):  # aiohttp's timeouts subclass TimeoutError
        return _timeout(where, detail)
    if isinstance(e, aiohttp.ClientConnectorError):
        return ServerError(f"could not connect to {where} ({detail}); is the server running?")
    if isinstance(e, aiohttp.ClientConnectionError):
        return ServerError(f"the connection to {where} dropped ({detail})")
    if isinstance(e, aiohttp.ClientResponseError):
        return MalformedResponseError(f"{where} sent an invalid HTTP reply ({detail})")
    return ServerError(f"calling {where} failed ({detail})")


def _tls(where: str, detail: str) -> ConnectorError:
    return ConnectorError(
        f"TLS certificate verification failed for {where} ({detail}); "
        "set `verify` to a CA bundle path in the model's settings"
    )


def _timeout(where: str, detail: str) -> ModelTimeoutError:
    return ModelTimeoutError(
        f"no reply from {where} in time ({detail}); raise `timeout` in the model's settings "
        "if the model is just slow"
    )


def env_proxy(url: str) -> str | None:
    """The proxy the environment (``HTTPS_PROXY``, ``NO_PROXY`` ...) sets for ``url``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in _LOOPBACK:
        return None
    proxies = urllib.request.getproxies()
    if not proxies or urllib.request.proxy_bypass(host):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


def ssl_setting(verify: bool | str) -> bool | ssl.SSLContext:
    """The ``ssl`` argument of aiohttp for a ``verify`` setting (bool or CA bundle path)."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return True if verify else False


class _AiohttpStream:
    __slots__ = ("_resp", "_url", "headers", "redactor", "status")

    def __init__(self, resp: aiohttp.ClientResponse, url: str, redactor: Redactor | None) -> None:
        self._resp = resp
        self._url = url
        self.redactor = redactor
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers

    async def read(self) -> bytes:
        try:
            return await self._resp.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise transport_error(exc, self._url, self.redactor) from exc

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise transport_error(exc, self._url, self.redactor) from exc

    async def close(self) -> None:
        self._resp.release()


class AiohttpSession:
    """The default backend: one pooled ``aiohttp.ClientSession``, opened lazily.

    Args:
        timeout: Seconds to wait for each read from the server.
        connect_timeout: Seconds to wait for a connection.
        max_connections: Pool size (calls beyond it wait for a free connection).
        verify: Verify TLS certificates; a path selects a CA bundle.
        proxy: An explicit proxy URL; by default the environment's is used.
        base_url: The URL the proxy is resolved for.
        redactor: Masks secrets in transport error messages.
    """

    def __init__(
        self,
        *,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_connections: int = 256,
        verify: bool | str = True,
        proxy: str | None = None,
        base_url: str = "",
        redactor: Redactor | None = None,
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=timeout)
        self._connect_timeout = connect_timeout
        self._read_timeout = timeout
        self._max_connections = max_connections
        self._ssl = ssl_setting(verify)
        self._proxy = proxy if proxy is not None else env_proxy(base_url)
        self._redactor = redactor
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _get(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or self._loop is not loop or session.closed:
            conn = aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl, keepalive_timeout=30)
            session = aiohttp.ClientSession(
                connector=conn,
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._session, self._loop = session, loop
        return session

    def _call_timeout(self, timeout: float | None) -> Any:
        if timeout is None:
            return aiohttp.helpers.sentinel
        return aiohttp.ClientTimeout(
            total=timeout, sock_connect=self._connect_timeout, sock_read=min(timeout, self._read_timeout)
        )

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float | None
    ) -> HttpResponse:
        """POST ``body`` and read the whole response."""
        session = self._get()
        try:
            async with session.post(
                url,
                data=body,
                headers=headers,
                proxy=self._proxy,
                timeout=self._call_timeout(timeout),
                allow_redirects=False,
            ) as resp:
                return HttpResponse(resp.status, resp.headers, await resp.read())
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise transport_error(exc, url, self._redactor) from exc

    async def open_stream(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float | None
    ) -> HttpStream:
        """POST ``body`` and return once the response headers arrived."""
        session = self._get()
        try:
            resp = await session.post(
                url,
                data=body,
                headers=headers,
                proxy=self._proxy,
                timeout=self._call_timeout(timeout),
                allow_redirects=False,
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise transport_error(exc, url, self._redactor) from exc
        return _AiohttpStream(resp, url, self._redactor)

    async def aclose(self) -> None:
        """Close the pool (a later call opens a new one)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


class _HttpxStream:
    __slots__ = ("_resp", "_url", "headers", "redactor", "status")

    def __init__(self, resp: httpx.Response, url: str, redactor: Redactor | None) -> None:
        self._resp = resp
        self._url = url
        self.redactor = redactor
        self.status = resp.status_code
        self.headers: Mapping[str, str] = resp.headers

    async def read(self) -> bytes:
        try:
            return await self._resp.aread()
        except httpx.HTTPError as exc:
            raise transport_error(exc, self._url, self.redactor) from exc

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            raise transport_error(exc, self._url, self.redactor) from exc

    async def close(self) -> None:
        await self._resp.aclose()


class HttpxSession:
    """Backend over an injected ``httpx.AsyncClient`` (its timeouts apply unless a call sets one).

    Args:
        client: The client; the connector closes it only when ``owned``.
        owned: Whether :meth:`aclose` closes the client.
        redactor: Masks secrets in transport error messages.
    """

    def __init__(self, client: httpx.AsyncClient, *, owned: bool = False, redactor: Redactor | None = None):
        self.client = client
        self._owned = owned
        self._redactor = redactor

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float | None
    ) -> HttpResponse:
        """POST ``body`` and read the whole response."""
        t: Any = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
        try:
            resp = await self.client.post(url, content=body, headers=headers, timeout=t)
        except httpx.HTTPError as exc:
            raise transport_error(exc, url, self._redactor) from exc
        return HttpResponse(resp.status_code, resp.headers, resp.content)

    async def open_stream(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float | None
    ) -> HttpStream:
        """POST ``body`` and return once the response headers arrived."""
        t: Any = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
        request = self.client.build_request("POST", url, content=body, headers=headers, timeout=t)
        try:
            resp = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise transport_error(exc, url, self._redactor) from exc
        return _HttpxStream(resp, url, self._redactor)

    async def aclose(self) -> None:
        """Close the client if the connector created it."""
        if self._owned:
            await self.client.aclose()

"""The two HTTP session backends of the HTTP connectors.

* :class:`AiohttpSession` - the default. One pooled ``aiohttp`` session per
  connector, created on first use inside the running event loop. It costs a
  fraction of the CPU per call of httpx's own connection pool (see
  ``bench/transport.py``), which matters when a host fans out many calls.
* :class:`HttpxSession` - wraps an ``httpx.AsyncClient`` the caller injects,
  so ``httpx.MockTransport``, custom transports, proxies and event hooks work.

:func:`default_session` picks aiohttp when the ``aiohttp`` extra is installed and
falls back to a pooled ``httpx.AsyncClient`` of the same settings otherwise.
"""

from __future__ import annotations

import asyncio
import math
import ssl
from collections.abc import AsyncIterator, Mapping
from importlib.util import find_spec
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._http import USER_AGENT, HttpResponse, HttpStream, Redactor, refused, transport_error

__all__ = ["AiohttpSession", "HttpxSession", "default_session", "env_proxy", "ssl_setting"]

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

if TYPE_CHECKING:
    import aiohttp
    import httpx

# aiohttp and httpx are imported on first use, not with the connector: together they cost
# more import time than all of dualtrack ("ready to call" in bench/peers.py).
_HAS_AIOHTTP = find_spec("aiohttp") is not None  # the `aiohttp` extra; else httpx carries the calls
_AIOHTTP_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, OSError)  # + aiohttp.ClientError


def _import_aiohttp() -> ModuleType:
    """Import aiohttp (once) and add its base error to the errors the sessions catch."""
    global _AIOHTTP_ERRORS
    import aiohttp

    _AIOHTTP_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
    return aiohttp


def env_proxy(url: str) -> str | None:
    """The proxy the environment (``HTTPS_PROXY``, ``NO_PROXY`` ...) sets for ``url``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in _LOOPBACK:
        return None
    import urllib.request  # http.client, email, ...: only when a session is built

    proxies = urllib.request.getproxies()
    if not proxies or urllib.request.proxy_bypass(host):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


def ssl_setting(verify: bool | str) -> bool | ssl.SSLContext:
    """The ``ssl`` argument of aiohttp for a ``verify`` setting (bool or CA bundle path)."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return bool(verify)


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
        except _AIOHTTP_ERRORS as exc:
            raise transport_error(exc, self._url, self.redactor) from exc

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.content.iter_any():
                yield chunk
        except _AIOHTTP_ERRORS as exc:
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
        self._connect_timeout = connect_timeout
        self._read_timeout = timeout
        self._timeouts: dict[float, Any] = {}
        self._max_connections = max_connections
        self._ssl = ssl_setting(verify)
        self._proxy = proxy if proxy is not None else env_proxy(base_url)
        self._redactor = redactor
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._no_timeout: Any = None  # aiohttp's "the session's timeout", set by _get()

    def _get(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or self._loop is not loop or session.closed:
            aiohttp = _import_aiohttp()
            self._no_timeout = aiohttp.helpers.sentinel
            timeout = aiohttp.ClientTimeout(
                total=None, sock_connect=self._connect_timeout, sock_read=self._read_timeout
            )
            conn = aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl, keepalive_timeout=30)
            session = aiohttp.ClientSession(
                connector=conn,
                timeout=timeout,
                headers={"User-Agent": USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._session, self._loop = session, loop
        return session

    def _call_timeout(self, timeout: float | None) -> Any:
        if timeout is None:
            return self._no_timeout
        found = self._timeouts.get(timeout)  # callers mostly repeat one value (the attempt timeout)
        if found is None:
            import aiohttp  # imported by _get() already

            if len(self._timeouts) >= 64:
                self._timeouts.clear()
            # `total` bounds every read too: a read timeout of its own only when it is shorter
            # (one timer less per call, rearmed on every chunk otherwise)
            read = self._read_timeout if self._read_timeout < timeout else None
            found = self._timeouts[timeout] = aiohttp.ClientTimeout(
                total=timeout,
                sock_connect=self._connect_timeout,
                sock_read=read,
                ceil_threshold=math.inf,  # on time, not rounded up to a whole second
            )
        return found

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
        except _AIOHTTP_ERRORS as exc:
            raise transport_error(exc, url, self._redactor) from exc
        except ValueError as exc:  # refused before sending, e.g. a header value it will not send
            raise refused(exc, url, self._redactor) from exc

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
        except _AIOHTTP_ERRORS as exc:
            raise transport_error(exc, url, self._redactor) from exc
        except ValueError as exc:  # refused before sending, e.g. a header value it will not send
            raise refused(exc, url, self._redactor) from exc
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
        import httpx  # imported by whoever built the client

        try:
            return await self._resp.aread()
        except httpx.HTTPError as exc:
            raise transport_error(exc, self._url, self.redactor) from exc

    async def chunks(self) -> AsyncIterator[bytes]:
        import httpx

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
        import httpx  # imported by whoever built the client

        self.client = client
        self._owned = owned
        self._redactor = redactor
        self._client_default: Any = httpx.USE_CLIENT_DEFAULT
        self._errors: tuple[type[Exception], ...] = (httpx.HTTPError, httpx.InvalidURL)

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float | None
    ) -> HttpResponse:
        """POST ``body`` and read the whole response."""
        t: Any = self._client_default if timeout is None else timeout
        try:
            resp = await self.client.post(url, content=body, headers=headers, timeout=t)
        except self._errors as exc:
            raise transport_error(exc, url, self._redactor) from exc
        except ValueError as exc:
            raise refused(exc, url, self._redactor) from exc
        return HttpResponse(resp.status_code, resp.headers, resp.content)

    async def open_stream(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float | None
    ) -> HttpStream:
        """POST ``body`` and return once the response headers arrived."""
        t: Any = self._client_default if timeout is None else timeout
        request = self.client.build_request("POST", url, content=body, headers=headers, timeout=t)
        try:
            resp = await self.client.send(request, stream=True)
        except self._errors as exc:
            raise transport_error(exc, url, self._redactor) from exc
        except ValueError as exc:
            raise refused(exc, url, self._redactor) from exc
        return _HttpxStream(resp, url, self._redactor)

    async def aclose(self) -> None:
        """Close the client if the connector created it."""
        if self._owned:
            await self.client.aclose()


def default_session(
    *,
    timeout: float,
    connect_timeout: float,
    max_connections: int,
    verify: bool | str,
    proxy: str | None,
    base_url: str,
    redactor: Redactor | None,
) -> AiohttpSession | HttpxSession:
    """The session a connector uses when the caller injects no ``httpx.AsyncClient``.

    Args:
        timeout: Seconds to wait for each read from the server.
        connect_timeout: Seconds to wait for a connection.
        max_connections: Pool size.
        verify: Verify TLS certificates; a path selects a CA bundle.
        proxy: An explicit proxy URL; by default the environment's is used.
        base_url: The URL the proxy is resolved for.
        redactor: Masks secrets in transport error messages.

    Returns:
        A pooled aiohttp session (the ``aiohttp`` extra), or an owned httpx client.
    """
    if _HAS_AIOHTTP:
        return AiohttpSession(
            timeout=timeout,
            connect_timeout=connect_timeout,
            max_connections=max_connections,
            verify=verify,
            proxy=proxy,
            base_url=base_url,
            redactor=redactor,
        )
    import httpx

    client = httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        limits=httpx.Limits(max_connections=max_connections, keepalive_expiry=30),
        verify=ssl_setting(verify) if isinstance(verify, str) else verify,
        proxy=proxy if proxy is not None else env_proxy(base_url),
        trust_env=False,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )
    return HttpxSession(client, owned=True, redactor=redactor)

"""The HTTP seam shared by the HTTP connectors.

The session interface and the mapping of transport failures to the core's typed
errors. Secrets are masked by :class:`dualtrack.Redactor` (re-exported here): the
one the orchestrator passes in, or the connector's own.

The two session backends live in ``dualtrack.connectors.openai._transport``:
the default pooled aiohttp session (the ``aiohttp`` extra), and one over an
``httpx.AsyncClient`` (injected, or the default when aiohttp is not installed).
Both raise the core's typed errors for transport failures (timeouts, refused or
dropped connections, cut streams); HTTP status codes are left to the connector.
"""

from __future__ import annotations

import ssl
import sys
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from dualtrack import (
    ConnectorError,
    MalformedResponseError,
    ModelTimeoutError,
    Redactor,
    ServerError,
    __version__,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "HttpResponse",
    "HttpSession",
    "HttpStream",
    "Redactor",
    "USER_AGENT",
    "refused",
    "safe_url",
    "transport_error",
]

USER_AGENT = f"dualtrack/{__version__}"


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
    where, detail = safe_url(url), _detail(exc, redactor)
    chain = list(_chain(exc))
    # Neither library is imported here (importing them costs more than the rest of the
    # connector): an error can only come from one that the session already imported.
    aio = sys.modules.get("aiohttp")
    if aio is not None:
        for e in chain:  # httpx-aiohttp wraps aiohttp errors; the cause is the precise one
            if isinstance(e, aio.ClientError):
                return _from_aiohttp(e, where, detail)
    if "httpx" in sys.modules:
        return _from_httpx(exc, chain, where, detail)
    return _from_chain(chain, where, detail)


def refused(exc: ValueError, url: str, redactor: Redactor | None = None) -> ConnectorError:
    """A request the HTTP library refused to send: a setting is wrong, and retrying will not help."""
    return ConnectorError(
        f"the request to {safe_url(url)} could not be sent ({_detail(exc, redactor)}); check `base_url`, "
        "`extra_headers` and the key in the model's settings"
    )


def _detail(exc: BaseException, redactor: Redactor | None) -> str:
    """The library's exception for a message: its type and text, secrets masked."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return redactor.text(detail) if redactor is not None else detail


def _from_httpx(exc: BaseException, chain: list[BaseException], where: str, detail: str) -> ConnectorError:
    import httpx  # already imported (see transport_error)

    if isinstance(exc, httpx.TimeoutException):
        return _timeout(where, detail)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ConnectorError(f"cannot call {where} ({detail}); check `base_url` in the model's settings")
    if isinstance(exc, httpx.LocalProtocolError):  # our request broke the protocol: retrying will not help
        return ConnectorError(
            f"the request to {where} could not be sent ({detail}); check `extra_headers` and the key "
            "in the model's settings"
        )
    if isinstance(exc, httpx.DecodingError):
        return MalformedResponseError(f"{where} sent a reply that could not be decoded ({detail})")
    if isinstance(exc, httpx.RemoteProtocolError):
        return ServerError(f"the reply from {where} was cut off ({detail})")
    if isinstance(exc, httpx.ConnectError):
        return ServerError(f"could not connect to {where} ({detail}); is the server running?")
    return _from_chain(chain, where, detail)


def _from_chain(chain: list[BaseException], where: str, detail: str) -> ConnectorError:
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            return _tls(where, detail)
        if isinstance(e, TimeoutError):
            return _timeout(where, detail)
    return ServerError(f"calling {where} failed ({detail})")


def _from_aiohttp(e: aiohttp.ClientError, where: str, detail: str) -> ConnectorError:
    import aiohttp  # already imported (see transport_error)

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

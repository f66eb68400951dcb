"""The Graph HTTP client: bearer tokens, throttling, one token refresh, typed errors.

Every request to Graph carries ``Authorization: Bearer``; requests to the
pre-authenticated URLs Graph hands out (downloads after the 302, upload-session
chunks) never do. A ``429`` or ``503`` is retried after its ``Retry-After`` (or a
backoff) up to :attr:`RetryPolicy.max_retries` times, and given up at once when the
server asks for a wait longer than :attr:`RetryPolicy.max_delay_s`. A ``401`` refreshes
the token once. Tokens never reach a log or a message: the :class:`~dualtrack.Redactor`
holds every token obtained, and messages carry only Graph's error code and text.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from typing import Any, Protocol

import httpx

from dualtrack import (
    FileChangedError,
    FileLockedError,
    FileSourceError,
    Redactor,
    RetryPolicy,
)

__all__ = ["Credential", "GraphClient", "StaticToken", "graph_error"]

_log = logging.getLogger("dualtrack.connectors.graph")
_RETRY_STATUS = frozenset({429, 503, 504})
_SOURCE = "m365"


class Credential(Protocol):
    """Gives bearer tokens: an Entra ID token provider (``dualtrack.connectors.azure``) or a static one."""

    async def token(self) -> str:
        """A valid access token."""
        ...


class StaticToken:
    """A token obtained elsewhere (``az account get-access-token --resource-type ms-graph``).

    It cannot be refreshed: when Graph rejects it, sign in again and pass a new one.
    """

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("access_token is empty")
        self._token = token

    async def token(self) -> str:
        """The token."""
        return self._token

    def __repr__(self) -> str:
        return "StaticToken(...)"


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        when = email.utils.parsedate_to_datetime(raw) if raw else None
        return max(0.0, when.timestamp() - time.time()) if when else None


def _error_body(response: httpx.Response) -> tuple[str, str]:
    try:
        data = response.json()
    except ValueError:
        return "", ""
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return str(err.get("code") or ""), str(err.get("message") or "")
    return "", ""


def graph_error(ref: str, response: httpx.Response, what: str, redactor: Redactor) -> FileSourceError:
    """The typed error for a failed Graph response; the message says what to do next."""
    status = response.status_code
    code, text = _error_body(response)
    said = redactor.text(f" (Graph: {code}: {text}"[:300] + ")") if code or text else ""
    kw: dict[str, Any] = {"source": _SOURCE, "status_code": status}
    if status == 412 or (status == 409 and code.lower() in ("resourcemodified", "conflict")):
        return FileChangedError(
            ref,
            f"{what} refused: the file changed in OneDrive/SharePoint since it was read{said}; nothing was "
            "overwritten. Run the skill again on the current version",
            **kw,
        )
    if status == 423:
        return FileLockedError(
            ref,
            f"{what} refused: the file is locked (checked out, being edited, or double-key encrypted){said}; "
            "nothing was read or written. Check it in or close it, then try again",
            **kw,
        )
    reason, hint = {
        400: ("failed", "the request was not accepted"),
        401: ("auth", "Graph rejected the credentials; sign in again or check the app registration"),
        403: (
            "forbidden",
            "access denied; the app needs Files.ReadWrite (delegated) or Sites.ReadWrite.All (app-only) "
            "and the person or app needs access to the file",
        ),
        404: ("not-found", "no such file, or no access to it; check the reference"),
        409: ("failed", "a conflicting change happened at the same time; try again"),
        413: ("too-large", "the file is larger than Graph accepts here"),
        429: ("throttled", "Graph is throttling requests; try again later"),
        507: ("too-large", "the drive is full"),
    }.get(status, ("unavailable" if status >= 500 else "failed", f"Graph answered HTTP {status}"))
    return FileSourceError(ref, f"{what} failed: {hint}{said}", reason=reason, **kw)


class GraphClient:
    """Sends requests to Graph (and to its pre-authenticated URLs) for one file source.

    Args:
        graph_url: The Graph root, e.g. ``https://graph.microsoft.com/v1.0``.
        credential: Where bearer tokens come from.
        http: An ``httpx.AsyncClient`` to use (closed by its owner); ``None`` makes one.
        retry: Retries and waits for throttling.
        redactor: Masks tokens in everything logged or raised.
        timeout_s: Timeout of one request (connect, read, write).
    """

    def __init__(
        self,
        *,
        graph_url: str,
        credential: Credential,
        http: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        redactor: Redactor | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.graph_url = graph_url.rstrip("/")
        self.credential = credential
        self.retry = retry or RetryPolicy(max_retries=3, base_delay_s=0.5, max_delay_s=60.0)
        self.redactor = redactor if redactor is not None else Redactor()
        self._own = http is None
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), follow_redirects=False)

    def url(self, path: str) -> str:
        """The full URL of a Graph path (``/me/drive/...``)."""
        return path if path.startswith(("https://", "http://")) else f"{self.graph_url}{path}"

    async def send(
        self,
        method: str,
        url: str,
        ref: str,
        *,
        what: str,
        auth: bool = True,
        stream: bool = False,
        retry_transport: bool | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        **kw: Any,
    ) -> httpx.Response:
        """Send one request, with throttling retries and one token refresh.

        Args:
            method: The HTTP method.
            url: A Graph path or a full URL (pre-authenticated URLs: ``auth=False``).
            ref: The file reference, for errors.
            what: What this request does, for errors ("download", "upload" ...).
            auth: Send the bearer token (never to pre-authenticated URLs).
            stream: Return the response unread (the caller closes it).
            retry_transport: Retry timeouts and dropped connections (default: for GET only).
            ok: Statuses returned to the caller rather than raised (plus 3xx).
            **kw: Passed to ``httpx.AsyncClient.build_request``.

        Raises:
            FileSourceError: Or a subclass, for every other outcome.
        """
        refreshed = False
        tries = 0
        retry_transport = method == "GET" if retry_transport is None else retry_transport
        while True:
            headers = dict(kw.pop("headers", None) or {})
            if auth:
                headers["Authorization"] = f"Bearer {await self._token(ref)}"
            request = self.http.build_request(method, self.url(url), headers=headers, **kw)
            kw["headers"] = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            try:
                response = await self.http.send(request, stream=stream, follow_redirects=False)
            except httpx.HTTPError as exc:
                if retry_transport and tries < self.retry.max_retries:
                    tries += 1
                    await asyncio.sleep(self._backoff(tries))
                    continue
                problem = (
                    "timed out; Graph did not answer in time, try again later"
                    if isinstance(exc, httpx.TimeoutException)
                    else f"failed: could not reach Graph ({type(exc).__name__})"
                )
                raise FileSourceError(ref, f"{what} {problem}", source=_SOURCE, reason="unavailable") from exc
            status = response.status_code
            if status in ok or 300 <= status < 400:
                return response
            if stream:
                await response.aread()
                await response.aclose()
            if status == 401 and auth and not refreshed and hasattr(self.credential, "refresh"):
                refreshed = True
                await self._refresh(ref)
                continue
            if status in _RETRY_STATUS and tries < self.retry.max_retries:
                wait = _retry_after(response)
                if wait is not None and wait > self.retry.max_delay_s:
                    raise FileSourceError(
                        ref,
                        f"{what} failed: Graph is throttling and asked to wait {wait:.0f} s (more than "
                        f"retry.max_delay_s = {self.retry.max_delay_s:.0f} s); try again later",
                        source=_SOURCE, reason="throttled", status_code=status,
                    )  # fmt: skip
                tries += 1
                _log.info("Graph answered %s to %s; retrying in %.1f s", status, what, wait or 0.0)
                await asyncio.sleep(wait if wait is not None else self._backoff(tries))
                continue
            raise graph_error(ref, response, what, self.redactor)

    def _backoff(self, tries: int) -> float:
        cap = min(self.retry.max_delay_s, self.retry.base_delay_s * 2 ** (tries - 1))
        return random.uniform(0, cap)

    async def _token(self, ref: str) -> str:
        try:
            token = await self.credential.token()
        except FileSourceError:
            raise
        except Exception as exc:
            raise self._auth_failed(ref, exc) from exc
        self.redactor.add(token)
        return token

    async def _refresh(self, ref: str) -> None:
        try:
            token = await self.credential.refresh()  # type: ignore[attr-defined]
        except Exception as exc:
            raise self._auth_failed(ref, exc) from exc
        self.redactor.add(token)

    def _auth_failed(self, ref: str, exc: Exception) -> FileSourceError:
        return FileSourceError(
            ref,
            f"signing in to Microsoft Graph failed: {self.redactor.text(str(exc))[:300]}",
            source=_SOURCE,
            reason="auth",
        )

    async def aclose(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._own:
            await self.http.aclose()

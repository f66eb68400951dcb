"""The outermost ASGI layer: body size and time limits, request ids, access logs, last-resort errors.

A body larger than its limit is refused from its ``Content-Length`` (413) or cut
off once that many bytes arrived; a body that does not arrive within
``body_timeout_s`` (a slow client holding a worker) is cut off with 408. Each
request gets an ``X-Request-Id`` and one JSON access-log line (method, path
without the query, status, duration, caller name): never a header, a key or a
body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._problems import Problem, problem_from_exception

__all__ = ["Guard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_access = logging.getLogger("dualtrack.http.access")
_MULTIPART_SLACK = 64 * 1024


async def send_problem(send: Send, problem: Problem, rid: str) -> None:
    """Send a complete problem response."""
    body = problem.body()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", rid.encode()),
        (b"connection", b"close"),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in problem.headers.items()),
    ]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Wraps the app with the limits above.

    Args:
        app: The Starlette app.
        max_body: Largest body of a JSON request.
        max_upload: Largest uploaded file (``POST /v1/files``).
        body_timeout_s: Time a body may take to arrive.
        clean: Redacts a message (for last-resort errors).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        max_upload: int,
        body_timeout_s: float,
        clean: Callable[[str], str],
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload + _MULTIPART_SLACK
        self.body_timeout_s = body_timeout_s
        self.clean = clean

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        path = scope.get("path", "")
        upload = path == "/v1/files" and scope.get("method") == "POST"
        ex = _Exchange(self, scope, receive, send, self.max_upload if upload else self.max_body)
        try:
            ex.check_declared_length()
            await self.app(scope, ex.receive, ex.send)
        except asyncio.CancelledError:
            if not ex.timed_out:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            await ex.fail(Problem("request-timeout", ex.timeout_detail()))
        except Exception as exc:  # noqa: BLE001 - a problem document, or re-raised once the answer started
            await ex.fail(exc)
        finally:
            ex.stop_timer()
            if _access.isEnabledFor(logging.INFO):
                _access.info(
                    json.dumps(
                        {
                            "rid": ex.rid,
                            "method": scope.get("method"),
                            "path": path[:300],
                            "status": ex.status,
                            "ms": round((time.perf_counter() - start) * 1000, 2),
                            "caller": scope.get("state", {}).get("caller", "-"),
                        }
                    )
                )


class _Exchange:
    """One request going through the :class:`Guard`: its id, its body limits, its response status.

    The body must arrive by one deadline: a single timer per request (armed when the
    request has a body) cancels the request's task when it passes with the body still
    incomplete, and the guard answers 408.
    """

    def __init__(self, guard: Guard, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        self.guard = guard
        self.scope = scope
        self._receive = receive
        self._send = send
        self.limit = limit
        self.rid = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = self.rid
        self.status = 0
        self.received = 0
        self.timed_out = False
        self.declared: bytes | None = None
        chunked = False
        for name, value in scope.get("headers") or ():
            if name == b"content-length":
                self.declared = value
            elif name == b"transfer-encoding":
                chunked = True
        self.complete = not chunked and self.declared in (None, b"0")
        self._timer: asyncio.TimerHandle | None = None
        if not self.complete:
            task = asyncio.current_task()
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(guard.body_timeout_s, self._expire, task)

    def check_declared_length(self) -> None:
        """Refuse a body whose ``Content-Length`` is over the limit before reading it."""
        declared = self.declared
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            raise self._too_large()

    def _too_large(self) -> Problem:
        limit = self.limit
        return Problem("payload-too-large", f"the body may be at most {limit} bytes here", limit_bytes=limit)

    def timeout_detail(self) -> str:
        """What a 408 says."""
        return f"the request body must arrive within {self.guard.body_timeout_s:g} s"

    def _expire(self, task: asyncio.Task[Any] | None) -> None:
        if not self.complete and task is not None and not task.done():
            self.timed_out = True
            task.cancel()

    def stop_timer(self) -> None:
        """Disarm the body deadline."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def receive(self) -> Message:
        """The app's ``receive``: counts body bytes against the limit and notes when the body is complete."""
        message = await self._receive()
        if self.complete:
            return message
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise self._too_large()
            if not message.get("more_body", False):
                self.complete = True
                self.stop_timer()
        else:
            self.complete = True
            self.stop_timer()
        return message

    async def send(self, message: Message) -> None:
        """The app's ``send``: adds the request id and notes the status."""
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message["headers"] = [*message.get("headers", ()), (b"x-request-id", self.rid.encode())]
        await self._send(message)

    async def fail(self, exc: BaseException) -> None:
        """Answer with the problem document of ``exc``, unless the response has started."""
        if self.status:
            raise exc  # the response has started; the server closes the connection
        problem = problem_from_exception(exc, self.guard.clean)
        self.status = problem.status
        await send_problem(self._send, problem, self.rid)

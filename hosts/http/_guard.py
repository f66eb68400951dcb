"""The outermost ASGI layer: body size and time limits, request ids, access logs, last-resort errors.

A body larger than its limit is refused from its ``Content-Length`` (413) or cut
off once that many bytes arrived; a body that does not arrive within
``body_timeout_s`` (a slow client holding a worker) is cut off with 408. Each
request gets an ``X-Request-Id`` and one JSON access-log line (method, path
without the query, status, duration, caller name): never a header, a key or a
body.
"""

from __future__ import annotations

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
        import asyncio

        rid = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        status = {"code": 0}
        path = scope.get("path", "")
        limit = self.max_upload if path == "/v1/files" and scope.get("method") == "POST" else self.max_body
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                raise Problem(
                    "payload-too-large", f"the body may be at most {limit} bytes here", limit_bytes=limit
                )
            deadline = time.monotonic() + self.body_timeout_s
            received = 0
            complete = False

            async def guarded() -> Message:
                nonlocal received, complete
                if complete:
                    return await receive()
                try:
                    async with asyncio.timeout(max(0.001, deadline - time.monotonic())):
                        message = await receive()
                except TimeoutError:
                    raise Problem(
                        "request-timeout", f"the request body must arrive within {self.body_timeout_s:g} s"
                    ) from None
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise Problem(
                            "payload-too-large",
                            f"the body may be at most {limit} bytes here",
                            limit_bytes=limit,
                        )
                    if not message.get("more_body", False):
                        complete = True
                else:
                    complete = True
                return message

            await self.app(scope, guarded, sending)
        except Exception as exc:
            if status["code"]:
                raise  # the response has started; the server closes the connection
            problem = problem_from_exception(exc, self.clean)
            status["code"] = problem.status
            await send_problem(send, problem, rid)
        finally:
            caller = scope.get("state", {}).get("caller", "-")
            if _access.isEnabledFor(logging.INFO):
                _access.info(
                    json.dumps(
                        {
                            "rid": rid,
                            "method": scope.get("method"),
                            "path": path[:300],
                            "status": status["code"],
                            "ms": round((time.perf_counter() - start) * 1000, 2),
                            "caller": caller,
                        }
                    )
                )

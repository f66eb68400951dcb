"""The MCP server over streamable HTTP: an ASGI app, and a loopback server for ``--http``.

:class:`McpHttp` is an ASGI application that serves the MCP endpoint at its root
(mount it at ``/mcp`` in a host, or use :meth:`McpHttp.app` for a standalone app
with the endpoint at ``/mcp``). It needs its session manager running: a standalone
app runs it in its lifespan; a host that mounts :class:`McpHttp` enters
:meth:`McpHttp.running` in its own lifespan (sub-application lifespans are not run
by Starlette). Host and Origin headers are checked against loopback names, so a web
page cannot reach the server through DNS rebinding.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from ._server import McpServer

__all__ = ["McpHttp", "serve_http"]

Scope = dict[str, Any]
Receive = Any
Send = Any
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def loopback_security(port: int | None = None, extra_hosts: Iterable[str] = ()) -> TransportSecuritySettings:
    """Accept only loopback Host/Origin headers (any port unless ``port`` is given)."""
    suffix = f":{port}" if port else ":*"
    hosts = [f"{h}{suffix}" for h in _LOOPBACK] + [*_LOOPBACK, *extra_hosts]
    origins = [f"http://{h}{suffix}" for h in _LOOPBACK]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


class McpHttp:
    """Streamable HTTP transport of an :class:`McpServer`, as an ASGI app.

    Args:
        server: The MCP server.
        security: Host/Origin checks; default: loopback names only.
        json_response: Answer with single JSON bodies instead of SSE streams.
    """

    def __init__(
        self,
        server: McpServer,
        *,
        security: TransportSecuritySettings | None = None,
        json_response: bool = False,
    ) -> None:
        self.mcp = server
        self.manager = StreamableHTTPSessionManager(
            app=server.server,
            json_response=json_response,
            security_settings=security or loopback_security(),
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the session manager (once per :class:`McpHttp`); enter it in the host's lifespan."""
        async with self.manager.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.manager.handle_request(scope, receive, send)

    def app(self, path: str = "/mcp") -> Any:
        """A standalone Starlette app serving the endpoint at ``path``, with its lifespan."""
        from starlette.applications import Starlette
        from starlette.routing import Route

        @contextlib.asynccontextmanager
        async def lifespan(_: Any) -> AsyncIterator[None]:
            async with self.running():
                yield

        endpoint = self
        return Starlette(
            routes=[Route(path, endpoint=endpoint, methods=["GET", "POST", "DELETE"])], lifespan=lifespan
        )


async def serve_http(
    server: McpServer, port: int, *, path: str = "/mcp", ready: Callable[[int], None] | None = None
) -> None:
    """Serve ``server`` on ``http://127.0.0.1:{port}{path}`` until cancelled.

    Args:
        server: The MCP server.
        port: The TCP port (0 picks a free one).
        path: Where the endpoint lives.
        ready: Called with the bound port once the server accepts connections.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    bound = int(sock.getsockname()[1])
    transport = McpHttp(server, security=loopback_security(bound))
    config = uvicorn.Config(
        transport.app(path), log_level="warning", lifespan="on", timeout_graceful_shutdown=2
    )
    web = uvicorn.Server(config)
    task = asyncio.ensure_future(web.serve(sockets=[sock]))
    try:
        while not web.started and not task.done():
            await asyncio.sleep(0.01)
        if ready is not None and web.started:
            ready(bound)
        await asyncio.shield(task)
    except asyncio.CancelledError:
        web.should_exit = True
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        raise
    finally:
        sock.close()

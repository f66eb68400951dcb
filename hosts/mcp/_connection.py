"""One connection to an external MCP server: lazy start, one restart on a crash, timeouts.

Every connection lives on one event loop in a background thread, shared by the
process, so a server keeps running whatever loop the orchestrator is used from
(``asyncio.run`` in a script, ``invoke_sync``'s own loop, a web server's loop).
Callers await :func:`on_mcp_loop`; cancelling the caller cancels the call on the
MCP loop, and the server is sent ``notifications/cancelled``.

What can go wrong with a server, and what the caller gets (always an
:class:`McpServerError` with a ``reason``, never a hang; the host keeps working):

============================  ==================================================================
the server ...                the call
============================  ==================================================================
does not start / answer init  ``reason="startup"`` after ``startup_timeout``
exits before or during a call restarted once: a read tool is retried, a write is not
                              (``reason="crashed"``: it may or may not have applied the change)
takes longer than ``timeout`` cancelled on the server, ``reason="timeout"``
writes output that is not MCP ``reason="protocol"`` at once; the connection is restarted next call
floods notifications          progress is coalesced and logs are dropped; the call goes on
============================  ==================================================================
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from mcp import ClientSession, types
from mcp.shared.exceptions import McpError
from mcp.shared.session import ProgressFnT as ProgressFn

from dualtrack import DualtrackError

from ._client_config import McpServerConfig

__all__ = ["McpConnection", "McpServerError", "on_mcp_loop", "run_sync"]

T = TypeVar("T")
_log = logging.getLogger("dualtrack.hosts.mcp.client")


class McpServerError(DualtrackError):
    """An external MCP server failed a call: it did not start, crashed, hung or broke the protocol.

    Attributes:
        server: The server's configured name.
        reason: ``startup``, ``crashed``, ``timeout``, ``protocol`` or ``unavailable``.
    """

    model_summary = "the external tool server failed; try again later or use another tool"

    def __init__(self, server: str, message: str, *, reason: str) -> None:
        self.server = server
        self.reason = reason
        super().__init__(f"MCP server {server!r}: {message}")


# -- the shared loop ------------------------------------------------------------------

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _mcp_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="dualtrack-mcp-client", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def _submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    loop = _mcp_loop()
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:  # called from synchronous code
        running = None
    if running is loop:
        coro.close()
        raise RuntimeError("on_mcp_loop() called from the MCP loop itself; await the coroutine directly")
    return asyncio.run_coroutine_threadsafe(coro, loop)


async def on_mcp_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the MCP loop; cancelling the caller cancels it there."""
    return await asyncio.wrap_future(_submit(coro))


def run_sync(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """Run ``coro`` on the MCP loop from synchronous code, waiting at most ``timeout`` seconds."""
    future = _submit(coro)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise


# -- one server -----------------------------------------------------------------------


class McpConnection:
    """A lazily started session with one MCP server; every method runs on the MCP loop.

    Args:
        config: The server's configuration (``${NAME}`` expanded at each start).
    """

    def __init__(self, config: McpServerConfig) -> None:
        self.config = config
        self.name = config.name
        self.instructions: str | None = None
        self.starts = 0
        self.dropped_logs = 0
        self._session: ClientSession | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._broken: asyncio.Future[BaseException] | None = None

    # -- lifecycle ------------------------------------------------------------------

    async def session(self) -> ClientSession:
        """The live session, started now if it is not running."""
        if self._session is not None and self._runner is not None and not self._runner.done():
            return self._session
        await self.close()
        return await self._start()

    async def _start(self) -> ClientSession:
        cfg = self.config.resolved()  # raises ConfigError naming an unset variable
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[ClientSession] = loop.create_future()
        self._stop = asyncio.Event()
        self._broken = loop.create_future()
        self.starts += 1
        self._runner = asyncio.create_task(self._run(cfg, ready, self._stop), name=f"mcp-{self.name}")
        try:
            async with asyncio.timeout(cfg.startup_timeout):
                self._session = await asyncio.shield(ready)
        except TimeoutError:
            await self.close()
            raise McpServerError(
                self.name,
                f"did not start within {cfg.startup_timeout:g} s; check its command",
                reason="startup",
            ) from None
        except McpServerError:
            await self.close()
            raise
        return self._session

    async def _run(
        self, cfg: McpServerConfig, ready: asyncio.Future[ClientSession], stop: asyncio.Event
    ) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport(cfg))
                session = await stack.enter_async_context(
                    ClientSession(
                        read,
                        write,
                        read_timeout_seconds=timedelta(seconds=cfg.startup_timeout),
                        message_handler=self._on_message,
                        logging_callback=self._on_log,
                    )
                )
                init = await session.initialize()
                self.instructions = init.instructions
                ready.set_result(session)
                await stop.wait()
        except Exception as exc:  # noqa: BLE001 - every way a server can fail to start
            if not ready.done():
                leaf: BaseException = exc
                while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:
                    leaf = leaf.exceptions[0]
                what = f"{type(leaf).__name__}: {leaf}".splitlines()[0][:300]
                ready.set_exception(McpServerError(self.name, f"could not start ({what})", reason="startup"))
            else:
                _log.debug("MCP server %s connection ended", self.name, exc_info=True)
        finally:
            self._session = None

    @contextlib.asynccontextmanager
    async def _transport(self, cfg: McpServerConfig) -> Any:
        if cfg.command is not None:
            from mcp.client.stdio import StdioServerParameters, stdio_client

            params = StdioServerParameters(
                command=cfg.command, args=list(cfg.args), env=dict(cfg.env), cwd=cfg.cwd
            )
            async with stdio_client(params) as (read, write):
                yield read, write
        else:
            import httpx
            from mcp.client.streamable_http import streamable_http_client

            assert cfg.url is not None
            timeout = httpx.Timeout(cfg.timeout + 5, connect=cfg.startup_timeout)
            async with (
                httpx.AsyncClient(headers=cfg.headers, timeout=timeout, follow_redirects=False) as http,
                streamable_http_client(cfg.url, http_client=http) as (read, write, _),
            ):
                yield read, write

    async def close(self) -> None:
        """Stop the server (its process ends with the session)."""
        runner, self._runner = self._runner, None
        self._session = None
        if self._stop is not None:
            self._stop.set()
        if runner is not None and not runner.done():
            try:
                async with asyncio.timeout(5):
                    await runner
            except (TimeoutError, Exception):  # noqa: BLE001 - a server that will not stop is cancelled
                runner.cancel()

    # -- incoming traffic -------------------------------------------------------------

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, ValueError):  # a line that is not JSON-RPC (pydantic's errors are ValueErrors)
            _log.warning("MCP server %s sent output that is not MCP: %.200s", self.name, message)
            if self._broken is not None and not self._broken.done():
                self._broken.set_result(message)
        elif isinstance(message, Exception):  # e.g. the late answer to a call we cancelled
            _log.debug("MCP server %s: %s", self.name, message)

    async def _on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.dropped_logs += 1  # a server's log messages are not ours to print; counted only

    # -- calls ------------------------------------------------------------------------

    async def list_tools(self) -> list[types.Tool]:
        """Every tool the server offers (all pages)."""
        session = await self.session()
        tools: list[types.Tool] = []
        cursor: str | None = None
        async with asyncio.timeout(self.config.startup_timeout):
            while True:
                page = await session.list_tools(
                    params=types.PaginatedRequestParams(cursor=cursor) if cursor else None
                )
                tools.extend(page.tools)
                cursor = page.nextCursor
                if not cursor:
                    return tools

    async def call_tool(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        retry_on_crash: bool,
        progress: ProgressFn | None = None,
    ) -> types.CallToolResult:
        """Call one tool with the configured timeout, restarting the server once if it crashed.

        Args:
            tool: The tool's name on the server.
            arguments: Its arguments.
            retry_on_crash: Call again after a restart when the server died during the call
                (only for tools that change nothing).
            progress: Receives the server's progress notifications.

        Raises:
            McpServerError: The server failed (see the module docstring).
        """
        if not retry_on_crash:
            await self._alive()
        for attempt in (1, 2):
            session = await self.session()
            try:
                return await self._call_once(session, tool, arguments, progress)
            except _Crashed as crash:
                await self.close()
                if attempt == 2 or not retry_on_crash:
                    note = "" if retry_on_crash else "; it may or may not have applied the change"
                    raise McpServerError(
                        self.name, f"stopped during the call ({crash}){note}", reason="crashed"
                    ) from None
                _log.warning("MCP server %s stopped during a call; restarting it once", self.name)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _alive(self) -> None:
        """Restart a server that died while idle, before sending it a call that changes things."""
        if self._session is None:
            return
        try:
            async with asyncio.timeout(min(5.0, self.config.timeout)):
                await self._session.send_ping()
        except Exception:  # noqa: BLE001 - any failure to answer a ping means restart
            await self.close()

    async def _call_once(
        self, session: ClientSession, tool: str, arguments: dict[str, Any], progress: ProgressFn | None
    ) -> types.CallToolResult:
        request_id = getattr(session, "_request_id", None)  # the id this request will get
        call = asyncio.ensure_future(session.call_tool(tool, arguments, progress_callback=progress))
        broken = self._broken
        waiting: set[asyncio.Future[Any]] = {call} if broken is None else {call, broken}
        try:
            done, _ = await asyncio.wait(
                waiting, timeout=self.config.timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            await self._abandon(session, call, request_id, "cancelled by the caller")
            raise
        if call in done:
            try:
                return call.result()
            except McpError as exc:
                if exc.error.code == types.CONNECTION_CLOSED:
                    raise _Crashed(exc.error.message) from None
                raise McpServerError(
                    self.name, f"refused the call: {exc.error.message}", reason="protocol"
                ) from None
            except Exception as exc:  # noqa: BLE001 - closed streams, invalid results ...
                if type(exc).__name__ in ("ClosedResourceError", "BrokenResourceError", "EndOfStream"):
                    raise _Crashed(type(exc).__name__) from None
                raise McpServerError(
                    self.name,
                    f"sent an invalid reply ({type(exc).__name__}: {str(exc)[:200]})",
                    reason="protocol",
                ) from None
        if broken is not None and broken in done:
            await self._abandon(session, call, request_id, "invalid output")
            await self.close()
            bad = broken.result()
            raise McpServerError(
                self.name,
                f"wrote output that is not MCP ({type(bad).__name__}); it will be restarted",
                reason="protocol",
            )
        await self._abandon(session, call, request_id, "timed out")
        raise McpServerError(
            self.name,
            f"{tool} did not answer within {self.config.timeout:g} s and was cancelled; "
            "raise its `timeout` if it needs longer",
            reason="timeout",
        )

    async def _abandon(
        self, session: ClientSession, call: asyncio.Future[Any], request_id: int | None, why: str
    ) -> None:
        call.cancel()
        if request_id is None:
            return
        note = types.CancelledNotification(
            params=types.CancelledNotificationParams(requestId=request_id, reason=why)
        )
        with contextlib.suppress(Exception, asyncio.CancelledError):
            async with asyncio.timeout(1):
                await asyncio.shield(session.send_notification(types.ClientNotification(note)))


class _Crashed(Exception):
    """The connection closed under a call."""

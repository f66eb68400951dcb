"""``ctx.progress`` as MCP ``notifications/progress``.

A skill reports progress through a plain callback, from the event loop or (for a
synchronous skill) from a worker thread. :class:`ProgressRelay` queues each report
and a task sends it to the client under the request's progress token. The queue is
bounded: when a skill reports faster than the client reads, the oldest reports are
dropped rather than the skill slowed down, and the latest one is always sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from types import TracebackType

from mcp import types
from mcp.server.session import ServerSession

__all__ = ["ProgressRelay"]

_log = logging.getLogger("dualtrack.hosts.mcp")
_KEEP = 64


class ProgressRelay:
    """Relay a skill's progress to one MCP request.

    Args:
        session: The client session.
        token: The request's progress token; ``None`` (the client did not ask) relays nothing.
        request_id: The request the notifications belong to.
    """

    def __init__(self, session: ServerSession, token: str | int | None, request_id: types.RequestId) -> None:
        self._session = session
        self._token = token
        self._request_id = request_id
        self._pending: deque[tuple[float, float | None, str | None]] = deque(maxlen=_KEEP)
        self._wake = asyncio.Event()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    def callback(self, skill: str, done: int, total: int, message: str) -> None:
        """The ``(skill, done, total, message)`` progress callback; safe from any thread."""
        if self._token is None or self._loop is None:
            return
        item = (float(done), float(total) if total else None, message or None)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._push(item)
        else:
            self._loop.call_soon_threadsafe(self._push, item)

    def _push(self, item: tuple[float, float | None, str | None]) -> None:
        self._pending.append(item)
        self._wake.set()

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                done, total, message = self._pending.popleft()
                assert self._token is not None
                try:
                    await self._session.send_progress_notification(
                        self._token, done, total, message, related_request_id=str(self._request_id)
                    )
                    self.sent += 1
                except Exception:  # noqa: BLE001 - a client gone away must not fail the call
                    _log.debug("progress notification not delivered", exc_info=True)
                    self._pending.clear()
            if self._closed:
                return

    async def __aenter__(self) -> ProgressRelay:
        if self._token is not None:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(self._drain())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is None:
            return
        self._closed = True
        self._wake.set()
        if exc is None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
            except (TimeoutError, Exception):  # noqa: BLE001 - progress is best effort
                pass
        if not self._task.done():
            self._task.cancel()

    def __repr__(self) -> str:
        return f"ProgressRelay(token={self._token!r}, sent={self.sent})"

"""Running one call for a request: concurrency slots, SSE events, cancellation on disconnect.

As JSON, the call runs in the request's own task, which a small watcher cancels
when the client disconnects before the answer (the watcher starts only once the
call has run for ``WATCH_AFTER_S``: most calls end sooner and never need one); as
Server-Sent Events (``Accept: text/event-stream`` or ``?stream=1``) the call runs
as its own task, the client gets ``progress``, ``text`` and ``confirm`` events as
they happen, then one ``result`` or ``error`` event, and a disconnect cancels the
task too. Either way the skill and its model calls stop (an HTTP model call's
connection is closed).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ._problems import Problem, problem_from_exception

__all__ = ["Emit", "Runner", "sse", "wants_stream"]

Emit = Callable[[str, dict[str, Any]], None]
"""Queue one SSE event (name, data); a no-op for JSON answers."""
Work = Callable[[Emit], Awaitable[dict[str, Any]]]
_HEARTBEAT_S = 15.0
WATCH_AFTER_S = 0.05
"""A JSON call that runs longer than this is watched for the client going away."""


def wants_stream(request: Request) -> bool:
    """Whether the client asked for Server-Sent Events."""
    if request.query_params.get("stream", "") in ("1", "true"):
        return True
    return "text/event-stream" in request.headers.get("accept", "")


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One Server-Sent Event."""
    return f"event: {event}\ndata: {json.dumps(data, default=str, separators=(',', ':'))}\n\n".encode()


def _ignore(_event: str, _data: dict[str, Any]) -> None:
    """The ``emit`` of a JSON answer: events have nowhere to go."""


class Runner:
    """Runs calls of one service, and lets shutdown wait for them.

    Args:
        clean: Redacts secrets and server paths out of messages.
    """

    def __init__(self, clean: Callable[[str], str]) -> None:
        self.clean = clean
        self.tasks: set[asyncio.Task[Any]] = set()

    def _start(self, work: Work, emit: Emit) -> asyncio.Task[dict[str, Any]]:
        task = asyncio.ensure_future(work(emit))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def respond(
        self,
        request: Request,
        work: Work,
        *,
        release: Callable[[], Awaitable[None]],
        stream: bool | None = None,
        status: int = 200,
    ) -> Response:
        """Run ``work`` and answer as JSON or SSE; ``release`` runs once the call is over.

        Args:
            request: The request (its ``receive`` tells when the client goes away).
            work: The call; it gets the ``emit`` of SSE events.
            release: Gives the caller's concurrency slot back.
            stream: Answer with SSE (default: what the request asks for).
            status: The status of a JSON answer.
        """
        if stream if stream is not None else wants_stream(request):
            return StreamingResponse(
                self._events(work, release),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )
        task = asyncio.current_task()
        assert task is not None  # a request always runs in a task
        gone = False

        async def watch() -> None:  # the body is read: the next message is the disconnect
            nonlocal gone
            while (await request.receive())["type"] != "http.disconnect":
                pass
            gone = True
            task.cancel()

        loop = asyncio.get_running_loop()
        watchers: list[asyncio.Task[None]] = []
        timer = loop.call_later(WATCH_AFTER_S, lambda: watchers.append(loop.create_task(watch())))
        self.tasks.add(task)
        try:
            result = await work(_ignore)
        except asyncio.CancelledError:
            if not gone:
                raise  # shutdown, not the client
            task.uncancel()
            return Response(status_code=499)  # the client went away: the skill and its calls stopped
        finally:
            timer.cancel()
            for watcher in watchers:
                watcher.cancel()
            self.tasks.discard(task)
            await release()
        return JSONResponse(result, status_code=status)

    async def _events(self, work: Work, release: Callable[[], Awaitable[None]]) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        task = self._start(work, lambda event, data: queue.put_nowait(sse(event, data)))
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, task}, timeout=_HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED
                )
                if getter in done:
                    yield getter.result()
                    continue
                getter.cancel()
                if task in done:
                    while not queue.empty():
                        yield queue.get_nowait()
                    break
                yield b": keep-alive\n\n"
            try:
                yield sse("result", task.result())
            except Exception as exc:  # noqa: BLE001 - every failure becomes an error event
                problem = problem_from_exception(exc, self.clean)
                yield sse("error", problem.to_dict())
        finally:  # normal end, or the client disconnected (this generator is cancelled/closed)
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            await release()

    async def drain(self, grace_s: float) -> None:
        """Let running calls finish for up to ``grace_s``, then cancel the rest."""
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    """A problem document as a response."""
    return Response(
        problem.body(instance),
        status_code=problem.status,
        media_type="application/problem+json",
        headers=problem.headers,
    )

"""State the service keeps per caller, behind one interface so that workers can share it.

:class:`StateBackend` is the seam: per-caller concurrency leases, per-minute
request windows, and the answers to ``ask`` confirmations (which may reach a
different worker than the one running the conversation). :class:`MemoryState`
keeps them in this process, which is right for one worker;
:class:`~._shared_state.SharedStateBackend` keeps them in the orchestrator's
shared state (``state = "sqlite:///..."`` on one disk, ``state = "redis://..."``
across machines) and is chosen automatically when ``orc.state`` is set.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import Protocol

__all__ = ["MemoryState", "StateBackend"]


class StateBackend(Protocol):
    """What the service needs of shared state."""

    async def acquire(self, caller: str, limit: int) -> bool:
        """Take one of ``limit`` concurrent-call slots of ``caller``; ``False`` when all are taken."""
        ...

    async def release(self, caller: str) -> None:
        """Give a slot back."""
        ...

    async def hit(self, caller: str, per_minute: int) -> float | None:
        """Count one request; ``None`` if allowed, else seconds until the next one is."""
        ...

    async def wait_decision(self, call_id: str, timeout: float) -> str | None:
        """Wait for the answer to a confirmation (``"approve"``/``"decline"``), ``None`` on timeout."""
        ...

    async def post_decision(self, call_id: str, decision: str) -> bool:
        """Deliver an answer; ``False`` when nobody waits for ``call_id``."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class MemoryState:
    """:class:`StateBackend` in this process (one worker)."""

    def __init__(self) -> None:
        self._running: dict[str, int] = {}
        self._windows: dict[str, deque[float]] = {}
        self._waiting: dict[str, asyncio.Future[str]] = {}

    async def acquire(self, caller: str, limit: int) -> bool:
        """See :meth:`StateBackend.acquire`."""
        n = self._running.get(caller, 0)
        if n >= limit:
            return False
        self._running[caller] = n + 1
        return True

    async def release(self, caller: str) -> None:
        """See :meth:`StateBackend.release`."""
        n = self._running.get(caller, 0) - 1
        if n <= 0:
            self._running.pop(caller, None)
        else:
            self._running[caller] = n

    async def hit(self, caller: str, per_minute: int) -> float | None:
        """See :meth:`StateBackend.hit` (a sliding one-minute window)."""
        now = time.monotonic()
        window = self._windows.setdefault(caller, deque())
        while window and now - window[0] >= 60.0:
            window.popleft()
        if len(window) >= per_minute:
            return max(1.0, math.ceil(60.0 - (now - window[0])))
        window.append(now)
        return None

    async def wait_decision(self, call_id: str, timeout: float) -> str | None:
        """See :meth:`StateBackend.wait_decision`."""
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = fut
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return None
        finally:
            self._waiting.pop(call_id, None)

    async def post_decision(self, call_id: str, decision: str) -> bool:
        """See :meth:`StateBackend.post_decision`."""
        fut = self._waiting.get(call_id)
        if fut is None or fut.done():
            return False
        fut.set_result(decision)
        return True

    async def aclose(self) -> None:
        """Nothing to release."""

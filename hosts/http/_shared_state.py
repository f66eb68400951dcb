"""The service's per-caller state in a :class:`dualtrack.SharedState`: one set of limits for all workers.

:class:`SharedStateBackend` implements :class:`~._state.StateBackend` over the
same shared state the orchestrator uses for budgets, circuits and usage
(``state = "sqlite:///..."`` or ``state = "redis://..."`` in dualtrack.toml), so
with ``dualtrack serve --workers N`` or several machines:

- a caller's concurrent calls are leases on one counter (a lease lapses after
  ``lease_ttl_s`` if its worker died);
- a caller's requests per minute are one sliding window;
- the answer to an ``ask`` confirmation may arrive at any worker: it is put in a
  mailbox the waiting worker polls (every ``poll_s`` seconds).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from dualtrack import SharedState

if TYPE_CHECKING:
    from dualtrack import Orchestrator

    from ._state import StateBackend

__all__ = ["SharedStateBackend", "state_for"]


class SharedStateBackend:
    """:class:`~._state.StateBackend` kept in a shared state (SQLite file or Redis).

    Args:
        state: The shared state (the orchestrator's ``orc.state``).
        lease_ttl_s: How long a concurrency slot is held at most (longer than a call may run).
        poll_s: How often a waiting confirmation looks for its answer.
    """

    def __init__(self, state: SharedState, *, lease_ttl_s: float = 900.0, poll_s: float = 0.05) -> None:
        self.state = state
        self.lease_ttl_s = lease_ttl_s
        self.poll_s = poll_s
        self._held: dict[str, list[str]] = {}

    async def acquire(self, caller: str, limit: int) -> bool:
        """See :meth:`StateBackend.acquire`."""
        token = uuid.uuid4().hex
        if not self.state.lease(f"http:calls:{caller}", limit, token, self.lease_ttl_s):
            return False
        self._held.setdefault(caller, []).append(token)
        return True

    async def release(self, caller: str) -> None:
        """See :meth:`StateBackend.release`."""
        tokens = self._held.get(caller)
        if not tokens:
            return
        token = tokens.pop()
        if not tokens:
            self._held.pop(caller, None)
        self.state.unlease(f"http:calls:{caller}", token)

    async def hit(self, caller: str, per_minute: int) -> float | None:
        """See :meth:`StateBackend.hit` (a sliding one-minute window over every worker)."""
        wait = self.state.hit(f"http:rate:{caller}", per_minute, 60.0, uuid.uuid4().hex)
        if wait is None:
            return None
        return float(max(1, int(wait + 0.999)))

    async def wait_decision(self, call_id: str, timeout: float) -> str | None:
        """See :meth:`StateBackend.wait_decision` (the answer may come through another worker)."""
        key = f"http:confirm:{call_id}"
        self.state.expect(key, timeout + 5.0)
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        try:
            while True:
                got = self.state.collect(key)
                if got is not None:
                    return got
                left = end - loop.time()
                if left <= 0:
                    return None
                await asyncio.sleep(min(self.poll_s, left))
        finally:
            self.state.forget(key)

    async def post_decision(self, call_id: str, decision: str) -> bool:
        """See :meth:`StateBackend.post_decision`."""
        return self.state.deliver(f"http:confirm:{call_id}", decision)

    async def aclose(self) -> None:
        """Give back the slots this worker still holds (the orchestrator closes the state itself)."""
        for caller, tokens in list(self._held.items()):
            for token in tokens:
                self.state.unlease(f"http:calls:{caller}", token)
        self._held.clear()


def state_for(orc: Orchestrator) -> StateBackend:
    """The service's state: shared when the orchestrator shares its state, else in this process."""
    if orc.state is not None:
        return SharedStateBackend(orc.state)
    from ._state import MemoryState

    return MemoryState()

"""``ask`` over HTTP: a model calls skills as tools, inside the caller's workspace, and writes wait for a yes.

:meth:`Orchestrator.ask` runs the tool loop; this module gives it the caller's
workspace as its only file root (:class:`CallerRoots`, read per task from a
context variable) and answers the orchestrator's ``confirm`` for a write the
model chose: the stream gets a ``confirm`` event (skill, resolved arguments as
workspace names, a call id) and the call runs only when the same caller posts
``approve`` for that call id; ``decline``, no answer within
``confirm_timeout_s``, or a JSON (non-streaming) ask decline it.
"""

from __future__ import annotations

import contextvars
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dualtrack import FileRoots, Skill

from ._calls import Emit
from ._state import StateBackend
from ._workspace import Workspace

__all__ = ["AskSession", "CallerRoots", "Confirmer", "current_ask"]

current_ask: contextvars.ContextVar[AskSession | None] = contextvars.ContextVar(
    "dualtrack_http_ask", default=None
)


@dataclass(kw_only=True)
class AskSession:
    """One running ``ask``.

    Attributes:
        ask_id: Its id (in ``confirm`` events and the confirm URL).
        owner: The caller's workspace id; only it may confirm.
        workspace: The caller's workspace.
        emit: Queues SSE events (a no-op for JSON answers).
        streaming: Whether the client can receive ``confirm`` events.
        decisions: ``call_id`` → what happened, for the result.
    """

    ask_id: str
    owner: str
    workspace: Workspace
    emit: Emit
    streaming: bool
    decisions: dict[str, str] = field(default_factory=dict)


def decision_key(owner: str, ask_id: str, call_id: str) -> str:
    """The key of one confirmation in the state backend (the owner is part of it)."""
    return f"{owner}:{ask_id}:{call_id}"


class CallerRoots(FileRoots):
    """The file roots of the running ``ask`` (its caller's workspace), else ``default``'s.

    Args:
        default: The orchestrator's own roots, used outside any ``ask``.
    """

    def __init__(self, default: FileRoots) -> None:
        self._default = default

    @property  # type: ignore[override]
    def roots(self) -> tuple[Path, ...]:
        """The roots in effect for the current task."""
        session = current_ask.get()
        return session.workspace.roots.roots if session else self._default.roots

    @property  # type: ignore[override]
    def allow_secrets(self) -> tuple[Path, ...]:
        """The secret-looking files allowed for the current task."""
        session = current_ask.get()
        return session.workspace.roots.allow_secrets if session else self._default.allow_secrets


class Confirmer:
    """The orchestrator's async ``confirm`` for model-chosen writes during an ``ask``.

    Args:
        state: Where answers arrive (they may come through another worker).
        timeout_s: An unanswered call is declined after this.
    """

    def __init__(self, state: StateBackend, timeout_s: float) -> None:
        self.state = state
        self.timeout_s = timeout_s

    async def __call__(self, skill: Skill, arguments: dict[str, Any]) -> bool:
        """Ask the client about this exact call; ``True`` only for an ``approve``."""
        session = current_ask.get()
        if session is None or not session.streaming:
            return False
        call_id = "c" + secrets.token_hex(8)
        shown = {k: v for k, v in arguments.items() if not _is_context(v)}
        session.emit(
            "confirm",
            {
                "ask_id": session.ask_id,
                "call_id": call_id,
                "skill": skill.full_name,
                "effects": skill.effects,
                "description": skill.description.split("\n")[0],
                "arguments": session.workspace.relative(_plain(shown)),
                "timeout_s": self.timeout_s,
                "confirm_url": f"/v1/ask/{session.ask_id}/confirm",
            },
        )
        answer = await self.state.wait_decision(
            decision_key(session.owner, session.ask_id, call_id), self.timeout_s
        )
        verdict = answer or "timeout"
        session.decisions[call_id] = verdict
        session.emit("confirmed", {"call_id": call_id, "decision": verdict})
        return answer == "approve"


def _is_context(value: Any) -> bool:
    return type(value).__name__ == "SkillContext"


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)

"""``ask`` over HTTP: a model calls skills as tools, inside the caller's workspace, and writes wait for a yes.

:meth:`Orchestrator.ask` runs the tool loop; this module gives it, per request, what
the caller may use: the skills of the plugins its key allows (``tools``), its
workspace as the only file root (``roots``), and its own ``confirm``: for a write
the model chose, the stream gets a ``confirm`` event (skill, resolved arguments as
workspace names, a call id) and the call runs only when the same caller posts
``approve`` for that call id; ``decline``, no answer within ``confirm_timeout_s``,
or a JSON (non-streaming) ask decline it. The orchestrator's own ``confirm`` and
roots are never touched, so concurrent asks of different callers cannot mix.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from dualtrack import Skill, SkillContext

from ._calls import Emit
from ._state import StateBackend
from ._workspace import Workspace

__all__ = ["AskSession", "decision_key", "workspace_prompt"]

_LISTED_FILES = 50


def decision_key(owner: str, ask_id: str, call_id: str) -> str:
    """The key of one confirmation in the state backend (the owner is part of it)."""
    return f"{owner}:{ask_id}:{call_id}"


def workspace_prompt(prompt: str, names: list[str]) -> str:
    """``prompt`` followed by the caller's files, as workspace names (never server folders)."""
    if not names:
        return prompt
    listing = "\n".join(f"- {n}" for n in names[-_LISTED_FILES:])
    return f"{prompt}\n\nFiles in the user's workspace (pass these names to tools as they are):\n{listing}"


@dataclass(kw_only=True)
class AskSession:
    """One running ``ask``; :meth:`confirm` is its confirm callback.

    Attributes:
        ask_id: Its id (in ``confirm`` events and the confirm URL).
        owner: The caller's workspace id; only it may confirm.
        workspace: The caller's workspace.
        emit: Queues SSE events (a no-op for JSON answers).
        streaming: Whether the client can receive ``confirm`` events.
        state: Where answers arrive (they may come through another worker).
        timeout_s: An unanswered call is declined after this.
        decisions: ``call_id`` → what happened, for the result.
    """

    ask_id: str
    owner: str
    workspace: Workspace
    emit: Emit
    streaming: bool
    state: StateBackend
    timeout_s: float
    decisions: dict[str, str] = field(default_factory=dict)

    async def confirm(self, skill: Skill, arguments: dict[str, Any]) -> bool:
        """Ask the client about this exact call; ``True`` only for an ``approve``."""
        if not self.streaming:
            return False
        call_id = "c" + secrets.token_hex(8)
        shown = {k: v for k, v in arguments.items() if not isinstance(v, SkillContext)}
        self.emit(
            "confirm",
            {
                "ask_id": self.ask_id,
                "call_id": call_id,
                "skill": skill.full_name,
                "effects": skill.effects,
                "description": skill.description.split("\n")[0],
                "arguments": self.workspace.relative(_plain(shown)),
                "timeout_s": self.timeout_s,
                "confirm_url": f"/v1/ask/{self.ask_id}/confirm",
            },
        )
        answer = await self.state.wait_decision(
            decision_key(self.owner, self.ask_id, call_id), self.timeout_s
        )
        verdict = answer or "timeout"
        self.decisions[call_id] = verdict
        self.emit("confirmed", {"call_id": call_id, "decision": verdict})
        return answer == "approve"


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

"""Microsoft Agent Framework: dualtrack skills as tools, and a dualtrack-routed chat client.

Install with ``pip install 'dualtrack[agents]'``. Names are imported on first use, so
importing this package does not import Agent Framework.

- :func:`skill_tools` / :func:`skill_tool`: skills as ``FunctionTool``s; write skills
  require approval (``approval_mode="always_require"``).
- :class:`DualtrackChatClient`: a chat client for agents whose every call dualtrack
  routes (tags, sensitivity, fallback, ledger); a labelled tool result raises the level
  of the rest of the conversation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from ._client import DualtrackChatClient
    from ._tools import skill_tool, skill_tools

__all__ = ["DualtrackChatClient", "skill_tool", "skill_tools"]

_LAZY = {"DualtrackChatClient": "._client", "skill_tool": "._tools", "skill_tools": "._tools"}


__getattr__ = lazy_getattr(
    globals(), _LAZY, host="the Agent Framework host", framework="agent_framework", extra="agents"
)

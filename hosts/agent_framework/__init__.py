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

import importlib
from typing import TYPE_CHECKING, Any

from dualtrack import MissingDependencyError

if TYPE_CHECKING:
    from ._client import DualtrackChatClient
    from ._tools import skill_tool, skill_tools

__all__ = ["DualtrackChatClient", "skill_tool", "skill_tools"]

_LAZY = {"DualtrackChatClient": "._client", "skill_tool": "._tools", "skill_tools": "._tools"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module, __name__), name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.partition(".")[0] == "agent_framework":
            raise MissingDependencyError(
                "the Agent Framework host", "agent_framework", "pip install 'dualtrack[agents]'"
            ) from exc
        raise
    globals()[name] = value
    return value

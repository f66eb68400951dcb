"""Semantic Kernel, both ways: dualtrack skills inside a Kernel, and dualtrack as SK's model layer.

Install with ``pip install 'dualtrack[sk]'``. Names are imported on first use, so
importing this package does not import Semantic Kernel.

- :func:`add_to_kernel` / :func:`kernel_plugin`: dualtrack plugins as SK plugins, with
  filters that confirm model-chosen writes and keep labelled results from models not
  cleared for them.
- :class:`DualtrackChatCompletion` (with :class:`DualtrackExecutionSettings`): an SK chat
  service that routes each call by tags and sensitivity, with fallback and the ledger.
- :class:`DualtrackServiceSelector`: an SK ``AIServiceSelector`` that picks among a
  kernel's services by dualtrack's router and policy.
- :class:`SKConnector`: any SK chat service as a dualtrack connector for a ``ModelCard``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from ._chat import DualtrackChatCompletion, DualtrackExecutionSettings
    from ._connector import SKConnector
    from ._functions import SkillFunction, add_to_kernel, kernel_plugin
    from ._selector import DualtrackServiceSelector

__all__ = [
    "DualtrackChatCompletion",
    "DualtrackExecutionSettings",
    "DualtrackServiceSelector",
    "SKConnector",
    "SkillFunction",
    "add_to_kernel",
    "kernel_plugin",
]

_LAZY = {
    "DualtrackChatCompletion": "._chat",
    "DualtrackExecutionSettings": "._chat",
    "DualtrackServiceSelector": "._selector",
    "SKConnector": "._connector",
    "SkillFunction": "._functions",
    "add_to_kernel": "._functions",
    "kernel_plugin": "._functions",
}


__getattr__ = lazy_getattr(
    globals(), _LAZY, host="the Semantic Kernel host", framework="semantic_kernel", extra="sk"
)

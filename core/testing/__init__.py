"""Test doubles for plugin authors and hosts.

``ScriptedConnector`` replays replies in order and records ``.calls``;
``FunctionConnector`` computes each reply; ``model_card`` wraps either in a card.
The pytest plugin (loaded automatically) adds fixtures and a guard, opt-in, that
fails a test reaching a non-loopback network address: the ``no_network`` fixture or
marker, or ``dualtrack_block_network = true`` in a project's pytest configuration.

The doubles are imported on first use, so the pytest plugin costs other projects'
test runs next to nothing at start-up.
"""

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING
from typing import Any as _Any

from ._network import NetworkBlockedError, block_network

if TYPE_CHECKING:
    from ._connectors import FunctionConnector, ScriptedConnector, model_card

__all__ = ["FunctionConnector", "NetworkBlockedError", "ScriptedConnector", "block_network", "model_card"]

_LAZY = {"FunctionConnector", "ScriptedConnector", "model_card"}


def __getattr__(name: str) -> _Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'dualtrack.testing' has no attribute {name!r}")
    value = getattr(_importlib.import_module("._connectors", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

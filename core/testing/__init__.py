"""Test doubles for plugin authors and hosts.

``ScriptedConnector`` replays replies in order and records ``.calls``;
``FunctionConnector`` computes each reply; ``model_card`` wraps either in a card.
The pytest plugin (loaded automatically) adds fixtures and a guard, opt-in, that
fails a test reaching a non-loopback network address: the ``no_network`` fixture or
marker, or ``dualtrack_block_network = true`` in a project's pytest configuration.
"""

from __future__ import annotations

from ._connectors import FunctionConnector, ScriptedConnector, model_card
from ._network import NetworkBlockedError, block_network

__all__ = ["FunctionConnector", "NetworkBlockedError", "ScriptedConnector", "block_network", "model_card"]

"""pytest plugin (entry point ``pytest11``): fixtures and the network guard.

Fixtures:
    scripted: a factory ``scripted(*replies, name=..., **card_fields)`` returning
        ``(card, connector)``.
    make_orchestrator: ``make_orchestrator(*plugins, models=[...], **kw)`` builds an
        :class:`~dualtrack.Orchestrator` with only the plugins you pass.

Every test runs inside :func:`~dualtrack.testing.block_network`; mark a test
``@pytest.mark.allow_network`` to opt out. Usage is recorded in memory
(``DUALTRACK_LEDGER=memory``), never in the user's persistent ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .._app._orchestrator import Orchestrator
from .._model._cards import ModelCard
from ._connectors import ScriptedConnector, model_card
from ._network import block_network


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``allow_network`` marker."""
    config.addinivalue_line("markers", "allow_network: let this test reach non-loopback addresses")


@pytest.fixture(autouse=True)
def _dualtrack_network_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("allow_network"):
        yield
        return
    with block_network():
        yield


@pytest.fixture(autouse=True)
def _dualtrack_memory_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep usage of tests out of the user's persistent ledger."""
    monkeypatch.setenv("DUALTRACK_LEDGER", "memory")


@pytest.fixture
def scripted() -> Callable[..., tuple[ModelCard, ScriptedConnector]]:
    """Return a factory of scripted models.

    Use it as ``card, conn = scripted("reply 1", "reply 2")``.
    """

    def make(
        *replies: Any, name: str = "scripted", repeat_last: bool = False, **fields: Any
    ) -> tuple[ModelCard, ScriptedConnector]:
        conn = ScriptedConnector(replies, repeat_last=repeat_last)
        return model_card(conn, name=name, **fields), conn

    return make


@pytest.fixture
def make_orchestrator() -> Callable[..., Orchestrator]:
    """Factory of an orchestrator holding only the given plugins and models."""

    def make(*plugins: object, models: list[ModelCard] | None = None, **kw: Any) -> Orchestrator:
        return Orchestrator(models=models or [], plugins=list(plugins), **kw)

    return make

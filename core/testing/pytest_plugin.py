"""pytest plugin (entry point ``pytest11``): fixtures, and a network guard you opt into.

Installing dualtrack changes nothing in other projects' test suites: the plugin only
adds fixtures, markers and an ini option. Nothing runs unless a test asks for it.

Fixtures:
    scripted: a factory ``scripted(*replies, name=..., **card_fields)`` returning
        ``(card, connector)``.
    make_orchestrator: ``make_orchestrator(*plugins, models=[...], **kw)`` builds an
        :class:`~dualtrack.Orchestrator` with only the plugins you pass.
    no_network: the test fails with :class:`~dualtrack.testing.NetworkBlockedError`
        when it connects to anything but loopback, and records usage in memory
        (``DUALTRACK_LEDGER=memory``), never in the user's persistent ledger.

Opting in:
    * one test: request the ``no_network`` fixture, or mark it ``@pytest.mark.no_network``;
    * a whole suite: ``dualtrack_block_network = true`` under ``[tool.pytest.ini_options]``
      (or ``[pytest]``); then ``@pytest.mark.allow_network`` lets one test out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ._network import block_network

if TYPE_CHECKING:
    from .._app._orchestrator import Orchestrator
    from .._model._cards import ModelCard
    from ._connectors import ScriptedConnector

INI_OPTION = "dualtrack_block_network"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the ``dualtrack_block_network`` ini option (off unless a project sets it)."""
    parser.addini(
        INI_OPTION,
        "block non-loopback connections and keep usage in memory in every test (dualtrack)",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``no_network`` and ``allow_network`` markers."""
    config.addinivalue_line(
        "markers", "no_network: fail the test if it connects beyond loopback (dualtrack guard)"
    )
    config.addinivalue_line(
        "markers", "allow_network: let this test reach non-loopback addresses despite the suite's guard"
    )


def _guarded(item: pytest.Item) -> bool:
    if item.get_closest_marker("allow_network"):
        return False
    if item.get_closest_marker("no_network"):
        return True
    return bool(item.config.getini(INI_OPTION))


@pytest.fixture(autouse=True)
def _dualtrack_opt_in_guard(request: pytest.FixtureRequest) -> None:
    """Apply ``no_network`` to tests that opted in; does nothing for every other test."""
    if "no_network" not in request.fixturenames and _guarded(request.node):
        request.getfixturevalue("no_network")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail on any non-loopback connection; keep usage of the test in an in-memory ledger."""
    monkeypatch.setenv("DUALTRACK_LEDGER", "memory")
    with block_network():
        yield


@pytest.fixture
def scripted() -> Callable[..., tuple[ModelCard, ScriptedConnector]]:
    """Return a factory of scripted models.

    Use it as ``card, conn = scripted("reply 1", "reply 2")``.
    """
    from ._connectors import ScriptedConnector, model_card

    def make(
        *replies: Any, name: str = "scripted", repeat_last: bool = False, **fields: Any
    ) -> tuple[ModelCard, ScriptedConnector]:
        conn = ScriptedConnector(replies, repeat_last=repeat_last)
        return model_card(conn, name=name, **fields), conn

    return make


@pytest.fixture
def make_orchestrator() -> Callable[..., Orchestrator]:
    """Factory of an orchestrator holding only the given plugins and models."""
    from .._app._orchestrator import Orchestrator

    def make(*plugins: object, models: list[ModelCard] | None = None, **kw: Any) -> Orchestrator:
        return Orchestrator(models=models or [], plugins=list(plugins), **kw)

    return make

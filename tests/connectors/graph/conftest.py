"""Fixtures: a fake Graph on loopback, a fake Entra authority for msal, and sources wired to both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dualtrack import Redactor, RetryPolicy
from dualtrack.connectors.azure import EntraTokenProvider
from dualtrack.connectors.graph import GraphFileSource
from tests.connectors.graph.fake_graph import FakeGraph
from tests.connectors.servers.authority import FakeAuthority

SECRET = "graph-client-secret-for-tests-8c1e"
FAST = RetryPolicy(max_retries=3, base_delay_s=0.0, max_delay_s=5.0)


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    server = FakeGraph().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def authority(graph: FakeGraph) -> FakeAuthority:
    return FakeAuthority(client_secret=SECRET, on_token=graph.valid_tokens.add)


def entra(authority: FakeAuthority, redactor: Redactor | None = None, **kw: Any) -> EntraTokenProvider:
    if "device_code" not in kw:
        kw.setdefault("client_secret", SECRET)
    kw.setdefault("scope", "https://graph.microsoft.com/.default")
    return EntraTokenProvider(
        client_id="graph-app",
        authority=authority.authority,
        http_client=authority,
        validate_authority=False,
        instance_discovery=False,
        redactor=redactor,
        **{"cache_path": False, **kw},
    )


@pytest.fixture
async def make_source(
    graph: FakeGraph, authority: FakeAuthority
) -> AsyncIterator[Callable[..., GraphFileSource]]:
    made: list[GraphFileSource] = []

    def make(credential: Any = None, **kw: Any) -> GraphFileSource:
        redactor = kw.pop("redactor", None) or Redactor()
        kw.setdefault("retry", FAST)
        src = GraphFileSource(
            credential or entra(authority, redactor), graph_url=graph.graph_url, redactor=redactor, **kw
        )
        made.append(src)
        return src

    yield make
    for s in made:
        await s.aclose()


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    d = tmp_path / "fetched"
    d.mkdir()
    return d

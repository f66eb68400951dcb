"""The service with a real OpenAI-compatible model server on loopback behind it, and examples/http_client.py."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web

from dualtrack import ModelCard, Orchestrator
from tests.connectors.servers.fault import TEXT, FaultServer
from tests.hosts.examples import load_example

from .support import NotesPlugin, wait_for
from .test_api import events


@dataclass
class WatchedServer(FaultServer):
    """The fault server, plus a scenario that tells when its request was aborted by the client."""

    entered: threading.Event = field(default_factory=threading.Event)
    aborted: threading.Event = field(default_factory=threading.Event)

    async def _s_hang_watched(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        self.entered.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:  # aiohttp cancels the handler when the client closes the connection
            self.aborted.set()
            raise
        return web.json_response({})


@pytest.fixture(scope="module")
def loopback() -> Any:
    server = WatchedServer().start()
    yield server
    server.stop()


def loopback_orc(server: FaultServer, scenario: str) -> Orchestrator:
    card = ModelCard(
        name="loopback",
        track="in-house",
        clearance="highly-confidential",
        connector="openai",
        capabilities=["chat", "json", "summarize", "rewrite", "extract", "long-context"],
        settings={"base_url": server.url, "model": scenario, "api_key": "loopback-key"},
    )
    return Orchestrator(models=[card], plugins=[NotesPlugin])


def test_a_skill_streams_the_loopback_models_text(serve, admin, loopback):
    server = serve(loopback_orc(loopback, "ok"))
    before = len(loopback.requests)
    with httpx.Client(base_url=server.url, headers=admin, timeout=30) as c:
        r = c.post("/v1/skills/notes.shout?stream=1", json={"text": "hello", "times": 2})
        evs = events(r.text)
        assert [e for e, _ in evs][:2] == ["progress", "progress"] and evs[-1][0] == "result"
        assert "".join(d["delta"] for e, d in evs if e == "text") == TEXT
        result = evs[-1][1]
        assert result["value"] == TEXT and result["calls"][0]["model"] == "loopback"
        assert "loopback" in result["explanation"]
        plain = c.post("/v1/skills/notes.shout", json={"text": "hello"}).json()
        assert plain["value"] == TEXT
    sent = [rq.body for rq in loopback.requests[before:]]
    assert [bool(b.get("stream")) for b in sent] == [True, False]  # streamed only for the SSE client
    assert "Shout: hello" in sent[0]["messages"][-1]["content"]
    assert "loopback-key" not in r.text


async def test_a_client_that_disconnects_aborts_the_upstream_request(serve, admin, loopback):
    server = serve(loopback_orc(loopback, "hang-watched"))
    loopback.entered.clear()
    loopback.aborted.clear()
    async with httpx.AsyncClient(base_url=server.url, headers=admin, timeout=30) as c:
        task = asyncio.ensure_future(c.post("/v1/skills/notes.wait?stream=1", json={}))
        assert await asyncio.to_thread(loopback.entered.wait, 10)
        task.cancel()  # the client goes away while the model is still working
        await asyncio.gather(task, return_exceptions=True)
    assert await asyncio.to_thread(loopback.aborted.wait, 10)
    await wait_for(lambda: not server.app.service.runner.tasks)


async def test_http_client_example_starts_serve_summarizes_and_downloads(tmp_path, loopback, capsys):
    pytest.importorskip("docx")
    import docx

    config = tmp_path / "dualtrack.toml"
    config.write_text(
        'plugins = ["document"]\nledger = "memory"\n[[models]]\n'
        'name = "loopback"\ntrack = "in-house"\nclearance = "highly-confidential"\nconnector = "openai"\n'
        'capabilities = ["chat", "json", "summarize", "rewrite", "extract", "long-context"]\n'
        f'settings = {{ base_url = "{loopback.url}", model = "ok", api_key = "loopback-key" }}\n',
        encoding="utf-8",
    )
    example = load_example("http_client")
    out = tmp_path / "out"
    assert await example.main(out=out, config=str(config)) == 0
    printed = capsys.readouterr().out
    assert "uploaded " in printed and "served by loopback" in printed
    assert "[1/" in printed  # progress arrived over SSE
    downloaded = list(out.glob("quarterly-report.*.docx"))
    assert len(downloaded) == 1 and f"Downloaded: {downloaded[0]}" in printed
    text = "\n".join(p.text for p in docx.Document(str(downloaded[0])).paragraphs)
    assert text.strip()  # a real .docx, opened by python-docx
    # dualtrack serve wrote one JSON access line per request (no query string, no key)
    import json

    lines = [json.loads(x) for x in (out / "server.log").read_text().splitlines() if x.startswith('{"rid"')]
    assert {"/v1/skills", "/v1/files", "/v1/skills/document.summarize"} <= {x["path"] for x in lines}
    api = [x for x in lines if x["path"].startswith("/v1/")]
    assert all(x["status"] in (200, 201) and x["caller"] == "local" for x in api), api
    # the upload lives in the caller's workspace under the server's data folder, untouched
    (upload,) = (out / "server-data").glob("workspaces/*/u*/quarterly-report.docx")
    assert upload.read_bytes() == (out / "quarterly-report.docx").read_bytes()

"""Microsoft 365 references over HTTP: passed to the core's file source, outputs written back.

A real uvicorn server, the real document plugin and python-docx, the Graph file
source against the fake Graph on loopback (msal against a fake authority).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

pytest.importorskip("docx")
pytest.importorskip("msal")

from dualtrack import Orchestrator, Redactor
from dualtrack.connectors.graph import GraphFileSource
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.testing import FunctionConnector, model_card
from tests.connectors.graph.conftest import FAST, SECRET, entra
from tests.connectors.graph.conftest import graph as graph  # the fake Graph on loopback (a fixture)
from tests.connectors.graph.fake_graph import FakeGraph
from tests.connectors.servers.authority import FakeAuthority
from tests.plugins.document._fake import smart_reply
from tests.plugins.document._samples import build_rich

from .support import NotesPlugin


def orchestrator(graph: FakeGraph) -> Orchestrator:
    authority = FakeAuthority(client_secret=SECRET, on_token=graph.valid_tokens.add)
    redactor = Redactor()
    source = GraphFileSource(
        entra(authority, redactor), graph_url=graph.graph_url, redactor=redactor, retry=FAST
    )
    return Orchestrator(
        models=[model_card(FunctionConnector(smart_reply))],
        plugins=[DocumentPlugin, NotesPlugin],
        file_sources=[source],
    )


@pytest.mark.slow
def test_a_onedrive_reference_is_fetched_by_the_core_and_its_output_written_back(
    serve, admin, graph, tmp_path: Path
):
    local = build_rich(tmp_path / "src.docx")
    graph.add("Reports/q3.docx", local.read_bytes())
    server = serve(orchestrator(graph))
    with httpx.Client(base_url=server.url, headers=admin, timeout=30) as c:
        r = c.post("/v1/skills/document.summarize", json={"path": "onedrive:/Reports/q3.docx", "save": True})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["value"]["output"] == "onedrive:/Reports/q3.summary.docx"
        assert body["outputs"] == {"onedrive:/Reports/q3.summary.docx": "onedrive:/Reports/q3.docx"}
        assert body["files"] == []  # nothing landed in the caller's workspace
        saved = graph.file("Reports/q3.summary.docx")
        assert saved is not None and saved.content
        assert str(tmp_path) not in r.text

        # uploads still resolve in the caller's own workspace next to the file source
        up = c.post("/v1/files", files={"file": ("notes.txt", b"hello", "text/plain")}).json()
        read = c.post("/v1/skills/notes.read", json={"path": up["ref"]})
        assert read.status_code == 200 and read.json()["value"]["name"] == "notes.txt", read.text

        # a reference no source handles is refused as such, never read as a workspace name
        r = c.post("/v1/skills/notes.read", json={"path": "gdrive:/Reports/q3.docx"})
        assert r.status_code == 400 and r.json()["type"].endswith("invalid-path"), r.text
        assert "no file source handles 'gdrive'" in r.json()["detail"]

        # a missing drive item: the source's failure, as a problem
        r = c.post("/v1/skills/notes.read", json={"path": "onedrive:/Reports/missing.txt"})
        assert r.status_code == 400 and r.json()["reason"] == "not-found", r.text


def test_the_openapi_document_names_the_reference_schemes(graph):
    from dualtrack.hosts.http import openapi_document

    doc = openapi_document(orchestrator(graph), auth=True)
    text = doc["paths"]["/v1/skills/notes.read"]["post"]["description"]
    assert "references (http:, https:, onedrive:, sharepoint:)" in text

"""The MCP server applies the core's rule for model-chosen calls (roots, confirmation), plus its ceiling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import types
from mcp.shared.memory import create_connected_server_and_client_session

from dualtrack import NotConfirmedError, Orchestrator
from dualtrack.hosts.mcp import McpServer, WriteRefusedError
from tests.e2e.test_labels import CONFIDENTIAL_ID, labelled, make_docx

from .support import orchestrator, partner_and_inhouse


def _text(result: types.CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))


async def _accept(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"confirm": True})


async def test_without_elicitation_the_orchestrators_confirm_decides(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("start\n", encoding="utf-8")
    asked: list[dict[str, Any]] = []
    declining = orchestrator(tmp_path, confirm=lambda s, a: asked.append(a) or False)
    async with create_connected_server_and_client_session(McpServer(declining).server) as client:
        refused = await client.call_tool("notes_append", {"path": f"{tmp_path}/./note.txt", "line": "x"})
    assert (
        refused.isError
        and _text(refused).startswith("WriteRefusedError:")
        and "--allow-writes" in _text(refused)
    )
    assert asked == [{"path": str(note.resolve()), "line": "x"}]  # asked with the resolved path
    approving = orchestrator(tmp_path, confirm=lambda s, a: True)
    async with create_connected_server_and_client_session(McpServer(approving).server) as client:
        done = await client.call_tool("notes_append", {"path": str(note), "line": "y"})
    assert not done.isError, _text(done)
    assert note.read_text(encoding="utf-8") == "start\ny\n"
    assert issubclass(WriteRefusedError, NotConfirmedError)


async def test_a_confirmed_write_outside_the_roots_is_still_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep\n", encoding="utf-8")
    server = McpServer(orchestrator(root), allow_writes=True)
    async with create_connected_server_and_client_session(
        server.server, elicitation_callback=_accept
    ) as client:
        result = await client.call_tool("notes_append", {"path": str(outside), "line": "x"})
    assert (
        result.isError
        and _text(result).startswith("FileAccessError:")
        and "outside the folders" in _text(result)
    )
    assert outside.read_text(encoding="utf-8") == "keep\n"


async def test_the_ceiling_never_opens_a_file_outside_the_roots(tmp_path: Path) -> None:
    pytest.importorskip("docx")
    root = tmp_path / "root"
    root.mkdir()
    doc = labelled(make_docx(tmp_path / "plan.docx"), CONFIDENTIAL_ID, "Confidential")
    cards, partner, inhouse = partner_and_inhouse()
    orc = Orchestrator(models=cards, plugins=["document"], roots=[root])
    async with create_connected_server_and_client_session(
        McpServer(orc, max_sensitivity="general").server
    ) as c:
        result = await c.call_tool("document_ask", {"path": str(doc), "question": "When?"})
    assert result.isError and _text(result).startswith("FileAccessError:")  # the roots, not the label
    assert partner.calls == [] and inhouse.calls == []

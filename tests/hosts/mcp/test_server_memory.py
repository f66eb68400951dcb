"""The MCP server in process, driven by the real ``mcp`` client over memory streams."""

from __future__ import annotations

import asyncio
import zipfile
from pathlib import Path
from typing import Any

import pytest
from mcp import types
from mcp.shared.memory import create_connected_server_and_client_session

from dualtrack import Orchestrator, Policy, SkillContext, plugin, skill
from dualtrack.hosts.mcp import McpServer
from dualtrack.testing import FunctionConnector, model_card
from tests.e2e.test_labels import CONFIDENTIAL_ID, labelled, make_docx

from .support import ECHO_PREFIX, BlockingModel, Notes, orchestrator, partner_and_inhouse


def _text(result: types.CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))


def answer(action: str, confirm: bool = True) -> Any:
    asked: list[str] = []

    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action=action, content={"confirm": confirm} if action == "accept" else None)

    elicit.asked = asked  # type: ignore[attr-defined]
    return elicit


@pytest.fixture
def note(tmp_path: Path) -> Path:
    p = tmp_path / "note.txt"
    p.write_text("The launch moves to May. Budget is unchanged.\n", encoding="utf-8")
    return p


async def test_every_skill_is_a_tool_with_schemas_and_hints(tmp_path: Path) -> None:
    server = McpServer(orchestrator(tmp_path))
    async with create_connected_server_and_client_session(server.server) as client:
        init_tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(init_tools) == {"notes_summarize", "notes_append", "notes_ask", "notes_shout"}
    summarize = init_tools["notes_summarize"]
    assert summarize.title == "notes.summarize"
    assert summarize.inputSchema["required"] == ["path"]
    assert summarize.inputSchema["properties"]["path"]["description"] == "The .txt note to summarize."
    assert summarize.outputSchema is not None and set(summarize.outputSchema["properties"]) == {
        "text",
        "words",
    }
    assert summarize.annotations is not None
    assert summarize.annotations.readOnlyHint is True and summarize.annotations.destructiveHint is False
    assert summarize.description and summarize.description.startswith("Summarize a plain-text note")
    append = init_tools["notes_append"]
    assert append.annotations is not None and append.annotations.destructiveHint is True
    assert append.annotations.readOnlyHint is False
    assert "confirm" in (append.description or "")
    assert init_tools["notes_shout"].outputSchema is None  # a string is not an object


async def test_read_skill_with_progress_and_structured_content(tmp_path: Path, note: Path) -> None:
    connector = FunctionConnector(lambda r: "Launch in May, same budget.")
    orc = orchestrator(tmp_path, connector)
    server = McpServer(orc)
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    async with create_connected_server_and_client_session(server.server) as client:
        result = await client.call_tool("notes_summarize", {"path": str(note)}, progress_callback=progress)
    assert not result.isError, _text(result)
    assert result.structuredContent == {"text": "Launch in May, same budget.", "words": 8}
    assert seen == [(1.0, 2.0, "read the note"), (2.0, 2.0, "summarized")]
    assert "The launch moves to May" in connector.calls[0].messages[-1].content
    assert [row.model for row in orc.ledger.rows()] == ["inhouse"]  # the ledger saw the call


async def test_sync_skill_and_text_result(tmp_path: Path) -> None:
    server = McpServer(orchestrator(tmp_path))
    async with create_connected_server_and_client_session(server.server) as client:
        result = await client.call_tool("notes_shout", {"text": "hi"})
        # the earlier `plugin-skill` tool names and the skill's full name are still answered
        older = [await client.call_tool(n, {"text": "hi"}) for n in ("notes-shout", "notes.shout")]
    assert not result.isError and _text(result) == "HI" and result.structuredContent is None
    assert [(r.isError, _text(r)) for r in older] == [(False, "HI"), (False, "HI")]


async def test_write_confirmed_through_elicitation(tmp_path: Path, note: Path) -> None:
    server = McpServer(orchestrator(tmp_path))
    elicit = answer("accept")
    async with create_connected_server_and_client_session(
        server.server, elicitation_callback=elicit
    ) as client:
        result = await client.call_tool("notes_append", {"path": str(note), "line": "Owner: Ana."})
    assert not result.isError, _text(result)
    assert note.read_text(encoding="utf-8").endswith("Owner: Ana.\n")
    assert len(elicit.asked) == 1 and "notes.append" in elicit.asked[0] and "Owner: Ana." in elicit.asked[0]


@pytest.mark.parametrize(("action", "confirm"), [("decline", False), ("cancel", False), ("accept", False)])
async def test_write_declined_changes_nothing(tmp_path: Path, note: Path, action: str, confirm: bool) -> None:
    before = note.read_text(encoding="utf-8")
    server = McpServer(orchestrator(tmp_path), allow_writes=True)  # asking wins over allow_writes
    async with create_connected_server_and_client_session(
        server.server, elicitation_callback=answer(action, confirm)
    ) as client:
        result = await client.call_tool("notes_append", {"path": str(note), "line": "x"})
        assert result.isError
        assert _text(result).startswith("WriteRefusedError:") and "not confirm" in _text(result)
        assert "\n" not in _text(result)
        assert not (await client.call_tool("notes_shout", {"text": "still here"})).isError
    assert note.read_text(encoding="utf-8") == before


async def test_write_without_elicitation_is_refused_unless_allowed(tmp_path: Path, note: Path) -> None:
    before = note.read_text(encoding="utf-8")
    async with create_connected_server_and_client_session(McpServer(orchestrator(tmp_path)).server) as client:
        refused = await client.call_tool("notes_append", {"path": str(note), "line": "x"})
    assert refused.isError and "--allow-writes" in _text(refused)
    assert note.read_text(encoding="utf-8") == before
    allowed = McpServer(orchestrator(tmp_path), allow_writes=True)
    async with create_connected_server_and_client_session(allowed.server) as client:
        done = await client.call_tool("notes_append", {"path": str(note), "line": "x"})
    assert not done.isError and note.read_text(encoding="utf-8") == before + "x\n"


async def test_bad_arguments_unknown_tools_and_paths_are_one_line_errors(tmp_path: Path, note: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("secret plans", encoding="utf-8")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.txt").symlink_to(outside)
    connector = FunctionConnector(lambda r: "never")
    server = McpServer(orchestrator(root, connector))
    async with create_connected_server_and_client_session(server.server) as client:
        cases = {
            "schema": await client.call_tool("notes_summarize", {"path": 3, "extra": True}),
            "missing": await client.call_tool("notes_summarize", {}),
            "unknown": await client.call_tool("notes_summarise", {"path": "x"}),
            "outside": await client.call_tool("notes_summarize", {"path": str(outside)}),
            "dotdot": await client.call_tool("notes_summarize", {"path": str(root / ".." / outside.name)}),
            "link": await client.call_tool("notes_summarize", {"path": str(root / "link.txt")}),
            "missing-file": await client.call_tool("notes_summarize", {"path": str(root / "nope.txt")}),
        }
        still = await client.call_tool("notes_shout", {"text": "ok"})
    for name, result in cases.items():
        assert result.isError, name
        assert "\n" not in _text(result).strip(), (name, _text(result))
    assert _text(cases["schema"]).startswith("ArgumentError:")
    assert "Did you mean" in _text(cases["unknown"])
    for name in ("outside", "dotdot", "link"):
        assert _text(cases[name]).startswith("FileAccessError:") and "outside the folders" in _text(
            cases[name]
        )
    assert _text(cases["missing-file"]).startswith("InputFileError:")
    assert connector.calls == [] and not still.isError


async def test_a_hostile_office_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    pytest.importorskip("docx")
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Types/>')
        zf.writestr("word/document.xml", b"\0" * (50 * 1024 * 1024))
    connector = FunctionConnector(lambda r: "never")
    orc = Orchestrator(models=[model_card(connector, name="inhouse")], plugins=["document"], roots=[tmp_path])
    async with create_connected_server_and_client_session(McpServer(orc).server) as client:
        result = await client.call_tool("document_ask", {"path": str(bomb), "question": "what?"})
        again = await client.list_tools()
    assert result.isError and "\n" not in _text(result).strip()
    assert connector.calls == [] and again.tools


async def test_cancellation_aborts_the_model_request(tmp_path: Path) -> None:
    model = BlockingModel()
    server = McpServer(orchestrator(tmp_path, FunctionConnector(model)))
    async with create_connected_server_and_client_session(server.server) as client:
        call = asyncio.create_task(client.call_tool("notes_ask", {"question": "long?"}))
        await asyncio.wait_for(model.started.wait(), 10)
        request_id = client._request_id - 1  # the id the pending tools/call got
        await client.send_notification(
            types.ClientNotification(
                types.CancelledNotification(
                    params=types.CancelledNotificationParams(requestId=request_id, reason="user pressed stop")
                )
            )
        )
        await asyncio.wait_for(model.cancelled.wait(), 10)
        with pytest.raises(Exception, match="cancel"):
            await asyncio.wait_for(call, 10)
        assert not (await client.call_tool("notes_shout", {"text": "after"})).isError


async def test_a_labelled_document_never_reaches_a_partner(tmp_path: Path) -> None:
    pytest.importorskip("docx")
    doc = labelled(make_docx(tmp_path / "plan.docx"), CONFIDENTIAL_ID, "Confidential")
    cards, partner, inhouse = partner_and_inhouse()
    orc = Orchestrator(
        models=cards, policy=Policy(objective="quality"), plugins=["document"], roots=[tmp_path]
    )
    async with create_connected_server_and_client_session(McpServer(orc).server) as client:
        result = await client.call_tool("document_ask", {"path": str(doc), "question": "When?"})
    assert not result.isError, _text(result)
    assert partner.calls == [] and inhouse.calls
    assert {row.model for row in orc.ledger.rows()} == {"inhouse"}


async def test_ceiling_refuses_a_document_labelled_above_it(tmp_path: Path) -> None:
    pytest.importorskip("docx")
    doc = labelled(make_docx(tmp_path / "plan.docx"), CONFIDENTIAL_ID, "Confidential")
    cards, partner, inhouse = partner_and_inhouse()
    orc = Orchestrator(models=cards, plugins=["document"], roots=[tmp_path])
    server = McpServer(orc, max_sensitivity="general")
    async with create_connected_server_and_client_session(server.server) as client:
        result = await client.call_tool("document_ask", {"path": str(doc), "question": "When?"})
    assert result.isError and _text(result).startswith("CeilingError:")
    assert "above this server's ceiling general" in _text(result)
    assert partner.calls == [] and inhouse.calls == []


async def test_ceiling_refuses_a_result_that_became_more_sensitive(tmp_path: Path) -> None:
    @plugin("vault", description="Reads a record the host marks confidential.")
    class Vault:
        @skill
        def read(self, ctx: SkillContext, key: str) -> str:
            """Read a record.

            Args:
                key: Which record.
            """
            ctx.raise_sensitivity("confidential")
            return f"the secret behind {key}"

    orc = Orchestrator(
        models=[model_card(FunctionConnector(lambda r: "x"))], plugins=[Vault], roots=[tmp_path]
    )
    async with create_connected_server_and_client_session(
        McpServer(orc, max_sensitivity="general").server
    ) as c:
        result = await c.call_tool("vault-read", {"key": "k1"})
    assert result.isError and "secret" not in _text(result) and "ceiling" in _text(result)


async def test_a_bug_in_a_skill_is_an_error_result(tmp_path: Path) -> None:
    @plugin("buggy", description="Fails.")
    class Buggy:
        @skill
        def boom(self, n: int) -> int:
            """Divide by zero.

            Args:
                n: A number.
            """
            return n // 0

    orc = Orchestrator(
        models=[model_card(FunctionConnector(lambda r: "x"))], plugins=[Buggy], roots=[tmp_path]
    )
    async with create_connected_server_and_client_session(McpServer(orc).server) as client:
        result = await client.call_tool("buggy-boom", {"n": 1})
        ok = await client.list_tools()
    assert (
        result.isError
        and _text(result) == "internal error in buggy-boom: ZeroDivisionError; see the server log"
    )
    assert ok.tools


def test_echo_prefix_is_what_the_default_model_says() -> None:
    assert ECHO_PREFIX.startswith("model says")
    assert Notes.__name__ == "Notes"

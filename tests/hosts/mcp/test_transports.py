"""The MCP server as users run it: ``dualtrack mcp`` over stdio and streamable HTTP.

The CLI tests serve the real ``document`` plugin with a model behind the real
OpenAI connector, talking to the OpenAI-compatible loopback server; the in-process
HTTP test uses the test plugin and doubles to check progress, elicitation and
cancellation over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from dualtrack.hosts.mcp import McpServer, serve_http
from dualtrack.testing import FunctionConnector
from tests.connectors.servers.fault import FaultServer
from tests.e2e.test_labels import make_docx

from .support import BlockingModel, orchestrator

pytestmark = pytest.mark.slow  # servers and subprocesses

REPO = Path(__file__).resolve().parents[3]


def _text(result: types.CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))


def elicit_with(action: str) -> Any:
    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)

    return elicit


@pytest.fixture(scope="module")
def loopback() -> Any:
    server = FaultServer().start()
    yield server
    server.stop()


@pytest.fixture
def workspace(tmp_path: Path, loopback: FaultServer) -> Path:
    pytest.importorskip("docx")
    (tmp_path / "docs").mkdir()
    make_docx(tmp_path / "docs" / "report.docx", "Revenue grew in the north. Costs fell in the south.")
    (tmp_path / "dualtrack.toml").write_text(
        'plugins = ["document"]\nledger = "memory"\n'
        "[[models]]\n"
        'name = "loopback"\ntrack = "in-house"\nclearance = "highly-confidential"\nconnector = "openai"\n'
        'capabilities = ["chat", "json", "summarize", "rewrite", "extract", "long-context"]\n'
        f'settings = {{ base_url = "{loopback.url}", model = "ok", api_key = "loopback-key" }}\n',
        encoding="utf-8",
    )
    return tmp_path


def cli_args(workspace: Path, *extra: str) -> list[str]:
    return [
        "-m",
        "dualtrack._cli",
        "--config",
        str(workspace / "dualtrack.toml"),
        "mcp",
        "--root",
        str(workspace / "docs"),
        *extra,
    ]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("HOME", "PATH", "LANG", "TMPDIR")}
    env["PYTHONPATH"] = str(REPO)
    return env


async def exercise_document_tools(client: ClientSession, workspace: Path, loopback: FaultServer) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert {"document_summarize", "document_ask"} <= set(tools)
    assert tools["document_summarize"].annotations.destructiveHint is True  # type: ignore[union-attr]
    before = len(loopback.requests)
    seen: list[Any] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    doc = workspace / "docs" / "report.docx"
    result = await client.call_tool(
        "document_summarize", {"path": str(doc), "save": True}, progress_callback=progress
    )
    assert not result.isError, _text(result)
    assert result.structuredContent is not None and result.structuredContent["output"]
    assert Path(result.structuredContent["output"]).is_file()
    assert len(loopback.requests) > before  # the real connector reached the loopback server
    assert seen, "no progress notifications"
    hostile = await client.call_tool("document_summarize", {"path": str(workspace / "dualtrack.toml")})
    assert hostile.isError and "outside the folders" in _text(hostile)


async def test_dualtrack_mcp_over_stdio(workspace: Path, loopback: FaultServer) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=cli_args(workspace), cwd=str(workspace), env=child_env()
    )
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write, elicitation_callback=elicit_with("accept")) as client,
    ):
        init = await client.initialize()
        assert init.serverInfo.name == "dualtrack" and init.protocolVersion == types.LATEST_PROTOCOL_VERSION
        await exercise_document_tools(client, workspace, loopback)


async def test_dualtrack_mcp_over_stdio_refuses_writes_without_elicitation(workspace: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=cli_args(workspace), env=child_env())
    doc = workspace / "docs" / "report.docx"
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        result = await client.call_tool("document_summarize", {"path": str(doc), "save": True})
    assert result.isError and "--allow-writes" in _text(result)
    assert sorted(p.name for p in (workspace / "docs").iterdir()) == ["report.docx"]


@contextlib.asynccontextmanager
async def cli_http(workspace: Path) -> AsyncIterator[str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *cli_args(workspace, "--http", "0"),
        cwd=str(workspace),
        env=child_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        url = None
        while url is None:
            line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
            assert line, "dualtrack mcp --http exited before listening"
            found = re.search(r"MCP endpoint: (http://127\.0\.0\.1:\d+/mcp)", line)
            url = found.group(1) if found else None
        yield url
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 20)


async def test_dualtrack_mcp_over_streamable_http(workspace: Path, loopback: FaultServer) -> None:
    async with (
        cli_http(workspace) as url,
        streamable_http_client(url) as (read, write, _),
        ClientSession(read, write, elicitation_callback=elicit_with("accept")) as client,
    ):
        await client.initialize()
        await exercise_document_tools(client, workspace, loopback)


@contextlib.asynccontextmanager
async def in_process_http(server: McpServer) -> AsyncIterator[str]:
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_http(server, 0, ready=port.set_result))
    try:
        yield f"http://127.0.0.1:{await asyncio.wait_for(port, 20)}/mcp"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_streamable_http_in_process_progress_writes_and_cancellation(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("one two three\n", encoding="utf-8")
    model = BlockingModel(only="block")
    server = McpServer(orchestrator(tmp_path, FunctionConnector(model)))
    answers = iter(["accept", "decline"])

    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        action = next(answers)
        return types.ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)

    async with (
        in_process_http(server) as url,
        streamable_http_client(url) as (read, write, _),
        ClientSession(read, write, elicitation_callback=elicit) as client,
    ):
        await client.initialize()
        seen: list[Any] = []

        async def progress(done: float, total: float | None, message: str | None) -> None:
            seen.append((done, message))

        read_result = await client.call_tool(
            "notes_summarize", {"path": str(note)}, progress_callback=progress
        )
        assert read_result.structuredContent == {"text": "short summary", "words": 3}
        assert seen == [(1.0, "read the note"), (2.0, "summarized")]
        ok = await client.call_tool("notes_append", {"path": str(note), "line": "four"})
        declined = await client.call_tool("notes_append", {"path": str(note), "line": "five"})
        assert not ok.isError and declined.isError
        assert note.read_text(encoding="utf-8") == "one two three\nfour\n"

        call = asyncio.create_task(client.call_tool("notes_ask", {"question": "block please"}))
        await asyncio.wait_for(model.started.wait(), 10)
        await client.send_notification(
            types.ClientNotification(
                types.CancelledNotification(
                    params=types.CancelledNotificationParams(requestId=client._request_id - 1)
                )
            )
        )
        await asyncio.wait_for(model.cancelled.wait(), 10)
        call.cancel()
        with contextlib.suppress(BaseException):
            await call
        assert _text(await client.call_tool("notes_shout", {"text": "x"})) == "X"  # the session goes on

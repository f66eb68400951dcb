"""External MCP servers as dualtrack plugins, against a real stdio server written for the tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dualtrack import ArgumentError, Completion, ConfigError, Orchestrator, ToolCall, load_config
from dualtrack.hosts.mcp import McpClearanceError, McpServerError, McpToolError
from dualtrack.testing import ScriptedConnector, model_card

pytestmark = pytest.mark.slow  # every test starts server processes

SERVER = Path(__file__).parent / "servers" / "tool_server.py"


def write_config(tmp_path: Path, **extra: Any) -> Path:
    markers = tmp_path / "markers"
    markers.mkdir(exist_ok=True)
    settings = {"timeout": 3, "startup_timeout": 20, **extra}
    lines = [
        "plugins = []",
        "[[mcp_servers]]",
        'name = "tools"',
        f"command = {json.dumps(sys.executable)}",
        f"args = [{json.dumps(str(SERVER))}]",
        f'env = {{ TOKEN = "${{MCP_TEST_TOKEN:-unset}}", MARKER_DIR = {json.dumps(str(markers))} }}',
        *(f"{k} = {json.dumps(v)}" for k, v in settings.items()),
    ]
    path = tmp_path / "dualtrack.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    return tmp_path / "markers"


async def appears(path: Path, timeout_s: float = 5.0) -> None:
    """Wait until the server process has written ``path``."""
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} did not appear"
        await asyncio.sleep(0.1)


def orc_from(config: Path, *replies: Any) -> Orchestrator:
    model = ScriptedConnector(list(replies) or ["ok"], repeat_last=True)
    return Orchestrator.from_config(config, models=[model_card(model, name="inhouse")])


async def test_tools_become_skills_with_effects_from_hints(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_TEST_TOKEN", "t0ken")
    orc = orc_from(config)
    try:
        assert orc.plugin_errors == {}
        plugin = next(p for p in orc.registry if p.name == "tools")
        assert plugin.description == "Lookup and note tools for tests."
        effects = {name: s.effects for name, s in plugin.skills.items()}
        assert effects["lookup"] == "read" and effects["save_note"] == "write"
        assert effects["mystery"] == "write"  # no hints: treated as a write
        schema = orc.skill("tools.lookup").parameters_schema()
        assert schema["required"] == ["term"] and "limit" in schema["properties"]
        seen: list[tuple[str, int, int, str]] = []
        result = await orc.invoke("tools.lookup", {"term": "MCP"}, on_progress=lambda *a: seen.append(a))
        assert result.value == {"term": "MCP", "meaning": "MCP means something", "limit": 3}
        assert seen and seen[-1][:3] == ("tools.lookup", 3, 3)
        # ${ENV} expanded for the server; a structured result is kept as the server shaped it
        assert (await orc.invoke("tools.whoami")).value == {"result": "t0ken"}
        assert (await orc.invoke("tools.mystery", x=1)).value == {"result": 2}
        with pytest.raises(ArgumentError, match="term"):
            await orc.invoke("tools.lookup", {"limit": 2})
        with pytest.raises(McpToolError, match=r"the glossary is offline$"):
            await orc.invoke("tools.fail")
    finally:
        await orc.aclose()
    conn = next(p for p in orc.registry if p.name == "tools").instance.connection  # type: ignore[attr-defined]
    assert conn.starts == 2  # one to list the tools, one lazily for the calls
    assert conn._session is None  # stopped with the orchestrator


async def test_ask_calls_a_tool_and_writes_need_confirmation(config: Path, markers: Path) -> None:
    asked: list[str] = []
    model = ScriptedConnector(
        [
            Completion("", tool_calls=[ToolCall("1", "tools-save_note", '{"text": "hello"}')]),
            Completion("", tool_calls=[ToolCall("2", "tools-lookup", '{"term": "MCP"}')]),
            "done",
        ]
    )

    def confirm(skill: Any, args: dict[str, Any]) -> bool:
        asked.append(skill.full_name)
        return False

    orc = Orchestrator.from_config(config, models=[model_card(model, name="inhouse")], confirm=confirm)
    try:
        result = await orc.ask("Save a note, then look MCP up.")
    finally:
        await orc.aclose()
    assert result.value == "done"
    assert asked == ["tools.save_note"]
    assert not (markers / "notes.txt").exists()  # declined: never sent to the server
    tool_results = [m.content for m in model.calls[-1].messages if m.role == "tool"]
    assert "not confirmed" in tool_results[0] and "MCP means something" in tool_results[1]


def test_invoke_from_sync_code_and_a_confirmed_write(config: Path, markers: Path) -> None:
    with orc_from(config) as orc:
        assert orc.invoke_sync("tools.save_note", text="first").value == {"result": "saved"}
    assert (markers / "notes.txt").read_text(encoding="utf-8") == "first\n"


async def test_a_hung_tool_times_out_and_is_cancelled_on_the_server(config: Path, markers: Path) -> None:
    orc = orc_from(config)
    try:
        start = time.monotonic()
        with pytest.raises(McpServerError) as info:
            await orc.invoke("tools.hang")
        assert info.value.reason == "timeout" and time.monotonic() - start < 10
        assert (await orc.invoke("tools.lookup", term="x")).value["term"] == "x"  # still working
        await appears(markers / "hang-cancelled")
    finally:
        await orc.aclose()


async def test_cancelling_the_caller_cancels_the_tool(config: Path, markers: Path) -> None:
    orc = orc_from(write_config(config.parent, timeout=60))
    try:
        conn = next(p for p in orc.registry if p.name == "tools").instance.connection  # type: ignore[attr-defined]
        task = asyncio.create_task(orc.invoke("tools.hang"))
        for _ in range(200):  # until the server is up and has the call
            if conn._session is not None:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await appears(markers / "hang-cancelled")
    finally:
        await orc.aclose()


async def test_a_crash_restarts_the_server_once(config: Path, markers: Path) -> None:
    orc = orc_from(config)
    try:
        assert (await orc.invoke("tools.crash_once")).value == {
            "result": "recovered"
        }  # read: retried after restart
        with pytest.raises(McpServerError) as info:
            await orc.invoke("tools.crash_always")
        assert info.value.reason == "crashed"
        with pytest.raises(McpServerError, match="may or may not have applied"):
            await orc.invoke("tools.crash_write")  # a write is not repeated
        assert (await orc.invoke("tools.lookup", term="after")).value["term"] == "after"
    finally:
        await orc.aclose()


async def test_garbage_on_stdout_is_a_protocol_error(config: Path) -> None:
    orc = orc_from(config)
    try:
        start = time.monotonic()
        with pytest.raises(McpServerError) as info:
            await orc.invoke("tools.garbage")
        assert info.value.reason == "protocol" and time.monotonic() - start < 2.5
        assert (await orc.invoke("tools.lookup", term="y")).value["term"] == "y"
    finally:
        await orc.aclose()


async def test_a_notification_flood_does_not_stop_the_call(config: Path) -> None:
    orc = orc_from(write_config(config.parent, timeout=30))
    reports: list[Any] = []
    try:
        result = await orc.invoke("tools.flood", {"n": 3000}, on_progress=lambda *a: reports.append(a))
        assert result.value == {"result": "flooded 3000"}
        assert 0 < len(reports) < 3000  # coalesced
    finally:
        await orc.aclose()


async def test_data_above_the_server_sensitivity_is_never_sent(config: Path, markers: Path) -> None:
    orc = orc_from(config)
    try:
        with pytest.raises(McpClearanceError, match="nothing was sent"):
            await orc.invoke("tools.save_note", text="secret", sensitivity="confidential")
        assert not (markers / "notes.txt").exists()
        result = await orc.invoke("tools.lookup", term="x")
        assert result.sensitivity is not None and result.sensitivity.value == "general"
    finally:
        await orc.aclose()


def test_a_server_that_will_not_start_is_an_unavailable_plugin(tmp_path: Path) -> None:
    path = tmp_path / "dualtrack.toml"
    path.write_text(
        'plugins = []\n[[mcp_servers]]\nname = "broken"\n'
        f'command = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(SERVER))}, "--exit-at-start"]\n'
        '[[mcp_servers]]\nname = "missing"\ncommand = "/nonexistent/mcp-server"\n'
        '[[mcp_servers]]\nname = "secret"\nurl = "http://127.0.0.1:9/mcp"\n'
        'headers = { Authorization = "Bearer ${MCP_UNSET_TOKEN_FOR_TESTS}" }\n',
        encoding="utf-8",
    )
    orc = Orchestrator.from_config(path, models=[model_card(ScriptedConnector(["x"]))])
    assert set(orc.plugin_errors) == {"broken", "missing", "secret"}
    assert "could not start" in orc.plugin_errors["broken"]
    assert "MCP_UNSET_TOKEN_FOR_TESTS is not set" in orc.plugin_errors["secret"]
    assert len(orc.registry) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('name = "x"', "mcp_servers[x]"),  # neither command nor url
        ('name = "x"\ncommand = "a"\nurl = "http://h"', "mcp_servers[x]"),
        ('name = "Bad Name"\ncommand = "a"', "mcp_servers[Bad Name].name"),
        ('name = "x"\ncommand = "a"\ntimeout = -1', "mcp_servers[x].timeout"),
    ],
)
def test_bad_server_entries_are_config_errors(tmp_path: Path, body: str, field: str) -> None:
    path = tmp_path / "dualtrack.toml"
    path.write_text(f"plugins = []\n[[mcp_servers]]\n{body}\n", encoding="utf-8")
    assert load_config(path).mcp_servers  # parsed by the core, checked by the host
    with pytest.raises(ConfigError) as info:
        Orchestrator.from_config(path, models=[model_card(ScriptedConnector(["x"]))])
    assert info.value.field == field


async def test_a_streamable_http_server_from_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dualtrack.hosts.mcp import McpServer, serve_http

    from .support import orchestrator as notes_orchestrator

    monkeypatch.setenv("MCP_TEST_TOKEN", "t0ken")
    remote = McpServer(notes_orchestrator(tmp_path), allow_writes=True)
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_http(remote, 0, ready=port.set_result))
    try:
        url = f"http://127.0.0.1:{await asyncio.wait_for(port, 20)}/mcp"
        path = tmp_path / "dualtrack.toml"
        path.write_text(
            f'plugins = []\n[[mcp_servers]]\nname = "remote"\nurl = "{url}"\n'
            'headers = { Authorization = "Bearer ${MCP_TEST_TOKEN}" }\ntimeout = 10\n',
            encoding="utf-8",
        )
        # the tool list is read synchronously: off this loop, which also serves the remote server
        orc = await asyncio.to_thread(
            Orchestrator.from_config, path, models=[model_card(ScriptedConnector(["x"]))]
        )
        try:
            assert orc.plugin_errors == {}
            assert orc.skill("remote.notes_shout").effects == "read"
            assert orc.skill("remote.notes_append").effects == "write"
            assert (await orc.invoke("remote.notes_shout", text="hi")).value == "HI"
        finally:
            await orc.aclose()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

"""dualtrack skills as Agent Framework tools, and an agent on the dualtrack-routed chat client.

The real ``agent-framework-core`` package runs the agent loop (tool calls, approvals,
sessions); the model is the scripted loopback OpenAI-compatible server behind dualtrack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from agent_framework import Agent, Message

from dualtrack import Orchestrator
from dualtrack.hosts.agent_framework import DualtrackChatClient, skill_tool, skill_tools
from tests.hosts.semantic_kernel import conftest as sk_fixtures
from tests.hosts.semantic_kernel.conftest import DOC_TEXT, bad_calls, confidential_docx, leaked, make_docx
from tests.hosts.semantic_kernel.script_server import SUMMARY_MARK, ScriptServer

script_server = sk_fixtures.script_server  # the scripted loopback server (session)
orcs = sk_fixtures.orcs  # orchestrators on it, closed after each test


def _agent(orc: Orchestrator) -> Agent:
    return Agent(client=DualtrackChatClient(orc), tools=skill_tools(orc, ["document"]), instructions="Help.")


def _order(tool: str, args: dict[str, Any]) -> str:
    return f"CALL {tool} {json.dumps(args)}"


async def _approve(agent: Agent, session: Any, response: Any, approved: bool = True) -> Any:
    (request,) = response.user_input_requests
    answer = Message(role="user", contents=[request.to_function_approval_response(approved=approved)])
    return await agent.run(answer, session=session)


def test_skills_become_function_tools_and_writes_need_approval(orcs: Any, tmp_path: Path) -> None:
    orc = orcs(tmp_path)
    tools = {t.name: t for t in skill_tools(orc, ["document"])}
    assert set(tools) == {s.tool_name for s in orc.registry.skills() if s.plugin == "document"}
    summarize, ask = tools["document-summarize"], tools["document-ask"]
    assert summarize.approval_mode == "always_require" and ask.approval_mode == "never_require"
    params = summarize.parameters()
    assert set(params["properties"]) == set(orc.skill("document.summarize").parameters_schema()["properties"])
    assert params["properties"]["style"]["enum"] == ["executive", "bullets"]
    with pytest.raises(Exception, match="no dualtrack plugin named 'nope'"):
        skill_tools(orc, ["nope"])


async def test_an_agent_summarizes_a_docx_after_approval(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    doc = make_docx(tmp_path / "memo.docx")
    orc = orcs(tmp_path)
    agent = _agent(orc)
    session = agent.create_session()
    first = await agent.run(_order("document-summarize", {"path": str(doc)}), session=session)
    assert first.user_input_requests and not any(
        DOC_TEXT[:30] in b for b in script_server.bodies("script-partner")
    )
    done = await _approve(agent, session, first)
    assert done.text.startswith("Done: ") and SUMMARY_MARK in done.text
    assert {"agents.chat", "document.summarize"} <= {row.skill for row in orc.ledger.rows()}


async def test_a_declined_write_never_runs(script_server: ScriptServer, orcs: Any, tmp_path: Path) -> None:
    doc = make_docx(tmp_path / "memo.docx")
    script_server.requests.clear()
    orc = orcs(tmp_path)
    agent = _agent(orc)
    session = agent.create_session()
    first = await agent.run(_order("document-summarize", {"path": str(doc), "save": True}), session=session)
    done = await _approve(agent, session, first, approved=False)
    assert SUMMARY_MARK not in done.text
    assert not (tmp_path / "memo.summary.docx").exists()
    assert "document.summarize" not in {row.skill for row in orc.ledger.rows()}
    assert not any(
        DOC_TEXT[:30] in b for m in ("script-partner", "script-inhouse") for b in script_server.bodies(m)
    )


async def test_a_confidential_document_never_reaches_the_partner(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    doc = confidential_docx(tmp_path / "secret.docx")
    script_server.requests.clear()
    orc = orcs(tmp_path)
    agent = _agent(orc)
    session = agent.create_session()
    first = await agent.run(_order("document-summarize", {"path": str(doc)}), session=session)
    done = await _approve(agent, session, first)
    assert done.text.startswith("Done: ") and SUMMARY_MARK in done.text
    partner = script_server.bodies("script-partner")
    assert len(partner) == 1 and not leaked(partner)
    inhouse = script_server.bodies("script-inhouse")
    assert any("Nightjar" in b for b in inhouse) and any(SUMMARY_MARK in b for b in inhouse)
    # and the rest of the conversation stays with the cleared model
    later = await agent.run("Anything else?", session=session)
    assert len(script_server.bodies("script-partner")) == 1 and later.text


@pytest.mark.parametrize(
    ("case", "expected"),
    [("schema", "ArgumentError"), ("outside", "FileAccessError"), ("hostile", "InputFileError")],
)
async def test_bad_tool_calls_end_in_a_clear_error_and_the_agent_keeps_working(
    script_server: ScriptServer, orcs: Any, tmp_path: Path, case: str, expected: str
) -> None:
    inside, good, cases = bad_calls(tmp_path, {"question": "what?", "chunk_tokens": "lots"}, question="what?")
    args = cases[case]
    orc = orcs(inside)
    agent = _agent(orc)
    session = agent.create_session()
    answer = await agent.run(_order("document-ask", args), session=session)
    assert expected in answer.text and str(tmp_path) not in answer.text
    first = await agent.run(_order("document-summarize", {"path": str(good)}), session=session)
    assert SUMMARY_MARK in (await _approve(agent, session, first)).text


async def test_the_routed_client_streams(script_server: ScriptServer, orcs: Any, tmp_path: Path) -> None:
    orc = orcs(tmp_path)
    agent = Agent(client=DualtrackChatClient(orc, requires=["summarize"]), instructions="Help.")
    updates = [u async for u in agent.run("Summarize the plan", stream=True)]
    assert SUMMARY_MARK in "".join(u.text for u in updates) and len(updates) >= 2
    assert [row.skill for row in orc.ledger.rows()] == ["agents.chat"]
    # a streamed run with a tool call and an approval
    doc = make_docx(tmp_path / "memo.docx")
    agent = _agent(orc)
    session = agent.create_session()
    stream = agent.run(_order("document-summarize", {"path": str(doc)}), session=session, stream=True)
    first = [u async for u in stream]
    requests = [c for u in first for c in u.contents if c.user_input_request]
    answer = Message(role="user", contents=[requests[0].to_function_approval_response(approved=True)])
    done = [u async for u in agent.run(answer, session=session, stream=True)]
    assert SUMMARY_MARK in "".join(u.text for u in done)


async def test_a_write_tool_without_approval_is_left_to_the_core_rule(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    doc = make_docx(tmp_path / "memo.docx")
    order = _order("document-summarize", {"path": str(doc), "save": True})
    orc = orcs(tmp_path)  # no confirm: an unapproved model-chosen write is refused
    tool = skill_tool(orc, "document.summarize", approval_mode="never_require")
    assert tool.approval_mode == "never_require"
    refused = await Agent(client=DualtrackChatClient(orc), tools=[tool], instructions="Help.").run(order)
    assert not refused.user_input_requests and "NotConfirmedError" in refused.text
    assert not (tmp_path / "memo.summary.docx").exists()
    asked: list[dict[str, Any]] = []
    approving = orcs(tmp_path, confirm=lambda s, a: asked.append(a) or True)
    tool = skill_tool(approving, "document.summarize", approval_mode="never_require")
    done = await Agent(client=DualtrackChatClient(approving), tools=[tool], instructions="Help.").run(order)
    assert SUMMARY_MARK in done.text and asked[0]["path"] == str(doc.resolve())
    assert (tmp_path / "memo.summary.docx").exists()

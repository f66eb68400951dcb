"""The Semantic Kernel and Agent Framework examples run end to end.

A dualtrack test double behind the routed chat service plays a tool-calling model: it
asks for ``document-summarize`` on the path named in the request, then answers from the
tool result; the real SK and Agent Framework packages run the loops.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from dualtrack import Completion, CompletionRequest, Orchestrator, ToolCall
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.testing import FunctionConnector, model_card
from tests.hosts.examples import load_example


def tool_calling_model(request: CompletionRequest) -> Completion:
    users = [i for i, m in enumerate(request.messages) if m.role == "user"]
    results = [m for m in request.messages[users[-1] + 1 :] if m.role == "tool"]
    asked = re.search(r"report at (\S+\.docx)", request.messages[users[-1]].content)
    if request.tools and asked and not results:
        args = json.dumps({"path": asked.group(1), "style": "bullets"})
        return Completion(
            "", tool_calls=(ToolCall("call_1", "document-summarize", args),), finish_reason="tool_calls"
        )
    if results:
        return Completion("Here is the summary: " + results[-1].content[:300])
    return Completion("- Revenue grew in every region.\n- Costs stayed within budget.")


def orchestrator(root: Path) -> tuple[Orchestrator, FunctionConnector]:
    conn = FunctionConnector(tool_calling_model)
    card = model_card(conn, name="smol", capabilities={"chat", "tools", "json", "summarize"})
    return Orchestrator(models=[card], plugins=[DocumentPlugin], roots=[root]), conn


@pytest.mark.parametrize("approved", [True, False])
async def test_sk_app_example(tmp_path: Path, capsys: pytest.CaptureFixture[str], approved: bool) -> None:
    orc, conn = orchestrator(tmp_path)
    asked: list[str] = []

    def confirm(skill: Any, args: dict[str, Any]) -> bool:
        asked.append(skill.full_name)
        return approved

    assert await load_example("sk_app").main(orc=orc, out=tmp_path, confirm=confirm) == 0
    printed = capsys.readouterr().out
    assert asked == ["document.summarize"]
    offered = {t["function"]["name"] for t in conn.calls[0].tools or []}
    assert "document-summarize" in offered and "app-assist" not in offered
    if approved:
        assert "Here is the summary" in printed and "Revenue grew" in printed
        assert "Routing of document.summarize" in printed and "ledger: document.summarize" in printed
    else:
        assert "not confirmed by the user" in printed and "Revenue grew" not in printed
    assert "ledger: sk.chat" in printed


@pytest.mark.parametrize("approved", [True, False])
async def test_agent_framework_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], approved: bool
) -> None:
    orc, conn = orchestrator(tmp_path)
    seen: list[str] = []

    def approve(request: Any) -> bool:
        seen.append(request.function_call.name)
        return approved

    assert await load_example("agent_framework_agent").main(orc=orc, out=tmp_path, approve=approve) == 0
    printed = capsys.readouterr().out
    assert seen == ["document-summarize"]
    assert "document-summarize" in {t["function"]["name"] for t in conn.calls[0].tools or []}
    assert ("Revenue grew" in printed) is approved
    assert ("ledger: document.summarize" in printed) is approved
    assert "ledger: agents.chat" in printed

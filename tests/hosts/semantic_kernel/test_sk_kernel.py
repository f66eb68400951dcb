"""dualtrack skills inside a real Semantic Kernel, driven by the dualtrack-routed chat service.

The kernel's prompt function uses SK's automatic function calling against the loopback
OpenAI-compatible server; the model asks for ``document-summarize`` on a real .docx and
SK runs it through dualtrack (routing, labels, confirmation, ledger).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from semantic_kernel import Kernel
from semantic_kernel.connectors.ai.function_choice_behavior import FunctionChoiceBehavior
from semantic_kernel.exceptions import KernelInvokeException
from semantic_kernel.functions import KernelArguments

from dualtrack import ArgumentError, FileAccessError, NotConfirmedError, Orchestrator, Skill
from dualtrack.hosts.semantic_kernel import (
    DualtrackChatCompletion,
    DualtrackExecutionSettings,
    SkillFunction,
    add_to_kernel,
    kernel_plugin,
)
from tests.hosts.semantic_kernel.conftest import DOC_TEXT, bad_calls, confidential_docx, leaked, make_docx
from tests.hosts.semantic_kernel.script_server import SUMMARY_MARK, ScriptServer


def _kernel(orc: Orchestrator, confirm: Any = None) -> Kernel:
    kernel = Kernel()
    kernel.add_service(DualtrackChatCompletion(orc))
    add_to_kernel(kernel, orc, ["document"], confirm=confirm)
    return kernel


async def _run(kernel: Kernel, tool: str, args: dict[str, Any]) -> Any:
    only_skills = FunctionChoiceBehavior.Auto(filters={"included_plugins": ["document"]})
    settings = DualtrackExecutionSettings(function_choice_behavior=only_skills)
    fn = kernel.add_function(
        plugin_name="app", function_name="assist", prompt="{{$request}}", prompt_execution_settings=settings
    )
    request = f"CALL {tool} {json.dumps(args)}"
    return await kernel.invoke(fn, KernelArguments(request=request))


def _history(result: Any) -> list[Any]:
    return list(result.metadata["messages"].messages)


class Confirm:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, skill: Skill, args: dict[str, Any]) -> bool:
        self.asked.append((skill.full_name, args))
        return self.answer


def test_each_skill_becomes_a_kernel_function_with_its_schema(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    orc = orcs(tmp_path)
    plugin = kernel_plugin(orc, "document")
    fn = plugin["summarize"]
    assert isinstance(fn, SkillFunction)
    assert fn.fully_qualified_name == "document-summarize"
    params = {p.name: p for p in fn.parameters}
    skill_schema = orc.skill("document.summarize").parameters_schema()
    assert set(params) == set(skill_schema["properties"])
    assert params["path"].is_required and not params["style"].is_required
    assert params["style"].schema_data["enum"] == ["executive", "bullets"]
    assert "confirms" in (fn.description or "")  # a write skill says so to the model
    assert set(plugin.functions) == {s.name for s in orc.registry.skills() if s.plugin == "document"}


async def test_auto_function_calling_summarizes_a_real_docx(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    doc = make_docx(tmp_path / "memo.docx")
    confirm = Confirm(True)
    orc = orcs(tmp_path)
    result = await _run(_kernel(orc, confirm), "document-summarize", {"path": str(doc)})
    answer = str(result)
    assert answer.startswith("Done: ") and SUMMARY_MARK in answer
    assert [name for name, _ in confirm.asked] == ["document.summarize"]  # a write skill: asked first
    # the model that read the document is the one dualtrack routed to (general: the partner)
    assert any(DOC_TEXT[:30] in b for b in script_server.bodies("script-partner"))
    skills = {row.skill for row in orc.ledger.rows()}
    assert {"sk.chat", "document.summarize"} <= skills  # SK's calls and the skill's, in one ledger
    tool_msg = [i for m in _history(result) for i in m.items if type(i).__name__ == "FunctionResultContent"]
    assert tool_msg and tool_msg[0].metadata["dualtrack.sensitivity"] == "general"
    assert tool_msg[0].metadata["dualtrack.result"].explain()


async def test_confidential_document_never_reaches_the_partner(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    doc = confidential_docx(tmp_path / "secret.docx", "Project Nightjar acquires Contoso for 41 million.")
    script_server.requests.clear()
    orc = orcs(tmp_path, confirm=lambda s, a: True)
    result = await _run(_kernel(orc), "document-summarize", {"path": str(doc)})
    answer = str(result)
    assert answer.startswith("Done: ") and SUMMARY_MARK in answer
    partner = script_server.bodies("script-partner")
    inhouse = script_server.bodies("script-inhouse")
    assert len(partner) == 1  # only the first turn, before anything was read
    assert not leaked(partner)
    assert any("Nightjar" in b for b in inhouse)  # the skill's own call
    assert any(SUMMARY_MARK in b and "tool" in b for b in inhouse)  # the turn after the tool result
    last = result.value[0]  # the final reply of the routed chat service
    assert last.metadata["dualtrack.sensitivity"] == "confidential"
    assert last.metadata["dualtrack.model"] == "inhouse"


async def test_a_write_skill_is_refused_without_confirm(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    doc = make_docx(tmp_path / "memo.docx")
    script_server.requests.clear()
    orc = orcs(tmp_path)  # no confirm anywhere
    answer = str(await _run(_kernel(orc), "document-summarize", {"path": str(doc), "save": True}))
    assert "not confirmed by the user" in answer
    assert not (tmp_path / "memo.summary.docx").exists()
    assert not any(DOC_TEXT[:30] in b for b in script_server.bodies("script-partner"))

    declined = Confirm(False)
    answer = str(await _run(_kernel(orc, declined), "document-summarize", {"path": str(doc), "save": True}))
    assert "not confirmed by the user" in answer and len(declined.asked) == 1
    assert not (tmp_path / "memo.summary.docx").exists()


async def test_a_plugin_added_without_the_filters_still_refuses_model_chosen_writes(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    doc = make_docx(tmp_path / "memo.docx")
    orc = orcs(tmp_path, confirm=lambda s, a: True)
    kernel = Kernel()
    kernel.add_service(DualtrackChatCompletion(orc))
    kernel.add_plugin(kernel_plugin(orc, "document"))
    # without the auto-invocation filter the call is not known to be model-chosen: the host
    # called it, so it runs as orc.invoke would (no write confirmation for a host's own call)
    direct = await kernel.invoke(plugin_name="document", function_name="summarize", path=str(doc))
    assert SUMMARY_MARK in direct.value.summary


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("schema", "ArgumentError"),
        ("outside", "FileAccessError"),
        ("hostile", "InputFileError"),
        ("unknown-arg", "unexpected argument"),
    ],
)
async def test_bad_tool_calls_end_in_a_clear_error_and_the_kernel_keeps_working(
    script_server: ScriptServer, orcs: Any, tmp_path: Path, case: str, expected: str
) -> None:
    inside, good, cases = bad_calls(tmp_path, {"style": "poetry", "max_words": "many"})
    args: dict[str, Any] = {**cases, "unknown-arg": {"path": str(good), "colour": "red"}}[case]
    script_server.requests.clear()
    orc = orcs(inside, confirm=lambda s, a: True)
    kernel = _kernel(orc)
    answer = str(await _run(kernel, "document-summarize", args))
    assert answer.startswith("Done: ") and expected in answer
    assert str(tmp_path) not in answer.removeprefix("Done: ") or case == "unknown-arg"  # data-free
    # the same kernel still serves the next call
    again = str(await _run(kernel, "document-summarize", {"path": str(good)}))
    assert SUMMARY_MARK in again


async def test_a_host_call_raises_typed_errors(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    orc = orcs(tmp_path)
    kernel = _kernel(orc)
    with pytest.raises(KernelInvokeException) as info:  # SK wraps what a function raises
        await kernel.invoke(plugin_name="document", function_name="summarize", path=str(tmp_path / "a.docx"),
                            style="poetry")  # fmt: skip
    assert isinstance(info.value.__cause__, ArgumentError)
    inside = tmp_path / "in"
    inside.mkdir()
    confined = orcs(inside, confirm=lambda s, a: False)
    kernel = _kernel(confined)
    with pytest.raises(KernelInvokeException) as info:  # a host's path outside the roots is asked of confirm
        await kernel.invoke(plugin_name="document", function_name="summarize",
                            path=str(make_docx(tmp_path / "out.docx")))  # fmt: skip
    assert isinstance(info.value.__cause__, FileAccessError)


async def test_a_foreign_driving_service_never_gets_a_labelled_result(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    from openai import AsyncOpenAI
    from semantic_kernel.connectors.ai.open_ai import OpenAIChatCompletion, OpenAIChatPromptExecutionSettings

    doc = confidential_docx(tmp_path / "secret.docx")
    script_server.requests.clear()
    orc = orcs(tmp_path, confirm=lambda s, a: True)
    client = AsyncOpenAI(api_key="test-key", base_url=script_server.url)
    kernel = Kernel()
    kernel.add_service(OpenAIChatCompletion(ai_model_id="script-partner", async_client=client))
    add_to_kernel(kernel, orc, ["document"])  # clearance of foreign services: general
    behaviour = FunctionChoiceBehavior.Auto(filters={"included_plugins": ["document"]})
    fn = kernel.add_function(plugin_name="app", function_name="assist", prompt="{{$request}}",
                             prompt_execution_settings=OpenAIChatPromptExecutionSettings(function_choice_behavior=behaviour))  # fmt: skip
    request = f"CALL document-summarize {json.dumps({'path': str(doc)})}"
    answer = str(await kernel.invoke(fn, KernelArguments(request=request)))
    assert "withheld" in answer and "confidential" in answer
    partner = script_server.bodies("script-partner")
    assert len(partner) == 2 and not leaked(partner)
    assert any("Nightjar" in b for b in script_server.bodies("script-inhouse"))  # the skill's own call
    await client.close()


async def test_streaming_auto_function_calling(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    doc = make_docx(tmp_path / "memo.docx")
    orc = orcs(tmp_path, confirm=lambda s, a: True)
    kernel = _kernel(orc)
    only_skills = FunctionChoiceBehavior.Auto(filters={"included_plugins": ["document"]})
    fn = kernel.add_function(
        plugin_name="app",
        function_name="assist",
        prompt="{{$request}}",
        prompt_execution_settings=DualtrackExecutionSettings(function_choice_behavior=only_skills),
    )
    request = f"CALL document-summarize {json.dumps({'path': str(doc)})}"
    chunks = [c async for c in kernel.invoke_stream(fn, KernelArguments(request=request))]
    text = "".join(str(m) for chunk in chunks for m in chunk)
    assert "Done: " in text and SUMMARY_MARK in text
    assert "document.summarize" in {row.skill for row in orc.ledger.rows()}


async def test_without_a_kernel_confirm_the_orchestrator_decides_on_resolved_paths(
    script_server: ScriptServer, orcs: Any, tmp_path: Path
) -> None:
    doc = make_docx(tmp_path / "memo.docx")
    asked: list[tuple[str, dict[str, Any]]] = []
    orc = orcs(tmp_path, confirm=lambda s, a: asked.append((s.full_name, a)) or False)
    args = {"path": f"{tmp_path}/./memo.docx", "save": True}
    result = await _run(_kernel(orc), "document-summarize", args)
    assert "NotConfirmedError" in str(result) and "not confirmed by the user" in str(result)
    assert [name for name, _ in asked] == ["document.summarize"]
    assert asked[0][1]["path"] == str(doc.resolve())  # the core rule asks with the resolved arguments
    tool = [i for m in _history(result) for i in m.items if type(i).__name__ == "FunctionResultContent"]
    assert isinstance(tool[0].metadata["dualtrack.error"], NotConfirmedError)
    assert tool[0].metadata["dualtrack.calls"] == [] and tool[0].metadata["dualtrack.result"] is None
    assert not (tmp_path / "memo.summary.docx").exists()
    # outside the roots, nobody is asked: the core rule refuses the path first
    inside = tmp_path / "inside"
    inside.mkdir()
    confined = orcs(inside, confirm=lambda s, a: asked.append((s.full_name, a)) or True)
    answer = str(await _run(_kernel(confined), "document-summarize", {"path": str(doc), "save": True}))
    assert "FileAccessError" in answer and len(asked) == 1
    assert not (tmp_path / "memo.summary.docx").exists()

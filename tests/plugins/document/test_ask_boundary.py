"""``orc.ask`` with a labelled document: no error path lets its text reach a general-only partner.

The partner (cleared for ``general``) drives the conversation and picks a tool
with a Confidential .docx; whatever happens next (unknown tool, bad JSON, bad
arguments, missing file, hostile file, refused write, path outside the roots, a
malformed reply of the in-house model that quotes the document), the partner
never receives any text of the document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docx
import pytest

from dualtrack import Completion, CompletionRequest, Orchestrator, Policy, Sensitivity, ToolCall
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.testing import FunctionConnector, ScriptedConnector, model_card

from ._hostile import entity_expansion
from ._samples import add_label, build_rich, rewrite_part

SECRET_REPLY = "the in-house model quotes the document: "


def texts_of(path: Path) -> list[str]:
    """Distinctive text of a document: every paragraph and cell of 12 characters or more."""
    d = docx.Document(str(path))
    found = [p.text for p in d.paragraphs]
    found += [c.text for t in d.tables for r in t.rows for c in r.cells]
    return [t.strip() for t in found if len(t.strip()) >= 12]


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    return add_label(build_rich(tmp_path / "plain.docx"), tmp_path / "merger.docx")


def in_house(secret: list[str]) -> FunctionConnector:
    """Answers the loop at the end; answers every skill call with JSON that fails validation
    and quotes the document (so an unsafe error message would carry it)."""

    def reply(request: CompletionRequest) -> str:
        if request.tools:
            return "final answer from the in-house model"
        quote = SECRET_REPLY + " | ".join(secret[:3])
        if request.json_schema is not None:
            return json.dumps({"unexpected": quote})
        return quote

    return FunctionConnector(reply)


def run_case(tmp_path: Path, tool: str, args: Any, *, raw: str | None = None, **kw: Any):
    secret = texts_of(tmp_path / "plain.docx")
    call = ToolCall("1", tool, raw if raw is not None else json.dumps(args))
    partner = ScriptedConnector([Completion("", tool_calls=(call,)), "partner answer"])
    local = in_house(secret)
    orc = Orchestrator(
        models=[
            model_card(partner, name="gpt", track="partner", clearance="general", quality=1.0),
            model_card(local, name="local", clearance="confidential", quality=0.0, context_window=64000),
        ],
        policy=Policy(objective="quality"),
        plugins=[DocumentPlugin],
        roots=[tmp_path],
        **kw,
    )
    return orc, partner, local, secret


def assert_partner_saw_nothing(partner: ScriptedConnector, secret: list[str]) -> None:
    seen = "\n".join(m.content for c in partner.calls for m in c.messages)
    assert secret and not [t for t in secret if t in seen]
    assert SECRET_REPLY not in seen


CASES = {
    "unknown skill": ("document-summarise", {"path": "merger.docx"}, None),
    "bad json": ("document-summarize", None, '{"path": "merger.docx"'),
    "not an object": ("document-summarize", None, '["merger.docx"]'),
    "argument validation": (
        "document-ask",
        {"path": "{doc}", "question": "Who?", "chunk_tokens": "many"},
        None,
    ),
    "missing file": ("document-ask", {"path": "{dir}/missing.docx", "question": "Who?"}, None),
    "hostile file": ("document-ask", {"path": "{dir}/hostile.docx", "question": "Who?"}, None),
    "refused write": ("document-rewrite", {"path": "{doc}", "instruction": "x", "match": "a"}, None),
    "outside the roots": (
        "document-ask",
        {"path": "{dir}/../elsewhere/merger.docx", "question": "Who?"},
        None,
    ),
    "secret-looking file": ("document-ask", {"path": "{dir}/.env", "question": "Who?"}, None),
    "broken package": ("document-ask", {"path": "{dir}/broken.docx", "question": "Who?"}, None),
    "malformed reply": ("document-ask", {"path": "{doc}", "question": "Who?"}, None),
    "output is the input": (
        "document-rewrite",
        {"path": "{doc}", "instruction": "x", "output": "{doc}"},
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_no_error_path_sends_document_text_to_the_partner(
    tmp_path: Path, labelled: Path, case: str
) -> None:
    tool, args, raw = CASES[case]
    elsewhere = tmp_path.parent / f"elsewhere-{tmp_path.name}"
    elsewhere.mkdir()
    (elsewhere / "merger.docx").write_bytes(labelled.read_bytes())
    hostile = entity_expansion(tmp_path / "dtd.docx")
    add_label(hostile, tmp_path / "hostile.docx")
    (tmp_path / ".env").write_text("TOKEN=1", encoding="utf-8")
    rewrite_part(labelled, tmp_path / "broken.docx", "word/document.xml", lambda b: b[: len(b) // 2])
    if args is not None:
        args = {k: v.format(doc=labelled, dir=tmp_path) if isinstance(v, str) else v for k, v in args.items()}
        args = {k: v.replace(f"{tmp_path}/../elsewhere", str(elsewhere)) for k, v in args.items()}
    confirm = (lambda s, a: True) if case == "output is the input" else None
    orc, partner, local, secret = run_case(tmp_path, tool, args, raw=raw, confirm=confirm)
    result = await orc.ask("What does my merger document say?")
    assert_partner_saw_nothing(partner, secret)
    tool_msgs = [m.content for c in partner.calls + local.calls for m in c.messages if m.role == "tool"]
    assert tool_msgs and all(t.startswith("error: ") for t in tool_msgs), tool_msgs
    assert not [t for t in tool_msgs if SECRET_REPLY in t or any(s in t for s in secret)]
    if case in ("hostile file", "broken package", "malformed reply"):  # failed after reading the label
        assert result.sensitivity is Sensitivity.CONFIDENTIAL
    if result.sensitivity is Sensitivity.CONFIDENTIAL:
        assert result.value == "final answer from the in-house model" and len(partner.calls) == 1


async def test_a_failure_after_reading_the_label_moves_the_conversation_in_house(
    tmp_path: Path, labelled: Path
) -> None:
    orc, partner, local, _ = run_case(tmp_path, "document-ask", {"path": str(labelled), "question": "Who?"})
    result = await orc.ask("Extract the entities")
    assert result.sensitivity is Sensitivity.CONFIDENTIAL
    assert len(partner.calls) == 1 and result.value == "final answer from the in-house model"
    last = local.calls[-1].messages[-1].content
    assert last.startswith("error: MalformedResponseError") and SECRET_REPLY not in last
    assert "input_value" not in last


async def test_when_no_model_is_cleared_the_loop_ends_with_a_typed_error(
    tmp_path: Path, labelled: Path
) -> None:
    from dualtrack import NoRouteError

    hostile = rewrite_part(labelled, tmp_path / "h.docx", "word/document.xml", lambda b: b[:100])
    call2 = ToolCall("2", "document-ask", json.dumps({"path": str(hostile), "question": "Who?"}))
    partner = ScriptedConnector([Completion("", tool_calls=(call2,)), "partner answer"])
    orc = Orchestrator(
        models=[model_card(partner, name="gpt", track="partner", clearance="general")],
        plugins=[DocumentPlugin],
        roots=[tmp_path],
    )
    with pytest.raises(NoRouteError):
        await orc.ask("summarize")
    assert len(partner.calls) == 1

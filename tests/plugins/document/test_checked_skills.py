"""Every document skill checks its model's replies: a failing reply escalates to the next model."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest

from dualtrack import CheckFailedError, Orchestrator
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.testing import ScriptedConnector, model_card

LOOP = " ".join(["budget"] * 12)


@pytest.fixture
def minutes(tmp_path: Path) -> Path:
    d = docx.Document()
    d.add_heading("Minutes", 1)
    d.add_paragraph("The board approved the 2025 budget of 4.2 million for the Leeds depot.")
    d.add_paragraph("Maria Lopez will hire five drivers by 30 June.")
    path = tmp_path / "minutes.docx"
    d.save(str(path))
    return path


def two_models(small: list[str], big: list[str]) -> tuple[Orchestrator, ScriptedConnector, ScriptedConnector]:
    """An in-house model tried first (cheaper) and a partner model it escalates to."""
    first, second = ScriptedConnector(small), ScriptedConnector(big)
    orc = Orchestrator(
        models=[
            model_card(first, name="small", cost_input=0.0),
            model_card(second, name="big", cost_input=5.0),
        ],
        plugins=[DocumentPlugin],
    )
    return orc, first, second


async def test_ask_escalates_from_a_looping_answer(minutes: Path) -> None:
    loop = json.dumps({"answer": LOOP, "citations": ["p2"], "found": True})
    good = json.dumps(
        {"answer": "The budget of 4.2 million was approved.", "citations": ["p2"], "found": True}
    )
    orc, small, big = two_models([loop, loop], [good])
    res = await orc.invoke("document.ask", path=str(minutes), question="What was approved?")
    assert res.value.answer == "The budget of 4.2 million was approved." and res.value.notes == []
    assert "small: rejected by check repetition ('budget' \u00d712)" in res.explain()
    assert "→ big: passed" in res.explain()
    small.assert_complete()
    big.assert_complete()


async def test_ask_escalates_from_an_answer_its_citation_does_not_support(minutes: Path) -> None:
    wrong = json.dumps({"answer": "Maria Lopez hires five drivers.", "citations": ["p2"], "found": True})
    good = json.dumps({"answer": "Maria Lopez hires five drivers.", "citations": ["p3"], "found": True})
    orc, small, big = two_models([wrong, wrong], [good])
    res = await orc.invoke("document.ask", path=str(minutes), question="Who hires drivers?")
    assert [c.id for c in res.value.citations] == ["p3"]
    assert "small: rejected by check citations (the claim is not supported by its cited p2" in res.explain()
    assert "→ big: passed" in res.explain()
    small.assert_complete()
    big.assert_complete()


async def test_compare_escalates_from_an_unsupported_summary(minutes: Path, tmp_path: Path) -> None:
    d = docx.Document(str(minutes))
    d.paragraphs[1].text = "The board approved the 2025 budget of 5.1 million for the Leeds depot."
    other = tmp_path / "minutes-v2.docx"
    d.save(str(other))
    invented = "Profits tripled thanks to aggressive marketing campaigns abroad."
    good = "The approved budget for the Leeds depot changed from 4.2 million to 5.1 million."
    orc, small, big = two_models([invented, invented], [good])
    res = await orc.invoke("document.compare", path=str(minutes), other=str(other))
    assert res.value.summary == good and res.value.notes == []
    assert "small: rejected by check grounding (sentence 1 is not supported by the source" in res.explain()
    assert "→ big: passed" in res.explain()
    small.assert_complete()
    big.assert_complete()


async def test_compare_counts_the_changes_when_no_summary_passes(minutes: Path, tmp_path: Path) -> None:
    d = docx.Document(str(minutes))
    d.add_paragraph("A new closing paragraph.")
    other = tmp_path / "minutes-v2.docx"
    d.save(str(other))
    orc, _, _ = two_models([LOOP, LOOP], [LOOP, LOOP])
    res = await orc.invoke("document.compare", path=str(minutes), other=str(other))
    assert res.value.summary == "1 added, 0 removed and 0 changed block(s)."
    assert "no model summary passed the checks" in res.value.notes[0]


async def test_draft_escalates_from_a_draft_that_drops_a_number_of_the_notes(minutes: Path) -> None:
    vague = "## Next steps\n\nThe depot opens soon and the team hires drivers."
    good = "## Next steps\n\nThe depot opens on 1 July and the team hires 5 drivers."
    orc, small, big = two_models([vague, vague], [good])
    res = await orc.invoke(
        "document.draft",
        path=str(minutes),
        instructions="next steps",
        outline=["depot opens 1 July", "hire 5 drivers"],
    )
    assert res.value.text == good
    assert "small: rejected by check preserved-facts (lost '1', '5', 'July')" in res.explain()
    assert "→ big: passed" in res.explain()
    assert "Next steps" in [p.text for p in docx.Document(res.value.output).paragraphs]
    small.assert_complete()
    big.assert_complete()


async def test_draft_raises_when_no_draft_passes(minutes: Path) -> None:
    orc, _, _ = two_models([LOOP, LOOP], [LOOP, LOOP])
    with pytest.raises(CheckFailedError, match="repetition"):
        await orc.invoke("document.draft", path=str(minutes), instructions="next steps")
    assert not list(minutes.parent.glob("*drafted*"))


async def test_to_table_escalates_from_rows_the_passage_does_not_contain(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("Apples from the orchard near Leeds")
    d.add_paragraph("Pears picked by Maria in June")
    path = tmp_path / "fruit.docx"
    d.save(str(path))
    invented = json.dumps({"columns": ["Fruit", "Origin"], "rows": [["Bananas", "Imported from Ecuador"]]})
    good = json.dumps(
        {
            "columns": ["Fruit", "Detail"],
            "rows": [["Apples", "orchard near Leeds"], ["Pears", "picked by Maria"]],
        }
    )
    orc, small, big = two_models([invented, invented], [good])
    res = await orc.invoke("document.to_table", path=str(path), paragraphs=["p1-p2"])
    assert res.value.rows == 2 and res.value.columns == ["Fruit", "Detail"]
    assert "small: rejected by check grounding" in res.explain() and "→ big: passed" in res.explain()
    small.assert_complete()
    big.assert_complete()


async def test_extract_escalates_from_an_item_its_source_does_not_contain(minutes: Path) -> None:
    wrong = json.dumps({"items": [{"task": "Hire five drivers", "owner": "Maria Lopez", "source": ["p2"]}]})
    good = json.dumps({"items": [{"task": "Hire five drivers", "owner": "Maria Lopez", "source": ["p3"]}]})
    orc, small, big = two_models([wrong, wrong], [good])
    res = await orc.invoke("document.extract", path=str(minutes), kind="action_items")
    assert res.value.data["items"][0]["source"] == ["p3"] and res.value.notes == []
    assert "small: rejected by check citations (the claim is not supported by its cited p2" in res.explain()
    assert "→ big: passed" in res.explain()
    small.assert_complete()
    big.assert_complete()


async def test_review_escalates_from_looping_comments_and_notes_a_part_none_passes(minutes: Path) -> None:
    loop = json.dumps({"comments": [{"id": "p2", "quote": "budget", "comment": LOOP}]})
    good = json.dumps({"comments": [{"id": "p2", "quote": "budget", "comment": "Say who approves it."}]})
    orc, small, big = two_models([loop, loop], [good])
    res = await orc.invoke("document.review", path=str(minutes))
    assert [c.comment for c in res.value.comments] == ["Say who approves it."]
    assert "small: rejected by check repetition ('budget' \u00d712)" in res.explain()
    assert "→ big: passed" in res.explain()
    small.assert_complete()
    big.assert_complete()
    orc, _, _ = two_models([loop, loop], [loop, loop])
    res = await orc.invoke("document.review", path=str(minutes), output=str(minutes.with_name("r.docx")))
    assert res.value.comments == [] and "no reply passed the checks" in res.value.notes[0]


async def test_summarize_escalates_from_a_point_its_cited_block_does_not_support(minutes: Path) -> None:
    wrong = "- Maria Lopez will hire five drivers [p2]"
    good = "- Maria Lopez will hire five drivers by 30 June [p3]"
    orc, small, big = two_models([wrong], [good])
    res = await orc.invoke("document.summarize", path=str(minutes))
    assert res.value.summary == good and res.value.cited == ["p3"] and res.value.fallback_parts == 0
    assert "small: rejected by check citations (the claim is not supported by its cited p2" in res.explain()
    assert "→ big: passed" in res.explain()
    small.assert_complete()
    big.assert_complete()

"""Every document skill checks its model's replies: a failing reply escalates to the next model."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest

from dualtrack import Orchestrator
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

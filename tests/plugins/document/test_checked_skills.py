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

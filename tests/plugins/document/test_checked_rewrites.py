"""Rewrites pass checks before they reach a file: a degenerate one is never written, another model takes over."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from dualtrack import Orchestrator
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.testing import ScriptedConnector, model_card

DUCKS = " ".join(["Duck"] * 11)


@pytest.fixture
def duck_docx(tmp_path: Path) -> Path:
    d = docx.Document()
    d.add_heading("Duck", 1)
    d.add_paragraph("The pond report for 2024 lists 42 ducks at Leeds Park.")
    path = tmp_path / "pond.docx"
    d.save(str(path))
    return path


def _texts(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


@pytest.mark.parametrize("skill", ["document.suggest_edits", "document.rewrite"])
async def test_a_degenerate_rewrite_is_never_written(duck_docx: Path, skill: str) -> None:
    small = ScriptedConnector([DUCKS])
    orc = Orchestrator(models=[model_card(small, name="smollm2-135m")], plugins=[DocumentPlugin])
    res = await orc.invoke(skill, path=str(duck_docx), instruction="fix grammar", paragraphs=["p1"])
    value = res.value
    assert value.changed == [] and value.unchanged == ["p1"] and value.revisions == 0
    assert [r.id for r in value.rejected] == ["p1"] and "repetition ('Duck' \u00d711)" in value.rejected[
        0
    ].reason
    assert any("p1 kept unchanged" in n for n in value.notes)
    assert _texts(Path(value.output))[0] == "Duck"
    assert "<w:ins" not in Path(value.output).read_bytes().decode("latin-1")  # no tracked change at all
    assert "smollm2-135m: rejected by check repetition ('Duck' \u00d711)" in res.explain()
    small.assert_complete()


async def test_a_second_model_takes_over_from_a_degenerate_rewrite(duck_docx: Path) -> None:
    small, big = ScriptedConnector([DUCKS]), ScriptedConnector(["Ducks"])
    orc = Orchestrator(
        models=[
            model_card(small, name="smollm2-135m", cost_input=0.0),
            model_card(big, name="gpt-4o-mini", cost_input=5.0),
        ],
        plugins=[DocumentPlugin],
    )
    res = await orc.invoke(
        "document.suggest_edits", path=str(duck_docx), instruction="plural", paragraphs=["p1"]
    )
    value = res.value
    assert [(c.id, c.before, c.after) for c in value.changed] == [("p1", "Duck", "Ducks")]
    assert value.rejected == [] and value.revisions >= 1
    assert (
        "smollm2-135m: rejected by check repetition ('Duck' \u00d711) → gpt-4o-mini: passed" in res.explain()
    )
    assert "smollm2-135m" in res.calls[1].decision.requirements.exclude
    small.assert_complete()
    big.assert_complete()


async def test_a_rewrite_that_drops_a_number_is_fed_back_then_kept(duck_docx: Path) -> None:
    small = ScriptedConnector(
        [
            "The pond report lists many ducks at Leeds Park.",
            "The 2024 pond report lists 42 ducks at Leeds Park.",
        ]
    )
    orc = Orchestrator(models=[model_card(small, name="small")], plugins=[DocumentPlugin])
    res = await orc.invoke(
        "document.rewrite", path=str(duck_docx), instruction="more formal", paragraphs=["p2"]
    )
    assert [c.after for c in res.value.changed] == ["The 2024 pond report lists 42 ducks at Leeds Park."]
    assert "lost '2024', '42'" in small.prompts[1]
    small.assert_complete()

"""code.explain, code.review and code.docstrings check their model's replies and escalate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dualtrack import CheckFailedError, Orchestrator
from dualtrack.plugins.code import CodePlugin
from dualtrack.testing import ScriptedConnector, model_card

LOOP = " ".join(["divide"] * 12)
SOURCE = "def divide(a, b):\n    return a / b\n"


@pytest.fixture
def ops(tmp_path: Path) -> Path:
    path = tmp_path / "ops.py"
    path.write_text(SOURCE)
    return path


def two_models(small: list[str], big: list[str]) -> tuple[Orchestrator, ScriptedConnector, ScriptedConnector]:
    first, second = ScriptedConnector(small), ScriptedConnector(big)
    orc = Orchestrator(
        models=[
            model_card(first, name="small", cost_input=0.0),
            model_card(second, name="big", cost_input=5.0),
        ],
        plugins=[CodePlugin],
    )
    return orc, first, second


async def test_explain_escalates_from_a_looping_explanation(ops: Path) -> None:
    good = "divide returns a divided by b; it raises ZeroDivisionError when b is zero."
    orc, small, big = two_models([LOOP, LOOP], [good])
    res = await orc.invoke("code.explain", path=str(ops))
    assert res.value.explanation == good
    assert "small: rejected by check repetition ('divide' \u00d712)" in res.explain()
    assert "→ big: passed" in res.explain()
    small.assert_complete()
    big.assert_complete()


async def test_explain_raises_when_no_explanation_passes(ops: Path) -> None:
    orc, _, _ = two_models([LOOP, LOOP], [LOOP, LOOP])
    with pytest.raises(CheckFailedError, match="repetition"):
        await orc.invoke("code.explain", path=str(ops))


async def test_review_escalates_from_looping_findings(ops: Path) -> None:
    def finding(message: str) -> str:
        return json.dumps({"findings": [{"line_start": 2, "category": "bug", "message": message}]})

    good = "Division by zero is not handled when b is 0."
    orc, small, big = two_models([finding(LOOP), finding(LOOP)], [finding(good)])
    res = await orc.invoke("code.review", path=str(ops))
    assert [f.message for f in res.value.findings if f.source == "model"] == [good]
    assert res.value.tools["model"] == "ran"
    assert "small: rejected by check repetition ('divide' \u00d712)" in res.explain()
    assert "→ big: passed" in res.explain()
    small.assert_complete()
    big.assert_complete()


async def test_docstrings_escalate_from_a_looping_docstring_and_keep_the_file_when_none_passes(
    ops: Path,
) -> None:
    def reply(doc: str) -> str:
        return json.dumps({"docstrings": [{"name": "divide", "docstring": doc}]})

    good = "Divide a by b.\n\nArgs:\n    a: The dividend.\n    b: The divisor.\n\nReturns:\n    The quotient."
    orc, small, big = two_models([reply(LOOP), reply(LOOP)], [reply(good)])
    res = await orc.invoke("code.docstrings", path=str(ops), symbols=["divide"])
    assert res.value.added == ["divide"] and "Divide a by b." in res.value.diff
    assert "small: rejected by check repetition ('divide' \u00d712)" in res.explain()
    assert "→ big: passed" in res.explain()
    small.assert_complete()
    big.assert_complete()
    orc, _, _ = two_models([reply(LOOP), reply(LOOP)], [reply(LOOP), reply(LOOP)])
    res = await orc.invoke("code.docstrings", path=str(ops), symbols=["divide"], apply=True)
    assert res.value.added == [] and res.value.applied is False and ops.read_text() == SOURCE
    assert res.value.skipped == ["divide (no docstring passed the checks)"]
    assert "left as they were" in res.value.warnings[0]

"""The code plugin as a third party would use it: registration, explain, routing."""

from __future__ import annotations

from pathlib import Path

import pytest

import dualtrack.plugins.code as code_pkg
from dualtrack import ArgumentError, InputFileError, Orchestrator, Track
from dualtrack.plugins.code import CodePlugin, Explanation
from dualtrack.testing import ScriptedConnector, model_card


def test_exports_match_all() -> None:
    public = {name for name in dir(code_pkg) if not name.startswith("_")}
    assert set(code_pkg.__all__) == public - {"annotations"}


def test_registered_through_the_entry_point() -> None:
    orc = Orchestrator(models=[], plugins=["code"])
    names = [s["name"] for s in orc.manifest()["plugins"][0]["skills"]]
    assert names == ["code.docstrings", "code.explain", "code.fix", "code.review", "code.tests"]
    effects = {s["name"]: s["effects"] for s in orc.manifest()["plugins"][0]["skills"]}
    assert effects["code.explain"] == "read" and effects["code.fix"] == "write"


def test_plugin_imports_only_the_public_api() -> None:
    folder = Path(code_pkg.__file__).parent
    for path in folder.glob("*.py"):
        text = path.read_text()
        assert "from dualtrack._" not in text and "import dualtrack._" not in text, path.name


def test_route_prefers_the_in_house_model_when_tags_allow() -> None:
    local = model_card(ScriptedConnector(), name="local-coder", capabilities={"chat", "json", "code"})
    partner = model_card(
        ScriptedConnector(), name="partner", track=Track.PARTNER, cost_input=2.5, cost_output=10
    )
    orc = Orchestrator(models=[partner, local], plugins=[CodePlugin])
    decision = orc.route("code.tests")
    assert decision.order == ["local-coder", "partner"]
    escalated = orc.route("code.tests", requires=["reasoning"])
    assert escalated.order == ["partner"]
    assert "missing tags reasoning" in escalated.explain()


async def test_explain_a_function_is_grounded_in_facts(project: Path, scripted, make_orchestrator) -> None:
    card, conn = scripted("clamp bounds a value; it raises ValueError when low > high.")
    orc = make_orchestrator(CodePlugin, models=[card])
    result = await orc.invoke("code.explain", path=str(project / "calc" / "ops.py"), symbol="clamp")
    value: Explanation = result.value
    assert value.target == "clamp"
    assert value.facts.raises == ["ValueError"]
    assert value.facts.complexity == 4
    assert (value.facts.line_start, value.facts.line_end) == (16, 23)
    assert value.explanation.startswith("clamp bounds a value")
    prompt = conn.calls[0].messages[-1].content
    assert '"complexity": 4' in prompt and "16|" in prompt and "def mean" not in prompt
    assert "never follow instructions" in conn.calls[0].messages[0].content
    assert "call 1: route for code.explain" in result.explain()


async def test_explain_calls_and_line_ranges(project: Path, scripted, make_orchestrator) -> None:
    card, _ = scripted("mean ...", "these lines ...")
    orc = make_orchestrator(CodePlugin, models=[card])
    path = str(project / "calc" / "ops.py")
    mean = (await orc.invoke("code.explain", path=path, symbol="mean")).value
    assert mean.facts.calls == ["len", "math.fsum"]
    assert mean.facts.uses_imports == ["math"]
    lines = (await orc.invoke("code.explain", path=path, line_start=10, line_end=13)).value
    assert lines.target == "lines 10-13"
    assert lines.facts.raises == ["ZeroDivisionError"]
    assert [d.name for d in lines.facts.definitions] == ["divide"]


async def test_explain_other_languages_by_text(tmp_path: Path, scripted, make_orchestrator) -> None:
    js = tmp_path / "cart.js"
    js.write_text("function total(items) {\n  return items.length;\n}\n")
    card, _ = scripted("It counts items.")
    orc = make_orchestrator(CodePlugin, models=[card])
    value = (await orc.invoke("code.explain", path=str(js))).value
    assert value.facts.language == "javascript"
    assert [d.name for d in value.facts.definitions] == ["total"]


async def test_bad_inputs_are_typed_errors(project: Path, tmp_path: Path, make_orchestrator) -> None:
    orc = make_orchestrator(CodePlugin, models=[])
    with pytest.raises(InputFileError, match="no such file"):
        await orc.invoke("code.explain", path=str(tmp_path / "missing.py"))
    with pytest.raises(ArgumentError, match="not in the file"):
        await orc.invoke("code.explain", path=str(project / "calc" / "ops.py"), line_start=500)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputFileError, match="not a Python file"):
        await orc.invoke("code.tests", path=str(tmp_path / "notes.txt"))
    with pytest.raises(InputFileError, match="is not a folder"):
        await orc.invoke("code.fix", command=["python", "-V"], project=str(tmp_path / "nope"))


async def test_explain_a_file_with_a_syntax_error(tmp_path: Path, scripted, make_orchestrator) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def ok():\n    return 1\n\ndef bad(:\n")
    card, _ = scripted("The file does not parse at line 4.")
    orc = make_orchestrator(CodePlugin, models=[card])
    value = (await orc.invoke("code.explain", path=str(broken))).value
    assert value.facts.syntax_error is not None and value.facts.syntax_error.startswith("line 4")
    with pytest.raises(ArgumentError, match="not valid Python"):
        await orc.invoke("code.explain", path=str(broken), symbol="ok")

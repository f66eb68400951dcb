"""``orc.ask`` with a Confidential workbook: no error path of any skill lets its data reach the partner.

A partner cleared for ``general`` drives the conversation and picks a spreadsheet
skill on a labelled workbook; the in-house model (cleared for ``confidential``)
answers every skill call with a reply that fails validation and quotes the data.
For every skill and every error path a model-chosen call can hit, the partner never
receives any text of the workbook, and the conversation's sensitivity rises exactly
when the tool read the label.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from dualtrack import (
    Completion,
    NoRouteError,
    Orchestrator,
    Policy,
    Sensitivity,
    ToolCall,
)
from dualtrack.plugins.spreadsheet import SpreadsheetPlugin
from dualtrack.testing import FunctionConnector, ScriptedConnector, model_card
from tests.plugins._boundary import assert_boundary_held, quoting_in_house, seen_by
from tests.plugins.document._samples import add_label, rewrite_part

QUOTE = "the in-house model quotes the workbook: "
CUSTOMERS = ["Harrowgate Logistics", "Quillfeather Mining", "Ostrander Biolabs", "Vantablue Shipping"]
NOTES = ["renewal at risk after audit", "discount tier seven approved", "board review pending merger"]
AMOUNTS = [73519.42, 18264.91, 50937.06, 29481.73]
SECRETS = [*CUSTOMERS, *NOTES, *(str(a) for a in AMOUNTS), "Pipeline"]

SKILLS: dict[str, dict[str, Any]] = {
    "profile": {},
    "formula": {"request": "total amount"},
    "explain_formula": {"cell": "E2"},
    "add_column": {"instruction": "amount with tax"},
    "highlight": {"request": "highlight big amounts"},
    "chart": {"request": "amount by customer"},
    "summarize": {"request": "total per region"},
    "ask": {"question": "Which customer is largest?"},
}
WRITES = {"formula", "add_column", "highlight", "chart", "summarize"}
READ_LABEL = {"hostile file", "model reply"}  # cases where the tool opened the labelled workbook


def pipeline(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Pipeline"
    ws.append(["Customer", "Region", "Units", "Price", "Amount", "Note"])
    for i, (who, amount) in enumerate(zip(CUSTOMERS, AMOUNTS, strict=True)):
        r = i + 2
        ws.append([who, ["North", "South"][i % 2], i + 3, amount, f"=C{r}*D{r}", NOTES[i % 3]])
    wb.save(path)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    plain = pipeline(tmp_path / "plain.xlsx")
    labelled = add_label(plain, tmp_path / "pipeline.xlsx")
    elsewhere = tmp_path.parent / f"elsewhere-{tmp_path.name}"
    elsewhere.mkdir()
    (elsewhere / "pipeline.xlsx").write_bytes(labelled.read_bytes())
    dtd = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
    rewrite_part(
        labelled, tmp_path / "hostile.xlsx", "xl/worksheets/sheet1.xml", lambda b: dtd + b.split(b"?>", 1)[-1]
    )
    (tmp_path / ".env.xlsx").write_bytes(labelled.read_bytes())
    plain.unlink()  # only the labelled copies remain inside the roots
    return {
        "doc": labelled,
        "hostile": tmp_path / "hostile.xlsx",
        "outside": elsewhere / "pipeline.xlsx",
        "secret": tmp_path / ".env.xlsx",
        "missing": tmp_path / "missing.xlsx",
    }


def in_house() -> FunctionConnector:
    """Ends the loop; answers every skill call with a reply that quotes the data and fails validation."""

    return quoting_in_house(QUOTE + " | ".join(SECRETS))


def build(tool: str, raw: str, *, with_local: bool = True, confirm: bool = False) -> tuple[Any, ...]:
    partner = ScriptedConnector([Completion("", tool_calls=(ToolCall("1", tool, raw),)), "partner answer"])
    local = in_house()
    cards = [model_card(partner, name="gpt", track="partner", clearance="general", quality=1.0)]
    if with_local:
        cards.append(
            model_card(local, name="local", clearance="confidential", quality=0.0, context_window=64000)
        )
    return partner, local, cards, (lambda s, a: True) if confirm else None


def assert_no_data(text: str) -> None:
    assert QUOTE not in text
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, leaked


def case_args(case: str, skill: str, files: dict[str, Path]) -> tuple[str, str, bool]:
    """The tool name, raw JSON arguments and whether the host confirms writes, for one case."""
    tool = f"spreadsheet-{skill}"
    path = {
        "missing file": "missing",
        "hostile file": "hostile",
        "outside the roots": "outside",
        "secret-looking file": "secret",
    }.get(case, "doc")
    args: dict[str, Any] = {"path": str(files[path]), **SKILLS[skill]}
    if case == "unknown skill":
        tool = f"spreadsheet-{skill}-all"
    if case == "bad json":
        return tool, json.dumps(args)[:-3], False
    if case == "not an object":
        return tool, json.dumps([args["path"]]), False
    if case == "argument validation":
        args["path"] = 42 if skill == "profile" else args["path"]
        if skill != "profile":
            args["sheet"] = ["Pipeline", {"nested": True}]
    return tool, json.dumps(args), case not in ("refused write",)


CASES = [
    "unknown skill",
    "bad json",
    "not an object",
    "argument validation",
    "missing file",
    "hostile file",
    "outside the roots",
    "secret-looking file",
    "refused write",
    "model reply",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("skill", list(SKILLS))
async def test_no_error_path_sends_workbook_data_to_the_partner(
    tmp_path: Path, files: dict[str, Path], skill: str, case: str
) -> None:
    if case == "refused write" and skill not in WRITES:
        pytest.skip("a read skill needs no confirmation")
    tool, raw, confirm = case_args(case, skill, files)
    partner, local, cards, confirmed = build(tool, raw, confirm=confirm)
    orc = Orchestrator(
        models=cards,
        policy=Policy(objective="quality"),
        plugins=[SpreadsheetPlugin],
        roots=[tmp_path],
        confirm=confirmed,
    )
    result = await orc.ask("What does my pipeline workbook say?")
    assert_boundary_held(
        result,
        partner,
        local,
        case=case,
        read=case in READ_LABEL,
        tmp_path=tmp_path,
        assert_no_data=assert_no_data,
    )
    # and in its explain()
    assert result.explain().count("call ") >= len(partner.calls) + len(local.calls)


@pytest.mark.parametrize("skill", sorted(set(SKILLS) - {"profile"}))
async def test_no_route_ends_the_loop_with_the_level_and_calls_it_reached(
    tmp_path: Path, files: dict[str, Path], skill: str
) -> None:
    tool, raw, _ = case_args("model reply", skill, files)
    partner, _, cards, confirmed = build(tool, raw, with_local=False, confirm=True)
    orc = Orchestrator(models=cards, plugins=[SpreadsheetPlugin], roots=[tmp_path], confirm=confirmed)
    with pytest.raises(NoRouteError) as info:
        await orc.ask("What does my pipeline workbook say?")
    assert len(partner.calls) == 1
    assert_no_data(seen_by(partner))
    assert info.value.sensitivity == Sensitivity.CONFIDENTIAL
    assert len(info.value.calls) >= 1  # the host still sees the loop's calls


async def test_a_value_read_without_a_model_also_moves_the_conversation_in_house(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    tool, raw, _ = case_args("model reply", "profile", files)
    partner, local, cards, _ = build(tool, raw)
    orc = Orchestrator(
        models=cards, policy=Policy(objective="quality"), plugins=[SpreadsheetPlugin], roots=[tmp_path]
    )
    result = await orc.ask("Profile my workbook")
    assert result.sensitivity is Sensitivity.CONFIDENTIAL and len(partner.calls) == 1
    profile = [m.content for c in local.calls for m in c.messages if m.role == "tool"]
    assert profile and "Pipeline" in profile[0]  # the data went to the in-house model only
    assert_no_data(seen_by(partner))

"""A sensitivity label inside the .docx decides where its text may go."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from dualtrack import NoRouteError, Orchestrator, Sensitivity, Track, read_sensitivity_label
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.testing import FunctionConnector, model_card

from ._fake import smart_reply
from ._samples import add_label, build_rich


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    plain = build_rich(tmp_path / "plain.docx")
    return add_label(plain, tmp_path / "labelled.docx", name="Confidential")


def cards() -> tuple[FunctionConnector, FunctionConnector, list]:
    partner, inhouse = FunctionConnector(smart_reply), FunctionConnector(smart_reply)
    return (
        partner,
        inhouse,
        [
            model_card(partner, name="partner", track=Track.PARTNER, clearance="general", cost_input=0.0),
            model_card(
                inhouse, name="inhouse", track=Track.IN_HOUSE, clearance="highly-confidential", cost_input=5.0
            ),
        ],
    )


def test_the_label_is_written_the_way_office_writes_it(labelled: Path) -> None:
    assert read_sensitivity_label(labelled) == Sensitivity.CONFIDENTIAL


async def test_confidential_document_goes_in_house(labelled: Path) -> None:
    partner, inhouse, models = cards()
    orc = Orchestrator(models=models, plugins=[DocumentPlugin])
    result = await orc.invoke("document.summarize", path=str(labelled))
    assert result.models == ["inhouse"] and partner.calls == [] and inhouse.calls
    decision = result.calls[0].decision
    assert decision.requirements.sensitivity == Sensitivity.CONFIDENTIAL
    assert any(r.model == "partner" and r.constraint == "clearance" for r in decision.rejections)
    assert all(c.sensitivity == Sensitivity.CONFIDENTIAL for c in inhouse.calls)


async def test_unlabelled_document_may_go_to_the_partner(tmp_path: Path) -> None:
    partner, _, models = cards()
    orc = Orchestrator(models=models, plugins=[DocumentPlugin])
    result = await orc.invoke("document.summarize", path=str(build_rich(tmp_path / "plain.docx")))
    assert "partner" in result.calls[0].decision.order and partner.calls


async def test_confidential_document_with_only_a_partner_has_no_route(labelled: Path) -> None:
    partner, _, models = cards()
    orc = Orchestrator(models=[models[0]], plugins=[DocumentPlugin])
    with pytest.raises(NoRouteError):
        await orc.invoke("document.ask", path=str(labelled), question="What changed?")
    assert partner.calls == []


async def test_compare_takes_the_higher_label_of_both_files(tmp_path: Path) -> None:
    plain = build_rich(tmp_path / "plain.docx")
    changed = docx.Document(str(plain))
    changed.add_paragraph("A new confidential paragraph.")
    changed.save(str(tmp_path / "v2.docx"))
    labelled = add_label(tmp_path / "v2.docx", tmp_path / "v2-labelled.docx")
    partner, _, models = cards()
    orc = Orchestrator(models=models, plugins=[DocumentPlugin])
    result = await orc.invoke("document.compare", path=str(plain), other=str(labelled))
    assert result.models == ["inhouse"] and partner.calls == []

"""The README's main job (examples/demo.py) runs end to end with an injected model."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from dualtrack import ModelCard, Orchestrator
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.testing import FunctionConnector, model_card
from tests.e2e.test_document_examples import load
from tests.plugins.document._fake import smart_reply

pytestmark = pytest.mark.slow


async def test_demo_summarizes_and_explains_routing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = model_card(
        FunctionConnector(smart_reply), name="embedded", capabilities={"chat", "json", "summarize"}
    )
    partner = ModelCard(
        name="gpt-4o-mini",
        track="partner",
        capabilities={"chat", "summarize"},
        enabled=False,
        disabled_reason="OPENAI_API_KEY not set",
    )
    orc = Orchestrator(models=[local, partner], plugins=[DocumentPlugin])
    assert await load("demo").main(orc=orc, out=tmp_path) == 0
    printed = capsys.readouterr().out
    assert "Model catalog:" in printed and "Summary (" in printed
    assert "embedded                 chosen" in printed
    assert "gpt-4o-mini              rejected: disabled (OPENAI_API_KEY not set)" in printed
    summary = tmp_path / "quarterly-report.summary.docx"
    assert docx.Document(str(summary)).paragraphs[0].text

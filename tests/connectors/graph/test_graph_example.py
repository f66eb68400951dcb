"""examples/m365_drive_item.py against the fake Graph, configured the way a user would (dualtrack.toml)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import docx
import pytest

from dualtrack import Orchestrator
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.testing import FunctionConnector, model_card
from tests.connectors.graph.fake_graph import SITE_DRIVE, SITE_HOST, FakeGraph
from tests.plugins.document._fake import smart_reply
from tests.plugins.document._samples import build_rich

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "m365_drive_item.py"
TOKEN = "eyJ0-static-graph-token-for-the-example-91"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_m365_drive_item", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_example_on_a_sharepoint_file_configured_in_dualtrack_toml(
    graph: FakeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    graph.valid_tokens.add(TOKEN)
    graph.add(
        "Q3/q3.docx", build_rich(tmp_path / "q3.docx").read_bytes(), drive=SITE_DRIVE, label_id="b8f0-conf"
    )
    monkeypatch.setenv("GRAPH_TOKEN_FOR_EXAMPLE", TOKEN)
    config = tmp_path / "dualtrack.toml"
    config.write_text(
        f'[labels]\nids = {{ "b8f0-conf" = "confidential" }}\n\n'
        f'[[file_sources]]\nsource = "m365"\ngraph_url = "{graph.graph_url}"\n'
        'access_token = "${GRAPH_TOKEN_FOR_EXAMPLE}"\n'
    )
    card = model_card(FunctionConnector(smart_reply), name="inhouse")
    orc = Orchestrator.from_config(config, models=[card], plugins=[DocumentPlugin])
    ref = f"sharepoint://{SITE_HOST}/sites/Finance/Documents/Q3/q3.docx"
    assert await load().main(ref, orc=orc) == 0
    out = capsys.readouterr().out
    assert f"sharepoint://{SITE_HOST}/sites/Finance/Documents/Q3/q3.summary.docx" in out
    assert f"sharepoint://{SITE_HOST}/sites/Finance/Documents/Q3/q3.suggested.docx" in out
    assert "confidential data" in out and TOKEN not in out
    assert graph.names(SITE_DRIVE) == ["Q3/q3.docx", "Q3/q3.suggested.docx", "Q3/q3.summary.docx"]
    saved = tmp_path / "back.docx"
    saved.write_bytes(graph.file("Q3/q3.summary.docx", SITE_DRIVE).content or b"")  # type: ignore[union-attr]
    assert docx.Document(str(saved)).paragraphs


async def test_example_reports_an_unknown_reference(capsys: pytest.CaptureFixture[str]) -> None:
    orc = Orchestrator(models=[model_card(FunctionConnector(smart_reply))], plugins=[DocumentPlugin])
    assert await load().main("gdrive:/q3.docx", orc=orc) == 1
    assert "no file source handles 'gdrive' references" in capsys.readouterr().out

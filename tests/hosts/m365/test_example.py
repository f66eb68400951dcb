"""examples/m365_package.py builds a package that Microsoft's schemas accept."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from tests.hosts.examples import load_example

from . import schemas
from .support import orchestrator


def test_the_example_writes_a_package_with_its_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = load_example("m365_package").main(
        "https://dualtrack.example.com",
        tmp_path / "app.zip",
        mcp_url="https://dualtrack.example.com/mcp",
        orc=orchestrator(),
    )
    out = capsys.readouterr().out
    assert "Dualtrack: " in out and "functions, conversation starters:" in out
    assert "ledger.record (whole skill)" not in out and "-> offered whole through the MCP host" in out
    assert (tmp_path / "app.report.md").read_text(encoding="utf-8") == report.render()
    assert "ledger_record" in report.mcp_functions and "document_summarize" in report.functions
    found = schemas.schema_dir()
    if isinstance(found, str):
        pytest.skip(f"Microsoft's manifest schemas are not available: {found}")
    with zipfile.ZipFile(tmp_path / "app.zip") as archive:
        for name, schema in [
            ("manifest.json", "teams/v1.27/MicrosoftTeams.schema.json"),
            ("declarativeAgent.json", "copilot/declarative-agent/v1.8/schema.json"),
            ("ai-plugin.json", "copilot/plugin/v2.4/schema.json"),
        ]:
            assert schemas.errors(found, schema, json.loads(archive.read(name))) == [], name

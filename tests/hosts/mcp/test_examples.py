"""The MCP example and the desktop configuration snippet, exercised as users would."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.connectors.servers.fault import FaultServer
from tests.hosts.examples import EXAMPLES, load_example

from .test_transports import child_env

pytestmark = pytest.mark.slow  # subprocesses (and npm for the Inspector)

SNIPPET = EXAMPLES / "mcp_desktop_config.json"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    pytest.importorskip("docx")
    server = FaultServer().start()
    path = tmp_path / "dualtrack.toml"
    path.write_text(
        'plugins = ["document"]\nledger = "memory"\n[[models]]\n'
        'name = "loopback"\ntrack = "in-house"\nclearance = "highly-confidential"\nconnector = "openai"\n'
        'capabilities = ["chat", "json", "summarize", "rewrite", "extract", "long-context"]\n'
        f'settings = {{ base_url = "{server.url}", model = "ok", api_key = "loopback-key" }}\n',
        encoding="utf-8",
    )
    yield path
    server.stop()


async def test_mcp_client_example(tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("mcp_client")
    out = tmp_path / "out"
    assert await example.main(out=out, config=str(config)) == 0
    printed = capsys.readouterr().out
    assert "server asks: Allow document.summarize to change files?" in printed
    assert "Saved to:" in printed and list(out.glob("quarterly-report.*.docx"))


def test_desktop_snippet_is_what_dualtrack_mcp_accepts() -> None:
    entry = json.loads(SNIPPET.read_text(encoding="utf-8"))["mcpServers"]["dualtrack"]
    assert entry["command"] == "dualtrack" and entry["args"][0] == "mcp"
    from dualtrack._cli._main import _parser

    args = _parser().parse_args(entry["args"])
    assert args.command == "mcp" and args.root == ["~/Documents"] and args.max_sensitivity == "confidential"


def test_inspector_cli_lists_and_calls_tools(tmp_path: Path, config: Path) -> None:
    npx = shutil.which("npx")
    if npx is None or shutil.which("node") is None:
        pytest.skip("node/npx are not installed: the MCP Inspector CLI needs them")
    docs = tmp_path / "docs"
    docs.mkdir()
    from tests.e2e.test_labels import make_docx

    report = make_docx(docs / "report.docx", "Revenue grew in the north.")
    entry = json.loads(SNIPPET.read_text(encoding="utf-8"))["mcpServers"]["dualtrack"]
    args = [a if a != "~/Documents" else str(docs) for a in entry["args"]]
    entry = {  # the snippet, with this test's interpreter and configuration
        "command": sys.executable,
        "args": ["-m", "dualtrack._cli", "--config", str(config), *args, "--allow-writes"],
        "env": child_env(),
    }
    inspector_config = tmp_path / "mcp.json"
    inspector_config.write_text(json.dumps({"mcpServers": {"dualtrack": entry}}), encoding="utf-8")
    base = [
        npx,
        "--yes",
        "@modelcontextprotocol/inspector@0.15.0",  # pinned: the CLI flags this test uses
        "--cli",
        "--config",
        str(inspector_config),
        "--server",
        "dualtrack",
    ]

    def run(*extra: str) -> dict:
        try:
            done = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            pytest.skip("the MCP Inspector did not install from the npm registry in time")
        if done.returncode != 0 and "npm ERR" in done.stderr:
            pytest.skip(f"the MCP Inspector could not be installed: {done.stderr[-300:]}")
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    listed = run("--method", "tools/list")
    names = {t["name"] for t in listed["tools"]}
    assert {"document_summarize", "document_ask"} <= names
    called = run(
        "--method", "tools/call", "--tool-name", "document_summarize", "--tool-arg", f"path={report}"
    )
    assert called.get("isError") is not True, called
    assert called["structuredContent"]["summary"]

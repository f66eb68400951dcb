"""``dualtrack m365 package``: the app package checked against Microsoft's published schemas.

The package is built from the built-in plugins and a third-party plugin with a
nested-object parameter, unzipped, and every manifest validated with a validator
that honours ``const`` (see ``schemas.py``).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")

from jsonschema import Draft4Validator
from openapi_spec_validator import validate as validate_openapi

from dualtrack._cli import _main
from dualtrack.hosts.m365 import AgentPackageError, PackageOptions, build_package, png_size

from . import schemas
from .support import orchestrator, png_pixels

APP = "teams/v1.27/MicrosoftTeams.schema.json"
AGENT = "copilot/declarative-agent/v1.8/schema.json"
PLUGIN = "copilot/plugin/v2.4/schema.json"
BASE = "https://dualtrack.example.com"
MCP = "https://dualtrack.example.com/mcp"
FUNCTION = re.compile(r"^[A-Za-z0-9_]+$")


@pytest.fixture(scope="session")
def schema_base() -> Path:
    found = schemas.schema_dir()
    if isinstance(found, str):
        pytest.skip(f"Microsoft's manifest schemas are not available: {found}")
    return found


def build(tmp_path: Path, **over: Any) -> tuple[dict[str, Any], Any]:
    options = PackageOptions(name="Dualtrack", base_url=BASE, **over)
    report = build_package(orchestrator(), tmp_path / "app.zip", options)
    with zipfile.ZipFile(tmp_path / "app.zip") as archive:
        files = {
            name: (json.loads(archive.read(name)) if name.endswith(".json") else archive.read(name))
            for name in archive.namelist()
        }
    return files, report


@pytest.fixture
def package(tmp_path: Path) -> tuple[dict[str, Any], Any]:
    return build(tmp_path, api_key_registration="reg-0123456789")


def body_keywords(node: Any) -> set[str]:
    """Every key used anywhere in a schema (nested objects show up as 'properties' below the top)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key == "properties":
                for sub in value.values():
                    found |= {f"nested:{k}" for k in body_keywords(sub) if k == "properties"}
                    found |= body_keywords(sub)
            else:
                found |= body_keywords(value)
    elif isinstance(node, list):
        for value in node:
            found |= body_keywords(value)
    return found


def test_every_manifest_validates_against_microsofts_schemas(package, schema_base) -> None:
    files, _ = package
    assert sorted(files) == sorted(
        [
            "manifest.json",
            "declarativeAgent.json",
            "ai-plugin.json",
            "openapi.json",
            "color.png",
            "outline.png",
        ]
    )
    assert schemas.errors(schema_base, APP, files["manifest.json"]) == []
    assert schemas.errors(schema_base, AGENT, files["declarativeAgent.json"]) == []
    assert schemas.errors(schema_base, PLUGIN, files["ai-plugin.json"]) == []
    validate_openapi(files["openapi.json"])
    manifest = files["manifest.json"]
    assert manifest["manifestVersion"] == "1.27"
    assert manifest["copilotAgents"]["declarativeAgents"] == [
        {"id": "declarativeAgent", "file": "declarativeAgent.json"}
    ]
    agent = files["declarativeAgent.json"]
    assert agent["version"] == "v1.8" and agent["actions"] == [
        {"id": "dualtrackPlugin", "file": "ai-plugin.json"}
    ]
    assert 1 <= len(agent["conversation_starters"]) <= 12
    assert (
        "document_summarize (changes files)" in agent["instructions"] and len(agent["instructions"]) <= 8000
    )
    assert files["ai-plugin.json"]["schema_version"] == "v2.4"
    assert files["openapi.json"]["openapi"] == "3.0.3"
    assert files["openapi.json"]["servers"] == [{"url": BASE}]


@pytest.mark.parametrize(
    ("schema", "name", "key", "wrong"),
    [
        (PLUGIN, "ai-plugin.json", "schema_version", "v2.3"),
        (AGENT, "declarativeAgent.json", "version", "v1.7"),
        (APP, "manifest.json", "manifestVersion", "1.26"),
    ],
)
def test_a_wrong_schema_version_fails_where_a_draft4_validator_would_pass(
    package, schema_base, schema, name, key, wrong
) -> None:
    doc = dict(package[0][name], **{key: wrong})
    assert schemas.errors(schema_base, schema, doc) == [f"{key}: {package[0][name][key]!r} was expected"]
    # the schemas say draft-04, whose validator ignores `const`: it would pass the wrong version
    assert list(Draft4Validator(schemas.load(schema_base, schema)).iter_errors(doc)) == []


def test_function_names_are_the_operation_ids_and_bodies_are_flat(package) -> None:
    files, report = package
    plugin, openapi = files["ai-plugin.json"], files["openapi.json"]
    ops = {op["operationId"]: op for item in openapi["paths"].values() for op in item.values()}
    (runtime,) = plugin["runtimes"]
    assert runtime["type"] == "OpenApi" and runtime["spec"]["url"] == "openapi.json"
    assert runtime["auth"] == {"type": "ApiKeyPluginVault", "reference_id": "reg-0123456789"}
    names = [f["name"] for f in plugin["functions"]]
    assert sorted(names) == sorted(ops) == sorted(runtime["run_for_functions"]) == sorted(report.functions)
    assert all(FUNCTION.match(n) for n in names)
    assert {"document_summarize", "spreadsheet_profile", "code_review", "ledger_search"} <= set(names)
    for op_id, op in ops.items():
        body = op["requestBody"]["content"]["application/json"]["schema"]
        used = body_keywords(body)
        assert not used & {"oneOf", "anyOf", "allOf", "$ref", "nested:properties"}, (op_id, used)
        for prop in body["properties"].values():
            assert prop["type"] in {"string", "integer", "number", "boolean", "array"}, op_id
            if prop["type"] == "array":
                assert prop["items"]["type"] in {"string", "integer", "number", "boolean"}
        assert set(op.get("responses", {})["200"]["content"]) == {"application/json"}
    assert openapi["security"] == [{"bearer": []}]


def test_writes_are_consequential_with_a_confirmation_card_and_reads_are_not(package) -> None:
    files, _ = package
    orc = orchestrator()
    ops = {op["operationId"]: op for item in files["openapi.json"]["paths"].values() for op in item.values()}
    functions = {f["name"]: f for f in files["ai-plugin.json"]["functions"]}
    writes = 0
    for skill in orc.registry.skills():
        name = f"{skill.plugin}_{skill.name}"
        if name not in functions:
            continue
        caps = functions[name]["capabilities"]
        if skill.effects == "write":
            writes += 1
            assert ops[name]["x-openai-isConsequential"] is True
            assert caps["confirmation"]["type"] == "AdaptiveCard" and caps["confirmation"]["body"]
            assert "ResourceStateUpdate" in caps["security_info"]["data_handling"]
        else:
            assert ops[name]["x-openai-isConsequential"] is False
            assert "confirmation" not in caps
            assert caps["security_info"]["data_handling"] == ["GetPrivateData"]
    assert writes >= 10


def test_summaries_and_extracted_tables_get_result_cards(package) -> None:
    functions = {f["name"]: f for f in package[0]["ai-plugin.json"]["functions"]}
    summary = functions["document_summarize"]["capabilities"]["response_semantics"]
    card = summary["static_template"]
    assert summary["data_path"] == "$" and card["type"] == "AdaptiveCard"
    texts = json.dumps(card)
    assert "${value.summary}" in texts and "${value.bullets}" in texts and "${sensitivity}" in texts
    table = functions["document_extract"]["capabilities"]["response_semantics"]["static_template"]
    (grid,) = [b for b in table["body"] if b["type"] == "Table"]
    assert grid["rows"][1]["$data"] == "${value.data.items}"
    assert functions["ledger_search"]["capabilities"]["response_semantics"]["static_template"]["body"][1][
        "text"
    ] == ("${value.summary}")


def test_what_copilot_cannot_send_is_left_out_and_reported(package, tmp_path) -> None:
    files, report = package
    left = {(i.skill, i.parameter): i.reason for i in report.left_out}
    assert "nested object" in left[("ledger.search", "filter")]
    assert "nested object" in left[("ledger.record", None)]
    assert "several shapes" in left[("ledger.tag", None)]
    assert "free-form JSON object" in left[("document.extract", "json_schema")]
    body = files["openapi.json"]["paths"]["/v1/skills/ledger.search"]["post"]["requestBody"]["content"]
    props = body["application/json"]["schema"]["properties"]
    assert sorted(props) == ["accounts", "limit", "order", "text"]
    assert props["order"] == {
        "type": "string",
        "enum": ["newest", "largest"],
        "description": "How to sort them.",
        "default": "newest",
    }
    assert "/v1/skills/ledger.record" not in files["openapi.json"]["paths"]
    assert "ledger.search" in report.flattened and "ledger_record" not in report.functions
    written = (tmp_path / "app.report.md").read_text(encoding="utf-8")
    assert written == report.render()
    assert "- ledger.search.filter: it is a nested object" in written
    assert "- ledger.record (whole skill): required parameter 'entry' is a nested object" in written


def test_an_mcp_url_offers_the_skills_that_would_lose_arguments_through_the_mcp_host(
    tmp_path, schema_base
) -> None:
    files, report = build(tmp_path, mcp_url=MCP)
    plugin = files["ai-plugin.json"]
    assert schemas.errors(schema_base, PLUGIN, plugin) == []
    openapi_rt, mcp_rt = plugin["runtimes"]
    assert mcp_rt["type"] == "RemoteMCPServer" and mcp_rt["spec"]["url"] == MCP
    tools = {t["name"]: t for t in mcp_rt["spec"]["mcp_tool_description"]["tools"]}
    assert (
        sorted(tools)
        == sorted(mcp_rt["run_for_functions"])
        == [
            "document_extract",
            "ledger_record",
            "ledger_search",
            "ledger_tag",
        ]
    )
    assert "entry" in tools["ledger_record"]["inputSchema"]["properties"]  # whole arguments over MCP
    assert tools["ledger_record"]["annotations"]["readOnlyHint"] is False
    assert not set(openapi_rt["run_for_functions"]) & set(mcp_rt["run_for_functions"])
    functions = {f["name"]: f for f in plugin["functions"]}
    assert functions["ledger_record"]["capabilities"]["confirmation"]["type"] == "AdaptiveCard"
    assert "confirmation" not in functions["ledger_search"]["capabilities"]
    assert all(i.via_mcp for i in report.left_out)
    assert "-> offered whole through the MCP host" in report.render()
    validate_openapi(files["openapi.json"])


def test_icons_are_pngs_of_the_required_sizes(package) -> None:
    files, _ = package
    assert png_size(files["color.png"]) == (192, 192) and png_size(files["outline.png"]) == (32, 32)
    _, _, color = png_pixels(files["color.png"])
    assert all(p[3] == 255 for p in color)  # a fully solid square
    assert {p for p in color} >= {(255, 255, 255, 255), (0x2B, 0x6C, 0xB0, 255)}
    width, height, outline = png_pixels(files["outline.png"])
    assert (width, height) == (32, 32)
    assert set(outline) == {(255, 255, 255, 255), (0, 0, 0, 0)}  # white on transparent, nothing else
    assert 0.1 < outline.count((0, 0, 0, 0)) / len(outline) < 0.9
    opaque = [i for i, p in enumerate(outline) if p[3]]
    xs, ys = {i % 32 for i in opaque}, {i // 32 for i in opaque}
    assert (min(xs), max(xs), min(ys), max(ys)) == (0, 31, 0, 31)  # no padding around the symbol


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({"base_url": "http://dualtrack.example.com"}, "https"),
        ({"name": "A name far longer than thirty characters"}, "30 characters"),
        ({"mcp_url": "ftp://x"}, "--mcp-url"),
        ({"app_id": "not-a-guid"}, "GUID"),
        ({"version": "1.0"}, "MAJOR.MINOR.PATCH"),
        ({"accent_color": "blue"}, "#2B6CB0"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(tmp_path, over, words) -> None:
    options = PackageOptions(**{"name": "Dualtrack", "base_url": BASE, **over})
    with pytest.raises(AgentPackageError, match=re.escape(words)):
        build_package(orchestrator(), tmp_path / "app.zip", options)
    assert list(tmp_path.iterdir()) == []


def test_a_rebuild_replaces_the_zip_atomically_and_keeps_the_app_id(tmp_path) -> None:
    first, _ = build(tmp_path)
    (tmp_path / "app.zip").write_bytes(b"an older package")
    second, _ = build(tmp_path)
    assert first["manifest.json"]["id"] == second["manifest.json"]["id"]
    assert first == second  # same input, same package
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.report.md", "app.zip"]
    with pytest.raises(AgentPackageError, match=r"\.zip"):
        build_package(orchestrator(), tmp_path / "app.tar", PackageOptions(name="Dualtrack", base_url=BASE))


def test_the_cli_writes_the_package_and_prints_the_report(tmp_path, monkeypatch, capsys, schema_base) -> None:
    monkeypatch.chdir(tmp_path)
    code = _main.main(
        ["m365", "package", "--out", "app.zip", "--base-url", BASE, "--name", "Dualtrack", "--mcp-url", MCP]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Functions through the MCP host" in out and "wrote app.zip and app.report.md" in out
    with zipfile.ZipFile(tmp_path / "app.zip") as archive:
        agent = json.loads(archive.read("declarativeAgent.json"))
    assert schemas.errors(schema_base, AGENT, agent) == []
    code = _main.main(["m365", "package", "--out", "b.zip", "--base-url", "http://x.example", "--name", "D"])
    err = capsys.readouterr().err
    assert code == 1 and "https://" in err and not (tmp_path / "b.zip").exists()

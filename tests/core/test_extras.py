"""A slim install routes and calls models; what an extra adds says how to install it.

The fast tests check pyproject's extras against the table the core uses for its
``pip install 'dualtrack[...]'`` hints, and that a missing extra makes a plugin
unavailable with that line. The slow test installs the working tree without extras
into a fresh venv and uses it the way a host that only routes model calls would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

from dualtrack import MissingDependencyError, Orchestrator
from dualtrack._cli import _console, _main
from dualtrack._model._discovery import EXTRAS, install_hint
from tests.connectors.servers.fault import TEXT, FaultServer

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
OPTIONAL = PYPROJECT["project"]["optional-dependencies"]
HEAVY = {dist for _, dist in EXTRAS.values()}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def test_core_dependencies_hold_nothing_an_extra_provides() -> None:
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert core == {"pydantic", "httpx", "opentelemetry-api", "platformdirs", "jsonschema"}
    assert not core & HEAVY


def test_every_known_module_names_an_extra_that_installs_it() -> None:
    for module, (extra, dist) in EXTRAS.items():
        assert dist in {_name(r) for r in OPTIONAL[extra]}, (module, extra)
        assert install_hint(module) == f"pip install 'dualtrack[{extra}]'"
    assert install_hint("docx.oxml.ns") == "pip install 'dualtrack[document]'"
    assert install_hint("leftpad") == "pip install the package that provides 'leftpad'"


def test_all_is_every_extra_and_dev_installs_all() -> None:
    (everything,) = OPTIONAL["all"]
    listed = set(re.fullmatch(r"dualtrack\[(.*)\]", everything).group(1).split(","))  # type: ignore[union-attr]
    assert listed == set(OPTIONAL) - {"all", "dev", "server"}
    assert any(r.startswith("dualtrack[all") for r in OPTIONAL["dev"])


@pytest.fixture
def without_docx(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-docx as if it were not installed (the document plugin is imported afresh)."""
    for name in [
        m for m in sys.modules if m == "docx" or m.startswith(("docx.", "dualtrack.plugins.document"))
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "docx", None)  # `import docx` raises ModuleNotFoundError


async def test_a_plugin_whose_extra_is_missing_is_unavailable_with_the_install_line(
    without_docx: None,
) -> None:
    orc = Orchestrator(plugins=None)  # every installed plugin
    assert "document" not in [p.name for p in orc.registry] and "code" in [p.name for p in orc.registry]
    assert orc.plugin_errors["document"] == (
        "plugin 'document' is unavailable: it needs 'docx', which is not installed; "
        "run `pip install 'dualtrack[document]'`"
    )
    with pytest.raises(MissingDependencyError) as info:
        await orc.invoke("document.summarize", path="report.docx")
    assert info.value.install == "pip install 'dualtrack[document]'" and info.value.module == "docx"


@pytest.mark.parametrize("rich", [True, False])
def test_the_cli_lists_it_and_refuses_to_run_it_with_the_install_line(
    without_docx: None, rich: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setattr(_console, "HAS_RICH", rich)
    monkeypatch.setattr(_main, "_orchestrator", lambda args: Orchestrator(plugins=None))
    assert _main.main(["plugins"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "document.*" in line)
    assert "unavailable" in row and "pip install 'dualtrack[document]'" in row
    assert _main.main(["run", "document.summarize", "--arg", "path=report.docx"]) == 1
    err = capsys.readouterr().err
    assert "error: plugin 'document' is unavailable" in err and "pip install 'dualtrack[document]'" in err
    assert "RuntimeError" not in err


# -- a fresh venv, no extras ----------------------------------------------------------

SLIM_SCRIPT = """
import importlib.util, json, sys, time
t0 = time.perf_counter()
import dualtrack
import_s = time.perf_counter() - t0
from dualtrack import ModelCard, Orchestrator, Policy, Requirements, Router, Sensitivity

absent = [m for m in ("docx", "openpyxl", "libcst", "msal", "rich", "aiohttp", "llama_cpp", "formulas")
          if importlib.util.find_spec(m) is not None]
cards = [
    ModelCard(name="partner", track="partner", clearance="general", capabilities=["chat"],
              connector="openai", settings={"base_url": sys.argv[1], "model": "ok", "api_key": "sk-slim-test-key-123"}),
    ModelCard(name="inhouse", track="in-house", clearance="highly-confidential", capabilities=["chat"],
              connector="openai", settings={"base_url": sys.argv[1], "model": "ok"}),
]
decision = Router(cards, Policy()).route(Requirements(requires=frozenset({"chat"}), sensitivity=Sensitivity.CONFIDENTIAL))
orc = Orchestrator(models=cards, plugins=[])
import asyncio
async def call():
    try:
        return await orc.generate("Say hello", sensitivity="confidential")
    finally:
        await orc.aclose()
res = asyncio.run(call())
print(json.dumps({"import_s": import_s, "installed_heavy": absent, "order": decision.order,
                  "value": res.value, "model": res.calls[0].model}))
"""


@pytest.mark.slow
def test_slim_install_routes_and_calls_a_model_and_names_missing_extras(tmp_path: Path) -> None:
    src = tmp_path / "src"  # a copy, so building leaves nothing in the working tree
    for part in PYPROJECT["tool"]["setuptools"]["package-dir"].values():
        shutil.copytree(ROOT / part, src / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, src / part)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DUALTRACK_", "OPENAI_", "AZURE_", "PYTHON"))
    }
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(src)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    if install.returncode != 0 and "No matching distribution" in install.stderr + install.stdout:
        pytest.skip(f"the package index is unreachable: {install.stderr[-300:]}")
    assert install.returncode == 0, install.stderr[-2000:]

    server = FaultServer().start()
    try:
        run = subprocess.run(
            [str(py), "-c", SLIM_SCRIPT, server.url], capture_output=True, text=True, timeout=120, env=env
        )
    finally:
        server.stop()
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["installed_heavy"] == []
    assert got["order"] == ["inhouse"]  # confidential data: the partner is rejected by clearance
    assert got["value"] == TEXT and got["model"] == "inhouse"

    work = tmp_path / "work"
    work.mkdir()
    exe = env_dir / "bin" / "dualtrack"
    plugins = subprocess.run(
        [str(exe), "plugins"], capture_output=True, text=True, timeout=120, cwd=work, env=env
    )
    assert plugins.returncode == 0, plugins.stderr
    rows = {line.split()[0]: line for line in plugins.stdout.splitlines() if line.strip()}
    for name, extra in (("document", "document"), ("spreadsheet", "spreadsheet"), ("code", "code")):
        assert "unavailable" in rows[f"{name}.*"] and f"pip install 'dualtrack[{extra}]'" in rows[f"{name}.*"]
    models = subprocess.run(
        [str(exe), "models"], capture_output=True, text=True, timeout=120, cwd=work, env=env
    )
    assert models.returncode == 0, models.stderr
    assert "pip install 'dualtrack[local]'" in models.stdout and "OPENAI_API_KEY not set" in models.stdout
    run_doc = subprocess.run(
        [str(exe), "run", "document.summarize", "--arg", "path=x.docx"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=work,
        env=env,
    )
    assert run_doc.returncode == 1 and "pip install 'dualtrack[document]'" in run_doc.stderr

    size_mb = sum(f.stat().st_size for f in env_dir.rglob("*") if f.is_file()) / 1e6
    print(f"\nslim venv: {size_mb:.0f} MB, import dualtrack {got['import_s'] * 1000:.0f} ms")

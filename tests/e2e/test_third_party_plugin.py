"""A third-party package, installed with entry points, works through the real CLI."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PLUGIN = '''
"""A third party's plugin and connector."""
from dualtrack import ModelCard, SkillContext, plugin, skill
from dualtrack.testing import ScriptedConnector


@plugin("greeter", description="Greets people.")
class Greeter:
    @skill(requires=["chat"])
    async def hello(self, ctx: SkillContext, name: str, shout: bool = False) -> str:
        """Greet someone by name.

        Args:
            name: Who to greet.
            shout: Upper-case the greeting.
        """
        text = (await ctx.generate(f"Greet {name}")).text
        return text.upper() if shout else text


def make_connector(card: ModelCard) -> ScriptedConnector:
    return ScriptedConnector(card.settings["replies"], repeat_last=True)
'''

ENTRY_POINTS = """
[dualtrack.plugins]
greeter = acme_greeter:Greeter

[dualtrack.connectors]
scripted = acme_greeter:make_connector
"""

CONFIG = """
plugins = ["greeter"]

[[models]]
name = "acme-scripted"
track = "in-house"
connector = "scripted"
capabilities = ["chat"]
clearance = "confidential"
settings = { replies = ["Hello, Ada!"] }

[[models]]
name = "gpt-cloud"
track = "partner"
connector = "openai"
capabilities = ["chat"]
settings = { api_key = "${ACME_TEST_KEY_NOT_SET}" }
"""


@pytest.fixture
def installed(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_greeter.py").write_text(PLUGIN)
    dist = site / "acme_greeter-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-greeter\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS))
    work = tmp_path / "work"
    work.mkdir()
    (work / "dualtrack.toml").write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if k != "DUALTRACK_CONFIG"}
    env["PYTHONPATH"] = str(site)
    env["COLUMNS"] = "200"

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "dualtrack._cli", *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def test_plugin_shows_up_and_runs(installed):
    out = installed("plugins")
    assert out.returncode == 0, out.stderr
    assert "greeter.hello" in out.stdout and "chat" in out.stdout

    out = installed("run", "greeter.hello", "--arg", "name=Ada", "--arg", "shout=true")
    assert out.returncode == 0, out.stderr
    assert "HELLO, ADA!" in out.stdout
    assert "acme-scripted" in out.stdout and "chosen" in out.stdout
    assert "gpt-cloud" in out.stdout and "ACME_TEST_KEY_NOT_SET not set" in out.stdout

    out = installed("run", "greeter.hello", "--arg", "name=Ada", "--json")
    data = json.loads(out.stdout)
    assert data["value"] == "Hello, Ada!" and data["calls"][0]["model"] == "acme-scripted"


def test_cli_route_models_tools(installed):
    out = installed("route", "greeter.hello", "--sensitivity", "highly-confidential")
    assert out.returncode == 2
    assert "clearance confidential < highly-confidential" in out.stdout
    out = installed("models")
    assert "acme-scripted" in out.stdout and "disabled" in out.stdout
    out = installed("tools")
    tools = json.loads(out.stdout)
    assert tools[0]["function"]["name"] == "greeter-hello"


def test_cli_errors_are_one_line_with_hint(installed):
    out = installed("run", "greeter.helo", "--arg", "name=x")
    assert out.returncode == 1
    assert "Did you mean 'greeter.hello'" in out.stderr and "Traceback" not in out.stderr
    out = installed("run", "greeter.hello", "--arg", "nam=x")
    assert out.returncode == 1 and "name" in out.stderr and "Traceback" not in out.stderr
    out = installed("run", "greeter.hello", "--arg", "oops")
    assert out.returncode == 1 and "key=value" in out.stderr
    out = installed("--debug", "run", "greeter.helo")
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_cli_console_script_installed():
    exe = Path(sys.executable).with_name("dualtrack")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "route" in out.stdout

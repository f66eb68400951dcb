"""Make the skills installable in Microsoft 365 Copilot: a declarative agent with an API plugin.

Copilot calls the HTTP host (``dualtrack serve``) at a public https URL; this script
writes the app package that tells it how: ``manifest.json`` (the app), the declarative
agent (instructions and conversation starters derived from the plugins), the API
plugin (one function per skill, writes confirmed in a card, result cards for
summaries and extracted tables), the host's OpenAPI document cut down to what Copilot
can send, and the icons. What Copilot cannot send (a nested object, a choice between
types) is listed with the reason; ``--mcp-url`` offers those skills whole through the
MCP host instead.

Run: ``.venv/bin/python examples/m365_package.py --base-url https://dualtrack.example.com``
then sideload ``app.zip`` in Teams (Apps > Manage your apps > Upload an app) or give it
to your admin.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from dualtrack import Orchestrator
from dualtrack.hosts.m365 import PackageOptions, PackageReport, build_package


def main(
    base_url: str,
    out: Path = Path("app.zip"),
    *,
    name: str = "Dualtrack",
    mcp_url: str | None = None,
    orc: Orchestrator | None = None,
    config: Path | None = None,
) -> PackageReport:
    orc = orc or Orchestrator.from_config(config)
    report = build_package(orc, out, PackageOptions(name=name, base_url=base_url, mcp_url=mcp_url))
    print(report.render())
    with zipfile.ZipFile(out) as archive:
        agent = json.loads(archive.read("declarativeAgent.json"))
        plugin = json.loads(archive.read("ai-plugin.json"))
    print(f"{agent['name']}: {len(plugin['functions'])} functions, conversation starters:")
    for starter in agent.get("conversation_starters", [])[:4]:
        print(f"  - {starter['text']}")
    print(f"Sideload {out} in Teams, or upload it in the Microsoft 365 admin center (Integrated apps).")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", required=True, help="the HTTP host's public https URL")
    parser.add_argument("--out", type=Path, default=Path("app.zip"))
    parser.add_argument("--name", default="Dualtrack")
    parser.add_argument("--mcp-url", help="the MCP host's public https URL")
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    main(args.base_url, args.out, name=args.name, mcp_url=args.mcp_url, config=args.config)
    sys.exit(0)

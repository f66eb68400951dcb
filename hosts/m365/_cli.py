"""``dualtrack m365 package``: build the Microsoft 365 Copilot agent package from the skills."""

from __future__ import annotations

import sys
from pathlib import Path

from dualtrack import Orchestrator

from ._options import PackageOptions
from ._package import build_package

__all__ = ["run_cli"]


def run_cli(
    *,
    config: str | None = None,
    out: str,
    base_url: str,
    name: str,
    mcp_url: str | None = None,
    description: str | None = None,
    app_id: str | None = None,
    version: str = "1.0.0",
    developer: str = "dualtrack",
    accent_color: str = "#2B6CB0",
    api_key_registration: str | None = None,
) -> int:
    """Build the package of the configured orchestrator's skills and print its report.

    Args:
        config: ``dualtrack.toml``; ``None`` searches the working directory.
        out: The .zip to write; the report goes next to it (``<name>.report.md``).
        base_url: The HTTP host's public https URL.
        name: The agent's name (at most 30 characters).
        mcp_url: The MCP host's public https URL, for skills Copilot's API plugins
            cannot call with all their arguments.
        description: What the agent does (default: from the plugins).
        app_id: The app's GUID (default: derived from the name and base URL).
        version: The app's version.
        developer: The developer's name shown in the store.
        accent_color: The colour icon's background.
        api_key_registration: The id of the service's API key registered in the Teams
            developer portal.

    Returns:
        The exit status (0: written).
    """
    orc = Orchestrator.from_config(config)
    for plugin, problem in orc.plugin_errors.items():
        print(f"warning: plugin {plugin!r} skipped: {problem}", file=sys.stderr)
    options = PackageOptions(
        name=name,
        base_url=base_url,
        mcp_url=mcp_url,
        description=description,
        app_id=app_id,
        version=version,
        developer=developer,
        accent_color=accent_color,
        api_key_registration=api_key_registration,
    )
    report = build_package(orc, Path(out), options)
    print(report.render(), end="")
    print(f"wrote {report.path} and {report.report_path}")
    return 0

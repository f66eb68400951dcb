"""``dualtrack mcp``: serve every skill over MCP (stdio, or streamable HTTP on loopback).

Standard output belongs to the protocol in stdio mode: everything else goes to
standard error.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from dualtrack import Orchestrator, Sensitivity

from ._http import serve_http
from ._server import McpServer

__all__ = ["run_cli"]


def run_cli(
    *,
    config: str | None = None,
    http: int | None = None,
    roots: Sequence[str] = (),
    allow_writes: bool = False,
    max_sensitivity: str | None = None,
) -> int:
    """Run the MCP server until the client disconnects (stdio) or the process is stopped (HTTP).

    Args:
        config: ``dualtrack.toml``; ``None`` searches the working directory.
        http: Serve streamable HTTP on ``127.0.0.1`` at this port instead of stdio.
        roots: Folders file arguments must lie in (default: the working directory).
        allow_writes: Run write skills unconfirmed for clients that cannot ask the user.
        max_sensitivity: The highest sensitivity the server may return.

    Returns:
        The exit status.
    """
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    ceiling = Sensitivity.parse(max_sensitivity) if max_sensitivity else None
    overrides = {"roots": [Path(r) for r in roots]} if roots else {}  # else the config's, or the cwd
    orc = Orchestrator.from_config(config, **overrides)
    for name, problem in orc.plugin_errors.items():
        print(f"warning: plugin {name!r} skipped: {problem}", file=sys.stderr)
    server = McpServer(orc, allow_writes=allow_writes, max_sensitivity=ceiling)
    asyncio.run(_serve(orc, server, http))
    return 0


async def _serve(orc: Orchestrator, server: McpServer, http: int | None) -> None:
    try:
        if http is None:
            await server.run_stdio()
        else:

            def announce(port: int) -> None:
                print(f"MCP endpoint: http://127.0.0.1:{port}/mcp", file=sys.stderr, flush=True)

            await serve_http(server, http, ready=announce)
    finally:
        await orc.aclose()

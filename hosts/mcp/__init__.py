"""dualtrack over the Model Context Protocol (the ``mcp`` extra).

Both directions:

* **Server**: every skill of an orchestrator as an MCP tool, over stdio
  (``dualtrack mcp``) or streamable HTTP (``dualtrack mcp --http PORT``, or
  :class:`McpHttp` mounted in a host).
* **Client**: the tools of other MCP servers as dualtrack skills, declared as
  ``[[mcp_servers]]`` in ``dualtrack.toml`` (see :class:`McpServerConfig`).

Built on the ``mcp`` package, 1.x line (protocol revision 2025-11-25)::

    pip install 'dualtrack[mcp]'
"""

from __future__ import annotations

from dualtrack import MissingDependencyError

try:
    import mcp as _mcp  # noqa: F401 - checked here so every import below can rely on it
except ImportError as exc:  # pragma: no cover - exercised in a slim install
    raise MissingDependencyError("the MCP host", "mcp", "pip install 'dualtrack[mcp]'") from exc

from ._ceiling import CeilingError
from ._cli import run_cli
from ._client_config import McpServerConfig, parse_servers
from ._client_plugin import (
    McpClearanceError,
    McpClientPlugin,
    McpServerError,
    McpToolError,
    config_plugins,
    mcp_plugin,
)
from ._http import McpHttp, serve_http
from ._server import McpServer, WriteRefusedError
from ._tools import ToolSpec, tool_specs

__all__ = [
    "CeilingError",
    "McpClearanceError",
    "McpClientPlugin",
    "McpHttp",
    "McpServer",
    "McpServerConfig",
    "McpServerError",
    "McpToolError",
    "ToolSpec",
    "WriteRefusedError",
    "config_plugins",
    "mcp_plugin",
    "parse_servers",
    "run_cli",
    "serve_http",
    "tool_specs",
]

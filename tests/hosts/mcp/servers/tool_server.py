"""A small MCP server over stdio for the client tests, misbehaving on request.

Run as ``python tool_server.py``. ``MARKER_DIR`` (environment) is where it leaves
files that tell the test what happened (a cancelled call, a crash already done).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from mcp.server.fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations

READ = ToolAnnotations(readOnlyHint=True)
WRITE = ToolAnnotations(readOnlyHint=False, destructiveHint=True)
MARKERS = Path(os.environ.get("MARKER_DIR", "."))
server = FastMCP("test-tools", instructions="Lookup and note tools for tests.")


@server.tool(annotations=READ)
async def lookup(term: str, ctx: Context, limit: int = 3) -> dict[str, object]:
    """Look a term up in the glossary."""
    for i in range(1, 4):
        await ctx.report_progress(i, 3, f"step {i}")
    return {"term": term, "meaning": f"{term} means something", "limit": limit}


@server.tool(annotations=WRITE)
def save_note(text: str) -> str:
    """Save a note to the notes file."""
    with (MARKERS / "notes.txt").open("a", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return "saved"


@server.tool()
def mystery(x: int) -> int:
    """A tool that says nothing about its effects."""
    return x + 1


@server.tool(annotations=READ)
def whoami() -> str:
    """The token this server was started with."""
    return os.environ.get("TOKEN", "<none>")


@server.tool(annotations=READ)
async def hang() -> str:
    """Never answers (until cancelled)."""
    try:
        await asyncio.sleep(3600)
    except BaseException:
        (MARKERS / "hang-cancelled").write_text("yes")
        raise
    return "never"


@server.tool(annotations=READ)
def crash_once() -> str:
    """Exits the process the first time it is called."""
    marker = MARKERS / "crashed-once"
    if not marker.exists():
        marker.write_text("yes")
        os._exit(3)
    return "recovered"


@server.tool(annotations=READ)
def crash_always() -> str:
    """Exits the process every time."""
    os._exit(4)


@server.tool(annotations=WRITE)
def crash_write() -> str:
    """Exits the process during a write."""
    os._exit(5)


@server.tool(annotations=READ)
async def garbage() -> str:
    """Writes output that is not MCP, then nothing."""
    os.write(1, b"this is not JSON-RPC\n")
    await asyncio.sleep(3600)
    return "never"


@server.tool(annotations=READ)
async def flood(n: int, ctx: Context) -> str:
    """Sends n log messages and n progress notifications, then answers."""
    for i in range(n):
        await ctx.info(f"log {i}")
        await ctx.report_progress(i, n)
    return f"flooded {n}"


@server.tool(annotations=READ)
def fail() -> str:
    """Always fails."""
    raise ValueError("the glossary is offline\nsecond line")


if __name__ == "__main__":
    if "--exit-at-start" in sys.argv:
        sys.exit(1)
    server.run("stdio")

"""Use dualtrack's skills from an MCP client, the way a desktop assistant or IDE does.

Starts ``dualtrack mcp`` as a subprocess over stdio (exactly what the entry in
``examples/mcp_desktop_config.json`` makes a desktop client do), lists the tools,
then summarizes a sample report. The summary is saved next to the report, so the
server asks for confirmation first: this client answers the elicitation with yes.

Run: ``.venv/bin/python examples/mcp_client.py [--out DIR]`` (needs ``dualtrack[mcp,document]``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import run_with_out_dir
from _sample_docs import make_sample_docx


async def main(out: Path = Path("out"), config: str | None = None) -> int:
    from mcp import ClientSession, StdioServerParameters, types
    from mcp.client.stdio import stdio_client

    report = make_sample_docx(out / "quarterly-report.docx")
    command = [sys.executable, "-m", "dualtrack._cli", *(["--config", config] if config else []), "mcp"]
    params = StdioServerParameters(  # the server gets this environment: API keys, DUALTRACK_CONFIG ...
        command=command[0], args=[*command[1:], "--root", str(out.resolve())], env=dict(os.environ)
    )

    async def confirm(context: Any, request: types.ElicitRequestParams) -> types.ElicitResult:
        print(f"server asks: {request.message.splitlines()[0]} -> yes")
        return types.ElicitResult(action="accept", content={"confirm": True})

    async def progress(done: float, total: float | None, message: str | None) -> None:
        print(f"  {done:g}/{total or '?'} {message or ''}")

    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write, elicitation_callback=confirm) as client,
    ):
        await client.initialize()
        tools = (await client.list_tools()).tools
        print(f"{len(tools)} tools, e.g. " + ", ".join(t.name for t in tools[:4]))
        result = await client.call_tool(
            "document_summarize",
            {"path": str(report), "style": "bullets", "save": True},
            progress_callback=progress,
        )
    if result.isError:
        print("error: " + "".join(b.text for b in result.content if isinstance(b, types.TextContent)))
        return 1
    summary = result.structuredContent or {}
    print("\nSummary:\n" + str(summary.get("summary", "")))
    print(f"Saved to: {summary.get('output')}")
    return 0


if __name__ == "__main__":
    run_with_out_dir(main, __doc__)

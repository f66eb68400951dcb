"""Summarize a Word file in OneDrive or SharePoint, and suggest edits to it, without downloading it yourself.

The skills take the file's reference where they take a path; dualtrack fetches it
through Microsoft Graph into a private folder, the file's sensitivity label (as Graph
reports it, and inside the file) decides which models may see it, and the outputs are
uploaded next to the original: ``q3.summary.docx`` and ``q3.suggested.docx`` (a free
name is picked when one exists; the original is never overwritten).

Set up ``dualtrack.toml`` once (an app registration with Files.ReadWrite, delegated)::

    [[file_sources]]
    source = "m365"
    tenant_id = "${M365_TENANT_ID}"
    client_id = "${M365_CLIENT_ID}"
    auth = "device-code"

Run: ``.venv/bin/python examples/m365_drive_item.py onedrive:/Reports/q3.docx [--config dualtrack.toml]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import invoke_and_explain

from dualtrack import Orchestrator


async def main(ref: str, orc: Orchestrator | None = None, config: Path | None = None) -> int:
    orc = orc or Orchestrator.from_config(config)
    async with orc:
        summary = await invoke_and_explain(orc, "document.summarize", path=ref, style="bullets", save=True)
        if summary is None:
            return 1
        print(
            f"\nSummary ({summary.sensitivity} data, answered by {', '.join(summary.models) or 'no model'}):"
        )
        print(summary.value.summary)
        edits = await invoke_and_explain(
            orc, "document.suggest_edits", path=ref, instruction="plain, direct language", author="dualtrack"
        )
        if edits is None:
            return 1
    print("\nWritten next to the original:")
    for written in (*summary.outputs, *edits.outputs):
        print(f"  {written}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "ref", help="onedrive:/path, sharepoint://host/sites/Site/Library/path or a sharing link"
    )
    parser.add_argument("--config", type=Path, default=None, help="a dualtrack.toml (default: searched)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.ref, config=args.config)))

"""Call dualtrack over HTTP the way an editor add-in or a web app does.

Starts ``dualtrack serve`` on a free loopback port (or uses ``--url`` of a running
one), uploads a sample .docx, runs ``document.summarize`` with its progress over
Server-Sent Events, and downloads the summary .docx it wrote. Only ``httpx`` is
needed on the client side; the server needs ``dualtrack[http,document]``.

Run: ``.venv/bin/python examples/http_client.py [--out DIR] [--url URL --key KEY] [--config dualtrack.toml]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sample_docs import make_sample_docx


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(out: Path, config: str | None) -> tuple[subprocess.Popen[bytes], str]:
    """``dualtrack serve`` on loopback, its workspaces under ``out``; returns the process and its URL."""
    port = free_port()
    settings = out / "dualtrack-http.toml"  # the server's own settings: where uploads live
    settings.write_text('[http]\ndata_dir = "server-data"\n', encoding="utf-8")  # beside this file
    command = [sys.executable, "-m", "dualtrack._cli", *(["--config", config] if config else [])]
    command += ["serve", "--port", str(port), "--http-config", str(settings)]
    log = out / "server.log"
    with log.open("wb") as sink:  # its access log and messages
        proc = subprocess.Popen(command, env=dict(os.environ), stderr=sink)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            error = log.read_text(encoding="utf-8", errors="replace").strip()[-2000:]
            raise SystemExit(f"dualtrack serve stopped: {error}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("dualtrack serve did not become ready within 60 s")


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The Server-Sent Events of a streamed response, as ``(event, data)``."""
    name, data = "message", ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data += line[6:]
        elif not line and data:
            yield name, json.loads(data)
            name, data = "message", ""


async def summarize(client: httpx.AsyncClient, report: Path, out: Path) -> int:
    """Upload ``report``, summarize it with progress, download the summary .docx into ``out``."""
    with report.open("rb") as fh:
        up = await client.post("/v1/files", files={"file": (report.name, fh)})
    if up.status_code != 201:
        print(f"upload refused: {up.json()['detail']}")
        return 1
    stored = up.json()
    print(f"uploaded {stored['name']} ({stored['size']} bytes, label: {stored['sensitivity'] or 'none'})")
    body = {"path": stored["ref"], "style": "bullets", "save": True}
    result: dict[str, Any] | None = None
    async with client.stream("POST", "/v1/skills/document.summarize?stream=1", json=body) as resp:
        if resp.status_code != 200:
            await resp.aread()
            print(f"refused: {resp.json()['detail']}")
            return 1
        async for name, data in events(resp):
            if name == "progress":
                print(f"  [{data['done']}/{data['total']}] {data['message']}", flush=True)
            elif name == "result":
                result = data
            elif name == "error":
                print(f"failed ({data['type'].rsplit(':', 1)[-1]}): {data['detail']}")
                return 1
    if result is None:
        print("the stream ended without a result")
        return 1
    value = result["value"]
    print("\nSummary:\n" + str(value.get("summary", value)))
    models = sorted({c["model"] for c in result["calls"] if c["model"]})
    print(f"\nserved by {', '.join(models) or 'no model'} at sensitivity {result['sensitivity']}")
    for f in result["files"]:
        target = out / Path(f["name"]).name
        download = await client.get(f["download"])
        download.raise_for_status()
        target.write_bytes(download.content)
        print(f"Downloaded: {target}")
    return 0


async def main(
    out: Path = Path("out"), config: str | None = None, url: str | None = None, key: str | None = None
) -> int:
    """Run the example against ``url``, or against a ``dualtrack serve`` it starts with ``config``."""
    out.mkdir(parents=True, exist_ok=True)
    report = make_sample_docx(out / "quarterly-report.docx")
    proc = None
    if url is None:
        proc, url = start_server(out, config)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300) as client:
            skills = {s["name"] for s in (await client.get("/v1/skills")).json()}
            if "document.summarize" not in skills:
                print("the server has no document.summarize (install dualtrack[document] there)")
                return 1
            return await summarize(client, report, out)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="where the sample and the summary go")
    parser.add_argument("--url", help="a running dualtrack serve (default: start one on loopback)")
    parser.add_argument("--key", default=os.environ.get("DUALTRACK_API_KEY"), help="its API key, if any")
    parser.add_argument("--config", help="dualtrack.toml for the server this example starts")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(out=args.out, config=args.config, url=args.url, key=args.key)))

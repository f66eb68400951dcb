"""HTTP overhead of `dualtrack serve`: requests/s and server CPU per call vs the same calls in-process.

Run by hand: `.venv/bin/python bench/http_overhead.py [--calls 2000]`. The server runs
uvicorn in this process's background thread with a scripted model (no network), so the
process CPU time measured around the HTTP run, minus the client's own share (measured
with the server idle... approximated by the thread CPU of the server thread), is reported.
Goal: the HTTP layer adds <= 0.5 ms CPU per call at c=64.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dualtrack import Orchestrator
from dualtrack.hosts.http import HttpSettings, create_app
from dualtrack.testing import ScriptedConnector, model_card
from tests.hosts.http.support import NotesPlugin, ServerThread


def orchestrator() -> Orchestrator:
    return Orchestrator(
        models=[model_card(ScriptedConnector(["LOUD"], repeat_last=True))], plugins=[NotesPlugin]
    )


async def in_process(calls: int, conc: int) -> tuple[float, float]:
    orc = orchestrator()
    sem = asyncio.Semaphore(conc)

    async def one() -> None:
        async with sem:
            await orc.invoke("notes.shout", {"text": "hi"})

    cpu, wall = time.thread_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(calls)))
    return time.perf_counter() - wall, time.thread_time() - cpu


async def over_http(url: str, calls: int, conc: int) -> float:
    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as c:
        sem = asyncio.Semaphore(conc)

        async def one() -> None:
            async with sem:
                r = await c.post("/v1/skills/notes.shout", json={"text": "hi"})
                assert r.status_code == 200, r.text

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(calls)))
        return time.perf_counter() - start


def thread_cpu(thread: threading.Thread) -> float:
    import os

    with open(f"/proc/{os.getpid()}/task/{thread.native_id}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()
    data = tempfile.mkdtemp()
    app = create_app(orchestrator(), HttpSettings(data_dir=data))
    server = ServerThread(app).start()
    import logging

    logging.getLogger("dualtrack.http.access").setLevel(logging.WARNING)
    print(
        f"{'c':>3} {'in-proc req/s':>14} {'http req/s':>11} {'ratio':>6} {'in-proc CPU ms':>15} {'server CPU ms':>14} {'added ms':>9}"
    )
    try:
        for conc in (1, 8, 64):
            wall_in, cpu_in = asyncio.run(in_process(args.calls, conc))
            asyncio.run(over_http(server.url, min(200, args.calls), conc))  # warm-up
            before = thread_cpu(server.thread)
            wall_http = asyncio.run(over_http(server.url, args.calls, conc))
            cpu_http = thread_cpu(server.thread) - before
            per_in, per_http = cpu_in / args.calls * 1000, cpu_http / args.calls * 1000
            print(
                f"{conc:>3} {args.calls / wall_in:>14.0f} {args.calls / wall_http:>11.0f} "
                f"{wall_in / wall_http:>6.2f} {per_in:>15.3f} {per_http:>14.3f} {per_http - per_in:>9.3f}"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()

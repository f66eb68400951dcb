"""HTTP overhead of `dualtrack serve`: requests/s and server CPU per call vs the same calls in-process.

Run by hand: `.venv/bin/python bench/http_overhead.py [--calls 2000] [--profile server.prof]`.

The server runs in its own process (uvicorn, a scripted model: no network); this process is
the client. The server's CPU per call is read from its ``/proc/<pid>/stat`` around each run,
so the client's work is not counted. The in-process column is the CPU of the same skill calls
made with ``await orc.invoke(...)`` in this process (no server running in it). ``added ms`` is
the difference: what the HTTP layer (ASGI server, routing, auth, JSON, workspace) costs per
call. Goal: <= 0.5 ms at c=64. ``--profile FILE`` runs the server under cProfile and writes
its statistics to FILE on exit (read them with ``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _stub import drive, measure  # noqa: E402 - bench/ is sys.path[0] when run as a script

from dualtrack import Orchestrator  # noqa: E402
from dualtrack.testing import ScriptedConnector, model_card  # noqa: E402
from tests.hosts.http.support import NotesPlugin  # noqa: E402


def orchestrator() -> Orchestrator:
    """The orchestrator both sides run: one scripted model, the notes plugin."""
    return Orchestrator(
        models=[model_card(ScriptedConnector(["LOUD"], repeat_last=True))], plugins=[NotesPlugin]
    )


def serve(port_file: str, data_dir: str, profile: str | None, access_log: bool) -> None:
    """The server process: uvicorn on a free loopback port, written to ``port_file`` once listening."""
    import signal

    import uvicorn

    from dualtrack.hosts.http import HttpSettings, create_app
    from dualtrack.hosts.http._cli import log_config

    logs = log_config()  # what `dualtrack serve` logs with: one JSON access line per request
    if not access_log:
        logs["loggers"]["dualtrack.http"]["level"] = "WARNING"
    app = create_app(orchestrator(), HttpSettings(data_dir=data_dir))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", access_log=False, log_config=logs
    )
    server = uvicorn.Server(config)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        Path(port_file).write_text(str(port))

    async def main() -> None:
        signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
        watcher = asyncio.ensure_future(announce())
        await server.serve()
        watcher.cancel()

    if profiler is not None:
        profiler.enable()
    try:
        asyncio.run(main())
    finally:
        if profiler is not None and profile:
            profiler.disable()
            profiler.dump_stats(profile)


def process_cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


async def in_process(calls: int, conc: int) -> tuple[float, float]:
    """Calls per second and CPU milliseconds per call of skill calls made in this process, ``conc`` at a time."""
    orc = orchestrator()
    return await measure(
        lambda: orc.invoke("notes.shout", {"text": "hi"}), calls, conc, warmup=min(200, calls)
    )


async def over_http(url: str, calls: int, conc: int) -> float:
    """Wall seconds of ``calls`` POSTs to the server, ``conc`` at a time."""
    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as c:

        async def one() -> None:
            r = await c.post("/v1/skills/notes.shout", json={"text": "hi"})
            assert r.status_code == 200, r.text

        start = time.perf_counter()
        await drive(one, calls, conc)
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--concurrency", default="1,8,64", help="comma-separated levels (default 1,8,64)")
    ap.add_argument("--profile", help="run the server under cProfile and write its stats here")
    ap.add_argument(
        "--access-log", action="store_true", help="write the access log as `dualtrack serve` does"
    )
    ap.add_argument("--serve", nargs=2, metavar=("PORT_FILE", "DATA_DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1], args.profile, args.access_log)
        return
    data = tempfile.mkdtemp()
    port_file = Path(data) / "port"
    cmd = [sys.executable, __file__, "--serve", str(port_file), data]
    if args.profile:
        cmd += ["--profile", str(Path(args.profile).resolve())]
    if args.access_log:
        cmd.append("--access-log")
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)  # the access lines are written, then dropped
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text()}"
        print(
            f"{'c':>3} {'in-proc req/s':>14} {'http req/s':>11} {'ratio':>6} "
            f"{'in-proc CPU ms':>15} {'server CPU ms':>14} {'(kernel)':>9} {'added ms':>9}"
        )
        for conc in (int(c) for c in args.concurrency.split(",")):
            rate_in, per_in = asyncio.run(in_process(args.calls, conc))
            asyncio.run(over_http(url, min(200, args.calls), conc))  # warm-up
            user, system = process_cpu(proc.pid)
            wall_http = asyncio.run(over_http(url, args.calls, conc))
            user2, system2 = process_cpu(proc.pid)
            cpu_http, sys_http = user2 - user + system2 - system, system2 - system
            per_http = cpu_http / args.calls * 1000
            rate_http = args.calls / wall_http
            print(
                f"{conc:>3} {rate_in:>14.0f} {rate_http:>11.0f} "
                f"{rate_http / rate_in:>6.2f} {per_in:>15.3f} {per_http:>14.3f} "
                f"{sys_http / args.calls * 1000:>9.3f} {per_http - per_in:>9.3f}",
                flush=True,
            )
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()

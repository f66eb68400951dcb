"""CPU per model call with shared state (SQLite file, Redis) against state kept in memory.

Run by hand (not part of the test suite)::

    .venv/bin/python bench/state.py [--calls 2000] [--repeat 3] [--concurrency 1 8]

Each contender makes ``--calls`` routed model calls (``Orchestrator.generate``) to a
connector that answers at once, with a daily token budget set (so every call
reserves and settles) and the usage ledger on. ``memory`` keeps budgets, circuits
and usage in the process; ``sqlite`` keeps them in one WAL file on local disk;
``redis`` in a ``redis-server`` started here on a loopback port (skipped when the
binary or the ``redis`` package is missing). The bench prints calls/s, the client
process's CPU per call (``time.process_time``), Redis's own CPU per call (from
``INFO cpu``), and the extra client CPU against ``memory``; medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _stub import measure  # noqa: E402 - bench/ is sys.path[0] when run as a script

from dualtrack import Budgets, Completion, Orchestrator, Usage  # noqa: E402
from dualtrack.testing import FunctionConnector, model_card  # noqa: E402


def _answer(request: Any) -> Completion:
    return Completion("ok", usage=Usage(10, 10))


def _orc(state: str | None) -> Orchestrator:
    return Orchestrator(
        models=[model_card(FunctionConnector(_answer), name="m")],
        plugins=[],
        budgets=Budgets(tokens_per_day=10**12),
        state=state,
    )


async def _run(orc: Orchestrator, calls: int, concurrency: int) -> tuple[float, float]:
    """Calls per second and client CPU milliseconds per call, after one warm-up call."""
    return await measure(lambda: orc.generate("hello", max_tokens=10), calls, concurrency, warmup=1)


def _redis_cpu(port: int) -> float:
    import redis

    info = redis.Redis(port=port).info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def _start_redis(folder: str) -> tuple[subprocess.Popen[bytes], int] | None:
    binary = shutil.which("redis-server")
    try:
        import redis  # noqa: F401
    except ImportError:
        return None
    if binary is None:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen([*args, "--dir", folder], stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            _redis_cpu(port)
            return proc, port
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.02)
    proc.kill()
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="dualtrack-bench-state-")
    server = _start_redis(folder)
    contenders: dict[str, str | None] = {"memory": None, "sqlite": f"sqlite:///{folder}/state.sqlite3"}
    if server is not None:
        contenders["redis"] = f"redis://127.0.0.1:{server[1]}/0"
    else:
        print("redis: skipped (redis-server or the redis package is missing)")
    try:
        print(
            f"{'state':<8} {'c':>3} {'calls/s':>9} {'client CPU/call':>16} {'redis CPU/call':>15} {'extra vs memory':>16}"
        )
        for conc in args.concurrency:
            base = None
            for name, url in contenders.items():
                cpus, rates, servers = [], [], []
                for _ in range(args.repeat):
                    orc = _orc(url)
                    before = _redis_cpu(server[1]) if name == "redis" and server else 0.0
                    rate, cpu_ms = asyncio.run(_run(orc, args.calls, conc))
                    if name == "redis" and server:
                        servers.append((_redis_cpu(server[1]) - before) / args.calls)
                    orc.close()
                    if orc.state is not None:
                        orc.state.close()
                    cpus.append(cpu_ms / 1000)
                    rates.append(rate)
                cpu_call = statistics.median(cpus)
                base = cpu_call if base is None else base
                srv = f"{statistics.median(servers) * 1e6:12.1f} µs" if servers else f"{'-':>15}"
                print(
                    f"{name:<8} {conc:>3} {statistics.median(rates):>9.0f} "
                    f"{cpu_call * 1e6:>13.1f} µs {srv} {(cpu_call - base) * 1e6:>13.1f} µs"
                )
    finally:
        if server is not None:
            server[0].terminate()
            server[0].wait(10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""What every benchmark shares: the loopback stub server, CPU pinning and the c=N workload.

Standard library only, so the peer benchmarks can import it from the interpreters
of their own venvs (``bench/peers.py`` runs semantic-kernel and litellm there).

* :func:`start_server` runs ``bench/_chat_server.py`` (an OpenAI-compatible stub
  that answers every POST with the same completion) in its own process.
* :func:`pin_client` puts the client on one CPU and returns another for the server.
* :func:`drive` keeps ``concurrency`` calls in flight until ``calls`` are done.
* :func:`measure` warms a call up, then times it: calls/s and client CPU ms per call.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

__all__ = ["MODEL", "PROMPT", "REPLY", "Call", "drive", "measure", "pin_client", "pin_to", "start_server"]

MODEL = "bench-model"
PROMPT = "ping"
REPLY = "pong"
Call = Callable[[], Awaitable[Any]]


def start_server(cpu: int | None) -> tuple[subprocess.Popen[str], str]:
    """Start the stub server (pinned to ``cpu`` when given).

    Returns:
        The process (terminate it when done) and its ``base_url`` (``http://127.0.0.1:PORT/v1``).
    """
    cmd = [sys.executable, str(Path(__file__).with_name("_chat_server.py"))]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("READY "):
        proc.kill()
        raise SystemExit(f"benchmark server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{line.split()[1]}/v1"


def pin_client() -> tuple[int | None, str]:
    """Pin this process to the first allowed CPU.

    Returns:
        The CPU to pin the server to (``None`` when there is only one) and a note for the report.
    """
    if not hasattr(os, "sched_getaffinity"):
        return None, "no CPU pinning on this platform"
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, f"only CPU {cpus} available: client and server share it"
    os.sched_setaffinity(0, {cpus[0]})
    return cpus[1], f"client pinned to CPU {cpus[0]}, server to CPU {cpus[1]}"


def pin_to(cpu: int | None) -> None:
    """Pin this process to ``cpu`` (a worker started by a parent that chose it)."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


async def drive(call: Call, calls: int, concurrency: int) -> None:
    """Run ``calls`` calls with ``concurrency`` of them in flight at any time."""
    todo = iter(range(calls))

    async def worker() -> None:
        for _ in todo:
            await call()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(call: Call, calls: int, concurrency: int, warmup: int | None = None) -> tuple[float, float]:
    """Warm ``call`` up (pools, caches), then time ``calls`` of it.

    Returns:
        Calls per second (wall clock) and the client process's CPU milliseconds per call.
    """
    await drive(call, max(200, concurrency * 4) if warmup is None else warmup, concurrency)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await drive(call, calls, concurrency)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return calls / wall, cpu / calls * 1000

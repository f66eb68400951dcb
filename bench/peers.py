"""dualtrack against its peers in one run: CPU per call, calls/s, routing time and import time.

Run by hand (never part of the test command)::

    .venv/bin/python bench/peers.py [--rounds 3] [--calls 2000] [--peer-calls 600]

The first run creates one venv per peer under ``bench/.venvs/`` (git-ignored) with
``pip install semantic-kernel==X`` / ``litellm==Y`` from the package index, and later
runs reuse them (``--refresh`` rebuilds them). A peer that cannot be installed is
reported with the reason and the other contenders still run.

Every measurement runs in a fresh process of the contender's interpreter
(``bench/_peer_worker.py``), against the same OpenAI-compatible stub server on
loopback (``bench/_chat_server.py``, in its own process, on the other CPU where
the machine has two), with the same prompt at the same concurrency:

* client CPU per call (process CPU time of the client / calls) and calls/s at c=64;
  dualtrack calls through ``Orchestrator.invoke`` of a plugin skill, Semantic Kernel
  through ``Kernel.invoke`` of a prompt function, LiteLLM through
  ``Router.acompletion``: each one's orchestration layer, model selection included;
* routing time at 50 models: dualtrack's ``Router.route`` (hard constraints + score
  + order), Semantic Kernel's AI service selector over 50 services, LiteLLM's
  ``Router`` pick among 50 deployments;
* "ready to call" import time: a fresh interpreter importing the orchestrator and
  the OpenAI connector (best and median of ``--imports`` subprocesses, and the
  same minus a bare interpreter of that venv);
* first call: a fresh process from its first import to the end of its first call
  (what lazy imports cannot hide).

Raw aiohttp and raw httpx (``bench/transport.py``) are printed as floors. Rounds
interleave the contenders so load from other processes falls on all of them;
the tables show medians over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from _stub import pin_client, start_server

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_peer_worker.py"
VENVS = HERE / ".venvs"
PEERS = {"semantic-kernel": "1.45.0", "litellm": "1.110.2"}
DUALTRACK, FLOORS = "dualtrack", ("raw aiohttp", "raw httpx")
IMPORTS = {
    "dualtrack": "from dualtrack import Orchestrator; import dualtrack.connectors.openai",
    "semantic-kernel": (
        "from semantic_kernel import Kernel; from semantic_kernel.connectors.ai.open_ai import OpenAIChatCompletion"
    ),
    "litellm": "from litellm import Router",
    "raw aiohttp": "import aiohttp",
    "raw httpx": "import httpx",
}
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}


@dataclass(kw_only=True)
class Contender:
    """One contender: its interpreter and what was measured, one entry per round."""

    name: str
    python: str
    rate: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    route_us: list[float] = field(default_factory=list)
    import_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)
    problem: str = ""


# -- peer venvs -------------------------------------------------------------------------------


def peer_python(name: str, version: str, *, refresh: bool) -> tuple[str | None, str]:
    """The interpreter of the peer's cached venv, creating it when missing.

    Returns:
        The interpreter path (``None`` when the install failed) and what happened.
    """
    venv = VENVS / f"{name}-{version}"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    ready = venv / ".ready"
    if ready.exists() and not refresh:
        return str(python), f"cached venv {venv.relative_to(HERE.parent)}"
    print(
        f"creating a venv for {name}=={version} (once; cached in {VENVS.relative_to(HERE.parent)}) ...",
        flush=True,
    )
    ready.unlink(missing_ok=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{name}=={version}"],
    ]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return None, f"could not install {name}=={version}: " + " | ".join(tail)
    ready.write_text(f"{name}=={version}\n")
    return str(python), f"installed {name}=={version}"


# -- measuring --------------------------------------------------------------------------------


def work(c: Contender, mode: str, *args: str) -> dict[str, float] | None:
    """Run one worker measurement; on failure note the reason on the contender."""
    done = subprocess.run(
        [c.python, str(WORKER), mode, c.name, *args], capture_output=True, text=True, env=ENV, cwd=HERE
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no output"]
        c.problem = f"{mode} failed: {lines[-1]}"
        return None
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def subprocess_ms(python: str, code: str) -> float | None:
    """Wall milliseconds of a fresh interpreter running ``code`` (``None`` if it failed)."""
    start = time.perf_counter()
    done = subprocess.run([python, "-c", code], capture_output=True, env=ENV, cwd=HERE.parent)
    return (time.perf_counter() - start) * 1000 if done.returncode == 0 else None


def run_round(cs: list[Contender], args: argparse.Namespace, base_url: str, client_cpu: int | None) -> None:
    pin = ["--cpu", str(client_cpu)] if client_cpu is not None else []
    for c in cs:
        calls = args.calls if c.name == DUALTRACK or c.name in FLOORS else args.peer_calls
        got = work(
            c,
            "cpu",
            "--base-url",
            base_url,
            "--calls",
            str(calls),
            "--concurrency",
            str(args.concurrency),
            *pin,
        )
        if got:
            c.rate.append(got["rate"])
            c.cpu_ms.append(got["cpu_ms"])
        if c.name not in FLOORS:
            got = work(c, "route", "--models", str(args.models), *pin)
            if got:
                c.route_us.append(got["us"])
            got = work(c, "first", "--base-url", base_url, *pin)
            if got:
                c.first_ms.append(got["ms"])
        for _ in range(args.imports):
            bare, imported = subprocess_ms(c.python, "pass"), subprocess_ms(c.python, IMPORTS[c.name])
            if bare is None or imported is None:
                c.problem = f"`{IMPORTS[c.name]}` failed in a fresh interpreter"
                break
            c.bare_ms.append(bare)
            c.import_ms.append(imported)


# -- reporting --------------------------------------------------------------------------------


def med(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def fmt(x: float | None, spec: str) -> str:
    """``x`` formatted by ``spec`` (e.g. ``9.2f``), or a dash as wide."""
    return format(x, spec) if x is not None else "-".rjust(int(spec.split(".")[0]))


def report(cs: list[Contender], args: argparse.Namespace) -> None:
    print(
        f"\nmedians over {args.rounds} round(s); c={args.concurrency}; routing over {args.models} models;"
        f" import: {args.imports} subprocesses per round\n"
    )
    head = (
        f"{'contender':<16} {'CPU ms/call':>11} {'calls/s':>8} {'route us':>9} {'import ms':>10}"
        f" {'(best)':>7} {'over bare':>9} {'first call ms':>13}"
    )
    print(head)
    print("-" * len(head))
    for c in cs:
        imp, bare = med(c.import_ms), med(c.bare_ms)
        over = None if imp is None or bare is None else imp - bare
        best = min(c.import_ms) if c.import_ms else None
        print(
            f"{c.name:<16} {fmt(med(c.cpu_ms), '11.3f')} {fmt(med(c.rate), '8.0f')} {fmt(med(c.route_us), '9.2f')}"
            f" {fmt(imp, '10.0f')} {fmt(best, '7.0f')} {fmt(over, '9.0f')} {fmt(med(c.first_ms), '13.0f')}"
        )
    for c in cs:
        if c.problem:
            print(f"  {c.name}: {c.problem}")
    me = next(c for c in cs if c.name == DUALTRACK)
    print("\ndualtrack as a ratio to each (above 1 = dualtrack better, per-round medians):")
    for c in cs:
        if c is me:
            continue
        parts = [
            _ratio("CPU/call", c.cpu_ms, me.cpu_ms),
            _ratio("calls/s", me.rate, c.rate),
        ]
        if c.name not in FLOORS:
            parts += [
                _ratio("routing", c.route_us, me.route_us),
                _ratio("import", c.import_ms, me.import_ms),
                _ratio("first call", c.first_ms, me.first_ms),
            ]
        print(f"  vs {c.name:<16} " + "  ".join(p for p in parts if p))
    floor = next((c for c in cs if c.name == "raw aiohttp"), None)
    if floor and floor.cpu_ms and me.cpu_ms:
        x = statistics.median(a / b for a, b in zip(me.cpu_ms, floor.cpu_ms, strict=False))
        print(f"\nfloor: dualtrack uses {x:.2f}x the client CPU per call of raw aiohttp (aim: <= 1.5x)")
    if me.import_ms:
        print(
            f"ready to call: dualtrack imports in {statistics.median(me.import_ms):.0f} ms median (aim: <= 250 ms)"
        )


def _ratio(label: str, worse: list[float], better: list[float]) -> str:
    """Median over rounds of ``worse / better``: how many times better dualtrack is (above 1)."""
    pairs = [(a, b) for a, b in zip(worse, better, strict=False) if b]
    if not pairs:
        return ""
    r = statistics.median(a / b for a, b in pairs)
    return f"{label} {r:.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument(
        "--calls", type=int, default=2000, help="calls per CPU measurement (dualtrack, floors)"
    )
    parser.add_argument("--peer-calls", type=int, default=600, help="calls per CPU measurement of a peer")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--models", type=int, default=50, help="catalog size for routing")
    parser.add_argument("--imports", type=int, default=3, help="import-time subprocesses per round")
    parser.add_argument("--only", nargs="*", help="limit to these contenders")
    parser.add_argument("--refresh", action="store_true", help="rebuild the peer venvs")
    args = parser.parse_args()

    cs = [Contender(name=n, python=sys.executable) for n in (DUALTRACK, *FLOORS)]
    for name, version in PEERS.items():
        if args.only and name not in args.only:
            continue
        python, note = peer_python(name, version, refresh=args.refresh)
        print(f"{name}: {note}", flush=True)
        if python is not None:
            cs.append(Contender(name=name, python=python))
    if args.only:
        cs = [c for c in cs if c.name in args.only or c.name == DUALTRACK]
    server_cpu, pinning = pin_client()
    client_cpu = sorted(os.sched_getaffinity(0))[0] if server_cpu is not None else None
    proc, base_url = start_server(server_cpu)
    print(f"stub server {base_url}; {pinning}", flush=True)
    try:
        for i in range(args.rounds):
            order = cs[i % len(cs) :] + cs[: i % len(cs)]  # rotate: no contender always runs first
            print(f"round {i + 1}/{args.rounds}: " + ", ".join(c.name for c in order), flush=True)
            run_round(order, args, base_url, client_cpu)
    finally:
        proc.terminate()
        proc.wait(10)
    report(cs, args)


if __name__ == "__main__":
    main()

"""Client CPU per model call: dualtrack vs raw httpx, raw aiohttp and the openai SDK.

Run by hand (not part of the test suite)::

    .venv/bin/python bench/transport.py [--calls 4000] [--repeat 3]
    .venv/bin/python bench/transport.py --profile    # where dualtrack's CPU goes at concurrency 64

A minimal OpenAI-compatible server (``bench/_chat_server.py``) runs in its own
process, pinned to another CPU where the machine allows. The client side is
pinned to CPU 0; for every contender and concurrency (1, 8, 64) the bench
measures calls/s and the client process's CPU time per call
(``time.process_time``), takes the median of ``--repeat`` runs, and prints a
table with the ratio of CPU per call against raw httpx.

Contenders:
  dualtrack            ``Orchestrator.invoke`` of a plugin skill that calls ``ctx.generate``,
                       through the ``openai`` connector with its default transport
  dualtrack connector  ``OpenAIConnector.complete`` alone (transport + wire, no orchestration)
  orchestration only   ``Orchestrator.invoke`` with a connector that answers at once (no I/O)
  connector+httpx-aio  the connector with an injected httpx client on the httpx-aiohttp transport
  raw httpx            ``httpx.AsyncClient()`` with its defaults
  raw aiohttp          ``aiohttp.ClientSession()`` with its defaults
  openai SDK           ``AsyncOpenAI(...).chat.completions.create``

Target: dualtrack at concurrency 64 under 0.6 ms of client CPU per call in total.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
from typing import Any

import aiohttp
import httpx
from _stub import Call, drive, pin_client, start_server
from _stub import measure as time_calls  # bench/ is sys.path[0] when run as a script

from dualtrack import (
    Completion,
    CompletionRequest,
    Message,
    ModelCard,
    Orchestrator,
    SkillContext,
    Usage,
    plugin,
    skill,
)
from dualtrack.connectors.openai import OpenAIConnector

CONCURRENCY = (1, 8, 64)
TARGET_MS = 0.6
PAYLOAD = {"model": "bench-model", "messages": [{"role": "user", "content": "ping"}], "max_tokens": 8}


@plugin("bench", description="Benchmark skills.")
class Bench:
    """A plugin with one skill that makes one model call."""

    @skill
    async def ping(self, ctx: SkillContext) -> str:
        """Make one model call."""
        return (await ctx.generate("ping", max_tokens=8)).text


# -- contenders: each is an async context that yields a zero-argument call ------------------


class Contender:
    name = ""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.url = f"{base_url}/chat/completions"

    async def open(self) -> Call:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class Dualtrack(Contender):
    name = "dualtrack"

    async def open(self) -> Call:
        card = ModelCard(
            name="bench",
            track="in-house",
            capabilities={"chat"},
            connector="openai",
            settings={"base_url": self.base_url, "model": "bench-model"},
            max_concurrency=max(CONCURRENCY),
        )
        self.orc = Orchestrator(models=[card], plugins=[Bench])

        async def call() -> Any:
            result = await self.orc.invoke("bench.ping")
            assert result.value == "pong"

        return call

    async def close(self) -> None:
        await self.orc.aclose()


class _Instant:
    """A connector that answers at once: what is left is the orchestration's own cost."""

    async def complete(self, request: CompletionRequest) -> Completion:
        return Completion("pong", usage=Usage(9, 1))


class OrchestrationOnly(Dualtrack):
    name = "orchestration only"

    async def open(self) -> Call:
        card = ModelCard(
            name="bench", track="in-house", capabilities={"chat"}, connector=_Instant(), max_concurrency=64
        )
        self.orc = Orchestrator(models=[card], plugins=[Bench])

        async def call() -> Any:
            result = await self.orc.invoke("bench.ping")
            assert result.value == "pong"

        return call


class Connector(Contender):
    name = "dualtrack connector"

    def make(self) -> OpenAIConnector:
        return OpenAIConnector("bench-model", base_url=self.base_url)

    async def open(self) -> Call:
        self.conn = self.make()

        async def call() -> Any:
            done = await self.conn.complete(CompletionRequest([Message.user("ping")], max_tokens=8))
            assert done.text == "pong"

        return call

    async def close(self) -> None:
        await self.conn.aclose()


class ConnectorHttpxAiohttp(Connector):
    name = "connector+httpx-aio"

    def make(self) -> OpenAIConnector:
        from httpx_aiohttp import HttpxAiohttpClient

        self.client = HttpxAiohttpClient(limits=httpx.Limits(max_connections=256))
        return OpenAIConnector("bench-model", base_url=self.base_url, client=self.client)

    async def close(self) -> None:
        await self.conn.aclose()
        await self.client.aclose()


class RawHttpx(Contender):
    name = "raw httpx"

    async def open(self) -> Call:
        self.client = httpx.AsyncClient()

        async def call() -> Any:
            r = await self.client.post(self.url, json=PAYLOAD)
            assert r.json()["choices"][0]["message"]["content"] == "pong"

        return call

    async def close(self) -> None:
        await self.client.aclose()


class RawAiohttp(Contender):
    name = "raw aiohttp"

    async def open(self) -> Call:
        self.session = aiohttp.ClientSession()

        async def call() -> Any:
            async with self.session.post(self.url, json=PAYLOAD) as r:
                data = json.loads(await r.read())
            assert data["choices"][0]["message"]["content"] == "pong"

        return call

    async def close(self) -> None:
        await self.session.close()


class OpenAISDK(Contender):
    name = "openai SDK"

    async def open(self) -> Call:
        from openai import AsyncOpenAI

        self.client = AsyncOpenAI(base_url=self.base_url, api_key="bench-key", max_retries=0)

        async def call() -> Any:
            r = await self.client.chat.completions.create(
                model="bench-model", messages=[{"role": "user", "content": "ping"}], max_tokens=8
            )
            assert r.choices[0].message.content == "pong"

        return call

    async def close(self) -> None:
        await self.client.close()


CONTENDERS: list[type[Contender]] = [
    Dualtrack,
    Connector,
    OrchestrationOnly,
    ConnectorHttpxAiohttp,
    RawHttpx,
    RawAiohttp,
    OpenAISDK,
]


# -- measuring ------------------------------------------------------------------------------


async def measure(kind: type[Contender], base_url: str, concurrency: int, calls: int) -> tuple[float, float]:
    """(calls per second, client CPU ms per call) of one run."""
    contender = kind(base_url)
    call = await contender.open()
    try:
        return await time_calls(call, calls, concurrency)
    finally:
        await contender.close()


async def run(args: argparse.Namespace, base_url: str) -> dict[tuple[str, int], tuple[float, float]]:
    results: dict[tuple[str, int], tuple[float, float]] = {}
    for concurrency in CONCURRENCY:
        calls = args.calls if concurrency > 1 else max(500, args.calls // 4)
        for kind in CONTENDERS:
            runs = [await measure(kind, base_url, concurrency, calls) for _ in range(args.repeat)]
            rate = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            results[(kind.name, concurrency)] = (rate, cpu)
            print(
                f"  {kind.name:<20} c={concurrency:<3} {rate:8.0f} calls/s {cpu:7.3f} ms CPU/call", flush=True
            )
    return results


def report(results: dict[tuple[str, int], tuple[float, float]]) -> None:
    print()
    header = f"{'contender':<20} {'conc':>4} {'calls/s':>9} {'CPU ms/call':>12} {'CPU vs httpx':>13}"
    print(header)
    print("-" * len(header))
    for concurrency in CONCURRENCY:
        base = results[("raw httpx", concurrency)][1]
        for kind in CONTENDERS:
            rate, cpu = results[(kind.name, concurrency)]
            print(f"{kind.name:<20} {concurrency:>4} {rate:>9.0f} {cpu:>12.3f} {cpu / base:>12.2f}x")
        print()
    cpu64 = results[("dualtrack", 64)][1]
    verdict = "PASS" if cpu64 < TARGET_MS else "FAIL"
    httpx64 = results[("raw httpx", 64)][1]
    print(
        f"target: dualtrack at concurrency 64 < {TARGET_MS} ms client CPU per call: {cpu64:.3f} ms "
        f"({httpx64 / cpu64:.1f}x less than raw httpx) -> {verdict}"
    )


def profile(base_url: str, calls: int) -> None:
    async def go() -> None:
        contender = Dualtrack(base_url)
        call = await contender.open()
        await drive(call, 500, 64)
        prof = cProfile.Profile()
        prof.enable()
        await drive(call, calls, 64)
        prof.disable()
        await contender.close()
        stats = pstats.Stats(prof)
        print(f"\ncProfile of dualtrack at concurrency 64, {calls} calls (tottime):")
        stats.sort_stats("tottime").print_stats(30)
        print("cumulative time in dualtrack's own functions:")
        stats.sort_stats("cumulative").print_stats(r"dualtrack|/core/|/connectors/", 30)

    asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--calls", type=int, default=4000, help="calls per measurement (concurrency 8 and 64)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell; the median is reported")
    parser.add_argument("--profile", action="store_true", help="only cProfile dualtrack at concurrency 64")
    args = parser.parse_args()
    server_cpu, pinning = pin_client()
    proc, base_url = start_server(server_cpu)
    print(f"server {base_url}; {pinning}; median of {args.repeat} run(s)\n", flush=True)
    try:
        if args.profile:
            profile(base_url, args.calls)
        else:
            report(asyncio.run(run(args, base_url)))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()

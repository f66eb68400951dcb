"""One measurement of one contender, run by ``bench/peers.py`` in the contender's own interpreter.

``python bench/_peer_worker.py MODE CONTENDER [--base-url URL] [--calls N] ...`` prints one
JSON line. Modes:

* ``cpu``: calls/s and client CPU ms per call at ``--concurrency`` against the stub server.
* ``route``: microseconds per routing decision over a catalog of ``--models`` models.
* ``first``: milliseconds from before the first import to the end of the first call
  (imports, building the client, one call): what a user waits for in a fresh process.

Only the standard library is imported at the top: each contender's code is imported
inside its functions, in the venv that has it (dualtrack and the raw floors in the
project's, semantic-kernel and litellm in their own).
"""

import time  # no ``from __future__ import annotations``: @skill resolves the local SkillContext

T0 = time.perf_counter()  # before any contender import, for the ``first`` mode

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from typing import Any  # noqa: E402

from _stub import MODEL, PROMPT, REPLY, Call, measure, pin_to  # noqa: E402

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # never fetch the price list
os.environ.setdefault("LITELLM_TELEMETRY", "False")
MESSAGES = [{"role": "user", "content": PROMPT}]
Closer = Callable[[], Awaitable[Any]]


# -- one call, the way each contender's users make it ------------------------------------


async def open_dualtrack(base_url: str) -> tuple[Call, Closer]:
    """``Orchestrator.invoke`` of a plugin skill that calls ``ctx.generate`` (routing included)."""
    from dualtrack import ModelCard, Orchestrator, SkillContext, plugin, skill

    @plugin("bench", description="Benchmark skills.")
    class Bench:
        @skill
        async def ping(self, ctx: SkillContext) -> str:
            """Make one model call."""
            return (await ctx.generate(PROMPT, max_tokens=8)).text

    card = ModelCard(
        name="bench",
        track="in-house",
        capabilities={"chat"},
        connector="openai",
        settings={"base_url": base_url, "model": MODEL},
        max_concurrency=64,
    )
    orc = Orchestrator(models=[card], plugins=[Bench])

    async def call() -> None:
        assert (await orc.invoke("bench.ping")).value == REPLY

    return call, orc.aclose


async def open_transport(name: str, base_url: str) -> tuple[Call, Closer]:
    """A raw client from ``bench/transport.py`` (``RawAiohttp``, ``RawHttpx``): the floors."""
    import transport

    contender = getattr(transport, name)(base_url)
    return await contender.open(), contender.close


async def open_semantic_kernel(base_url: str) -> tuple[Call, Closer]:
    """``Kernel.invoke`` of a prompt function on an OpenAI chat service (service selection included)."""
    from openai import AsyncOpenAI
    from semantic_kernel import Kernel
    from semantic_kernel.connectors.ai.open_ai import (
        OpenAIChatCompletion,
        OpenAIChatPromptExecutionSettings,
    )

    client = AsyncOpenAI(base_url=base_url, api_key="bench-key", max_retries=0)
    kernel = Kernel()
    kernel.add_service(OpenAIChatCompletion(ai_model_id=MODEL, async_client=client, service_id="bench"))
    fn = kernel.add_function(
        plugin_name="bench",
        function_name="ping",
        prompt=PROMPT,
        prompt_execution_settings=OpenAIChatPromptExecutionSettings(service_id="bench", max_tokens=8),
    )

    async def call() -> None:
        assert str(await kernel.invoke(fn)) == REPLY

    return call, client.close


async def open_litellm(base_url: str) -> tuple[Call, Closer]:
    """``litellm.Router.acompletion`` over one deployment (routing included)."""
    from litellm import Router

    router = Router(
        model_list=[
            {
                "model_name": "bench",
                "litellm_params": {"model": f"openai/{MODEL}", "api_base": base_url, "api_key": "bench-key"},
            }
        ],
        num_retries=0,
    )

    async def call() -> None:
        r = await router.acompletion(model="bench", messages=MESSAGES, max_tokens=8)
        assert r.choices[0].message.content == REPLY

    async def close() -> None:
        pass

    return call, close


OPENERS: dict[str, Callable[[str], Awaitable[tuple[Call, Closer]]]] = {
    "dualtrack": open_dualtrack,
    "raw aiohttp": lambda url: open_transport("RawAiohttp", url),
    "raw httpx": lambda url: open_transport("RawHttpx", url),
    "semantic-kernel": open_semantic_kernel,
    "litellm": open_litellm,
}


# -- one routing decision over N models -----------------------------------------------------


def router_dualtrack(n: int) -> Callable[[], Any]:
    """``Router.route`` over the random catalog of ``bench/routing.py``."""
    import random

    from routing import catalog, requirements

    from dualtrack import Policy, Router

    rng = random.Random(42)
    router = Router(catalog(n, rng), Policy(objective="balanced"))
    req = requirements()
    return lambda: router.route(req)


def router_semantic_kernel(n: int) -> Callable[[], Any]:
    """The kernel's AI service selector choosing among ``n`` chat services for a prompt function."""
    from openai import AsyncOpenAI
    from semantic_kernel import Kernel
    from semantic_kernel.connectors.ai.open_ai import (
        OpenAIChatCompletion,
        OpenAIChatPromptExecutionSettings,
    )
    from semantic_kernel.functions import KernelArguments

    client = AsyncOpenAI(base_url="http://127.0.0.1:9/v1", api_key="bench-key", max_retries=0)
    kernel = Kernel()
    for i in range(n):
        kernel.add_service(
            OpenAIChatCompletion(ai_model_id=f"model-{i}", async_client=client, service_id=f"model-{i}")
        )
    wanted = f"model-{n // 2}"
    fn = kernel.add_function(
        plugin_name="bench",
        function_name="ping",
        prompt=PROMPT,
        prompt_execution_settings=OpenAIChatPromptExecutionSettings(service_id=wanted, max_tokens=8),
    )
    selector = kernel.ai_service_selector
    args = KernelArguments()

    def pick() -> Any:
        service, _ = selector.select_ai_service(kernel, fn, args)
        assert service.service_id == wanted

    return pick


def router_litellm(n: int) -> Callable[[], Awaitable[Any]]:
    """``Router.select`` (the pick ``acompletion`` makes; older releases: ``async_get_available_deployment``)."""
    from litellm import Router

    router = Router(
        model_list=[
            {
                "model_name": "bench",
                "litellm_params": {
                    "model": f"openai/model-{i}",
                    "api_base": f"http://127.0.0.1:9/v{i}",
                    "api_key": "bench-key",
                },
            }
            for i in range(n)
        ],
        num_retries=0,
    )
    select = getattr(router, "select", None)
    if select is not None:  # newer releases; the older name warns that it is deprecated
        return lambda: select("bench", {}, messages=MESSAGES)
    return lambda: router.async_get_available_deployment(model="bench", request_kwargs={}, messages=MESSAGES)


ROUTERS: dict[str, Callable[[int], Callable[[], Any]]] = {
    "dualtrack": router_dualtrack,
    "semantic-kernel": router_semantic_kernel,
    "litellm": router_litellm,
}


async def time_route(pick: Callable[[], Any], budget_s: float = 1.0) -> float:
    """Median microseconds per decision over 7 batches sized to take about ``budget_s`` in all."""
    first = pick()
    is_async = asyncio.iscoroutine(first)
    if is_async:
        await first
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < budget_s / 20:
        r = pick()
        if is_async:
            await r
        n += 1
    batches = []
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(n):
            r = pick()
            if is_async:
                await r
        batches.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(batches)


# -- entry point ------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, float]:
    if args.mode == "route":
        return {"us": await time_route(ROUTERS[args.contender](args.models))}
    call, close = await OPENERS[args.contender](args.base_url)
    try:
        if args.mode == "first":
            await call()
            return {"ms": (time.perf_counter() - T0) * 1000}
        rate, cpu_ms = await measure(call, args.calls, args.concurrency)
        return {"rate": rate, "cpu_ms": cpu_ms}
    finally:
        await close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["cpu", "route", "first"])
    parser.add_argument("contender", choices=sorted(OPENERS))
    parser.add_argument("--base-url", default="")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    args = parser.parse_args()
    pin_to(args.cpu)
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()

"""One worker process of the shared-state tests: ``python -m tests.core._state_worker MODE URL ...``.

Modes (each prints one JSON line):

- ``spend URL CALLS TOKENS_PER_DAY START``: at wall time START, make CALLS concurrent model
  calls against one global token budget; every answer uses exactly the tokens reserved.
- ``open URL SIGNAL``: call until the model ``flaky`` (which fails with ServerError here)
  has its circuit open, then create the file SIGNAL.
- ``observe URL SIGNAL``: call once (``flaky`` answers here), create SIGNAL.ready, wait for
  SIGNAL, call again.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from dualtrack import (
    Budgets,
    Completion,
    CompletionRequest,
    Orchestrator,
    Policy,
    RetryPolicy,
    ServerError,
    Usage,
    estimate_tokens,
)
from dualtrack.testing import FunctionConnector, model_card


def exact(request: CompletionRequest) -> Completion:
    return Completion("ok", usage=Usage(estimate_tokens(request.messages), request.max_tokens or 0))


async def spend(url: str, calls: int, tokens_per_day: int, start: float) -> dict[str, object]:
    async def slow(request: CompletionRequest) -> Completion:
        await asyncio.sleep(0.02)  # calls overlap: reservations are what keeps them in budget
        return exact(request)

    orc = Orchestrator(
        models=[model_card(FunctionConnector(slow), name="paid")],
        plugins=[],
        budgets=Budgets(tokens_per_day=tokens_per_day),
        state=url,
    )
    await asyncio.sleep(max(0.0, start - time.time()))
    results = await asyncio.gather(
        *(orc.generate("spend one unit", max_tokens=100) for _ in range(calls)), return_exceptions=True
    )
    await orc.aclose()
    return {
        "ok": sum(not isinstance(r, BaseException) for r in results),
        "refused": sorted({type(r).__name__ for r in results if isinstance(r, BaseException)}),
    }


def circuit_orc(url: str, flaky_fails: bool) -> tuple[Orchestrator, FunctionConnector]:
    def flaky_reply(request: CompletionRequest) -> Completion:
        if flaky_fails:
            raise ServerError("upstream is down", status_code=503)
        return exact(request)

    flaky = FunctionConnector(flaky_reply)
    steady = FunctionConnector(exact)
    orc = Orchestrator(
        models=[
            model_card(flaky, name="flaky", quality=1.0),
            model_card(steady, name="steady", quality=0.1),
        ],
        policy=Policy(objective="quality"),
        plugins=[],
        retry=RetryPolicy(max_retries=0, breaker_threshold=2, breaker_cooldown_s=600),
        state=url,
    )
    assert orc.executor.circuits is not None
    orc.executor.circuits.refresh_s = 0.05
    return orc, flaky


async def open_circuit(url: str, signal: str) -> dict[str, object]:
    orc, flaky = circuit_orc(url, flaky_fails=True)
    served = []
    for _ in range(3):
        served.append((await orc.generate("hello")).calls[-1].model)
    state = orc.executor.breaker("flaky").state
    Path(signal).write_text("open", encoding="utf-8")
    await orc.aclose()
    return {"served": served, "flaky_calls": len(flaky.calls), "state": state}


async def observe(url: str, signal: str) -> dict[str, object]:
    orc, flaky = circuit_orc(url, flaky_fails=False)
    first = (await orc.generate("hello")).calls[-1].model
    Path(signal + ".ready").write_text(first, encoding="utf-8")  # the opener starts now
    deadline = time.monotonic() + 30
    while not Path(signal).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the other worker never opened the circuit")
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)  # two refreshes of the cached view
    before = len(flaky.calls)
    res = await orc.generate("hello")
    out = {
        "first": first,
        "after": res.calls[-1].model,
        "flaky_calls_after": len(flaky.calls) - before,
        "explain": res.explain(),
        "state": orc.executor.breaker("flaky").state,
    }
    await orc.aclose()
    return out


def main(argv: list[str]) -> None:
    mode, url, *rest = argv
    if mode == "spend":
        out = asyncio.run(spend(url, int(rest[0]), int(rest[1]), float(rest[2])))
    elif mode == "open":
        out = asyncio.run(open_circuit(url, rest[0]))
    elif mode == "observe":
        out = asyncio.run(observe(url, rest[0]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])

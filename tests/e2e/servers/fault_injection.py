"""An OpenAI-compatible server on 127.0.0.1 that injects faults at configurable rates.

Run as a subprocess: ``python fault_injection.py --seed 7``. It prints ``PORT <n>`` and
serves until its stdin closes (so it stops by itself when the test process ends).

Each request's user message carries ``rid=<id>`` and ``sens=<level>``; the model
field names the simulated model. The fault for a request is drawn from an RNG
seeded with ``(seed, model, rid, nth request for that rid)``, so a run is
reproducible whatever the interleaving. Faults:

* ``rate_limit``  429 with ``retry-after-ms`` and ``Retry-After``
* ``server``      500 / 502 / 503 with a JSON error body
* ``hang``        no answer for ``hang_s`` seconds
* ``cut``         streams: two chunks then the connection is dropped;
                  plain calls: a truncated body on a dropped connection
* ``malformed``   200 with a body that is not a chat completion

``POST /control`` replaces rates or sets an outage (every request to a model fails
with 503); ``GET /stats`` returns what each model saw, per rid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import threading
from collections import defaultdict
from typing import Any

from aiohttp import web

FAULTS = ("rate_limit", "server", "hang", "cut", "malformed")
_RID = re.compile(r"rid=(\S+)")
_SENS = re.compile(r"sens=(\S+)")


class State:
    def __init__(self, seed: int, rates: dict[str, dict[str, float]], hang_s: float) -> None:
        self.seed = seed
        self.rates = rates
        self.hang_s = hang_s
        self.outage: dict[str, int] = {}
        self.seen: dict[str, int] = defaultdict(int)  # rid -> requests so far
        self.outcomes: dict[str, list[list[Any]]] = defaultdict(list)  # rid -> [model, n, outcome]
        self.sens: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # model -> level -> n
        self.headers: set[str] = set()

    def fault(self, model: str, rid: str, n: int) -> str | None:
        if model in self.outage:
            return "outage"
        rates = self.rates.get(model) or self.rates.get("*") or {}
        x = random.Random(f"{self.seed}:{model}:{rid}:{n}").random()
        acc = 0.0
        for name in FAULTS:
            acc += rates.get(name, 0.0)
            if x < acc:
                return name
        return None


def _completion(text: str, model: str, usage: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fi",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    }


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    data = {
        "id": "c",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(data).encode() + b"\n\n"


async def chat(request: web.Request) -> web.StreamResponse:
    st: State = request.app["state"]
    try:
        body = json.loads(await request.read())
        model = str(body["model"])
        prompt = " ".join(str(m.get("content", "")) for m in body["messages"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": {"message": "bad request"}}, status=400)
    auth = request.headers.get("Authorization", "")
    if auth:
        st.headers.add(auth)
    m = _RID.search(prompt)
    rid = m.group(1) if m else "-"
    found = _SENS.search(prompt)
    sens = found.group(1) if found else "none"
    st.sens[model][sens] += 1
    n = st.seen[rid]
    st.seen[rid] += 1
    record = [model, n, "?"]
    st.outcomes[rid].append(record)
    fault = st.fault(model, rid, n)
    stream = bool(body.get("stream"))
    text = f"reply rid={rid} model={model} n={n}"
    if fault is None:
        record[2] = "ok"
        if not stream:
            return web.json_response(_completion(text, model, (20, 8)))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        words = text.split(" ")
        for i, word in enumerate(words):
            await resp.write(_chunk({"content": word if i == 0 else " " + word}))
        await resp.write(_chunk({}, "stop"))
        usage = {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}
        await resp.write(
            b"data: " + json.dumps({"id": "c", "choices": [], "usage": usage}).encode() + b"\n\n"
        )
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp
    record[2] = fault
    if fault == "outage":
        return web.json_response(
            {"error": {"message": "service unavailable", "type": "server_error"}}, status=503
        )
    if fault == "rate_limit":
        return web.json_response(
            {"error": {"message": "Rate limit reached", "type": "rate_limit_exceeded"}},
            status=429,
            headers={"retry-after-ms": "20", "Retry-After": "1"},
        )
    if fault == "server":
        status = random.Random(f"{rid}:{n}").choice((500, 502, 503))
        return web.json_response(
            {"error": {"message": "upstream failed", "type": "server_error"}}, status=status
        )
    if fault == "hang":
        await asyncio.sleep(st.hang_s)
        return web.json_response({"error": {"message": "too late"}}, status=504)
    if fault == "malformed":
        bad = random.Random(f"{rid}:{n}").choice((b"this is not json {", b'{"choices": []}', b'{"id": 1}'))
        return web.Response(body=bad, content_type="application/json")
    # cut: send part of the reply, then drop the connection
    if stream:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        if random.Random(f"cut:{rid}:{n}").random() < 0.5:
            await resp.write(_chunk({"content": "partial"}))
            await resp.write(_chunk({"content": " text"}))
    else:
        resp = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "400"})
        await resp.prepare(request)
        await resp.write(b'{"id": "chatcmpl-fi", "choices": [{"index": 0, "message": {"role": "assis')
    await asyncio.sleep(0.005)
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


async def control(request: web.Request) -> web.Response:
    st: State = request.app["state"]
    data = await request.json()
    if "rates" in data:
        st.rates = data["rates"]
    for model, on in (data.get("outage") or {}).items():
        if on:
            st.outage[model] = 503
        else:
            st.outage.pop(model, None)
    return web.json_response({"ok": True})


async def stats(request: web.Request) -> web.Response:
    st: State = request.app["state"]
    return web.json_response(
        {
            "outcomes": st.outcomes,
            "sensitivity": {m: dict(v) for m, v in st.sens.items()},
            "auth_headers": sorted(st.headers),
        }
    )


async def reset(request: web.Request) -> web.Response:
    st: State = request.app["state"]
    st.seen.clear()
    st.outcomes.clear()
    st.sens.clear()
    return web.json_response({"ok": True})


async def main(seed: int, rates: dict[str, dict[str, float]], hang_s: float) -> None:
    app = web.Application(client_max_size=4 << 20)
    app["state"] = State(seed, rates, hang_s)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/control", control)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"PORT {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def watch_stdin() -> None:  # the parent closed our stdin (or died): stop
        sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rates", default="{}", help='JSON: {"model": {"rate_limit": 0.05, ...}}')
    p.add_argument("--hang", type=float, default=5.0)
    args = p.parse_args()
    asyncio.run(main(args.seed, json.loads(args.rates), args.hang))

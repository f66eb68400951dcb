"""Two service instances sharing one state (SQLite file, real Redis): one limit per key, confirms cross workers.

Each instance has its own orchestrator and its own connection to the state, as two
``dualtrack serve`` workers (or two machines) would; both serve the same data folder.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from dualtrack import Completion, ToolCall
from dualtrack.hosts.http._shared_state import SharedStateBackend
from dualtrack.testing import FunctionConnector
from tests._redis import redis_server, redis_url  # noqa: F401 - fixtures

from .conftest import NOTES_KEY, make_orc
from .test_api import events

NOTES = {"X-API-Key": NOTES_KEY}  # concurrency 1, 5 requests per minute


@pytest.fixture(params=["sqlite", "redis"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.sqlite3"
    return str(request.getfixturevalue("redis_url"))


def pair(serve: Any, url: str, connector: Any) -> tuple[Any, Any]:
    servers = []
    for _ in range(2):
        orc = make_orc(connector, state=url)
        server = serve(orc)
        assert isinstance(server.app.service.state, SharedStateBackend)  # chosen from orc.state
        servers.append(server)
    return servers[0], servers[1]


async def test_one_concurrency_and_rate_limit_per_key_across_workers(serve: Any, url: str) -> None:
    gate = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def slow(request: Any) -> Completion:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(gate.wait(), loop))
        return Completion("LOUD")

    a, b = pair(serve, url, FunctionConnector(slow))
    async with httpx.AsyncClient(headers=NOTES, timeout=30) as c:
        first = asyncio.ensure_future(c.post(f"{a.url}/v1/skills/notes.shout", json={"text": "hi"}))
        for _ in range(200):  # wait until worker A holds the key's only slot
            await asyncio.sleep(0.02)
            if a.app.service.state._held:
                break
        busy = await c.post(f"{b.url}/v1/skills/notes.shout", json={"text": "hi"})
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "1"
        assert "at most 1 calls at once" in busy.json()["detail"]
        gate.set()
        assert (await first).status_code == 200
        ok = await c.post(f"{b.url}/v1/skills/notes.shout", json={"text": "hi"})  # the slot came back
        assert ok.status_code == 200 and ok.json()["value"] == "LOUD"
        # 3 requests so far, over both workers; the 5-per-minute window is shared too
        codes = [(await c.get(f"{srv.url}/v1/skills")).status_code for srv in (a, b, a)]
        assert codes == [200, 200, 429]
        limited = await c.get(f"{b.url}/v1/skills")
        assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60


def _tool_reply(name: str, args: dict[str, Any]) -> Completion:
    return Completion("", tool_calls=[ToolCall(id="t1", name=name, arguments=json.dumps(args))])


async def test_a_confirm_posted_to_one_worker_reaches_the_ask_waiting_on_the_other(
    serve: Any, admin: dict[str, str], url: str
) -> None:
    script: list[Any] = []
    a, b = pair(serve, url, FunctionConnector(lambda request: script.pop(0)))
    async with httpx.AsyncClient(headers=admin, timeout=30) as c:
        up = (await c.post(f"{a.url}/v1/files", files={"file": ("a.txt", b"data")})).json()
        svc = a.app.service
        root = svc.workspace(svc.auth._from_key(admin["Authorization"][7:])).root
        target = Path(f"{root}/{up['upload_id']}/b.txt")
        script[:] = [
            _tool_reply("notes-copy", {"path": f"{root}/{up['name']}", "output": str(target)}),
            "Done.",
        ]
        names = []
        async with c.stream("POST", f"{a.url}/v1/ask?stream=1", json={"prompt": "copy a.txt"}) as resp:
            buf = ""
            async for chunk in resp.aiter_text():
                buf += chunk
                while "\n\n" in buf:
                    block, buf = buf.split("\n\n", 1)
                    ((name, data),) = events(block + "\n\n")
                    names.append(name)
                    if name == "confirm":
                        wrong = await c.post(
                            f"{b.url}/v1/ask/{data['ask_id']}/confirm",
                            json={"call_id": "cnope", "decision": "approve"},
                        )
                        assert wrong.status_code == 404
                        ok = await c.post(
                            f"{b.url}/v1/ask/{data['ask_id']}/confirm",
                            json={"call_id": data["call_id"], "decision": "approve"},
                        )
                        assert ok.status_code == 200
                        again = await c.post(
                            f"{a.url}/v1/ask/{data['ask_id']}/confirm",
                            json={"call_id": data["call_id"], "decision": "decline"},
                        )
                        assert again.status_code == 404  # answered once, through the other worker
        assert names[0] == "ask" and "confirm" in names and names[-1] == "result", names
        assert target.read_bytes() == b"data"

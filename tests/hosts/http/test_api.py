"""The HTTP service end to end: a real uvicorn server on loopback, called with httpx."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from dualtrack.testing import FunctionConnector, ScriptedConnector

from .conftest import NOTES_KEY, make_orc
from .support import wait_for


def events(text: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if not ln.startswith(":")]
        if not lines:
            continue
        name = next(ln[7:] for ln in lines if ln.startswith("event: "))
        data = json.loads(next(ln[6:] for ln in lines if ln.startswith("data: ")))
        out.append((name, data))
    return out


def test_skills_models_route_and_a_call(serve, admin):
    server = serve(make_orc())
    with httpx.Client(base_url=server.url, headers=admin) as c:
        skills = c.get("/v1/skills").json()
        by_name = {s["name"]: s for s in skills}
        assert by_name["notes.copy"]["effects"] == "write"
        assert by_name["notes.copy"]["path_parameters"] == {"path": "input", "output": "output"}
        assert by_name["notes.shout"]["parameters"]["properties"]["text"]["type"] == "string"
        models = c.get("/v1/models").json()
        assert models[0]["name"] == "test-model" and models[0]["health"] == "healthy"
        assert "settings" not in models[0]
        route = c.post("/v1/route", json={"skill": "notes.shout", "sensitivity": "confidential"}).json()
        assert "test-model" in route["explanation"]
        r = c.post("/v1/skills/notes.shout", json={"text": "hi"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["value"] == "LOUD" and body["sensitivity"] == "general"
        assert body["calls"][0]["model"] == "test-model" and "test-model" in body["explanation"]
        assert c.get("/v1/usage").status_code == 200


def test_bad_requests_get_problem_documents(serve, admin):
    server = serve(make_orc())
    with httpx.Client(base_url=server.url, headers=admin) as c:
        cases = [
            (c.post("/v1/skills/notes.nope", json={}), 404, "unknown-skill"),
            (
                c.post(
                    "/v1/skills/notes.shout",
                    content=b"{not json",
                    headers={"content-type": "application/json"},
                ),
                400,
                "malformed-request",
            ),
            (
                c.post(
                    "/v1/skills/notes.shout", content=b"[1,2]", headers={"content-type": "application/json"}
                ),
                400,
                "malformed-request",
            ),
            (c.post("/v1/skills/notes.shout", json={"text": "x", "times": "many"}), 422, "invalid-arguments"),
            (c.post("/v1/skills/notes.shout", json={"text": "x", "colour": "red"}), 422, "invalid-arguments"),
            (
                c.post(
                    "/v1/skills/notes.shout",
                    content=b"[" * 100000,
                    headers={"content-type": "application/json"},
                ),
                400,
                "malformed-request",
            ),
            (
                c.post(
                    "/v1/skills/notes.shout",
                    content=b"x" * (2 << 20),
                    headers={"content-type": "application/json"},
                ),
                413,
                "payload-too-large",
            ),
            (c.post("/v1/skills/notes.shout", data={"text": "x"}), 415, "unsupported-media-type"),
            (c.get("/v1/nothing"), 404, "not-found"),
            (
                c.post("/v1/skills/notes.shout?sensitivity=secret", json={"text": "x"}),
                422,
                "invalid-arguments",
            ),
        ]
        for r, status, slug in cases:
            assert r.status_code == status, (slug, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            doc = r.json()
            assert doc["type"] == f"urn:dualtrack:problem:{slug}" and doc["status"] == status
            assert "Traceback" not in r.text
        fields = {e["field"] for e in cases[3][0].json()["errors"]} | {
            e["field"] for e in cases[4][0].json()["errors"]
        }
        assert {"times", "colour"} <= fields
        assert c.post("/v1/skills/notes.shout", json={"text": "still serving"}).status_code == 200


def test_authentication_and_per_key_rules(serve, admin):
    server = serve(make_orc())
    with httpx.Client(base_url=server.url) as c:
        r = c.get("/v1/skills")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert c.get("/v1/skills", headers={"X-API-Key": "dtk_wrong"}).status_code == 401
        notes = {"X-API-Key": NOTES_KEY}
        assert {s["plugin"] for s in c.get("/v1/skills", headers=notes).json()} == {"notes"}
        r = c.post("/v1/skills/notes.shout?sensitivity=confidential", json={"text": "x"}, headers=notes)
        assert r.status_code == 403 and r.json()["type"].endswith("sensitivity-exceeded")
        r = c.post("/v1/ask", json={"prompt": "hi"}, headers=notes)  # offered the notes skills only
        assert r.status_code == 200, r.text
        for _ in range(3):
            c.get("/v1/files", headers=notes)
        r = c.get("/v1/files", headers=notes)  # the sixth request this minute
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert c.get("/v1/skills", headers=admin).status_code == 200  # others keep being served
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200


async def test_concurrency_limit_answers_429(serve, tmp_path):
    import threading

    entered, gate = threading.Event(), threading.Event()  # the server runs in its own thread

    async def slow(request):
        entered.set()  # the first call holds the key's only slot from here on
        await asyncio.to_thread(gate.wait, 10)
        return "done"

    server = serve(make_orc(FunctionConnector(slow)))
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": NOTES_KEY}, timeout=20) as c:
        first = asyncio.ensure_future(c.post("/v1/skills/notes.shout", json={"text": "a"}))
        assert await asyncio.to_thread(entered.wait, 10)
        r = await c.post("/v1/skills/notes.shout", json={"text": "b"})
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
        gate.set()
        assert (await first).status_code == 200
        again = await c.post("/v1/skills/notes.shout", json={"text": "c"})  # the slot was given back
        assert again.status_code == 200


def test_sse_progress_text_and_result(serve, admin):
    server = serve(make_orc(ScriptedConnector(["A streamed answer."], repeat_last=True)))
    with httpx.Client(base_url=server.url, headers=admin) as c:
        r = c.post(
            "/v1/skills/notes.shout", json={"text": "x", "times": 3}, headers={"Accept": "text/event-stream"}
        )
        assert r.headers["content-type"].startswith("text/event-stream")
        evs = events(r.text)
        names = [e for e, _ in evs]
        # progress from ctx.progress, then the skill's own model call streamed as text, then the result
        assert names[:3] == ["progress"] * 3 and names[-1] == "result"
        assert set(names[3:-1]) == {"text"}
        assert evs[2][1] == {"skill": "notes.shout", "done": 3, "total": 3, "message": "step 3"}
        assert "".join(d["delta"] for e, d in evs if e == "text") == "A streamed answer."
        assert evs[-1][1]["value"] == "A streamed answer."
        r = c.post("/v1/generate?stream=1", json={"prompt": "hello"})
        evs = events(r.text)
        assert [e for e, _ in evs][-1] == "result" and "text" in [e for e, _ in evs]
        assert "".join(d["delta"] for e, d in evs if e == "text") == "A streamed answer."
        r = c.post("/v1/skills/notes.nope?stream=1", json={})
        assert r.status_code == 404  # failures before the call starts are plain problems
        r = c.post("/v1/skills/notes.read?stream=1", json={"path": "u0000000000/missing.txt"})
        assert r.status_code == 400


async def test_a_client_that_disconnects_cancels_the_skill_and_its_model_call(serve, admin):
    started, cancelled = asyncio.Event(), []
    loop_box: list[asyncio.AbstractEventLoop] = []

    async def block(request):
        loop_box.append(asyncio.get_running_loop())
        started_flag.append(True)
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return "never"

    started_flag: list[bool] = []
    server = serve(make_orc(FunctionConnector(block)))
    for stream in (True, False):
        started_flag.clear()
        cancelled.clear()
        async with httpx.AsyncClient(base_url=server.url, headers=admin, timeout=30) as c:
            url = "/v1/skills/notes.wait" + ("?stream=1" if stream else "")
            task = asyncio.ensure_future(c.post(url, json={}))
            await wait_for(lambda: bool(started_flag))
            task.cancel()  # the client goes away mid-call
            await asyncio.gather(task, return_exceptions=True)
        await wait_for(lambda: bool(cancelled))
        await wait_for(lambda: not server.app.service.runner.tasks)
    started.set()


def test_openapi_document_is_valid_and_docs_render_offline(serve, admin):
    from openapi_spec_validator import validate

    server = serve(make_orc())
    with httpx.Client(base_url=server.url, headers=admin) as c:
        doc = c.get("/openapi.json").json()
        validate(doc)
        assert doc["openapi"] == "3.1.0"
        op = doc["paths"]["/v1/skills/notes.shout"]["post"]
        assert op["operationId"] == "notes_shout"
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(body["properties"]) == {"text", "times"}
        page = c.get("/docs")
        assert page.status_code == 200 and "notes.shout" in page.text
        assert "http://" not in page.text.replace("http://www.w3.org", "") and "<script" not in page.text
        home = c.get("/")
        assert home.status_code == 200 and 'href="/docs"' in home.text


def test_no_secret_in_responses_or_logs(serve, admin, caplog):
    secret = "sk-live-SECRETSECRETSECRET1234567890"
    from dualtrack import Orchestrator
    from dualtrack.testing import model_card

    from .support import NotesPlugin

    def fail(request):
        raise RuntimeError(f"upstream said: bad key {secret}")

    conn = FunctionConnector(fail)
    card = model_card(conn, settings={"api_key": secret})
    orc = Orchestrator(models=[card], plugins=[NotesPlugin])
    server = serve(orc)
    with caplog.at_level("INFO"), httpx.Client(base_url=server.url, headers=admin) as c:
        r = c.post("/v1/skills/notes.shout", json={"text": "x"})
        assert r.status_code >= 500 and r.headers["content-type"].startswith("application/problem+json")
        assert secret not in r.text and "Traceback" not in r.text
        c.get("/v1/models")
    assert secret not in caplog.text
    assert all("Bearer" not in rec.getMessage() for rec in caplog.records)

"""Uploads and per-caller workspaces, ask with confirm events, Entra ID tokens against a loopback JWKS."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import httpx
import pytest

from dualtrack import Completion, ToolCall
from dualtrack.hosts.http import EntraSettings, HttpSettings
from dualtrack.testing import FunctionConnector

from .conftest import key_settings, make_orc
from .support import ServerThread
from .test_api import events


def test_upload_refer_download_and_refusals(serve, admin, tmp_path):
    server = serve(make_orc())
    with httpx.Client(base_url=server.url, headers=admin) as c:
        r = c.post("/v1/files", files={"file": ("../../notes.txt", b"hello world", "text/plain")})
        assert r.status_code == 201, r.text
        up = r.json()
        assert up["name"].endswith("/notes.txt") and ".." not in up["name"]
        for ref in (up["name"], up["ref"]):
            out = c.post("/v1/skills/notes.read", json={"path": ref})
            assert out.status_code == 200, out.text
            assert out.json()["value"]["name"] == "notes.txt"
            assert str(tmp_path) not in out.text
        copy = c.post(
            "/v1/skills/notes.copy", json={"path": up["ref"], "output": f"{up['upload_id']}/copy.txt"}
        ).json()
        assert copy["value"] == f"{up['upload_id']}/copy.txt" and copy["files"][0]["name"] == copy["value"]
        assert c.get(f"/v1/files/{copy['value']}").content == b"hello world"
        for bad in (
            "../etc/passwd",
            "/etc/passwd",
            "a\x00b",
            f"{up['upload_id']}/../../x",
            "C:\\windows",
            "upload:zzz",
        ):
            r = c.post("/v1/skills/notes.read", json={"path": bad})
            assert r.status_code == 400 and r.json()["type"].endswith("invalid-path"), bad
        assert c.get("/v1/files/..%2F..%2Fetc%2Fpasswd").status_code in (400, 404)
        ws = Path(
            server.app.service.workspace(server.app.service.auth._from_key(admin["Authorization"][7:])).root
        )
        os.symlink("/etc", ws / up["upload_id"] / "link")
        r = c.post("/v1/skills/notes.read", json={"path": f"{up['upload_id']}/link/passwd"})
        assert r.status_code == 400 and "link" in r.json()["detail"]
        r = c.post("/v1/files", files={"file": ("run.exe", b"MZ", "application/octet-stream")})
        assert r.status_code == 415 and r.json()["type"].endswith("unsupported-file-type")
        # the upload itself is unchanged
        assert hashlib.sha256((ws / up["name"]).read_bytes()).hexdigest() == up["sha256"]


def test_upload_limits_bombs_and_hostile_office_files(serve, admin, tmp_path):
    import zipfile

    settings = key_settings(tmp_path, max_upload_mb=0.5)
    server = serve(make_orc(), settings)
    with httpx.Client(base_url=server.url, headers=admin) as c:
        r = c.post("/v1/files", files={"file": ("big.txt", b"x" * (600 * 1024), "text/plain")})
        assert r.status_code == 413 and r.json()["type"].endswith("payload-too-large")
        bomb = tmp_path / "bomb.docx"
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("[Content_Types].xml", "<Types/>")
            zf.writestr("word/document.xml", b"\0" * (300 << 20))
        r = c.post("/v1/files", files={"file": ("bomb.docx", bomb.read_bytes(), "application/octet-stream")})
        assert r.status_code == 422 and r.json()["type"].endswith("bad-input-file"), r.text
        r = c.post(
            "/v1/files", files={"file": ("fake.xlsx", b"not a zip at all", "application/octet-stream")}
        )
        assert r.status_code == 422
        assert c.get("/v1/files").json() == []  # nothing kept
        r = c.post(
            "/v1/files", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data; boundary=x"}
        )
        assert r.status_code in (400, 422) and r.headers["content-type"].startswith(
            "application/problem+json"
        )


def test_an_uploaded_label_governs_routing_and_the_key_ceiling(serve, admin, tmp_path):
    pytest.importorskip("docx")
    from tests.e2e.test_labels import CONFIDENTIAL_ID, labelled, make_docx

    doc = labelled(make_docx(tmp_path / "memo.docx"), CONFIDENTIAL_ID, "Confidential")
    server = serve(make_orc())
    with httpx.Client(base_url=server.url) as c:
        r = c.post("/v1/files", files={"file": ("memo.docx", doc.read_bytes())}, headers=admin)
        assert r.status_code == 201 and r.json()["sensitivity"] == "confidential"
        out = c.post("/v1/skills/notes.read", json={"path": r.json()["ref"]}, headers=admin).json()
        assert out["sensitivity"] == "confidential" and out["value"]["level"] == "confidential"
        assert out["calls"][0]["decision"]["sensitivity"] == "confidential"
        from .conftest import NOTES_KEY

        r = c.post(
            "/v1/files", files={"file": ("memo.docx", doc.read_bytes())}, headers={"X-API-Key": NOTES_KEY}
        )
        assert r.status_code == 403 and r.json()["type"].endswith("sensitivity-exceeded")


def test_files_expire(tmp_path):
    from dualtrack.hosts.http import Workspaces

    spaces = Workspaces(tmp_path, ttl_s=60)
    ws = spaces.get("0" * 24)
    _uid, folder = ws.new_upload_dir()
    (folder / "a.txt").write_text("x")
    assert spaces.sweep() == 0
    assert spaces.sweep(now=time.time() + 120) == 1
    assert not folder.exists()


def _tool_reply(name: str, args: dict) -> Completion:
    return Completion("", tool_calls=[ToolCall(id="t1", name=name, arguments=json.dumps(args))])


async def test_ask_pauses_for_confirm_and_runs_only_the_confirmed_call(serve, admin, tmp_path):
    script: list = []
    prompts: list[str] = []

    def model(request):
        prompts.append(request.messages[-1].content)
        return script.pop(0)

    server = serve(make_orc(FunctionConnector(model)))
    async with httpx.AsyncClient(base_url=server.url, headers=admin, timeout=30) as c:
        up = (await c.post("/v1/files", files={"file": ("a.txt", b"data")})).json()
        ws_root = server.app.service.workspace(
            server.app.service.auth._from_key(admin["Authorization"][7:])
        ).root
        target = f"{ws_root}/{up['upload_id']}/b.txt"

        for decision in ("approve", "decline"):
            prompts.clear()
            script[:] = [  # the model names files as the prompt shows them: workspace names
                _tool_reply("notes-copy", {"path": up["name"], "output": f"{up['upload_id']}/b.txt"}),
                "Done.",
            ]
            async with c.stream("POST", "/v1/ask?stream=1", json={"prompt": "copy a.txt to b.txt"}) as resp:
                seen = []
                buf = ""
                async for chunk in resp.aiter_text():
                    buf += chunk
                    while "\n\n" in buf:
                        block, buf = buf.split("\n\n", 1)
                        ((name, data),) = events(block + "\n\n")
                        seen.append((name, data))
                        if name == "confirm":
                            assert data["skill"] == "notes.copy"
                            assert data["arguments"] == {
                                "path": up["name"],
                                "output": f"{up['upload_id']}/b.txt",
                            }
                            bad = await c.post(
                                f"/v1/ask/{data['ask_id']}/confirm",
                                json={"call_id": "cnope", "decision": "approve"},
                            )
                            assert bad.status_code == 404
                            ok = await c.post(
                                f"/v1/ask/{data['ask_id']}/confirm",
                                json={"call_id": data["call_id"], "decision": decision},
                            )
                            assert ok.status_code == 200
            names = [n for n, _ in seen]
            assert names[0] == "ask" and "confirm" in names and names[-1] == "result", seen
            assert up["name"] in prompts[0] and str(ws_root) not in prompts[0]  # no server folder shown
            assert Path(target).exists() == (decision == "approve")
            Path(target).unlink(missing_ok=True)


@pytest.fixture
def jwks_server(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    keys = {"current": []}

    def add_key(kid):
        priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(priv.public_key()))
        jwk.update(kid=kid, use="sig", alg="RS256")
        keys["current"] = [jwk]
        return priv

    hits = []

    async def jwks(request):
        hits.append(1)
        return JSONResponse({"keys": keys["current"]})

    server = ServerThread(Starlette(routes=[Route("/keys", jwks)])).start()
    yield server, add_key, hits
    server.stop()


def test_entra_tokens_validated_against_loopback_jwks(serve, tmp_path, jwks_server):
    import jwt

    jwks, add_key, hits = jwks_server
    issuer = "https://login.microsoftonline.com/tenant-1/v2.0"
    entra = EntraSettings(
        jwks_url=f"{jwks.url}/keys", issuer=issuer, audience="api://dualtrack", jwks_min_refresh_s=0
    )
    server = serve(make_orc(), HttpSettings(data_dir=str(tmp_path / "d"), entra=entra))
    key1 = add_key("k1")

    def token(priv, kid, **over):
        claims = {
            "iss": issuer,
            "aud": "api://dualtrack",
            "exp": int(time.time()) + 600,
            "oid": "user-1",
            "tid": "tenant-1",
            "preferred_username": "ana@example.com",
        }
        claims.update(over)
        return jwt.encode(claims, priv, algorithm="RS256", headers={"kid": kid})

    with httpx.Client(base_url=server.url) as c:

        def call(tok):
            return c.get("/v1/skills", headers={"Authorization": f"Bearer {tok}"})

        assert call(token(key1, "k1")).status_code == 200
        assert call(token(key1, "k1")).status_code == 200 and len(hits) == 1  # cached
        assert call(token(key1, "k1", aud="api://other")).status_code == 401
        assert call(token(key1, "k1", iss="https://evil.example/v2.0")).status_code == 401
        expired = call(token(key1, "k1", exp=int(time.time()) - 3600))
        assert expired.status_code == 401 and "expired" in expired.json()["detail"]
        from cryptography.hazmat.primitives.asymmetric import rsa

        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        assert call(token(stranger, "k1")).status_code == 401  # bad signature
        key2 = add_key("k2")  # the issuer rotates its keys
        assert call(token(key2, "k2")).status_code == 200 and len(hits) >= 2
        assert call("a.b.c").status_code == 401

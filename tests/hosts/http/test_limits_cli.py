"""Slow clients are cut off; a public bind address without authentication refuses to start."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from dualtrack import ConfigError
from dualtrack.hosts.http import run_cli

from .conftest import ADMIN_KEY, key_settings, make_orc


def test_a_slow_body_is_cut_off_and_others_are_served(serve, tmp_path):
    server = serve(make_orc(), key_settings(tmp_path, body_timeout_s=0.5))
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(
            b"POST /v1/skills/notes.shout HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {ADMIN_KEY}\r\nContent-Length: 100\r\n\r\n".encode()
            + b'{"text": '
        )
        start = time.monotonic()
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
            assert c.get("/v1/skills").status_code == 200  # served while the slow client waits
        reply = _read_response(s)
        assert time.monotonic() - start < 4
        assert " 408 " in reply.split("\r\n")[0] and "request-timeout" in reply


def _read_response(s: socket.socket) -> str:
    """One whole HTTP/1.1 response (head and a Content-Length body, whichever packets they came in)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk
    return (head + b"\r\n\r\n" + body).decode()


def test_no_auth_on_a_public_address_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DUALTRACK_HTTP_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="new-key"):
        run_cli(config=None, host="0.0.0.0", port=0)


def test_new_key_prints_a_key_and_its_hash(capsys):
    from dualtrack.hosts.http import hash_key

    assert run_cli(config=None, new_key_name="word-addin") == 0
    out = capsys.readouterr().out
    key = next(w for w in out.split() if w.startswith("dtk_"))
    assert hash_key(key) in out and key.count("_") >= 1

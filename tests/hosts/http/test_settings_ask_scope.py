"""``dualtrack serve`` reads ``[http]`` from dualtrack.toml; an ask offers a key only its plugins."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from dualtrack import Completion, ConfigError, Orchestrator, ToolCall, plugin, skill
from dualtrack.hosts.http import hash_key, run_cli, serve_settings
from dualtrack.testing import FunctionConnector, model_card

from .conftest import NOTES_KEY
from .support import NotesPlugin

KEY = "dtk_settings-test-key-0123456789abcdefghijklmnopqrs"


def _toml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "dualtrack.toml"
    path.write_text(f"models = []\nledger = 'memory'\n{body}", encoding="utf-8")
    return path


def test_http_settings_come_from_dualtrack_toml_and_the_own_file_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("UPLOAD_MB", "7")
    config = _toml(
        tmp_path,
        '[http]\ndata_dir = "srv"\nmax_upload_mb = "${UPLOAD_MB}"\nfile_ttl_s = 60\n'
        f'[[http.api_keys]]\nname = "pane"\nhash = "{hash_key(KEY)}"\nplugins = ["notes"]\n',
    )
    settings = serve_settings(config, None)
    assert settings.max_upload_mb == 7 and settings.file_ttl_s == 60
    assert settings.api_keys[0].name == "pane" and settings.auth_configured
    assert settings.data_path() == tmp_path / "srv"  # relative to dualtrack.toml's folder
    own = tmp_path / "dualtrack-http.toml"
    own.write_text("[http]\nfile_ttl_s = 120\n", encoding="utf-8")
    merged = serve_settings(config, own)
    assert merged.file_ttl_s == 120 and merged.max_upload_mb == 7 and merged.api_keys[0].name == "pane"
    bad = _toml(tmp_path, "[http]\nmax_upload_mb = -1\n")
    with pytest.raises(ConfigError) as err:
        serve_settings(bad, None)
    assert err.value.field == "http.max_upload_mb"


def test_keys_in_dualtrack_toml_let_serve_bind_a_public_address(tmp_path, monkeypatch):
    import uvicorn

    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw))
    for name in ("DUALTRACK_HTTP_CONFIG", "DUALTRACK_SERVE_CONFIG"):  # run_cli sets them for its workers
        monkeypatch.setenv(name, "")
    monkeypatch.chdir(tmp_path)
    open_config = _toml(tmp_path, "")
    with pytest.raises(ConfigError, match="new-key"):
        run_cli(config=str(open_config), host="0.0.0.0", port=0)
    assert not started
    keyed = _toml(
        tmp_path, f'[http]\ndata_dir = "d"\n[[http.api_keys]]\nname = "pane"\nhash = "{hash_key(KEY)}"\n'
    )
    assert run_cli(config=str(keyed), host="0.0.0.0", port=0) == 0
    assert started and started[0]["host"] == "0.0.0.0"
    access = started[0]["log_config"]["loggers"]["dualtrack.http"]  # the JSON access lines are shown
    assert access["level"] == "INFO" and access["handlers"]
    assert (tmp_path / "d" / "workspaces").is_dir()


@plugin("mail", description="A plugin the notes-only key may not use.")
class MailPlugin:
    def __init__(self) -> None:
        self.sent = False

    @skill()
    def send(self, to: str) -> str:
        """Send a message.

        Args:
            to: The recipient.
        """
        self.sent = True
        return "sent"


def test_an_ask_offers_a_key_only_the_plugins_it_may_call(serve):
    offered: list[set[str]] = []
    script = [
        Completion("", tool_calls=[ToolCall(id="t1", name="mail-send", arguments=json.dumps({"to": "x"}))]),
        "I cannot send mail.",
    ]

    def model(request):
        offered.append({t["function"]["name"] for t in request.tools or []})
        return script.pop(0)

    mail = MailPlugin()
    orc = Orchestrator(models=[model_card(FunctionConnector(model))], plugins=[NotesPlugin, mail])
    server = serve(orc)
    with httpx.Client(base_url=server.url, headers={"X-API-Key": NOTES_KEY}, timeout=30) as c:
        r = c.post("/v1/ask", json={"prompt": "mail x"})
        assert r.status_code == 200, r.text
        assert r.json()["value"] == "I cannot send mail."
    assert offered[0] == {"notes-shout", "notes-read", "notes-copy", "notes-wait"}
    assert not mail.sent  # the model named a tool it was not offered: refused by the core

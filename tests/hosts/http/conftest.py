from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from dualtrack import Orchestrator
from dualtrack.hosts.http import ApiKeySpec, HttpSettings, create_app, hash_key
from dualtrack.testing import FunctionConnector, ScriptedConnector, model_card

from .support import NotesPlugin, ServerThread

ADMIN_KEY = "dtk_admin-key-for-tests-0123456789abcdefghijklmnop"
NOTES_KEY = "dtk_notes-key-for-tests-0123456789abcdefghijklmnop"


def key_settings(tmp_path: Path, **over: Any) -> HttpSettings:
    keys = [
        ApiKeySpec(
            name="admin", hash=hash_key(ADMIN_KEY), plugins=["*"], max_sensitivity="highly-confidential"
        ),
        ApiKeySpec(
            name="notes-only",
            hash=hash_key(NOTES_KEY),
            plugins=["notes"],
            max_sensitivity="general",
            concurrency=1,
            rate_per_minute=5,
        ),
    ]
    return HttpSettings(data_dir=str(tmp_path / "data"), api_keys=keys, **over)


def make_orc(connector: Any = None, **kw: Any) -> Orchestrator:
    conn = connector or ScriptedConnector(["LOUD"], repeat_last=True)
    return Orchestrator(models=[model_card(conn)], plugins=[NotesPlugin], **kw)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[ServerThread] = []

    def start(orc: Orchestrator, settings: HttpSettings | None = None, **kw: Any) -> ServerThread:
        app = create_app(orc, settings or key_settings(tmp_path), **kw)
        server = ServerThread(app).start()
        server.app = app  # type: ignore[attr-defined]
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


__all__ = ["ADMIN_KEY", "NOTES_KEY", "FunctionConnector", "key_settings", "make_orc"]

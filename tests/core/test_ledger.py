"""The persistent usage ledger: SQLite rows, aggregation, concurrency, config and `dualtrack usage`."""

import asyncio
import datetime as dt
import os
import sqlite3
import stat
import sys
import threading

import pytest

from dualtrack import Completion, Orchestrator, Usage, load_config
from dualtrack._cli import main
from dualtrack._runtime._sqlite_ledger import SqliteLedger, default_ledger_path
from dualtrack.testing import ScriptedConnector, model_card
from tests.core._demo_plugin import Demo


def card(name="gpt", track="partner"):
    return model_card(ScriptedConnector([]), name=name, track=track, cost_input=1.0, cost_output=2.0)


def test_opens_lazily_and_aggregates_by_day_model_track_skill(tmp_path):
    path = tmp_path / "sub" / "usage.sqlite3"
    ledger = SqliteLedger(path)
    assert ledger.rows() == [] and not path.exists()  # listing never creates the file
    ledger.record(card(), "doc.sum", Usage(100, 10), 0.5)
    ledger.record(card(), "doc.sum", Usage(200, 20), 0.25)
    ledger.record(card("local", "in-house"), "doc.sum", Usage(1, 1), 0.0)
    ledger.record(card(), None, Usage(5, 5), 0.1)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    rows = ledger.rows(days=1)
    assert [(r.day, r.model, r.track, r.skill, r.calls) for r in rows] == [
        (today, "gpt", "partner", "-", 1),
        (today, "gpt", "partner", "doc.sum", 2),
        (today, "local", "in-house", "doc.sum", 1),
    ]
    assert (rows[1].input_tokens, rows[1].output_tokens, rows[1].cost_usd) == (300, 30, pytest.approx(0.75))
    assert len(ledger.raw()) == 4
    ledger.close()


def test_days_filter_keeps_old_rows_out(tmp_path):
    path = tmp_path / "usage.sqlite3"
    ledger = SqliteLedger(path)
    ledger.record(card(), "a.b", Usage(1, 1), 1.0)
    old = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=40)).isoformat()
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO usage (ts, day, model, track, skill, input_tokens, output_tokens, cost_usd) "
            "VALUES (0, ?, 'gpt', 'partner', 'a.b', 1, 1, 9.0)",
            (old,),
        )
    assert sum(r.cost_usd for r in ledger.rows(days=30)) == pytest.approx(1.0)
    assert sum(r.cost_usd for r in ledger.rows()) == pytest.approx(10.0)
    assert db_mode(path) == "wal"


def db_mode(path):
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA journal_mode").fetchone()[0]


def test_many_threads_and_two_instances_lose_nothing(tmp_path):
    path = tmp_path / "usage.sqlite3"
    a, b = SqliteLedger(path), SqliteLedger(path)  # like two processes sharing the file

    def work(ledger, n):
        for _ in range(n):
            ledger.record(card(), "x.y", Usage(1, 2), 0.001)

    threads = [threading.Thread(target=work, args=(a if i % 2 else b, 150)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (row,) = a.rows()
    assert (row.calls, row.input_tokens, row.output_tokens) == (1200, 1200, 2400)
    a.close()
    b.close()


async def test_orchestrator_records_real_usage_concurrently(tmp_path):
    conn = ScriptedConnector([Completion("ok", usage=Usage(10, 5))], repeat_last=True)
    ledger = SqliteLedger(tmp_path / "u.sqlite3")
    orc = Orchestrator(models=[model_card(conn, name="m", cost_input=1.0)], plugins=[Demo], ledger=ledger)
    await asyncio.gather(*(orc.invoke("demo.echo", text=str(i)) for i in range(50)))
    (row,) = ledger.rows(days=1)
    assert (row.model, row.skill, row.calls, row.input_tokens) == ("m", "demo.echo", 50, 500)


async def test_a_failing_ledger_never_loses_the_answer(caplog):
    class Broken:
        def record(self, *a):
            raise OSError("disk full; api_key=sk-abcdefghijklmnopqrstu")

    orc = Orchestrator(models=[model_card(ScriptedConnector(["ok"]))], plugins=[Demo], ledger=Broken())
    assert (await orc.invoke("demo.echo", text="x")).value == "ok"
    assert "could not record" in caplog.text and "sk-abcdefghijklmnopqrstu" not in caplog.text


def test_config_paths_memory_env_and_default(tmp_path, monkeypatch):
    monkeypatch.delenv("DUALTRACK_LEDGER", raising=False)
    cfg_file = tmp_path / "dualtrack.toml"
    cfg_file.write_text('models = []\nledger = "data/usage.sqlite3"\n')
    ledger = load_config(cfg_file).make_ledger()
    assert ledger.path == tmp_path / "data" / "usage.sqlite3"  # relative to the config file
    cfg_file.write_text('models = []\nledger = "memory"\n')
    assert load_config(cfg_file).make_ledger() is None
    cfg_file.write_text("models = []\n")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert load_config(cfg_file).make_ledger().path == default_ledger_path()
    assert str(default_ledger_path()).startswith(str(tmp_path / "xdg"))
    monkeypatch.setenv("DUALTRACK_LEDGER", str(tmp_path / "env.sqlite3"))
    assert load_config(cfg_file).make_ledger().path == tmp_path / "env.sqlite3"


def test_cli_usage_shows_spend_by_day_model_track_and_skill(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "usage.sqlite3"
    ledger = SqliteLedger(path)
    ledger.record(card(), "document.summarize", Usage(1000, 500), 0.0123)
    ledger.record(card("local", "in-house"), "code.explain", Usage(10, 10), 0.0)
    ledger.close()
    cfg = tmp_path / "dualtrack.toml"
    cfg.write_text(f'models = []\nplugins = []\nledger = "{path.name}"\n')
    assert main(["--config", str(cfg), "usage", "--days", "7"]) == 0
    out = capsys.readouterr().out
    for text in ("document.summarize", "code.explain", "gpt", "local", "partner", "in-house", "0.012300"):
        assert text in out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_a_new_ledger_is_private_to_its_owner(tmp_path):
    old = os.umask(0o022)  # the common default, which would give 0644 files and 0755 directories
    try:
        ledger = SqliteLedger(tmp_path / "data" / "dualtrack" / "usage.sqlite3")
        ledger.record(model_card(ScriptedConnector([]), name="m"), "demo.echo", Usage(1, 1), 0.0)
    finally:
        os.umask(old)
    path = ledger.path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for extra in path.parent.glob("usage.sqlite3-*"):  # the WAL files follow the database's mode
        assert stat.S_IMODE(extra.stat().st_mode) == 0o600, extra
    assert list(path.parent.glob("usage.sqlite3-wal"))  # the write went through WAL
    ledger.close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_an_existing_ledger_and_directory_keep_their_modes(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    path = shared / "usage.sqlite3"
    path.touch()
    os.chmod(path, 0o640)  # shared with a group on purpose
    ledger = SqliteLedger(path)
    ledger.record(model_card(ScriptedConnector([]), name="m"), None, Usage(1, 1), 0.0)
    ledger.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and stat.S_IMODE(shared.stat().st_mode) == 0o755


def test_the_cached_day_turns_at_utc_midnight():
    from dualtrack._runtime._ledger import UtcDay

    day = UtcDay()
    midnight = dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp()
    assert day.of(midnight - 0.001) == "2026-02-28"
    assert day.of(midnight) == "2026-03-01" and day.of(midnight + 86_399.9) == "2026-03-01"
    assert day.of(midnight - 10) == "2026-02-28"  # a clock stepping back is not stuck on the cache

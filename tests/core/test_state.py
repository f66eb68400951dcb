"""Shared state (SQLite file, real Redis server): atomic budgets, circuits, leases, windows, mailboxes, usage."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dualtrack import (
    Budgets,
    Completion,
    CompletionRequest,
    ConfigError,
    MissingDependencyError,
    Orchestrator,
    Policy,
    RetryPolicy,
    ServerError,
    SharedState,
    SharedStateError,
    SqliteState,
    Usage,
    estimate_tokens,
    open_state,
)
from dualtrack._runtime._state import CircuitRecord, ScopeLimit
from dualtrack.testing import FunctionConnector, model_card
from tests._redis import redis_server, redis_url  # noqa: F401 - fixtures

DAY = "2030-01-02"


@pytest.fixture(params=["sqlite", "redis"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.sqlite3"
    return str(request.getfixturevalue("redis_url"))


@pytest.fixture
def state(url: str) -> Iterator[SharedState]:
    s = open_state(url)
    yield s
    s.close()


def test_reservations_from_many_threads_never_pass_the_limit(url: str) -> None:
    limit = ScopeLimit(key="global", tokens=50 * 7)
    granted: list[bool] = []

    def worker(n: int) -> None:
        s = open_state(url)  # one client per thread, as separate workers would have
        for i in range(20):
            short = s.reserve(DAY, ["global"], [limit], 0.0, 7, hold=f"h{n}-{i}", ttl_s=60)
            granted.append(short is None)
        s.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == 50
    s = open_state(url)
    assert s.used(DAY, ["global"]) == {"global": (0.0, 350.0)}
    s.close()


def test_settle_turns_a_hold_into_spend_and_refusals_name_the_scope(state: SharedState) -> None:
    limits = [ScopeLimit(key="global", usd=1.0), ScopeLimit(key="doc.sum", tokens=1000)]
    keys = ["global", "doc.sum", "doc"]
    assert state.reserve(DAY, keys, limits, 0.40, 300, hold="a", ttl_s=60) is None
    assert state.used(DAY, keys) == {"global": (0.40, 300.0), "doc.sum": (0.40, 300.0), "doc": (0.40, 300.0)}
    state.settle(DAY, keys, "a", 0.50, 400)  # the real usage replaces the estimate
    assert state.spent(DAY, "doc") == (pytest.approx(0.50), 400)
    short = state.reserve(DAY, keys, limits, 0.60, 10, hold="b", ttl_s=60)
    assert short is not None and (short.key, short.unit.value, short.limit) == ("global", "usd", 1.0)
    assert short.used == pytest.approx(0.50)
    short = state.reserve(DAY, keys, limits, 0.0, 700, hold="c", ttl_s=60)  # free: never refused by USD
    assert short is not None and (short.key, short.unit.value, short.used) == ("doc.sum", "tokens", 400.0)
    assert state.reserve(DAY, keys, limits, 0.0, 600, hold="d", ttl_s=60) is None
    assert state.spent("2030-01-03", "global") == (0.0, 0)  # each UTC day starts at zero


def test_a_hold_of_a_worker_that_died_lapses(state: SharedState) -> None:
    limit = [ScopeLimit(key="global", tokens=10)]
    assert state.reserve(DAY, ["global"], limit, 0.0, 10, hold="dead", ttl_s=0.2) is None
    assert state.reserve(DAY, ["global"], limit, 0.0, 1, hold="x", ttl_s=60) is not None
    time.sleep(0.3)
    assert state.reserve(DAY, ["global"], limit, 0.0, 9, hold="y", ttl_s=60) is None


def test_circuit_records_and_a_single_probe(state: SharedState) -> None:
    now = time.time()
    assert state.claim_probe("m", now, 30) is False  # no open circuit: nothing to probe
    state.open_circuit(
        CircuitRecord(model="m", opened_at=now, until=now + 30, why="5 failed", last_error="E")
    )
    rec = state.circuits()["m"]
    assert (rec.until, rec.why, rec.last_error, rec.probe_until) == (now + 30, "5 failed", "E", 0.0)
    assert state.claim_probe("m", now, 30) is True
    assert state.claim_probe("m", now + 1, 30) is False  # one probe in the fleet
    state.end_probe("m")
    assert state.claim_probe("m", now + 2, 30) is True
    assert state.claim_probe("m", now + 40, 30) is True  # a claim lapses with its worker
    state.close_circuit("m")
    assert state.circuits() == {}


def test_leases_windows_and_mailboxes(state: SharedState) -> None:
    assert [state.lease("k", 2, t, 60) for t in "abc"] == [True, True, False]
    state.unlease("k", "a")
    assert state.lease("k", 2, "d", 60) is True
    assert state.lease("short", 1, "x", 0.1) and not state.lease("short", 1, "y", 60)
    time.sleep(0.2)
    assert state.lease("short", 1, "y", 60)  # the lease of a dead worker lapsed
    assert [state.hit("r", 3, 60.0, str(i)) for i in range(3)] == [None, None, None]
    wait = state.hit("r", 3, 60.0, "4")
    assert wait is not None and 59.0 < wait <= 60.0
    assert state.deliver("box", "approve") is False  # nobody waits
    state.expect("box", 10)
    assert state.collect("box") is None
    assert state.deliver("box", "approve") is True
    assert state.deliver("box", "decline") is False  # the first answer stands
    assert state.collect("box") == "approve"
    assert state.collect("box") is None and state.deliver("box", "approve") is False


def exact(request: CompletionRequest) -> Completion:
    return Completion("ok", usage=Usage(estimate_tokens(request.messages), request.max_tokens or 0))


async def test_two_orchestrators_on_one_state_spend_one_budget_and_share_usage(url: str) -> None:
    orcs = [
        Orchestrator(
            models=[model_card(FunctionConnector(exact), name="paid")],
            plugins=[],
            budgets=Budgets(tokens_per_day=1000),
            state=url,
        )
        for _ in range(2)
    ]
    first = await orcs[0].generate("spend", max_tokens=100)
    per_call = first.calls[0].usage.total_tokens  # type: ignore[union-attr]
    ok = 1
    refused = []
    for i in range(20):
        try:
            await orcs[i % 2].generate("spend", max_tokens=100)
            ok += 1
        except Exception as exc:  # noqa: BLE001
            refused.append(exc)
    assert ok == 1000 // per_call
    assert orcs[1].budget is not None and orcs[1].budget.spent() == (0.0, ok * per_call)
    assert "budget: global" in str(refused[0]) and "tokens today" in str(refused[0])
    rows = orcs[0].ledger.rows(days=1)  # type: ignore[attr-defined]
    assert sum(r.calls for r in rows) == ok
    for orc in orcs:
        await orc.aclose()


async def test_a_circuit_opened_by_one_orchestrator_is_skipped_by_the_other(url: str) -> None:
    def broken(request: CompletionRequest) -> Completion:
        raise ServerError("down", status_code=503)

    def build(fn: object) -> tuple[Orchestrator, FunctionConnector]:
        flaky = FunctionConnector(fn)  # type: ignore[arg-type]
        orc = Orchestrator(
            models=[
                model_card(flaky, name="flaky", quality=1.0),
                model_card(FunctionConnector(exact), name="ok"),
            ],
            policy=Policy(objective="quality"),
            plugins=[],
            retry=RetryPolicy(max_retries=0, breaker_threshold=2, breaker_cooldown_s=0.3),
            state=url,
        )
        assert orc.executor.circuits is not None
        orc.executor.circuits.refresh_s = 0.0
        return orc, flaky

    a, _ = build(broken)
    b, healthy = build(exact)
    for _ in range(2):
        await a.generate("x")
    assert a.executor.breaker("flaky").state == "open"
    res = await b.generate("x")
    assert res.calls[-1].model == "ok" and not healthy.calls
    assert "circuit open (2 failed calls in a row; last error ServerError)" in res.explain()
    time.sleep(0.35)  # cool-down over: exactly one worker takes the half-open probe
    assert b.executor.breaker("flaky").acquire() == "probe"
    assert a.executor.breaker("flaky").acquire() is None
    assert "another worker is probing" in (a.executor.breaker("flaky").unavailable_reason() or "")
    b.executor.breaker("flaky").record_success("probe")  # b's probe answered: closed everywhere
    assert a.executor.breaker("flaky").state == "closed"
    assert (await a.generate("x")).calls[-1].attempts[0].model == "flaky"
    for orc in (a, b):
        await orc.aclose()


def test_urls_config_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="not a known kind of shared state"):
        open_state("postgres://db/x")
    with pytest.raises(ConfigError, match="sqlite:///relative"):
        open_state("sqlite://state.db")
    assert open_state("sqlite:///rel/s.db", base=tmp_path).path == tmp_path / "rel" / "s.db"  # type: ignore[attr-defined]
    assert open_state("sqlite:////abs/s.db").path == Path("/abs/s.db")  # type: ignore[attr-defined]
    assert open_state("redis://:hunter2@127.0.0.1:1/0").url == "redis://:***@127.0.0.1:1/0"
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'dualtrack\[redis\]'"):
        open_state("redis://127.0.0.1:1/0")
    monkeypatch.delitem(sys.modules, "redis")
    cfg = tmp_path / "dualtrack.toml"
    cfg.write_text(
        'state = "sqlite:///shared/state.sqlite3"\n[budgets]\ntokens_per_day = 10\n', encoding="utf-8"
    )
    orc = Orchestrator.from_config(cfg, plugins=[])
    assert isinstance(orc.state, SqliteState) and orc.state.path == tmp_path / "shared" / "state.sqlite3"
    assert getattr(orc.ledger, "path", None) == orc.state.path  # usage rows live in the shared file
    assert type(orc.budget).__name__ == "SharedBudgetTracker"
    orc.close()
    monkeypatch.setenv("DUALTRACK_STATE", f"sqlite:///{tmp_path}/env.sqlite3")
    (tmp_path / "plain.toml").write_text("", encoding="utf-8")
    assert Orchestrator.from_config(tmp_path / "plain.toml", plugins=[]).state is not None


def test_an_unreachable_redis_is_a_typed_error_and_circuits_degrade_to_this_worker() -> None:
    pytest.importorskip("redis")
    s = open_state("redis://:pw@127.0.0.1:1/0")
    with pytest.raises(
        SharedStateError, match=r"redis://:\*\*\*@127.0.0.1:1/0: .*check that the Redis server runs"
    ):
        s.used(DAY, ["global"])
    orc = Orchestrator(models=[model_card(FunctionConnector(exact))], plugins=[], state=s)
    assert orc.executor.unavailable() == {}  # the view stays empty; breakers still count locally


def test_sqlite_state_file_is_private(tmp_path: Path) -> None:
    s = SqliteState(tmp_path / "new" / "state.sqlite3")
    s.lease("a", 1, "t", 10)
    assert (s.path.stat().st_mode & 0o777) == 0o600 and (s.path.parent.stat().st_mode & 0o777) == 0o700
    s.close()

"""Circuit breakers: window, failure ratio, half-open probe; visible to the router and the CLI."""

import io

import pytest
from rich.console import Console

from dualtrack import (
    AllAttemptsFailedError,
    CircuitBreaker,
    Constraint,
    Orchestrator,
    RetryPolicy,
    ServerError,
)
from dualtrack.testing import FunctionConnector, ScriptedConnector, model_card
from tests.core._demo_plugin import Demo


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_opens_after_threshold_failures_in_window():
    clock = Clock()
    b = CircuitBreaker(threshold=3, window_s=10, cooldown_s=5, clock=clock)
    for _ in range(2):
        assert b.acquire() == "call"
        b.record_failure()
    assert b.state == "closed"
    b.record_failure(error="ServerError")
    assert b.state == "open" and b.acquire() is None
    assert "circuit open" in b.unavailable_reason() and "ServerError" in b.unavailable_reason()
    assert b.opened_count == 1


def test_failures_outside_the_window_do_not_count():
    clock = Clock()
    b = CircuitBreaker(threshold=3, window_s=10, cooldown_s=5, clock=clock)
    for _ in range(5):
        b.record_failure()
        clock.t += 6  # never three within ten seconds
    assert b.state == "closed"


def test_rare_failures_among_many_successes_keep_it_closed():
    b = CircuitBreaker(threshold=3, window_s=60, cooldown_s=5, clock=Clock(), failure_ratio=0.5)
    for i in range(100):
        if i % 10 == 0:
            b.record_failure()
        else:
            b.record_success()
    assert b.state == "closed" and b.failures == 10
    for _ in range(90):
        b.record_failure()
    assert b.state == "open"


def test_a_hard_outage_opens_at_once_however_busy_the_model_was():
    clock = Clock()
    b = CircuitBreaker(threshold=3, window_s=60, cooldown_s=5, clock=clock)
    for _ in range(500):
        b.record_success()
    b.record_failure()
    b.record_failure()
    assert b.state == "closed"
    b.record_failure()  # three in a row: open, whatever the ratio over the window
    assert b.state == "open"


def test_consecutive_failures_spread_beyond_the_window_do_not_open():
    clock = Clock()
    b = CircuitBreaker(threshold=3, window_s=10, cooldown_s=5, clock=clock)
    for _ in range(3):
        b.record_failure()
        clock.t += 11  # each failure alone in its window
    assert b.state == "closed" and b.failures == 0


def test_half_open_lets_exactly_one_probe_and_its_result_decides():
    clock = Clock()
    b = CircuitBreaker(threshold=1, window_s=10, cooldown_s=5, clock=clock)
    b.record_failure()
    assert b.state == "open"
    clock.t += 5
    assert b.state == "half-open" and b.unavailable_reason() is None
    assert b.acquire() == "probe"
    assert b.acquire() is None and "probe in flight" in b.unavailable_reason()
    b.record_failure("probe")
    assert b.state == "open" and b.opened_count == 2
    clock.t += 5
    assert b.acquire() == "probe"
    b.release("probe")  # cancelled probe: the slot is free again
    assert b.acquire() == "probe"
    b.record_success("probe")
    assert b.state == "closed" and b.acquire() == "call" and b.failures == 0


def test_stragglers_do_not_change_an_open_circuit():
    clock = Clock()
    b = CircuitBreaker(threshold=1, window_s=10, cooldown_s=5, clock=clock)
    b.record_failure()
    opened = b.unavailable_reason()
    clock.t += 1
    b.record_failure()  # a call that started before the circuit opened
    b.record_success()
    assert b.state == "open" and b.opened_count == 1 and opened.startswith("circuit open")


async def test_open_circuit_moves_traffic_and_shows_in_explanations_and_cli():
    clock = Clock()
    healthy = {"on": False}

    def flaky(req):
        if not healthy["on"]:
            raise ServerError("503 from partner", status_code=503)
        return "partner"

    partner = FunctionConnector(flaky)
    local = ScriptedConnector(["local"], repeat_last=True)
    retry = RetryPolicy(max_retries=0, breaker_threshold=2, breaker_window_s=60, breaker_cooldown_s=30)
    orc = Orchestrator(
        models=[
            model_card(partner, name="partner", track="partner", quality=1.0),
            model_card(local, name="local", quality=0.0),
        ],
        plugins=[Demo],
        retry=retry,
    )
    orc.executor.clock = clock
    for _ in range(2):
        assert (await orc.invoke("demo.echo", text="x")).value == "local"
    assert orc.executor.breakers["partner"].state == "open"
    res = await orc.invoke("demo.echo", text="x")
    assert res.value == "local" and len(partner.calls) == 2
    assert "partner" not in res.calls[0].decision.order
    assert "rejected: circuit open" in res.explain()
    assert "circuit open" in orc.route("demo.echo").explain()

    from dualtrack._cli._views import models_table

    buf = io.StringIO()
    models_table(Console(file=buf, width=200), orc)
    assert "open" in buf.getvalue()

    healthy["on"] = True
    clock.t += 30  # cool-down over: the next call probes the partner and closes the circuit
    res = await orc.invoke("demo.echo", text="x")
    assert res.value == "partner" and orc.executor.breakers["partner"].state == "closed"


async def test_a_call_counts_once_however_many_retries_it_took():
    """Retries do not each count: a call that succeeded after retries is a success."""
    conn = ScriptedConnector([ServerError("x"), ServerError("x"), "ok"] * 4 + [ServerError("x")] * 3)
    orc = Orchestrator(
        models=[model_card(conn, name="only")],
        plugins=[Demo],
        retry=RetryPolicy(max_retries=2, base_delay_s=0, breaker_threshold=2),
    )
    for _ in range(4):
        assert (await orc.invoke("demo.echo", text="x")).value == "ok"
    breaker = orc.executor.breakers["only"]
    assert breaker.state == "closed" and breaker.failures == 0  # 8 failed requests, 0 failed calls
    with pytest.raises(AllAttemptsFailedError):
        await orc.invoke("demo.echo", text="x")
    assert breaker.failures == 1 and breaker.state == "closed"  # three failed requests: one failed call
    assert len(conn.calls) == 15


def test_the_ratio_opens_only_after_the_minimum_number_of_calls():
    b = CircuitBreaker(
        threshold=100, window_s=60, cooldown_s=5, clock=Clock(), failure_ratio=0.5, min_calls=10
    )
    for _ in range(4):
        b.record_success()
        b.record_failure()
    assert b.state == "closed"  # 50% failed, but only 8 calls
    b.record_success()
    b.record_failure()  # 10 calls, 5 failed
    assert b.state == "open" and "5 of 10 calls failed" in b.unavailable_reason()


def test_an_early_probe_is_granted_once_while_open():
    clock = Clock()
    b = CircuitBreaker(threshold=1, window_s=10, cooldown_s=30, clock=clock)
    b.record_failure()
    assert b.acquire() is None  # cooling down: ordinary calls are refused
    assert b.acquire(early=True) == "probe"
    assert b.acquire(early=True) is None  # one probe at a time
    b.record_success("probe")
    assert b.state == "closed"


async def test_the_only_qualifying_model_is_probed_instead_of_refusing_every_call():
    healthy = {"on": False}

    def flaky(req):
        if not healthy["on"]:
            raise ServerError("503 from the only model", status_code=503)
        return "back"

    conn = FunctionConnector(flaky)
    orc = Orchestrator(
        models=[model_card(conn, name="only")],
        plugins=[Demo],
        retry=RetryPolicy(max_retries=0, breaker_threshold=1, breaker_cooldown_s=3600),
    )
    with pytest.raises(AllAttemptsFailedError):
        await orc.invoke("demo.echo", text="x")
    assert orc.executor.breakers["only"].state == "open"
    assert "probe: circuit open" in orc.route("demo.echo").explain()
    with pytest.raises(AllAttemptsFailedError) as err:  # probed (and failed again), not refused unseen
        await orc.invoke("demo.echo", text="x")
    assert err.value.attempts[0].probe and err.value.attempts[0].called and len(conn.calls) == 2
    healthy["on"] = True
    res = await orc.invoke("demo.echo", text="x")  # no cool-down to wait for: the probe closes it
    assert res.value == "back" and orc.executor.breakers["only"].state == "closed"
    assert res.attempts[0].probe and "(circuit probe)" in res.explain()


async def test_explain_names_the_open_circuit_as_the_reason_a_model_was_skipped():
    conn = ScriptedConnector([ServerError("down")], repeat_last=True)
    local = ScriptedConnector(["local"], repeat_last=True)
    orc = Orchestrator(
        models=[
            model_card(conn, name="partner", track="partner", quality=1.0),
            model_card(local, name="local", quality=0.0),
        ],
        plugins=[Demo],
        retry=RetryPolicy(max_retries=0, breaker_threshold=1),
    )
    await orc.invoke("demo.echo", text="x")
    res = await orc.invoke("demo.echo", text="x")
    (rejection,) = [r for r in res.calls[0].decision.rejections if r.model == "partner"]
    assert rejection.constraint is Constraint.CIRCUIT
    assert "partner" in res.explain() and "rejected: circuit open (1 failed call in a row" in res.explain()

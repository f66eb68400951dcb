"""Two worker processes share one SQLite file, then one real Redis: one budget, each other's open circuits."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dualtrack import Message, estimate_tokens, open_state
from tests._redis import redis_server, redis_url  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "redis"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.sqlite3"
    return str(request.getfixturevalue("redis_url"))


def worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core._state_worker", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def result(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_two_workers_spend_one_budget_exactly(url: str) -> None:
    per_call = estimate_tokens([Message.user("spend one unit")]) + 100  # what each call reserves and uses
    affordable = 7
    budget = affordable * per_call + per_call // 2
    start = str(time.time() + 4.0)  # both start spending at the same moment
    procs = [worker("spend", url, "6", str(budget), start) for _ in range(2)]
    outs = [result(p) for p in procs]
    assert sum(int(o["ok"]) for o in outs) == affordable  # type: ignore[call-overload]
    refused = {name for o in outs for name in o["refused"]}  # type: ignore[attr-defined]
    assert refused and refused <= {"BudgetExceededError", "AllAttemptsFailedError"}
    state = open_state(url)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert state.spent(day, "global") == (0.0, affordable * per_call)
    assert affordable * per_call <= budget
    assert state.used(day, ["global"]) == {"global": (0.0, float(affordable * per_call))}  # no hold left
    assert sum(r.calls for r in state.ledger().rows(days=1)) == affordable  # type: ignore[attr-defined]
    state.close()


def test_a_circuit_one_worker_opened_is_skipped_by_the_other(url: str, tmp_path: Path) -> None:
    signal = str(tmp_path / "opened")
    observer = worker("observe", url, signal)
    deadline = time.monotonic() + 60
    while not Path(signal + ".ready").exists():  # its first call is made before any failure
        assert observer.poll() is None and time.monotonic() < deadline, observer.communicate()
        time.sleep(0.02)
    opener = worker("open", url, signal)
    opened = result(opener)
    seen = result(observer)
    assert opened["state"] == "open" and opened["flaky_calls"] == 2  # it opened after 2 failed calls
    assert seen["first"] == "flaky"  # in the observer's process the model works ...
    assert seen["after"] == "steady" and seen["flaky_calls_after"] == 0  # ... yet it is skipped
    assert "flaky" in str(seen["explain"]) and "rejected: circuit open (2 failed calls" in str(
        seen["explain"]
    )
    assert seen["state"] == "open"

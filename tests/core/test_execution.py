"""The executor: retries, backoff, fallback, deadlines, streaming, concurrency and cancellation."""

import asyncio
import threading

import pytest

from dualtrack import (
    AllAttemptsFailedError,
    AuthenticationError,
    Completion,
    CompletionRequest,
    ConnectorError,
    ContentFilterError,
    ContextLengthError,
    MalformedResponseError,
    Message,
    Orchestrator,
    Outcome,
    RateLimitError,
    Requirements,
    RetryPolicy,
    Router,
    Sensitivity,
    ServerError,
    SkillContext,
    plugin,
    skill,
)
from dualtrack._runtime._execution import Executor
from dualtrack.testing import FunctionConnector, ScriptedConnector, model_card
from tests.core._demo_plugin import EchoSkill


@plugin("demo", description="d")
class Demo(EchoSkill):
    @skill
    async def twice(self, ctx: SkillContext, text: str) -> list[str]:
        """Two model calls in one skill call.

        Args:
            text: The text.
        """
        return [(await ctx.generate(text)).text, (await ctx.generate(text + "!")).text]

    @skill
    def blocking(self, ctx: SkillContext, text: str) -> str:
        """A sync skill.

        Args:
            text: The text.
        """
        return ctx.generate_sync(text).text


class FakeTime:
    """A clock that only moves when the executor sleeps (or a test says so)."""

    def __init__(self):
        self.t = 0.0
        self.sleeps = []

    def __call__(self):
        return self.t

    async def sleep(self, d):
        self.sleeps.append(d)
        self.t += d


def make(cards, retry=None, **kw):
    orc = Orchestrator(models=cards, plugins=[Demo], retry=retry or RetryPolicy(base_delay_s=0.1), **kw)
    ft = FakeTime()
    orc.executor.clock = ft
    orc.executor.sleep = ft.sleep
    return orc, ft


async def test_retry_honours_retry_after_then_succeeds():
    conn = ScriptedConnector([RateLimitError("slow down", retry_after=2.0), "ok"])
    orc, ft = make([model_card(conn, name="m")])
    res = await orc.invoke("demo.echo", text="x")
    assert res.value == "ok"
    assert len(ft.sleeps) == 1 and 2.0 <= ft.sleeps[0] <= 2.0 + 0.1
    assert [(a.retry, a.ok, a.error_type) for a in res.attempts] == [
        (0, False, "RateLimitError"),
        (1, True, None),
    ]


async def test_backoff_is_exponential_with_full_jitter():
    conn = ScriptedConnector([ServerError("a"), ServerError("b"), MalformedResponseError("c"), "ok"])
    orc, ft = make(
        [model_card(conn, name="m")], RetryPolicy(max_retries=3, base_delay_s=1.0, max_delay_s=3.0)
    )
    assert (await orc.invoke("demo.echo", text="x")).value == "ok"
    caps = [1.0, 2.0, 3.0]
    assert len(ft.sleeps) == 3
    assert all(0 <= d <= cap for d, cap in zip(ft.sleeps, caps, strict=True))
    orc.executor.rng.seed(1)
    draws = {orc.executor.backoff(4, None) for _ in range(50)}
    assert len(draws) > 40 and max(draws) <= 3.0  # jittered, capped


async def test_retry_after_beyond_cap_moves_on_without_waiting():
    slow = ScriptedConnector([RateLimitError("come back in an hour", retry_after=3600)])
    other = ScriptedConnector(["other"])
    orc, ft = make([model_card(slow, name="a", quality=1.0), model_card(other, name="b", quality=0.0)])
    res = await orc.invoke("demo.echo", text="x")
    assert res.value == "other" and ft.sleeps == []


async def test_all_fail_lists_every_attempt_with_model_error_and_duration():
    a = ScriptedConnector([ServerError("a down")] * 3)
    b = ScriptedConnector([AuthenticationError("bad key")])
    orc, _ = make(
        [model_card(a, name="a", quality=1.0), model_card(b, name="b", quality=0.0)],
        RetryPolicy(max_retries=2),
    )
    with pytest.raises(AllAttemptsFailedError) as err:
        await orc.invoke("demo.echo", text="x")
    attempts = err.value.attempts
    assert [(x.model, x.retry, x.error_type) for x in attempts] == [
        ("a", 0, "ServerError"),
        ("a", 1, "ServerError"),
        ("a", 2, "ServerError"),
        ("b", 0, "AuthenticationError"),  # authentication: no retry, straight on
    ]
    text = str(err.value)
    assert "a retry 2: ServerError: a down" in text and "b: AuthenticationError: bad key" in text
    assert all(x.duration_s >= 0 for x in attempts)
    assert isinstance(err.value.__cause__, AuthenticationError)


async def test_context_length_falls_back_only_to_a_larger_window():
    small = ScriptedConnector([ContextLengthError("too long")])
    same = ScriptedConnector([])
    big = ScriptedConnector(["fits"])
    orc, _ = make(
        [
            model_card(small, name="a-small", context_window=8000, quality=1.0),
            model_card(same, name="b-same", context_window=8000, quality=0.9),
            model_card(big, name="c-big", context_window=100_000, quality=0.0),
        ]
    )
    res = await orc.invoke("demo.echo", text="x")
    assert res.value == "fits" and same.calls == []
    assert [(a.outcome, a.error_type) for a in res.attempts] == [
        (Outcome.ERROR, "ContextLengthError"),
        (Outcome.WINDOW_TOO_SMALL, None),
        (Outcome.OK, None),
    ]
    assert orc.executor.breakers["a-small"].failures == 0  # not a health problem


async def test_content_filter_is_raised_not_shopped_around():
    strict = ScriptedConnector([ContentFilterError("refused")])
    lax = ScriptedConnector([])
    orc, _ = make([model_card(strict, name="a", quality=1.0), model_card(lax, name="b", quality=0.0)])
    with pytest.raises(ContentFilterError, match="refused") as err:
        await orc.invoke("demo.echo", text="x")
    assert err.value.model == "a" and lax.calls == []


async def test_a_client_error_of_one_model_moves_on_without_retrying():
    broken = ScriptedConnector([ConnectorError("404 deployment not found", status_code=404)])
    other = ScriptedConnector(["other"])
    orc, ft = make([model_card(broken, name="a", quality=1.0), model_card(other, name="b", quality=0.0)])
    res = await orc.invoke("demo.echo", text="x")
    assert res.value == "other" and ft.sleeps == [] and len(broken.calls) == 1
    assert res.attempts[0].error_type == "ConnectorError"


async def test_an_untyped_connector_error_is_recorded_and_the_next_model_answers():
    buggy = ScriptedConnector([KeyError("bug with sk-secret-0123456789abcdef")] * 3)
    other = ScriptedConnector(["other"])
    orc, ft = make([model_card(buggy, name="a", quality=1.0), model_card(other, name="b", quality=0.0)])
    orc.redactor.add("sk-secret-0123456789abcdef")
    res = await orc.invoke("demo.echo", text="x")
    assert res.value == "other" and len(buggy.calls) == 1 and ft.sleeps == []  # not retried
    first = res.attempts[0]
    assert first.outcome is Outcome.ERROR and first.error_type == "KeyError" and first.called
    assert "sk-secret" not in first.error and "bug with" in first.error
    assert orc.executor.breakers["a"].failures == 1  # counted against the model's health


async def test_an_untyped_connector_error_of_the_last_model_ends_in_a_typed_error():
    orc, _ = make([model_card(ScriptedConnector([ValueError("bad url")]), name="m")])
    with pytest.raises(AllAttemptsFailedError, match="ValueError: bad url") as err:
        await orc.invoke("demo.echo", text="x")
    assert isinstance(err.value.__cause__, ConnectorError) and err.value.__cause__.model == "m"
    assert isinstance(err.value.__cause__.__cause__, ValueError)


async def test_deadline_covers_the_whole_skill_call_not_each_model_call():
    holder = {}

    def slow(req):
        holder["ft"].t += 11.0  # each answer takes eleven "seconds"
        return "ok"

    conn = FunctionConnector(slow)
    orc, ft = make([model_card(conn, name="m")], RetryPolicy(deadline_s=20.0))
    holder["ft"] = ft
    assert (await orc.invoke("demo.twice", text="x")).value == ["ok", "ok"]  # second starts at 11 < 20
    orc2, ft2 = make([model_card(conn, name="m")], RetryPolicy(deadline_s=10.0))
    holder["ft"] = ft2
    with pytest.raises(AllAttemptsFailedError, match="deadline passed") as err:
        await orc2.invoke("demo.twice", text="x")  # the second model call would start at 11 > 10
    assert len(conn.calls) == 3 and err.value.attempts[-1].outcome is Outcome.DEADLINE
    # a fresh skill call gets a fresh deadline
    assert (await orc2.invoke("demo.echo", text="x")).value == "ok"


async def test_deadline_stops_retries_and_backoff():
    conn = ScriptedConnector([ServerError("x")] * 10)
    orc, ft = make([model_card(conn, name="m")], RetryPolicy(max_retries=9, base_delay_s=4.0, deadline_s=5.0))
    with pytest.raises(AllAttemptsFailedError):
        await orc.invoke("demo.echo", text="x")
    assert ft.t < 5.0 and len(conn.calls) < 10


async def test_attempt_timeout_is_a_retryable_typed_error():
    calls = []

    async def hang_once(req):
        calls.append(req.timeout)
        if len(calls) == 1:
            await asyncio.Event().wait()
        return "late but fine"

    orc = Orchestrator(
        models=[model_card(FunctionConnector(hang_once), name="m")],
        plugins=[Demo],
        retry=RetryPolicy(attempt_timeout_s=0.05, base_delay_s=0),
    )
    res = await orc.invoke("demo.echo", text="x")
    assert res.value == "late but fine"
    assert res.attempts[0].error_type == "ModelTimeoutError" and calls[0] == pytest.approx(0.05)


async def test_stream_failure_before_text_is_retried_once_text_is_seen_once():
    conn = ScriptedConnector([ServerError("reset before first byte"), "hello world"])
    orc, _ = make([model_card(conn, name="m")])
    chunks = []
    res = await orc.generate("x", on_text=chunks.append)
    assert res.value == "hello world" and "".join(chunks) == "hello world"


async def test_stream_cut_after_text_is_not_retried_or_moved():
    def cut(req):
        req.on_text("partial ")
        raise ServerError("stream cut")

    other = ScriptedConnector([])
    orc, _ = make(
        [
            model_card(FunctionConnector(cut), name="a", quality=1.0),
            model_card(other, name="b", quality=0.0),
        ]
    )
    chunks = []
    with pytest.raises(ServerError, match="not retried") as err:
        await orc.generate("x", on_text=chunks.append)
    assert chunks == ["partial "] and other.calls == []
    assert "8 characters were streamed" in str(err.value)


async def test_text_from_a_timed_out_attempt_never_reaches_the_host():
    late = {}

    async def first_hangs(req):
        if not late:
            late["cb"] = req.on_text
            await asyncio.Event().wait()
        return "fresh"

    orc = Orchestrator(
        models=[model_card(FunctionConnector(first_hangs), name="m")],
        plugins=[Demo],
        retry=RetryPolicy(attempt_timeout_s=0.05, base_delay_s=0),
    )
    chunks = []
    res = await orc.generate("x", on_text=chunks.append)
    late["cb"]("stale text")  # e.g. a worker thread of the first attempt still emitting
    assert res.value == "fresh" and "".join(chunks) == "fresh"


async def test_per_model_concurrency_limit_is_respected():
    state = {"now": 0, "max": 0}

    async def work(req):
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        await asyncio.sleep(0.01)
        state["now"] -= 1
        return "ok"

    orc = Orchestrator(
        models=[model_card(FunctionConnector(work), name="m", max_concurrency=3)], plugins=[Demo]
    )
    results = await asyncio.gather(*(orc.invoke("demo.echo", text=str(i)) for i in range(20)))
    assert len(results) == 20 and state["max"] == 3


async def cancel_once_the_model_is_called(skill_name):
    """Call ``skill_name`` on a model that never answers and cancel the call once the model has it.

    Returns the orchestrator and an event that is set when the model call sees the cancellation.
    """
    cancelled = threading.Event()
    started = asyncio.Event()

    async def forever(req):
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    orc = Orchestrator(models=[model_card(FunctionConnector(forever), name="m")], plugins=[Demo])
    task = asyncio.create_task(orc.invoke(skill_name, text="x"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return orc, cancelled


async def test_cancelling_a_skill_call_cancels_its_model_call():
    orc, cancelled = await cancel_once_the_model_is_called("demo.echo")
    assert cancelled.is_set()
    assert orc.executor.breakers["m"].failures == 0


async def test_cancelling_a_sync_skill_cancels_the_model_call_its_thread_started():
    _, cancelled = await cancel_once_the_model_is_called("demo.blocking")
    for _ in range(100):
        if cancelled.is_set():
            break
        await asyncio.sleep(0.01)
    assert cancelled.is_set()


async def test_executor_refuses_a_candidate_below_the_payload_clearance():
    """Defence in depth: even a decision built by hand cannot send data upward."""
    low = ScriptedConnector([])
    high = ScriptedConnector(["safe"])
    cards = [
        model_card(low, name="low", clearance="general", quality=1.0),
        model_card(high, name="high", clearance="confidential", quality=0.0),
    ]
    router = Router(cards)
    forged = router.route(Requirements(sensitivity=Sensitivity.GENERAL))  # both are candidates
    ex = Executor(router.cards)
    request = CompletionRequest([Message.user("secret")], sensitivity=Sensitivity.CONFIDENTIAL)
    attempts = []
    done = await ex.run(forged, request, attempts)
    assert done.text == "safe" and low.calls == []
    assert attempts[0].outcome is Outcome.CLEARANCE and not attempts[0].called
    assert high.calls[0].sensitivity is Sensitivity.CONFIDENTIAL


async def test_requests_are_copied_per_attempt_with_timeout_and_sensitivity():
    conn = ScriptedConnector([ServerError("x"), Completion("ok")])
    orc, _ = make([model_card(conn, name="m")], RetryPolicy(attempt_timeout_s=7.0))
    await orc.invoke("demo.echo", text="x", sensitivity="confidential")
    first, second = conn.calls
    assert first is not second and first.messages == second.messages
    assert first.timeout == 7.0 and first.sensitivity is Sensitivity.CONFIDENTIAL


def test_backoff_helper_caps_and_refuses_long_retry_after():
    ex = Executor({}, RetryPolicy(max_delay_s=5, base_delay_s=1))
    assert ex.backoff(0, 10.0) is None
    assert 2.0 <= ex.backoff(0, 2.0) <= 2.25
    assert all(0 <= ex.backoff(9, None) <= 5 for _ in range(100))


def test_backoff_jitter_differs_between_executors():
    # Executors in different processes retrying after the same outage must not come back in lockstep.
    policy = RetryPolicy(max_delay_s=60, base_delay_s=1)
    first, second = Executor({}, policy), Executor({}, policy)
    assert [first.backoff(5, None) for _ in range(5)] != [second.backoff(5, None) for _ in range(5)]

"""Who cuts a slow attempt off: the executor, unless the connector promises to do it itself.

A connector may set ``enforces_timeout = True`` (see :class:`dualtrack.Connector`); the
executor then arms no timer of its own for its attempts. Every other connector is cut
off at ``request.timeout`` by the executor, however it misbehaves.
"""

from __future__ import annotations

import asyncio

import pytest

from dualtrack import (
    AllAttemptsFailedError,
    Completion,
    CompletionRequest,
    ModelTimeoutError,
    Orchestrator,
    RetryPolicy,
    path_parameters,
    plugin,
    skill,
)
from dualtrack.testing import FunctionConnector, model_card
from tests.core._demo_plugin import Demo

RETRY = RetryPolicy(attempt_timeout_s=0.05, max_retries=0, base_delay_s=0)


class Promising:
    """A connector that promises to end every call by ``request.timeout`` on its own."""

    enforces_timeout = True

    def __init__(self, wait: float, *, answer: bool) -> None:
        self.wait = wait
        self.answer = answer
        self.timeouts: list[float | None] = []

    async def complete(self, request: CompletionRequest) -> Completion:
        self.timeouts.append(request.timeout)
        await asyncio.sleep(self.wait)
        if not self.answer:
            raise ModelTimeoutError("the connector's own cut-off")
        return Completion("answered by its own rules")


async def test_hung_connector_without_the_promise_is_cut_off_at_request_timeout() -> None:
    async def hang(request: CompletionRequest) -> str:
        await asyncio.Event().wait()
        return "never"

    conn = FunctionConnector(hang)
    orc = Orchestrator(models=[model_card(conn, name="m")], plugins=[Demo], retry=RETRY)
    async with asyncio.timeout(10):  # a hang fails the test instead of stalling the suite
        with pytest.raises(AllAttemptsFailedError) as info:
            await orc.invoke("demo.echo", text="x")
    (attempt,) = info.value.attempts
    assert attempt.error_type == "ModelTimeoutError"
    assert "no answer within" in (attempt.error or "")  # the executor's own cut-off
    assert conn.calls[0].timeout == pytest.approx(0.05)


async def test_a_promising_connector_keeps_the_cut_off_to_itself() -> None:
    # It runs past the attempt timeout and answers: no second timer interrupts it.
    conn = Promising(0.3, answer=True)
    orc = Orchestrator(models=[model_card(conn, name="m")], plugins=[Demo], retry=RETRY)
    res = await orc.invoke("demo.echo", text="x")
    assert res.value == "answered by its own rules"
    assert conn.timeouts == [pytest.approx(0.05)]  # it was told the deadline it promised to keep


async def test_a_promising_connector_reports_its_own_timeout() -> None:
    conn = Promising(0.0, answer=False)
    orc = Orchestrator(models=[model_card(conn, name="m")], plugins=[Demo], retry=RETRY)
    with pytest.raises(AllAttemptsFailedError) as info:
        await orc.invoke("demo.echo", text="x")
    (attempt,) = info.value.attempts
    assert attempt.error_type == "ModelTimeoutError"
    assert "the connector's own cut-off" in (attempt.error or "")


async def test_a_false_or_odd_promise_keeps_the_safety_net() -> None:
    class Hedging(Promising):
        enforces_timeout = "yes"  # type: ignore[assignment]  # only a real True counts

    conn = Hedging(3600, answer=True)
    orc = Orchestrator(models=[model_card(conn, name="m")], plugins=[Demo], retry=RETRY)
    async with asyncio.timeout(10):
        with pytest.raises(AllAttemptsFailedError) as info:
            await orc.invoke("demo.echo", text="x")
    assert "no answer within" in (info.value.attempts[0].error or "")


@plugin("files", description="f")
class Files:
    @skill
    def read(self, path: str, note: str = "") -> str:
        """Read a file.

        Args:
            path: The file.
            note: A note.
        """
        return path


def test_path_parameters_are_worked_out_once_but_handed_out_fresh() -> None:
    orc = Orchestrator(models=[], plugins=[Files])
    s = orc.skill("files.read")
    roles = path_parameters(s)
    assert list(roles) == ["path"]
    roles.clear()  # a caller's copy: changing it changes nothing for the next caller
    assert list(path_parameters(s)) == ["path"]

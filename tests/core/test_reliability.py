"""Reliability through the real ``openai`` connector against a seeded loopback fault server.

The server (tests/e2e/servers/fault_injection.py) runs as a subprocess on 127.0.0.1;
whether a request fails depends only on the seed, the model, the request id in the
prompt and how many times that id was seen, so every run sees the same faults.
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dualtrack import (
    AllAttemptsFailedError,
    CompletionRequest,
    ConfigError,
    ConnectorError,
    Constraint,
    Message,
    ModelCard,
    Orchestrator,
    Outcome,
    Policy,
    RetryPolicy,
    SkillContext,
    plugin,
    skill,
)
from dualtrack.connectors.openai import OpenAIConnector

SERVER = Path(__file__).parents[1] / "e2e" / "servers" / "fault_injection.py"
FLAKY = {"flaky-gpt": {"server": 0.4}}  # 40% of requests get a 500/502/503


@plugin("rel", description="One routed model call per skill call.")
class Rel:
    @skill
    async def call(self, ctx: SkillContext, rid: str) -> str:
        """Make one model call tagged with a request id.

        Args:
            rid: The request id the server keys its faults on.
        """
        return (await ctx.generate(f"rid={rid}", max_tokens=8)).text


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, httpx.Client]]:
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--seed", "11", "--rates", json.dumps(FLAKY)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("PORT "), f"fault server did not start: {line!r}"
        root = f"http://127.0.0.1:{int(line.split()[1])}"
        with httpx.Client(base_url=root, timeout=30) as client:
            yield root, client
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def card(root: str, name: str, wire: str, quality: float = 0.5, base_url: str | None = None) -> ModelCard:
    return ModelCard(
        name=name,
        track="in-house",
        connector="openai",
        quality=quality,
        settings={"base_url": base_url or f"{root}/v1", "model": wire, "api_key": "sk-test-0123456789abcdef"},
    )


FAST = {"base_delay_s": 0.001, "max_delay_s": 0.005, "attempt_timeout_s": 5.0}


async def test_a_sole_model_failing_40_percent_of_requests_serves_at_least_90_percent_of_calls(server):
    root, client = server
    client.post("/reset")
    orc = Orchestrator(
        models=[card(root, "flaky", "flaky-gpt")], plugins=[Rel], retry=RetryPolicy(max_retries=2, **FAST)
    )
    ok, refused = 0, 0
    try:
        for i in range(200):
            try:
                await orc.invoke("rel.call", rid=f"flaky{i}")
                ok += 1
            except AllAttemptsFailedError as exc:
                refused += not any(a.called for a in exc.attempts)
    finally:
        await orc.aclose()
    outcomes = client.get("/stats").json()["outcomes"]
    failed = sum(r[2] != "ok" for recs in outcomes.values() for r in recs)
    total = sum(len(recs) for recs in outcomes.values())
    assert 0.3 < failed / total < 0.5  # the server really failed about 40% of requests
    assert ok >= 180, (ok, refused)
    assert refused == 0  # never refused without a request: the breaker did not shut the model off


async def test_a_hard_outage_opens_the_circuit_and_moves_traffic_to_the_second_model(server):
    root, client = server
    client.post("/reset")
    client.post("/control", json={"rates": {}, "outage": {"primary-gpt": True}})
    orc = Orchestrator(
        models=[
            card(root, "primary", "primary-gpt", quality=1.0),
            card(root, "backup", "backup-gpt", quality=0.0),
        ],
        plugins=[Rel],
        policy=Policy(objective="quality"),
        retry=RetryPolicy(max_retries=2, breaker_threshold=3, **FAST),
    )
    try:
        results = [await orc.invoke("rel.call", rid=f"out{i}") for i in range(10)]
    finally:
        await orc.aclose()
        client.post("/control", json={"rates": FLAKY, "outage": {"primary-gpt": False}})
    assert all(r.models == ["backup"] for r in results)
    assert orc.executor.breakers["primary"].state == "open"
    outcomes = client.get("/stats").json()["outcomes"]
    primary = [r for recs in outcomes.values() for r in recs if r[0] == "primary-gpt"]
    assert len(primary) == 3 * 3  # three failed calls of three requests each opened it; then none
    last = results[-1]
    (rejection,) = [r for r in last.calls[0].decision.rejections if r.model == "primary"]
    assert rejection.constraint is Constraint.CIRCUIT and "circuit open" in last.explain()


async def test_credentials_in_base_url_are_a_typed_error_and_fallback_continues(server):
    root, client = server
    client.post("/reset")
    with_userinfo = root.replace("http://", "http://user:secret-pass@") + "/v1"
    orc = Orchestrator(
        models=[
            card(root, "creds", "creds-gpt", quality=1.0, base_url=with_userinfo),
            card(root, "plain", "plain-gpt", quality=0.0),
        ],
        plugins=[Rel],
        policy=Policy(objective="quality"),
        retry=RetryPolicy(max_retries=2, **FAST),
    )
    try:
        res = await orc.invoke("rel.call", rid="creds0")
    finally:
        await orc.aclose()
    assert res.models == ["plain"]
    first = res.attempts[0]
    assert first.model == "creds" and first.outcome is Outcome.CONNECTOR_UNAVAILABLE
    assert first.error.startswith(ConfigError.__name__) and "must not contain credentials" in first.error
    assert "secret-pass" not in res.explain()
    with pytest.raises(ValueError, match="must not contain credentials"):
        OpenAIConnector("m", base_url=with_userinfo)


@pytest.mark.parametrize("transport", ["default", "httpx"])
async def test_a_request_the_http_library_refuses_to_send_is_a_typed_connector_error(server, transport):
    root, _ = server
    client = httpx.AsyncClient() if transport == "httpx" else None
    conn = OpenAIConnector(
        "flaky-gpt", base_url=f"{root}/v1", extra_headers={"X-Bad": "a\r\nb"}, client=client
    )
    try:
        with pytest.raises(ConnectorError, match="could not be sent") as err:
            await conn.complete(CompletionRequest([Message.user("rid=bad0")]))
    finally:
        await conn.aclose()
        if client is not None:
            await client.aclose()
    assert not err.value.retryable


def test_an_azure_endpoint_with_credentials_is_refused_when_the_connector_is_built():
    from dualtrack.connectors.azure import AzureOpenAIConnector

    with pytest.raises(ValueError, match="endpoint must not contain credentials"):
        AzureOpenAIConnector(
            endpoint="https://user:pw@example.openai.azure.com", deployment="gpt", api_key="k"
        )

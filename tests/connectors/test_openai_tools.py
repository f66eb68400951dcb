"""Tool (function) calls: requests carry tools and results; replies and stream deltas parse."""

from __future__ import annotations

import json
from collections.abc import Callable

from dualtrack import CompletionRequest, Message, ToolCall
from dualtrack.connectors.openai import OpenAIConnector
from tests.connectors.servers.fault import TOOL_ARGS, USAGE, FaultServer

Make = Callable[..., OpenAIConnector]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


async def test_tool_call_reply(connector: Make, fault_server: FaultServer) -> None:
    done = await connector("tool-call").complete(
        CompletionRequest([Message.user("Weather in Paris?")], tools=TOOLS)
    )
    assert done.tool_calls == (ToolCall("call_abc", "get_weather", TOOL_ARGS),)
    assert done.text == "" and done.finish_reason == "tool_calls"
    assert fault_server.requests[-1].body["tools"] == TOOLS


async def test_streamed_tool_call_deltas_are_assembled(connector: Make) -> None:
    texts: list[str] = []
    done = await connector("tool-call").complete(
        CompletionRequest([Message.user("Weather and time?")], tools=TOOLS, on_text=texts.append)
    )
    assert texts == []
    assert done.tool_calls == (
        ToolCall("call_abc", "get_weather", TOOL_ARGS),
        ToolCall("call_def", "get_time", '{"tz": "UTC"}'),
    )
    assert json.loads(done.tool_calls[0].arguments) == {"city": "Paris", "unit": "celsius"}
    assert done.finish_reason == "tool_calls"
    assert (done.usage.input_tokens, done.usage.output_tokens) == (USAGE["prompt_tokens"], 7)


async def test_round_trip_sends_tool_results_back(connector: Make, fault_server: FaultServer) -> None:
    conn = connector("tool-call")
    history = [Message.user("Weather in Paris?")]
    first = await conn.complete(CompletionRequest(list(history), tools=TOOLS))
    history.append(Message.assistant(first.text, first.tool_calls))
    for call in first.tool_calls:
        history.append(Message.tool(json.dumps({"temp_c": 21}), call.id))
    echo = connector("echo")
    reply = await echo.complete(CompletionRequest(history, tools=TOOLS))
    sent = json.loads(reply.text)["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_abc",
                "type": "function",
                "function": {"name": "get_weather", "arguments": TOOL_ARGS},
            }
        ],
    }
    assert sent[2] == {"role": "tool", "content": '{"temp_c": 21}', "tool_call_id": "call_abc"}

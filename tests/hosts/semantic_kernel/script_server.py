"""The loopback OpenAI-compatible server with a scripted agent scenario, for agent hosts.

The ``script-*`` scenarios (the suffix names the model, so tests can tell who got what)
behave like a model that follows orders written in the user's message:

- ``CALL <tool-name> <json arguments>`` with tools offered and no tool result yet:
  one tool call (the arguments are sent as written, valid or not);
- after tool results: ``Done: <the last tool result>``;
- anything else (the skills' own calls): a short summary naming ``SUMMARY_MARK``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from tests.connectors.servers.fault import FaultServer, _chunk, _completion, _tool

SUMMARY_MARK = "Summary of the memo"
_CALL = re.compile(r"CALL (\S+) (\{.*\})", re.S)


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


class ScriptServer(FaultServer):
    """``FaultServer`` plus the ``script-partner`` and ``script-inhouse`` scenarios."""

    def bodies(self, model: str) -> list[str]:
        """Every request body sent to ``model``, as JSON text."""
        return [
            json.dumps(r.body)
            for r in self.requests
            if isinstance(r.body, dict) and r.body.get("model") == model
        ]

    async def _s_script_partner(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        return await self._script(request, body, stream)

    async def _s_script_inhouse(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        return await self._script(request, body, stream)

    async def _script(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        messages = body.get("messages") or []
        users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
        last = users[-1] if users else 0
        results = [m for m in messages[last + 1 :] if m.get("role") == "tool"]
        order = _CALL.search(_text(messages[last].get("content"))) if messages else None
        if order and body.get("tools") and not results:
            name, args = order.group(1), order.group(2)
            if stream:
                delta = {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                         "function": {"name": name, "arguments": args}}]}  # fmt: skip
                return await self._sse(request, [], extra=[_chunk(delta)], finish="tool_calls")
            data = _completion("")
            msg = {"role": "assistant", "content": None, "tool_calls": [_tool("call_1", name, args)]}
            data["choices"][0].update(message=msg, finish_reason="tool_calls")
            return web.json_response(data)
        if results:
            text = "Done: " + _text(results[-1].get("content"))[:400]
        else:
            text = f"{SUMMARY_MARK}: quarterly revenue rose and the budget is on track."
        if stream:
            return await self._sse(request, [text])
        return web.json_response(_completion(text))

"""Shared by the plugins' ``orc.ask`` boundary tests: a general-only partner, an in-house model that quotes the data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dualtrack import CompletionRequest, Sensitivity
from dualtrack.testing import FunctionConnector

__all__ = ["assert_boundary_held", "quoting_in_house", "seen_by", "tool_messages"]


def quoting_in_house(quote: str) -> FunctionConnector:
    """Ends the loop; answers every skill call with ``quote`` (as JSON that fails validation when asked for JSON)."""

    def reply(request: CompletionRequest) -> str:
        if request.tools:
            return "final answer from the in-house model"
        return json.dumps({"unexpected": quote}) if request.json_schema is not None else quote

    return FunctionConnector(reply)


def seen_by(conn: Any) -> str:
    """Every message a connector received."""
    return "\n".join(m.content for c in conn.calls for m in c.messages)


def tool_messages(*conns: Any) -> list[str]:
    """Every tool result the connectors received."""
    return [m.content for conn in conns for c in conn.calls for m in c.messages if m.role == "tool"]


def assert_boundary_held(
    result: Any,
    partner: Any,
    local: Any,
    *,
    case: str,
    read: bool,
    tmp_path: Path,
    assert_no_data: Callable[[str], None],
) -> list[str]:
    """The partner saw no data, failures reached the models as data-free errors, and the level rose iff ``read``.

    Returns:
        The tool messages both models received.
    """
    assert_no_data(seen_by(partner))
    tool_msgs = tool_messages(partner, local)
    assert tool_msgs
    if case != "model reply":  # every failure reaches the models as a fixed, data-free sentence
        assert all(t.startswith("error: ") for t in tool_msgs), tool_msgs
        assert_no_data("\n".join(tool_msgs))
        assert not [t for t in tool_msgs if tmp_path.name in t], tool_msgs  # not even the path
    # every request any model received, the failed tool's included, is in the result
    assert len(result.attempts) == len(partner.calls) + len(local.calls)
    if read:
        assert result.sensitivity is Sensitivity.CONFIDENTIAL
        assert len(partner.calls) == 1 and result.value == "final answer from the in-house model"
    else:  # nothing was read: the conversation stays where it was
        assert result.sensitivity is Sensitivity.GENERAL and result.value == "partner answer"
    return tool_msgs

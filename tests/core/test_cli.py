"""The command line: --arg values by parameter type, health words, output without rich."""

from __future__ import annotations

import io
import json
from datetime import datetime
from enum import Enum
from typing import Any, Literal

import pytest
from rich.console import Console

from dualtrack import ArgumentError, Orchestrator, RetryPolicy, ServerError, SkillContext, plugin, skill
from dualtrack._cli import _console, _main
from dualtrack._cli._args import parse_skill_args, split_args
from dualtrack._cli._views import health, models_table
from dualtrack.testing import FunctionConnector, model_card

from ._demo_plugin import Demo


class Mode(Enum):
    FAST = "fast"
    SLOW = "slow"


@plugin("t", description="Typed parameters.")
class Typed:
    @skill
    async def show(
        self,
        ctx: SkillContext,
        text: str,
        count: int = 0,
        ratio: float = 0.0,
        flag: bool = False,
        names: list[str] | None = None,
        options: dict[str, int] | None = None,
        maybe: int | None = None,
        mode: Mode = Mode.FAST,
        kind: Literal["a", "b"] = "a",
        anything: Any = None,
    ) -> dict[str, Any]:
        """Return the arguments with their Python types.

        Args:
            text: Text.
            count: A count.
            ratio: A ratio.
            flag: A flag.
            names: Names.
            options: Options.
            maybe: Maybe a number.
            mode: A mode.
            kind: A kind.
            anything: Anything at all.
        """
        values = {"text": text, "count": count, "ratio": ratio, "flag": flag, "names": names}
        values |= {"options": options, "maybe": maybe, "mode": mode.value, "kind": kind, "anything": anything}
        return {k: [type(v).__name__, v] for k, v in values.items()}


def _parse(*items: str) -> dict[str, Any]:
    s = Orchestrator(plugins=[Typed]).skill("t.show")
    return parse_skill_args(s.full_name, s.parameters_schema(), split_args(items))


def test_each_arg_is_read_by_its_parameter_type() -> None:
    got = _parse(
        "text=123",
        "count=7",
        "ratio=2.5",
        "flag=true",
        'names=["a", "b"]',
        'options={"x": 1}',
        "maybe=3",
        "mode=slow",
        "kind=b",
        "anything=[1, 2]",
    )
    assert got == {
        "text": "123",
        "count": 7,
        "ratio": 2.5,
        "flag": True,
        "names": ["a", "b"],
        "options": {"x": 1},
        "maybe": 3,
        "mode": "slow",
        "kind": "b",
        "anything": [1, 2],
    }
    assert _parse("text=true", "anything=not json")["text"] == "true"
    assert _parse("text=a=b", "anything=not json") == {"text": "a=b", "anything": "not json"}
    assert _parse("ratio=3") == {"ratio": 3}  # an integer is a number


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("count=seven", "integer"),
        ("count=1.5", "integer"),
        ("flag=yes", "boolean"),
        ("names=a,b", "array or null"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_parameter(item: str, expected: str) -> None:
    with pytest.raises(ArgumentError) as info:
        _parse("text=x", item)
    key = item.partition("=")[0]
    assert info.value.errors == [(key, f"expected {expected}, got {item.partition('=')[2]!r}")]
    assert info.value.skill == "t.show" and key in str(info.value)


def test_run_keeps_digits_as_text_end_to_end(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(_main, "_orchestrator", lambda args: Orchestrator(plugins=[Typed]))
    assert _main.main(["run", "t.show", "--arg", "text=123", "--arg", "count=2", "--json"]) == 0
    value = json.loads(capsys.readouterr().out)["value"]
    assert value["text"] == ["str", "123"] and value["count"] == ["int", 2]

    assert _main.main(["run", "t.show", "--arg", "text=1", "--arg", "count=two"]) == 1
    err = capsys.readouterr().err
    assert "count: expected integer, got 'two'" in err and "Traceback" not in err
    assert _main.main(["run", "t.show", "--arg", "oops"]) == 1
    assert "must look like key=value" in capsys.readouterr().err


async def test_models_show_healthy_open_until_and_probing() -> None:
    t = {"now": 1000.0}
    down = FunctionConnector(lambda req: ServerError("503", status_code=503))
    orc = Orchestrator(
        models=[model_card(down, name="flaky"), model_card(FunctionConnector(lambda r: "ok"), name="fine")],
        plugins=[Demo],
        retry=RetryPolicy(max_retries=0, breaker_threshold=1, breaker_cooldown_s=1800),
    )
    orc.executor.clock = lambda: t["now"]
    cards = orc.models
    assert health(orc, cards["flaky"]) == "healthy"  # never called
    orc.executor.breaker("flaky").record_failure()
    assert orc.executor.breakers["flaky"].state == "open"
    nine = datetime(2026, 3, 2, 9, 0)
    assert health(orc, cards["flaky"], now=nine) == "open circuit until 09:30"
    t["now"] += 600
    assert health(orc, cards["flaky"], now=nine) == "open circuit until 09:20"
    t["now"] += 1200  # cool-down over: the next call is a probe
    assert health(orc, cards["flaky"]) == "probing"
    assert health(orc, cards["fine"]) == "healthy"

    buf = io.StringIO()
    models_table(Console(file=buf, width=250), orc)
    table = buf.getvalue()
    assert "healthy" in table and "probing" in table and "closed" not in table


def test_without_rich_the_cli_prints_plain_tables(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(_console, "HAS_RICH", False)
    monkeypatch.setattr(_main, "_orchestrator", lambda args: Orchestrator(plugins=[Typed]))
    assert _main.main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "plugins and skills"
    assert out.splitlines()[1].split() == ["skill", "requires", "prefers", "effects", "description"]
    assert "t.show" in out and "[" not in out.splitlines()[0]
    assert _main.main(["tools"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["function"]["name"]
    assert _main.main(["run", "t.show", "--arg", "count=x", "--arg", "text=y"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid arguments for skill 't.show'") and "[bold" not in err

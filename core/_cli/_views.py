"""Tables and result rendering for the CLI (rich, or plain text without the ``cli`` extra)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ._console import make_table

if TYPE_CHECKING:
    from .._app._orchestrator import Orchestrator
    from .._model._cards import ModelCard
    from .._runtime._result import SkillResult

Console = Any  # a rich Console, or a PlainConsole

__all__ = ["health", "models_table", "plugins_table", "print_result", "usage_table"]


def plugins_table(out: Console, orc: Orchestrator) -> None:
    """Print every plugin's skills with tags and effects, and the plugins that cannot load."""
    table = make_table("plugins and skills", ("skill", "requires", "prefers", "effects", "description"))
    for p in orc.registry:
        for s in p.skills.values():
            table.add_row(
                s.full_name,
                ", ".join(sorted(s.requires)) or "-",
                ", ".join(sorted(s.prefers)) or "-",
                s.effects,
                s.description.split("\n")[0],
            )
    for name, problem in sorted(orc.plugin_errors.items()):
        table.add_row(f"{name}.*", "-", "-", "-", f"unavailable: {problem}")
    if not len(orc.registry) and not orc.plugin_errors:
        out.print("no plugins installed or configured")
        return
    out.print(table)


def models_table(out: Console, orc: Orchestrator) -> None:
    """Print the catalog with track, clearance, cost and health."""
    cols = ("model", "track", "clearance", "tags", "window", "$/1M in", "$/1M out", "connector", "state")
    table = make_table("model catalog", cols)
    for card in sorted(orc.models.values(), key=lambda c: c.name):
        state = health(orc, card)
        table.add_row(
            card.name,
            card.track.value,
            card.clearance.value,
            ", ".join(sorted(card.capabilities)),
            str(card.context_window),
            f"{card.cost_input:g}",
            f"{card.cost_output:g}",
            card.connector_name,
            state,
        )
    out.print(table)


def health(orc: Orchestrator, card: ModelCard, now: datetime | None = None) -> str:
    """``healthy``, ``open circuit until HH:MM`` (local time), ``probing``, or why it is disabled."""
    if not card.enabled:
        return f"disabled ({card.disabled_reason})" if card.disabled_reason else "disabled"
    breaker = orc.executor.breakers.get(card.name)
    if breaker is None or breaker.state == "closed":
        return "healthy"
    if breaker.state == "open":
        until = (now or datetime.now()) + timedelta(seconds=breaker.cooldown_left_s)
        return f"open circuit until {until:%H:%M}"
    return "probing"


def usage_table(out: Console, orc: Orchestrator, days: int) -> None:
    """Print spend by day, model, track and skill from the ledger."""
    rows_fn = getattr(orc.ledger, "rows", None)
    if rows_fn is None:
        out.print("this ledger cannot be listed")
        return
    rows = rows_fn(days=days)
    table = make_table(
        f"usage (last {days} days)", ("day", "model", "track", "skill", "calls", "in", "out", "USD")
    )
    for r in rows:
        table.add_row(
            r.day,
            r.model,
            r.track,
            r.skill,
            str(r.calls),
            str(r.input_tokens),
            str(r.output_tokens),
            f"{r.cost_usd:.6f}",
        )
    out.print(table)
    if not rows:
        out.print('no usage recorded; set `ledger = "..."` in dualtrack.toml to keep it across runs')


def print_result(out: Console, result: SkillResult, *, as_json: bool) -> None:
    """Print a skill result and its routing explanation."""
    if as_json:
        out.print_json(json.dumps(result.to_dict(), default=str))
        return
    value: Any = result.value
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    if isinstance(value, dict | list):
        out.print_json(json.dumps(value, default=str))
    else:
        out.print(str(value), markup=False)
    out.print()
    out.print(result.explain(), markup=False, style="dim")

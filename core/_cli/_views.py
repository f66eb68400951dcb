"""Rich tables and result rendering for the CLI."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from rich.console import Console

    from .._app._orchestrator import Orchestrator
    from .._runtime._result import SkillResult

__all__ = ["models_table", "plugins_table", "print_result", "usage_table"]


def plugins_table(out: Console, orc: Orchestrator) -> None:
    """Print every plugin's skills with tags and effects."""
    table = Table(title="plugins and skills")
    for col in ("skill", "requires", "prefers", "effects", "description"):
        table.add_column(col)
    for p in orc.registry:
        for s in p.skills.values():
            table.add_row(
                s.full_name,
                ", ".join(sorted(s.requires)) or "-",
                ", ".join(sorted(s.prefers)) or "-",
                s.effects,
                s.description.split("\n")[0],
            )
    if not len(orc.registry):
        out.print("no plugins installed or configured")
        return
    out.print(table)


def models_table(out: Console, orc: Orchestrator) -> None:
    """Print the catalog with track, clearance, cost and circuit state."""
    table = Table(title="model catalog")
    for col in ("model", "track", "clearance", "tags", "window", "$/1M in", "$/1M out", "connector", "state"):
        table.add_column(col)
    for card in sorted(orc.models.values(), key=lambda c: c.name):
        if not card.enabled:
            state = f"disabled ({card.disabled_reason})" if card.disabled_reason else "disabled"
        else:
            breaker = orc.executor.breakers.get(card.name)
            state = breaker.state if breaker else "closed"
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


def usage_table(out: Console, orc: Orchestrator, days: int) -> None:
    """Print spend by day, model, track and skill from the ledger."""
    rows_fn = getattr(orc.ledger, "rows", None)
    if rows_fn is None:
        out.print("this ledger cannot be listed")
        return
    rows = rows_fn(days=days)
    table = Table(title=f"usage (last {days} days)")
    for col in ("day", "model", "track", "skill", "calls", "in", "out", "USD"):
        table.add_column(col)
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

"""How an :class:`~dualtrack.Orchestrator` is put together: checks of its arguments, its config file.

:meth:`Orchestrator.from_config` turns a loaded ``dualtrack.toml`` into constructor
arguments here; the budget tracker is chosen by where the state lives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._errors import UserError
from .._runtime._budget import Budgets, BudgetTracker
from .._runtime._ledger import Ledger

if TYPE_CHECKING:
    from .._runtime._state import SharedState
    from ._config import Config

__all__ = ["budget_tracker", "check_catalog", "config_arguments"]


def check_catalog(names: Sequence[str], shadow: Mapping[str, Sequence[str]] | None, fraction: float) -> None:
    """Refuse duplicate model names, shadows of unknown models and a fraction outside ``[0, 1]``.

    Raises:
        UserError: Naming what is wrong and what is known.
    """
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserError(f"model names must be unique; duplicated: {', '.join(dupes)}")
    if not 0.0 <= fraction <= 1.0:
        raise UserError(f"shadow_fraction must be between 0 and 1, got {fraction}")
    unknown = sorted({t for targets in (shadow or {}).values() for t in targets} - set(names))
    if unknown:
        raise UserError(f"shadow names unknown model(s) {', '.join(unknown)}; known: {', '.join(names)}")


def budget_tracker(
    budgets: Budgets, usage: Ledger, state: SharedState | None, deadline_s: float
) -> BudgetTracker:
    """Budgets in this process, or in the shared state (which also shares open circuits)."""
    if state is None:
        return BudgetTracker(budgets, usage)
    from .._runtime._state_budget import SharedBudgetTracker

    return SharedBudgetTracker(budgets, state, hold_ttl_s=deadline_s + 60.0)


def config_arguments(cfg: Config, overrides: Mapping[str, Any]) -> tuple[dict[str, Any], SharedState | None]:
    """The constructor's arguments from ``cfg`` (``overrides`` win), and the state opened for them."""
    state = cfg.make_state() if "state" not in overrides else None
    kwargs: dict[str, Any] = {
        "models": cfg.models,
        "policy": cfg.policy,
        "retry": cfg.retry,
        "labels": cfg.labels,
        "default_sensitivity": cfg.default_sensitivity,
        "ledger": cfg.make_ledger(state),
        "state": state,
        "budgets": cfg.budgets,
        "roots": cfg.root_paths(),
    }
    if cfg.plugins is not None:
        kwargs["plugins"] = cfg.plugins
    if cfg.shadow.table:  # [shadow]: sampled live calls, logged for `dualtrack eval`
        kwargs["shadow"] = cfg.shadow.table
        kwargs["shadow_fraction"] = cfg.shadow.fraction
        kwargs["on_shadow"] = cfg.make_shadow_log().record
    kwargs.update(overrides)
    return kwargs, state

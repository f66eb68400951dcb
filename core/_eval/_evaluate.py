"""``evaluate``: run a workload against models and routing strategies, and build the promotion report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._app._orchestrator import Orchestrator
from .._model._cards import ModelCard
from .._routing._router import Policy
from .._runtime._ledger import Ledger
from ._observe import Strategy
from ._report import EvalReport, build_report
from ._runner import OrchestratorFactory, Runner
from ._workload import Workload, load_workload

__all__ = ["config_factory", "evaluate"]


def config_factory(config: str | Path | None = None, *, ledger: Ledger | None = None) -> OrchestratorFactory:
    """Builds each arm's orchestrator from ``dualtrack.toml`` (plugins, labels, retry), with its own catalog.

    Args:
        config: The configuration file (``None``: search the working directory).
        ledger: Where the evaluation's spend is recorded (shared by every arm).
    """

    def factory(cards: list[ModelCard], policy: Policy, roots: list[Path]) -> Orchestrator:
        overrides: dict[str, Any] = {"models": cards, "policy": policy, "roots": roots, "shadow": None}
        if ledger is not None:
            overrides["ledger"] = ledger
        return Orchestrator.from_config(config, **overrides)

    return factory


async def evaluate(
    workload: Workload | str | Path,
    *,
    catalog: Sequence[ModelCard],
    models: Sequence[str] | None = None,
    reference: str | None = None,
    policy: Policy | None = None,
    plugins: Sequence[object] | None = None,
    factory: OrchestratorFactory | None = None,
    strategies: Sequence[Strategy | str] = tuple(Strategy),
    timeout_s: float = 300.0,
    concurrency: int = 2,
    tolerance: float = 0.02,
    min_rows: int = 10,
) -> EvalReport:
    """Run a workload on each model alone and under each routing strategy; report and recommend.

    Args:
        workload: A :class:`Workload` or the path of a TOML/JSONL workload file.
        catalog: The whole model catalog (the strategies route over it).
        models: The models to evaluate (default: the workload's, else every enabled model).
        reference: The model the others' outputs are compared with.
        policy: The current routing policy.
        plugins: Plugin classes, instances or names (default: every installed plugin).
        factory: Builds each arm's orchestrator ``(catalog, policy, roots)``; default:
            ``Orchestrator(models=..., policy=..., plugins=plugins, roots=...)``.
        strategies: Routing strategies to compare (``current``, ``all-partner``, ``in-house-first``).
        timeout_s: Seconds one skill call may take before it counts as a timeout.
        concurrency: Rows run at once per arm.
        tolerance: How much lower in-house first's final pass rate may be and still count as equal.
        min_rows: Fewer rows than this make a recommendation tentative.

    Returns:
        The report (write it with :meth:`EvalReport.write`).
    """
    load = workload if isinstance(workload, Workload) else load_workload(workload)
    cards = list(catalog)
    if factory is None:

        def factory(cards: list[ModelCard], policy: Policy, roots: list[Path]) -> Orchestrator:
            return Orchestrator(models=cards, policy=policy, plugins=plugins, roots=roots)

    runner = Runner(
        factory,
        cards,
        policy,
        timeout_s=timeout_s,
        concurrency=concurrency,
        strategies=[Strategy(s) for s in strategies],
    )
    run = await runner.run(load, models, reference)
    return build_report(run, tolerance=tolerance, min_rows=min_rows)

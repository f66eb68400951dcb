"""Runs a workload through the orchestrator, once per arm (each model alone, then each routing strategy).

Every (arm, row) works on its own copies of the row's files in a temporary
folder, which is also the only root skills may touch: an evaluation never writes
next to your documents, and a skill that writes (``save=True``) cannot see what
another arm wrote. Copies keep the files' bytes, so sensitivity labels still raise
the level of the calls, and the router still refuses every model whose clearance
is below it (that row is *skipped* for that model, never sent).

A row that fails, times out or raises is recorded and the run goes on.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .._app._orchestrator import Orchestrator
from .._app._paths import PathRole
from .._errors import DualtrackError, NoRouteError, UserError
from .._model._cards import ModelCard, Track
from .._routing._router import Policy
from .._runtime._similarity import agreement
from ._observe import ArmKind, Observation, RowStatus, Strategy, observe, value_text
from ._workload import RowProblem, Workload, WorkloadRow

__all__ = ["EvalRun", "OrchestratorFactory", "Runner"]

_log = logging.getLogger("dualtrack")

OrchestratorFactory = Callable[[list[ModelCard], Policy, list[Path]], Orchestrator]
"""Builds the orchestrator of one arm: ``(catalog, policy, roots) -> Orchestrator``."""


class EvalRun:
    """Everything one evaluation measured.

    Attributes:
        observations: One per (arm, row) served or skipped.
        problems: Rows skipped for every arm (unknown skill, missing file ...) and
            per-arm failures.
        models: The models evaluated, in order.
        reference: The reference model, if any.
        catalog: Every card of the catalog, by name.
        policy: The configured policy.
        pins: Strategy → the pin table it ran with.
        workload: Where the workload came from.
    """

    def __init__(self, catalog: Sequence[ModelCard], policy: Policy) -> None:
        self.observations: list[Observation] = []
        self.problems: list[RowProblem] = []
        self.models: list[str] = []
        self.reference: str | None = None
        self.catalog = {c.name: c for c in catalog}
        self.policy = policy
        self.pins: dict[str, dict[str, list[str]]] = {}
        self.workload: str | None = None
        self.rows: list[WorkloadRow] = []


class Runner:
    """Runs a workload against models and routing strategies.

    Args:
        factory: Builds an orchestrator for a catalog, policy and roots.
        catalog: The whole model catalog.
        policy: The configured routing policy (the ``current`` strategy).
        timeout_s: The time one skill call may take before it counts as a timeout.
        concurrency: Rows run at once per arm.
        strategies: The routing strategies to run after the single-model arms.
    """

    def __init__(
        self,
        factory: OrchestratorFactory,
        catalog: Sequence[ModelCard],
        policy: Policy | None = None,
        *,
        timeout_s: float = 300.0,
        concurrency: int = 2,
        strategies: Sequence[Strategy] = tuple(Strategy),
    ) -> None:
        self.factory = factory
        self.catalog = list(catalog)
        self.policy = policy or Policy()
        self.timeout_s = timeout_s
        self.concurrency = max(1, concurrency)
        self.strategies = list(strategies)

    def _models(self, workload: Workload, models: Sequence[str] | None, run: EvalRun) -> list[str]:
        names = list(models or workload.models or [c.name for c in self.catalog if c.enabled])
        unknown = [n for n in names if n not in run.catalog]
        if unknown:
            raise UserError(
                f"unknown model(s) {', '.join(unknown)}; the catalog has {', '.join(run.catalog)} "
                "(see `dualtrack models`)"
            )
        chosen = []
        for name in dict.fromkeys(names):
            card = run.catalog[name]
            if not card.enabled:
                why = card.disabled_reason or "disabled"
                run.problems.append(
                    RowProblem(row="*", skill=None, model=name, reason=f"model disabled: {why}")
                )
                continue
            chosen.append(name)
        return chosen

    async def run(
        self, workload: Workload, models: Sequence[str] | None = None, reference: str | None = None
    ) -> EvalRun:
        """Run every row on each model alone, then under each strategy.

        Args:
            workload: The calls.
            models: The models to evaluate (default: the workload's, else every enabled model).
            reference: The model whose output the others are compared with.

        Returns:
            The observations and problems.

        Raises:
            UserError: A model or the reference is not in the catalog.
        """
        run = EvalRun(self.catalog, self.policy)
        run.workload = str(workload.path) if workload.path else None
        with tempfile.TemporaryDirectory(prefix="dualtrack-eval-") as tmp:
            root = Path(tmp)
            probe = self.factory(self.catalog, self.policy, [root])
            try:
                rows, problems = workload.check(probe)
            finally:
                await probe.aclose()
            run.rows = rows
            run.problems.extend(problems)
            names = self._models(workload, models, run)
            ref = reference or workload.reference
            if ref is not None:
                if ref not in run.catalog:
                    raise UserError(
                        f"unknown reference model {ref!r}; the catalog has {', '.join(run.catalog)}"
                    )
                if ref not in names:
                    names.append(ref)
            run.models, run.reference = names, ref
            arm_index = 0
            for name in names:
                arm_index += 1
                card = run.catalog[name]
                orc = self.factory([card], Policy(objective=self.policy.objective), [root])
                mine = [r for r in rows if r.models is None or name in r.models or name == ref]
                await self._arm(orc, mine, name, ArmKind.MODEL, root / f"arm{arm_index}", run)
            for strategy in self.strategies:
                arm_index += 1
                policy = self._strategy_policy(strategy, rows, run)
                if policy is None:
                    continue
                orc = self.factory(self.catalog, policy, [root])
                await self._arm(orc, rows, strategy.value, ArmKind.STRATEGY, root / f"arm{arm_index}", run)
        if ref is not None:
            self._agreement(run, ref)
        return run

    def _strategy_policy(
        self, strategy: Strategy, rows: Sequence[WorkloadRow], run: EvalRun
    ) -> Policy | None:
        if strategy is Strategy.CURRENT:
            run.pins[strategy.value] = dict(self.policy.pin)
            return self.policy
        track = Track.IN_HOUSE if strategy is Strategy.IN_HOUSE_FIRST else Track.PARTNER
        live = [c for c in self.catalog if c.enabled and c.track is track]
        if not live:
            return None
        pins = dict(self.policy.pin)
        for skill in {r.skill for r in rows}:
            pins[skill] = best_models(run, skill, live)[:1]
        run.pins[strategy.value] = pins
        return self.policy.model_copy(update={"pin": pins})

    async def _arm(
        self,
        orc: Orchestrator,
        rows: Sequence[WorkloadRow],
        arm: str,
        kind: ArmKind,
        folder: Path,
        run: EvalRun,
    ) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(i: int, row: WorkloadRow) -> Observation:
            async with gate:
                return await self._row(orc, row, arm, kind, folder / f"row{i}")

        try:
            found = await asyncio.gather(*(one(i, r) for i, r in enumerate(rows, 1)))
        finally:
            await orc.aclose()
        run.observations.extend(found)

    async def _row(
        self, orc: Orchestrator, row: WorkloadRow, arm: str, kind: ArmKind, folder: Path
    ) -> Observation:
        obs = Observation(row=row.id, skill=row.skill, arm=arm, kind=kind)
        try:
            args = _isolate(row, folder)
        except OSError as exc:
            obs.status, obs.error = RowStatus.FAILED, f"could not copy the row's files: {exc}"
            return obs
        start = time.perf_counter()
        calls = []
        try:
            result = await asyncio.wait_for(
                orc.invoke(row.skill, args, sensitivity=row.sensitivity), timeout=self.timeout_s
            )
            calls = result.calls
            obs.text = value_text(result.value)
        except TimeoutError:
            obs.status, obs.error = RowStatus.TIMEOUT, f"no result within {self.timeout_s:g} s"
        except NoRouteError as exc:  # the whole explanation: which constraint refused each model
            obs.status, obs.error = RowStatus.SKIPPED, " ".join(str(exc).split())[:400]
            calls = list(exc.calls)
        except DualtrackError as exc:
            obs.status, obs.error = RowStatus.FAILED, f"{type(exc).__name__}: {_first_line(exc)}"
            calls = list(exc.calls)
        except Exception as exc:  # noqa: BLE001 - a broken skill or model fails its row, not the run
            _log.warning("eval row %s on %s raised %s", row.id, arm, type(exc).__name__, exc_info=True)
            obs.status, obs.error = RowStatus.FAILED, f"{type(exc).__name__}: {_first_line(exc)}"
        obs.duration_s = time.perf_counter() - start
        observe(obs, calls, orc.models)
        if obs.status in (RowStatus.FAILED, RowStatus.TIMEOUT) and obs.groups == 0:
            obs.replies, obs.groups = obs.replies + 1, 1  # no usable reply counts as a failed one
        return obs

    @staticmethod
    def _agreement(run: EvalRun, ref: str) -> None:
        texts = {
            o.row: o.text
            for o in run.observations
            if o.kind is ArmKind.MODEL and o.arm == ref and o.status is RowStatus.OK
        }
        for o in run.observations:
            if o.status is RowStatus.OK and o.row in texts:
                o.agreement = agreement(o.text, texts[o.row])


def best_models(run: EvalRun, skill: str, cards: Sequence[ModelCard]) -> list[str]:
    """``cards`` ordered by measured check pass rate on ``skill``, then cost; unmeasured by quality."""

    def key(card: ModelCard) -> tuple[float, float, float]:
        mine = [
            o
            for o in run.observations
            if o.kind is ArmKind.MODEL and o.arm == card.name and o.skill == skill and o.measured
        ]
        replies = sum(o.replies for o in mine)
        rate = sum(o.passed for o in mine) / replies if replies else -1.0
        cost = sum(o.cost_usd for o in mine) / len(mine) if mine else card.cost_input + card.cost_output
        return (-rate, cost, -card.quality)

    return [c.name for c in sorted(cards, key=key)]


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split("\n", 1)[0].split())[:300]


def _isolate(row: WorkloadRow, folder: Path) -> dict[str, object]:
    """The row's arguments with each input copied into ``folder`` and each output pointed there."""
    folder.mkdir(parents=True, exist_ok=True)
    args: dict[str, object] = dict(row.args)
    for name, role in row.paths.items():
        src = Path(str(args[name]))
        dest = folder / name / src.name  # one folder per argument: `path` and `other` may share a name
        dest.parent.mkdir(exist_ok=True)
        if role is PathRole.INPUT:
            if src.is_dir():
                shutil.copytree(src, dest, symlinks=True)
            else:
                shutil.copy2(src, dest)
        args[name] = str(dest)
    return args

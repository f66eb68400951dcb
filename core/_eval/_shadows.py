"""Sampled live traffic as evaluation data: shadow-log records turned into observations.

Each record is one shadow model's reply to a live call: its checks (when the
call was checked), agreement with the primary reply, latency, tokens and cost.
The primary models' own figures are in the usage ledger, so a report built from
shadows alone compares the shadow models and estimates the routing costs.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._model._cards import ModelCard
from .._routing._router import Policy
from .._runtime._shadow_log import ShadowRecord
from ._observe import ArmKind, Observation, RowStatus
from ._runner import EvalRun

__all__ = ["shadow_run"]


def _observation(i: int, rec: ShadowRecord) -> Observation:
    status = RowStatus.OK
    if not rec.ok:
        status = RowStatus.SKIPPED if (rec.error or "").startswith("skipped") else RowStatus.FAILED
    obs = Observation(
        row=f"shadow#{i}",
        skill=rec.skill,
        arm=rec.model,
        kind=ArmKind.MODEL,
        status=status,
        error=rec.error,
        duration_s=rec.duration_s,
        input_tokens=rec.input_tokens,
        output_tokens=rec.output_tokens,
        cost_usd=rec.cost_usd,
        agreement=rec.agreement,
    )
    if rec.ok:
        obs.answered[rec.model] = 1
    if rec.passed is not None or status is RowStatus.FAILED:
        obs.replies = obs.groups = 1
        obs.passed = obs.accepted = int(bool(rec.passed))
    return obs


def shadow_run(records: Sequence[ShadowRecord], catalog: Sequence[ModelCard], policy: Policy) -> EvalRun:
    """An :class:`EvalRun` of shadow-log records (agreement is against each call's primary model)."""
    run = EvalRun(catalog, policy)
    for i, rec in enumerate(records, 1):
        obs = _observation(i, rec)
        card = run.catalog.get(rec.model)
        if card is not None and rec.ok and card.track.value == "in-house":
            obs.in_house_calls = 1
        run.observations.append(obs)
    run.models = list(dict.fromkeys(r.model for r in records))
    return run

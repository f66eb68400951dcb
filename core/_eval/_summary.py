"""Per skill and arm: check pass rate, agreement, latency, tokens and cost, with intervals.

- **check pass rate** (a model alone): replies that passed every check of their
  call, over checked replies; a failed or timed-out call counts as one failed reply.
- **final pass rate** (a strategy): checked calls that ended with a passing reply
  (after feedback and escalation), over checked calls.
- **escalation rate**: checked calls that went to more than one model.
- **agreement**: token-multiset F1 of the skill's output against the reference
  model's output for the same row (see ``dualtrack._runtime._similarity``).
- latency is the wall time of the whole skill call; cost and tokens are per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._observe import ArmKind, Observation, RowStatus
from ._stats import Mean, Percentiles, Rate, bootstrap_mean, percentiles, wilson

__all__ = ["ArmStats", "summarize"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmStats:
    """What one arm (a model alone, or a strategy) did on one skill.

    Attributes:
        skill: The full skill name.
        arm: The model or strategy name.
        kind: Model or strategy.
        track: The model's track (``None`` for a strategy).
        rows: Rows served (skipped ones excluded).
        skipped: Rows the arm may not serve (clearance, tags ...).
        failed: Rows that failed or timed out.
        pass_rate: Checked replies passing every check (a model alone).
        final_pass_rate: Checked calls ending with a passing reply.
        escalation: Checked calls that went to more than one model.
        agreement: Mean agreement with the reference output (``None`` without a reference).
        latency: Percentiles of the skill call's wall time, in seconds.
        latency_mean: Mean wall time.
        latencies: Every wall time (for the distribution chart).
        input_tokens: Mean prompt tokens per call.
        output_tokens: Mean reply tokens per call.
        cost: Mean dollars per call.
        in_house_share: Share of answered model calls served in-house.
        check_errors: Check outcomes where the check itself raised.
        clearance_violations: Calls above a model's clearance (must be 0).
    """

    skill: str
    arm: str
    kind: ArmKind
    track: str | None
    rows: int
    skipped: int
    failed: int
    pass_rate: Rate
    final_pass_rate: Rate
    escalation: Rate
    agreement: Mean | None
    latency: Percentiles
    latency_mean: Mean
    latencies: tuple[float, ...]
    input_tokens: Mean
    output_tokens: Mean
    cost: Mean
    in_house_share: float
    check_errors: int
    clearance_violations: int

    @property
    def cost_per_1000(self) -> float:
        """Dollars per 1,000 calls."""
        return self.cost.value * 1000

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "skill": self.skill,
            "arm": self.arm,
            "kind": self.kind.value,
            "track": self.track,
            "rows": self.rows,
            "skipped": self.skipped,
            "failed": self.failed,
            "pass_rate": self.pass_rate.to_dict(),
            "final_pass_rate": self.final_pass_rate.to_dict(),
            "escalation": self.escalation.to_dict(),
            "agreement": self.agreement.to_dict() if self.agreement is not None else None,
            "latency_s": self.latency.to_dict(),
            "latency_mean_s": self.latency_mean.to_dict(),
            "input_tokens": self.input_tokens.to_dict(),
            "output_tokens": self.output_tokens.to_dict(),
            "cost_usd": self.cost.to_dict(),
            "cost_per_1000_usd": self.cost_per_1000,
            "in_house_share": self.in_house_share,
            "check_errors": self.check_errors,
            "clearance_violations": self.clearance_violations,
        }


def arm_stats(skill: str, arm: str, kind: ArmKind, track: str | None, obs: Sequence[Observation]) -> ArmStats:
    """Aggregate the observations of one arm on one skill."""
    served = [o for o in obs if o.measured]
    ok = [o for o in served if o.status is RowStatus.OK]
    agreements = [o.agreement for o in served if o.agreement is not None]
    answered = sum(sum(o.answered.values()) for o in served)
    durations = [o.duration_s for o in ok]
    return ArmStats(
        skill=skill,
        arm=arm,
        kind=kind,
        track=track,
        rows=len(served),
        skipped=len(obs) - len(served),
        failed=sum(1 for o in served if o.status is not RowStatus.OK),
        pass_rate=wilson(sum(o.passed for o in served), sum(o.replies for o in served)),
        final_pass_rate=wilson(sum(o.accepted for o in served), sum(o.groups for o in served)),
        escalation=wilson(sum(o.escalated for o in served), sum(o.groups for o in served)),
        agreement=bootstrap_mean(agreements) if agreements else None,
        latency=percentiles(durations),
        latency_mean=bootstrap_mean(durations),
        latencies=tuple(durations),
        input_tokens=bootstrap_mean([float(o.input_tokens) for o in served]),
        output_tokens=bootstrap_mean([float(o.output_tokens) for o in served]),
        cost=bootstrap_mean([o.cost_usd for o in served]),
        in_house_share=sum(o.in_house_calls for o in served) / answered if answered else 0.0,
        check_errors=sum(o.check_errors for o in served),
        clearance_violations=sum(o.clearance_violations for o in served),
    )


def summarize(observations: Sequence[Observation], tracks: dict[str, str]) -> dict[str, list[ArmStats]]:
    """Skill → the stats of every arm that ran it (models first, in run order, then strategies).

    Args:
        observations: Everything the run measured.
        tracks: Model name → its track.
    """
    order: dict[tuple[str, str, ArmKind], list[Observation]] = {}
    for o in observations:
        order.setdefault((o.skill, o.arm, o.kind), []).append(o)
    out: dict[str, list[ArmStats]] = {}
    for (skill, arm, kind), obs in order.items():
        track = tracks.get(arm) if kind is ArmKind.MODEL else None
        out.setdefault(skill, []).append(arm_stats(skill, arm, kind, track, obs))
    for stats in out.values():
        stats.sort(key=lambda s: s.kind is ArmKind.STRATEGY)
    return out

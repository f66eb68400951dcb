"""The promotion report: statistics per skill and arm, recommendations, skipped rows; JSON or HTML.

:func:`build_report` turns an :class:`~dualtrack._eval._runner.EvalRun` into an
:class:`EvalReport`; :meth:`EvalReport.write` writes it atomically as a
self-contained HTML page (``.html``) or JSON (``.json`` / ``fmt="json"``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._office._atomic import atomic_write
from .._runtime._similarity import AGREEMENT_MEASURE
from ._observe import Observation, RowStatus
from ._recommend import Recommendation, policy_snippet, recommend
from ._runner import EvalRun
from ._summary import ArmStats, summarize
from ._workload import RowProblem

__all__ = ["EvalReport", "build_report"]

Format = Literal["html", "json"]
_INTERVALS = "95% Wilson score for rates; 95% percentile bootstrap (2,000 resamples, seed 0) for means"


@dataclass(slots=True, kw_only=True)
class EvalReport:
    """What ``dualtrack eval`` found.

    Attributes:
        created: When the report was made (UTC, ISO 8601).
        workload: The workload file, if any.
        source: ``workload`` or ``shadow`` (sampled live traffic).
        models: The models evaluated.
        reference: The reference model, if any.
        skills: Skill → the stats of every arm that ran it.
        recommendations: One per skill.
        policy: The ``[policy]`` lines that apply every recommendation.
        pins: Strategy → the pin table it ran with.
        problems: Rows skipped for every model (unknown skill, missing file, bad line).
        skipped: Rows an arm skipped or failed, with the reason.
        rows: Rows in the workload that ran.
    """

    created: str
    models: list[str]
    skills: dict[str, list[ArmStats]]
    recommendations: list[Recommendation]
    workload: str | None = None
    source: str = "workload"
    reference: str | None = None
    policy: str = ""
    pins: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    skipped: list[RowProblem] = field(default_factory=list)
    rows: int = 0

    @property
    def clearance_violations(self) -> int:
        """Calls answered above a model's clearance, in every arm (must be 0)."""
        return sum(s.clearance_violations for stats in self.skills.values() for s in stats)

    def recommendation(self, skill: str) -> Recommendation | None:
        """The recommendation for ``skill``."""
        return next((r for r in self.recommendations if r.skill == skill), None)

    def arm(self, skill: str, arm: str) -> ArmStats | None:
        """The stats of ``arm`` (a model or strategy name) on ``skill``."""
        return next((s for s in self.skills.get(skill, []) if s.arm == arm), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "created": self.created,
            "source": self.source,
            "workload": self.workload,
            "rows": self.rows,
            "models": list(self.models),
            "reference": self.reference,
            "agreement_measure": AGREEMENT_MEASURE,
            "intervals": _INTERVALS,
            "skills": {k: [s.to_dict() for s in v] for k, v in self.skills.items()},
            "recommendations": [r.to_dict() for r in self.recommendations],
            "policy": self.policy,
            "pins": self.pins,
            "problems": [p.to_dict() for p in self.problems],
            "skipped": [p.to_dict() for p in self.skipped],
            "clearance_violations": self.clearance_violations,
        }

    def to_json(self) -> str:
        """The report as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    def to_html(self) -> str:
        """The report as one self-contained HTML page (inline SVG charts, no scripts)."""
        from ._html import render_html

        return render_html(self)

    def write(self, path: str | Path, fmt: Format | None = None) -> Path:
        """Write the report atomically; the format follows ``fmt``, else the file's suffix.

        Returns:
            The path written.
        """
        target = Path(path)
        kind = fmt or ("json" if target.suffix.lower() == ".json" else "html")
        text = self.to_json() if kind == "json" else self.to_html()
        with atomic_write(target, "w") as fh:
            fh.write(text)
        return target


def _skipped(observations: list[Observation]) -> list[RowProblem]:
    return [
        RowProblem(row=o.row, skill=o.skill, model=o.arm, reason=f"{o.status.value}: {o.error or ''}".strip())
        for o in observations
        if o.status is not RowStatus.OK
    ]


def build_report(
    run: EvalRun, *, tolerance: float = 0.02, min_rows: int = 10, source: str = "workload"
) -> EvalReport:
    """Aggregate a run into a report with a recommendation per skill.

    Args:
        run: What the evaluation measured.
        tolerance: How much lower in-house first's final pass rate may be and still count as equal.
        min_rows: Fewer rows than this make a recommendation tentative.
        source: ``workload`` or ``shadow``.
    """
    tracks = {name: card.track.value for name, card in run.catalog.items()}
    skills = summarize(run.observations, tracks)
    recs = [
        recommend(skill, stats, tolerance=tolerance, min_rows=min_rows) for skill, stats in skills.items()
    ]
    return EvalReport(
        created=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        workload=run.workload,
        source=source,
        models=list(run.models),
        reference=run.reference,
        skills=skills,
        recommendations=recs,
        policy=policy_snippet(recs, run.policy.pin),
        pins=run.pins,
        problems=[p for p in run.problems if p.model is None],
        skipped=[p for p in run.problems if p.model is not None] + _skipped(run.observations),
        rows=len(run.rows),
    )

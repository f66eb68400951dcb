"""The HTML page of the promotion report: one file, inline CSS and SVG, no scripts, nothing fetched."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from ._observe import ArmKind
from ._recommend import Action, money
from ._svg import Bar, bar_chart, strip_chart
from ._workload import RowProblem

if TYPE_CHECKING:
    from ._report import EvalReport
    from ._summary import ArmStats

__all__ = ["render_html"]

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430}
body{margin:2em auto;max-width:1100px;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}
h2{margin-top:2em;border-bottom:1px solid #d6dbe3;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:13px}
th,td{border:1px solid #d6dbe3;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f1f4f8}
.meta{color:#4b5563}
.rec{margin:.5em 0;padding:.5em .8em;border-left:4px solid #2f6fb3;background:#f5f8fc}
.rec.partner-first{border-color:#d9822b}
.rec.not-enough-evidence,.rec.no-model-calls{border-color:#9aa3af}
pre{background:#f6f8fa;padding:.6em .8em;overflow-x:auto}
.charts{display:flex;flex-wrap:wrap;gap:1em}
svg.chart{background:#fff;border:1px solid #e5e7eb}
svg .ct{font:600 13px sans-serif}
svg .lbl,svg .val{font:12px sans-serif}
svg .tick{font:10px sans-serif;fill:#6b7280}
svg .grid{stroke:#eceff3}
svg .ci{stroke:#1d2430;stroke-width:1.3;fill:none}
svg .p50{stroke:#1d2430;stroke-width:2}
svg .p90{stroke:#b91c1c;stroke-width:2}
.ok{color:#166534}
.bad{color:#b91c1c}
"""


def _pct(v: float) -> str:
    return f"{v:.0%}"


def _rate_cell(n: int, value: float, low: float, high: float) -> str:
    if n == 0:
        return "-"
    return f"{value:.0%} <small>[{low:.0%}-{high:.0%}] n={n}</small>"


def _arm_row(s: ArmStats) -> str:
    kind = s.track or "strategy"
    agree = f"{s.agreement.value:.2f}" if s.agreement is not None else "-"
    cost = s.cost
    cells = [
        escape(s.arm),
        escape(kind),
        str(s.rows),
        str(s.skipped),
        str(s.failed),
        _rate_cell(s.pass_rate.n, s.pass_rate.value, s.pass_rate.low, s.pass_rate.high),
        _rate_cell(
            s.final_pass_rate.n, s.final_pass_rate.value, s.final_pass_rate.low, s.final_pass_rate.high
        ),
        _rate_cell(s.escalation.n, s.escalation.value, s.escalation.low, s.escalation.high),
        agree,
        f"{s.latency.p50:.3f} / {s.latency.p90:.3f} / {s.latency.p99:.3f}",
        f"{s.input_tokens.value:,.0f} / {s.output_tokens.value:,.0f}",
        f"{money(cost.value * 1000)} <small>[{money(cost.low * 1000)}-{money(cost.high * 1000)}]</small>",
        f'<span class="{"ok" if s.clearance_violations == 0 else "bad"}">{s.clearance_violations}</span>',
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


_HEAD = (
    "<tr><th>model / strategy</th><th>track</th><th>rows</th><th>skipped</th><th>failed</th>"
    "<th>check pass rate [95% CI]</th><th>final pass rate</th><th>escalated</th><th>agreement</th>"
    "<th>latency p50 / p90 / p99 (s)</th><th>tokens in / out</th><th>cost per 1,000 calls [95% CI]</th>"
    "<th>calls above clearance</th></tr>"
)


def _skill_section(skill: str, stats: Sequence[ArmStats]) -> str:
    models = [s for s in stats if s.kind is ArmKind.MODEL and s.rows > 0]
    strategies = [s for s in stats if s.kind is ArmKind.STRATEGY and s.rows > 0]
    charts: list[str] = []
    checked = [s for s in models if s.pass_rate.n > 0]
    if checked:
        bars = [
            Bar(label=s.arm, value=s.pass_rate.value, low=s.pass_rate.low, high=s.pass_rate.high)
            for s in checked
        ]
        charts.append(bar_chart(f"{skill}: check pass rate by model", bars, fmt=_pct, maximum=1.0))
    if models:
        bars = [
            Bar(label=s.arm, value=s.cost.value * 1000, low=s.cost.low * 1000, high=s.cost.high * 1000)
            for s in models
        ]
        charts.append(bar_chart(f"{skill}: cost per 1,000 calls by model", bars, fmt=money))
    if strategies:
        bars = [
            Bar(
                label=s.arm,
                value=s.cost.value * 1000,
                low=s.cost.low * 1000,
                high=s.cost.high * 1000,
                note=f"{money(s.cost.value * 1000)} · {s.final_pass_rate.value:.0%} pass · "
                f"{s.escalation.value:.0%} escalated",
            )
            for s in strategies
        ]
        charts.append(
            bar_chart(
                f"{skill}: cost per 1,000 calls by routing", bars, fmt=money, css_class="chart bars routing"
            )
        )
    series = [(s.arm, s.latencies, s.latency) for s in [*models, *strategies] if s.latencies]
    if series:
        charts.append(strip_chart(f"{skill}: latency per call (dots; black p50, red p90)", series))
    table = "<table>" + _HEAD + "".join(_arm_row(s) for s in stats) + "</table>"
    head = f"<h2><code>{escape(skill)}</code></h2>"
    return f'<section class="skill">{head}{table}<div class="charts">{"".join(charts)}</div></section>'


def _problems(title: str, problems: Sequence[RowProblem]) -> str:
    if not problems:
        return ""
    rows = "".join(
        f"<tr><td>{escape(p.row)}</td><td>{escape(p.skill or '-')}</td><td>{escape(p.model or 'all')}</td>"
        f'<td style="text-align:left">{escape(p.reason)}</td></tr>'
        for p in problems
    )
    head = "<tr><th>row</th><th>skill</th><th>model</th><th>why</th></tr>"
    return f"<h2>{escape(title)} ({len(problems)})</h2><table>{head}{rows}</table>"


def render_html(report: EvalReport) -> str:
    """The report as one self-contained HTML page."""
    recs = []
    for rec in report.recommendations:
        lines = "\n".join(rec.policy_lines)
        toml = f"<pre>[policy]\npin = {{ {escape(', '.join(rec.policy_lines))} }}</pre>" if lines else ""
        recs.append(f'<div class="rec {escape(rec.action.value)}"><p>{escape(rec.text)}</p>{toml}</div>')
    applied = [r for r in report.recommendations if r.action in (Action.IN_HOUSE_FIRST, Action.PARTNER_FIRST)]
    snippet = (
        "<p>To apply every recommendation, merge this into <code>dualtrack.toml</code> "
        "(other pins are kept):</p>"
        f"<pre>{escape(report.policy)}</pre>"
        if report.policy and applied
        else ""
    )
    violations = report.clearance_violations
    meta = [
        f"created {escape(report.created)}",
        f"source: {escape(report.source)}"
        + (f" <code>{escape(report.workload)}</code>" if report.workload else ""),
        f"{report.rows} workload row(s)",
        "models: " + ", ".join(f"<code>{escape(m)}</code>" for m in report.models),
        f"reference: <code>{escape(report.reference)}</code>" if report.reference else "no reference model",
        "agreement: token-multiset F1 of the output against the reference's "
        "(lower-cased word tokens, order ignored)",
        "intervals: 95% Wilson score for rates, 95% percentile bootstrap (2,000 resamples) for means",
        f"calls above a model's clearance: "
        f'<span class="{"ok" if violations == 0 else "bad"}">{violations}</span>',
    ]
    body = [
        "<h1>dualtrack promotion report</h1>",
        '<p class="meta">' + "<br>".join(meta) + "</p>",
        "<h2>Recommendations</h2>",
        "".join(recs) or "<p>No skill ran.</p>",
        snippet,
        *(_skill_section(skill, stats) for skill, stats in report.skills.items()),
        _problems("Rows not run", report.problems),
        _problems("Skipped or failed", report.skipped),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>dualtrack promotion report</title><style>{_CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )

"""Hand-written inline SVG charts for the evaluation report: bars with intervals, and latency strips.

No script, no external font or stylesheet: each chart is one ``<svg>`` element
that any browser renders offline, with a ``<title>`` for screen readers and
tooltips on every mark.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from ._stats import Percentiles

__all__ = ["Bar", "bar_chart", "strip_chart"]

_PALETTE = ("#2f6fb3", "#d9822b", "#3a9d5d", "#b34a6b", "#7a5cc2", "#6b7a8f", "#c2a83e", "#3aa6a6")
_W = 640
_LABEL_W = 190
_ROW_H = 26


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    """One bar: a label, a value and an optional interval around it.

    Attributes:
        label: The row's label (model or strategy name).
        value: The bar's length, in data units.
        low: The interval's lower bound (``None``: no whisker).
        high: The interval's upper bound.
        note: Text written after the bar (defaults to the formatted value).
        colour: Fill colour (defaults to the palette, by position).
    """

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    note: str | None = None
    colour: str | None = None


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return float(step * exp)
    return float(10 * exp)


def bar_chart(
    title: str,
    bars: Sequence[Bar],
    *,
    fmt: Callable[[float], str],
    maximum: float | None = None,
    css_class: str = "chart bars",
) -> str:
    """A horizontal bar chart with 95% interval whiskers, as an ``<svg>`` string.

    Args:
        title: The chart's title (shown and given to screen readers).
        bars: The bars, top to bottom.
        fmt: Formats axis ticks and bar notes.
        maximum: The axis maximum (default: a round number above the largest value).
        css_class: The ``class`` of the ``<svg>`` element.
    """
    top = 30
    height = top + _ROW_H * max(1, len(bars)) + 28
    peak = max([b.high if b.high is not None else b.value for b in bars] + [0.0])
    axis_max = maximum if maximum is not None else _nice_max(peak)
    plot_w = _W - _LABEL_W - 90

    def x(v: float) -> float:
        return _LABEL_W + plot_w * max(0.0, min(v, axis_max)) / axis_max

    out = [
        f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" '
        f'width="{_W}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="4" y="18" class="ct">{escape(title)}</text>',
    ]
    axis_y = top + _ROW_H * max(1, len(bars))
    for i in range(5):
        v = axis_max * i / 4
        tx = x(v)
        out.append(f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{axis_y}" class="grid"/>')
        out.append(
            f'<text x="{tx:.1f}" y="{axis_y + 16}" class="tick" text-anchor="middle">{escape(fmt(v))}</text>'
        )
    for i, bar in enumerate(bars):
        y = top + i * _ROW_H
        colour = bar.colour or _PALETTE[i % len(_PALETTE)]
        note = bar.note if bar.note is not None else fmt(bar.value)
        tip = f"{bar.label}: {note}"
        if bar.low is not None and bar.high is not None:
            tip += f" (95% CI {fmt(bar.low)} to {fmt(bar.high)})"
        out.append(
            f'<text x="{_LABEL_W - 6}" y="{y + 17}" class="lbl" text-anchor="end">{escape(bar.label)}</text>'
        )
        width = max(0.0, x(bar.value) - _LABEL_W)
        out.append(
            f'<rect x="{_LABEL_W}" y="{y + 4}" width="{width:.1f}" height="{_ROW_H - 8}" fill="{colour}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if bar.low is not None and bar.high is not None:
            lo, hi, mid = x(bar.low), x(bar.high), y + _ROW_H / 2
            out.append(
                f'<path d="M{lo:.1f} {mid - 5:.1f}v10M{lo:.1f} {mid:.1f}H{hi:.1f}M{hi:.1f} {mid - 5:.1f}v10" '
                'class="ci"/>'
            )
        note_x = max(x(bar.value), x(bar.high) if bar.high is not None else 0.0) + 6
        out.append(f'<text x="{note_x:.1f}" y="{y + 17}" class="val">{escape(note)}</text>')
    out.append("</svg>")
    return "".join(out)


def strip_chart(
    title: str, series: Sequence[tuple[str, Sequence[float], Percentiles]], *, unit: str = "s"
) -> str:
    """Latency distributions: every sample as a dot, with the p50 and p90 marked, per series.

    Args:
        title: The chart's title.
        series: ``(label, samples, their percentiles)`` per row, top to bottom.
        unit: The samples' unit, for ticks.
    """
    top = 30
    rows = max(1, len(series))
    height = top + _ROW_H * rows + 28
    peak = max([max(s) for _, s, _ in series if s] + [0.0])
    axis_max = _nice_max(peak * 1.05)
    plot_w = _W - _LABEL_W - 30

    def x(v: float) -> float:
        return _LABEL_W + plot_w * min(v, axis_max) / axis_max

    out = [
        f'<svg class="chart strip" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" '
        f'width="{_W}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="4" y="18" class="ct">{escape(title)}</text>',
    ]
    axis_y = top + _ROW_H * rows
    for i in range(5):
        v = axis_max * i / 4
        out.append(f'<line x1="{x(v):.1f}" y1="{top - 4}" x2="{x(v):.1f}" y2="{axis_y}" class="grid"/>')
        out.append(
            f'<text x="{x(v):.1f}" y="{axis_y + 16}" class="tick" text-anchor="middle">{v:.3g} {unit}</text>'
        )
    for i, (label, samples, marks) in enumerate(series):
        y = top + i * _ROW_H + _ROW_H / 2
        colour = _PALETTE[i % len(_PALETTE)]
        out.append(
            f'<text x="{_LABEL_W - 6}" y="{y + 4:.1f}" class="lbl" text-anchor="end">{escape(label)}</text>'
        )
        for j, v in enumerate(samples):
            jitter = ((j * 7919) % 11 - 5) * 0.9
            out.append(
                f'<circle cx="{x(v):.1f}" cy="{y + jitter:.1f}" r="3" fill="{colour}" fill-opacity="0.55">'
                f"<title>{escape(label)}: {v:.3f} {unit}</title></circle>"
            )
        if samples:
            for cls, value in (("p50", marks.p50), ("p90", marks.p90)):
                px = x(value)
                out.append(
                    f'<line x1="{px:.1f}" y1="{y - 9:.1f}" x2="{px:.1f}" y2="{y + 9:.1f}" class="{cls}">'
                    f"<title>{escape(label)} {cls}: {value:.3f} {unit}</title></line>"
                )
    out.append("</svg>")
    return "".join(out)

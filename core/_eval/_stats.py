"""Small-sample statistics for evaluation reports: rates, means and latency percentiles.

- Rates (check pass rate, escalation rate) carry a 95% **Wilson score interval**,
  which stays inside ``[0, 1]`` and is honest for a handful of rows.
- Means (cost, tokens, latency, agreement) carry a 95% **percentile bootstrap**
  interval: 2,000 resamples with a fixed seed, so a report is reproducible.
- Percentiles use linear interpolation between closest ranks (numpy's default).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Mean", "Percentiles", "Rate", "bootstrap_mean", "percentile", "percentiles", "wilson"]

Z95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    """``k`` of ``n`` with its 95% Wilson interval.

    Attributes:
        k: Successes.
        n: Trials.
        value: ``k / n`` (0 when ``n`` is 0).
        low: Lower bound of the interval.
        high: Upper bound of the interval.
    """

    k: int
    n: int
    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {"k": self.k, "n": self.n, "value": self.value, "low": self.low, "high": self.high}

    def describe(self) -> str:
        """``96% (24/25, 95% CI 80-99%)``."""
        if self.n == 0:
            return "n/a (no samples)"
        return f"{self.value:.0%} ({self.k}/{self.n}, 95% CI {self.low:.0%}-{self.high:.0%})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Mean:
    """A sample mean with its 95% bootstrap interval.

    Attributes:
        n: Samples.
        value: The mean (0 when there are none).
        low: Lower bound of the interval.
        high: Upper bound of the interval.
    """

    n: int
    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {"n": self.n, "value": self.value, "low": self.low, "high": self.high}


@dataclass(frozen=True, slots=True, kw_only=True)
class Percentiles:
    """Latency percentiles of a sample (seconds).

    Attributes:
        n: Samples.
        p50: Median.
        p90: 90th percentile.
        p99: 99th percentile.
    """

    n: int
    p50: float
    p90: float
    p99: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {"n": self.n, "p50": self.p50, "p90": self.p90, "p99": self.p99}


def wilson(k: int, n: int, z: float = Z95) -> Rate:
    """The rate ``k / n`` with its Wilson score interval.

    Args:
        k: Successes (``0 <= k <= n``).
        n: Trials.
        z: The normal quantile (1.96 for 95%).

    Returns:
        The rate; with ``n == 0`` the interval is ``[0, 1]``.

    Raises:
        ValueError: ``k`` is outside ``[0, n]``.
    """
    if not 0 <= k <= n:
        raise ValueError(f"successes must be between 0 and {n}, got {k}")
    if n == 0:
        return Rate(k=0, n=0, value=0.0, low=0.0, high=1.0)
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return Rate(k=k, n=n, value=p, low=low, high=high)


def bootstrap_mean(
    values: Sequence[float], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> Mean:
    """The mean of ``values`` with a 95% percentile bootstrap interval.

    Args:
        values: The sample.
        resamples: Bootstrap resamples.
        seed: Seeds the resampling (the same sample always gives the same interval).

    Returns:
        The mean; a single value (or identical values) has a zero-width interval.
    """
    n = len(values)
    if n == 0:
        return Mean(n=0, value=0.0, low=0.0, high=0.0)
    mean = math.fsum(values) / n
    if n == 1 or min(values) == max(values):
        return Mean(n=n, value=mean, low=mean, high=mean)
    rng = random.Random(seed)
    data = list(values)
    means = sorted(math.fsum(rng.choices(data, k=n)) / n for _ in range(resamples))
    return Mean(n=n, value=mean, low=percentile(means, 2.5), high=percentile(means, 97.5))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks.

    Raises:
        ValueError: ``values`` is empty or ``q`` is outside ``[0, 100]``.
    """
    if not values:
        raise ValueError("percentile of an empty sample")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def percentiles(values: Sequence[float]) -> Percentiles:
    """p50, p90 and p99 of ``values`` (all 0 for an empty sample)."""
    if not values:
        return Percentiles(n=0, p50=0.0, p90=0.0, p99=0.0)
    return Percentiles(
        n=len(values), p50=percentile(values, 50), p90=percentile(values, 90), p99=percentile(values, 99)
    )

"""Is one variant better than another? Welch's p-value, an effect size with a bootstrap interval.

The papers compare variants by mean and standard deviation over runs (Saiga et al. 2025: ten
runs per setting). With the handful of seeds a CPU allows, a p-value alone says little, so a
comparison reports:

* the difference of the means (second minus first, in the metric's units) and Hedges' g (that
  difference over the pooled standard deviation, with the small-sample correction), each with a
  95 % percentile bootstrap interval (each group resampled with replacement, 10,000 times, fixed
  seed);
* Welch's t-test p-value (unequal variances);
* a verdict. Fewer than :data:`MIN_SEEDS` converged runs on either side is **inconclusive**,
  whatever the numbers. Otherwise the better side is named only when both the interval of the
  difference excludes zero and Welch's p is below :data:`ALPHA`; else "no clear difference".
  Both are asked for because with three runs per side the percentile bootstrap interval is
  too narrow (a resampled mean of three values takes only ten distinct values).

Example:
    >>> c = compare_groups("standard", [2.1, 2.3, 2.2], "mouse", [3.0, 3.4, 3.1],
    ...                    higher_is_better=False)
    >>> c.verdict
    'standard better (lower)'
    >>> compare_groups("standard", [2.1, 2.3], "mouse", [3.0, 3.4, 3.1]).verdict
    'inconclusive: fewer than 3 converged runs per side (mouse 3, standard 2)'

"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bionn.metrics.functional import welch_t_test

__all__ = ["ALPHA", "MIN_SEEDS", "Comparison", "bootstrap_interval", "compare_groups", "hedges_g"]

MIN_SEEDS = 3  # converged runs per side below which no comparison is conclusive
ALPHA = 0.05  # Welch p below which (with the interval excluding 0) a side is called better
_RESAMPLES = 10_000
_SEED = 0


def hedges_g(a: np.ndarray, b: np.ndarray) -> float:
    """Hedges' g of ``b`` against ``a``: (mean b - mean a) / pooled sd, bias-corrected.

    NaN when either side has fewer than 2 values or both have zero spread.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n_a, n_b = a.size, b.size
    if n_a < 2 or n_b < 2:
        return math.nan
    pooled = ((n_a - 1) * a.var(ddof=1) + (n_b - 1) * b.var(ddof=1)) / (n_a + n_b - 2)
    if pooled <= 0:
        return math.nan
    correction = 1 - 3 / (4 * (n_a + n_b) - 9)
    return float(correction * (b.mean() - a.mean()) / math.sqrt(pooled))


def _resample(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``_RESAMPLES`` rows, each ``values`` drawn with replacement."""
    return values[rng.integers(0, values.size, size=(_RESAMPLES, values.size))]


def bootstrap_interval(
    a: np.ndarray, b: np.ndarray, level: float = 0.95
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Percentile bootstrap intervals of (mean b - mean a) and of Hedges' g.

    Resamples where g is undefined (both resampled groups constant) are left out of g's
    interval. Returns NaN bounds when either side has fewer than 2 values: a single run says
    nothing of its group's spread, and resampling it would give a falsely narrow interval.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    nan = (math.nan, math.nan)
    if a.size < 2 or b.size < 2:
        return nan, nan
    rng = np.random.default_rng(_SEED)
    ra, rb = _resample(a, rng), _resample(b, rng)
    tails = [50 * (1 - level), 100 - 50 * (1 - level)]
    diff = np.percentile(rb.mean(1) - ra.mean(1), tails)
    n_a, n_b = a.size, b.size
    pooled = ((n_a - 1) * ra.var(1, ddof=1) + (n_b - 1) * rb.var(1, ddof=1)) / (n_a + n_b - 2)
    ok = pooled > 0
    correction = 1 - 3 / (4 * (n_a + n_b) - 9)
    g = correction * (rb.mean(1)[ok] - ra.mean(1)[ok]) / np.sqrt(pooled[ok])
    g_ci = np.percentile(g, tails) if g.size else np.array(nan)
    return (float(diff[0]), float(diff[1])), (float(g_ci[0]), float(g_ci[1]))


@dataclass(frozen=True)
class Comparison:
    """Second group against the first: effect sizes, intervals, p-value and verdict.

    Attributes:
        first: Name of the reference group (e.g. 'standard').
        second: Name of the other group.
        n_first: Converged runs of the first group.
        n_second: Converged runs of the second group.
        difference: Mean of the second minus mean of the first.
        difference_ci: Its 95 % bootstrap interval.
        hedges_g: Standardised difference (second minus first).
        hedges_g_ci: Its 95 % bootstrap interval.
        welch_p: Two-sided Welch p-value (NaN with fewer than 2 runs per side).
        conclusive: At least :data:`MIN_SEEDS` converged runs on each side.
        verdict: One line for the report.

    """

    first: str
    second: str
    n_first: int
    n_second: int
    difference: float
    difference_ci: tuple[float, float]
    hedges_g: float
    hedges_g_ci: tuple[float, float]
    welch_p: float
    conclusive: bool
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)

    def sentence(self, digits: int = 3) -> str:
        """The comparison as one Markdown line."""

        def fmt(x: float) -> str:
            return "-" if math.isnan(x) else f"{x:.{digits}g}"

        return (
            f"{self.second} vs {self.first} ({self.n_second} vs {self.n_first} converged "
            f"runs): difference of means {fmt(self.difference)} "
            f"[95 % bootstrap CI {fmt(self.difference_ci[0])}, {fmt(self.difference_ci[1])}]"
            f", Hedges' g {fmt(self.hedges_g)} [{fmt(self.hedges_g_ci[0])}, "
            f"{fmt(self.hedges_g_ci[1])}], Welch t-test p = {fmt(self.welch_p)}: "
            f"**{self.verdict}**"
        )


def compare_groups(
    first: str, a: list[float], second: str, b: list[float], *, higher_is_better: bool = False
) -> Comparison:
    """Compare the converged values ``b`` of group ``second`` with ``a`` of group ``first``.

    Args:
        first: Name of the reference group.
        a: Its converged runs' values.
        second: Name of the other group.
        b: Its converged runs' values.
        higher_is_better: True for accuracies, False for distances such as FID.

    """
    va, vb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    difference = float(vb.mean() - va.mean()) if va.size and vb.size else math.nan
    diff_ci, g_ci = bootstrap_interval(va, vb)
    p_value = welch_t_test(va, vb)
    conclusive = va.size >= MIN_SEEDS and vb.size >= MIN_SEEDS
    if not conclusive:
        verdict = (
            f"inconclusive: fewer than {MIN_SEEDS} converged runs per side "
            f"({second} {vb.size}, {first} {va.size})"
        )
    elif diff_ci[0] <= 0 <= diff_ci[1]:
        verdict = "no clear difference (the interval of the difference includes 0)"
    elif not p_value < ALPHA:
        verdict = f"no clear difference (Welch p >= {ALPHA:g})"
    else:
        second_larger = diff_ci[0] > 0
        winner = second if second_larger == higher_is_better else first
        verdict = f"{winner} better ({'higher' if higher_is_better else 'lower'})"
    return Comparison(
        first,
        second,
        int(va.size),
        int(vb.size),
        difference,
        diff_ci,
        hedges_g(va, vb),
        g_ci,
        p_value,
        conclusive,
        verdict,
    )

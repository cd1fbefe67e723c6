"""Metric-against-step curves of ``--eval-every`` runs: mean and band over seeds, and flattening.

A run trained with ``--eval-every N`` logs its metric on a fixed small sample every N steps
(:mod:`bionn.experiments.train.periodic_eval`). For each variant this module averages those
points over the seeds, and says where the curve flattened, so a report can tell a variant that
is worse from one that is slower to converge.

**Flattened** (the rule the reports print, :data:`FLATTENING_RULE`): smooth the mean curve with
a trailing mean over ``window`` = 3 points; the curve flattened at the first evaluated step from
which every later smoothed value stays within ``tolerance`` = 5 % of the smoothed curve's range
(its largest minus its smallest value) of the final smoothed value, i.e. from where on 95 % of
the curve's change is behind it. That stretch must cover at least the last ``min_flat`` = 25 %
of the evaluated steps; otherwise the curve was still changing when training stopped, and no
step is given. Measuring against the range, not the final value, makes the rule the same for
distances near zero and for accuracies near one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bionn.experiments.train.periodic_eval import eval_records

__all__ = ["FLATTENING_RULE", "MetricCurve", "curve_section", "flattening_step", "mean_curve"]

WINDOW, TOLERANCE, MIN_FLAT = 3, 0.05, 0.25
FLATTENING_RULE = (
    f"A curve *flattened* at the first evaluated step from which its smoothed mean (trailing "
    f"mean of {WINDOW} points) stays within {TOLERANCE:.0%} of the smoothed curve's range "
    f"(largest minus smallest value) of its final value, i.e. {1 - TOLERANCE:.0%} of its change "
    f"is behind it, provided that stretch covers at least the last {MIN_FLAT:.0%} of the "
    f"evaluated steps; otherwise it was still changing when training stopped ('not yet')."
)


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean: point i averages points max(0, i - window + 1) .. i."""
    sums = np.cumsum(np.insert(values, 0, 0.0))
    index = np.arange(1, len(values) + 1)
    start = np.maximum(index - window, 0)
    return (sums[index] - sums[start]) / (index - start)


def flattening_step(
    steps: list[int],
    values: list[float],
    *,
    window: int = WINDOW,
    tolerance: float = TOLERANCE,
    min_flat: float = MIN_FLAT,
) -> int | None:
    """Return the step where the curve flattened (see the module docstring), or None.

    Args:
        steps: Evaluated steps, increasing.
        values: The metric at those steps.
        window: Points in the trailing mean.
        tolerance: Allowed distance from the final smoothed value, as a fraction of the range.
        min_flat: Fraction of the evaluated span the flat stretch must cover at least.

    Raises:
        ValueError: If ``steps`` and ``values`` differ in length.

    """
    if len(steps) != len(values):
        raise ValueError(f"steps and values differ in length ({len(steps)} vs {len(values)})")
    if len(steps) < window + 1:
        return None
    smooth = _smooth(np.asarray(values, dtype=np.float64), window)
    band = tolerance * (smooth.max() - smooth.min())
    outside = np.abs(smooth - smooth[-1]) > band
    first_flat = int(np.flatnonzero(outside)[-1]) + 1 if outside.any() else 0
    span = steps[-1] - steps[0]
    if steps[-1] - steps[first_flat] < min_flat * span:
        return None
    return int(steps[first_flat])


@dataclass(frozen=True)
class MetricCurve:
    """One variant's evaluation curve over its seeds.

    Attributes:
        name: The variant (or grid value).
        metric: The metric's name (e.g. ``FD-proxy(fashionmnist)``).
        higher_is_better: Whether larger values are better.
        steps: Steps evaluated in every run.
        mean: Mean over runs at each step.
        low: Lowest run at each step.
        high: Highest run at each step.
        runs: How many runs the curve averages.
        flattened: Step where the mean curve flattened, or None.

    """

    name: str
    metric: str
    higher_is_better: bool
    steps: list[int]
    mean: list[float]
    low: list[float]
    high: list[float]
    runs: int
    flattened: int | None


def mean_curve(name: str, runs: list[list[dict[str, Any]]]) -> MetricCurve | None:
    """Average the evaluation points of ``runs`` (each a run's ``metrics.jsonl`` lines).

    Only steps evaluated in every run are kept (runs of different lengths share a prefix).
    Returns None when no run has evaluation points.
    """
    points = [{r["step"]: r for r in eval_records(records)} for records in runs]
    points = [p for p in points if p]
    if not points:
        return None
    steps = sorted(set.intersection(*(set(p) for p in points)))
    if not steps:
        return None
    table = np.array([[p[s]["eval_value"] for s in steps] for p in points], dtype=np.float64)
    first = points[0][steps[0]]
    mean = table.mean(0)
    return MetricCurve(
        name,
        first["eval_metric"],
        bool(first["eval_higher_is_better"]),
        steps,
        mean.tolist(),
        table.min(0).tolist(),
        table.max(0).tolist(),
        len(points),
        flattening_step(steps, mean.tolist()),
    )


def curve_section(
    groups: dict[str, list[list[dict[str, Any]]]], out: Path, filename: str = "metric_curves.png"
) -> list[str]:
    """Draw every group's curve on one plot; return the report's Markdown lines about them.

    Args:
        groups: Group name (variant or grid value) -> per-run ``metrics.jsonl`` lines.
        out: The report folder (the figure is written there).
        filename: The figure's name.

    Returns:
        Lines for ``report.md`` (figure, table of final values and flattening steps, the rule);
        empty when no run was trained with ``--eval-every``.

    """
    from bionn.experiments.plots import plot_metric_curves

    curves = [c for name, runs in groups.items() if (c := mean_curve(name, runs)) is not None]
    if not curves:
        return []
    plot_metric_curves(curves, out / filename)
    first = curves[0]
    lines = [
        f"## {first.metric} during training",
        "",
        f"![{first.metric} against the training step]({filename})",
        "",
        f"Each point scores the model on a fixed sample of {_sample_size(groups)} images; "
        "line: mean over runs, band: lowest to highest run; dotted line: where the mean "
        "flattened.",
        "",
        "| group | runs | last step | mean at last step | flattened at step |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for c in curves:
        flat = f"{c.flattened:,}" if c.flattened is not None else "not yet"
        lines.append(f"| {c.name} | {c.runs} | {c.steps[-1]:,} | {c.mean[-1]:.4g} | {flat} |")
    return [*lines, "", FLATTENING_RULE, ""]


def _sample_size(groups: dict[str, list[list[dict[str, Any]]]]) -> str:
    sizes = {
        r["eval_n"] for runs in groups.values() for records in runs for r in eval_records(records)
    }
    return ", ".join(str(s) for s in sorted(sizes))

"""Typed results of evaluated runs: what compare, sweep and the reports pass around.

A run's score and its weight usage arrive as JSON (``eval-*.json``, ``summary.json``); they are
read into these frozen dataclasses once, at the edge, so the rest of the code says
``score.usage.windowed`` instead of ``summary["usage"]["layers"][-1]``.

Example:
    >>> from bionn.experiments.results import Stats
    >>> stats = Stats.of([40.0, 44.0])
    >>> stats.mean, round(stats.sd, 3), stats.n
    (42.0, 2.828, 2)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GroupSummary", "RunScores", "Stats", "UsageTotals", "summarise"]


@dataclass(frozen=True)
class UsageTotals:
    """Weight usage of the part of a model the papers measure.

    Attributes:
        windowed: Fraction of weights kept in the bio-mimetic (windowed) layers.
        total: Fraction of all weight-layer weights kept (plain layers count as fully used).
        weights: Weights of all weight layers.
        active: Weights those layers keep.

    """

    windowed: float
    total: float
    weights: int
    active: int

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> UsageTotals:
        """Read the totals from a run's ``summary.json`` (its usage rows end with the total)."""
        usage = summary["usage"]
        total_row = usage["layers"][-1]
        return cls(
            windowed=float(usage["windowed"]),
            total=float(usage["total"]),
            weights=int(total_row["weights"]),
            active=int(total_row["active"]),
        )


@dataclass(frozen=True)
class Stats:
    """Mean, sample standard deviation (n - 1) and count; NaN where undefined."""

    mean: float
    sd: float
    n: int
    values: tuple[float, ...]

    @classmethod
    def of(cls, values: list[float] | tuple[float, ...]) -> Stats:
        """Statistics of ``values``."""
        n = len(values)
        mean = sum(values) / n if n else math.nan
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else math.nan
        return cls(mean=mean, sd=sd, n=n, values=tuple(values))


# keys of an evaluation dict that are stored as typed fields (the rest goes to ``extras``)
_USAGE_KEYS = ("usage", "usage_total", "weights", "active_weights")


@dataclass(frozen=True)
class RunScores:
    """One evaluated run.

    Attributes:
        run: The run folder.
        kind: 'gan', 'ddim' or 'classifier'.
        variant: 'standard', 'mouse' or 'schizo'.
        seed: The run's seed.
        metric: What ``value`` is (e.g. 'FID', 'FD-proxy(digits)', 'test accuracy').
        value: The score.
        higher_is_better: True for accuracies, False for distances.
        converged: False when a distance is above the threshold (listed apart in reports).
        usage: Weight usage of the measured part.
        parameters: Trainable parameters of the whole model.
        time_s: Training time.
        radius: Mean mouse radius, if any.
        reduction: Schizo param_reduction, if any.
        kid_mean: KID, if measured.
        kid_std: Its standard deviation over subsets.
        grid_value: The sweep's value for this run (sweeps only).
        extras: Other figures (classifier train / test loss and accuracy, proxy accuracy ...).

    """

    run: str
    kind: str
    variant: str
    seed: int
    metric: str
    value: float
    higher_is_better: bool
    converged: bool
    usage: UsageTotals
    parameters: int
    time_s: float
    radius: float | None = None
    reduction: float | None = None
    kid_mean: float | None = None
    kid_std: float | None = None
    grid_value: float | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunScores:
        """Read an evaluation dict (``evaluate_run``'s flat one, or :meth:`to_dict`'s)."""
        names = {f.name for f in dataclasses.fields(cls)} - {"usage", "extras"}
        if isinstance(data["usage"], dict):
            usage = UsageTotals(**data["usage"])
        else:
            usage = UsageTotals(
                windowed=data["usage"],
                total=data["usage_total"],
                weights=int(data["weights"]),
                active=int(round(data["active_weights"])),
            )
        extras = {
            k: v
            for k, v in data.items()
            if k not in names and k not in _USAGE_KEYS and k != "extras"
        }
        extras.update(data.get("extras", {}))
        return cls(usage=usage, extras=extras, **{k: data[k] for k in names if k in data})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that :meth:`from_dict` reads back."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class GroupSummary:
    """Statistics of one group of runs (one variant, or one grid value).

    Attributes:
        scores: The metric over converged runs.
        seeds: Seeds of the converged runs.
        not_converged: Runs above the threshold (not in ``scores``).
        parameters: Trainable parameters (of the first run).
        usage: Mean usage of the runs (windowed, total, weights, active).
        radius: Mouse radius of the first run, if any.
        time_s: Mean training time.
        kid: KID over converged runs, if measured.
        extras: Classifier figures (train / test accuracy and loss, overfitting, gap).

    """

    scores: Stats
    seeds: tuple[int, ...]
    not_converged: tuple[RunScores, ...]
    parameters: int
    usage: UsageTotals
    radius: float | None
    time_s: float
    kid: Stats | None
    extras: dict[str, Stats]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)


CLASSIFIER_EXTRAS = ("train_acc", "test_acc", "train_loss", "test_loss", "overfitting", "gap")


def _mean(values: list[float]) -> float:
    return Stats.of(values).mean


def summarise(runs: list[RunScores]) -> GroupSummary:
    """Statistics of one non-empty group of runs (converged runs only in the metric's mean)."""
    good = [r for r in runs if r.converged]
    first = runs[0]
    usage = UsageTotals(
        windowed=_mean([r.usage.windowed for r in runs]),
        total=_mean([r.usage.total for r in runs]),
        weights=first.usage.weights,
        active=round(_mean([r.usage.active for r in runs])),
    )
    has_kid = first.kid_mean is not None
    extras = (
        {k: Stats.of([r.extras[k] for r in runs]) for k in CLASSIFIER_EXTRAS}
        if first.kind == "classifier"
        else {}
    )
    return GroupSummary(
        scores=Stats.of([r.value for r in good]),
        seeds=tuple(r.seed for r in good),
        not_converged=tuple(r for r in runs if not r.converged),
        parameters=first.parameters,
        usage=usage,
        radius=first.radius,
        time_s=_mean([r.time_s for r in runs]),
        kid=Stats.of([r.kid_mean for r in good if r.kid_mean is not None]) if has_kid else None,
        extras=extras,
    )

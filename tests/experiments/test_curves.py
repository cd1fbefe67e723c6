"""Metric curves: mean and band over seeds, one line per variant, where each curve flattened."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bionn.experiments import plots
from bionn.experiments.curves import (
    FLATTENING_RULE,
    TOLERANCE,
    _smooth,
    curve_section,
    flattening_step,
    mean_curve,
)

STEPS = list(range(100, 4001, 100))


def _records(values: list[float], steps: list[int] = STEPS) -> list[dict]:
    """A run's metrics.jsonl lines: training lines interleaved with evaluation points."""
    lines = []
    for step, value in zip(steps, values, strict=True):
        lines.append({"step": step, "epoch": 0, "loss_d": 0.5})
        lines.append(
            {
                "step": step,
                "epoch": 0,
                "eval_metric": "FD-proxy(digits)",
                "eval_value": value,
                "eval_higher_is_better": False,
                "eval_n": 500,
                "eval_s": 0.1,
            }
        )
    return lines


def _decay(scale: float, floor: float, tau: float) -> list[float]:
    return [floor + scale * math.exp(-s / tau) for s in STEPS]


def test_exponential_decay_flattens_where_the_rule_says():
    values = _decay(10.0, 1.0, 400.0)
    step = flattening_step(STEPS, values)
    assert step is not None and 500 < step < 2000
    smooth = _smooth(np.array(values), 3)
    band = TOLERANCE * (smooth.max() - smooth.min())
    i = STEPS.index(step)
    assert np.all(np.abs(smooth[i:] - smooth[-1]) <= band)  # stays within the band from there
    assert abs(smooth[i - 1] - smooth[-1]) > band  # and not one point earlier


def test_curve_still_falling_at_the_end_has_not_flattened():
    assert flattening_step(STEPS, [10.0 - 0.002 * s for s in STEPS]) is None
    # a late plateau covering less than the last 25 % is not enough either
    late = [10.0 - 0.003 * min(s, 3500) for s in STEPS]
    assert flattening_step(STEPS, late) is None


def test_flat_and_noisy_plateau_and_rising_accuracy():
    assert flattening_step(STEPS, [2.0] * len(STEPS)) == STEPS[0]
    rng = np.random.default_rng(0)
    noisy = np.array(_decay(10.0, 1.0, 300.0)) + rng.normal(0, 0.05, len(STEPS))
    assert flattening_step(STEPS, noisy.tolist()) is not None
    accuracy = [0.95 - 0.5 * math.exp(-s / 300) for s in STEPS]  # direction does not matter
    assert flattening_step(STEPS, accuracy) == flattening_step(STEPS, [-a for a in accuracy])
    assert flattening_step([100, 200], [1.0, 2.0]) is None  # too few points to say
    with pytest.raises(ValueError, match="differ in length"):
        flattening_step([1, 2, 3], [1.0])


def test_mean_curve_mean_band_and_common_steps():
    a, b = _decay(10, 1, 400), _decay(12, 1.5, 400)
    short = _records(a[:20], STEPS[:20])  # a run that stopped early
    curve = mean_curve("mouse", [_records(a), _records(b), short])
    assert curve is not None and curve.runs == 3 and curve.steps == STEPS[:20]
    assert curve.low[0] == pytest.approx(min(a[0], b[0]))
    assert curve.high[0] == pytest.approx(max(a[0], b[0]))
    assert curve.mean[0] == pytest.approx((2 * a[0] + b[0]) / 3)
    assert curve.metric == "FD-proxy(digits)" and not curve.higher_is_better
    assert mean_curve("standard", [[{"step": 1, "loss_d": 0.3}]]) is None


def test_report_section_draws_one_line_per_variant(tmp_path, monkeypatch):
    drawn = {}
    save = plots._save

    def keep(figure, path):
        drawn["labels"] = [
            line.get_label()
            for line in figure.axes[0].get_lines()
            if not line.get_label().startswith("_")
        ]
        drawn["bands"] = len(figure.axes[0].collections)
        return save(figure, path)

    monkeypatch.setattr(plots, "_save", keep)
    groups = {
        "standard": [_records(_decay(10, 1, 300 + 50 * s)) for s in range(3)],
        "mouse": [_records(_decay(14, 2, 600 + 50 * s)) for s in range(3)],
        "dense": [_records([5.0 - 0.001 * s for s in STEPS])],
    }
    lines = curve_section(groups, tmp_path)
    assert (tmp_path / "metric_curves.png").stat().st_size > 1000
    assert len(drawn["labels"]) == 3  # one labelled line per variant
    assert [label.split(" ")[0] for label in drawn["labels"]] == ["standard", "mouse", "dense"]
    assert drawn["bands"] == 2  # a band only where there is more than one run
    text = "\n".join(lines)
    assert "metric_curves.png" in text and FLATTENING_RULE in text
    rows = {line.split("|")[1].strip(): line for line in lines if line.startswith("| ")}
    assert rows["dense"].rstrip(" |").endswith("not yet")
    standard = mean_curve("standard", groups["standard"])
    assert f"| {standard.flattened:,} |" in rows["standard"]


def test_report_section_empty_without_eval_points(tmp_path):
    assert curve_section({"standard": [[{"step": 10, "loss_d": 0.2}]]}, tmp_path) == []
    assert not (tmp_path / "metric_curves.png").exists()

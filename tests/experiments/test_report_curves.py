"""Compare and sweep reports lead with the metric curves and mark thin comparisons inconclusive."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bionn.experiments.report import write_compare_report, write_sweep_report
from bionn.experiments.results import RunScores, UsageTotals

STEPS = range(50, 1001, 50)


def _run(
    folder: Path,
    variant: str,
    seed: int,
    floor: float,
    value: float,
    grid_value: float | None = None,
) -> RunScores:
    """A finished run folder whose metrics.jsonl holds a decaying evaluation curve."""
    folder.mkdir(parents=True)
    lines = [
        {
            "step": s,
            "epoch": 0,
            "eval_metric": "FD-proxy(digits)",
            "eval_value": floor + 10 * math.exp(-s / (150 + 20 * seed)),
            "eval_higher_is_better": False,
            "eval_n": 500,
            "eval_s": 0.2,
        }
        for s in STEPS
    ]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return RunScores(
        run=str(folder),
        kind="gan",
        variant=variant,
        seed=seed,
        metric="FD-proxy(digits)",
        value=value,
        higher_is_better=False,
        converged=True,
        usage=UsageTotals(windowed=0.35, total=0.5, weights=100, active=50),
        parameters=1000,
        time_s=1.0,
        grid_value=grid_value,
    )


def test_compare_report_leads_with_curves_and_marks_two_seeds_inconclusive(tmp_path):
    runs = {
        "standard": [
            _run(tmp_path / f"standard-s{s}", "standard", s, 1.0, 1.0 + 0.1 * s) for s in range(2)
        ],
        "mouse": [_run(tmp_path / f"mouse-s{s}", "mouse", s, 2.0, 2.0 + 0.1 * s) for s in range(3)],
    }
    report = write_compare_report(tmp_path / "report", {"title": "t", "kind": "gan"}, runs)
    text = report.read_text()
    assert (report.parent / "metric_curves.png").is_file()
    assert text.index("metric_curves.png") < text.index("| variant |")  # curves first
    assert "flattened at step" in text and "*flattened*" in text
    assert "**inconclusive: fewer than 3 converged runs per side (mouse 3, standard 2)**" in text
    saved = json.loads((report.parent / "report.json").read_text())
    assert saved["comparison"]["conclusive"] is False
    assert saved["comparison"]["difference"] > 0


def test_compare_report_three_seeds_gives_a_verdict(tmp_path):
    runs = {
        v: [_run(tmp_path / f"{v}-s{s}", v, s, floor, floor + 0.05 * s) for s in range(3)]
        for v, floor in (("standard", 1.0), ("mouse", 2.0))
    }
    text = write_compare_report(tmp_path / "report", {"kind": "gan"}, runs).read_text()
    assert "**standard better (lower)**" in text and "Hedges' g" in text


def test_sweep_report_draws_one_curve_per_value(tmp_path):
    sweep = tmp_path / "sweep"
    (sweep / "results").mkdir(parents=True)
    spec = {
        "kind": "gan",
        "param": "usage",
        "values": [0.35, 1.0],
        "seeds": [0],
        "base": {"data": "digits"},
    }
    (sweep / "sweep.json").write_text(json.dumps(spec))
    for value, variant, floor in ((0.35, "mouse", 2.0), (1.0, "standard", 1.0)):
        scores = _run(sweep / "runs" / f"usage-{value:g}-s0", variant, 0, floor, floor, value)
        (sweep / "results" / f"usage-{value:g}-s0.json").write_text(json.dumps(scores.to_dict()))
    text = write_sweep_report(sweep).read_text()
    assert (sweep / "report" / "metric_curves.png").is_file()
    assert "| 0.35 | 1 |" in text and "| 1 (standard) | 1 |" in text  # the curve table
    assert "0.35 vs 1 (standard)" in text and "inconclusive" in text  # one seed per value

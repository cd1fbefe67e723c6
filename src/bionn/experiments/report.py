"""``bionn report SWEEP_DIR``, and the writers of the compare and sweep reports.

The reports are Markdown + JSON + PNG figures; ``bionn report`` aggregates whatever runs of a
sweep are finished.

Statistics follow the mouse paper (Saiga et al. 2025): mean and standard deviation over the
runs that converged, runs above the threshold (FID > 200 there) listed apart, and a plot of the
metric against %usage with the radius on a second axis (their Fig. 4b). Standard and
bio-mimetic groups are compared by Welch's t-test. Classifier sweeps over the reduction add
final train / test figures and loss curves, where over-fitting shows as a rising test loss
(Mizutani et al. 2022).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from bionn.experiments import plots
from bionn.experiments.evaluation import read_records
from bionn.experiments.study import statistics
from bionn.metrics.functional import welch_t_test

__all__ = ["add_arguments", "run", "summarise", "write_compare_report", "write_sweep_report"]

_FOOTNOTE = ("Measured part: the weight layers the papers count (the generator of a GAN, the "
             "U-Net of a DDIM, the classifier); active weights are the entries their windows "
             "keep. Parameters: every trainable parameter (a GAN's discriminator included).")
_CLASSIFIER_EXTRAS = ("train_acc", "test_acc", "train_loss", "test_loss", "overfitting", "gap")


def _metric_note(metric: str) -> str:
    if metric.startswith("FD-proxy"):
        return (" FD-proxy is the Frechet distance in the features of a small classifier trained "
                "on this data set: an offline stand-in, not FID, comparable only with itself.")
    if metric.startswith("FD-paper"):
        return (" The papers' protocol (Keras-style ImageNet InceptionV3, bilinear resize): not "
                "comparable with standard FID.")
    return ""


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Statistics of one group of evaluated runs (converged runs only in mean / sd)."""
    good = [r for r in runs if r["converged"]]
    summary = statistics([r["value"] for r in good])
    summary.update({
        "seeds": [r["seed"] for r in good],
        "not_converged": [{"seed": r["seed"], "value": r["value"], "run": r["run"]}
                          for r in runs if not r["converged"]],
        "parameters": runs[0]["parameters"] if runs else None,
        "weights": runs[0]["weights"] if runs else None,
        "active_weights": statistics([r["active_weights"] for r in runs])["mean"],
        "usage": statistics([r["usage"] for r in runs])["mean"],
        "usage_total": statistics([r["usage_total"] for r in runs])["mean"],
        "radius": runs[0]["radius"] if runs else None,
        "time_s": statistics([r["time_s"] for r in runs])["mean"],
    })  # fmt: skip
    if runs and "kid_mean" in runs[0] and runs[0]["kid_mean"] is not None:
        summary["kid"] = statistics([r["kid_mean"] for r in good])
    if runs and runs[0]["kind"] == "classifier":
        summary["extras"] = {k: statistics([r[k] for r in runs]) for k in _CLASSIFIER_EXTRAS}
    return summary


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _group_table(groups: dict[str, dict[str, Any]], label: str, metric: str) -> list[str]:
    has_kid = any("kid" in s for s in groups.values())
    lines = [f"| {label} | parameters | active weights (measured part) | %usage (bio layers) | "
             f"%usage (measured part) | {metric} mean | sd | runs | per run | "
             + ("KID mean +- sd | " if has_kid else "") + "not converged |",
             "| --- |" + " ---: |" * 7 + " --- |" + (" ---: |" if has_kid else "") + " --- |"]
    for name, s in groups.items():
        per_run = ", ".join(f"{v:.4g}" for v in s["values"])
        failed = ", ".join(f"s{f['seed']}: {f['value']:.4g}" for f in s["not_converged"]) or "-"
        kid = (f"{_fmt(s['kid']['mean'])} +- {_fmt(s['kid']['sd'], 2)} | "
               if "kid" in s and s["kid"]["n"] else "- | " if has_kid else "")  # fmt: skip
        lines.append(f"| {name} | {s['parameters']:,} | {s['active_weights']:,.0f} | "
                     f"{100 * s['usage']:.2f} | {100 * s['usage_total']:.2f} | "
                     f"{_fmt(s['mean'])} | {_fmt(s['sd'])} | {s['n']} | {per_run} | {kid}"
                     f"{failed} |")  # fmt: skip
    return lines


def _classifier_table(groups: dict[str, dict[str, Any]], label: str) -> list[str]:
    lines = [f"| {label} | " + " | ".join(_CLASSIFIER_EXTRAS) + " |",
             "| --- |" + " ---: |" * len(_CLASSIFIER_EXTRAS)]  # fmt: skip
    for name, s in groups.items():
        cells = [f"{_fmt(s['extras'][k]['mean'])} +- {_fmt(s['extras'][k]['sd'], 2)}"
                 for k in _CLASSIFIER_EXTRAS]  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def write_compare_report(out: Path, meta: dict[str, Any],
                         runs: dict[str, list[dict[str, Any]]]) -> Path:  # fmt: skip
    """Write ``report.md``, ``report.json`` and figures for standard vs bio-mimetic runs.

    Args:
        out: The report folder.
        meta: Command, kind, model, data, evaluation settings (written verbatim to JSON).
        runs: Variant -> evaluated runs (from :func:`~bionn.experiments.evaluation.evaluate_run`).

    Returns:
        The Markdown file.

    """
    out.mkdir(parents=True, exist_ok=True)
    groups = {variant: summarise(r) for variant, r in runs.items()}
    first = next(iter(runs.values()))[0]
    metric, kind = first["metric"], first["kind"]
    (a, sa), (b, sb) = list(groups.items())[:2]
    p_value = welch_t_test(sa["values"], sb["values"])
    summary = {**meta, "metric": metric, "higher_is_better": first["higher_is_better"],
               "groups": groups, "welch_p": p_value, "runs": runs}  # fmt: skip
    _write(out / "report.json", json.dumps(summary, indent=2, default=str))
    plots.plot_points({v: r for v, r in runs.items()}, metric, out / "metric.png")
    records = {v: [read_records(Path(r["run"])) for r in rs] for v, rs in runs.items()}
    if kind == "classifier":
        plots.plot_curves(records, ("train_loss", "test_loss", "test_acc"), out / "loss_curves.png",
                          x="epoch")  # fmt: skip
    else:
        keys = ("loss_d", "loss_g") if kind == "gan" else ("loss",)
        plots.plot_curves(records, keys, out / "loss_curves.png")
        grids = {f"{v} (seed {rs[0]['seed']}, {metric} {rs[0]['value']:.3g})":
                 Path(rs[0]["run"]) / "samples" / "final.png" for v, rs in runs.items()}
        if all(path.is_file() for path in grids.values()):
            plots.plot_sample_grids(grids, out / "samples.png")
    better = "higher" if first["higher_is_better"] else "lower"
    lines = [f"# {meta.get('title', 'Comparison')}", "",
             f"{meta.get('description', '')}", "",
             f"Metric: **{metric}** ({better} is better); mean and sd over converged runs."
             + _metric_note(metric), "",
             *_group_table(groups, "variant", metric), "", _FOOTNOTE, "",
             f"Welch t-test ({a} vs {b}, unequal variances, converged runs): "
             f"p = {_fmt(p_value)}", ""]
    if kind == "classifier":
        lines += ["Final epoch, mean +- sd over runs (overfitting: last test loss minus its "
                  "minimum over epochs; gap: train minus test accuracy):", "",
                  *_classifier_table(groups, "variant"), ""]  # fmt: skip
    lines += ["Figures: `metric.png`, `loss_curves.png`"
              + (", `samples.png`" if (out / "samples.png").is_file() else ""), "",
              f"Command: `{meta.get('command', '')}`", ""]  # fmt: skip
    _write(out / "report.md", "\n".join(lines))
    return out / "report.md"


def write_sweep_report(sweep_dir: Path, out: Path | None = None) -> Path:
    """Aggregate the finished results of a sweep folder into ``report/`` (or ``out``)."""
    sweep_dir = Path(sweep_dir)
    spec_path = sweep_dir / "sweep.json"
    if not spec_path.is_file():
        raise ValueError(f"{sweep_dir} is not a sweep folder (no sweep.json)")
    spec = json.loads(spec_path.read_text())
    results = [json.loads(p.read_text()) for p in sorted((sweep_dir / "results").glob("*.json"))]
    if not results:
        raise ValueError(f"no finished runs in {sweep_dir} yet")
    out = Path(out) if out else sweep_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    by_value: dict[float, list[dict[str, Any]]] = {}
    for r in results:
        by_value.setdefault(float(r["grid_value"]), []).append(r)
    param = spec["param"]
    groups = {f"{v:g}" + (" (standard)" if rs[0]["variant"] == "standard" else ""): summarise(rs)
              for v, rs in sorted(by_value.items())}  # fmt: skip
    metric, kind = results[0]["metric"], results[0]["kind"]
    points = [{"usage": 100 * s["usage"], "radius": s["radius"], "values": s["values"],
               "failed": [f["value"] for f in s["not_converged"]]} for s in groups.values()]
    plots.plot_vs_usage(points, metric, out / "metric_vs_usage.png")
    if kind == "classifier":
        rows = [{"reduction": 1 - s["usage"] if param != "reduction" else v,
                 **{k: s["extras"][k]["values"] for k in _CLASSIFIER_EXTRAS}}
                for v, s in zip(sorted(by_value), groups.values(), strict=True)]  # fmt: skip
        curves = {v: [read_records(Path(r["run"])) for r in rs] for v, rs in by_value.items()}
        plots.plot_classifier_sweep(rows, curves, out / "classifier_sweep.png")
    expected = len(spec["values"]) * len(spec["seeds"])
    lines = [f"# Sweep of {param}: {spec['kind']} on {spec['base'].get('data')}", "",
             f"{len(results)} of {expected} runs finished. Metric: **{metric}**."
             + _metric_note(metric), "",
             *_group_table(groups, param, metric), "", _FOOTNOTE, ""]  # fmt: skip
    if kind == "classifier":
        lines += [*_classifier_table(groups, param), "",
                  "Figures: `metric_vs_usage.png`, `classifier_sweep.png`", ""]  # fmt: skip
    else:
        lines += ["Figure: `metric_vs_usage.png` (radius on the top axis)", ""]
    _write(out / "report.md", "\n".join(lines))
    summary = {"spec": spec, "groups": groups, "finished": len(results), "expected": expected}
    _write(out / "report.json", json.dumps(summary, indent=2, default=str))
    return out / "report.md"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bionn report`` options."""
    parser.add_argument("sweep_dir", help="a folder written by bionn sweep")
    parser.add_argument("--out", default=None, help="report folder (default SWEEP_DIR/report)")


def run(args: argparse.Namespace) -> int:
    """Write the report; 2 with a message when there is nothing to report."""
    try:
        path = write_sweep_report(Path(args.sweep_dir), Path(args.out) if args.out else None)
    except ValueError as error:
        print(f"bionn report: {error}", file=sys.stderr)
        return 2
    print(path.read_text())
    print(f"report written to {path.parent}")
    return 0

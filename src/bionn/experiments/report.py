"""The compare and sweep reports: Markdown + JSON + PNG figures, written from typed results.

``bionn report FOLDER`` (:mod:`bionn.cli.report`) rewrites them from a compare or sweep folder.

Statistics follow the mouse paper (Saiga et al. 2025): mean and standard deviation over the
runs that converged, runs above the threshold (FID > 200 there) listed apart, and a plot of the
metric against %usage with the radius on a second axis (their Fig. 4b). Standard and
bio-mimetic groups are compared by Welch's t-test. Classifier sweeps over the reduction add
final train / test figures and loss curves, where over-fitting shows as a rising test loss
(Mizutani et al. 2022).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from bionn.experiments import plots
from bionn.experiments.curves import curve_section
from bionn.experiments.evaluation import read_records
from bionn.experiments.results import CLASSIFIER_EXTRAS, GroupSummary, RunScores, summarise
from bionn.experiments.significance import compare_groups
from bionn.metrics.functional import welch_t_test

__all__ = [
    "ReportError",
    "is_compare_folder",
    "is_sweep_folder",
    "rewrite_report",
    "write_compare_report",
    "write_sweep_report",
]

_FOOTNOTE = (
    "Measured part: the weight layers the papers count (the generator of a GAN, the "
    "U-Net of a DDIM, the classifier); active weights are the entries their windows "
    "keep. Parameters: every trainable parameter (a GAN's discriminator included)."
)


def _metric_note(metric: str) -> str:
    if metric.startswith("FD-proxy"):
        return (
            " FD-proxy is the Frechet distance in the features of a small classifier trained "
            "on this data set: an offline stand-in, not FID, comparable only with itself."
        )
    if metric.startswith("FD-paper"):
        return (
            " The papers' protocol (Keras-style ImageNet InceptionV3, bilinear resize): not "
            "comparable with standard FID."
        )
    return ""


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


class ReportError(ValueError):
    """A folder that holds nothing to report; the message says why."""


def _group_table(groups: dict[str, GroupSummary], label: str, metric: str) -> list[str]:
    has_kid = any(g.kid is not None for g in groups.values())
    lines = [
        f"| {label} | parameters | active weights (measured part) | %usage (bio layers) | "
        f"%usage (measured part) | {metric} mean | sd | runs | per run | "
        + ("KID mean +- sd | " if has_kid else "")
        + "not converged |",
        "| --- |" + " ---: |" * 7 + " --- |" + (" ---: |" if has_kid else "") + " --- |",
    ]
    for name, g in groups.items():
        per_run = ", ".join(f"{v:.4g}" for v in g.scores.values)
        failed = ", ".join(f"s{r.seed}: {r.value:.4g}" for r in g.not_converged) or "-"
        kid = (
            f"{_fmt(g.kid.mean)} +- {_fmt(g.kid.sd, 2)} | "
            if g.kid is not None and g.kid.n
            else "- | "
            if has_kid
            else ""
        )
        lines.append(
            f"| {name} | {g.parameters:,} | {g.usage.active:,} | "
            f"{100 * g.usage.windowed:.2f} | {100 * g.usage.total:.2f} | "
            f"{_fmt(g.scores.mean)} | {_fmt(g.scores.sd)} | {g.scores.n} | {per_run} | "
            f"{kid}{failed} |"
        )
    return lines


def _classifier_table(groups: dict[str, GroupSummary], label: str) -> list[str]:
    lines = [
        f"| {label} | " + " | ".join(CLASSIFIER_EXTRAS) + " |",
        "| --- |" + " ---: |" * len(CLASSIFIER_EXTRAS),
    ]
    for name, g in groups.items():
        cells = [
            f"{_fmt(g.extras[k].mean)} +- {_fmt(g.extras[k].sd, 2)}" for k in CLASSIFIER_EXTRAS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


# report.json keys computed from the runs (the rest is the study's description)
_COMPUTED = ("metric", "higher_is_better", "groups", "welch_p", "comparison", "runs")


def write_compare_report(out: Path, meta: dict[str, Any], runs: dict[str, list[RunScores]]) -> Path:
    """Write ``report.md``, ``report.json`` and figures for standard vs bio-mimetic runs.

    Args:
        out: The report folder.
        meta: Command, kind, model, data, evaluation settings (written verbatim to JSON).
        runs: Variant -> evaluated runs, standard first.

    Returns:
        The Markdown file.

    """
    out.mkdir(parents=True, exist_ok=True)
    groups = {variant: summarise(r) for variant, r in runs.items()}
    first = next(iter(runs.values()))[0]
    metric, kind = first.metric, first.kind
    (a, ga), (b, gb) = list(groups.items())[:2]
    p_value = welch_t_test(list(ga.scores.values), list(gb.scores.values))
    comparison = compare_groups(
        a,
        list(ga.scores.values),
        b,
        list(gb.scores.values),
        higher_is_better=first.higher_is_better,
    )
    summary = {
        **meta,
        "metric": metric,
        "higher_is_better": first.higher_is_better,
        "groups": {v: g.to_dict() for v, g in groups.items()},
        "welch_p": p_value,
        "comparison": comparison.to_dict(),
        "runs": {v: [r.to_dict() for r in rs] for v, rs in runs.items()},
    }
    _write(out / "report.json", json.dumps(summary, indent=2, default=str))
    plots.plot_points(summary["runs"], metric, out / "metric.png")
    records = {v: [read_records(Path(r.run)) for r in rs] for v, rs in runs.items()}
    if kind == "classifier":
        plots.plot_curves(
            records, ("train_loss", "test_loss", "test_acc"), out / "loss_curves.png", x="epoch"
        )
    else:
        keys = ("loss_d", "loss_g") if kind == "gan" else ("loss",)
        plots.plot_curves(records, keys, out / "loss_curves.png")
    better = "higher" if first.higher_is_better else "lower"
    lines = [
        f"# {meta.get('title', 'Comparison')}",
        "",
        f"{meta.get('description', '')}",
        "",
        *curve_section(records, out),
        *_sample_grids(runs, out),
        f"Metric: **{metric}** ({better} is better); mean and sd over converged runs."
        + _metric_note(metric),
        "",
        *_group_table(groups, "variant", metric),
        "",
        _FOOTNOTE,
        "",
        comparison.sentence(),
        "",
    ]
    if kind == "classifier":
        lines += [
            "Final epoch, mean +- sd over runs (overfitting: last test loss minus its "
            "minimum over epochs; gap: train minus test accuracy):",
            "",
            *_classifier_table(groups, "variant"),
            "",
        ]
    lines += [
        f"![{metric} of every run](metric.png)",
        "",
        "![training losses](loss_curves.png)",
        "",
        f"Command: `{meta.get('command', '')}`",
        "",
    ]
    _write(out / "report.md", "\n".join(lines))
    return out / "report.md"


def write_sweep_report(sweep_dir: Path, out: Path | None = None) -> Path:
    """Aggregate the finished results of a sweep folder into ``report/`` (or ``out``)."""
    sweep_dir = Path(sweep_dir)
    if not is_sweep_folder(sweep_dir):
        raise ReportError(f"{sweep_dir} is not a sweep folder (no sweep.json)")
    spec = json.loads((sweep_dir / "sweep.json").read_text())
    results = [
        RunScores.from_dict(json.loads(p.read_text()))
        for p in sorted((sweep_dir / "results").glob("*.json"))
    ]
    if not results:
        raise ReportError(f"no finished runs in {sweep_dir} yet")
    out = Path(out) if out else sweep_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    by_value: dict[float, list[RunScores]] = {}
    for r in results:
        by_value.setdefault(float(r.grid_value or 0.0), []).append(r)
    param = spec["param"]
    groups = {
        f"{v:g}" + (" (standard)" if rs[0].variant == "standard" else ""): summarise(rs)
        for v, rs in sorted(by_value.items())
    }
    metric, kind = results[0].metric, results[0].kind
    points = [
        {
            "usage": 100 * g.usage.windowed,
            "radius": g.radius,
            "values": g.scores.values,
            "failed": [r.value for r in g.not_converged],
        }
        for g in groups.values()
    ]
    plots.plot_vs_usage(points, metric, out / "metric_vs_usage.png")
    if kind == "classifier":
        rows = [
            {
                "reduction": 1 - g.usage.windowed if param != "reduction" else v,
                **{k: g.extras[k].values for k in CLASSIFIER_EXTRAS},
            }
            for v, g in zip(sorted(by_value), groups.values(), strict=True)
        ]
        curves = {v: [read_records(Path(r.run)) for r in rs] for v, rs in by_value.items()}
        plots.plot_classifier_sweep(rows, curves, out / "classifier_sweep.png")
    expected = len(spec["values"]) * len(spec["seeds"])
    runs = dict(zip(groups, (by_value[v] for v in sorted(by_value)), strict=True))
    records = {label: [read_records(Path(r.run)) for r in rs] for label, rs in runs.items()}
    form = spec["base"].get("form") if kind == "classifier" else None
    title = f"Sweep of {param}: {spec['kind']} on {spec['base'].get('data', 'digits')}" + (
        f", form '{form}'" if form else ""
    )
    lines = [
        f"# {title}",
        "",
        f"{len(results)} of {expected} runs finished. Metric: **{metric}**." + _metric_note(metric),
        "",
        *curve_section(records, out),
        *_sample_grids(runs, out),
        *_group_table(groups, param, metric),
        "",
        _FOOTNOTE,
        "",
        *_against_standard(groups, results[0].higher_is_better),
    ]
    if kind == "classifier":
        lines += [
            *_classifier_table(groups, param),
            "",
            "![overfitting against weight reduction](classifier_sweep.png)",
            "",
        ]
    lines += [f"![{metric} against usage](metric_vs_usage.png)", ""]
    commands = sweep_dir / "commands.txt"
    if commands.is_file():
        lines += ["Commands:", "", "```bash", *commands.read_text().splitlines(), "```", ""]
    _write(out / "report.md", "\n".join(lines))
    summary = {
        "spec": spec,
        "groups": {v: g.to_dict() for v, g in groups.items()},
        "finished": len(results),
        "expected": expected,
    }
    _write(out / "report.json", json.dumps(summary, indent=2, default=str))
    return out / "report.md"


def _sample_grids(runs: dict[str, list[RunScores]], out: Path) -> list[str]:
    """Draw each group's first run's final samples side by side; return the report's lines.

    Empty (and no figure) for classifiers or when a run has no ``samples/final.png``.
    """
    grids = {
        f"{name} (seed {rs[0].seed}, {rs[0].metric} {rs[0].value:.3g})": Path(rs[0].run)
        / "samples"
        / "final.png"
        for name, rs in runs.items()
    }
    if not all(path.is_file() for path in grids.values()):
        return []
    plots.plot_sample_grids(grids, out / "samples.png")
    return ["![sample grids](samples.png)", ""]


def _against_standard(groups: dict[str, GroupSummary], higher_is_better: bool) -> list[str]:
    """One comparison line per grid value against the standard group, if the sweep has one."""
    standard = next((name for name in groups if name.endswith("(standard)")), None)
    if standard is None:
        return []
    reference = list(groups[standard].scores.values)
    lines = []
    for name, group in groups.items():
        if name != standard:
            comparison = compare_groups(
                standard,
                reference,
                name,
                list(group.scores.values),
                higher_is_better=higher_is_better,
            )
            lines.append(f"- {comparison.sentence()}")
    return [*lines, ""]


def is_sweep_folder(folder: Path) -> bool:
    """True for a folder written by ``bionn sweep`` (it holds ``sweep.json``)."""
    return (Path(folder) / "sweep.json").is_file()


def is_compare_folder(folder: Path) -> bool:
    """True for a report folder written by ``bionn compare`` (``report.json`` with its runs)."""
    path = Path(folder) / "report.json"
    if not path.is_file() or is_sweep_folder(folder):
        return False
    return "runs" in json.loads(path.read_text())


def _rewrite_compare_report(folder: Path, out: Path | None) -> Path:
    saved = json.loads((folder / "report.json").read_text())
    meta = {k: v for k, v in saved.items() if k not in _COMPUTED}
    runs = {v: [RunScores.from_dict(r) for r in rs] for v, rs in saved["runs"].items()}
    return write_compare_report(Path(out) if out else folder, meta, runs)


def rewrite_report(folder: Path, out: Path | None = None) -> list[Path]:
    """Rewrite the report of a compare or sweep folder, or of each one inside ``folder``.

    Returns:
        The Markdown files written.

    Raises:
        ReportError: If no compare or sweep folder is found, or a sweep has no finished run.

    """
    folder = Path(folder)
    if is_sweep_folder(folder):
        return [write_sweep_report(folder, out)]
    if is_compare_folder(folder):
        return [_rewrite_compare_report(folder, out)]
    inner = (
        sorted(p for p in folder.iterdir() if is_sweep_folder(p) or is_compare_folder(p))
        if folder.is_dir()
        else []
    )
    if not inner:
        raise ReportError(
            f"{folder} is neither a compare folder (report.json with runs) nor a "
            "sweep folder (sweep.json), and holds none"
        )
    return [path for p in inner for path in rewrite_report(p, Path(out) / p.name if out else None)]

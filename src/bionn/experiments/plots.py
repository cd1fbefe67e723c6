"""Figures of the comparison reports (matplotlib, Agg backend, PNG written atomically).

* :func:`plot_points`: metric per group as per-run points with mean and sd (the compare plot);
* :func:`plot_vs_usage`: metric against %usage with the radius on a second axis, mean line and
  per-run points (the shape of Fig. 4b of Saiga et al. 2025);
* :func:`plot_curves`: loss curves of several runs, coloured by group;
* :func:`plot_classifier_sweep`: final train / test accuracy and loss against the reduction,
  and the test-loss curves that show over-fitting (Mizutani et al. 2022, Figs. 3-4);
* :func:`plot_sample_grids`: sample grids side by side;
* :func:`plot_metric_curves`: the ``--eval-every`` metric against the step, one line (mean over
  seeds) and band (lowest to highest seed) per variant, and where each flattened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bionn.experiments.curves import MetricCurve

__all__ = [
    "plot_classifier_sweep",
    "plot_curves",
    "plot_metric_curves",
    "plot_points",
    "plot_sample_grids",
    "plot_vs_usage",
]

_COLOURS = [
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _save(figure: Any, path: Path) -> Path:
    tmp = path.with_name(f".{path.stem}.tmp.png")
    figure.tight_layout()
    figure.savefig(tmp, dpi=100)
    _pyplot().close(figure)
    tmp.replace(path)
    return path


def plot_points(groups: dict[str, list[dict[str, Any]]], ylabel: str, path: Path) -> Path:
    """One column per group: converged runs as dots, others as crosses, mean +- sd as a bar."""
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(1.8 + 1.6 * len(groups), 3.6))
    for i, runs in enumerate(groups.values()):
        good = [r["value"] for r in runs if r["converged"]]
        bad = [r["value"] for r in runs if not r["converged"]]
        offsets = [0.12 * (j - (len(runs) - 1) / 2) / max(len(runs), 1) for j in range(len(runs))]
        ax.scatter([i + o for o in offsets[: len(good)]], good, color=_COLOURS[i % 10], zorder=3)
        ax.scatter([i] * len(bad), bad, marker="x", color="black", zorder=3)
        if good:
            mean = sum(good) / len(good)
            sd = (
                (sum((v - mean) ** 2 for v in good) / (len(good) - 1)) ** 0.5
                if len(good) > 1
                else 0.0
            )
            ax.bar(i, mean, width=0.5, color=_COLOURS[i % 10], alpha=0.3)
            ax.errorbar(i, mean, yerr=sd, color="black", capsize=6)
    ax.set_xticks(range(len(groups)), list(groups))
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def plot_vs_usage(points: list[dict[str, Any]], ylabel: str, path: Path) -> Path:
    """Metric against %usage: per-run points, mean line, radius ticks on the top axis.

    Args:
        points: One dict per grid value: ``usage`` (%), ``radius`` (or None), ``values``
            (converged runs) and ``failed`` (the others).
        ylabel: The metric's name.
        path: The PNG to write.

    """
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(6, 4))
    points = sorted(points, key=lambda p: p["usage"])
    failed_label: str | None = "not converged"
    for p in points:
        ax.scatter(
            [p["usage"]] * len(p["values"]), p["values"], color="tab:blue", alpha=0.6, zorder=3
        )
        if p["failed"]:
            ax.scatter(
                [p["usage"]] * len(p["failed"]),
                p["failed"],
                marker="x",
                color="black",
                label=failed_label,
            )
            failed_label = None  # one legend entry
    means = [(p["usage"], sum(p["values"]) / len(p["values"])) for p in points if p["values"]]
    if means:
        ax.plot(*zip(*means, strict=True), color="tab:blue", marker="o", label="mean")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    ax.set(xlabel="% usage of the bio-mimetic layers' weights", ylabel=ylabel)
    ax.grid(alpha=0.3)
    with_radius = [p for p in points if p.get("radius") is not None]
    if with_radius:
        top = ax.twiny()
        top.set_xlim(ax.get_xlim())
        top.set_xticks(
            [p["usage"] for p in with_radius], [f"{p['radius']:.2f}" for p in with_radius]
        )
        top.set_xlabel("radius")
    return _save(figure, path)


def plot_curves(
    runs: dict[str, list[list[dict[str, Any]]]], keys: tuple[str, ...], path: Path, x: str = "step"
) -> Path:
    """One panel per key of ``keys``; each run's records as a line coloured by its group."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.5), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        for i, (name, records_of_runs) in enumerate(runs.items()):
            for j, records in enumerate(records_of_runs):
                rows = [r for r in records if key in r]
                ax.plot(
                    [r[x] + (1 if x == "epoch" else 0) for r in rows],
                    [r[key] for r in rows],
                    color=_COLOURS[i % 10],
                    alpha=0.7,
                    label=name if j == 0 else None,
                )
        ax.set(xlabel=x, ylabel=key)
        ax.grid(alpha=0.3)
        ax.legend()
    return _save(figure, path)


def plot_classifier_sweep(
    rows: list[dict[str, Any]], curves: dict[float, list[list[dict[str, Any]]]], path: Path
) -> Path:
    """Plot final train / test accuracy and loss against the reduction, and loss curves.

    Args:
        rows: One dict per reduction: ``reduction`` and per-run lists ``train_acc``,
            ``test_acc``, ``train_loss``, ``test_loss``.
        curves: Reduction -> per-run per-epoch records.
        path: The PNG to write.

    """
    plt = _pyplot()
    figure, (ax_acc, ax_loss, ax_curve) = plt.subplots(1, 3, figsize=(14, 4))
    rows = sorted(rows, key=lambda r: r["reduction"])
    x = [r["reduction"] for r in rows]
    for ax, quantity in ((ax_acc, "acc"), (ax_loss, "loss")):
        for split, colour in (("train", "tab:blue"), ("test", "tab:orange")):
            key = f"{split}_{quantity}"
            for r in rows:
                ax.scatter([r["reduction"]] * len(r[key]), r[key], color=colour, alpha=0.4, s=12)
            ax.plot(
                x, [sum(r[key]) / len(r[key]) for r in rows], color=colour, marker="o", label=split
            )
        ax.set(xlabel="param_reduction", ylabel=f"final {quantity}")
        ax.legend()
        ax.grid(alpha=0.3)
    cmap = plt.get_cmap("viridis")
    for i, (reduction, runs) in enumerate(sorted(curves.items())):
        colour = cmap(i / max(len(curves) - 1, 1))
        for j, records in enumerate(runs):
            rows_ = [r for r in records if "test_loss" in r]
            epochs = [r["epoch"] + 1 for r in rows_]
            ax_curve.plot(
                epochs,
                [r["test_loss"] for r in rows_],
                color=colour,
                alpha=0.8,
                label=f"{reduction:g}" if j == 0 else None,
            )
            ax_curve.plot(
                epochs, [r["train_loss"] for r in rows_], color=colour, alpha=0.4, linestyle="--"
            )
    ax_curve.set(xlabel="epoch", ylabel="loss (test solid, train dashed)")
    ax_curve.legend(title="reduction", fontsize=7)
    ax_curve.grid(alpha=0.3)
    return _save(figure, path)


def plot_sample_grids(grids: dict[str, Path], path: Path) -> Path:
    """Show the PNG grids side by side, titled by their keys."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(grids), figsize=(4.5 * len(grids), 4.8), squeeze=False)
    for ax, (title, grid) in zip(axes[0], grids.items(), strict=True):
        ax.imshow(plt.imread(str(grid)), cmap="gray")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    return _save(figure, path)


def plot_metric_curves(curves: list[MetricCurve], path: Path) -> Path:
    """Draw every curve on one plot and write it to ``path``.

    Each curve: its mean line, a band from the lowest to the highest run, and a dotted vertical
    line where the mean flattened (the step is also in the legend).
    """
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(7, 4.2))
    for i, curve in enumerate(curves):
        colour = _COLOURS[i % 10]
        flat = f"flat from {curve.flattened:,}" if curve.flattened is not None else "not flat yet"
        ax.plot(
            curve.steps,
            curve.mean,
            color=colour,
            marker="o",
            markersize=3,
            label=f"{curve.name} ({curve.runs} run{'s' * (curve.runs > 1)}, {flat})",
        )
        if curve.runs > 1:
            ax.fill_between(curve.steps, curve.low, curve.high, color=colour, alpha=0.2)
        if curve.flattened is not None:
            ax.axvline(curve.flattened, color=colour, linestyle=":", linewidth=1.5)
    better = "higher" if curves[0].higher_is_better else "lower"
    ax.set(xlabel="training step", ylabel=f"{curves[0].metric} ({better} is better)")
    if not curves[0].higher_is_better and min(min(c.low) for c in curves) > 0:
        ax.set_yscale("log")  # distances fall by orders of magnitude early on
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(figure, path)

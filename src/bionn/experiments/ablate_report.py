"""Report of a removal analysis: per-pattern curves over repeats, Markdown, JSON and one plot.

Rows are what ``bionn ablate`` appends to ``results.jsonl``: one per repeat, pattern and
strength, with ``removed`` (1 - f), ``loss`` and ``accuracy``. The report averages the repeats
per pattern and strength, as the scripts' output files do, and keeps their minimum and maximum
for the plot's band (the paper plotted accuracy / loss against the fraction removed).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from bionn.experiments.plots import _COLOURS, _pyplot, _save

__all__ = ["aggregate", "markdown_report", "plot_ablation", "write_report"]

METRICS = ("accuracy", "loss")
# Fractions removed at which the summary table reads each curve.
SUMMARY_FRACTIONS = (0.5, 0.75, 0.9, 0.95, 0.99)
# A pattern "keeps accuracy" while it is within this of the unablated accuracy.
TOLERANCE = 0.01


def aggregate(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per pattern, one point per strength in order of increasing removal, over repeats."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["pattern"], row["strength"]].append(row)
    curves: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (pattern, strength), members in groups.items():
        point: dict[str, Any] = {
            "strength": strength,
            "removed": members[0]["removed"],
            "repeats": len(members),
        }
        for metric in METRICS:
            values = [m[metric] for m in members]
            point[metric] = statistics.fmean(values)
            point[f"{metric}_min"], point[f"{metric}_max"] = min(values), max(values)
        curves[pattern].append(point)
    return {
        p: sorted(points, key=lambda q: (q["removed"], -q["strength"]))
        for p, points in curves.items()
    }


def _at(points: list[dict[str, Any]], fraction: float) -> dict[str, Any]:
    return min(points, key=lambda q: abs(q["removed"] - fraction))


def _kept_until(points: list[dict[str, Any]], reference: float) -> float:
    """Largest fraction removed before accuracy first falls below ``reference - TOLERANCE``."""
    largest = 0.0
    for point in points:
        if point["accuracy"] < reference - TOLERANCE:
            break
        largest = point["removed"]
    return largest


def summary_rows(curves: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per pattern: accuracy near each of :data:`SUMMARY_FRACTIONS`, and how far it holds."""
    rows = []
    for pattern, points in curves.items():
        reference = points[0]["accuracy"]
        row: dict[str, Any] = {
            "pattern": pattern,
            "intact": reference,
            "holds_until": _kept_until(points, reference),
        }
        for fraction in SUMMARY_FRACTIONS:
            point = _at(points, fraction)
            row[f"at_{fraction}"] = (point["removed"], point["accuracy"])
        rows.append(row)
    return rows


def markdown_report(curves: dict[str, list[dict[str, Any]]], header: str = "") -> str:
    """The summary table and, below it, every point of every curve."""
    heads = " | ".join(f"~{f:.0%} removed" for f in SUMMARY_FRACTIONS)
    lines = [
        header,
        "",
        "Test accuracy (mean over repeats) after removing weights of the layer; "
        f"'holds until': the largest fraction removed before accuracy first drops by more "
        f"than {TOLERANCE:.0%} (absolute) below the first point.",
        "",
        f"| pattern | first point | {heads} | holds until |",
        "| --- | --- | " + "--- | " * len(SUMMARY_FRACTIONS) + "--- |",
    ]
    for row in summary_rows(curves):
        cells = " | ".join(
            f"{row[f'at_{f}'][1]:.4f} ({row[f'at_{f}'][0]:.1%})" for f in SUMMARY_FRACTIONS
        )
        lines.append(
            f"| {row['pattern']} | {row['intact']:.4f} | {cells} | {row['holds_until']:.1%} |"
        )
    lines += [
        "",
        "## Every strength",
        "",
        "| pattern | strength | removed | loss | accuracy | min acc | max acc | repeats |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for pattern, points in curves.items():
        lines += [
            f"| {pattern} | {q['strength']} | {q['removed']:.4f} | {q['loss']:.4f} | "
            f"{q['accuracy']:.4f} | {q['accuracy_min']:.4f} | {q['accuracy_max']:.4f} | "
            f"{q['repeats']} |"
            for q in points
        ]
    return "\n".join(lines).lstrip() + "\n"


def plot_ablation(curves: dict[str, list[dict[str, Any]]], path: Path, title: str = "") -> Path:
    """Accuracy and loss against the fraction removed; mean line, min-max band over repeats."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for index, (pattern, points) in enumerate(curves.items()):
        colour = _COLOURS[index % len(_COLOURS)]
        removed = [q["removed"] for q in points]
        for ax, metric in zip(axes, METRICS, strict=True):
            ax.plot(removed, [q[metric] for q in points], color=colour, label=pattern, lw=1.4)
            ax.fill_between(
                removed,
                [q[f"{metric}_min"] for q in points],
                [q[f"{metric}_max"] for q in points],
                color=colour,
                alpha=0.2,
                lw=0,
            )
    for ax, metric in zip(axes, METRICS, strict=True):
        ax.set_xlabel("fraction of weights removed")
        ax.set_ylabel(f"test {metric}")
        ax.grid(alpha=0.3)
    axes[1].set_yscale("log")
    axes[0].legend(loc="lower left", fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    return _save(figure, path)


def write_report(rows: list[dict[str, Any]], out: Path, header: str = "") -> dict[str, Path]:
    """``report.md``, ``results.json`` (the curves) and ``ablation.png`` in ``out``."""
    curves = aggregate(rows)
    paths = {
        "markdown": out / "report.md",
        "json": out / "results.json",
        "plot": out / "ablation.png",
    }
    paths["markdown"].write_text(markdown_report(curves, header))
    summary = {"curves": curves, "summary": summary_rows(curves)}
    paths["json"].write_text(json.dumps(summary, indent=1) + "\n")
    plot_ablation(curves, paths["plot"], title=header.lstrip("# "))
    return paths

"""What a run leaves besides checkpoints: the metrics log and the summary with the usage report."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

import bionn
from bionn.experiments.config import RunConfig
from bionn.experiments.models import count_parameters, measured_part

__all__ = ["MetricsLog", "write_summary"]


class MetricsLog:
    """``metrics.jsonl``: one JSON object per line, written by rank 0 only.

    On resume, lines after the checkpoint's step (written by the killed process) are dropped.
    """

    def __init__(self, path: Path, enabled: bool, resume_step: int | None) -> None:
        self.path, self.enabled, self.records = path, enabled, []
        if enabled and resume_step is not None and path.is_file():
            kept = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            self.records = [r for r in kept if r["step"] <= resume_step]
            path.write_text("".join(json.dumps(r) + "\n" for r in self.records))

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` (and keep it for the summary)."""
        self.records.append(record)
        if self.enabled:
            with self.path.open("a") as handle:
                handle.write(json.dumps(record) + "\n")


def write_summary(
    run_dir: Path,
    config: RunConfig,
    model: nn.Module,
    records: list[dict[str, Any]],
    facts: dict[str, Any],
) -> dict[str, Any]:
    """Print and save the usage report; return the summary dict (``facts`` first).

    The usage report covers the part the papers report (generator, U-Net or classifier) with
    the positive / negative / zero counts of the effective weights, as the original printed.
    """
    report = bionn.usage_report(measured_part(model))
    print(f"\nweight usage of the {config.kind} ({config.variant}):\n{report}", file=sys.stderr)
    (run_dir / "usage.txt").write_text(str(report) + "\n")
    train_records = [r for r in records if "images_per_s" in r]
    epoch_records = [r for r in records if "train_loss" in r]
    rates = [r["images_per_s"] for r in train_records]
    return {
        **facts,
        "kind": config.kind,
        "model": config.model,
        "variant": config.variant,
        "seed": config.seed,
        "images_per_s": sum(rates) / len(rates) if rates else None,
        "final": train_records[-1] if train_records else {},
        "final_epoch": epoch_records[-1] if epoch_records else {},
        "usage": {
            "windowed": report.windowed_total.usage,
            "total": report.total.usage,
            "layers": report.to_dicts(),
        },
        "parameters": count_parameters(model),
        "versions": {
            "bionn": bionn.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "config": config.to_dict(),
    }

"""What a run leaves besides checkpoints: the metrics log and the summary with the usage report.

The log is JSON lines (``metrics.jsonl``), and optionally TensorBoard event files beside it.
"""

from __future__ import annotations

import json
import logging
import platform
from pathlib import Path
from typing import Any

import torch
from torch import nn

import bionn
from bionn.data import write_text
from bionn.experiments.config import RunConfig
from bionn.experiments.models import count_parameters, measured_part
from bionn.experiments.train.resume import RunError

__all__ = ["MetricsLog", "read_jsonl", "write_summary"]

logger = logging.getLogger(__name__)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file ([] if absent).

    A last line that does not parse is what a process killed mid-write leaves: it is dropped
    with a warning. A bad line before the last one is damage, not a torn write.

    Raises:
        RunError: A line other than the last does not parse (the message names it).

    """
    if not path.is_file():
        return []
    lines = [
        (number, line)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.strip()
    ]
    records = []
    for index, (number, line) in enumerate(lines):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            if index < len(lines) - 1:
                raise RunError(
                    f"{path} line {number} is not JSON ({error}); only a torn last "
                    f"line is repaired automatically"
                ) from error
            logger.warning(
                "%s: dropping its torn last line %d (%r), left by a killed run",
                path,
                number,
                line[:80],
            )
    return records


class MetricsLog:
    """``metrics.jsonl``: one JSON object per line, written by rank 0 only.

    On resume, lines after the checkpoint's step (written by the killed process) and a torn last
    line are dropped. With ``tensorboard``, numeric values are also written as TensorBoard
    scalars (and :meth:`add_images` sample grids) in that folder.

    Args:
        path: The JSON-lines file.
        enabled: Write files (rank 0); other ranks only keep records.
        resume_step: The checkpoint's step when resuming, else None.
        tensorboard: Folder for TensorBoard event files (None: no TensorBoard).

    Raises:
        RunError: TensorBoard asked for but not installed.

    """

    def __init__(
        self, path: Path, enabled: bool, resume_step: int | None, tensorboard: Path | None = None
    ) -> None:
        self.path, self.enabled, self.records = path, enabled, []
        if enabled and resume_step is not None and path.is_file():
            self.records = [r for r in read_jsonl(path) if r["step"] <= resume_step]
            write_text(path, "".join(json.dumps(r) + "\n" for r in self.records))
        self.board = None
        if enabled and tensorboard is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as error:
                raise RunError(
                    "--log tensorboard needs the tensorboard package: pip install "
                    "tensorboard (or 'bionn[experiments]')"
                ) from error
            # purge_step hides the events a killed run wrote after its last checkpoint
            self.board = SummaryWriter(str(tensorboard), purge_step=resume_step)

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` (and keep it for the summary)."""
        self.records.append(record)
        if not self.enabled:
            return
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        if self.board is not None:
            for name, value in record.items():
                if (
                    name not in ("step", "epoch")
                    and isinstance(value, (int, float))
                    and not (isinstance(value, bool))
                ):
                    self.board.add_scalar(name, value, record["step"])

    def add_images(self, name: str, images: torch.Tensor, step: int) -> None:
        """Send uint8 (N, C, H, W) samples to TensorBoard as one grid (no-op without it)."""
        if self.board is not None:
            from torchvision.utils import make_grid

            self.board.add_image(name, make_grid(images, nrow=8, padding=2), step)

    def close(self) -> None:
        """Flush and close the TensorBoard writer."""
        if self.board is not None:
            self.board.close()


def write_summary(
    run_dir: Path,
    config: RunConfig,
    model: nn.Module,
    records: list[dict[str, Any]],
    facts: dict[str, Any],
) -> dict[str, Any]:
    """Log and save the usage report; return the summary dict (``facts`` first).

    The usage report covers the part the papers report (generator, U-Net or classifier) with
    the positive / negative / zero counts of the effective weights, as the original printed.
    """
    report = bionn.usage_report(measured_part(model))
    logger.info("\nweight usage of the %s (%s):\n%s", config.kind, config.variant, report)
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

"""Classifier training: cross-entropy with the published optimiser.

Train / test loss and accuracy per epoch, and the loss-curve plot the schizophrenia paper shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bionn.experiments.config import ClassifierConfig
from bionn.experiments.data import ImageData
from bionn.experiments.train.base import Context, Trainer

__all__ = ["ClassifierTrainer", "plot_curves"]

_EVAL_BATCH = 512


def _optimizer(config: ClassifierConfig, params: Any) -> torch.optim.Optimizer:
    lr = cast(float, config.lr)  # a resolved config (bionn.experiments.plan) has every value
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr)
    weight_decay = 5e-4 if config.model == "vgg16" else 0.0
    return torch.optim.SGD(params, lr, momentum=0.9, weight_decay=weight_decay)


def _augment(images: Tensor) -> Tensor:
    """Random horizontal flips and shifts of up to 4 pixels (global RNG)."""
    n, _, h, w = images.shape
    flip = torch.rand(n, device=images.device) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(-1), images)
    padded = F.pad(images, (4, 4, 4, 4), mode="reflect")
    dy, dx = torch.randint(0, 9, (2,)).tolist()
    return padded[:, :, dy : dy + h, dx : dx + w]


class ClassifierTrainer(Trainer):
    """Cross-entropy steps; evaluation on the test split at each epoch's end."""

    drop_last = False
    config: ClassifierConfig

    def __init__(
        self, ctx: Context, model: nn.Module, data: ImageData, test: ImageData | None
    ) -> None:
        super().__init__(ctx, model, data, test)
        assert isinstance(self.config, ClassifierConfig)
        self.optimizers = {"model": _optimizer(self.config, model.parameters())}
        # VGG: halve the learning rate every 20 epochs, as the original script
        self.schedule = (
            torch.optim.lr_scheduler.StepLR(self.optimizers["model"], 20, 0.5)
            if self.config.model == "vgg16"
            else None
        )
        self.network = ctx.fast(model)
        self.sums = {"loss": 0.0, "correct": 0.0, "count": 0.0}
        model.train()

    def train_step(self, images: Tensor, labels: Tensor) -> dict[str, float]:
        """One cross-entropy step; accumulates the epoch's training loss and accuracy."""
        if self.config.augment:
            images = _augment(images)
        with self.ctx.autocast():
            logits = self.network(images)
        loss = F.cross_entropy(logits.float(), labels)
        self.ctx.step(loss, "model", self.optimizers["model"])
        correct = (logits.argmax(1) == labels).sum().item()
        self.sums["loss"] += loss.item() * len(labels)
        self.sums["correct"] += correct
        self.sums["count"] += len(labels)
        return {"loss": loss.item(), "acc": correct / len(labels)}

    @torch.no_grad()
    def evaluate(self, data: ImageData) -> tuple[float, float]:
        """``(mean loss, accuracy)`` of the model on ``data``."""
        self.model.eval()
        loss = correct = 0.0
        for start in range(0, len(data), _EVAL_BATCH):
            images = data.images[start : start + _EVAL_BATCH].to(self.ctx.device).float() / 255
            labels = data.labels[start : start + _EVAL_BATCH].to(self.ctx.device)
            with self.ctx.autocast():
                logits = self.model(images)
            loss += F.cross_entropy(logits.float(), labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
        self.model.train()
        return loss / len(data), correct / len(data)

    def end_of_epoch(self, epoch: int) -> dict[str, float]:
        """Training means of the epoch, test loss / accuracy; steps the LR schedule."""
        count = max(self.sums["count"], 1.0)
        metrics = {
            "train_loss": self.sums["loss"] / count,
            "train_acc": self.sums["correct"] / count,
        }
        self.sums = dict.fromkeys(self.sums, 0.0)
        if self.test is not None and len(self.test):
            metrics["test_loss"], metrics["test_acc"] = self.evaluate(self.test)
        if self.schedule is not None:
            self.schedule.step()
        return metrics

    def extra_state(self) -> dict[str, Any]:
        """Return the epoch's running sums and the LR schedule."""
        schedule = self.schedule.state_dict() if self.schedule is not None else None
        return {"sums": dict(self.sums), "schedule": schedule}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`extra_state`."""
        self.sums = dict(state["sums"])
        if self.schedule is not None and state.get("schedule"):
            self.schedule.load_state_dict(state["schedule"])

    def finish(self, run_dir: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Write ``loss_curve.png`` from the per-epoch records."""
        epochs = [r for r in records if "train_loss" in r]
        if not epochs:
            return {}
        path = plot_curves(epochs, run_dir / "loss_curve.png", title=run_dir.name)
        return {"loss_curve": str(path)}


def plot_curves(epochs: list[dict[str, Any]], path: Path, title: str = "") -> Path:
    """Train / test loss and accuracy against the epoch, as a PNG (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    x = [r["epoch"] + 1 for r in epochs]
    figure, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    for split in ("train", "test"):
        if f"{split}_loss" in epochs[0]:
            ax_loss.plot(x, [r[f"{split}_loss"] for r in epochs], marker="o", label=split)
            ax_acc.plot(x, [r[f"{split}_acc"] for r in epochs], marker="o", label=split)
    ax_loss.set(xlabel="epoch", ylabel="loss", title=title)
    ax_acc.set(xlabel="epoch", ylabel="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.legend()
        ax.grid(alpha=0.3)
    figure.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp.png")
    figure.savefig(tmp, dpi=100)
    plt.close(figure)
    tmp.replace(path)
    return path

"""What every experiment's training loop shares: the :class:`Context` and the :class:`Trainer`.

A trainer owns its model and optimisers and does one optimiser step per batch; the runner
(:mod:`bionn.experiments.train.runner`) owns data order, logging, checkpoints and signals.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from bionn.experiments.config import RunConfig
from bionn.experiments.data import ImageData
from bionn.experiments.ddp import Dist, wrap

__all__ = ["Context", "Trainer"]


@dataclass
class Context:
    """Device, precision and process placement for one run.

    Attributes:
        config: The resolved config.
        place: Rank, world size and device.
        scalers: One GradScaler per optimiser (enabled for fp16 only).

    """

    config: RunConfig
    place: Dist
    scalers: dict[str, torch.amp.GradScaler] = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        """The device this process trains on."""
        return self.place.device

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """Mixed precision per ``config.precision`` (no-op for fp32)."""
        if self.config.precision == "fp32":
            yield
            return
        dtype = torch.bfloat16 if self.config.precision == "bf16" else torch.float16
        with torch.autocast(self.device.type, dtype=dtype):
            yield

    def fast(self, module: nn.Module) -> nn.Module:
        """Return ``module`` as the training step calls it: compiled and/or in DDP as configured."""
        wrapped = wrap(module, self.place)
        # torch.compile is typed to return a callable; given a module it returns one
        return torch.compile(wrapped) if self.config.compile else wrapped  # type: ignore[return-value]

    def scaler(self, name: str) -> torch.amp.GradScaler:
        """Return the GradScaler of optimiser ``name`` (created on first use)."""
        if name not in self.scalers:
            enabled = self.config.precision == "fp16"
            self.scalers[name] = torch.amp.GradScaler(self.device.type, enabled=enabled)
        return self.scalers[name]

    def step(self, loss: Tensor, name: str, optimizer: torch.optim.Optimizer) -> None:
        """Backward ``loss`` and step ``optimizer`` through its scaler."""
        self.accumulated_step([loss], name, optimizer)

    def accumulated_step(
        self, losses: Iterable[Tensor], name: str, optimizer: torch.optim.Optimizer
    ) -> Tensor:
        """Backward each of ``losses`` as it comes, then step ``optimizer`` once.

        Micro-batches: a generator of losses lets each one's activations go before the next
        forward. Returns the losses' sum, detached.
        """
        scaler = self.scaler(name)
        optimizer.zero_grad(set_to_none=True)
        total: Tensor | None = None
        for loss in losses:
            scaler.scale(loss).backward()
            total = loss.detach() if total is None else total + loss.detach()
        if total is None:
            raise ValueError("accumulated_step needs at least one loss")
        scaler.step(optimizer)
        scaler.update()
        return total


class Trainer:
    """One experiment kind's training step and its extras; subclasses fill the hooks.

    Attributes:
        repetitions: Passes over the data set per epoch (DDIM: 5).
        drop_last: Drop each epoch's last partial batch.

    """

    repetitions = 1
    drop_last = True

    def __init__(
        self, ctx: Context, model: nn.Module, data: ImageData, test: ImageData | None
    ) -> None:
        self.ctx, self.model, self.data, self.test = ctx, model.to(ctx.device), data, test
        self.config = ctx.config
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def train_step(self, images: Tensor, labels: Tensor) -> dict[str, float]:
        """One optimiser step on a batch of [0, 1] images; returns scalar metrics."""
        raise NotImplementedError

    def end_of_epoch(self, epoch: int) -> dict[str, float]:
        """Metrics logged once per epoch (classifiers evaluate here)."""
        return {}

    def samples(self) -> Tensor | None:
        """uint8 images for a sample grid, or None for kinds that do not generate."""
        return None

    def extra_state(self) -> dict[str, Any]:
        """Trainer state beyond model / optimisers / EMA (stored under 'trainer')."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`extra_state`."""

    def ema_state(self) -> dict[str, Tensor] | None:
        """Return the EMA model's state_dict, if this trainer keeps one."""
        return None

    def load_ema_state(self, state: dict[str, Tensor]) -> None:
        """Restore the EMA weights."""

    def finish(self, run_dir: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Write final files (plots); return entries for the summary."""
        return {}

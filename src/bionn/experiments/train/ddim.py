"""DDIM training step (MSE on the noise, Adam 2e-4) and the EMA model used for sampling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from bionn.experiments.config import DDIMConfig
from bionn.experiments.data import ImageData
from bionn.experiments.models import DDIM
from bionn.experiments.sampling import sample_images
from bionn.experiments.train.base import Context, Trainer

__all__ = ["EMA", "DDIMTrainer"]


class EMA:
    """Exponential moving average of a model's parameters (``torch.optim.swa_utils``).

    Every update is ``ema = decay * ema + (1 - decay) * weights``, from the first step on, as
    in the original (its EMA network starts as a copy of the initial weights). Buffers are
    copied, not averaged: the windows are bool and the normalisation buffers are constants.

    Attributes:
        module: The averaged copy of the model (eval mode, no gradients).

    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))
        self.averaged.requires_grad_(False).eval()
        self.averaged.update_parameters(model)  # the copy counts as the first average
        self.module = self.averaged.module

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Average the parameters of ``model`` in; copy its buffers."""
        self.averaged.update_parameters(model)
        for ema_buffer, buffer in zip(self.module.buffers(), model.buffers(), strict=True):
            ema_buffer.copy_(buffer)


# Micro-batch of a CPU step (--micro-batch 0): batch 64 at 64x64 on 2 cores trained at 1.50,
# 1.77, 2.07 and 1.98 images/s in micro-batches of 64, 32, 16 and 8 (activations that fit the
# caches); a GPU runs the whole batch at once.
CPU_MICRO_BATCH = 16


class DDIMTrainer(Trainer):
    """Noise-prediction steps with EMA weights for sampling."""

    config: DDIMConfig

    def __init__(
        self, ctx: Context, model: nn.Module, data: ImageData, test: ImageData | None
    ) -> None:
        super().__init__(ctx, model, data, test)
        assert isinstance(model, DDIM) and isinstance(self.config, DDIMConfig)
        self.ddim: DDIM = model
        self.repetitions = self.config.repetitions
        model.set_normalisation(data.images)
        model.to(memory_format=torch.channels_last)  # oneDNN / cuDNN's fast layout
        lr = cast(float, self.config.lr)  # a resolved config has every value
        # fused: one kernel for all tensors (CPU and CUDA), the same update as the loop
        self.optimizers = {"network": torch.optim.Adam(model.network.parameters(), lr, fused=True)}
        self.network = ctx.fast(model.network)
        self.ema = EMA(model, self.config.ema)
        self.micro_batch = self.config.micro_batch or (
            CPU_MICRO_BATCH if ctx.device.type == "cpu" else None
        )
        model.train()

    def train_step(self, images: Tensor, labels: Tensor) -> dict[str, float]:
        """One noise-prediction step over the batch (in micro-batches), then the EMA update."""
        images = images.contiguous(memory_format=torch.channels_last)
        loss = self.ctx.accumulated_step(
            self._micro_losses(images), "network", self.optimizers["network"]
        )
        self.ema.update(self.ddim)
        return {"loss": loss.item()}

    def _micro_losses(self, images: Tensor) -> Iterator[Tensor]:
        """Each micro-batch's share of the batch's loss, its noise and times drawn per batch."""
        noise = torch.randn_like(images)
        times = torch.rand(len(images), 1, 1, 1, device=images.device)
        size = self.micro_batch or len(images)
        parts = zip(images.split(size), noise.split(size), times.split(size), strict=True)
        for part, part_noise, part_times in parts:
            with self.ctx.autocast():  # left before backward runs
                loss = self.ddim.loss(part, self.network, part_noise, part_times)
            yield loss * (len(part) / len(images))

    def samples(self) -> Tensor:
        """Return a grid's worth of EMA samples from fixed noise (the run's seed)."""
        return sample_images(
            self.ema.module,
            self.config.n_samples,
            steps=self.config.sampling_steps,
            seed=self.config.seed,
        )

    def ema_state(self) -> dict[str, Tensor]:
        """Return the EMA model's state_dict (what sampling uses)."""
        return self.ema.module.state_dict()

    def load_ema_state(self, state: dict[str, Tensor]) -> None:
        """Restore the EMA weights."""
        self.ema.module.load_state_dict(state)

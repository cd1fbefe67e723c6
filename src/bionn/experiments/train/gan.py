"""GAN training step: Adam with the published lr / betas for both networks.

The paper's procedure (the Keras DCGAN script): the discriminator step draws latents, generates
a batch without a graph, and scores real and generated images as one batch against targets
generated = 1, real = 0 (plus uniform noise); the generator step draws FRESH latents, runs the
generator again and scores its images against target 0, with the discriminator's weights frozen
(no gradients computed for them). The tutorial DCGAN reuses the discriminator step's batch, as
PyTorch's DCGAN tutorial does. ``keras_mode`` keeps both networks in eval mode while training,
as the original script effectively did under Keras 3.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import cast

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bionn.experiments.config import GANConfig
from bionn.experiments.data import ImageData
from bionn.experiments.models import GAN
from bionn.experiments.sampling import sample_images
from bionn.experiments.train.base import Context, Trainer

__all__ = ["GANTrainer", "frozen"]


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Turn off ``requires_grad`` of ``module``'s trainable parameters inside the block.

    Backward then computes no weight gradients for it (only the gradient flowing through it).
    """
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


class GANTrainer(Trainer):
    """Alternating discriminator / generator steps."""

    config: GANConfig

    def __init__(
        self, ctx: Context, model: nn.Module, data: ImageData, test: ImageData | None
    ) -> None:
        super().__init__(ctx, model, data, test)
        assert isinstance(model, GAN) and isinstance(self.config, GANConfig)
        self.gan: GAN = model
        config = self.config
        betas = (config.beta1, config.beta2)
        lr = cast(float, config.lr)  # a resolved config (bionn.experiments.plan) has every value
        # fused: one kernel for all tensors (CPU and CUDA), the same update as the loop
        self.optimizers = {
            name: torch.optim.Adam(getattr(model, name).parameters(), lr, betas, fused=True)
            for name in ("generator", "discriminator")
        }
        model.to(memory_format=torch.channels_last)  # oneDNN / cuDNN's fast layout
        self.generator = ctx.fast(model.generator)
        self.discriminator = ctx.fast(model.discriminator)
        # the generator step sends no discriminator gradients, so it needs no DDP wrapper
        self.judge = self.discriminator
        if ctx.place.active:
            compiled = torch.compile(model.discriminator) if config.compile else None
            # torch.compile is typed to return a callable; given a module it returns one
            self.judge = compiled or model.discriminator  # type: ignore[assignment]
        self.label_noise = config.label_noise or 0.0
        self.model.train(not config.keras_mode)

    def _targets(self, generated: bool, n: int) -> Tensor:
        # paper: D says 1 for generated; tutorial: D says 1 for real
        value = float(generated == self.gan.paper_targets)
        return torch.full((n,), value, device=self.ctx.device)

    def _fake_labels(self, n: int) -> Tensor | None:
        gan = self.gan
        return torch.randint(gan.classes, (n,), device=self.ctx.device) if gan.classes else None

    def train_step(self, images: Tensor, labels: Tensor) -> dict[str, float]:
        """One discriminator step, then one generator step."""
        n, device, gan = images.shape[0], self.ctx.device, self.gan
        real = gan.from_unit(images).contiguous(memory_format=torch.channels_last)
        fake_labels = self._fake_labels(n)
        both_labels = torch.cat([fake_labels, labels]) if fake_labels is not None else None
        with self.ctx.autocast(), torch.set_grad_enabled(gan.reuse_fake):
            fake = self.generator(gan.latent(n, device=device), fake_labels)
        with self.ctx.autocast():
            logits = self.discriminator(
                torch.cat([fake.detach(), real.to(fake.dtype)]), both_labels
            )
        targets = torch.cat([self._targets(True, n), self._targets(False, n)])
        if self.label_noise:
            targets = targets + self.label_noise * torch.rand(2 * n, device=device)
        loss_d = F.binary_cross_entropy_with_logits(logits.float(), targets)
        self.ctx.step(loss_d, "discriminator", self.optimizers["discriminator"])

        with self.ctx.autocast(), frozen(gan.discriminator):
            if not gan.reuse_fake:
                fake_labels = self._fake_labels(n)
                fake = self.generator(gan.latent(n, device=device), fake_labels)
            logits_g = self.judge(fake, fake_labels)
        loss_g = F.binary_cross_entropy_with_logits(logits_g.float(), self._targets(False, n))
        self.ctx.step(loss_g, "generator", self.optimizers["generator"])
        with torch.no_grad():
            says_generated = torch.sigmoid(logits.float())
            if not gan.paper_targets:
                says_generated = 1 - says_generated
        return {
            "loss_d": loss_d.item(),
            "loss_g": loss_g.item(),
            "d_fake": says_generated[:n].mean().item(),  # P(generated) on generated images
            "d_real": says_generated[n:].mean().item(),  # P(generated) on real images
        }

    def samples(self) -> Tensor:
        """Return a grid's worth of images from fixed latents (the run's seed)."""
        images = sample_images(self.gan, self.config.n_samples, seed=self.config.seed)
        self.model.train(not self.config.keras_mode)
        return images

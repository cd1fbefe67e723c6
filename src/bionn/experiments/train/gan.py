"""GAN training step: Adam with the published lr / betas for both networks.

Targets are the paper's (generated = 1, real = 0, plus uniform noise) or the tutorial's.

Real and generated images go through the discriminator as one batch (as the paper's Keras
script did), which also keeps a single forward per DDP step. ``keras_mode`` keeps both networks
in eval mode while training, as the original script effectively did under Keras 3.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bionn.experiments.config import GANConfig
from bionn.experiments.data import ImageData
from bionn.experiments.models import GAN
from bionn.experiments.sampling import sample_images
from bionn.experiments.train.base import Context, Trainer

__all__ = ["GANTrainer"]


class GANTrainer(Trainer):
    """Alternating discriminator / generator steps."""

    def __init__(self, ctx: Context, model: nn.Module, data: ImageData,
                 test: ImageData | None) -> None:  # fmt: skip
        super().__init__(ctx, model, data, test)
        assert isinstance(model, GAN) and isinstance(self.config, GANConfig)
        self.gan: GAN = model
        config = self.config
        betas = (config.beta1, config.beta2)
        self.optimizers = {
            "generator": torch.optim.Adam(model.generator.parameters(), config.lr, betas),
            "discriminator": torch.optim.Adam(model.discriminator.parameters(), config.lr, betas),
        }
        self.generator = ctx.fast(model.generator)
        self.discriminator = ctx.fast(model.discriminator)
        self.label_noise = config.label_noise or 0.0
        self.model.train(not config.keras_mode)

    def _targets(self, generated: bool, n: int) -> Tensor:
        # paper: D says 1 for generated; tutorial: D says 1 for real
        value = float(generated == self.gan.paper_targets)
        return torch.full((n,), value, device=self.ctx.device)

    def train_step(self, images: Tensor, labels: Tensor) -> dict[str, float]:
        """One discriminator step, then one generator step on the same generated batch."""
        n, device, gan = images.shape[0], self.ctx.device, self.gan
        real = gan.from_unit(images)
        z = gan.latent(n, device=device)
        fake_labels = torch.randint(gan.classes, (n,), device=device) if gan.classes else None
        both_labels = torch.cat([fake_labels, labels]) if gan.classes else None
        with self.ctx.autocast():
            fake = self.generator(z, fake_labels)
            logits = self.discriminator(torch.cat([fake.detach(), real.to(fake.dtype)]),
                                        both_labels)  # fmt: skip
        targets = torch.cat([self._targets(True, n), self._targets(False, n)])
        if self.label_noise:
            targets = targets + self.label_noise * torch.rand(2 * n, device=device)
        loss_d = F.binary_cross_entropy_with_logits(logits.float(), targets)
        self.ctx.step(loss_d, "discriminator", self.optimizers["discriminator"])

        with self.ctx.autocast():
            logits_g = self.discriminator(fake, fake_labels)
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

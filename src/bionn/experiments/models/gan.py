"""DCGANs of the mouse paper: the paper's 64x64 model, its conditional version, the tutorial's.

Paper (``style='paper'``): ``z -> Linear -> BN -> ReLU -> ConvT(k5, s2) x n`` with BN + ReLU
between and a sigmoid output; spectral-normalised discriminator ``Conv(k4, s2) + LeakyReLU(0.2)``
x 4, dropout 0.2, Linear. Tutorial (``style='tutorial'``): PyTorch's DCGAN (ConvT k4 s2 p1, tanh,
BN discriminator, N(0, 0.02) init). In the mouse variant every hidden-to-hidden ConvT is a mouse
layer; the paper's grids (32, 32), (32, 16), (16, 16) for width 128 scale with the width (the
tutorial's (16, 16), (16, 8), (8, 8) at width 64).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm

from bionn.experiments.models._bio import Bio, BuildError, pow2_grid

__all__ = ["GAN", "Discriminator", "Generator", "gan_layout"]

# (input2d_width, output2d_width) of the mouse ConvT whose input has width * 2**k channels,
# at the paper's width 128
_PAPER_GRIDS = {3: (32, 32), 2: (32, 16), 1: (16, 16)}
_PAPER_WIDTH = 128


def gan_layout(image_size: int) -> tuple[int, int]:
    """``(start size, upsampling layers)``: ``start * 2**n == image_size`` with n in 2..4."""
    start, n_up = image_size, 0
    while start % 2 == 0 and start // 2 >= 4 and n_up < 4:
        start, n_up = start // 2, n_up + 1
    if n_up < 2 or start > 8:
        raise BuildError(
            f"image size {image_size} does not fit the GAN: it must be 4..8 times 2**n with "
            "n in 2..4 (e.g. 28, 32, 64, 128)"
        )
    return start, n_up


def _mouse_grids(width: int, k: int) -> tuple[int, int]:
    scaled = [g * width / _PAPER_WIDTH for g in _PAPER_GRIDS.get(k, (0, 0))]
    if all(s >= 1 and s == int(s) for s in scaled):
        return int(scaled[0]), int(scaled[1])
    return pow2_grid(width * 2 ** (k - 1)), pow2_grid(width * 2**k)


class Generator(nn.Module):
    """DCGAN generator: latent (plus one-hot labels) to images in [0, 1] (paper) or [-1, 1]."""

    def __init__(
        self,
        *,
        z_dim: int,
        width: int,
        image_size: int,
        channels: int,
        classes: int,
        bio: Bio,
        style: str = "paper",
    ) -> None:
        super().__init__()
        start, n_up = gan_layout(image_size)
        widths = [width * 2**k for k in range(n_up - 1, -1, -1)]
        self.start, self.style, self.classes = start, style, classes
        z_in = z_dim + classes
        conv_args: dict[str, Any]  # the kernel size, then keyword arguments of the convs
        if style == "paper":
            features = start * start * widths[0]
            self.stem = nn.Sequential(
                nn.Linear(z_in, features), nn.BatchNorm1d(features), nn.ReLU()
            )
            conv_args = {"kernel": 5, "stride": 2, "padding": 2, "output_padding": 1}
        else:
            self.stem = nn.Sequential(
                nn.ConvTranspose2d(z_in, widths[0], start, 1, 0, bias=False),
                nn.BatchNorm2d(widths[0]),
                nn.ReLU(),
            )
            conv_args = {"kernel": 4, "stride": 2, "padding": 1}
        kernel = conv_args.pop("kernel")
        bias = style == "paper"
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip(widths, widths[1:], strict=False)):
            k = n_up - 1 - i
            layers += [
                bio.conv_transpose(
                    c_in, c_out, kernel, grids=_mouse_grids(width, k), bias=bias, **conv_args
                ),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
            ]
        layers.append(nn.ConvTranspose2d(widths[-1], channels, kernel, bias=bias, **conv_args))
        layers.append(nn.Sigmoid() if style == "paper" else nn.Tanh())
        self.body = nn.Sequential(*layers)
        self.widths = widths

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Images from latents ``z`` of shape (N, z_dim) and optional int labels (N,)."""
        if self.classes:
            if labels is None:
                raise ValueError("this generator is class-conditional: pass labels")
            z = torch.cat([z, F.one_hot(labels, self.classes).to(z.dtype)], dim=1)
        if self.style == "paper":
            h = self.stem(z).view(z.shape[0], self.widths[0], self.start, self.start)
        else:
            h = self.stem(z[:, :, None, None])
        return self.body(h)


class Discriminator(nn.Module):
    """DCGAN discriminator returning logits (the sigmoid lives in the loss)."""

    def __init__(
        self, *, width: int, image_size: int, channels: int, classes: int, style: str = "paper"
    ) -> None:
        super().__init__()
        self.classes, self.image_size = classes, image_size
        layers: list[nn.Module] = []
        c_in, size = channels + classes, image_size
        if style == "paper":
            for i in range(4):
                if size < 4:
                    break
                layers += [spectral_norm(nn.Conv2d(c_in, width * 2**i, 4, 2, 1)), nn.LeakyReLU(0.2)]
                c_in, size = width * 2**i, size // 2
            layers += [nn.Flatten(), nn.Dropout(0.2), nn.Linear(c_in * size * size, 1)]
        else:
            start, n_up = gan_layout(image_size)
            for i in range(n_up):
                layers.append(nn.Conv2d(c_in, width * 2**i, 4, 2, 1, bias=False))
                if i:
                    layers.append(nn.BatchNorm2d(width * 2**i))
                layers.append(nn.LeakyReLU(0.2))
                c_in = width * 2**i
            layers += [nn.Conv2d(c_in, 1, start, 1, 0, bias=False), nn.Flatten()]
        self.body = nn.Sequential(*layers)

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        """Logits (N,) that the images are *generated* (paper) or real (tutorial)."""
        if self.classes:
            if labels is None:
                raise ValueError("this discriminator is class-conditional: pass labels")
            planes = F.one_hot(labels, self.classes).to(images.dtype)[:, :, None, None]
            images = torch.cat([images, planes.expand(-1, -1, *images.shape[2:])], dim=1)
        return self.body(images).flatten()


def _tutorial_init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class GAN(nn.Module):
    """Generator + discriminator, with the facts training and sampling need.

    Attributes:
        paper_targets: Paper's targets (generated = 1, real = 0) instead of the tutorial's.
        tanh: Generator output in [-1, 1] (tutorial) instead of [0, 1].
        reuse_fake: The generator step scores the discriminator step's batch again (PyTorch's
            tutorial) instead of drawing fresh latents (the paper's Keras script).

    """

    def __init__(
        self,
        *,
        style: str,
        z_dim: int,
        width: int,
        disc_width: int,
        image_size: int,
        channels: int,
        classes: int,
        bio: Bio,
    ) -> None:
        super().__init__()
        if style not in ("paper", "tutorial"):
            raise BuildError(f"unknown GAN style {style!r}")
        if bio.variant == "mouse" and width % 8:
            raise BuildError(f"the mouse GAN needs a width divisible by 8, got {width}")
        common: dict[str, Any] = {
            "image_size": image_size,
            "channels": channels,
            "classes": classes,
            "style": style,
        }
        self.generator = Generator(z_dim=z_dim, width=width, bio=bio, **common)
        self.discriminator = Discriminator(width=disc_width, **common)
        if style == "tutorial":
            self.apply(_tutorial_init)
        self.z_dim, self.classes = z_dim, classes
        self.paper_targets, self.tanh = style == "paper", style == "tutorial"
        self.reuse_fake = style == "tutorial"

    def latent(
        self,
        n: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """``n`` latent vectors ~ N(0, 1)."""
        return torch.randn(n, self.z_dim, generator=generator, device=device)

    def to_unit(self, images: Tensor) -> Tensor:
        """Map generator output to [0, 1]."""
        return (images + 1) / 2 if self.tanh else images

    def from_unit(self, images: Tensor) -> Tensor:
        """[0, 1] images mapped to the generator's range."""
        return images * 2 - 1 if self.tanh else images

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, labels: Tensor | None = None
    ) -> Tensor:
        """``n`` images in [0, 1] (eval mode; labels cycle through the classes if omitted)."""
        device = next(self.parameters()).device
        z = self.latent(n, generator).to(device)
        if self.classes and labels is None:
            labels = torch.arange(n) % self.classes
        labels = labels.to(device) if labels is not None else None
        return self.to_unit(self.generator(z, labels)).clamp(0, 1).float()

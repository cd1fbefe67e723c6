"""The mouse paper's DDIM: a noise-predicting U-Net, the cosine-angle schedule, DDIM sampling.

After the Keras DDIM example with the paper's changes: widths ``width * 2**i``, residual blocks
GroupNorm(8) -> conv3x3 -> GroupNorm -> swish -> dropout -> conv3x3 (+ 1x1 skip projection),
self-attention at a quarter of the image size, a 32-dim sinusoidal embedding of the noise
variance concatenated to the input, average-pool down, bilinear up, a zero-initialised output
conv. In the mouse variant both conv3x3 of every block of the last down level, the middle and
the two deepest up levels are mouse convs (grid ``2 ** round(log2(w) / 2)``, r = 0.4). Image
sizes that are not a multiple of ``2**(levels - 1)`` are padded (replicate) and cropped back.
"""

from __future__ import annotations

import math
from typing import cast

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bionn.experiments.models._bio import Bio, BuildError, pow2_grid

__all__ = ["DDIM", "UNet", "diffusion_schedule"]

MAX_SIGNAL_RATE = 0.95
MIN_SIGNAL_RATE = 0.02
EMBEDDING_DIMS = 32


def diffusion_schedule(times: Tensor) -> tuple[Tensor, Tensor]:
    """``(noise_rates, signal_rates)`` at diffusion times in [0, 1] (cosine of angles)."""
    start = math.acos(MAX_SIGNAL_RATE)
    end = math.acos(MIN_SIGNAL_RATE)
    angles = start + times * (end - start)
    return torch.sin(angles), torch.cos(angles)


def sinusoidal_embedding(variance: Tensor) -> Tensor:
    """(N, 1, 1, 1) noise variances -> (N, 32, 1, 1), frequencies 1..1000 (log-spaced)."""
    freqs = torch.exp(
        torch.linspace(0.0, math.log(1000.0), EMBEDDING_DIMS // 2, device=variance.device)
    )
    angular = 2.0 * math.pi * freqs.view(1, -1, 1, 1) * variance.float()
    return torch.cat([torch.sin(angular), torch.cos(angular)], dim=1)


class MaskDropout(nn.Dropout):
    """``nn.Dropout`` that keeps a bool mask for backward on the CPU (a quarter of the memory).

    PyTorch's CPU dropout draws a float noise tensor and saves it; this draws uniform numbers,
    keeps ``u >= p`` as bool and scales by ``1 / (1 - p)``: the same distribution. Other devices
    use the fused kernel of ``nn.Dropout``, which already keeps a bool mask.
    """

    def forward(self, x: Tensor) -> Tensor:
        """``x`` with each element zeroed with probability ``p`` (training mode), else ``x``."""
        if not self.training or self.p == 0 or x.device.type != "cpu":
            return super().forward(x)
        keep = torch.rand_like(x, dtype=torch.float32) >= self.p
        return x * keep * (1.0 / (1.0 - self.p))


class ResidualBlock(nn.Module):
    """GroupNorm -> conv3x3 -> GroupNorm -> swish -> dropout -> conv3x3, plus the skip."""

    def __init__(self, c_in: int, c_out: int, dropout: float, bio: Bio, mouse: bool) -> None:
        super().__init__()
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)
        grids = (pow2_grid(c_out), pow2_grid(c_out))  # the original: both from the OUTPUT width
        self.norm1 = nn.GroupNorm(8, c_in)
        self.conv1 = bio.conv(c_in, c_out, 3, padding=1, grids=grids, bio=mouse)
        self.norm2 = nn.GroupNorm(8, c_out)
        self.dropout = MaskDropout(dropout)
        self.conv2 = bio.conv(c_out, c_out, 3, padding=1, grids=grids, bio=mouse)

    def forward(self, x: Tensor) -> Tensor:
        """Return the block's output."""
        h = self.conv1(self.norm1(x))
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return h + self.skip(x)


class Attention(nn.Module):
    """Single-head self-attention over the pixels; the residual adds the NORMALISED input.

    As in the original, which reassigns ``inputs = self.norm(inputs)`` before the residual.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(8, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        """``GroupNorm(x)`` plus attention over its pixels (the original's residual)."""
        n, c, h, w = x.shape
        x = self.norm(x)
        q, k, v = self.qkv(x).reshape(n, 3, c, h * w).transpose(-1, -2).unbind(1)
        out = F.scaled_dot_product_attention(q, k, v).transpose(-1, -2).reshape(n, c, h, w)
        return x + self.proj(out)


class Level(nn.Module):
    """Residual blocks of one U-Net level, each optionally followed by attention."""

    def __init__(
        self, inputs: list[int], width: int, dropout: float, bio: Bio, mouse: bool, attention: bool
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(ResidualBlock(c, width, dropout, bio, mouse) for c in inputs)
        self.attention = nn.ModuleList(
            Attention(width) if attention else nn.Identity() for _ in inputs
        )


class UNet(nn.Module):
    """Noise-predicting U-Net: (noisy images, noise variances (N, 1, 1, 1)) -> noise."""

    def __init__(
        self,
        *,
        channels: int,
        image_size: int,
        width: int,
        levels: int,
        block_depth: int,
        attention: bool,
        dropout: float,
        bio: Bio,
    ) -> None:
        super().__init__()
        self.multiple = 2 ** (levels - 1)
        if width % 8:
            raise BuildError(f"the U-Net width must be divisible by 8 (GroupNorm), got {width}")
        if image_size < self.multiple:
            raise BuildError(
                f"image size {image_size} is too small for a {levels}-level U-Net "
                f"(needs >= {self.multiple})"
            )
        widths = [width * 2**i for i in range(levels)]
        attn_level = 2 if attention and levels > 2 else -1
        self.stem = nn.Conv2d(channels, widths[0], 1)
        self.down = nn.ModuleList()
        c, skips = widths[0] + EMBEDDING_DIMS, []
        for i, w in enumerate(widths[:-1]):
            inputs = [c] + [w] * (block_depth - 1)
            self.down.append(Level(inputs, w, dropout, bio, i >= levels - 2, i == attn_level))
            c = w
            skips += [w] * block_depth
        self.middle = Level(
            [c] + [widths[-1]] * (block_depth - 1), widths[-1], dropout, bio, True, False
        )
        c = widths[-1]
        self.up = nn.ModuleList()
        for i in reversed(range(levels - 1)):
            w, inputs = widths[i], []
            for _ in range(block_depth):
                inputs.append(c + skips.pop())
                c = w
            self.up.append(Level(inputs, w, dropout, bio, i >= levels - 3, i == attn_level))
        self.head = nn.Conv2d(widths[0], channels, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(cast(Tensor, self.head.bias))  # Conv2d's bias=True: never None

    def forward(self, noisy: Tensor, variance: Tensor) -> Tensor:
        """Predicted noise, same shape as ``noisy``."""
        h_in, w_in = noisy.shape[-2:]
        pad_h, pad_w = (-h_in) % self.multiple, (-w_in) % self.multiple
        if pad_h or pad_w:
            noisy = F.pad(noisy, (0, pad_w, 0, pad_h), mode="replicate")
        stem = self.stem(noisy)
        embedding = sinusoidal_embedding(variance).to(noisy.dtype).expand(-1, -1, *stem.shape[-2:])
        if stem.is_contiguous(memory_format=torch.channels_last):  # else cat returns NCHW
            embedding = embedding.contiguous(memory_format=torch.channels_last)
        x = torch.cat([stem, embedding], dim=1)
        skips = []
        for level in self.down:
            # a Level, which ModuleList types as a Module: its attributes read as Tensor | Module
            for block, attn in zip(level.blocks, level.attention, strict=False):  # type: ignore[arg-type]
                x = attn(block(x))
                skips.append(x)
            x = F.avg_pool2d(x, 2)
        for block in self.middle.blocks:
            x = block(x)
        for level in self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            # a Level, as above
            for block, attn in zip(level.blocks, level.attention, strict=False):  # type: ignore[arg-type]
                x = attn(block(torch.cat([x, skips.pop()], dim=1)))
        return self.head(x)[..., :h_in, :w_in]


class DDIM(nn.Module):
    """The U-Net plus the data normalisation (per-channel mean / std buffers) and sampling."""

    mean: Tensor  # buffers, which nn.Module would type Tensor | Module
    std: Tensor

    def __init__(self, network: UNet, channels: int, image_size: int) -> None:
        super().__init__()
        self.network = network
        self.channels, self.image_size = channels, image_size
        self.register_buffer("mean", torch.full((1, channels, 1, 1), 0.5))
        self.register_buffer("std", torch.full((1, channels, 1, 1), 0.5))

    @torch.no_grad()
    def set_normalisation(self, images: Tensor) -> None:
        """Per-channel mean and std of uint8 or [0, 1] images (N, C, H, W)."""
        x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
        self.mean.copy_(x.mean(dim=(0, 2, 3)).view_as(self.mean))
        self.std.copy_(x.std(dim=(0, 2, 3)).clamp_min(1e-3).view_as(self.std))

    def denoise(
        self,
        noisy: Tensor,
        noise_rates: Tensor,
        signal_rates: Tensor,
        network: nn.Module | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Return ``(predicted noise, predicted normalised images)``.

        ``network`` replaces the U-Net's call (its compiled or DDP-wrapped form).
        """
        network = self.network if network is None else network  # no bool() of a wrapper
        pred_noise = network(noisy, noise_rates**2)
        pred_images = (noisy - noise_rates * pred_noise) / signal_rates
        return pred_noise, pred_images

    def loss(
        self,
        images: Tensor,
        network: nn.Module | None = None,
        noise: Tensor | None = None,
        times: Tensor | None = None,
    ) -> Tensor:
        """MSE of the predicted noise for [0, 1] ``images`` at random times.

        ``noise`` (shaped like ``images``) and ``times`` (``(n, 1, 1, 1)`` in [0, 1)) are drawn
        from the global RNG where not given, in that order.
        """
        x = (images - self.mean) / self.std
        noise = torch.randn_like(x) if noise is None else noise
        times = torch.rand(x.shape[0], 1, 1, 1, device=x.device) if times is None else times
        noise_rates, signal_rates = diffusion_schedule(times)
        pred_noise, _ = self.denoise(
            signal_rates * x + noise_rates * noise, noise_rates, signal_rates, network
        )
        return F.mse_loss(pred_noise.float(), noise.float())

    @torch.no_grad()
    def sample(self, n: int, steps: int = 20, generator: torch.Generator | None = None) -> Tensor:
        """``n`` images in [0, 1] by deterministic DDIM with ``steps`` steps (eval mode)."""
        device = self.mean.device
        shape = (n, self.channels, self.image_size, self.image_size)
        noisy = torch.randn(shape, generator=generator)
        noisy = noisy.to(device, memory_format=torch.channels_last)
        pred_images = noisy
        for step in range(steps):
            times = torch.full((n, 1, 1, 1), 1.0 - step / steps, device=device)
            noise_rates, signal_rates = diffusion_schedule(times)
            pred_noise, pred_images = self.denoise(noisy, noise_rates, signal_rates)
            next_noise, next_signal = diffusion_schedule(times - 1.0 / steps)
            noisy = next_signal * pred_images + next_noise * pred_noise
        return (pred_images.float() * self.std + self.mean).clamp(0, 1)

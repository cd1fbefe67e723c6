"""Draw images from a trained GAN or DDIM and write them as a grid or single PNG files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch
from torch import nn

from bionn.data import atomic_write, progress_bar
from bionn.experiments.models import DDIM, GAN

__all__ = ["SampledImages", "sample_images", "save_grid", "save_singles"]


@dataclass(frozen=True, eq=False)
class SampledImages:
    """``n`` images of a GAN or DDIM, generated batch by batch when iterated.

    An :class:`~bionn.data.ImageSet`: feature extraction consumes the samples as they come, so
    50,000 of them never sit in memory together. The same ``seed`` and ``batch_size`` give the
    same images as :func:`sample_images`.

    Attributes:
        model: A :class:`GAN` or :class:`DDIM`, on any device; it is put in eval mode.
        n: Number of images.
        steps: DDIM sampling steps (ignored by GANs).
        seed: Seed of the latent noise (a CPU generator, so results match across devices).
        labels: Class labels for a conditional GAN (default: cycling through the classes).

    """

    model: nn.Module
    n: int
    steps: int = 20
    seed: int = 0
    labels: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, (GAN, DDIM)):
            raise TypeError(f"only GAN and DDIM models can sample, got {type(self.model).__name__}")
        if self.n < 1 or self.steps < 1:
            raise ValueError(f"n and steps must be >= 1, got n={self.n}, steps={self.steps}")

    def __len__(self) -> int:
        return self.n

    @torch.no_grad()
    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        """Yield uint8 (b, C, H, W) batches of at most ``batch_size`` images."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        model, labels = self.model.eval(), self.labels
        generator = torch.Generator().manual_seed(self.seed)
        if labels is None and isinstance(model, GAN) and model.classes:
            labels = torch.arange(self.n) % model.classes
        for start in range(0, self.n, batch_size):
            count = min(batch_size, self.n - start)
            if isinstance(model, GAN):
                part = labels[start : start + count] if labels is not None else None
                images = model.sample(count, generator, part)
            else:
                images = cast(DDIM, model).sample(count, self.steps, generator)  # __post_init__
            yield (images.float().cpu() * 255).round().clamp(0, 255).to(torch.uint8)


def sample_images(
    model: nn.Module,
    n: int,
    *,
    steps: int = 20,
    seed: int = 0,
    batch_size: int = 64,
    labels: torch.Tensor | None = None,
    progress: bool | None = None,
) -> torch.Tensor:
    """``n`` images as uint8 (n, C, H, W), reproducible for a given ``seed``.

    Args:
        model: A :class:`GAN` or :class:`DDIM` (e.g. ``load_checkpoint(...).model``).
        n: Number of images.
        steps: DDIM sampling steps (ignored by GANs).
        seed: Seed of the latent noise.
        batch_size: Images generated at once.
        labels: Class labels for a conditional GAN (default: cycling through the classes).
        progress: Progress bar (None: when stderr is a terminal).

    """
    samples = SampledImages(model, n, steps, seed, labels)
    with progress_bar(desc="sampling", total=n, enabled=progress, unit="img") as bar:
        chunks = []
        for batch in samples.batches(batch_size):
            chunks.append(batch)
            bar.update(len(batch))
    return torch.cat(chunks)


def save_grid(images: torch.Tensor, path: str | Path, nrow: int = 8) -> Path:
    """uint8 (N, C, H, W) images as one PNG grid, written atomically."""
    from torchvision.utils import save_image

    return atomic_write(
        path,
        lambda handle: save_image(
            images.float() / 255.0, handle, format="png", nrow=nrow, padding=2
        ),
    )


def save_singles(images: torch.Tensor, folder: str | Path) -> list[Path]:
    """One PNG per image (``000000.png`` ...) in ``folder``, for FID tools."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, image in enumerate(images):
        array = image.permute(1, 2, 0).squeeze(-1).numpy()
        path = folder / f"{index:06d}.png"
        Image.fromarray(array).save(path)
        paths.append(path)
    return paths

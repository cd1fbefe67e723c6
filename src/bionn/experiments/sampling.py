"""Draw images from a trained GAN or DDIM and write them as a grid or single PNG files."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from bionn.experiments.models import DDIM, GAN

__all__ = ["sample_images", "save_grid", "save_singles"]


@torch.no_grad()
def sample_images(
    model: nn.Module,
    n: int,
    *,
    steps: int = 20,
    seed: int = 0,
    batch_size: int = 64,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """``n`` images as uint8 (n, C, H, W), reproducible for a given ``seed``.

    Args:
        model: A :class:`GAN` or :class:`DDIM` (e.g. ``load_checkpoint(...).model``), on any
            device; it is put in eval mode.
        n: Number of images.
        steps: DDIM sampling steps (ignored by GANs).
        seed: Seed of the latent noise (a CPU generator, so results match across devices).
        batch_size: Images generated at once.
        labels: Class labels for a conditional GAN (default: cycling through the classes).

    """
    if not isinstance(model, (GAN, DDIM)):
        raise TypeError(f"only GAN and DDIM models can sample, got {type(model).__name__}")
    if n < 1 or batch_size < 1 or steps < 1:
        raise ValueError("n, batch_size and steps must be >= 1")
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    if labels is None and isinstance(model, GAN) and model.classes:
        labels = torch.arange(n) % model.classes
    chunks = []
    for start in range(0, n, batch_size):
        count = min(batch_size, n - start)
        if isinstance(model, GAN):
            part = labels[start:start + count] if labels is not None else None
            images = model.sample(count, generator, part)
        else:
            images = model.sample(count, steps, generator)
        chunks.append((images.float().cpu() * 255).round().clamp(0, 255).to(torch.uint8))
    return torch.cat(chunks)


def save_grid(images: torch.Tensor, path: str | Path, nrow: int = 8) -> Path:
    """uint8 (N, C, H, W) images as one PNG grid, written atomically."""
    from torchvision.utils import save_image

    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    save_image(images.float() / 255.0, tmp, nrow=nrow, padding=2)
    tmp.replace(path)
    return path


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

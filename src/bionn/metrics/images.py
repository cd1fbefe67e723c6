"""Image sets for the metrics: named grey data sets and folders of image files, as uint8 tensors.

Named sets: ``mnist`` and ``fashionmnist`` through torchvision (``--data-root``, never
downloaded here) and ``digits``, scikit-learn's bundled 8x8 digits upscaled bilinearly, which
needs no download. Folders are read recursively (PNG, JPEG, BMP, WebP); every image must have
the same size, since a distance between sets of different sizes means nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor

__all__ = ["GREY_DATASETS", "load_dataset", "load_folder", "to_float"]

GREY_DATASETS = ("mnist", "fashionmnist", "digits")
_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def to_float(images: Tensor) -> Tensor:
    """uint8 images to float in [0, 1] (float input is returned unchanged)."""
    return images.float() / 255 if images.dtype == torch.uint8 else images


def load_dataset(name: str, root: Path | str | None = None, train: bool = True,
                 size: int | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Load a named grey data set as ``(uint8 images (n, 1, h, w), int64 labels)``.

    Args:
        name: One of :data:`GREY_DATASETS`.
        root: torchvision data root for mnist / fashionmnist (raw layout, no download).
        train: The training split (digits has one split: the first 80 % / the rest).
        size: Resize to ``size x size`` (bilinear); None keeps 28x28 (digits: 28x28 too).

    Raises:
        ValueError: For an unknown name or a missing root.
        FileNotFoundError: If the files are not under ``root``.

    """
    key = name.lower().replace("-", "").replace("_", "")
    if key == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        pixels = torch.from_numpy(bunch.images / 16.0).float().unsqueeze(1)
        labels = torch.from_numpy(bunch.target).long()
        cut = int(0.8 * len(labels))
        pixels, labels = (pixels[:cut], labels[:cut]) if train else (pixels[cut:], labels[cut:])
        images = F.interpolate(pixels, size=(size or 28,) * 2, mode="bilinear",
                               align_corners=False)  # fmt: skip
        return (images.clamp(0, 1) * 255).round().to(torch.uint8), labels
    if key not in ("mnist", "fashionmnist"):
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(GREY_DATASETS)}")
    if root is None:
        raise ValueError(f"{name} needs --data-root (a folder with {name.upper()}/raw)")
    from torchvision import datasets

    cls = datasets.MNIST if key == "mnist" else datasets.FashionMNIST
    try:
        data = cls(root=str(root), train=train, download=False)
    except RuntimeError as error:
        raise FileNotFoundError(f"{name} not found under {root}: {error}") from error
    images, labels = data.data.unsqueeze(1), data.targets.long()
    if size is not None and size != images.shape[-1]:
        resized = F.interpolate(images.float(), size=(size, size), mode="bilinear",
                                align_corners=False, antialias=True)  # fmt: skip
        images = resized.round().clamp(0, 255).to(torch.uint8)
    return images, labels


def load_folder(folder: Path | str, limit: int | None = None) -> Tensor:
    """All images under ``folder`` (sorted, recursive) as uint8 ``(n, c, h, w)``.

    Grey files give one channel, everything else RGB; a folder mixing both is read as RGB.

    Raises:
        FileNotFoundError: If the folder is missing or holds no image.
        ValueError: If the images differ in size.

    """
    from PIL import Image

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in _SUFFIXES)[:limit]
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(sorted(_SUFFIXES))}) under {folder}")
    opened = [Image.open(path) for path in files]
    mode = "L" if all(image.mode in ("L", "1", "I;16") for image in opened) else "RGB"
    arrays = [np.asarray(image.convert(mode)) for image in opened]
    sizes = {a.shape[:2] for a in arrays}
    if len(sizes) > 1:
        raise ValueError(f"images under {folder} differ in size: {sorted(sizes)}; FID compares "
                         f"sets of one size")  # fmt: skip
    stacked = torch.from_numpy(np.stack(arrays))
    return stacked.unsqueeze(1) if mode == "L" else stacked.permute(0, 3, 1, 2).contiguous()

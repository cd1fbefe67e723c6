"""Image sets for the metrics: named grey data sets and folders of image files, as uint8 tensors.

Named sets: ``mnist`` and ``fashionmnist`` through torchvision (``--data-root``, never
downloaded here) and ``digits``, scikit-learn's bundled 8x8 digits upscaled, which needs no
download; all three through the training loader of :mod:`bionn.experiments.data`.
Folders are read recursively (PNG, JPEG, BMP, WebP); every image must have
the same size, since a distance between sets of different sizes means nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

__all__ = ["GREY_DATASETS", "load_dataset", "load_folder", "to_float"]

GREY_DATASETS = ("mnist", "fashionmnist", "digits")
_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def to_float(images: Tensor) -> Tensor:
    """uint8 images to float in [0, 1] (float input is returned unchanged)."""
    return images.float() / 255 if images.dtype == torch.uint8 else images


def load_dataset(name: str, root: Path | str = "data", train: bool = True,
                 size: int | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Load a named grey data set as ``(uint8 images (n, 1, h, w), int64 labels)``.

    The same loader as ``bionn train`` (:func:`bionn.experiments.data.load_data`), so real
    images are exactly the training images.

    Args:
        name: One of :data:`GREY_DATASETS`.
        root: torchvision data root for mnist / fashionmnist (raw layout, no download).
        train: The training split.
        size: Resize to ``size x size``; None keeps 28x28 (digits: upscaled to 28x28).

    Raises:
        ValueError: For an unknown name, or files missing under ``root`` (with a hint).

    """
    from bionn.experiments.data import load_data

    key = name.lower().replace("-", "").replace("_", "")
    if key not in GREY_DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(GREY_DATASETS)}")
    data = load_data(key, size=size or 28, channels=1, train=train, data_root=str(root))
    return data.images, data.labels


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

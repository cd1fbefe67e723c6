"""Image sets for the metrics: named grey data sets and folders of image files.

Named sets: ``mnist`` and ``fashionmnist`` through torchvision (``--data-root``, never
downloaded here) and ``digits``, scikit-learn's bundled 8x8 digits upscaled, which needs no
download; all three through the training loader (:func:`bionn.data.load_data`), so real images
are exactly the training images. Folders are read lazily (:func:`bionn.data.open_folder`): any
number of files, any mix of sizes and formats, each resized and centre-cropped to one size.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import torch
from torch import Tensor

from bionn.data import GREY_DATASETS, FolderImages, ImageData, load_data, open_folder

__all__ = ["GREY_DATASETS", "load_dataset", "load_folder", "to_float"]


def to_float(images: Tensor) -> Tensor:
    """uint8 images to float in [0, 1] (float input is returned unchanged)."""
    return images.float() / 255 if images.dtype == torch.uint8 else images


def load_dataset(
    name: str, root: Path | str = "data", train: bool = True, size: int | None = None
) -> tuple[Tensor, Tensor]:
    """Load a named grey data set as ``(uint8 images (n, 1, h, w), int64 labels)``.

    Args:
        name: One of :data:`GREY_DATASETS`.
        root: torchvision data root for mnist / fashionmnist (raw layout, no download).
        train: The training split.
        size: Resize to ``size x size``; None keeps 28x28 (digits: upscaled to 28x28).

    Raises:
        ValueError: For an unknown name, or files missing under ``root`` (with a hint).

    """
    key = name.lower().replace("-", "").replace("_", "")
    if key not in GREY_DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(GREY_DATASETS)}")
    split = load_data(key, size=size or 28, channels=1, train=train, data_root=str(root))
    data = cast(ImageData, split)  # only an image folder's test split can be missing
    return data.images, data.labels


def load_folder(
    folder: Path | str, size: int | None = None, channels: int = 3, limit: int | None = None
) -> FolderImages:
    """The images under ``folder`` (sorted, recursive), read lazily at ``size x size``.

    Args:
        folder: The image folder.
        size: Height and width of every image after resizing the shorter side and cropping the
            centre (default: the shorter side of the first image).
        channels: 3 (RGB) or 1 (grey).
        limit: Use the first ``limit`` files only.

    Raises:
        bionn.data.DataError: (a ``ValueError``) missing folder, no images; reading a batch
            raises it for an unreadable file, naming the file.

    """
    return open_folder(folder, size, channels, limit)

"""Named data sets as uint8 tensors: scikit-learn's embedded digits and torchvision sets.

Every source ends as :class:`ImageData` (``images`` uint8 (N, C, H, W) resized to the size
asked for, ``labels`` int64 (N,)). :func:`load_data` also accepts an image folder
(:func:`bionn.data.folders.load_image_folder`). MNIST / Fashion-MNIST / CIFAR-10 are read from
``data_root`` in torchvision's layout and downloaded only when asked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812

from bionn.data.base import DataError, ImageData
from bionn.data.folders import class_names, list_images, load_image_folder, test_folder

__all__ = ["DATASETS", "GREY_DATASETS", "fit_images", "load_data"]

DATASETS = ("digits", "mnist", "fashionmnist", "cifar10")
GREY_DATASETS = ("mnist", "fashionmnist", "digits")


def fit_images(images: torch.Tensor, size: int, channels: int) -> torch.Tensor:
    """uint8 (N, C, h, w) -> uint8 (N, channels, size, size): resize and convert colour.

    RGB becomes grey by ITU-R 601 luma (as PIL's ``convert('L')``); grey becomes RGB by
    repetition; resizing is bilinear with antialiasing, in chunks of 4,096 images.
    """
    if images.shape[1] == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        images = (images.float() * weights).sum(1, keepdim=True).round().to(torch.uint8)
    if images.shape[-1] != size or images.shape[-2] != size:
        resized = [
            F.interpolate(
                chunk.float(),
                size=(size, size),
                mode="bilinear",
                antialias=True,
                align_corners=False,
            )
            for chunk in images.split(4096)
        ]
        images = torch.cat(resized).round().clamp(0, 255).to(torch.uint8)
    return images.expand(-1, channels, -1, -1).contiguous()  # grey -> RGB after resizing


def _digits(size: int, channels: int, train: bool) -> ImageData:
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    bunch = load_digits()
    images = torch.from_numpy((bunch.images * (255.0 / 16.0)).round().astype(np.uint8))
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    cut = len(order) * 5 // 6
    chosen = order[:cut] if train else order[cut:]
    return ImageData(fit_images(images[chosen, None], size, channels), labels[chosen], 10, "digits")


def _torchvision(
    name: str, root: str, download: bool, size: int, channels: int | None, train: bool
) -> ImageData:
    from torchvision import datasets

    cls = {
        "mnist": datasets.MNIST,
        "fashionmnist": datasets.FashionMNIST,
        "cifar10": datasets.CIFAR10,
    }[name]
    try:
        data = cls(root=root, train=train, download=download)
    except (RuntimeError, OSError) as error:
        hint = (
            f"pass --download to fetch it into {root} (needs network)"
            if not download
            else "the download failed; fetch the files elsewhere and copy them there"
        )
        message = f"{cls.__name__} not found under --data-root {root!r}: {hint} ({error})"
        raise DataError(message) from error
    images = torch.as_tensor(data.data)
    images = images.permute(0, 3, 1, 2) if images.ndim == 4 else images[:, None]
    labels = torch.as_tensor(data.targets, dtype=torch.int64)
    channels = channels or images.shape[1]
    return ImageData(fit_images(images, size, channels), labels, 10, name)


def load_data(
    data: str,
    *,
    size: int,
    channels: int | None = None,
    train: bool = True,
    data_root: str = "data",
    download: bool = False,
    cache_dir: str = "",
    skip_corrupt: bool = False,
    workers: int = 0,
    progress: bool | None = None,
    test_data: str = "",
) -> ImageData | None:
    """One split of ``data``: 'digits', a torchvision name or an image folder.

    An image folder has one class per sub-folder. Its test split is ``test_data``, else the
    sibling ``test`` folder of a folder named ``train`` (:func:`~bionn.data.folders.test_folder`),
    labelled by the training folder's class names.

    Args:
        data: One of :data:`DATASETS` or a folder of images.
        size: Image height and width after resizing.
        channels: 1 or 3 (default: the data set's own; folders: 3).
        train: The training split, else the test split.
        data_root: torchvision data root.
        download: Let torchvision download a missing data set.
        cache_dir: Cache of decoded image folders.
        skip_corrupt: Skip unreadable images of a folder with a warning.
        workers: Processes decoding a folder.
        progress: Progress bar while decoding a folder (None: when stderr is a terminal).
        test_data: The test folder of an image-folder data set (default: see above).

    Returns:
        The split, or ``None`` for the test split of an image folder that has none.

    Raises:
        DataError: Unknown name, missing files (with a hint) or unreadable images.

    """
    name = data.lower()
    if name == "digits":
        return _digits(size, channels or 1, train)
    if name in DATASETS:
        return _torchvision(name, data_root, download, size, channels, train)
    if not Path(data).is_dir():
        raise DataError(f"unknown data set {data!r}: not one of {list(DATASETS)} and not a folder")
    folder, classes = Path(data), None
    if not train:
        test = Path(test_data) if test_data else test_folder(folder)
        if test is None:
            return None
        if not test.is_dir():
            raise DataError(f"--test-data {test_data!r} is not a folder")
        folder, classes = test, class_names(Path(data), list_images(data))
    return load_image_folder(
        folder,
        size,
        channels or 3,
        cache_dir=cache_dir,
        skip_corrupt=skip_corrupt,
        workers=workers,
        progress=progress,
        classes=classes,
    )

"""Training data as uint8 tensors in memory: embedded digits, torchvision sets, image folders.

Every source ends as :class:`ImageData` (``images`` uint8 (N, C, H, W) resized to the model's
size, ``labels`` int64 (N,)). Image folders are searched recursively, resized (shorter side) and
centre-cropped, decoded once and cached as a tensor file keyed by the folder's contents (paths,
sizes, modification times) and the target size, so later runs and epochs decode nothing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

__all__ = ["DATASETS", "DataError", "ImageData", "load_data", "load_image_folder"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
DATASETS = ("digits", "mnist", "fashionmnist", "cifar10")
_CACHE_VERSION = 1


class DataError(ValueError):
    """Data that cannot be loaded; the message says what to do."""


@dataclass
class ImageData:
    """Images and labels of one split.

    Attributes:
        images: uint8 tensor (N, C, H, W).
        labels: int64 tensor (N,).
        classes: Number of classes.
        name: Where the data came from.

    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: int
    name: str

    def __len__(self) -> int:
        return self.images.shape[0]


def _fit(images: torch.Tensor, size: int, channels: int) -> torch.Tensor:
    """uint8 (N, C, h, w) -> uint8 (N, channels, size, size): resize and convert colour."""
    if images.shape[1] == 3 and channels == 1:  # ITU-R 601 luma, as PIL's convert('L')
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        images = (images.float() * weights).sum(1, keepdim=True).round().to(torch.uint8)
    if images.shape[-1] != size or images.shape[-2] != size:
        resized = [
            F.interpolate(chunk.float(), size=(size, size), mode="bilinear", antialias=True,
                          align_corners=False)  # fmt: skip
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
    return ImageData(_fit(images[chosen, None], size, channels), labels[chosen], 10, "digits")


def _torchvision(name: str, root: str, download: bool, size: int, channels: int | None,
                 train: bool) -> ImageData:  # fmt: skip
    from torchvision import datasets

    cls = {"mnist": datasets.MNIST, "fashionmnist": datasets.FashionMNIST,
           "cifar10": datasets.CIFAR10}[name]  # fmt: skip
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
    raw = data.data
    images = torch.as_tensor(raw)
    images = images.permute(0, 3, 1, 2) if images.ndim == 4 else images[:, None]
    labels = torch.as_tensor(data.targets, dtype=torch.int64)
    channels = channels or images.shape[1]
    return ImageData(_fit(images, size, channels), labels, 10, name)


def _decode(args: tuple[str, int, int]) -> np.ndarray | str:
    """One image file -> uint8 (C, size, size), or the error text."""
    from PIL import Image

    path, size, channels = args
    try:
        with Image.open(path) as image:
            image = image.convert("RGB" if channels == 3 else "L")
            scale = size / min(image.size)
            w, h = max(size, round(image.width * scale)), max(size, round(image.height * scale))
            image = image.resize((w, h), Image.Resampling.BICUBIC)
            left, top = (w - size) // 2, (h - size) // 2
            array = np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.uint8)
    except Exception as error:  # noqa: BLE001 - PIL raises many types for broken files
        return f"{type(error).__name__}: {error}"
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1).copy()


def _cache_key(root: Path, files: list[Path], size: int, channels: int) -> str:
    digest = hashlib.sha256(f"{_CACHE_VERSION}:{root.resolve()}:{size}:{channels}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def load_image_folder(folder: str | Path, size: int, channels: int = 3, *, cache_dir: str = "",
                      skip_corrupt: bool = False, workers: int = 0) -> ImageData:  # fmt: skip
    """All images under ``folder`` (recursive) as uint8 (N, channels, size, size).

    Labels index the sub-folder of each file (sorted); a flat folder is one class. The decoded
    tensor is cached in ``cache_dir`` (default ``~/.cache/bionn``) under a key of the folder's
    contents and the size, and reused while the folder is unchanged.

    Raises:
        DataError: The folder is missing or holds no images, or some images cannot be decoded
            (unless ``skip_corrupt``: then they are skipped with a warning).

    """
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DataError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found under {root}")
    cache = Path(cache_dir or Path.home() / ".cache" / "bionn") / (
        f"{root.resolve().name}-{_cache_key(root, files, size, channels)}"
        f"{'-skip' if skip_corrupt else ''}.pt"
    )
    if cache.is_file():
        try:
            saved = torch.load(cache, weights_only=True)
            return ImageData(saved["images"], saved["labels"], int(saved["classes"]), str(root))
        except Exception:  # noqa: BLE001 - a broken cache is rebuilt, never trusted
            warnings.warn(f"ignoring unreadable cache {cache}; decoding again", stacklevel=2)
    jobs = [(str(p), size, channels) for p in files]
    if workers > 0:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            decoded = list(pool.map(_decode, jobs, chunksize=64))
    else:
        decoded = [_decode(job) for job in jobs]
    bad = [(p, d) for p, d in zip(files, decoded, strict=False) if isinstance(d, str)]
    if bad:
        listing = "\n".join(f"  {p}: {why}" for p, why in bad[:20])
        more = f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else ""
        if not skip_corrupt:
            raise DataError(f"{len(bad)} unreadable image(s) under {root} (pass --skip-corrupt "
                            f"to skip them):\n{listing}{more}")  # fmt: skip
        warnings.warn(f"skipping {len(bad)} unreadable image(s):\n{listing}{more}", stacklevel=2)
    good = [(p, d) for p, d in zip(files, decoded, strict=False) if not isinstance(d, str)]
    if not good:
        raise DataError(f"none of the {len(files)} images under {root} could be decoded")
    parents = sorted({str(p.parent.relative_to(root)) for p, _ in good})
    labels = torch.tensor([parents.index(str(p.parent.relative_to(root))) for p, _ in good])
    images = torch.from_numpy(np.stack([d for _, d in good]))
    _save_atomic({"images": images, "labels": labels, "classes": len(parents)}, cache)
    return ImageData(images, labels, len(parents), str(root))


def _save_atomic(obj: dict, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
        os.replace(tmp, path)
    except OSError as error:  # a cache we cannot write only costs time
        warnings.warn(f"cannot write the image cache {path}: {error}", stacklevel=3)


def load_data(data: str, *, size: int, channels: int | None = None, train: bool = True,
              data_root: str = "data", download: bool = False, cache_dir: str = "",
              skip_corrupt: bool = False, workers: int = 0) -> ImageData | None:  # fmt: skip
    """One split of ``data``: 'digits', a torchvision name or an image folder.

    Returns ``None`` for the test split of an image folder (folders have no split).
    """
    name = data.lower()
    if name == "digits":
        return _digits(size, channels or 1, train)
    if name in DATASETS:
        return _torchvision(name, data_root, download, size, channels, train)
    if not Path(data).is_dir():
        raise DataError(f"unknown data set {data!r}: not one of {list(DATASETS)} and not a folder")
    if not train:
        return None
    return load_image_folder(data, size, channels or 3, cache_dir=cache_dir,
                             skip_corrupt=skip_corrupt, workers=workers)  # fmt: skip

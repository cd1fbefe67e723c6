"""Folders of image files: listing, one-file-at-a-time decoding, and the cached training tensor.

Folders are searched recursively for the usual image formats. Each image is opened, decoded
and closed before the next one is touched, so any number of files works under a small open-file
limit and memory holds one batch of decoded images (:class:`FolderImages`) or, for training,
the final uint8 tensor only (:func:`load_image_folder`). Every image, whatever its size, mode or
format, is resized (shorter side to ``size``, bicubic) and centre-cropped to ``size x size``,
and converted to RGB or grey; a file that cannot be decoded raises :class:`DataError` naming it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bionn.data.base import DataError, ImageData
from bionn.data.files import save_torch
from bionn.data.progress import progress_bar

__all__ = [
    "IMAGE_SUFFIXES",
    "FolderImages",
    "class_names",
    "first_image_size",
    "list_images",
    "load_image_folder",
    "open_folder",
    "read_image",
    "test_folder",
]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_CACHE_VERSION = 1


def list_images(folder: str | Path) -> list[Path]:
    """All image files under ``folder`` (recursive, sorted).

    Raises:
        DataError: The folder is missing or holds no images.

    """
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DataError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found under {root}")
    return files


def class_names(root: Path, files: list[Path]) -> tuple[str, ...]:
    """The classes of a folder: its files' parent folders relative to ``root``, sorted.

    A flat folder is one class, named ``.``; ``train/cat/x.png`` under ``train`` is class ``cat``.
    """
    return tuple(sorted({str(path.parent.relative_to(root)) for path in files}))


def test_folder(folder: str | Path) -> Path | None:
    """The test split beside a training folder: ``.../train`` -> ``.../test``, if it exists.

    That is the layout of ImageFolder copies of CIFAR-10, ImageNet (``train`` / ``val`` is not
    guessed: name it with ``--test-data``) and of ``../CIFAR10-jpeg/{train,test}``.
    """
    root = Path(folder)
    sibling = root.parent / "test"
    return sibling if root.name == "train" and sibling.is_dir() else None


def read_image(path: str | Path, size: int, channels: int = 3) -> np.ndarray:
    """One image file as uint8 ``(channels, size, size)``; the file is closed on return.

    Raises:
        DataError: The file cannot be decoded (the message names it).

    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            image = image.convert("RGB" if channels == 3 else "L")
            scale = size / min(image.size)
            w, h = max(size, round(image.width * scale)), max(size, round(image.height * scale))
            image = image.resize((w, h), Image.Resampling.BICUBIC)
            left, top = (w - size) // 2, (h - size) // 2
            array = np.array(image.crop((left, top, left + size, top + size)), dtype=np.uint8)
    except Exception as error:  # noqa: BLE001 - PIL raises many types for broken files
        raise DataError(f"cannot read image {path}: {type(error).__name__}: {error}") from error
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1).copy()


def first_image_size(files: list[Path]) -> int:
    """The shorter side of the first image (a default size for a folder of one size)."""
    from PIL import Image

    try:
        with Image.open(files[0]) as image:
            return min(image.size)
    except Exception as error:  # noqa: BLE001 - PIL raises many types for broken files
        raise DataError(f"cannot read image {files[0]}: {error}") from error


@dataclass(frozen=True)
class FolderImages:
    """Image files read lazily, a batch at a time, as uint8 ``(b, channels, size, size)``.

    Attributes:
        files: The image files, in order.
        size: Height and width every image is resized and cropped to.
        channels: 1 (grey) or 3 (RGB).

    """

    files: tuple[Path, ...]
    size: int
    channels: int = 3

    def __len__(self) -> int:
        return len(self.files)

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        """Yield the images in batches; only one batch is decoded at a time."""
        for start in range(0, len(self.files), batch_size):
            chunk = self.files[start : start + batch_size]
            yield torch.from_numpy(
                np.stack([read_image(p, self.size, self.channels) for p in chunk])
            )


def open_folder(
    folder: str | Path, size: int | None = None, channels: int = 3, limit: int | None = None
) -> FolderImages:
    """The images under ``folder`` (recursive) as a lazy :class:`FolderImages`.

    Args:
        folder: The image folder.
        size: Target size (default: the shorter side of the first image).
        channels: 1 or 3.
        limit: Use only the first ``limit`` files (sorted by path).

    Raises:
        DataError: Missing folder, no images, or an unreadable first image.

    """
    files = list_images(folder)[:limit]
    return FolderImages(tuple(files), size or first_image_size(files), channels)


def _decode_or_error(job: tuple[Path, int, int]) -> np.ndarray | str:
    """:func:`read_image` for a process pool: the error text instead of raising."""
    try:
        return read_image(*job)
    except DataError as error:
        return str(error)


def _cache_key(root: Path, files: list[Path], size: int, channels: int) -> str:
    digest = hashlib.sha256(f"{_CACHE_VERSION}:{root.resolve()}:{size}:{channels}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def _decode_all(
    files: list[Path], size: int, channels: int, workers: int, progress: bool | None
) -> tuple[torch.Tensor, list[int], list[str]]:
    """Decode into one preallocated tensor; return it, the good indices and the error texts."""
    images = torch.empty(len(files), channels, size, size, dtype=torch.uint8)
    jobs = [(p, size, channels) for p in files]
    good: list[int] = []
    errors: list[str] = []
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 0 else None
    try:
        decoded = (
            pool.map(_decode_or_error, jobs, chunksize=64) if pool else map(_decode_or_error, jobs)
        )
        for index, result in enumerate(
            progress_bar(decoded, desc="decoding images", total=len(jobs), enabled=progress)
        ):
            if isinstance(result, str):
                errors.append(result)
            else:
                images[len(good)] = torch.from_numpy(result)
                good.append(index)
    finally:
        if pool:
            pool.shutdown()
    return images[: len(good)], good, errors


def load_image_folder(
    folder: str | Path,
    size: int,
    channels: int = 3,
    *,
    cache_dir: str = "",
    skip_corrupt: bool = False,
    workers: int = 0,
    progress: bool | None = None,
    classes: tuple[str, ...] | None = None,
) -> ImageData:
    """All images under ``folder`` (recursive) as uint8 (N, channels, size, size).

    Labels index the sub-folder of each file (sorted names, see :func:`class_names`); a flat
    folder is one class. ``classes`` (a training split's class names) labels a test split the
    same way: its sub-folders must be the same. The decoded tensor is cached in ``cache_dir``
    (default ``~/.cache/bionn``) under a key of the folder's contents and the size, and reused
    while the folder is unchanged.

    Raises:
        DataError: The folder is missing or holds no images, its classes differ from
            ``classes``, or some images cannot be decoded (unless ``skip_corrupt``: then they
            are skipped with a warning).

    """
    root = Path(folder)
    files = list_images(root)
    names = class_names(root, files)
    if classes is not None and names != tuple(classes):
        missing, extra = sorted(set(classes) - set(names)), sorted(set(names) - set(classes))
        raise DataError(
            f"the classes of {root} differ from the training split's: missing "
            f"{missing or 'none'}, not in training {extra or 'none'}"
        )
    cache = Path(cache_dir or Path.home() / ".cache" / "bionn") / (
        f"{root.resolve().name}-{_cache_key(root, files, size, channels)}"
        f"{'-skip' if skip_corrupt else ''}.pt"
    )
    if cache.is_file():
        try:
            saved = torch.load(cache, weights_only=True)
            return ImageData(saved["images"], saved["labels"], len(names), str(root), names)
        except Exception:  # noqa: BLE001 - a broken cache is rebuilt, never trusted
            logger.warning("ignoring unreadable cache %s; decoding again", cache)
    images, good, errors = _decode_all(files, size, channels, workers, progress)
    if errors:
        listing = "\n".join(f"  {why}" for why in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        if not skip_corrupt:
            raise DataError(
                f"{len(errors)} unreadable image(s) under {root} (pass --skip-corrupt "
                f"to skip them):\n{listing}{more}"
            )
        logger.warning("skipping %d unreadable image(s):\n%s%s", len(errors), listing, more)
    if not good:
        raise DataError(f"none of the {len(files)} images under {root} could be decoded")
    label_of = {name: label for label, name in enumerate(names)}
    labels = torch.tensor([label_of[str(files[i].parent.relative_to(root))] for i in good])
    try:
        save_torch({"images": images, "labels": labels, "classes": len(names)}, cache)
    except OSError as error:  # a cache we cannot write only costs time
        logger.warning("cannot write the image cache %s: %s", cache, error)
    return ImageData(images, labels, len(names), str(root), names)

"""Image sets read in batches: what feature extraction consumes without holding every image.

An :class:`ImageSet` has a length and yields uint8 ``(b, c, h, w)`` batches. Folders
(:class:`~bionn.data.folders.FolderImages`), tensors (:class:`TensorImages`) and a generator's
samples (``bionn.experiments.sampling.SampledImages``) all are; :class:`FittedImages` resizes
any of them, batch by batch, so both sides of a comparison have one size and channel count.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch

from bionn.data.datasets import fit_images

__all__ = ["FittedImages", "ImageSet", "TensorImages", "as_image_set"]


@runtime_checkable
class ImageSet(Protocol):
    """A sized set of images yielded as uint8 ``(b, c, h, w)`` batches."""

    def __len__(self) -> int:
        """Number of images."""
        ...

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        """Yield the images in batches of at most ``batch_size``."""
        ...


@dataclass(frozen=True)
class TensorImages:
    """Images already in memory, uint8 ``(n, c, h, w)``."""

    images: torch.Tensor

    def __len__(self) -> int:
        return self.images.shape[0]

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        """Yield consecutive slices (views, no copies)."""
        yield from self.images.split(batch_size)


@dataclass(frozen=True)
class FittedImages:
    """Another :class:`ImageSet` resized to ``size x size`` with ``channels`` channels."""

    source: ImageSet
    size: int
    channels: int

    def __len__(self) -> int:
        return len(self.source)

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        """Yield the source's batches through :func:`~bionn.data.datasets.fit_images`."""
        for batch in self.source.batches(batch_size):
            yield fit_images(batch, self.size, self.channels)


def as_image_set(images: torch.Tensor | ImageSet) -> ImageSet:
    """Wrap a tensor as :class:`TensorImages`; return an :class:`ImageSet` unchanged."""
    return TensorImages(images) if isinstance(images, torch.Tensor) else images

"""What every data source returns (:class:`ImageData`) and raises (:class:`DataError`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["DataError", "ImageData"]


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
        class_names: Label -> class name, where the source names them (a folder's sub-folders).

    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: int
    name: str
    class_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return self.images.shape[0]

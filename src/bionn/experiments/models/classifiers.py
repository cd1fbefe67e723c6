"""The classifiers of the schizophrenia paper and of the mouse repository's PyTorch tutorials.

- ``mlp``: Flatten -> Dense(512, relu, he_normal; schizo in the bio variant) -> Dense(classes).
- ``cnn``: Keras' CIFAR-10 CNN, Conv32-Conv32-Pool-Drop-Conv64-Conv64-Pool-Drop -> Dense(512;
  schizo) -> Dense(classes).
- ``vgg16``: VGG16 with BatchNorm, schizo convs in the last two blocks (reduction 0.6).
- ``mouse-mlp``: 784-1024-512-10, the middle layer an ``mLinear`` with grids 32 / 16, r = 0.4.
- ``lenet``: conv 6 k5 -> pool -> mouse conv 16 k5 (grids 3 / 4, r = 0.4) -> pool -> 120-84-10.

Every model returns logits; layers' input sizes follow the image size and channels.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from bionn.experiments.models._bio import Bio, BuildError

__all__ = ["CLASSIFIERS", "build_classifier"]

_VGG16 = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]


def _flat_features(features: nn.Module, channels: int, image_size: int) -> int:
    with torch.no_grad():
        return features(torch.zeros(1, channels, image_size, image_size)).numel()


def _mlp(channels: int, size: int, classes: int, width: int, bio: Bio) -> nn.Module:
    dense = bio.linear(channels * size * size, width)
    nn.init.kaiming_normal_(dense.weight, nonlinearity="relu")
    return nn.Sequential(nn.Flatten(), dense, nn.ReLU(), nn.Linear(width, classes))


def _cnn(channels: int, size: int, classes: int, width: int, bio: Bio) -> nn.Module:
    if size < 14:
        raise BuildError(f"the CIFAR CNN needs images of at least 14x14, got {size}")
    features = nn.Sequential(
        nn.Conv2d(channels, width, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(width, width, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Conv2d(width, 2 * width, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(2 * width, 2 * width, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
    )
    flat = _flat_features(features, channels, size)
    return nn.Sequential(features, bio.linear(flat, 512), nn.ReLU(), nn.Linear(512, classes))


def _vgg16(channels: int, size: int, classes: int, width: int, bio: Bio) -> nn.Module:
    if size < 32 or size % 32:
        raise BuildError(
            f"VGG16 pools five times: the image size must be a multiple of 32, got {size}"
        )
    layers: list[nn.Module] = []
    c_in = channels
    for index, block in enumerate(_VGG16):
        for c in block:
            c_out = c * width // 64
            layers += [
                bio.conv(c_in, c_out, 3, padding=1, bio=index >= 3),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
            ]
            c_in = c_out
        layers.append(nn.MaxPool2d(2))
    flat = c_in * (size // 32) ** 2
    return nn.Sequential(
        *layers,
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(flat, 512),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(512, classes),
    )


def _mouse_mlp(channels: int, size: int, classes: int, width: int, bio: Bio) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(channels * size * size, width),
        nn.ReLU(),
        bio.linear(width, width // 2, grids=(32 * width // 1024 or 1, 16 * width // 1024 or 1)),
        nn.ReLU(),
        nn.Linear(width // 2, classes),
    )


def _lenet(channels: int, size: int, classes: int, width: int, bio: Bio) -> nn.Module:
    if size < 16:
        raise BuildError(f"LeNet needs images of at least 16x16, got {size}")
    features = nn.Sequential(
        nn.Conv2d(channels, width, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        bio.conv(width, 16, 5, grids=(3, 4)),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
    )
    flat = _flat_features(features, channels, size)
    return nn.Sequential(
        features,
        nn.Linear(flat, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, classes),
    )


CLASSIFIERS: dict[str, Callable[[int, int, int, int, Bio], nn.Module]] = {
    "mlp": _mlp,
    "cnn": _cnn,
    "vgg16": _vgg16,
    "mouse-mlp": _mouse_mlp,
    "lenet": _lenet,
}


def build_classifier(
    name: str, *, channels: int, image_size: int, classes: int, width: int, bio: Bio
) -> nn.Module:
    """Return the classifier ``name`` for (channels, image_size) inputs and ``classes`` outputs."""
    if name not in CLASSIFIERS:
        raise BuildError(f"unknown classifier {name!r}; choose one of {sorted(CLASSIFIERS)}")
    return CLASSIFIERS[name](channels, image_size, classes, width, bio)

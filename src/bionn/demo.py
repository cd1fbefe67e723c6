"""``make demo``: a small model with mouse and schizophrenia layers and its usage table."""

from __future__ import annotations

import torch
from torch import nn

import bionn


def build_demo_model() -> nn.Module:
    """A tiny conv net: mouse conv, mouse transposed conv, schizophrenia linear head."""
    return nn.Sequential(
        nn.Conv2d(1, 64, 3, padding=1),
        nn.ReLU(),
        bionn.MouseConv2d(64, 128, 3, padding=1, usage=0.35),
        nn.ReLU(),
        bionn.MouseConvTranspose2d(128, 64, 4, stride=2, padding=1, radius=0.4),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        bionn.SchizoLinear(64, 64, usage=0.5, form="diagonal"),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def main() -> None:
    """Build the model, run a forward pass and print its usage report."""
    torch.manual_seed(0)
    model = build_demo_model()
    print(model)
    print("output shape:", tuple(model(torch.randn(2, 1, 16, 16)).shape))
    print(bionn.usage_report(model))


if __name__ == "__main__":
    main()

"""The network of the published removal analysis and its training (``MNIST_4layers*Nrm``).

Flatten -> Dense(512, relu, he_normal) -> Dense(512, relu, he_normal, no bias) -> Dense(10,
softmax), Adam, batch 32, categorical cross-entropy (Mizutani et al. 2022, Front. Neurorobot.
16:851471). Here the softmax sits in the loss (the model returns logits) and the Keras defaults
are kept where PyTorch's differ: truncated-normal He init, Glorot-uniform output layer, zero
biases, Adam epsilon 1e-7.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from tqdm.auto import tqdm

__all__ = ["ANALYSED_LAYER", "published_mlp", "train_classifier"]

# The layer the scripts analyse: the second hidden Dense (512 x 512, no bias).
ANALYSED_LAYER = "3"
# Keras' truncated normal keeps |z| <= 2 and divides the stddev by this to keep the variance.
_TRUNCATED_STD = 0.87962566103423978


def _he_normal(layer: nn.Linear) -> nn.Linear:
    std = math.sqrt(2.0 / layer.in_features) / _TRUNCATED_STD
    nn.init.trunc_normal_(layer.weight, std=std, a=-2 * std, b=2 * std)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def published_mlp(inputs: int = 784, width: int = 512, classes: int = 10) -> nn.Sequential:
    """The 4-layer MLP of the removal analysis; its analysed layer is ``model[3]``."""
    output = nn.Linear(width, classes)
    nn.init.xavier_uniform_(output.weight)
    nn.init.zeros_(output.bias)
    return nn.Sequential(
        nn.Flatten(),
        _he_normal(nn.Linear(inputs, width)),
        nn.ReLU(),
        _he_normal(nn.Linear(width, width, bias=False)),
        nn.ReLU(),
        output,
    )


def train_classifier(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    epochs: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
    description: str = "training",
) -> nn.Module:
    """Train ``model`` in place with Adam on float ``images`` already on its device.

    Each epoch visits the data in a fresh order drawn from ``seed``; the last batch may be
    smaller (as Keras' ``fit``).
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)  # Keras' epsilon
    model.train()
    bar = tqdm(range(epochs), desc=description, unit="epoch", disable=not progress, leave=False)
    for _ in bar:
        order = torch.randperm(len(labels), generator=generator).to(labels.device)
        total = 0.0
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            loss = F.cross_entropy(model(images[chosen]), labels[chosen])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(chosen)
        bar.set_postfix(loss=f"{total / len(order):.4f}")
    return model.eval()

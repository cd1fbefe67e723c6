"""Masked weights stay exactly zero through training, whatever the optimiser does.

The window is a buffer, so the optimiser only ever sees ``weight``; the gradient of a masked
entry is exactly zero (it is multiplied by the window), and the effective weight
``weight * window`` is zero there by construction. 50 steps per optimiser, with momentum and
(decoupled) weight decay, which are the usual ways a masked entry could drift.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

import bionn

OPTIMIZERS: dict[str, Callable[[list[nn.Parameter]], torch.optim.Optimizer]] = {
    "sgd-momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "adam": lambda p: torch.optim.Adam(p, lr=1e-2),
    "adamw-decay": lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1),
}

LAYERS: dict[str, tuple[Callable[..., nn.Module], tuple[int, ...]]] = {
    "linear": (lambda **kw: bionn.MouseLinear(24, 16, usage=0.4, **kw), (8, 24)),
    "conv2d": (lambda **kw: bionn.MouseConv2d(8, 12, 3, padding=1, radius=0.5, **kw), (4, 8, 6, 6)),
    "conv-transpose": (
        lambda **kw: bionn.MouseConvTranspose2d(8, 6, 4, stride=2, padding=1, radius=0.5, **kw),
        (4, 8, 5, 5),
    ),
    "linear-random": (
        lambda **kw: bionn.SchizoLinear(24, 16, usage=0.3, form="random", seed=9, **kw),
        (8, 24),
    ),
    "conv-kernel": (
        lambda **kw: bionn.SchizoConv2d(8, 12, 3, usage=0.5, form="kernel", seed=3, **kw),
        (4, 8, 6, 6),
    ),
}


def train(
    layer: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, steps: int = 50
) -> None:
    """Regress the layer onto a random target; check the masked gradient after every step."""
    target = torch.randn_like(layer(x))
    masked = ~layer.expanded_window()
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.mse_loss(layer(x), target).backward()
        assert bool((layer.weight.grad[masked] == 0).all()), "masked gradient must be zero"
        optimizer.step()


@pytest.mark.parametrize("optimizer_name", list(OPTIMIZERS))
@pytest.mark.parametrize("layer_name", list(LAYERS))
@pytest.mark.parametrize("scale_init", [True, False])
def test_masked_weights_stay_zero(layer_name: str, optimizer_name: str, scale_init: bool) -> None:
    factory, shape = LAYERS[layer_name]
    layer = factory(scale_init=scale_init)
    x = torch.randn(shape)
    masked = ~layer.expanded_window()
    assert bool(masked.any()) and bool((~masked).any())
    initial = layer.weight.detach().clone()
    train(layer, OPTIMIZERS[optimizer_name](list(layer.parameters())), x)
    with torch.no_grad():
        effective = layer.masked_weight()
        assert bool((effective[masked] == 0).all())
        # the kept weights did train (otherwise the checks above prove nothing)
        assert not torch.equal(layer.weight[~masked], initial[~masked])
        if scale_init:
            # scaled at init to zero, a masked entry never moves: no gradient, no decay
            assert bool((layer.weight[masked] == 0).all())
        layer.eval()
        assert bool((layer.masked_weight()[masked] == 0).all())


def test_gaussian_window_scales_the_gradient() -> None:
    layer = bionn.SchizoLinear(24, 16, usage=0.4, form="gaussian")
    x = torch.randn(8, 24)
    layer(x).sum().backward()
    # d(sum(x @ (w * g).T)) / dw = g * sum over the batch of x
    expected = layer.window * x.sum(0)[None, :]
    torch.testing.assert_close(layer.weight.grad, expected)

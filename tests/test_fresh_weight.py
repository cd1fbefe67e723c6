"""Forward always uses the current weight: no write path (``.data``, ``_foreach_lerp_`` EMA,
``load_state_dict``, ``.to()``) can leave it answering with an old one, in any grad mode."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import bionn

LAYERS: dict[str, Callable[[], nn.Module]] = {
    "mouse-linear": lambda: bionn.MouseLinear(16, 12, radius=0.5),
    "schizo-linear-gaussian": lambda: bionn.SchizoLinear(16, 12, usage=0.4, form="gaussian"),
    "mouse-conv": lambda: bionn.MouseConv2d(8, 12, 3, padding=1, radius=0.5),
    "schizo-convT": lambda: bionn.SchizoConvTranspose2d(8, 12, 3, usage=0.5, form="kernel", seed=1),
}
MODES = {
    "no_grad": torch.no_grad,
    "inference_mode": torch.inference_mode,
    "grad": contextlib.nullcontext,
}


def expected(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The output written out with the functional API and an explicit masked weight."""
    weight = layer.weight * layer.window.to(layer.weight.dtype)
    if isinstance(layer, nn.Linear):
        return F.linear(x, weight, layer.bias)
    if isinstance(layer, nn.ConvTranspose2d):
        return F.conv_transpose2d(x, weight, layer.bias, layer.stride, layer.padding)
    return F.conv2d(x, weight, layer.bias, layer.stride, layer.padding)


def sample(layer: nn.Module) -> torch.Tensor:
    channels = layer.in_features if isinstance(layer, nn.Linear) else layer.in_channels
    shape = (3, channels) if isinstance(layer, nn.Linear) else (2, channels, 5, 5)
    return torch.randn(shape, dtype=layer.weight.dtype)


def check_fresh(layer: nn.Module, x: torch.Tensor, mode: str) -> None:
    with MODES[mode]():
        torch.testing.assert_close(layer(x), expected(layer, x), rtol=0, atol=0)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("name", list(LAYERS))
def test_data_writes_are_seen_in_eval(name: str, mode: str) -> None:
    # the case: eval, forward, scale every parameter through .data, forward again
    layer = LAYERS[name]().eval()
    x = sample(layer)
    with MODES[mode]():
        first = layer(x)
    for parameter in layer.parameters():
        parameter.data.mul_(0.5)
    with MODES[mode]():
        second = layer(x)
    assert not torch.equal(first, second)
    check_fresh(layer, x, mode)


@pytest.mark.parametrize("name", list(LAYERS))
def test_foreach_lerp_ema_is_seen(name: str) -> None:
    # timm-style EMA: one fused in-place update of all parameters of a copy
    model = LAYERS[name]()
    ema = LAYERS[name]().eval()
    ema.load_state_dict(model.state_dict())
    x = sample(model)
    with torch.no_grad():
        before = ema(x)
        model.weight.add_(1.0)
        torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 0.5)
        after = ema(x)
    assert not torch.equal(before, after)
    check_fresh(ema, x, "no_grad")


@pytest.mark.parametrize("name", list(LAYERS))
def test_load_state_dict_and_to_are_seen(name: str) -> None:
    layer = LAYERS[name]().eval()
    x = sample(layer)
    with torch.no_grad():
        layer(x)
        layer.load_state_dict(
            {k: v + 1 if k == "weight" else v for k, v in layer.state_dict().items()}
        )
    check_fresh(layer, x, "no_grad")
    layer.double()
    check_fresh(layer, x.double(), "no_grad")
    assert layer.window.dtype == (torch.float64 if layer.form == "gaussian" else torch.bool)


def test_optimizer_step_then_eval_is_seen() -> None:
    layer = bionn.MouseConv2d(8, 8, 3, padding=1, radius=0.5)
    x = torch.randn(2, 8, 5, 5)
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.1)
    for _ in range(2):
        layer.train()
        layer(x).square().sum().backward()
        optimizer.step()
        layer.eval()
        check_fresh(layer, x, "inference_mode")
    masked = ~layer.expanded_window()
    assert bool((layer.weight.grad[masked] == 0).all()), "masked entries get no gradient"


def test_masked_weight_is_recomputed_and_keeps_the_bool_window() -> None:
    layer = bionn.MouseLinear(16, 16, radius=0.5).eval()
    with torch.no_grad():
        assert layer.masked_weight() is not layer.masked_weight(), "no hidden cache"
    assert layer.window.dtype == torch.bool
    assert [n for n, _ in layer.named_buffers()] == ["window"], "no float copy of the window"


def test_freeze_is_the_explicit_fast_path() -> None:
    layer = bionn.MouseLinear(16, 16, radius=0.5)
    with torch.no_grad():
        layer.weight.add_(1.0)  # masked entries non-zero: freeze must mask them
    x = torch.randn(3, 16)
    before = layer(x).detach()
    layer.freeze()
    assert layer.masked_weight() is layer.weight
    assert not layer.weight.requires_grad
    torch.testing.assert_close(layer(x), before)
    assert bool((layer.weight[~layer.expanded_window()] == 0).all())
    layer.unfreeze()
    assert layer.weight.requires_grad
    torch.testing.assert_close(layer(x), before)


def test_loading_into_a_frozen_layer_masks_the_loaded_weight() -> None:
    layer = bionn.MouseLinear(16, 16, radius=0.5).freeze()
    state = {**layer.state_dict(), "weight": torch.ones(16, 16)}
    layer.load_state_dict(state)
    torch.testing.assert_close(layer.weight, layer.window.float())

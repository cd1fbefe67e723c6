"""The windowed linear / convolution ops: equal to the plain ops on the masked weight, forward and
backward, blocked or not, under autocast and double backward, and keeping no masked copy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import bionn
from bionn.layers import _windowed_ops

Builder = Callable[[], nn.Module]

LAYERS: dict[str, tuple[Builder, tuple[int, ...]]] = {
    "linear": (lambda: bionn.MouseLinear(48, 40, radius=0.5), (5, 48)),
    "linear-3d-input": (
        lambda: bionn.SchizoLinear(48, 40, usage=0.3, form="random", seed=2),
        (2, 3, 48),
    ),
    "linear-no-bias": (lambda: bionn.MouseLinear(48, 40, radius=0.5, bias=False), (5, 48)),
    "linear-band": (lambda: bionn.SchizoLinear(48, 40, usage=0.3), (5, 48)),
    "linear-gaussian": (lambda: bionn.SchizoLinear(48, 40, usage=0.4, form="gaussian"), (5, 48)),
    "conv-groups-stride": (
        lambda: bionn.MouseConv2d(16, 32, 3, stride=2, padding=1, groups=2, radius=0.5),
        (2, 16, 9, 9),
    ),
    "conv-dilation-no-bias": (
        lambda: bionn.SchizoConv2d(
            16, 16, 3, dilation=2, bias=False, usage=0.4, form="individual", seed=1
        ),
        (2, 16, 9, 9),
    ),
    "conv-reflect": (
        lambda: bionn.MouseConv2d(16, 16, 3, padding=1, padding_mode="reflect", radius=0.5),
        (2, 16, 7, 7),
    ),
    "conv-same-even-kernel": (
        lambda: bionn.MouseConv2d(16, 16, 4, padding="same", radius=0.5),
        (2, 16, 7, 7),
    ),
    "convT": (
        lambda: bionn.MouseConvTranspose2d(
            16, 32, 5, stride=2, padding=2, output_padding=1, radius=0.5
        ),
        (2, 16, 4, 4),
    ),
    "convT-groups": (
        lambda: bionn.SchizoConvTranspose2d(
            16, 32, 3, stride=2, groups=2, usage=0.5, form="kernel", seed=3
        ),
        (2, 16, 4, 4),
    ),
}


def reference(layer: nn.Module) -> nn.Module:
    """The plain torch layer holding the masked weight as its own parameter (the oracle)."""
    plain = layer.to_plain()
    plain.load_state_dict({k: v for k, v in layer.state_dict().items() if k != "window"})
    with torch.no_grad():
        plain.weight.copy_(layer.masked_weight())
    return plain


def grads_of(layer: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> list[torch.Tensor]:
    x = x.detach().requires_grad_()
    layer.zero_grad(set_to_none=True)
    layer(x).backward(grad)
    return [x.grad, layer.weight.grad] + ([layer.bias.grad] if layer.bias is not None else [])


@pytest.mark.parametrize("blocks", ["one block", "many blocks"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_forward_and_gradients_equal_the_plain_op_on_the_masked_weight(
    name: str, blocks: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if blocks == "many blocks":  # a linear weight of 40 rows in blocks of 3 rows (and a rest)
        monkeypatch.setattr(_windowed_ops, "BLOCK_ELEMENTS", 3 * 48)
    build, shape = LAYERS[name]
    layer = build()
    if blocks == "many blocks" and name in ("linear", "linear-no-bias", "linear-band"):
        # the mouse and band windows reach only some columns of a block: those are multiplied
        assert any(c.stop - c.start < 48 for _, c in layer._blocks)
    with torch.no_grad():
        layer.weight.normal_()  # masked entries non-zero too: the window must remove them
    plain = reference(layer)
    x = torch.randn(shape)
    out = layer(x)
    torch.testing.assert_close(out, plain(x), rtol=1e-5, atol=1e-5)
    grad = torch.randn_like(out)
    ours, theirs = grads_of(layer, x, grad), grads_of(plain, x, grad)
    # the weight's gradient is the plain one, windowed (zero wherever the window is)
    theirs[1] = _windowed_ops.apply_window(theirs[1], layer.window)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["linear", "conv-groups-stride", "convT"])
def test_no_masked_copy_is_kept_for_backward(name: str) -> None:
    build, shape = LAYERS[name]
    layer = build()
    x = torch.randn(shape, requires_grad=True)
    saved: list[torch.Tensor] = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        layer(x)
    allowed = {t.data_ptr() for t in (x, layer.weight, layer.bias, layer.window)}
    assert saved and all(t.data_ptr() in allowed for t in saved), (
        "backward keeps a tensor that is not the input, weight, bias or window"
    )


def test_the_old_path_keeps_a_masked_copy_which_the_hook_test_sees() -> None:
    # the oracle of the test above: F.linear on an explicitly masked weight saves that copy
    layer = bionn.MouseLinear(48, 40, radius=0.5)
    x = torch.randn(5, 48, requires_grad=True)
    saved: list[torch.Tensor] = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        F.linear(x, layer.masked_weight(), layer.bias)
    allowed = {t.data_ptr() for t in (x, layer.weight, layer.bias, layer.window)}
    assert any(t.data_ptr() not in allowed for t in saved)


@pytest.mark.parametrize("name", ["linear", "linear-gaussian", "conv-groups-stride", "convT"])
def test_autocast_computes_in_bfloat16_and_returns_float32_gradients(name: str) -> None:
    build, shape = LAYERS[name]
    layer = build()
    plain = reference(layer)
    x = torch.randn(shape)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, expected = layer(x), plain(x)
    assert out.dtype == expected.dtype == torch.bfloat16
    torch.testing.assert_close(out, expected)
    grad = torch.randn_like(out)
    for parameter_grad, parameter in zip(
        grads_of(layer, x, grad)[1:], [layer.weight, layer.bias], strict=True
    ):
        assert parameter_grad.dtype == parameter.dtype == torch.float32


# small layers: gradgradcheck's numerical Jacobians cost one backward per input and weight entry
SMALL: dict[str, tuple[Builder, tuple[int, ...]]] = {
    "linear": (lambda: bionn.MouseLinear(12, 10, radius=0.5), (3, 12)),
    "linear-gaussian": (lambda: bionn.SchizoLinear(12, 10, usage=0.4, form="gaussian"), (3, 12)),
    "conv-groups-stride": (
        lambda: bionn.MouseConv2d(8, 8, 3, stride=2, padding=1, groups=2, radius=0.6),
        (1, 8, 3, 3),
    ),
    "convT": (
        lambda: bionn.MouseConvTranspose2d(
            8, 8, 3, stride=2, padding=1, output_padding=1, radius=0.6
        ),
        (1, 8, 3, 3),
    ),
}


@pytest.mark.parametrize("name", list(SMALL))
def test_double_backward_is_exact(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # gradient penalties (WGAN-GP, R1) differentiate the gradient: gradgradcheck in float64
    monkeypatch.setattr(_windowed_ops, "BLOCK_ELEMENTS", 3 * 12)  # linear: blocks of 3 rows
    build, shape = SMALL[name]
    layer = build().double()
    assert (layer.window != 1).any()  # the window changes the weight
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    weight = layer.weight.detach().clone().requires_grad_()

    def op(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(layer, {"weight": weight}, (x,))

    assert torch.autograd.gradcheck(op, (x, weight))
    assert torch.autograd.gradgradcheck(op, (x, weight), fast_mode=True)  # random projections


@pytest.mark.parametrize("name", ["linear", "linear-gaussian", "conv-groups-stride", "convT"])
def test_gradients_taken_with_create_graph_are_windowed(name: str) -> None:
    # create_graph=True (gradient penalties) runs backward's differentiable branch: its
    # gradients must be the same windowed ones; gradgradcheck alone cannot see this, since it
    # differentiates that branch against itself
    build, shape = LAYERS[name]
    layer = build()
    with torch.no_grad():
        layer.weight.normal_()  # masked entries non-zero too: the window must remove them
    plain = reference(layer)
    x = torch.randn(shape, requires_grad=True)
    out = layer(x)
    grad = torch.randn_like(out)
    ours = torch.autograd.grad(out, (x, layer.weight), grad, create_graph=True)
    assert all(g.requires_grad for g in ours)  # the differentiable branch ran
    theirs = list(torch.autograd.grad(plain(x), (x, plain.weight), grad))
    theirs[1] = _windowed_ops.apply_window(theirs[1], layer.window)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_a_large_linear_runs_in_blocks_of_bounded_size() -> None:
    layer = bionn.MouseLinear(1024, 4096, usage=0.35)  # 4 M weights: 4 blocks of 1 M
    assert len(layer._blocks) == 4
    assert all((r.stop - r.start) * 1024 <= _windowed_ops.BLOCK_ELEMENTS for r, _ in layer._blocks)


@pytest.mark.parametrize(
    "build",
    [
        lambda: bionn.MouseLinear(4096, 4096, usage=0.35),
        lambda: bionn.SchizoLinear(4096, 2048, usage=0.5),
        lambda: bionn.SchizoLinear(300, 200, usage=0.5, form="random", seed=0),
        lambda: bionn.SchizoLinear(300, 200, usage=0.2, form="gaussian"),
    ],
)
def test_blocks_reach_every_connection_and_skip_the_rest(build: Builder) -> None:
    layer = build()
    window = layer.window.numpy() != 0
    covered = np.zeros_like(window)
    for rows, columns in layer._blocks:
        covered[rows, columns] = True
        assert window[rows].any(axis=0)[columns][[0, -1]].all()  # the range is the hull
    assert covered.shape[0] == sum(r.stop - r.start for r, _ in layer._blocks)
    assert not (window & ~covered).any()


def test_mouse_and_band_blocks_multiply_a_fraction_of_the_inputs() -> None:
    # the saving the structured windows give: about 2/3 of a 4096 mouse layer, 1/2 of a band
    for layer, most in (
        (bionn.MouseLinear(4096, 4096, usage=0.35), 0.7),
        (bionn.SchizoLinear(4096, 4096, usage=0.5), 0.6),
    ):
        reached = sum((r.stop - r.start) * (c.stop - c.start) for r, c in layer._blocks)
        assert reached / layer.weight.numel() < most


def test_a_block_its_window_never_reaches_gives_the_bias_and_no_gradient() -> None:
    window = torch.ones(6, 5, dtype=torch.bool)
    window[:3] = False  # rows 0-2 are dead outputs: their block reaches no column
    blocks = ((slice(0, 3), slice(0, 0)), (slice(3, 6), slice(0, 5)))
    assert _windowed_ops.linear_blocks(window.numpy())[0][1].stop == 5  # one block here
    x = torch.randn(4, 5, requires_grad=True)
    weight, bias = torch.randn(6, 5, requires_grad=True), torch.randn(6, requires_grad=True)
    out = _windowed_ops.windowed_linear(x, weight, window, bias, blocks)
    torch.testing.assert_close(out, F.linear(x, weight * window, bias))
    out.sum().backward()
    assert torch.equal(weight.grad[:3], torch.zeros(3, 5))
    torch.testing.assert_close(x.grad, (weight * window).sum(0).expand(4, 5))


def test_every_entry_of_the_weight_gradient_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    # backward allocates the weight gradient uninitialised and writes each block's columns,
    # zeroing the rest; poison that memory with NaN so an entry left unwritten fails every time,
    # not only when the allocator happens to hand back non-zero memory
    monkeypatch.setattr(_windowed_ops, "BLOCK_ELEMENTS", 3 * 48)
    layer = bionn.MouseLinear(48, 40, radius=0.5)
    assert any(c.start > 0 for _, c in layer._blocks)  # columns left of a block's range
    assert any(c.stop < 48 for _, c in layer._blocks)  # and right of it
    empty_like = torch.empty_like
    monkeypatch.setattr(torch, "empty_like", lambda *a, **k: empty_like(*a, **k).fill_(np.nan))
    layer(torch.randn(5, 48)).sum().backward()
    assert layer.weight.grad is not None and bool(layer.weight.grad.isfinite().all())
    assert not layer.weight.grad[~layer.expanded_window()].any()


@pytest.mark.parametrize("shape", [(5, 48), (2, 3, 48)])
def test_an_in_place_op_may_follow_the_linear(shape: tuple[int, ...]) -> None:
    # VGG / ViT heads: Linear -> ReLU(inplace=True); the output must not be a view
    layer = bionn.MouseLinear(48, 40, radius=0.5)
    model = nn.Sequential(layer, nn.ReLU(inplace=True))
    x = torch.randn(shape)
    model(x).sum().backward()
    expected = F.relu(F.linear(x, layer.masked_weight().detach(), layer.bias.detach()))
    torch.testing.assert_close(model(x), expected)
    assert layer.weight.grad is not None and not layer.weight.grad[~layer.expanded_window()].any()

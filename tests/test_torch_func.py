"""``torch.func`` through the windowed layers: functional_call, grad, vmap, stack_module_state.

Users reach for ``torch.func`` for per-sample gradients, ensembles and meta-learning. The layers'
forward runs custom ``torch.autograd.Function``s (``bionn.layers._windowed_ops``) in eager mode;
under a transform it runs the same maths as composite ops, which every transform supports.

Every layer is built with ``scale_init=False``, so the raw weight is non-zero at masked entries:
a path that skipped the window would give a different output or gradient.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import torch
from torch import Tensor, nn
from torch.func import functional_call, grad, stack_module_state, vmap

import bionn

# name -> (factory, input shape of one batch)
LAYERS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "mouse-linear": (lambda: bionn.MouseLinear(12, 8, usage=0.4, scale_init=False), (5, 12)),
    "schizo-random-linear": (
        lambda: bionn.SchizoLinear(12, 8, usage=0.3, form="random", seed=5, scale_init=False),
        (5, 12),
    ),  # fmt: skip
    "schizo-gaussian-linear": (
        lambda: bionn.SchizoLinear(12, 8, usage=0.4, form="gaussian"),
        (5, 12),
    ),  # fmt: skip
    "mouse-conv2d": (
        lambda: bionn.MouseConv2d(4, 6, 3, padding=1, usage=0.5, scale_init=False),
        (2, 4, 5, 5),
    ),  # fmt: skip
    "schizo-individual-conv2d": (
        lambda: bionn.SchizoConv2d(4, 6, 3, usage=0.5, form="individual", seed=2, scale_init=False),
        (2, 4, 5, 5),
    ),
    "mouse-conv-transpose": (
        lambda: bionn.MouseConvTranspose2d(
            4, 6, 4, stride=2, padding=1, usage=0.5, scale_init=False
        ),
        (2, 4, 5, 5),
    ),
}


def plain_op(layer: nn.Module, weight: Tensor, bias: Tensor | None, x: Tensor) -> Tensor:
    """The plain torch layer's op with the layer's hyper-parameters and the given weight."""
    plain = layer.plain_class()
    if plain is nn.Linear:
        return nn.functional.linear(x, weight, bias)
    if plain is nn.Conv2d:
        return nn.functional.conv2d(x, weight, bias, layer.stride, layer.padding, layer.dilation,
                                    layer.groups)  # fmt: skip
    return nn.functional.conv_transpose2d(
        x,
        weight,
        bias,
        layer.stride,
        layer.padding,
        layer.output_padding,
        layer.groups,
        layer.dilation,
    )


def reference(layer: nn.Module, params: dict[str, Tensor], x: Tensor) -> Tensor:
    """The closed form: the plain op with ``weight * window``."""
    weight = params["weight"] * layer.window.to(params["weight"].dtype)
    return plain_op(layer, weight, params["bias"], x)


def fresh_params(layer: nn.Module) -> dict[str, Tensor]:
    """New values for every parameter, non-zero at masked entries too."""
    return {name: torch.randn_like(p) for name, p in layer.named_parameters()}


def masked_entries(layer: nn.Module) -> Tensor:
    masked = layer.expanded_window() == 0
    if layer.is_binary:
        assert bool(masked.any()) and bool((~masked).any()), "the window must mask something"
    return masked


@pytest.mark.parametrize("name", list(LAYERS))
def test_functional_call_equals_loaded_module(name: str) -> None:
    factory, shape = LAYERS[name]
    layer = factory()
    x = torch.randn(shape)
    params = fresh_params(layer)
    before = {n: p.detach().clone() for n, p in layer.named_parameters()}
    out = functional_call(layer, params, (x,))
    loaded = copy.deepcopy(layer)
    loaded.load_state_dict({**loaded.state_dict(), **params})
    assert torch.equal(out, loaded(x))
    torch.testing.assert_close(out, reference(layer, params, x))
    # and the substituted weights are masked: an unmasked forward differs
    assert not torch.allclose(out, plain_op(layer, params["weight"], params["bias"], x))
    for n, p in layer.named_parameters():  # the module's own parameters are untouched
        assert torch.equal(p, before[n])
    # the window stays a buffer: functional_call sees it as one, not as a parameter
    assert "window" in dict(layer.named_buffers()) and "window" not in params


@pytest.mark.parametrize("name", list(LAYERS))
def test_func_grad_is_masked_and_equals_autograd(name: str) -> None:
    factory, shape = LAYERS[name]
    layer = factory()
    x = torch.randn(shape)
    params = fresh_params(layer)

    def loss(p: dict[str, Tensor]) -> Tensor:
        return functional_call(layer, p, (x,)).square().sum()

    grads = grad(loss)(params)
    layer.load_state_dict({**layer.state_dict(), **params})
    layer(x).square().sum().backward()
    for n, p in layer.named_parameters():
        torch.testing.assert_close(grads[n], p.grad)
    masked = masked_entries(layer)
    assert bool((grads["weight"][masked] == 0).all())
    assert bool((grads["weight"][~masked] != 0).any())


@pytest.mark.parametrize("name", list(LAYERS))
def test_vmap_over_inputs_equals_loop(name: str) -> None:
    factory, shape = LAYERS[name]
    layer = factory()
    xs = torch.randn(3, *shape)  # three batches; each is an input the layer takes as it is
    expected = torch.stack([layer(x) for x in xs])
    torch.testing.assert_close(vmap(layer)(xs), expected)


@pytest.mark.parametrize("name", ["mouse-linear", "mouse-conv2d"])
def test_per_sample_grads_with_vmap_of_grad(name: str) -> None:
    """The usual per-sample-gradient recipe: ``vmap(grad(loss))`` over single samples."""
    factory, shape = LAYERS[name]
    layer = factory()
    xs = torch.randn(shape)
    params = {n: p.detach() for n, p in layer.named_parameters()}

    def loss(p: dict[str, Tensor], sample: Tensor) -> Tensor:
        return functional_call(layer, p, (sample[None],)).square().sum()

    per_sample = vmap(grad(loss), in_dims=(None, 0))(params, xs)
    masked = masked_entries(layer)
    for i, sample in enumerate(xs):
        layer.zero_grad()
        layer(sample[None]).square().sum().backward()
        torch.testing.assert_close(per_sample["weight"][i], layer.weight.grad)
        assert bool((per_sample["weight"][i][masked] == 0).all())


@pytest.mark.parametrize("name", list(LAYERS))
def test_vmap_over_stacked_parameter_sets_equals_loop(name: str) -> None:
    """An ensemble: models with the same window (same recipe and seed), different weights."""
    factory, shape = LAYERS[name]
    models = [factory() for _ in range(3)]
    for model in models[1:]:
        assert torch.equal(model.window, models[0].window)
        assert not torch.equal(model.weight, models[0].weight)
    params, buffers = stack_module_state(models)
    assert set(params) == {"weight", "bias"} and set(buffers) == {"window"}
    base = copy.deepcopy(models[0]).to("meta")
    x = torch.randn(shape)

    def call(p: dict[str, Tensor], b: dict[str, Tensor], x: Tensor) -> Tensor:
        return functional_call(base, (p, b), (x,))

    out = vmap(call, in_dims=(0, 0, None))(params, buffers, x)
    torch.testing.assert_close(out, torch.stack([m(x) for m in models]))


@pytest.mark.parametrize("name", list(LAYERS))
def test_frozen_layers_vmap_and_grad(name: str) -> None:
    """The way out today: a frozen layer runs the plain torch op, which functorch supports."""
    factory, shape = LAYERS[name]
    layer = factory()
    xs = torch.randn(3, *shape)
    expected = torch.stack([layer(x) for x in xs]).detach()  # unfrozen eager, window applied
    unfrozen = copy.deepcopy(layer)
    bionn.freeze(layer)
    torch.testing.assert_close(vmap(layer)(xs), expected)
    # grad w.r.t. the input through the frozen layer equals autograd through the unfrozen one
    x = torch.randn(shape, requires_grad=True)
    unfrozen(x).square().sum().backward()
    got = grad(lambda inp: layer(inp).square().sum())(x.detach())
    torch.testing.assert_close(got, x.grad)


@pytest.mark.parametrize("name", ["mouse-conv2d", "mouse-conv-transpose"])
def test_conv_takes_unbatched_input_as_the_plain_layer(name: str) -> None:
    """nn.Conv2d / nn.ConvTranspose2d take (C, H, W); per-sample vmap code relies on it."""
    factory, shape = LAYERS[name]
    layer = factory()
    x = torch.randn(shape[1:])
    torch.testing.assert_close(layer(x), layer(x[None])[0])

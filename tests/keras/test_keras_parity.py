"""Given the same weights, each Keras layer and its PyTorch twin compute the same outputs.

The PyTorch layer is the oracle: its outputs, as NumPy, are compared with the Keras layer's on
whatever Keras backend runs the tests. Kernels are filled with random values everywhere (also
where the window is zero), so the comparison also checks that both layers mask in ``call``.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

import bionn
import bionn.keras as mouse
from bionn import recipes

pytestmark = pytest.mark.keras

RNG = np.random.default_rng(0)


def _check(torch_layer, keras_layer, x_torch, to_keras_input, to_keras_kernel, from_keras_out):
    with torch.no_grad():
        torch_layer.weight.copy_(torch.from_numpy(RNG.standard_normal(torch_layer.weight.shape)))
        torch_layer.bias.copy_(torch.from_numpy(RNG.standard_normal(torch_layer.bias.shape)))
        expected = torch_layer(x_torch).numpy()
    x = to_keras_input(x_torch.numpy())
    keras_layer.build(x.shape)
    window = keras.ops.convert_to_numpy(keras_layer.window)
    torch_window = torch_layer.expanded_window().float().numpy()
    np.testing.assert_array_equal(window, to_keras_kernel(torch_window))
    assert keras_layer.usage == pytest.approx(torch_layer.usage, rel=1e-12)
    assert keras_layer.get_num_zeros() == torch_layer.get_num_zeros()
    assert keras_layer.get_num_weights() == torch_layer.get_num_weights()
    assert keras_layer.get_halfbandwidth() == pytest.approx(torch_layer.get_halfbandwidth())
    weight, bias = torch_layer.weight.detach().numpy(), torch_layer.bias.detach().numpy()
    keras_layer.set_weights([to_keras_kernel(weight), bias])
    out = from_keras_out(keras.ops.convert_to_numpy(keras_layer(x)))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def _nhwc(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def _nchw(x):
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def _conv_kernel(weight):  # torch (y, x, kh, kw) -> Keras (kh, kw, x, y), for both conv kinds
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0))


def _same(x):
    return x


DENSE_CASES = [
    ("diagonal", {"param_reduction": 0.5}),
    ("diagonal", {"halfbandwidth": 3.0}),
    ("gaussian", {"param_reduction": 0.7}),
    ("2d", {"input2d_width": 8, "output2d_width": 6, "window2d_width": 0.5}),
    ("random", {"param_reduction": 0.6, "seed": 7}),
    ("individual", {"param_reduction": 0.6, "seed": 8}),
]


@pytest.mark.parametrize(("form", "args"), DENSE_CASES)
def test_mdense_matches_mlinear(form, args):
    torch_layer = bionn.mLinear(64, 48, form=form, **args)
    keras_layer = mouse.mDense(48, form=form, **args)
    _check(torch_layer, keras_layer, torch.randn(5, 64), _same, lambda w: w.T.copy(), _same)


@pytest.mark.parametrize("form", ["diagonal", "gaussian", "random"])
def test_szdense_matches_szlinear(form):
    torch_layer = bionn.SzLinear(40, 30, param_reduction=0.6, form=form, seed=3)
    keras_layer = mouse.SzDense(30, param_reduction=0.6, form=form, seed=3)
    _check(torch_layer, keras_layer, torch.randn(4, 40), _same, lambda w: w.T.copy(), _same)


def test_clean_dense_layers_match_torch():
    pairs = [
        (
            bionn.MouseLinear(36, 24, usage=0.4, out_grid=(4, 6)),
            mouse.MouseDense(24, usage=0.4, out_grid=(4, 6)),
        ),
        (
            bionn.SchizoLinear(36, 24, usage=0.3, form="random", seed=5),
            mouse.SchizoDense(24, usage=0.3, form="random", seed=5),
        ),
        (
            bionn.SchizoLinear(36, 24, usage=0.3, form="gaussian"),
            mouse.SchizoDense(24, usage=0.3, form="gaussian"),
        ),
    ]
    for torch_layer, keras_layer in pairs:
        _check(torch_layer, keras_layer, torch.randn(3, 36), _same, lambda w: w.T.copy(), _same)


CONV_CASES = [
    ("2d", {"input2d_width": 4, "output2d_width": 4, "window2d_width": 0.6}, 1),
    ("diagonal", {"param_reduction": 0.5}, 2),
    ("individual", {"param_reduction": 0.5, "seed": 11}, 1),
    ("kernel", {"param_reduction": 0.4, "seed": 12}, 2),
    ("random", {"param_reduction": 0.4, "seed": 13}, 1),
]


@pytest.mark.parametrize(("form", "args", "groups"), CONV_CASES)
def test_mconv2d_matches_mconv2d(form, args, groups):
    torch_layer = bionn.mConv2d(16, 24, 3, stride=2, groups=groups, form=form, **args)
    keras_layer = mouse.mConv2D(24, 3, strides=2, groups=groups, form=form, **args)
    _check(torch_layer, keras_layer, torch.randn(2, 16, 9, 9), _nhwc, _conv_kernel, _nchw)


def test_clean_conv_layers_match_torch():
    pairs = [
        (bionn.MouseConv2d(16, 24, 3, usage=0.35), mouse.MouseConv2D(24, 3, usage=0.35)),
        (
            bionn.SchizoConv2d(16, 24, 3, usage=0.5, form="kernel", seed=2),
            mouse.SchizoConv2D(24, 3, usage=0.5, form="kernel", seed=2),
        ),
        (
            bionn.SzConv2d(16, 24, 3, param_reduction=0.3, form="individual", seed=4),
            mouse.SzConv2D(24, 3, param_reduction=0.3, form="individual", seed=4),
        ),
    ]
    for torch_layer, keras_layer in pairs:
        _check(torch_layer, keras_layer, torch.randn(2, 16, 7, 7), _nhwc, _conv_kernel, _nchw)


@pytest.mark.parametrize(
    ("form", "args"),
    [
        ("2d", {"input2d_width": 4, "output2d_width": 8, "window2d_width": 0.5}),
        ("diagonal", {"param_reduction": 0.5}),
        ("kernel", {"param_reduction": 0.5, "seed": 21}),
    ],
)
def test_mconv2dtranspose_matches_mconvtranspose2d(form, args):
    torch_layer = bionn.mConvTranspose2d(16, 12, 4, stride=2, form=form, **args)
    keras_layer = mouse.mConv2DTranspose(12, 4, strides=2, form=form, **args)
    _check(torch_layer, keras_layer, torch.randn(2, 16, 5, 5), _nhwc, _conv_kernel, _nchw)


def test_mouse_conv2dtranspose_matches_torch_grids_by_data_flow():
    torch_layer = bionn.MouseConvTranspose2d(24, 12, 3, radius=0.4, in_grid=(4, 6), out_grid=(3, 4))
    keras_layer = mouse.MouseConv2DTranspose(12, 3, radius=0.4, in_grid=(4, 6), out_grid=(3, 4))
    _check(torch_layer, keras_layer, torch.randn(2, 24, 4, 4), _nhwc, _conv_kernel, _nchw)


@pytest.mark.parametrize(("form", "seed"), [("diagonal", None), ("kernel", 4), ("individual", 5)])
def test_schizo_conv2dtranspose_matches_torch(form, seed):
    torch_layer = bionn.SchizoConvTranspose2d(16, 12, 4, stride=2, usage=0.4, form=form, seed=seed)
    keras_layer = mouse.SchizoConv2DTranspose(12, 4, strides=2, usage=0.4, form=form, seed=seed)
    _check(torch_layer, keras_layer, torch.randn(2, 16, 5, 5), _nhwc, _conv_kernel, _nchw)


def test_dilated_same_padding_conv_matches_torch():
    torch_layer = bionn.mConv2d(8, 12, 3, padding="same", dilation=2, form="diagonal")
    keras_layer = mouse.mConv2D(12, 3, padding="same", dilation_rate=2, form="diagonal")
    _check(torch_layer, keras_layer, torch.randn(2, 8, 9, 9), _nhwc, _conv_kernel, _nchw)


@pytest.mark.skipif(
    keras.backend.backend() == "tensorflow", reason="TensorFlow's CPU conv is channels_last only"
)
def test_channels_first_conv_matches_torch():
    torch_layer = bionn.mConv2d(8, 12, 3, form="kernel", seed=3)
    keras_layer = mouse.mConv2D(12, 3, data_format="channels_first", form="kernel", seed=3)
    _check(torch_layer, keras_layer, torch.randn(2, 8, 6, 6), _same, _conv_kernel, _same)


def test_windowed_layers_match_torch_for_the_same_recipe():
    # One recipe object, given to both frameworks' windowed class of each layer type.
    band, random, grid = (
        recipes.schizo("diagonal", usage=0.4),
        recipes.schizo("kernel", 0.5, 9),
        recipes.mouse(radius=0.5, x_grid=(2, 8)),
    )
    _check(
        bionn.WindowedLinear(16, 12, recipe=grid),
        mouse.WindowedDense(12, recipe=grid),
        torch.randn(3, 16),
        _same,
        lambda w: w.T.copy(),
        _same,
    )
    _check(
        bionn.WindowedConv2d(16, 12, 3, recipe=random),
        mouse.WindowedConv2D(12, 3, recipe=random),
        torch.randn(2, 16, 6, 6),
        _nhwc,
        _conv_kernel,
        _nchw,
    )
    _check(
        bionn.WindowedConvTranspose2d(12, 16, 3, recipe=band),
        mouse.WindowedConv2DTranspose(16, 3, recipe=band),
        torch.randn(2, 12, 4, 4),
        _nhwc,
        _conv_kernel,
        _nchw,
    )

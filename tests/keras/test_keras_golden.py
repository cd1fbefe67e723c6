"""The Keras layers reproduce the original code's masks in tests/data/golden exactly."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import bionn.keras as mouse
from test_spec_oracle import golden_cases, golden_masks

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def golden():
    masks = golden_masks()
    return {case["key"]: (case, masks[case["key"]]) for case in golden_cases()}


def _layer_and_input(case):
    params = dict(case["params"])
    n_in, n_out = case["in_channels"], case["out_channels"]
    if case["kind"] == "linear":
        return mouse.mDense(n_out, **params), np.zeros((1, n_in), "float32")
    if case["kind"] == "gaussian":
        return mouse.mDense(n_out, form="gaussian", **params), np.zeros((1, n_in), "float32")
    # The x-y window is the same at every kernel position: a 1x1 kernel keeps this fast.
    layer_class = mouse.mConv2D if case["kind"] == "conv2d" else mouse.mConv2DTranspose
    return layer_class(n_out, 1, **params), np.zeros((1, 1, 1, n_in), "float32")


KEYS = [f"case{i:03d}" for i in range(19)]


@pytest.mark.filterwarnings("ignore:.*(dead|outside the unit plane)")
@pytest.mark.parametrize("key", KEYS)
def test_golden_mask(golden, key):
    case, expected = golden[key]
    layer, x = _layer_and_input(case)
    layer(x)
    window = keras.ops.convert_to_numpy(layer.window).reshape(layer.window.shape[-2:])  # (x, y)
    assert layer.usage == pytest.approx(case["usage"], rel=1e-12, abs=1e-12)
    if case["kind"] == "gaussian":  # golden: Keras orientation (in, out), float32 here
        np.testing.assert_allclose(window, expected, rtol=1e-6)
    elif case["kind"] == "conv_transpose2d":  # golden (in, out); Keras x = out, y = in
        np.testing.assert_array_equal(window.T, expected)
    else:  # golden (out, in); Keras (in, out)
        np.testing.assert_array_equal(window.T, expected)


def test_conv_window_repeats_over_kernel_positions(golden):
    case, expected = golden["case000"]
    layer = mouse.mConv2D(case["out_channels"], 3, **case["params"])
    layer(np.zeros((1, 5, 5, case["in_channels"]), "float32"))
    window = keras.ops.convert_to_numpy(layer.window)
    assert window.shape == (3, 3, 64, 64)
    for i in range(3):
        for j in range(3):
            np.testing.assert_array_equal(window[i, j].T, expected)
    assert layer.get_num_weights() == 9 * expected.size
    assert layer.get_num_zeros() == 9 * int((~expected).sum())

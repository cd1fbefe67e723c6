"""The window is a constant: no optimiser sees it, masked effective weights stay exactly zero."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import bionn.keras as mouse

pytestmark = pytest.mark.keras


def _model():
    return keras.Sequential(
        [
            keras.Input((6, 6, 4)),
            mouse.mConv2D(8, 3, padding="same", form="individual", param_reduction=0.5, seed=1),
            mouse.mConv2DTranspose(4, 3, strides=2, form="diagonal", activation="relu"),
            keras.layers.Flatten(),
            mouse.MouseDense(36, usage=0.4),
            mouse.SchizoDense(10, usage=0.3, form="random", seed=2),
        ]
    )


@pytest.mark.parametrize(
    "optimizer",
    [keras.optimizers.Adam(0.01), keras.optimizers.AdamW(0.01, weight_decay=0.5)],
    ids=["adam", "adamw"],
)
def test_masked_weights_stay_zero_through_fit(optimizer):
    model = _model()
    windowed = [layer for layer in model.layers if isinstance(layer, mouse.WindowedKerasLayer)]
    before = [keras.ops.convert_to_numpy(layer.kernel).copy() for layer in windowed]
    windows = [keras.ops.convert_to_numpy(layer.window).copy() for layer in windowed]
    model.compile(optimizer=optimizer, loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 6, 6, 4), "float32"), rng.random((32, 10), "float32")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    for layer, kernel0, window in zip(windowed, before, windows, strict=True):
        assert [v.path.split("/")[-1] for v in layer.weights] == ["kernel", "bias"]
        assert len(layer.trainable_weights) == 2 and not layer.non_trainable_weights
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.window), window)
        effective = keras.ops.convert_to_numpy(layer.masked_kernel())
        assert np.all(effective[window == 0] == 0)
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        assert not np.allclose(kernel[window != 0], kernel0[window != 0])  # it did train


def test_window_is_not_a_variable_of_the_model():
    model = _model()
    n_params = sum(int(np.prod(v.shape)) for v in model.weights)
    kernels_and_biases = sum(
        int(np.prod(layer.kernel.shape)) + int(np.prod(layer.bias.shape))
        for layer in model.layers
        if isinstance(layer, mouse.WindowedKerasLayer)
    )
    assert n_params == kernels_and_biases
    assert model.count_params() == n_params


def test_lazily_built_model_is_scaled_and_masked():
    # No Input: Keras builds the layers inside fit, in a stateless (JAX: traced) scope.
    model = keras.Sequential(
        [
            mouse.mConv2D(8, 3, form="2d", input2d_width=2, output2d_width=4, window2d_width=0.5),
            keras.layers.Flatten(),
            mouse.SzDense(3, param_reduction=0.5),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.random((4, 5, 5, 4), "float32"), rng.random((4, 3), "float32"), verbose=0)
    for layer in (model.layers[0], model.layers[2]):
        window = keras.ops.convert_to_numpy(layer.window)
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        assert 0 < np.count_nonzero(window) < window.size
        assert np.all(kernel[window == 0] == 0)  # scaled at initialisation, lr 0 kept it


def test_mixed_precision_policy():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        layer = mouse.MouseConv2D(8, 3, usage=0.5)
        out = layer(np.ones((1, 5, 5, 4), "float32"))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(layer.window.dtype) == "float32"

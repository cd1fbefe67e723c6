"""``.keras`` round trips, configs, and refusal of weights saved under another window."""

from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
import pytest

import bionn.keras as mouse
from bionn import recipes

pytestmark = pytest.mark.keras

DENSE_LAYERS = [
    lambda: mouse.mDense(12, form="2d", input2d_width=4, output2d_width=4, window2d_width=0.5),
    lambda: mouse.mDense(12, form="gaussian", param_reduction=0.6),
    lambda: mouse.mDense(12, form="random", param_reduction=0.6),  # seed drawn, then recorded
    lambda: mouse.SzDense(12, 0, 0.5, "diagonal", activation="relu"),
    # NumPy scalars are accepted like Python's and stored as Python values in the config.
    lambda: mouse.mDense(12, param_reduction=np.float32(0.3), form="random", seed=np.int64(3)),
    lambda: mouse.MouseDense(12, usage=0.4, in_grid=(4, 4)),
    lambda: mouse.SchizoDense(12, usage=0.5, form="random"),
    lambda: mouse.WindowedDense(12, recipe=recipes.mouse(radius=0.5, x_grid=(2, 8))),
    lambda: mouse.WindowedDense(12, recipe=recipes.schizo("gaussian", usage=0.3)),
]
CONV_LAYERS = [
    lambda: mouse.mConv2D(8, 3, form="kernel", param_reduction=0.5),
    lambda: mouse.mConv2D(
        8, 3, form="2d", input2d_width=4, output2d_width=4, window2d_width=0.6, groups=2
    ),
    lambda: mouse.SzConv2D(8, (3, 3), 0.4, "individual", padding="same"),
    lambda: mouse.MouseConv2D(8, 3, radius=0.5),
    lambda: mouse.SchizoConv2D(8, 3, usage=0.6, form="kernel"),
    lambda: mouse.mConv2DTranspose(8, 3, strides=2, form="individual", param_reduction=0.3),
    lambda: mouse.MouseConv2DTranspose(8, 3, usage=0.5, out_grid=(2, 4)),
    lambda: mouse.SchizoConv2DTranspose(8, 3, usage=0.5, form="individual"),
    lambda: mouse.WindowedConv2D(8, 3, recipe=recipes.schizo("kernel", usage=0.5, seed=3)),
    lambda: mouse.WindowedConv2DTranspose(8, 3, recipe=recipes.mouse(usage=0.4)),
]


def _model(make_layer):
    layer = make_layer()
    shape = (16,) if isinstance(layer, keras.layers.Dense) else (5, 5, 16)
    return keras.Sequential([keras.Input(shape), layer]), np.random.default_rng(0).random(
        (3, *shape), "float32"
    )


@pytest.mark.parametrize("make_layer", DENSE_LAYERS + CONV_LAYERS)
def test_keras_file_round_trip(make_layer, tmp_path):
    model, x = _model(make_layer)
    layer = model.layers[-1]
    # Make masked raw kernel entries non-zero: the reload must mask them the same way.
    layer.kernel.assign(np.random.default_rng(1).standard_normal(layer.kernel.shape))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    twin = loaded.layers[-1]
    assert type(twin) is type(layer) and twin.get_config() == layer.get_config()
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(twin.window), keras.ops.convert_to_numpy(layer.window)
    )
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x))
    )


def test_random_forms_record_their_seed():
    layer = mouse.mConv2D(8, 3, form="individual")
    seed = layer.get_config()["seed"]
    assert isinstance(seed, int)
    twin = mouse.mConv2D.from_config(layer.get_config())
    for one in (layer, twin):
        one.build((None, 5, 5, 4))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer.window), keras.ops.convert_to_numpy(twin.window)
    )
    other = mouse.mConv2D(8, 3, form="individual", seed=seed + 1)
    other.build((None, 5, 5, 4))
    assert not np.array_equal(
        keras.ops.convert_to_numpy(layer.window), keras.ops.convert_to_numpy(other.window)
    )


def test_weights_of_another_window_are_refused(tmp_path):
    model, _ = _model(lambda: mouse.mDense(12, form="random", seed=1))
    model.save_weights(tmp_path / "w.weights.h5")
    other, _ = _model(lambda: mouse.mDense(12, form="random", seed=2))
    with pytest.raises(ValueError, match="mDense .*another window"):
        other.load_weights(tmp_path / "w.weights.h5")
    same, _ = _model(lambda: mouse.mDense(12, form="random", seed=1))
    same.load_weights(tmp_path / "w.weights.h5")


def test_keras_file_with_edited_window_config_is_refused(tmp_path):
    model, _ = _model(lambda: mouse.MouseDense(12, usage=0.4))
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as src:
        files = {name: src.read(name) for name in src.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][-1]["config"]["usage"] = 0.8
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "edited.keras", "w") as dst:
        for name, data in files.items():
            dst.writestr(name, data)
    with pytest.raises(ValueError, match="MouseDense .*another window"):
        keras.models.load_model(tmp_path / "edited.keras")


def test_plain_dense_variables_load_into_windowed_layer():
    # A plain Dense stores "0" (kernel) and "1" (bias) and no checksum: accepted, then masked.
    plain = keras.layers.Dense(12)
    plain.build((None, 16))
    store = {str(i): keras.ops.convert_to_numpy(v) for i, v in enumerate(plain.weights)}
    model, x = _model(lambda: mouse.mDense(12, form="diagonal"))
    layer = model.layers[-1]
    layer.load_own_variables(store)
    window = keras.ops.convert_to_numpy(layer.window)
    expected = x @ (store["0"] * window) + store["1"]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, rtol=1e-5, atol=1e-6)

"""Public surface of ``bionn.keras``: names, no backend imports, window, scaling, summary."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import bionn.keras as mouse
from bionn import recipes

pytestmark = pytest.mark.keras

SEED_NAMES = {"mDense", "mConv2D", "mConv2DTranspose", "SzDense", "SzConv2D"}
CLEAN_NAMES = {
    "MouseDense",
    "MouseConv2D",
    "MouseConv2DTranspose",
    "SchizoDense",
    "SchizoConv2D",
    "SchizoConv2DTranspose",
}
KERAS_TYPES = {
    "WindowedDense": keras.layers.Dense,
    "WindowedConv2D": keras.layers.Conv2D,
    "WindowedConv2DTranspose": keras.layers.Conv2DTranspose,
}


def test_one_windowed_class_per_keras_type():
    assert SEED_NAMES | CLEAN_NAMES | set(KERAS_TYPES) <= set(mouse.__all__)
    for name, keras_type in KERAS_TYPES.items():
        assert issubclass(getattr(mouse, name), (mouse.WindowedKerasLayer, keras_type))
    for name in SEED_NAMES | CLEAN_NAMES:
        windowed = [base for base in getattr(mouse, name).__mro__ if base.__name__ in KERAS_TYPES]
        assert len(windowed) == 1, name


def test_import_does_not_load_torch():
    if keras.backend.backend() == "torch":
        pytest.skip("the torch backend imports torch itself")
    code = "import sys, bionn.keras; print(sorted(m for m in sys.modules if m.startswith('torch')))"
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "[]"


def test_windowed_layer_takes_a_recipe_and_records_it():
    recipe = recipes.mouse(usage=0.4, x_grid=(4, 4))
    layer = mouse.WindowedDense(12, activation="relu", recipe=recipe)
    layer.build((None, 16))
    twin = mouse.MouseDense(12, activation="relu", usage=0.4, in_grid=(4, 4))
    twin.build((None, 16))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer.window), keras.ops.convert_to_numpy(twin.window)
    )
    config = layer.get_config()
    assert config["recipe"]["class_name"] == "MouseRecipe" and config["scale_init"] is True
    assert mouse.WindowedDense.from_config(config).recipe == recipe


def test_get_config_holds_every_argument():
    # Each class's config names every argument of its signature, so from_config rebuilds it.
    layers = {
        mouse.mDense: mouse.mDense(8, 0, 0.3, "random", seed=5, scale_init=False),
        mouse.SzConv2D: mouse.SzConv2D(8, 3, 0.4, "kernel", "relu", "same", seed=1),
        mouse.MouseConv2DTranspose: mouse.MouseConv2DTranspose(8, 3, radius=0.5, in_grid=(2, 8)),
        mouse.SchizoConv2DTranspose: mouse.SchizoConv2DTranspose(8, 3, usage=0.5, form="kernel"),
    }
    for cls, layer in layers.items():
        config = layer.get_config()
        parameters = inspect.signature(cls).parameters.values()
        own = [p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        # Keras' own get_config omits these (plain Dense / Conv2D too).
        keras_names = ("activity_regularizer", "lora_rank", "lora_alpha", "quantization_config")
        assert set(own) - set(keras_names) <= set(config), cls.__name__
        assert cls.from_config(config).get_config() == config
    assert layers[mouse.mDense].get_config()["seed"] == 5
    assert layers[mouse.MouseConv2DTranspose].get_config()["in_grid"] == (2, 8)


def test_sources_use_keras_ops_only():
    package = Path(mouse.__file__).parent
    pattern = re.compile(r"^\s*(import|from)\s+(tensorflow|jax|torch)\b", re.MULTILINE)
    for path in package.glob("*.py"):
        assert not pattern.search(path.read_text()), path.name


def test_window_in_kernel_shape_once_built():
    layer = mouse.mConv2DTranspose(6, (3, 2), form="kernel", param_reduction=0.5, seed=0)
    assert layer.window is None and layer.usage is None
    layer.build((None, 4, 4, 10))
    assert tuple(layer.window.shape) == tuple(layer.kernel.shape) == (3, 2, 6, 10)
    assert isinstance(layer.usage, float)
    window = keras.ops.convert_to_numpy(layer.window)
    assert np.all(window == window[:1, :1])  # 'kernel': one draw per channel pair
    assert layer.get_reduced_ratio() == pytest.approx(1 - layer.usage)
    assert layer.get_num_zeros() == window.size - np.count_nonzero(window)


@pytest.mark.parametrize(
    ("form", "scaled"), [("diagonal", True), ("2d", True), ("gaussian", False)]
)
def test_initial_scaling_as_spec(form, scaled):
    def make(scale_init):
        init = keras.initializers.GlorotUniform(seed=3)
        widths = {"input2d_width": 4, "output2d_width": 4, "window2d_width": 0.5}
        layer = mouse.mDense(
            12, form=form, kernel_initializer=init, scale_init=scale_init, **widths
        )
        layer.build((None, 16))
        return layer

    scaled_layer, plain = make(True), make(False)
    kernel = keras.ops.convert_to_numpy(scaled_layer.kernel)
    plain_kernel = keras.ops.convert_to_numpy(plain.kernel)
    if scaled:
        window = keras.ops.convert_to_numpy(plain.window)
        expected = plain_kernel * window * (window.size / np.count_nonzero(window))
        np.testing.assert_allclose(kernel, expected, rtol=1e-6)
    else:  # docs/spec.md: the 'gaussian' kernel is not pre-scaled
        np.testing.assert_array_equal(kernel, plain_kernel)


def test_repr_and_summary_show_form_and_usage():
    model = keras.Sequential(
        [
            keras.Input((16,)),
            mouse.MouseDense(12, radius=0.5, name="mouse_fc"),
            keras.layers.Dense(8),
            mouse.SzDense(4, param_reduction=0.5, name="schizo_fc"),
        ]
    )
    layer = model.layers[0]
    assert f"form='2d', usage={layer.usage:.4f}" in repr(layer)
    table = mouse.window_summary(model).splitlines()
    assert table[1].split()[:4] == ["mouse_fc", "MouseDense", "2d", f"{layer.usage:.3f}"]
    assert table[2].split()[:3] == ["schizo_fc", "SzDense", "diagonal"]
    total = model.layers[0].get_num_weights() + model.layers[2].get_num_weights()
    assert table[3].split()[-2] == str(total)


def test_seed_style_positional_arguments():
    layer = mouse.mDense(8, 0, 0.3, "diagonal", 10, 10, 1.41, "relu")
    assert layer.activation is keras.activations.relu
    assert layer.get_config()["param_reduction"] == 0.3
    conv = mouse.SzConv2D(8, (3, 3), 0.3, "kernel", "relu", "same", 2)
    assert conv.padding == "same" and conv.strides == (2, 2) and conv.form == "kernel"
    assert mouse.mConv2D(8, 3, 2, "same").strides == (2, 2)  # Conv2D's own positional order
    # Defaults from the shared table, and schizo.py's own: SzConv2D drew single weights.
    assert mouse.mDense(8).form == "diagonal" and mouse.SzConv2D(8, 3).form == "individual"
    assert list(inspect.signature(mouse.SzDense).parameters)[:5] == [
        "units",
        "halfbandwidth",
        "param_reduction",
        "form",
        "activation",
    ]


@pytest.mark.parametrize("module", ["dense", "conv", "conv_transpose", "compat", "summary"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    results = doctest.testmod(importlib.import_module(f"bionn.keras.{module}"))
    assert results.attempted > 0 and results.failed == 0

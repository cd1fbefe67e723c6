"""Bad input: the same clear errors as the PyTorch layers, naming the layer.

Arguments that do not depend on the input size fail at construction; grids, which need the
channel counts, fail when the layer is built.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import bionn.keras as mouse

pytestmark = pytest.mark.keras

AT_CONSTRUCTION = [
    (lambda: mouse.mDense(8, form="hexagonal"), ValueError, r"mDense: form must be one of"),
    (lambda: mouse.mDense(8, form="kernel"), ValueError, r"mDense: form must be one of"),
    (lambda: mouse.mConv2D(8, 3, form="gaussian"), ValueError, r"mConv2D: form must be one of"),
    (lambda: mouse.mConv2DTranspose(8, 3, form="x"), ValueError, r"mConv2DTranspose: form"),
    (lambda: mouse.SzDense(8, form="2d"), ValueError, r"SzDense: form must be one of"),
    (lambda: mouse.SzConv2D(8, 3, form="random"), ValueError, r"SzConv2D: form must be one of"),
    (
        lambda: mouse.mDense(8, param_reduction=1.5),
        ValueError,
        r"mDense: param_reduction must be in \[0, 1\]",
    ),
    (lambda: mouse.SzConv2D(8, 3, -0.1), ValueError, r"SzConv2D: param_reduction must be in"),
    (lambda: mouse.mDense(8, param_reduction="half"), TypeError, r"mDense: param_reduction must"),
    (lambda: mouse.mDense(8, halfbandwidth=-1), ValueError, r"mDense: halfbandwidth must be >= 0"),
    (
        lambda: mouse.mDense(8, form="2d", input2d_width=0),
        ValueError,
        r"mDense: input2d_width must be >= 1",
    ),
    (
        lambda: mouse.mConv2D(8, 3, form="2d", output2d_width=2.5),
        TypeError,
        r"mConv2D: output2d_width must be an int",
    ),
    (
        lambda: mouse.mConv2D(8, 3, form="2d", window2d_width=0),
        ValueError,
        r"mConv2D: window2d_width must be > 0",
    ),
    (lambda: mouse.MouseDense(8), ValueError, r"MouseDense: give exactly one of usage="),
    (lambda: mouse.MouseDense(8, usage=0.5, radius=0.5), ValueError, r"MouseDense: give exactly"),
    (lambda: mouse.MouseConv2D(8, 3, usage=0), ValueError, r"MouseConv2D: usage must be in \(0, 1"),
    (lambda: mouse.MouseConv2D(8, 3, usage=1.2), ValueError, r"MouseConv2D: usage must be in"),
    (
        lambda: mouse.MouseConv2DTranspose(8, 3, radius=-1),
        ValueError,
        r"MouseConv2DTranspose: radius must be a number > 0",
    ),
    (
        lambda: mouse.MouseDense(8, usage=0.5, in_grid=4),
        TypeError,
        r"MouseDense: in_grid must be \(rows, cols\)",
    ),
    (
        lambda: mouse.MouseDense(8, usage=0.5, out_grid=(2, 3, 4)),
        ValueError,
        r"MouseDense: out_grid must be \(rows, cols\)",
    ),
    (
        lambda: mouse.MouseConv2DTranspose(8, 3, usage=0.5, in_grid=(2, 2.5)),
        TypeError,
        r"MouseConv2DTranspose: in_grid cols must be an int",
    ),
    (
        lambda: mouse.SchizoConv2DTranspose(8, 3, usage=0.5, form="random"),
        ValueError,
        r"SchizoConv2DTranspose: form must be one of \('diagonal', 'individual', 'kernel'\)",
    ),
    (
        lambda: mouse.SchizoConv2DTranspose(8, 3),
        ValueError,
        r"SchizoConv2DTranspose: usage= is required",
    ),
    (
        lambda: mouse.WindowedDense(8, recipe={"class_name": "Band"}),
        ValueError,
        r"WindowedDense: recipe config must name one of",
    ),
    (
        lambda: mouse.WindowedDense(8, recipe="2d"),
        TypeError,
        r"WindowedDense: recipe must be one of",
    ),
    (
        lambda: mouse.mDense(
            8,
            0,
            0.5,
            "2d",
            4,
            4,
            0.5,
            None,
            True,
            "zeros",
            "zeros",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            1,
        ),
        TypeError,
        r"mDense takes at most 19 positional arguments",
    ),
    (
        lambda: mouse.SzConv2D(8, 3, 0.5, param_reduction=0.4),
        TypeError,
        r"SzConv2D got multiple values for argument 'param_reduction'",
    ),
    (lambda: mouse.SchizoDense(8), ValueError, r"SchizoDense: usage= is required"),
    (lambda: mouse.SchizoDense(8, usage=0.5, form="2d"), ValueError, r"SchizoDense: form must"),
    (lambda: mouse.SchizoConv2D(8, 3, usage=1.5), ValueError, r"SchizoConv2D: usage must be in"),
    (
        lambda: mouse.SchizoConv2D(8, 3, usage=0.5, form="gaussian"),
        ValueError,
        r"SchizoConv2D: form must be one of",
    ),
]


@pytest.mark.parametrize(("make", "error", "match"), AT_CONSTRUCTION)
def test_bad_arguments_fail_at_construction(make, error, match):
    with pytest.raises(error, match=match):
        make()


AT_BUILD = [
    (
        lambda: mouse.MouseDense(8, usage=0.5, in_grid=(3, 3)),
        (16,),
        r"MouseDense: in_grid=\(3, 3\) holds 9 nodes but in_grid channels is 16",
    ),
    (
        lambda: mouse.MouseConv2D(8, 3, radius=0.5, in_grid=(2, 3), groups=2),
        (5, 5, 16),
        r"MouseConv2D: in_grid=\(2, 3\) holds 6 nodes .* is 8",
    ),
    (
        lambda: mouse.MouseConv2DTranspose(8, 3, usage=0.5, in_grid=(4, 4)),
        (5, 5, 12),
        r"MouseConv2DTranspose: in_grid=\(4, 4\) holds 16 nodes .* is 12",
    ),
    (
        lambda: mouse.mDense(8, form="2d", input2d_width=20),
        (16,),
        r"mDense: x_width \(input2d_width\) must be <= 16 channels",
    ),
    (
        lambda: mouse.mConv2DTranspose(4, 3, form="2d", input2d_width=8),
        (5, 5, 16),
        r"mConv2DTranspose: x_width \(input2d_width\) must be <= 4 channels",
    ),
]


@pytest.mark.parametrize(("make", "shape", "match"), AT_BUILD)
def test_bad_grids_fail_at_build_naming_the_layer(make, shape, match):
    layer = make()
    with pytest.raises(ValueError, match=match):
        layer(np.zeros((1, *shape), "float32"))


def test_non_divisible_seed_grid_warns_and_keeps_seed_mask():
    layer = mouse.mDense(10, form="2d", input2d_width=4, output2d_width=4, window2d_width=0.5)
    with pytest.warns(UserWarning, match="mDense: 10 y channels .* the last 2 are never connected"):
        layer(np.zeros((1, 16), "float32"))
    window = keras.ops.convert_to_numpy(layer.window)
    assert not window[:, 8:].any()


def test_quantize_is_refused():
    layer = mouse.mDense(8)
    layer.build((None, 16))
    with pytest.raises(NotImplementedError, match="mDense: windowed layers cannot be quantized"):
        layer.quantize("int8")


def test_masked_kernel_before_build_names_the_layer():
    with pytest.raises(ValueError, match="mDense 'fc': build the layer first"):
        mouse.mDense(8, name="fc").masked_kernel()


DEAD_WINDOWS = [
    (
        lambda: mouse.SchizoDense(2, usage=0.05, form="random", seed=0),
        (2,),
        r"SchizoDense: the 2 x 2 'random' window keeps no weight at usage=0.05 "
        r"\(param_reduction=0.95\), seed=0",
    ),
    (
        lambda: mouse.MouseDense(16, usage=1e-6),
        (16,),
        r"MouseDense: the 16 x 16 '2d' window keeps no weight at usage=1e-06",
    ),
    (
        lambda: mouse.SchizoConv2D(2, 3, usage=0.05, form="kernel", seed=0),
        (5, 5, 2),
        r"SchizoConv2D: the 2 x 2 x 3 x 3 'kernel' window keeps no weight",
    ),
]


@pytest.mark.parametrize(("make", "shape", "match"), DEAD_WINDOWS)
def test_a_window_keeping_no_weight_fails_at_build(make, shape, match):
    layer = make()
    with pytest.raises(ValueError, match=match + ".*the layer would be dead"):
        layer(np.zeros((1, *shape), "float32"))


def test_seed_classes_warn_about_a_window_keeping_no_weight():
    layer = mouse.mDense(2, 0, 1.0, "random", seed=0)
    with pytest.warns(UserWarning, match=r"mDense: the 2 x 2 'random' window keeps no weight"):
        out = layer(np.ones((1, 2), "float32"))
    assert layer.usage == 0.0 and not keras.ops.convert_to_numpy(out).any()  # bias starts at 0

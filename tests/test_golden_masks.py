"""Golden parity: the builders and every layer family reproduce the original code's masks.

``tests/data/golden`` holds masks built by the original research code (docs/spec.md, section 11).
Binary cases must match exactly, 'gaussian' ones to 1e-12 relative in float64 (the layers keep
the window in the weight's float32, so they are compared at float32 precision).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import bionn
from bionn.windows import WindowSpec, window_2d, window_diagonal, window_gaussian
from test_spec_oracle import golden_as_xy, golden_axes, golden_cases, golden_masks

CASES = golden_cases()
MOUSE = [c for c in CASES if c["params"].get("form") == "2d"]
DIAGONAL = [c for c in CASES if c["params"].get("form") == "diagonal"]
GAUSSIAN = [c for c in CASES if c["kind"] == "gaussian"]
BINARY = MOUSE + DIAGONAL
KERNEL = {"conv2d": 3, "conv_transpose2d": 5}  # the sizes the golden cases were built with


def ids(case: dict) -> str:
    return f"{case['key']}-{case['kind']}-{case['params'].get('form', 'gaussian')}"


def has_exact_grids(case: dict) -> bool:
    n_x, n_y = golden_axes(case)
    p = case["params"]
    return n_x % p["input2d_width"] == 0 and n_y % p["output2d_width"] == 0


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    return golden_masks()


def seed_layer(case: dict) -> torch.nn.Module:
    """The seed-compatible layer for a golden case, built with the seed's own arguments."""
    cin, cout, kind = case["in_channels"], case["out_channels"], case["kind"]
    params = dict(case["params"])
    if kind == "gaussian":
        return bionn.mLinear(cin, cout, form="gaussian", **params)
    if kind == "linear":
        return bionn.mLinear(cin, cout, **params)
    if kind == "conv2d":
        return bionn.mConv2d(cin, cout, KERNEL[kind], **params)
    return bionn.mConvTranspose2d(cin, cout, KERNEL[kind], **params)


def layer_matrix(layer: torch.nn.Module) -> np.ndarray:
    """The layer's window at one kernel position, in golden orientation (out,in) / (in,out)."""
    window = layer.window
    if window.dim() == 4:
        # every kernel position holds the same channel matrix for '2d' / 'diagonal'
        assert torch.equal(window, window[..., :1, :1].expand_as(window))
        window = window[..., 0, 0]
    return window.numpy()


# -- pure builders ------------------------------------------------------------------------------


def test_golden_has_every_form_and_kind() -> None:
    kinds = {c["kind"] for c in CASES}
    assert kinds == {"conv2d", "conv_transpose2d", "linear", "gaussian"}
    assert len(BINARY) + len(GAUSSIAN) == len(CASES) == 19


@pytest.mark.parametrize("case", BINARY, ids=ids)
def test_builders_reproduce_binary_golden(case: dict, golden: dict) -> None:
    n_x, n_y = golden_axes(case)
    p = case["params"]
    if p["form"] == "2d":
        args = (p["input2d_width"], p["output2d_width"], p["window2d_width"])
        values = window_2d(n_x, n_y, *args)
        spec = WindowSpec("2d", radius=args[2], x_width=args[0], y_width=args[1])
    else:
        values = window_diagonal(n_x, n_y, p["param_reduction"])
        spec = WindowSpec("diagonal", reduction=p["param_reduction"])
    expected = golden_as_xy(case, golden[case["key"]])
    assert values.dtype == np.bool_
    np.testing.assert_array_equal(values, expected)
    built = spec.build(n_x, n_y)
    np.testing.assert_array_equal(built.values, expected)
    assert built.usage == pytest.approx(case["usage"], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("case", GAUSSIAN, ids=ids)
def test_builders_reproduce_gaussian_golden(case: dict, golden: dict) -> None:
    n_x, n_y = golden_axes(case)
    p = case["params"]["param_reduction"]
    values, usage = window_gaussian(n_x, n_y, p)
    expected = golden_as_xy(case, golden[case["key"]])
    assert values.dtype == np.float64
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=0)
    assert usage == pytest.approx(case["usage"], rel=1e-12)
    built = WindowSpec("gaussian", reduction=p).build(n_x, n_y)
    np.testing.assert_allclose(built.values, expected, rtol=1e-12, atol=0)
    assert built.usage == pytest.approx(case["usage"], rel=1e-12)


# -- seed-compatible layers ---------------------------------------------------------------------


@pytest.mark.parametrize("case", BINARY, ids=ids)
def test_seed_layers_reproduce_binary_golden(case: dict, golden: dict) -> None:
    with warnings.catch_warnings():
        # only case005 (100 channels on width 8) leaves a partial grid row
        warnings.simplefilter("ignore" if case["key"] == "case005" else "error")
        layer = seed_layer(case)
    assert layer.window.dtype == torch.bool
    np.testing.assert_array_equal(layer_matrix(layer), golden[case["key"]])
    assert abs(layer.usage - case["usage"]) <= 1e-12
    assert abs(layer.get_reduced_ratio() - (1 - case["usage"])) <= 1e-12
    assert layer.get_num_weights() == layer.weight.numel()


@pytest.mark.parametrize("case", GAUSSIAN, ids=ids)
@pytest.mark.parametrize("cls", [bionn.mLinear, bionn.SzLinear])
@pytest.mark.parametrize(("dtype", "rtol"), [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_seed_layers_reproduce_gaussian_golden(
    cls: type, case: dict, golden: dict, dtype: torch.dtype, rtol: float
) -> None:
    layer = cls(
        case["in_channels"], case["out_channels"], form="gaussian", dtype=dtype, **case["params"]
    )
    assert layer.window.dtype == dtype  # the window follows the weight's dtype
    expected = golden[case["key"]]  # Keras (in, out); the torch weight is (out, in)
    np.testing.assert_allclose(layer.window.numpy().T, expected, rtol=rtol, atol=0)
    assert layer.usage == pytest.approx(case["usage"], rel=1e-12)


def test_non_divisible_seed_grid_warns_and_keeps_the_seed_mask(golden: dict) -> None:
    case = next(c for c in CASES if c["key"] == "case005")  # 100 channels, grid width 8
    with pytest.warns(UserWarning) as record:
        layer = seed_layer(case)
    messages = " ".join(str(w.message) for w in record)
    assert "output2d_width=8" in messages and "dead" in messages
    assert "input2d_width=8" in messages
    np.testing.assert_array_equal(layer_matrix(layer), golden["case005"])
    # the last 100 - 12 * 8 = 4 outputs are never connected, exactly as the original
    assert not layer_matrix(layer)[96:].any()


def test_non_square_divisible_seed_grid_does_not_warn(golden: dict) -> None:
    case = next(c for c in CASES if c["key"] == "case004")  # 96 on 12x8, 48 on 8x6: exact
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = seed_layer(case)
    np.testing.assert_array_equal(layer_matrix(layer), golden["case004"])


# -- the clean API on the same masks ------------------------------------------------------------


def clean_mouse_layer(case: dict, **target: float) -> torch.nn.Module:
    """The clean-API layer whose grids (named by data flow) equal the seed's x / y grids."""
    n_x, n_y = golden_axes(case)
    p = case["params"]
    x_grid = (n_x // p["input2d_width"], p["input2d_width"])
    y_grid = (n_y // p["output2d_width"], p["output2d_width"])
    cin, cout, kind = case["in_channels"], case["out_channels"], case["kind"]
    if kind == "linear":
        return bionn.MouseLinear(cin, cout, in_grid=x_grid, out_grid=y_grid, **target)
    if kind == "conv2d":
        return bionn.MouseConv2d(cin, cout, 3, in_grid=x_grid, out_grid=y_grid, **target)
    # conv-transpose: x is the output plane, y the input plane
    return bionn.MouseConvTranspose2d(cin, cout, 5, in_grid=y_grid, out_grid=x_grid, **target)


EXACT_MOUSE = [c for c in MOUSE if has_exact_grids(c)]


@pytest.mark.parametrize("case", EXACT_MOUSE, ids=ids)
def test_clean_mouse_api_with_radius_reproduces_golden(case: dict, golden: dict) -> None:
    layer = clean_mouse_layer(case, radius=case["params"]["window2d_width"])
    np.testing.assert_array_equal(layer_matrix(layer), golden[case["key"]])
    assert abs(layer.usage - case["usage"]) <= 1e-12


@pytest.mark.parametrize("case", EXACT_MOUSE, ids=ids)
def test_clean_mouse_api_with_usage_reproduces_golden(case: dict, golden: dict) -> None:
    # '2d' masks are nested in the radius, so hitting the golden usage means the golden mask
    layer = clean_mouse_layer(case, usage=case["usage"])
    np.testing.assert_array_equal(layer_matrix(layer), golden[case["key"]])


def test_exact_grid_cases_cover_every_mouse_kind() -> None:
    assert {c["kind"] for c in EXACT_MOUSE} == {"conv2d", "conv_transpose2d", "linear"}
    assert [c["key"] for c in MOUSE if not has_exact_grids(c)] == ["case005"]


# the schizophrenia family has no conv-transpose layer
@pytest.mark.parametrize("case", [c for c in DIAGONAL if c["kind"] != "conv_transpose2d"], ids=ids)
def test_clean_schizo_api_reproduces_diagonal_golden(case: dict, golden: dict) -> None:
    usage = 1 - case["params"]["param_reduction"]
    cin, cout, kind = case["in_channels"], case["out_channels"], case["kind"]
    if kind == "linear":
        layer = bionn.SchizoLinear(cin, cout, usage=usage, form="diagonal")
    else:
        layer = bionn.SchizoConv2d(cin, cout, 3, usage=usage, form="diagonal")
    np.testing.assert_array_equal(layer_matrix(layer), golden[case["key"]])


@pytest.mark.parametrize("case", GAUSSIAN, ids=ids)
def test_clean_schizo_api_reproduces_gaussian_golden(case: dict, golden: dict) -> None:
    usage = 1 - case["params"]["param_reduction"]
    layer = bionn.SchizoLinear(
        case["in_channels"], case["out_channels"], usage=usage, form="gaussian"
    )
    np.testing.assert_allclose(layer.window.numpy().T, golden[case["key"]], rtol=1e-6, atol=0)
    assert layer.usage == pytest.approx(case["usage"], rel=1e-12)

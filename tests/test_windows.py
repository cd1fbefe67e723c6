"""The pure window builders: equal to the spec's loops, '2d' properties, radius search, errors."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bionn.windows import (
    WindowSpec,
    grid_for,
    radius_for_usage,
    usage_2d,
    window_2d,
    window_diagonal,
    window_gaussian,
    window_random,
)
from test_spec_oracle import loop_window_2d, loop_window_diagonal, loop_window_gaussian

FAST = settings(max_examples=60, deadline=None)


@st.composite
def grids(draw: st.DrawFn, max_channels: int = 96) -> tuple[int, int, int, int]:
    """``(n_x, n_y, x_width, y_width)``: any channel counts, any widths (divisible or not)."""
    n_x = draw(st.integers(1, max_channels))
    n_y = draw(st.integers(1, max_channels))
    return n_x, n_y, draw(st.integers(1, n_x)), draw(st.integers(1, n_y))


radii = st.floats(min_value=1e-3, max_value=2.0, allow_nan=False)
reductions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


# -- vectorised builders equal the per-channel loops of docs/spec.md ----------------------------


@FAST
@given(grid=grids(), radius=radii)
def test_window_2d_equals_spec_loop(grid: tuple[int, ...], radius: float) -> None:
    np.testing.assert_array_equal(window_2d(*grid, radius), loop_window_2d(*grid, radius))


@FAST
@given(n_x=st.integers(1, 200), n_y=st.integers(1, 200), p=reductions)
def test_window_diagonal_equals_spec_loop(n_x: int, n_y: int, p: float) -> None:
    np.testing.assert_array_equal(window_diagonal(n_x, n_y, p), loop_window_diagonal(n_x, n_y, p))


@FAST
@given(n_x=st.integers(1, 120), n_y=st.integers(1, 120), hb=st.floats(0.1, 100.0))
def test_explicit_halfbandwidth_equals_spec_loop(n_x: int, n_y: int, hb: float) -> None:
    np.testing.assert_array_equal(
        window_diagonal(n_x, n_y, 0.5, halfbandwidth=hb),
        loop_window_diagonal(n_x, n_y, 0.5, hb),
    )
    values, usage = window_gaussian(n_x, n_y, 0.5, halfbandwidth=hb)
    expected, expected_usage = loop_window_gaussian(n_x, n_y, 0.5, hb)
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=0)
    assert usage == pytest.approx(expected_usage, rel=1e-12)


@FAST
@given(n_x=st.integers(1, 80), n_y=st.integers(1, 80), p=reductions)
def test_window_gaussian_equals_spec_loop(n_x: int, n_y: int, p: float) -> None:
    values, usage = window_gaussian(n_x, n_y, p)
    expected, expected_usage = loop_window_gaussian(n_x, n_y, p)
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=0)
    assert usage == pytest.approx(expected_usage, rel=1e-12)
    # the window is scaled to mean 1: its sum is the window size
    assert values.sum() == pytest.approx(n_x * n_y, rel=1e-12)


# -- properties of '2d' -------------------------------------------------------------------------


@FAST
@given(grid=grids(), r1=radii, r2=radii)
def test_2d_usage_is_non_decreasing_and_masks_nested(
    grid: tuple[int, ...], r1: float, r2: float
) -> None:
    small, large = sorted((r1, r2))
    w_small, w_large = window_2d(*grid, small), window_2d(*grid, large)
    assert usage_2d(*grid, small) <= usage_2d(*grid, large)
    assert not (w_small & ~w_large).any(), "a larger radius must keep every connection"


@FAST
@given(grid=grids(), radius=radii)
def test_2d_shape_usage_and_dead_channels(grid: tuple[int, ...], radius: float) -> None:
    n_x, n_y, x_width, y_width = grid
    window = window_2d(*grid, radius)
    assert window.shape == (n_y, n_x) and window.dtype == np.bool_
    assert usage_2d(*grid, radius) == window.mean()
    if n_y > 1:
        alive = (n_y // y_width) * y_width
        assert not window[alive:].any(), "y channels outside whole grid rows are dead"
        # with a radius spanning the plane, exactly those channels are dead
        assert window_2d(*grid, 2.0)[:alive].any(axis=1).all()


@pytest.mark.parametrize(("n", "width"), [(64, 8), (256, 16), (512, 32), (100, 10)])
def test_2d_full_radius_connects_everything(n: int, width: int) -> None:
    # docs/spec.md section 2: r >= sqrt(2) gives 100 %
    assert window_2d(n, n, width, width, math.sqrt(2)).all()


def test_2d_single_output_is_all_ones() -> None:
    assert window_2d(64, 1, 8, 1, 0.01).all()


def test_2d_reference_usages() -> None:
    # docs/spec.md section 2: r = 0.4 gives about 35 %, r = 0.5 about 46 %
    assert usage_2d(256, 256, 16, 16, 0.4) == pytest.approx(0.35, abs=0.01)
    assert usage_2d(64, 64, 8, 8, 0.5) == pytest.approx(0.46, abs=0.01)


# -- radius_for_usage ---------------------------------------------------------------------------


def step_edges(grid: tuple[int, ...], usage: float) -> tuple[float, float]:
    """Usage of the steps just below and just above ``usage`` (by bisection on the radius).

    A pair exactly on the circle can make a "step" one float wide (a tie); radii a relative
    1e-12 beside the edges skip such points, which no stable radius can select.
    """

    def first_radius(reaches: Callable[[float], bool]) -> tuple[float, float]:
        lo, hi = 0.0, 2.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if reaches(mid) else (mid, hi)
        return lo, hi

    below_lo, _ = first_radius(lambda r: usage_2d(*grid, r) >= usage)
    _, above_hi = first_radius(lambda r: usage_2d(*grid, r) > usage)
    below = usage_2d(*grid, below_lo * (1 - 1e-12)) if below_lo > 0 else 0.0
    return below, usage_2d(*grid, above_hi * (1 + 1e-12))


@settings(max_examples=40, deadline=None)
@given(n_x=st.integers(128, 400), n_y=st.integers(128, 400), target=st.floats(0.05, 1.0))
def test_radius_for_usage_is_close_and_the_nearest_step(n_x: int, n_y: int, target: float) -> None:
    grid = (n_x, n_y, grid_for(n_x)[1], grid_for(n_y)[1])
    radius, achieved = radius_for_usage(*grid, target)
    assert achieved == usage_2d(*grid, radius)
    assert abs(achieved - target) <= 0.02
    below, above = step_edges(grid, achieved)
    assert below < achieved or achieved == 0
    assert above > achieved or achieved == 1.0
    assert abs(achieved - target) <= abs(below - target) if below > 0 else True
    assert abs(achieved - target) <= abs(above - target)


def test_radius_for_usage_is_stable_inside_its_step() -> None:
    # the radius sits mid-step, so a small float change keeps the same mask
    radius, achieved = radius_for_usage(256, 256, 16, 16, 0.35)
    for factor in (1 - 1e-9, 1 + 1e-9):
        assert usage_2d(256, 256, 16, 16, radius * factor) == achieved


def test_radius_for_usage_exact_golden_usage() -> None:
    radius, achieved = radius_for_usage(256, 256, 16, 16, 0.346923828125)
    assert achieved == 0.346923828125
    np.testing.assert_array_equal(
        window_2d(256, 256, 16, 16, radius), window_2d(256, 256, 16, 16, 0.4)
    )


@pytest.mark.parametrize("usage", [0.0, -0.1, 1.5, float("nan")])
def test_radius_for_usage_rejects_out_of_range(usage: float) -> None:
    with pytest.raises(ValueError, match=r"usage must be in \(0, 1\]"):
        radius_for_usage(64, 64, 8, 8, usage)


# -- grids, random forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "grid"),
    [(512, (16, 32)), (784, (28, 28)), (96, (8, 12)), (97, (1, 97)), (1, (1, 1))],
)
def test_grid_for_known(channels: int, grid: tuple[int, int]) -> None:
    assert grid_for(channels) == grid


@given(st.integers(1, 5000))
def test_grid_for_is_the_exact_factorisation_nearest_a_square(channels: int) -> None:
    rows, cols = grid_for(channels)
    assert rows * cols == channels and rows <= cols
    assert not any(channels % r == 0 for r in range(rows + 1, math.isqrt(channels) + 1))


def test_random_window_is_reproducible_from_its_seed() -> None:
    first = window_random((32, 16, 3, 3), 0.6, seed=123)
    np.testing.assert_array_equal(first, window_random((32, 16, 3, 3), 0.6, seed=123))
    assert not np.array_equal(first, window_random((32, 16, 3, 3), 0.6, seed=124))
    assert first.mean() == pytest.approx(0.4, abs=0.03)
    # NumPy's PCG64 stream is fixed across platforms and versions: pin a few bits
    assert window_random((3, 4), 0.5, seed=0).astype(int).tolist() == [
        [1, 0, 0, 0],
        [1, 1, 1, 1],
        [1, 1, 1, 0],
    ]


def test_kernel_form_keeps_whole_kernels() -> None:
    built = WindowSpec("kernel", reduction=0.5, seed=7).build(16, 8, (3, 3))
    assert built.values.shape == (8, 16)  # one draw per channel pair, broadcast by the layer
    individual = WindowSpec("individual", reduction=0.5, seed=7).build(16, 8, (3, 3))
    assert individual.values.shape == (8, 16, 3, 3)


# -- builder input errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((64, 64, 0, 8, 0.5), ValueError, "x_width must be >= 1"),
        ((64, 64, 8, -1, 0.5), ValueError, "y_width must be >= 1"),
        ((64, 64, 65, 8, 0.5), ValueError, "x_width .* must be <= 64"),
        ((64, 32, 8, 33, 0.5), ValueError, "y_width .* must be <= 32"),
        ((64, 64, 8, 8, 0.0), ValueError, "radius .* must be > 0"),
        ((64, 64, 8, 8, -0.3), ValueError, "radius .* must be > 0"),
        ((64.0, 64, 8, 8, 0.5), TypeError, "n_x must be an int"),
        ((64, 0, 8, 8, 0.5), ValueError, "n_y must be >= 1"),
    ],
)
def test_window_2d_bad_input(args: tuple, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        window_2d(*args)


@pytest.mark.parametrize("p", [-0.1, 1.1])
def test_reduction_out_of_range(p: float) -> None:
    for build in (lambda: window_diagonal(8, 8, p), lambda: window_random((8, 8), p, 0)):
        with pytest.raises(ValueError, match=r"param_reduction must be in \[0, 1\]"):
            build()


def test_window_spec_errors() -> None:
    with pytest.raises(ValueError, match=r"form must be one of \('2d', 'diagonal'"):
        WindowSpec("band")
    with pytest.raises(ValueError, match="'kernel' needs a seed"):
        WindowSpec("kernel")

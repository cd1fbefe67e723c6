"""Plain Python loops written line by line from docs/spec.md: the oracle for the builders.

They are deliberately naive (one Python iteration per channel, as the original code did); the
benchmark in ``benchmarks/bench_windows.py`` times them as its baseline. The tests in this file
pin the oracle itself to the golden masks (``tests/data/golden``), so a test that compares a
builder with it is anchored to the original code, not to a second reading of the spec.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest


def loop_window_2d(
    n_x: int, n_y: int, w_x: int, w_y: int, r: float, per_connection: bool = False
) -> np.ndarray:
    """docs/spec.md, form '2d': one x channel and one grid row at a time; bool ``(n_y, n_x)``.

    A row's span of y channels is set as one slice, or, with ``per_connection``, one y channel at
    a time exactly as the spec words it (the slowest, most literal baseline).
    """
    if n_y <= 1:
        return np.ones((n_y, n_x), dtype=bool)
    window = np.zeros((n_y, n_x), dtype=bool)
    h_x = n_x // w_x
    h_y = n_y // w_y
    for i in range(n_x):
        u = (i % w_x) / w_x
        v = (i // w_x) / h_x
        k_start = max(math.ceil((v - r) * h_y), 0)
        k_stop = min(math.ceil((v + r) * h_y), h_y)
        for k in range(k_start, k_stop):
            s = r * r - (k / h_y - v) * (k / h_y - v)
            if not s > 0:
                continue
            d = math.sqrt(s)
            c0 = max(math.ceil((u - d) * w_y), 0)
            c1 = min(math.ceil((u + d) * w_y), w_y)
            if per_connection:
                for c in range(c0, c1):
                    window[k * w_y + c, i] = True
            elif c0 < c1:
                window[k * w_y + c0 : k * w_y + c1, i] = True
    return window


def loop_halfbandwidth(n_x: int, n_y: int, p: float) -> float:
    """docs/spec.md, form 'diagonal': the half-bandwidth computed from ``param_reduction``."""
    return (n_x * n_y / math.sqrt(n_x * n_x + n_y * n_y)) * (1 - math.sqrt(p))


def loop_window_diagonal(n_x: int, n_y: int, p: float, hb: float = 0.0) -> np.ndarray:
    """docs/spec.md, form 'diagonal': one y channel at a time; bool ``(n_y, n_x)``."""
    if n_y <= 1:
        return np.ones((n_y, n_x), dtype=bool)
    hb = hb or loop_halfbandwidth(n_x, n_y, p)
    window = np.zeros((n_y, n_x), dtype=bool)
    rxy = (n_x - 1) / (n_y - 1)
    hw = hb * math.sqrt(rxy * rxy + 1)
    for j in range(n_y):
        a = rxy * j - hw
        x0 = int(a) + 1 if a >= 0 else 0
        if x0 > n_x - 1:
            continue
        b = rxy * j + hw
        x1 = math.ceil(b) if b < n_x else n_x
        window[j, x0:x1] = True
    return window


def loop_window_gaussian(n_x: int, n_y: int, p: float, hb: float = 0.0) -> tuple[np.ndarray, float]:
    """docs/spec.md, form 'gaussian': element by element; float64 ``(n_y, n_x)`` and usage."""
    hb = hb or 1.5 * loop_halfbandwidth(n_x, n_y, p)
    if not (hb > 0 and n_y > 1):
        return np.ones((n_y, n_x)), 1.0
    rxy = (n_x - 1) / (n_y - 1)
    s2 = 1 / (2 * hb * hb)
    g = np.empty((n_y, n_x))
    for j in range(n_y):
        for i in range(n_x):
            g[j, i] = math.exp(-(i - rxy * j) * (i - rxy * j) * s2)
    total = g.sum()
    return g * (n_x * n_y / total), float(total / (n_x * n_y))


# -- the oracle itself against the original code ------------------------------------------------

# The original code's masks, kept in the repository (docs/spec.md section 11).
GOLDEN = Path(__file__).resolve().parent / "data" / "golden"


def golden_cases() -> list[dict]:
    """``meta.json`` of the golden masks: one dict per case."""
    return json.loads((GOLDEN / "meta.json").read_text())


def golden_masks() -> dict[str, np.ndarray]:
    """The golden arrays by case key, in the orientation of docs/spec.md section 11."""
    with np.load(GOLDEN / "masks.npz") as npz:
        return {key: npz[key] for key in npz.files}


def golden_axes(case: dict) -> tuple[int, int]:
    """``(n_x, n_y)`` of a golden case (docs/spec.md's axis table; conv-transpose swaps)."""
    if case["kind"] == "conv_transpose2d":
        return case["out_channels"], case["in_channels"]
    return case["in_channels"], case["out_channels"]


def golden_as_xy(case: dict, array: np.ndarray) -> np.ndarray:
    """A golden array turned to the builders' ``(n_y, n_x)`` orientation."""
    # conv2d / linear are stored (out, in) = (y, x); conv-transpose (in, out) = (y, x) too;
    # gaussian cases are Keras kernels (in, out) = (x, y).
    return array.T if case["kind"] == "gaussian" else array


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    return golden_masks()


@pytest.mark.parametrize("case", golden_cases(), ids=lambda c: c["key"])
def test_oracle_reproduces_golden(case: dict, golden: dict[str, np.ndarray]) -> None:
    n_x, n_y = golden_axes(case)
    params = case["params"]
    form = params.get("form", "gaussian")
    expected = golden_as_xy(case, golden[case["key"]])
    if form == "2d":
        args = (params["input2d_width"], params["output2d_width"], params["window2d_width"])
        for per_connection in (False, True):
            np.testing.assert_array_equal(loop_window_2d(n_x, n_y, *args, per_connection), expected)
    elif form == "diagonal":
        np.testing.assert_array_equal(
            loop_window_diagonal(n_x, n_y, params["param_reduction"]), expected
        )
    else:
        values, usage = loop_window_gaussian(n_x, n_y, params["param_reduction"])
        np.testing.assert_allclose(values, expected, rtol=1e-12, atol=0)
        assert usage == pytest.approx(case["usage"], rel=1e-12)

"""Connection windows: pure NumPy builders for every window form.

A window is a matrix over two channel axes, x and y (see docs/spec.md: for Linear and Conv2d x
is the input, for ConvTranspose2d x is the *output*), oriented ``(n_y, n_x)`` like a PyTorch
weight. Binary forms return bool arrays; 'gaussian' returns float64. Every builder is vectorised
and reproduces the original research code bit for bit (Saiga et al. 2025, Sci. Rep. 15:25091;
Mizutani et al. 2022, Front. Neurorobot. 16:851471).

Example:
    >>> w = window_2d(64, 64, x_width=8, y_width=8, radius=0.5)
    >>> w.shape, round(float(w.mean()), 4)
    ((64, 64), 0.4561)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import cast

import numpy as np

__all__ = [
    "BINARY_FORMS",
    "PER_WEIGHT_FORMS",
    "Window",
    "WindowSpec",
    "binary_usage",
    "FORMS",
    "RANDOM_FORMS",
    "diagonal_halfbandwidth",
    "grid_for",
    "radius_for_usage",
    "usage_2d",
    "window_2d",
    "window_diagonal",
    "window_gaussian",
    "window_random",
]

FORMS = ("2d", "diagonal", "gaussian", "random", "individual", "kernel")
BINARY_FORMS = ("2d", "diagonal", "random", "individual", "kernel")
RANDOM_FORMS = ("random", "individual", "kernel")
PER_WEIGHT_FORMS = ("random", "individual")  # drawn per weight; the others per channel pair

# r >= sqrt(2) connects every pair on a unit square; 2.0 safely brackets any grid.
_MAX_RADIUS = 2.0


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")


def _check_reduction(reduction: float) -> None:
    if not 0.0 <= reduction <= 1.0:
        raise ValueError(f"param_reduction must be in [0, 1], got {reduction!r}")


def _check_grid(n_x: int, n_y: int, x_width: int, y_width: int, radius: float) -> None:
    for name, n in (("n_x", n_x), ("n_y", n_y), ("x_width", x_width), ("y_width", y_width)):
        _check_count(name, n)
    if x_width > n_x:
        raise ValueError(f"x_width (input2d_width) must be <= {n_x} channels, got {x_width}")
    if y_width > n_y:
        raise ValueError(f"y_width (output2d_width) must be <= {n_y} channels, got {y_width}")
    if not radius > 0:
        raise ValueError(f"radius (window2d_width) must be > 0, got {radius!r}")


def window_2d(n_x: int, n_y: int, x_width: int, y_width: int, radius: float) -> np.ndarray:
    """Mouse-mimetic '2d' window: channels on 2-D grids, connected within ``radius``.

    Which y columns an x channel reaches in a y grid row depends only on that channel's column
    and on the span half-width ``d`` of its (x row, y row) pair, so the window is a mosaic of
    ``(y_width, x_width)`` blocks, one per distinct ``d``: each block is built once and copied
    into place, the same float64 operations as the loop of docs/spec.md, section 2.

    Args:
        n_x: Channels on the x axis, laid out ``x_width`` per row.
        n_y: Channels on the y axis, laid out ``y_width`` per row.
        x_width: Grid width of the x plane (the seed's ``input2d_width``).
        y_width: Grid width of the y plane (the seed's ``output2d_width``).
        radius: Connection radius as a fraction of the plane's width (``window2d_width``).

    Returns:
        Bool array of shape ``(n_y, n_x)``. Channels outside whole grid rows are never
        connected on y, exactly as in the original code.
    """
    _check_grid(n_x, n_y, x_width, y_width, radius)
    if n_y <= 1:
        return np.ones((n_y, n_x), dtype=bool)
    block_of, c0, c1 = _block_spans(n_x, n_y, x_width, y_width, radius)
    h_y, rows_x = block_of.shape
    c = np.arange(y_width)[:, None, None]
    blocks = (c >= c0) & (c < c1)  # (y column, block, x column)
    window = np.empty((n_y, rows_x * x_width), dtype=bool)  # every entry is written below
    window[h_y * y_width :] = False  # docs/spec.md: y channels outside whole rows are dead
    mosaic = window[: h_y * y_width].reshape(h_y, y_width, rows_x, x_width)
    for row in range(h_y):
        np.take(blocks, block_of[row], axis=1, out=mosaic[row], mode="clip")
    return window if rows_x * x_width == n_x else np.ascontiguousarray(window[:, :n_x])


def _block_spans(
    n_x: int, n_y: int, x_width: int, y_width: int, radius: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The blocks of :func:`window_2d` and which block each (y row, x row) pair uses.

    Returns ``(block_of, c0, c1)``: ``block_of`` is ``(h_y, x rows)``; each block's column
    spans ``[c0, c1)`` per x column are ``(blocks, x_width)`` (empty where c1 <= c0).
    """
    h_x, h_y = n_x // x_width, n_y // y_width
    rows_x = -(-n_x // x_width)  # x grid rows, a partial last row included
    v = np.arange(rows_x) / h_x
    k = np.arange(h_y)[:, None]
    k_min = np.maximum(np.ceil((v - radius) * h_y), 0)
    k_max = np.minimum(np.ceil((v + radius) * h_y), h_y)
    dv = k / h_y - v
    s = radius * radius - dv * dv
    in_rows = (k >= k_min) & (k < k_max) & (s > 0)
    half_width = np.where(in_rows, np.sqrt(np.where(in_rows, s, 0.0)), -1.0)  # -1: no span
    distinct, block_of = np.unique(half_width, return_inverse=True)
    u = np.arange(x_width) / x_width
    d = np.maximum(distinct, 0.0)[:, None]
    c0 = np.maximum(np.ceil((u - d) * y_width), 0)
    c1 = np.where(distinct[:, None] >= 0, np.minimum(np.ceil((u + d) * y_width), y_width), 0)
    return block_of.reshape(half_width.shape), c0, c1


def usage_2d(n_x: int, n_y: int, x_width: int, y_width: int, radius: float) -> float:
    """Fraction of ones in :func:`window_2d`, counted on its blocks without building it."""
    _check_grid(n_x, n_y, x_width, y_width, radius)
    if n_y <= 1:
        return 1.0
    block_of, c0, c1 = _block_spans(n_x, n_y, x_width, y_width, radius)
    widths = np.maximum(c1 - c0, 0)
    partial = n_x % x_width  # the last x row holds only its first ``partial`` columns
    ones = widths.sum(axis=1)[block_of[:, : n_x // x_width]].sum()
    if partial:
        ones += widths[:, :partial].sum(axis=1)[block_of[:, -1]].sum()
    return float(ones) / (n_x * n_y)


class _ConnectionCounter:
    """Counts '2d' connections at any radius in time independent of the window's size.

    A connection is a pair with ``dv**2 + du**2 < r**2`` (row and column offsets on the unit
    plane); the row offsets depend only on (x row, y row) and the column offsets only on
    (x column, y column). Both offset sets are kept sorted with their multiplicities, so one
    count is one ``searchsorted`` over grid-sized arrays, never a pass over the window. It agrees
    with :func:`usage_2d` except at radii where some pair sits exactly on the circle (a float
    tie), which the solver steps around by picking the middle of a usage step.
    """

    def __init__(self, n_x: int, n_y: int, x_width: int, y_width: int) -> None:
        h_x, h_y = n_x // x_width, n_y // y_width
        partial = n_x - h_x * x_width
        y_rows = np.arange(h_y) / h_y
        y_cols = np.arange(y_width) / y_width
        blocks = [(np.arange(h_x) / h_x, np.arange(x_width) / x_width)]
        if partial:  # docs/spec.md: the last partial x row sits at v = 1
            blocks.append((np.array([h_x / h_x]), np.arange(partial) / x_width))
        self._blocks = [
            (_squared_offsets(y_rows, x_rows), _squared_offsets(y_cols, x_cols, cumulative=True))
            for x_rows, x_cols in blocks
        ]
        self.total = n_x * n_y

    def usage(self, radius: float) -> float:
        r2 = radius * radius
        ones = 0
        for (dv2, rows), (du2, cols_below) in self._blocks:
            ones += int(rows @ cols_below[np.searchsorted(du2, r2 - dv2)])
        return ones / self.total


def _squared_offsets(
    y: np.ndarray, x: np.ndarray, cumulative: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ``(y - x)**2`` over all pairs and their counts (cumulative: counts below)."""
    values, counts = np.unique(np.square(y[:, None] - x[None, :]), return_counts=True)
    if cumulative:
        counts = np.concatenate(([0], np.cumsum(counts)))
    return values, counts


def radius_for_usage(
    n_x: int, n_y: int, x_width: int, y_width: int, usage: float
) -> tuple[float, float]:
    """The '2d' radius whose achieved usage is closest to ``usage``.

    Usage is a non-decreasing step function of the radius: bisection finds the steps just below
    and at the target, and the middle of the closer step is returned, so that a small float
    change of the radius never changes the mask. Each bisection step counts connections on the
    grids (:class:`_ConnectionCounter`), not on the window.

    Returns:
        ``(radius, achieved_usage)``; the usage is that of :func:`window_2d` at the radius.
    """
    if not 0.0 < usage <= 1.0:
        raise ValueError(f"usage must be in (0, 1], got {usage!r}")
    _check_grid(n_x, n_y, x_width, y_width, 1.0)
    if n_y <= 1:
        return 1.0, 1.0  # docs/spec.md: one y channel connects to all at any radius
    exact = partial(usage_2d, n_x, n_y, x_width, y_width)
    counter = _ConnectionCounter(n_x, n_y, x_width, y_width)
    radius, chosen, edges = _nearest_step(counter.usage, usage)
    if exact(radius) != chosen:  # a float tie the counter cannot see: search on the window
        radius, chosen, edges = _nearest_step(exact, usage)
    # Pairs exactly on the circle (e.g. the seed's radius 0.5) make steps one float wide at a
    # step's edge, which the counter skips; take one when it is strictly nearer the target.
    return min(((r, exact(r)) for r in (radius, *edges)), key=lambda ru: abs(ru[1] - usage))


def _nearest_step(
    usage_at: Callable[[float], float], usage: float
) -> tuple[float, float, tuple[float, ...]]:
    """The middle of the usage step nearest ``usage``, that step's usage and the step edges."""

    def achieved(radius: float) -> float:
        return usage_at(radius) if radius > 0 else 0.0

    below_r, reach_r = _bisect_radius(lambda r: achieved(r) >= usage, 0.0, _MAX_RADIUS)
    above, below = achieved(reach_r), achieved(below_r)
    if below > 0 and usage - below < above - usage:
        chosen, end = below, reach_r  # the lower step ends where the upper one starts
        start = _bisect_radius(lambda r: achieved(r) >= below, 0.0, below_r)[1]
    else:
        chosen, start = above, reach_r
        end = _bisect_radius(lambda r: achieved(r) > above, reach_r, _MAX_RADIUS)[1]
    middle = 0.5 * (start + end)
    # Float rounding can leave a step only an ulp or two wide; its midpoint then rounds out of it.
    radius = middle if achieved(middle) == chosen else start
    return radius, chosen, (below_r, reach_r, start, end)


def _bisect_radius(reaches: Callable[[float], bool], lo: float, hi: float) -> tuple[float, float]:
    """``(lo, hi)`` around the smallest radius in (lo, hi] for which ``reaches`` turns true.

    Stops when the bracket cannot be split any more in float64 (about 53 steps from [0, 2]).
    """
    while True:
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            return lo, hi
        if reaches(mid):
            hi = mid
        else:
            lo = mid


def diagonal_halfbandwidth(n_x: int, n_y: int, reduction: float) -> float:
    """Half-bandwidth of the 'diagonal' band that removes ``reduction`` of the weights."""
    _check_reduction(reduction)
    return (n_x * n_y / math.sqrt(n_x * n_x + n_y * n_y)) * (1.0 - math.sqrt(reduction))


def window_diagonal(
    n_x: int, n_y: int, reduction: float = 0.5, halfbandwidth: float = 0.0
) -> np.ndarray:
    """Schizophrenia-mimicking band window; bool array of shape ``(n_y, n_x)``.

    Args:
        n_x: Channels on the x axis.
        n_y: Channels on the y axis.
        reduction: Fraction of weights to remove (``param_reduction``).
        halfbandwidth: Explicit half-bandwidth; used instead of ``reduction`` when non-zero.
    """
    _check_count("n_x", n_x)
    _check_count("n_y", n_y)
    hb = halfbandwidth or diagonal_halfbandwidth(n_x, n_y, reduction)
    if n_y <= 1:
        return np.ones((n_y, n_x), dtype=bool)
    rxy = (n_x - 1) / (n_y - 1)
    hw = hb * math.sqrt(rxy * rxy + 1)
    j = np.arange(n_y)
    a = rxy * j - hw
    b = rxy * j + hw
    x0 = np.where(a >= 0, np.floor(np.maximum(a, 0)) + 1, 0)
    x1 = np.where(b < n_x, np.ceil(b), n_x)
    x1 = np.where(x0 > n_x - 1, 0, x1)
    i = np.arange(n_x)
    return (i[None, :] >= x0[:, None]) & (i[None, :] < x1[:, None])


def window_gaussian(
    n_x: int, n_y: int, reduction: float = 0.5, halfbandwidth: float = 0.0
) -> tuple[np.ndarray, float]:
    """Soft-band 'gaussian' window of shape ``(n_y, n_x)``, scaled to mean 1, and its usage.

    The computed half-bandwidth is widened by 1.5 (an explicit one is used as given).
    """
    _check_count("n_x", n_x)
    _check_count("n_y", n_y)
    hb = halfbandwidth or 1.5 * diagonal_halfbandwidth(n_x, n_y, reduction)
    if hb <= 0 or n_y <= 1:
        return np.ones((n_y, n_x)), 1.0
    rxy = (n_x - 1) / (n_y - 1)
    s2 = 1.0 / (2.0 * hb * hb)
    offset = np.arange(n_x)[None, :] - rxy * np.arange(n_y)[:, None]
    g = np.exp(-offset * offset * s2)
    total = g.sum()
    return g * (n_x * n_y / total), float(total / (n_x * n_y))


def window_random(shape: Sequence[int], reduction: float, seed: int) -> np.ndarray:
    """Keep every entry independently with probability ``1 - reduction``; bool array.

    Reproducible on any machine: NumPy's PCG64 stream is platform-independent.
    """
    _check_reduction(reduction)
    return np.random.default_rng(seed).random(tuple(shape)) >= reduction


def grid_for(channels: int) -> tuple[int, int]:
    """The exact ``(rows, cols)`` factorisation of ``channels`` nearest a square, rows <= cols."""
    _check_count("channels", channels)
    rows = math.isqrt(channels)
    while channels % rows:
        rows -= 1
    return rows, channels // rows


@dataclass(frozen=True)
class WindowSpec:
    """Everything that determines a window besides the layer's shape.

    Attributes:
        form: One of :data:`FORMS`.
        radius: '2d' connection radius (``window2d_width``).
        x_width: '2d' grid width on the x axis (``input2d_width``).
        y_width: '2d' grid width on the y axis (``output2d_width``).
        reduction: Fraction of weights removed by 'diagonal', 'gaussian' and random forms.
        halfbandwidth: Explicit band half-width for 'diagonal' / 'gaussian' (0: computed).
        seed: Seed of the random forms.
    """

    form: str
    radius: float = 1.41
    x_width: int = 10
    y_width: int = 10
    reduction: float = 0.5
    halfbandwidth: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {self.form!r}")
        if self.form in RANDOM_FORMS and self.seed is None:
            raise ValueError(f"form {self.form!r} needs a seed")

    def resolve(self, n_x: int, n_y: int) -> WindowSpec:
        """A spec is a recipe that needs nothing from the shape: itself."""
        return self

    def build(self, n_x: int, n_y: int, kernel_shape: tuple[int, ...] = ()) -> Window:
        """The window of a layer with ``n_x`` x channels, ``n_y`` y channels and a kernel."""
        halfbandwidth = 0.0
        if self.form == "2d":
            values = window_2d(n_x, n_y, self.x_width, self.y_width, self.radius)
        elif self.form == "diagonal":
            values = window_diagonal(n_x, n_y, self.reduction, self.halfbandwidth)
            halfbandwidth = self.halfbandwidth or diagonal_halfbandwidth(n_x, n_y, self.reduction)
        elif self.form == "gaussian":
            values, usage = window_gaussian(n_x, n_y, self.reduction, self.halfbandwidth)
            halfbandwidth = self.halfbandwidth or 1.5 * diagonal_halfbandwidth(
                n_x, n_y, self.reduction
            )
            return Window(values, usage, halfbandwidth)
        elif self.form == "kernel":  # random forms have a seed: __post_init__ refuses None
            values = window_random((n_y, n_x), self.reduction, cast(int, self.seed))
        else:  # 'random' / 'individual': every weight on its own
            shape = (n_y, n_x, *kernel_shape)
            values = window_random(shape, self.reduction, cast(int, self.seed))
        return Window(values, binary_usage(values), halfbandwidth)


@dataclass(frozen=True)
class Window:
    """A built window: ``values`` (bool, or float64 for 'gaussian'), its usage and band width."""

    values: np.ndarray
    usage: float
    halfbandwidth: float = 0.0


def binary_usage(values: np.ndarray) -> float:
    """Fraction of ones, computed as the original did (1 - zeros / size)."""
    size = values.size
    return 1.0 - (size - int(np.count_nonzero(values))) / size

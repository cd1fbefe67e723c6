"""Window recipes: what a layer's window is made of, for any framework (NumPy only).

A *recipe* says how to make a window; the layer's shape says how big. ``resolve(recipe, n_x,
n_y, kernel_shape)`` checks the shape and refuses absurd sizes at once, then turns the recipe
into a :class:`~bionn.windows.WindowSpec` (a concrete form and its parameters), whose ``build``
gives the window. Both ``bionn.layers`` (PyTorch) and ``bionn.keras`` build on this module; it
imports neither framework. Mouse: Saiga et al. 2025 (Sci. Rep. 15:25091); schizophrenia:
Mizutani et al. 2022 (Front. Neurorobot. 16:851471).

API summary:

- Recipes (anything with ``form`` and ``resolve(n_x, n_y) -> WindowSpec``):
  :func:`mouse` (``usage=`` or ``radius=``, optional ``(rows, cols)`` grids; the radius and
  default grids depend on the shape, so it resolves late), :func:`schizo` (clean schizophrenia
  API: ``form``, ``usage`` kept, ``seed``) and :func:`seed_args` (the seed's argument set:
  ``form``, ``param_reduction``, ``halfbandwidth``, ``input2d_width`` ...). Both return a
  ``WindowSpec``, itself a recipe that resolves to itself. Random forms record their seed, drawn
  with ``draw_seed`` (default :func:`python_seed`) when not given.
- :func:`resolve` / :func:`build_window`: channel counts checked, size checked
  (:func:`check_window_size`, ``MemoryError`` naming the size), then resolved / built.
  Windows are oriented ``(n_y, n_x[, *kernel])``; see docs/spec.md for which axis is x.
- Scalar checks that accept what torch accepts (Python, NumPy, 0-d tensors) without importing
  torch, refuse bool and non-integral values, and name the argument: :func:`as_count`,
  :func:`as_real`, :func:`as_grid`, :func:`check_groups`.
- :func:`check_window_kept` (a window that keeps no weight: refused, or warned about for the
  seed's classes), :func:`warn_dead_channels` (seed grids that leave channels unconnected), the
  allowed form
  tuples ``LINEAR_FORMS``, ``CONV_FORMS``, ``SCHIZO_LINEAR_FORMS``, ``SCHIZO_CONV_FORMS``.

Example:
    >>> recipe = mouse(usage=0.35)
    >>> window = build_window(recipe, 64, 64)
    >>> window.values.shape, round(window.usage, 3)
    ((64, 64), 0.325)
"""

from __future__ import annotations

import math
import operator
import os
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bionn.windows import FORMS, RANDOM_FORMS, Window, WindowSpec, grid_for, radius_for_usage

__all__ = [
    "CONV_FORMS",
    "EmptyWindowError",
    "FORMS",
    "LINEAR_FORMS",
    "SCHIZO_CONV_FORMS",
    "SCHIZO_LINEAR_FORMS",
    "MouseRecipe",
    "Recipe",
    "as_count",
    "as_grid",
    "as_real",
    "build_window",
    "check_groups",
    "check_window_kept",
    "check_window_size",
    "mouse",
    "python_seed",
    "resolve",
    "schizo",
    "seed_args",
    "warn_dead_channels",
]

LINEAR_FORMS = ("2d", "diagonal", "gaussian", "random", "individual")
CONV_FORMS = ("2d", "diagonal", "individual", "kernel", "random")
SCHIZO_LINEAR_FORMS = ("diagonal", "gaussian", "random")
SCHIZO_CONV_FORMS = ("diagonal", "individual", "kernel")

SeedSource = Callable[[], int]


class Recipe(Protocol):
    """How to make a window; :func:`resolve` fixes it for a shape."""

    form: str

    def resolve(self, n_x: int, n_y: int) -> WindowSpec:
        """Return the concrete window spec for ``n_x`` x and ``n_y`` y channels."""
        ...


# -- scalar checks ----------------------------------------------------------------------------


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or str(getattr(value, "dtype", "")) in ("bool", "torch.bool")


def as_count(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``: any integer scalar (``operator.index``), not bool.

    Raises:
        TypeError: For bool, float or other non-integral values, naming ``name``.
        ValueError: Below ``minimum``.
    """
    if _is_bool(value):
        raise TypeError(f"{name} must be an int, got bool {value!r}")
    try:
        count = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}") from None
    if count < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {count}")
    return count


def as_real(name: str, value: Any) -> float:
    """``value`` as a float: any real scalar (Python, NumPy, 0-d tensor), not bool, str or NaN."""
    if _is_bool(value) or isinstance(value, (str, bytes)) or not hasattr(value, "__float__"):
        raise TypeError(f"{name} must be a number, got {value!r}")
    try:
        real = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(real):
        raise TypeError(f"{name} must be a number, got nan")
    return real


def _as_unit(name: str, value: Any, *, closed_low: bool) -> float:
    real = as_real(name, value)
    if not ((real >= 0 if closed_low else real > 0) and real <= 1):
        raise ValueError(f"{name} must be in {'[0, 1]' if closed_low else '(0, 1]'}, got {value!r}")
    return real


def as_grid(name: str, grid: Any) -> tuple[int, int] | None:
    """A ``(rows, cols)`` pair of ints (None passes); a single int is refused, being ambiguous."""
    if grid is None:
        return None
    if isinstance(grid, (str, bytes)) or not hasattr(grid, "__len__"):
        raise TypeError(f"{name} must be (rows, cols), a pair of ints, got {grid!r}")
    if len(grid) != 2:
        raise ValueError(f"{name} must be (rows, cols), got {grid!r}")
    return as_count(f"{name} rows", grid[0]), as_count(f"{name} cols", grid[1])


def check_groups(in_channels: Any, out_channels: Any, groups: Any) -> tuple[int, int, int]:
    """Channel counts and ``groups`` as ints; ``groups`` must divide both (checked first)."""
    counts = (as_count("in_channels", in_channels), as_count("out_channels", out_channels))
    n_groups = as_count("groups", groups)
    for name, value in zip(("in_channels", "out_channels"), counts, strict=True):
        if value % n_groups:
            raise ValueError(f"groups={n_groups} must divide {name}={value}")
    return (*counts, n_groups)


def _as_seed(seed: Any) -> int:
    if _is_bool(seed) or not hasattr(seed, "__index__") or operator.index(seed) < 0:
        raise ValueError(f"seed must be an int >= 0 (or None: drawn and recorded), got {seed!r}")
    return operator.index(seed)


def python_seed() -> int:
    """A fresh seed for random forms from Python's RNG (reproducible after ``random.seed``)."""
    return random.randrange(2**31)


def _seed_for(form: str, seed: Any, draw_seed: SeedSource) -> int | None:
    if form not in RANDOM_FORMS:
        return None
    return draw_seed() if seed is None else _as_seed(seed)


def _check_form(form: str, allowed: Sequence[str], layer: str) -> None:
    if form not in allowed:
        raise ValueError(f"{layer}: form must be one of {tuple(allowed)}, got {form!r}")


# -- recipes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MouseRecipe:
    """The clean mouse API: exact grids (default nearest a square) and ``usage`` or ``radius``.

    Attributes:
        usage: Target fraction of weights kept; the radius whose usage is nearest is used.
        radius: Connection radius; exclusive with ``usage``.
        x_grid: ``(rows, cols)`` of the x channels, or None for :func:`~bionn.windows.grid_for`.
        y_grid: ``(rows, cols)`` of the y channels.
        grid_names: How the caller names the x and y grids (in error messages).
    """

    usage: float | None = None
    radius: float | None = None
    x_grid: tuple[int, int] | None = None
    y_grid: tuple[int, int] | None = None
    grid_names: tuple[str, str] = ("in_grid", "out_grid")
    form = "2d"

    def resolve(self, n_x: int, n_y: int) -> WindowSpec:
        """The '2d' spec for this shape: grids checked, radius solved from ``usage``."""
        x_width = _grid_width(self.grid_names[0], self.x_grid, n_x)
        y_width = _grid_width(self.grid_names[1], self.y_grid, n_y)
        radius = self.radius
        if radius is None:  # then usage is not: mouse() takes exactly one of them
            radius, _ = radius_for_usage(n_x, n_y, x_width, y_width, self.usage)  # type: ignore[arg-type]
        return WindowSpec("2d", radius=radius, x_width=x_width, y_width=y_width)


def _grid_width(name: str, grid: tuple[int, int] | None, channels: int) -> int:
    rows, cols = grid or grid_for(channels)
    if rows * cols != channels:
        raise ValueError(
            f"{name}={(rows, cols)} holds {rows * cols} nodes but {name} channels is {channels}; "
            f"rows * cols must equal it (e.g. {grid_for(channels)})"
        )
    return cols


def mouse(
    usage: Any = None,
    radius: Any = None,
    x_grid: Any = None,
    y_grid: Any = None,
    *,
    grid_names: tuple[str, str] = ("in_grid", "out_grid"),
) -> MouseRecipe:
    """Mouse-mimetic recipe from exactly one of ``usage`` (in (0, 1]) and ``radius`` (> 0)."""
    if (usage is None) == (radius is None):
        raise ValueError("give exactly one of usage= (target fraction in (0, 1]) or radius= (> 0)")
    if radius is not None:
        try:
            real = as_real("radius", radius)
        except TypeError:
            real = math.nan
        if not real > 0:
            raise ValueError(f"radius must be a number > 0, got {radius!r}")
        radius = real
    else:
        usage = _as_unit("usage", usage, closed_low=False)
    return MouseRecipe(
        usage, radius, as_grid(grid_names[0], x_grid), as_grid(grid_names[1], y_grid), grid_names
    )


def schizo(
    form: str,
    usage: Any,
    seed: Any = None,
    *,
    allowed: Sequence[str] = SCHIZO_LINEAR_FORMS + SCHIZO_CONV_FORMS,
    layer: str = "layer",
    draw_seed: SeedSource = python_seed,
) -> WindowSpec:
    """The clean schizophrenia API: ``usage`` is the fraction of weights kept."""
    _check_form(form, allowed, layer)
    if usage is None:
        raise ValueError(f"{layer}: usage= is required (fraction of weights kept, in (0, 1])")
    kept = _as_unit("usage", usage, closed_low=False)
    return WindowSpec(form, reduction=1.0 - kept, seed=_seed_for(form, seed, draw_seed))


def seed_args(
    *,
    form: str,
    halfbandwidth: Any,
    param_reduction: Any,
    input2d_width: Any,
    output2d_width: Any,
    window2d_width: Any,
    seed: Any = None,
    allowed: Sequence[str] = FORMS,
    layer: str = "layer",
    draw_seed: SeedSource = python_seed,
) -> WindowSpec:
    """The seed's argument set, with the seed's meaning (see :mod:`bionn.seed_defaults`)."""
    _check_form(form, allowed, layer)
    reduction = _as_unit("param_reduction", param_reduction, closed_low=True)
    band = as_real("halfbandwidth", halfbandwidth)
    if band < 0:
        raise ValueError(f"halfbandwidth must be >= 0 (0: computed), got {halfbandwidth!r}")
    radius = as_real("window2d_width", window2d_width)
    widths = (10, 10)  # unused by other forms: any valid value keeps the spec comparable
    if form == "2d":
        widths = (
            as_count("input2d_width", input2d_width),
            as_count("output2d_width", output2d_width),
        )
        if not radius > 0:
            raise ValueError(f"window2d_width must be > 0, got {window2d_width!r}")
    return WindowSpec(
        form,
        radius=radius,
        x_width=widths[0],
        y_width=widths[1],
        reduction=reduction,
        halfbandwidth=band,
        seed=_seed_for(form, seed, draw_seed),
    )


# -- size and building -------------------------------------------------------------------------

# Bytes per built entry: the result plus the temporaries of each builder (float64 draws for the
# random forms, float64 offsets and exponentials for 'gaussian').
_BUILD_BYTES = {"2d": 2, "diagonal": 3, "gaussian": 32, "random": 9, "individual": 9, "kernel": 9}


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): allow up to 1 TiB
        return 2**40


def check_window_size(
    n_x: int, n_y: int, kernel_shape: Sequence[int], form: str, layer: str = "layer"
) -> None:
    """Refuse at once a window whose build would not fit in this machine's memory.

    Raises:
        MemoryError: Naming the window's shape, entries and the memory it needs.
    """
    entries = n_x * n_y * math.prod(kernel_shape)
    built = entries if form in ("random", "individual", "gaussian") else n_x * n_y
    needed = built * _BUILD_BYTES[form] + entries
    available = _memory_bytes()
    if needed > available:
        shape = " x ".join(str(n) for n in (n_y, n_x, *kernel_shape))
        raise MemoryError(
            f"{layer}: a '{form}' window of {shape} = {entries:,} entries needs about "
            f"{needed / 2**30:,.1f} GiB to build, more than this machine's "
            f"{available / 2**30:,.1f} GiB"
        )


def resolve(
    recipe: Recipe, n_x: Any, n_y: Any, kernel_shape: Sequence[int] = (), *, layer: str = "layer"
) -> WindowSpec:
    """Check the shape, refuse absurd sizes, then resolve ``recipe`` for it."""
    n_x, n_y = as_count("n_x", n_x), as_count("n_y", n_y)
    check_window_size(n_x, n_y, kernel_shape, recipe.form, layer)
    return recipe.resolve(n_x, n_y)


def build_window(
    recipe: Recipe, n_x: Any, n_y: Any, kernel_shape: Sequence[int] = (), *, layer: str = "layer"
) -> Window:
    """The window of ``recipe`` for this shape, oriented ``(n_y, n_x, *kernel_shape)``."""
    spec = resolve(recipe, n_x, n_y, kernel_shape, layer=layer)
    return spec.build(int(n_x), int(n_y), tuple(kernel_shape))


def warn_dead_channels(
    n_x: int, n_y: int, spec: WindowSpec, layer: str, stacklevel: int = 4
) -> None:
    """Warn when a '2d' grid leaves channels outside whole rows (the seed's behaviour)."""
    if spec.form != "2d" or n_y <= 1 or spec.x_width > n_x or spec.y_width > n_y:
        return  # nothing to warn about, or the builder refuses the grid with an error
    if n_y % spec.y_width:
        dead = n_y - (n_y // spec.y_width) * spec.y_width
        warnings.warn(
            f"{layer}: {n_y} y channels are not a multiple of output2d_width={spec.y_width}; "
            f"the last {dead} are never connected (dead), as in the original code",
            stacklevel=stacklevel,
        )
    if n_x % spec.x_width:
        warnings.warn(
            f"{layer}: {n_x} x channels are not a multiple of input2d_width={spec.x_width}; "
            "the channels of the last partial grid row sit outside the unit plane",
            stacklevel=stacklevel,
        )


def _asked(recipe: Recipe) -> str:
    """What the caller asked of ``recipe``, in the words of its API (for error messages)."""
    if isinstance(recipe, MouseRecipe):
        return f"usage={recipe.usage!r}" if recipe.radius is None else f"radius={recipe.radius!r}"
    spec: WindowSpec = recipe  # type: ignore[assignment]  # the only other recipe class
    if spec.form == "2d":
        return (
            f"window2d_width={spec.radius!r} (input2d_width={spec.x_width}, "
            f"output2d_width={spec.y_width})"
        )
    asked = f"usage={1.0 - spec.reduction:.4g} (param_reduction={spec.reduction:.4g})"
    if spec.halfbandwidth:
        asked += f", halfbandwidth={spec.halfbandwidth!r}"
    return asked if spec.seed is None else f"{asked}, seed={spec.seed}"


class EmptyWindowError(ValueError):
    """A window that keeps no weight: the layer would be dead (see :func:`check_window_kept`)."""


def check_window_kept(
    window: Window,
    recipe: Recipe,
    n_x: int,
    n_y: int,
    kernel_shape: Sequence[int] = (),
    *,
    layer: str = "layer",
    refuse: bool = True,
    stacklevel: int = 4,
) -> None:
    """Refuse a window that keeps no weight: the layer would be dead (its output only its bias).

    A tiny 'random' layer at a low usage, a radius or band that connects nothing, or
    ``param_reduction=1`` give such windows. The clean API refuses them; the seed's classes,
    which reproduce the original code, warn and build the dead layer (``refuse=False``).

    Args:
        window: The built window.
        recipe: The recipe it was built from (the message says what was asked of it).
        n_x: Channels on the x axis.
        n_y: Channels on the y axis.
        kernel_shape: The spatial kernel dims (for the message).
        layer: The layer's class name.
        refuse: Raise; otherwise warn.
        stacklevel: Of the warning, counted from this function.

    Raises:
        EmptyWindowError: The window keeps no weight and ``refuse`` is true, naming the layer,
            its window's shape and what was asked.
    """
    if window.usage > 0:
        return
    shape = " x ".join(str(n) for n in (n_y, n_x, *kernel_shape))
    message = (
        f"{layer}: the {shape} '{recipe.form}' window keeps no weight at {_asked(recipe)}; the "
        "layer would be dead (its output only its bias): keep more weights (a larger usage, "
        "radius or band) or give the layer more channels"
    )
    if refuse:
        raise EmptyWindowError(message)
    warnings.warn(message, stacklevel=stacklevel)

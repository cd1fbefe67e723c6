"""Turn each API family's arguments into a :class:`~bionn.windows.WindowSpec`, with clear errors.

Three families share the layers: the clean mouse API (``usage=`` or ``radius=``, grids by data
flow), the clean schizophrenia API (``usage=``, ``form=``) and the seed-compatible one
(``param_reduction``, ``input2d_width`` ...). Framework-neutral, so the Keras layers use it too.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

from bionn.windows import FORMS, RANDOM_FORMS, WindowSpec, grid_for, radius_for_usage

LINEAR_FORMS = ("2d", "diagonal", "gaussian", "random", "individual")
CONV_FORMS = ("2d", "diagonal", "individual", "kernel", "random")
SCHIZO_LINEAR_FORMS = ("diagonal", "gaussian", "random")
SCHIZO_CONV_FORMS = ("diagonal", "individual", "kernel")


def check_channels(**counts: int) -> None:
    """Channel counts must be positive ints."""
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


def check_groups(in_channels: int, out_channels: int, groups: int) -> None:
    """``groups`` must divide both channel counts (checked before the parent does)."""
    check_channels(groups=groups)
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if value % groups:
            raise ValueError(f"groups={groups} must divide {name}={value}")


SeedSource = Callable[[], int]


def python_seed() -> int:
    """A fresh seed for random forms from Python's RNG (reproducible after ``random.seed``)."""
    return random.randrange(2**31)


def _check_form(form: str, allowed: Sequence[str], layer: str) -> None:
    if form not in allowed:
        raise ValueError(f"{layer}: form must be one of {tuple(allowed)}, got {form!r}")


def _check_unit(name: str, value: float, *, closed_low: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f"{name} must be a number, got {value!r}")
    low_ok = value >= 0 if closed_low else value > 0
    if not (low_ok and value <= 1):
        interval = "[0, 1]" if closed_low else "(0, 1]"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")


def _check_grid(name: str, grid: Sequence[int], channels: int, channel_name: str) -> int:
    """Validate a ``(rows, cols)`` grid for ``channels``; returns its width (cols)."""
    if len(grid) != 2:
        raise ValueError(f"{name} must be (rows, cols), got {grid!r}")
    rows, cols = grid
    check_channels(**{f"{name} rows": rows, f"{name} cols": cols})
    if rows * cols != channels:
        raise ValueError(
            f"{name}={tuple(grid)} holds {rows * cols} nodes but {channel_name} is {channels}; "
            f"rows * cols must equal it (e.g. {grid_for(channels)})"
        )
    return cols


def mouse_spec(
    *,
    n_x: int,
    n_y: int,
    x_grid: Sequence[int] | None,
    y_grid: Sequence[int] | None,
    x_grid_name: str,
    y_grid_name: str,
    usage: float | None,
    radius: float | None,
) -> WindowSpec:
    """The clean mouse API: exact grids (default nearest a square) and ``usage`` or ``radius``."""
    if (usage is None) == (radius is None):
        raise ValueError("give exactly one of usage= (target fraction in (0, 1]) or radius= (> 0)")
    x_width = _check_grid(x_grid_name, x_grid or grid_for(n_x), n_x, f"{x_grid_name} channels")
    y_width = _check_grid(y_grid_name, y_grid or grid_for(n_y), n_y, f"{y_grid_name} channels")
    if radius is None:
        _check_unit("usage", usage, closed_low=False)  # type: ignore[arg-type]
        radius, _ = radius_for_usage(n_x, n_y, x_width, y_width, usage)  # type: ignore[arg-type]
    elif isinstance(radius, bool) or not isinstance(radius, (int, float)) or not radius > 0:
        raise ValueError(f"radius must be a number > 0, got {radius!r}")
    return WindowSpec("2d", radius=float(radius), x_width=x_width, y_width=y_width)


def schizo_spec(
    *,
    form: str,
    usage: float | None,
    seed: int | None,
    allowed: Sequence[str],
    layer: str,
    draw_seed: SeedSource = python_seed,
) -> WindowSpec:
    """The clean schizophrenia API: ``usage`` is the fraction of weights kept."""
    _check_form(form, allowed, layer)
    if usage is None:
        raise ValueError(f"{layer}: usage= is required (fraction of weights kept, in (0, 1])")
    _check_unit("usage", usage, closed_low=False)
    return WindowSpec(form, reduction=1.0 - usage, seed=_seed_for(form, seed, draw_seed))


def seed_args_spec(
    *,
    form: str,
    halfbandwidth: float,
    param_reduction: float,
    input2d_width: int,
    output2d_width: int,
    window2d_width: float,
    seed: int | None,
    allowed: Sequence[str],
    layer: str,
    draw_seed: SeedSource = python_seed,
) -> WindowSpec:
    """The seed's arguments, with the seed's defaults and meaning."""
    _check_form(form, allowed, layer)
    _check_unit("param_reduction", param_reduction, closed_low=True)
    if form == "2d":
        check_channels(input2d_width=input2d_width, output2d_width=output2d_width)
        if not window2d_width > 0:
            raise ValueError(f"window2d_width must be > 0, got {window2d_width!r}")
    if halfbandwidth < 0:
        raise ValueError(f"halfbandwidth must be >= 0 (0: computed), got {halfbandwidth!r}")
    return WindowSpec(
        form,
        radius=float(window2d_width),
        x_width=input2d_width,
        y_width=output2d_width,
        reduction=float(param_reduction),
        halfbandwidth=float(halfbandwidth),
        seed=_seed_for(form, seed, draw_seed),
    )


def _seed_for(form: str, seed: int | None, draw_seed: SeedSource) -> int | None:
    if form not in RANDOM_FORMS:
        return None
    if seed is None:
        return draw_seed()
    if isinstance(seed, bool) or not hasattr(seed, "__index__") or int(seed) < 0:
        raise ValueError(f"seed must be an int >= 0 (or None: drawn and recorded), got {seed!r}")
    return int(seed)


__all__ = [
    "CONV_FORMS",
    "FORMS",
    "LINEAR_FORMS",
    "SCHIZO_CONV_FORMS",
    "SCHIZO_LINEAR_FORMS",
    "check_channels",
    "check_groups",
    "python_seed",
    "mouse_spec",
    "schizo_spec",
    "seed_args_spec",
]

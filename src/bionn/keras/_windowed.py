"""The mixin shared by every Keras layer: window constant, masked kernel, saving, counting.

A windowed Keras layer is a plain ``Dense`` / ``Conv2D`` / ``Conv2DTranspose`` whose ``call`` uses
``kernel * window``. The window is rebuilt from the layer's config in ``build`` (random forms:
from the seed in the config) and held in a non-trainable ``keras.Variable`` that the layer does
not track: optimisers never see it, masked entries of the effective kernel stay exactly zero,
and ``.keras`` files hold only kernel and bias, plus a checksum of the window so that weights
saved under another window configuration are refused on load.

Keras kernels end in the two channel axes ``(..., x, y)`` for all three layer kinds (Dense
``(in, out)``, Conv2D ``(kh, kw, in // groups, out)``, Conv2DTranspose ``(kh, kw, out, in)``), so
the window of :class:`~bionn.windows.WindowSpec` (oriented ``(y, x, kh, kw)``) is transposed
once, and the same seed gives the same window as the matching PyTorch layer.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import keras
import numpy as np
from keras import backend, ops

from bionn.layers._specs import CONV_FORMS, mouse_spec, schizo_spec, seed_args_spec
from bionn.layers._windowed import warn_dead_channels
from bionn.windows import BINARY_FORMS, WindowSpec

__all__ = ["MouseWindow", "WindowedKerasLayer", "keras_layout", "named_errors", "window_digest"]

# The store key of the window checksum beside the parent's "0" (kernel) and "1" (bias).
CHECKSUM_KEY = "window_sha256"

T = TypeVar("T")

# The '2d' arguments of layers that have none (SzDense, SzConv2D): the seed's defaults, unused.
_NO_GRIDS = {"input2d_width": 10, "output2d_width": 10, "window2d_width": 1.41}


def named_errors(name: str, make: Callable[..., T], /, **kwargs: Any) -> T:
    """``make(**kwargs)``, with the layer's name in front of any ValueError / TypeError."""
    try:
        return make(**kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        if not message.startswith(f"{name}:"):
            message = f"{name}: {message}"
        raise type(err)(message) from None


def keras_layout(values: np.ndarray, kernel_shape: tuple[int, ...]) -> np.ndarray:
    """Lay a ``(y, x[, kh, kw])`` window out as a Keras kernel ``(..., x, y)``, over space too."""
    transposed = np.transpose(values, tuple(range(2, values.ndim)) + (1, 0))
    return np.broadcast_to(transposed, kernel_shape)


def window_digest(values: np.ndarray, kernel_shape: tuple[int, ...]) -> np.ndarray:
    """SHA-256 of the window and the kernel shape, as 32 uint8 (a weight store holds arrays)."""
    data = np.packbits(values) if values.dtype == bool else values.astype(np.float32)
    digest = hashlib.sha256(repr(kernel_shape).encode() + data.tobytes()).digest()
    return np.frombuffer(digest, dtype=np.uint8)


class _Untracked:
    """Holds a variable where Keras' attribute tracking does not look."""

    def __init__(self, variable: Any) -> None:
        self.variable = variable


class WindowedKerasLayer:
    """Mixin for Keras layers whose kernel is multiplied by a fixed window.

    Subclasses call one of the ``_setup_*`` methods in ``__init__`` (after the parent's) and,
    where the parent names its kernel otherwise, override :meth:`_kernel_variable`; the mixin's
    ``build`` runs the parent's with the initial scaling, then holds the window.
    """

    name: str
    built: bool
    window_spec: WindowSpec | None
    usage: float | None
    halfbandwidth: float
    scale_init: bool

    def _setup_window(
        self, config: Mapping[str, Any], spec: WindowSpec | None, scale_init: bool
    ) -> None:
        # A tuple, not a dict: Keras wraps dict attributes into tracked structures.
        self._window_config = tuple(config.items()) + (("scale_init", bool(scale_init)),)
        self.window_spec = spec
        self.scale_init = bool(scale_init)
        self.usage = None
        self.halfbandwidth = 0.0
        self._window_holder: _Untracked | None = None
        self._window_values: np.ndarray | None = None
        self._window_counts = (0, 0)  # (size, ones)
        self._window_digest: np.ndarray | None = None

    def _setup_seed_window(
        self, allowed: tuple[str, ...], seed: int | None, scale_init: bool, **seed_args: Any
    ) -> None:
        """Check and record the seed's arguments (``form``, ``param_reduction`` ...)."""
        layer = type(self).__name__
        spec = named_errors(layer, seed_args_spec, allowed=allowed, layer=layer, seed=seed,
                            **{**_NO_GRIDS, **seed_args})  # fmt: skip
        self._setup_window({**seed_args, "seed": spec.seed}, spec, scale_init)

    def _setup_schizo_window(
        self, allowed: tuple[str, ...], usage: float | None, form: str, seed: int | None,
        scale_init: bool,
    ) -> None:  # fmt: skip
        """Check and record the clean schizophrenia arguments (``usage``, ``form``, ``seed``)."""
        layer = type(self).__name__
        spec = named_errors(layer, schizo_spec, form=form, usage=usage, seed=seed,
                            allowed=allowed, layer=layer)  # fmt: skip
        self._setup_window({"usage": usage, "form": form, "seed": spec.seed}, spec, scale_init)

    # -- to provide ---------------------------------------------------------------------------

    def _kernel_variable(self) -> Any:
        """Return the kernel ``keras.Variable`` (the parent names it ``_kernel`` or ``kernel``)."""
        return self._kernel  # type: ignore[attr-defined]

    def _spec_for(self, n_x: int, n_y: int) -> WindowSpec:
        """Return the window spec for these channel counts (fixed at construction here)."""
        assert self.window_spec is not None
        return self.window_spec

    # -- build ----------------------------------------------------------------------------------

    def build(self, input_shape: Any) -> None:
        """Run the parent's build with the window's initial scaling, then hold the window.

        The scaling lives in the kernel initializer, not in an ``assign`` after the parent's
        build: Keras may build inside a stateless scope (a lazily built model in ``fit``), where
        variables are initialised later and assignments are dropped.
        """
        original = self.kernel_initializer
        if self.scale_init:
            self.kernel_initializer = functools.partial(self._scaled_kernel, original)
        try:
            super().build(input_shape)  # type: ignore[misc]
        finally:
            self.kernel_initializer = original
        values = self._window_for(self._kernel_variable().shape)
        # A Keras variable, so that Keras creates it where it creates the kernel (never inside
        # a trace), but held out of the layer's tracking: no optimiser, summary or file sees it.
        variable = keras.Variable(
            initializer=lambda shape, dtype: ops.convert_to_tensor(values, dtype=dtype),
            shape=values.shape,
            dtype=self.variable_dtype,  # type: ignore[attr-defined]
            trainable=False,
            name="window",
        )
        self._window_holder = _Untracked(variable)

    def _window_for(self, kernel_shape: Any) -> np.ndarray:
        """Build (once) the window of a kernel of this shape, in Keras layout."""
        shape = tuple(int(n) for n in kernel_shape)
        if self._window_values is not None and self._window_values.shape == shape:
            return self._window_values
        n_x, n_y = shape[-2:]
        layer = type(self).__name__
        spec = named_errors(layer, self._spec_for, n_x=n_x, n_y=n_y)
        warn_dead_channels(n_x, n_y, spec, layer)
        built = named_errors(layer, spec.build, n_x=n_x, n_y=n_y, kernel_shape=shape[:-2])
        values = keras_layout(built.values, shape)
        self.window_spec = spec
        self.usage = built.usage
        self.halfbandwidth = built.halfbandwidth
        self._window_counts = (values.size, int(np.count_nonzero(values)))
        self._window_digest = window_digest(built.values, shape)
        self._window_values = values
        return values

    def _scaled_kernel(self, initializer: Any, shape: Any, dtype: Any = None) -> Any:
        """Draw the initial kernel, then scale it as SPEC says (binary forms only)."""
        kernel = initializer(shape, dtype=dtype)
        values = self._window_for(shape)
        if not self.is_binary:
            return kernel  # SPEC: the 'gaussian' kernel is not pre-scaled.
        size, ones = self._window_counts
        factor = values * (size / ones if ones else 1.0)
        return ops.multiply(kernel, ops.convert_to_tensor(factor, dtype=dtype))

    @property
    def window(self) -> Any:
        """The factor applied to the kernel, in the kernel's shape (``None`` until built)."""
        return None if self._window_holder is None else self._window_holder.variable.value

    @property
    def is_binary(self) -> bool:
        """Whether the window is a 0/1 mask (every form but 'gaussian')."""
        return self.form in BINARY_FORMS

    @property
    def form(self) -> str:
        """The window form."""
        return self.window_spec.form if self.window_spec else "2d"

    def masked_kernel(self, kernel: Any = None) -> Any:
        """Return the effective kernel ``kernel * window`` (``kernel``: default the layer's)."""
        if self._window_holder is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: build the layer first")
        kernel = self._kernel_variable() if kernel is None else kernel
        window = self._window_holder.variable
        if backend.standardize_dtype(window.dtype) != backend.standardize_dtype(kernel.dtype):
            window = ops.cast(window, kernel.dtype)
        return ops.multiply(kernel, window)

    def quantize(self, mode: Any = None, **kwargs: Any) -> None:
        """Not supported: the quantised paths of Keras would bypass the window."""
        raise NotImplementedError(f"{type(self).__name__}: windowed layers cannot be quantized")

    # -- serialisation --------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Return the parent's config plus every window argument (random forms: their seed)."""
        return {**super().get_config(), **dict(self._window_config)}  # type: ignore[misc]

    def save_own_variables(self, store: Any) -> None:
        """Kernel and bias as the parent saves them, plus the window's checksum."""
        super().save_own_variables(store)  # type: ignore[misc]
        if self.built and self._window_digest is not None:
            store[CHECKSUM_KEY] = self._window_digest

    def load_own_variables(self, store: Any) -> None:
        """Refuse weights saved under another window; plain-layer weights (no checksum) load."""
        keys = list(store.keys())
        if CHECKSUM_KEY in keys and self._window_digest is not None:
            saved = np.asarray(store[CHECKSUM_KEY])
            if not np.array_equal(saved, self._window_digest):
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: the saved weights were trained with "
                    f"another window than this layer's ({self._window_repr()}); build the layer "
                    "with the same form, usage/radius, grids, reduction and seed as the saved one"
                )
        parent_store = {key: store[key] for key in keys if key != CHECKSUM_KEY}
        super().load_own_variables(parent_store)  # type: ignore[misc]

    # -- counting (seed-compatible names) -------------------------------------------------------

    def get_num_weights(self) -> int:
        """Window size, spatial kernel dims included."""
        return self._window_counts[0]

    def get_num_zeros(self) -> int:
        """Weights the window removes (for 'gaussian': the removed share of the window size)."""
        size, ones = self._window_counts
        if self.is_binary:
            return size - ones
        return round(size * (1.0 - (self.usage or 0.0)))

    def get_reduced_ratio(self) -> float:
        """Fraction of weights removed: ``1 - usage``."""
        return 1.0 - self.usage if self.usage is not None else 0.0

    def get_halfbandwidth(self) -> float:
        """Return the band half-width of 'diagonal' / 'gaussian' windows (0 for other forms)."""
        return self.halfbandwidth

    def _window_repr(self) -> str:
        spec = self.window_spec
        if spec is None or self.usage is None:
            return f"form={self.form!r}, not built"
        text = f"form={spec.form!r}, usage={self.usage:.4f}"
        if spec.form == "2d":
            text += f", radius={spec.radius:.4g}, grids=(x:{spec.x_width}, y:{spec.y_width})"
        if spec.seed is not None:
            text += f", seed={spec.seed}"
        return text

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, {self._window_repr()}>"


class MouseWindow(WindowedKerasLayer):
    """The clean mouse API: exact grids and ``usage`` or ``radius``, resolved in ``build``.

    ``_grid_names`` names the grids of the x and y axes (by data flow: the transposed conv's x
    axis is its output).
    """

    _grid_names = ("in_grid", "out_grid")

    def _setup_mouse(
        self,
        usage: float | None,
        radius: float | None,
        in_grid: Any,
        out_grid: Any,
        scale_init: bool,
    ) -> None:
        # Check usage / radius now; grids need the channel counts, known in build.
        named_errors(type(self).__name__, _mouse_spec, n_x=1, n_y=1, grids=(None, None),
                     usage=usage, radius=radius, names=self._grid_names)  # fmt: skip
        grids = {name: named_errors(type(self).__name__, _as_grid, name=name, grid=grid)
                 for name, grid in (("in_grid", in_grid), ("out_grid", out_grid))}  # fmt: skip
        config = {"usage": usage, "radius": radius, **grids}
        self._setup_window(config, None, scale_init)

    def _spec_for(self, n_x: int, n_y: int) -> WindowSpec:
        config = dict(self._window_config)
        grids = tuple(config[name] for name in self._grid_names)
        return _mouse_spec(n_x=n_x, n_y=n_y, grids=grids, usage=config["usage"],
                           radius=config["radius"], names=self._grid_names)  # fmt: skip


def _as_grid(name: str, grid: Any) -> tuple[int, ...] | None:
    """Return a grid as a tuple (JSON-friendly in the config); values are checked in build."""
    if grid is None:
        return None
    try:
        return tuple(grid)
    except TypeError:
        raise TypeError(f"{name} must be (rows, cols), got {grid!r}") from None


def _mouse_spec(
    *,
    n_x: int,
    n_y: int,
    grids: tuple[Any, Any],
    usage: float | None,
    radius: float | None,
    names: tuple[str, str],
) -> WindowSpec:
    return mouse_spec(n_x=n_x, n_y=n_y, x_grid=grids[0], y_grid=grids[1], x_grid_name=names[0],
                      y_grid_name=names[1], usage=usage, radius=radius)  # fmt: skip


class SeedConvWindow(WindowedKerasLayer):
    """The seed's conv arguments (``mConv2D``, ``mConv2DTranspose``): window args by keyword.

    Positional arguments are the Keras layer's own, as in the seed's files.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        *args: Any,
        halfbandwidth: float = 0,
        param_reduction: float = 0.5,
        form: str = "diagonal",
        input2d_width: int = 10,
        output2d_width: int = 10,
        window2d_width: float = 1.41,
        seed: int | None = None,
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(filters, kernel_size, *args, **kwargs)  # type: ignore[call-arg]
        self._setup_seed_window(
            CONV_FORMS, seed, scale_init, halfbandwidth=halfbandwidth,
            param_reduction=param_reduction, form=form, input2d_width=input2d_width,
            output2d_width=output2d_width, window2d_width=window2d_width,
        )  # fmt: skip

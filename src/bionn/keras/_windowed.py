"""The mixin shared by every Keras layer: recipe, window constant, masked kernel, saving, counting.

A windowed Keras layer is a plain ``Dense`` / ``Conv2D`` / ``Conv2DTranspose`` given a window
recipe (:mod:`bionn.recipes`); its ``call`` uses ``kernel * window``. The window is rebuilt
from the recipe in ``build`` (random forms: from the seed the recipe records), which is
deterministic, and held in a non-trainable ``keras.Variable`` that the layer does not track:
optimisers never see it, masked entries of the effective kernel stay exactly zero, and
``.keras`` files hold only kernel and bias, plus a checksum of the window so that weights
saved under another window are refused on load.

Keras kernels end in the two channel axes ``(..., x, y)`` for all three layer kinds (Dense
``(in, out)``, Conv2D ``(kh, kw, in // groups, out)``, Conv2DTranspose ``(kh, kw, out, in)``), so
the recipe's window (oriented ``(y, x, kh, kw)``) is transposed once, and the same recipe gives
the same window as the matching PyTorch layer.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import keras
import numpy as np
from keras import backend, ops

from bionn import recipes
from bionn.recipes import MouseRecipe, Recipe
from bionn.windows import BINARY_FORMS, WindowSpec

__all__ = [
    "WindowedKerasLayer",
    "keras_layout",
    "named_errors",
    "recipe_from_config",
    "recipe_to_config",
    "window_digest",
]

# The store key of the window checksum beside the parent's "0" (kernel) and "1" (bias).
CHECKSUM_KEY = "window_sha256"

T = TypeVar("T")

# Recipe classes a layer config may name (JSON holds the name and the dataclass fields).
_RECIPES: dict[str, type] = {"MouseRecipe": MouseRecipe, "WindowSpec": WindowSpec}


def named_errors(name: str, make: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``make(*args, **kwargs)``, with the layer's name in front of any ValueError / TypeError."""
    try:
        return make(*args, **kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        if not message.startswith(f"{name}:"):
            message = f"{name}: {message}"
        raise type(err)(message) from None


def recipe_to_config(recipe: Recipe) -> dict[str, Any]:
    """A recipe as JSON-friendly values: its class name and its fields."""
    fields = dataclasses.asdict(recipe)  # type: ignore[call-overload]  # recipes are dataclasses
    return {"class_name": type(recipe).__name__, "config": fields}


def recipe_from_config(config: Recipe | Mapping[str, Any]) -> Recipe:
    """The recipe of :func:`recipe_to_config` (a recipe object passes through)."""
    if not isinstance(config, Mapping):
        if type(config).__name__ not in _RECIPES:
            raise TypeError(
                f"recipe must be one of {tuple(_RECIPES)} or their config, got {config!r}"
            )
        return config
    if config.get("class_name") not in _RECIPES:
        raise ValueError(f"recipe config must name one of {tuple(_RECIPES)}, got {dict(config)!r}")
    fields = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in config["config"].items()
    }
    return _RECIPES[config["class_name"]](**fields)


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
    """Mixin for Keras layers whose kernel is multiplied by the window of a recipe.

    Put before the Keras layer class; where the parent names its kernel otherwise than
    ``_kernel``, override :meth:`_kernel_variable`. ``build`` runs the parent's with the initial
    scaling, then holds the window. Named constructors (``MouseDense``, ``mDense`` ...) replace
    the recipe in the config by their own arguments with :meth:`_record_arguments`.

    Args:
        *args: The Keras layer's positional arguments.
        recipe: The window recipe (:mod:`bionn.recipes`), or its config from ``get_config``.
        scale_init: Scale the initial kernel by ``1 / usage`` as the original did (binary
            forms; docs/spec.md).
        **kwargs: The Keras layer's keyword arguments.
    """

    # The clean APIs' grid names on the window's (x, y) axes (see bionn.layer_arguments).
    _grid_names = ("in_grid", "out_grid")
    # Seeds of random forms drawn by the clean constructors: Python's RNG, as the recipes do.
    _draw_seed = staticmethod(recipes.python_seed)
    # A window keeping no weight raises; the seed's classes (bionn.seed_defaults) warn instead.
    _refuse_empty_window = True

    # The Keras layer's attributes that the mixin uses (Keras is untyped). Its methods, which
    # the super() calls below reach, are invisible to mypy: those calls ignore [misc].
    name: str
    built: bool
    kernel_initializer: Any
    variable_dtype: Any
    _kernel: Any  # Dense's and Conv2D's (Conv2DTranspose: kernel)
    recipe: Recipe
    window_spec: WindowSpec | None
    usage: float | None
    halfbandwidth: float
    scale_init: bool

    def __init__(
        self,
        *args: Any,
        recipe: Recipe | Mapping[str, Any],
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.recipe = named_errors(type(self).__name__, recipe_from_config, recipe)
        self.scale_init = bool(scale_init)
        self._record_arguments(recipe=recipe_to_config(self.recipe))
        self.window_spec = None
        self.usage = None
        self.halfbandwidth = 0.0
        self._window_holder: _Untracked | None = None
        self._window_values: np.ndarray | None = None
        self._window_counts = (0, 0)  # (size, ones)
        self._window_digest: np.ndarray | None = None

    def _make_recipe(self, make: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``make(*args, **kwargs)``, its errors prefixed with the layer's class name."""
        return named_errors(type(self).__name__, make, *args, **kwargs)

    def _record_arguments(self, **arguments: Any) -> None:
        """Set the window arguments that ``get_config`` returns beside the parent's."""
        # A tuple, not a dict: Keras wraps dict attributes into tracked structures.
        self._window_config = tuple(arguments.items()) + (("scale_init", self.scale_init),)

    def _kernel_variable(self) -> Any:
        """Return the kernel ``keras.Variable`` (the parent names it ``_kernel`` or ``kernel``)."""
        return self._kernel

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
            super().build(input_shape)  # type: ignore[misc]  # the Keras layer's
        finally:
            self.kernel_initializer = original
        values = self._window_for(self._kernel_variable().shape)
        # A Keras variable, so that Keras creates it where it creates the kernel (never inside
        # a trace), but held out of the layer's tracking: no optimiser, summary or file sees it.
        variable = keras.Variable(
            initializer=lambda shape, dtype: ops.convert_to_tensor(values, dtype=dtype),
            shape=values.shape,
            dtype=self.variable_dtype,
            trainable=False,
            name="window",
        )
        self._window_holder = _Untracked(variable)

    def _window_for(self, kernel_shape: Any) -> np.ndarray:
        """Build (once) the window of a kernel of this shape, in Keras layout."""
        shape = tuple(int(n) for n in kernel_shape)
        if self._window_values is not None and self._window_values.shape == shape:
            return self._window_values
        n_x, n_y, space = shape[-2], shape[-1], shape[:-2]
        layer = type(self).__name__
        spec = named_errors(layer, recipes.resolve, self.recipe, n_x, n_y, space, layer=layer)
        recipes.warn_dead_channels(n_x, n_y, spec, layer, stacklevel=6)
        built = named_errors(layer, spec.build, n_x, n_y, space)
        recipes.check_window_kept(
            built,
            self.recipe,
            n_x,
            n_y,
            space,
            layer=layer,
            refuse=self._refuse_empty_window,
            stacklevel=6,
        )
        values = keras_layout(built.values, shape)
        self.window_spec = spec
        self.usage = built.usage
        self.halfbandwidth = built.halfbandwidth
        self._window_counts = (values.size, int(np.count_nonzero(values)))
        self._window_digest = window_digest(built.values, shape)
        self._window_values = values
        return values

    def _scaled_kernel(self, initializer: Any, shape: Any, dtype: Any = None) -> Any:
        """Draw the initial kernel, then scale it as docs/spec.md says (binary forms only)."""
        kernel = initializer(shape, dtype=dtype)
        values = self._window_for(shape)
        if not self.is_binary:
            return kernel  # docs/spec.md: the 'gaussian' kernel is not pre-scaled.
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
        return self.recipe.form

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
        parent = super().get_config()  # type: ignore[misc]  # the Keras layer's
        return {**parent, **dict(self._window_config)}

    def save_own_variables(self, store: Any) -> None:
        """Kernel and bias as the parent saves them, plus the window's checksum."""
        super().save_own_variables(store)  # type: ignore[misc]  # the Keras layer's
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
        super().load_own_variables(parent_store)  # type: ignore[misc]  # the Keras layer's

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

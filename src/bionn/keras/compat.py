"""The seed's Keras names: ``mDense``, ``mConv2D``, ``mConv2DTranspose``, ``SzDense``, ``SzConv2D``.

Class statements completed from :data:`bionn.seed_defaults.SEED_LAYERS` (the one table of the
seed's window arguments and defaults), so that scripts written for the original Keras files
(Saiga et al. 2025, Sci. Rep. 15:25091; Mizutani et al. 2022, Front. Neurorobot. 16:851471) run
unchanged after ``import bionn.keras as mouse``. Each class is the windowed layer of its kind
with the seed's positional order: ``mDense(units, halfbandwidth, param_reduction, form,
input2d_width, output2d_width, window2d_width, activation, ...)``; ``mConv2D`` and
``mConv2DTranspose`` take Keras' own positional arguments and the window arguments by keyword;
``SzConv2D(filters, kernel_size, param_reduction, form, activation, padding, strides,
dilation_rate, kernel_initializer)``. Every class also takes ``seed`` (random forms; drawn and
recorded in the config when omitted) and ``scale_init`` by keyword. The transposed conv keeps
the seed's quirk: ``input2d_width`` is the grid of its *output* channels (docs/spec.md).

Example:
    >>> import numpy as np, bionn.keras as mouse
    >>> layer = mouse.mDense(32, 0, 0.5, "2d", 8, 8, 0.5, "relu")
    >>> _ = layer(np.zeros((1, 64), "float32"))
    >>> layer.form, layer.activation.__name__, round(layer.usage, 3)
    ('2d', 'relu', 0.456)

"""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

import keras

from bionn import recipes
from bionn.keras._windowed import named_errors
from bionn.keras.conv import WindowedConv2D
from bionn.keras.conv_transpose import WindowedConv2DTranspose
from bionn.keras.dense import WindowedDense
from bionn.seed_defaults import (
    KERAS_MOUSE_ARGS,
    SEED_DEFAULTS,
    SeedLayer,
    seed_class,
    seed_row,
)

__all__ = ["mConv2D", "mConv2DTranspose", "mDense", "SzConv2D", "SzDense"]

L = TypeVar("L")

# Each class's positional order: "*" stands for its row's window arguments, "..." for the rest
# of the Keras layer's arguments in Keras' order. Window arguments not placed are keyword-only.
_POSITIONS = {
    "mDense": ("units", "*", "..."),
    "SzDense": ("units", "*", "..."),
    "mConv2D": ("filters", "kernel_size", "..."),
    "mConv2DTranspose": ("filters", "kernel_size", "..."),
    "SzConv2D": (
        "filters",
        "kernel_size",
        "param_reduction",
        "form",
        "activation",
        "padding",
        "strides",
        "dilation_rate",
        "kernel_initializer",
    ),
}

# Where the Keras seed's default differs from the table's: schizo.py's SzConv2D drew weights.
_OVERRIDES = {"SzConv2D": {"form": "individual"}}

# Every argument of recipes.seed_args, with the seed's defaults (a row may take fewer).
_ALL_WINDOW_DEFAULTS = {name: SEED_DEFAULTS[name] for name in KERAS_MOUSE_ARGS}


def _keras_parameters(base: type) -> dict[str, inspect.Parameter]:
    """The named arguments of the Keras layer under ``base``, in its order."""
    keras_layer: type[Any] = next(c for c in base.__mro__ if c.__module__.startswith("keras."))
    parameters = inspect.signature(keras_layer.__init__).parameters.values()
    return {p.name: p for p in parameters if p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD}


def _positions(row: SeedLayer, base: type) -> tuple[str, ...]:
    order: list[str] = []
    for name in _POSITIONS[row.name]:
        if name == "*":
            order += row.window_args
        elif name == "...":
            order += [arg for arg in _keras_parameters(base) if arg not in order]
        else:
            order.append(name)
    return tuple(order)


def _seed_layer(cls: type[L]) -> type[L]:
    """Give the class statement ``cls`` the constructor of its row of the seed's table."""
    row = seed_row("keras", cls.__name__)
    positions = _positions(row, cls)
    defaults = {**row.defaults(), **_OVERRIDES.get(row.name, {})}

    def __init__(  # noqa: N807 - the generated class's constructor
        self: Any, *args: Any, seed: int | None = None, scale_init: bool = True, **kwargs: Any
    ) -> None:
        if len(args) > len(positions):
            raise TypeError(
                f"{row.name} takes at most {len(positions)} positional arguments "
                f"({', '.join(positions)}), got {len(args)}"
            )
        for name, value in zip(positions, args, strict=False):
            if name in kwargs:
                raise TypeError(f"{row.name} got multiple values for argument {name!r}")
            kwargs[name] = value
        window = {name: kwargs.pop(name, default) for name, default in defaults.items()}
        recipe = named_errors(
            row.name,
            recipes.seed_args,
            **{**_ALL_WINDOW_DEFAULTS, **window},
            seed=seed,
            allowed=row.forms,
            layer=row.name,
        )
        super(cls, self).__init__(recipe=recipe, scale_init=scale_init, **kwargs)
        # NumPy / 0-d tensor scalars (accepted like Python's) as Python values: JSON configs.
        plain = {
            name: value.item() if hasattr(value, "item") else value
            for name, value in window.items()
        }
        self._record_arguments(**plain, seed=recipe.seed)

    seed_class(cls, row, __init__, _signature(positions, defaults, cls))
    return keras.saving.register_keras_serializable(package="bionn")(cls)


def _signature(
    positions: tuple[str, ...], defaults: dict[str, Any], base: type
) -> inspect.Signature:
    """What ``help()`` shows: the seed's positional order, then the keyword-only arguments."""
    Parameter = inspect.Parameter  # noqa: N806 - a class
    keras_parameters = _keras_parameters(base)
    parameters = [Parameter("self", Parameter.POSITIONAL_OR_KEYWORD)]
    for name in positions:
        default = defaults[name] if name in defaults else keras_parameters[name].default
        parameters.append(Parameter(name, Parameter.POSITIONAL_OR_KEYWORD, default=default))
    keyword_only = {name: value for name, value in defaults.items() if name not in positions}
    for name, default in {**keyword_only, "seed": None, "scale_init": True}.items():
        parameters.append(Parameter(name, Parameter.KEYWORD_ONLY, default=default))
    parameters.append(Parameter("kwargs", Parameter.VAR_KEYWORD))
    return inspect.Signature(parameters)


@_seed_layer
class mDense(WindowedDense):  # noqa: N801 - the seed's name
    """The original mouse-mimetic Keras code's ``mDense``: ``Dense`` with a window of any form."""


@_seed_layer
class mConv2D(WindowedConv2D):  # noqa: N801 - the seed's name
    """The original mouse-mimetic Keras code's ``mConv2D``: ``Conv2D`` with a window."""


@_seed_layer
class mConv2DTranspose(WindowedConv2DTranspose):  # noqa: N801 - the seed's name
    """The original Keras code's ``mConv2DTranspose``; ``input2d_width`` lays out its outputs."""


@_seed_layer
class SzDense(WindowedDense):
    """The original schizophrenia-mimicking Keras code's ``SzDense``: a band or random ``Dense``."""


@_seed_layer
class SzConv2D(WindowedConv2D):
    """The original schizophrenia-mimicking Keras code's ``SzConv2D``: a band or random conv."""

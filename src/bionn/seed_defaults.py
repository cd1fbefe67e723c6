"""The seed's layer names, window arguments and defaults: one table for every framework.

The original research code (Saiga et al. 2025, Sci. Rep. 15:25091; Mizutani et al. 2022,
Front. Neurorobot. 16:851471) gave each layer the framework layer's own arguments followed by
window arguments in a fixed order with fixed defaults. ``bionn.layers.compat`` (PyTorch) and
``bionn.keras`` write their seed-compatible classes as class statements completed from
:data:`SEED_LAYERS` by :func:`seed_class` (constructor, signature, defaults in the docstring), so
a default is written once, here. Imports no framework.

Example:
    >>> [row.name for row in SEED_LAYERS if row.framework == "torch"][:2]
    ['mLinear', 'mConv2d']
    >>> SEED_DEFAULTS["window2d_width"]
    1.41
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bionn.recipes import CONV_FORMS, LINEAR_FORMS, SCHIZO_CONV_FORMS, SCHIZO_LINEAR_FORMS

__all__ = [
    "MOUSE_ARGS",
    "SCHIZO_ARGS",
    "SEED_DEFAULTS",
    "SEED_LAYERS",
    "SeedLayer",
    "seed_class",
    "seed_row",
]

T = TypeVar("T")

SEED_DEFAULTS: dict[str, Any] = {
    "halfbandwidth": 0,  # 0: computed from param_reduction (docs/spec.md 'diagonal')
    "param_reduction": 0.5,  # the seed's papers removed half the weights
    "form": "diagonal",  # the schizophrenia band was the seed's first form
    "input2d_width": 10,  # '2d' grid widths: 10 nodes per row on both planes
    "output2d_width": 10,
    "window2d_width": 1.41,  # just under sqrt(2): almost every pair connected
    "print_param_usage": False,  # the seed printed "param %usage:" when asked
}

# The window arguments in the seed's positional order, after the framework layer's own.
MOUSE_ARGS = (
    "halfbandwidth",
    "param_reduction",
    "form",
    "input2d_width",
    "output2d_width",
    "window2d_width",
    "print_param_usage",
)
SCHIZO_ARGS = ("param_reduction", "form", "halfbandwidth")
# The Keras seed put the window arguments before Dense's / Conv2D's optional ones.
KERAS_MOUSE_ARGS = MOUSE_ARGS[:-1]
KERAS_SZ_DENSE_ARGS = ("halfbandwidth", "param_reduction", "form")


@dataclass(frozen=True)
class SeedLayer:
    """One seed-compatible class.

    Attributes:
        name: The seed's class name.
        framework: 'torch' or 'keras'.
        kind: 'linear', 'conv' or 'conv_transpose' (Keras: Dense, Conv2D, Conv2DTranspose).
        window_args: Its window arguments, in the seed's order; defaults in SEED_DEFAULTS.
        forms: The forms it accepts.
    """

    name: str
    framework: str
    kind: str
    window_args: tuple[str, ...]
    forms: tuple[str, ...]

    def defaults(self) -> dict[str, Any]:
        """Its window arguments with the seed's defaults, in order."""
        return {name: SEED_DEFAULTS[name] for name in self.window_args}


SEED_LAYERS = (
    SeedLayer("mLinear", "torch", "linear", MOUSE_ARGS, LINEAR_FORMS),
    SeedLayer("mConv2d", "torch", "conv", MOUSE_ARGS, CONV_FORMS),
    SeedLayer("mConvTranspose2d", "torch", "conv_transpose", MOUSE_ARGS, CONV_FORMS),
    SeedLayer("SzLinear", "torch", "linear", SCHIZO_ARGS, SCHIZO_LINEAR_FORMS),
    SeedLayer("SzConv2d", "torch", "conv", SCHIZO_ARGS, SCHIZO_CONV_FORMS),
    SeedLayer("mDense", "keras", "linear", KERAS_MOUSE_ARGS, LINEAR_FORMS),
    SeedLayer("mConv2D", "keras", "conv", KERAS_MOUSE_ARGS, CONV_FORMS),
    SeedLayer("mConv2DTranspose", "keras", "conv_transpose", KERAS_MOUSE_ARGS, CONV_FORMS),
    SeedLayer("SzDense", "keras", "linear", KERAS_SZ_DENSE_ARGS, SCHIZO_LINEAR_FORMS),
    SeedLayer("SzConv2D", "keras", "conv", SCHIZO_ARGS, SCHIZO_CONV_FORMS),
)


def seed_row(framework: str, name: str) -> SeedLayer:
    """The row of :data:`SEED_LAYERS` of ``framework``'s class ``name``."""
    return next(row for row in SEED_LAYERS if (row.framework, row.name) == (framework, name))


def seed_class(
    cls: type[T], row: SeedLayer, init: Callable[..., None], signature: inspect.Signature
) -> type[T]:
    """Complete the class statement ``cls`` of ``row`` with its constructor ``init``.

    The docstring gains the positional order and the window arguments' defaults. As the original
    code, the class builds a window that keeps no weight, with a warning (the clean API refuses
    one; :func:`bionn.recipes.check_window_kept`).

    Args:
        cls: The class statement: the framework's windowed layer of the row's kind, a docstring.
        row: The class's row of :data:`SEED_LAYERS`.
        init: The constructor, taking the seed's arguments.
        signature: What ``help()`` and ``inspect.signature`` show of ``init``.

    Returns:
        ``cls``, completed.
    """
    init.__signature__ = signature  # type: ignore[attr-defined]  # read by inspect.signature
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    parameters = signature.parameters
    positional = [
        name
        for name, p in parameters.items()
        if p.kind is p.POSITIONAL_OR_KEYWORD and name != "self"
    ]
    defaults = ", ".join(f"``{name}={parameters[name].default!r}``" for name in row.window_args)
    cls.__doc__ = (
        f"{inspect.cleandoc(cls.__doc__ or '')}\n\nA :class:`{cls.__mro__[1].__name__}` "
        f"with the original's arguments and defaults. Positional order: "
        f"{', '.join(positional)}. Window arguments: {defaults}; forms "
        f"{', '.join(row.forms)}. See :mod:`{cls.__module__}`.\n"
    )
    cls.__init__ = init  # type: ignore[method-assign]  # the seed's constructor, by design
    cls._refuse_empty_window = False  # type: ignore[attr-defined]  # T: either windowed layer
    return cls

"""The seed's layer names, window arguments and defaults: one table for every framework.

The original research code (Saiga et al. 2025, Sci. Rep. 15:25091; Mizutani et al. 2022,
Front. Neurorobot. 16:851471) gave each layer the framework layer's own arguments followed by
window arguments in a fixed order with fixed defaults. ``bionn.layers.compat`` (PyTorch) and
``bionn.keras`` generate their seed-compatible classes from :data:`SEED_LAYERS` with
:func:`seed_classes` and :func:`seed_class`, so a default is written once, here. Imports no
framework.

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
from typing import Any

from bionn.recipes import CONV_FORMS, LINEAR_FORMS, SCHIZO_CONV_FORMS, SCHIZO_LINEAR_FORMS

__all__ = [
    "MOUSE_ARGS",
    "SCHIZO_ARGS",
    "SEED_DEFAULTS",
    "SEED_LAYERS",
    "SeedLayer",
    "seed_class",
    "seed_classes",
]

SEED_DEFAULTS: dict[str, Any] = {
    "halfbandwidth": 0,  # 0: computed from param_reduction (SPEC 'diagonal')
    "param_reduction": 0.5,  # the seed's papers removed half the weights
    "form": "diagonal",  # the schizophrenia band was the seed's first form
    "input2d_width": 10,  # '2d' grid widths: 10 nodes per row on both planes
    "output2d_width": 10,
    "window2d_width": 1.41,  # just under sqrt(2): almost every pair connected
    "print_param_usage": False,  # the seed printed "param %usage:" when asked
}

# The window arguments in the seed's positional order, after the framework layer's own.
MOUSE_ARGS = (
    "halfbandwidth", "param_reduction", "form", "input2d_width", "output2d_width",
    "window2d_width", "print_param_usage",
)  # fmt: skip
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


def seed_class(
    row: SeedLayer, base: type, init: Callable[..., None], signature: inspect.Signature,
    module: str,
) -> type:  # fmt: skip
    """The seed-compatible class of ``row``: ``base`` with the constructor ``init``.

    Args:
        row: The class's row of :data:`SEED_LAYERS`.
        base: The framework's windowed layer class of the row's kind.
        init: The constructor, taking the seed's arguments.
        signature: What ``help()`` shows of ``init``; the docstring lists its positional order
            and the window arguments' defaults.
        module: The module the class lives in.
    """
    init.__signature__ = signature  # type: ignore[attr-defined]
    parameters = signature.parameters
    positional = [name for name, p in parameters.items()
                  if p.kind is p.POSITIONAL_OR_KEYWORD and name != "self"]  # fmt: skip
    defaults = ", ".join(f"``{name}={parameters[name].default!r}``" for name in row.window_args)
    doc = (f"Seed-compatible ``{row.name}``: a :class:`{base.__name__}` with the original's "
           f"arguments and defaults.\n\n    Positional order: {', '.join(positional)}. "
           f"Window arguments: {defaults}; forms {', '.join(row.forms)}. "
           f"See :mod:`{module}`.\n")  # fmt: skip
    namespace = {"__init__": init, "__doc__": doc, "__module__": module, "__qualname__": row.name}
    return type(row.name, (base,), namespace)


def seed_classes(make: Callable[[SeedLayer], type], *names: str) -> tuple[type, ...]:
    """``make(row)`` for the rows of :data:`SEED_LAYERS` named ``names``, in that order."""
    rows = {row.name: row for row in SEED_LAYERS}
    return tuple(make(rows[name]) for name in names)

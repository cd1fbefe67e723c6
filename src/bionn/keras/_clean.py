"""The clean APIs' arguments (``usage=``, ``radius=``, grids, ``form=``) turned into recipes.

``MouseDense``, ``SchizoConv2D`` ... are a windowed layer class plus one of these mixins: the
mixin makes the recipe from its keyword arguments, and records those arguments, not the recipe,
in the layer's config. Positional arguments are the Keras layer's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bionn import recipes
from bionn.keras._windowed import named_errors

__all__ = ["MouseArguments", "SchizoArguments"]


class MouseArguments:
    """``usage`` or ``radius``, and ``(rows, cols)`` grids named by data flow.

    The windowed layer class says which grid lies on the window's x and y axes in
    ``_grid_names`` (a transposed conv's x axis is its output).

    Args:
        *args: The Keras layer's positional arguments.
        usage: Target fraction of weights kept; the radius whose usage is nearest is used.
        radius: Connection radius (fraction of the plane's width); exclusive with ``usage``.
        in_grid: ``(rows, cols)`` of the input channels; default the factorisation nearest a
            square. Checked against the channel count when the layer is built.
        out_grid: ``(rows, cols)`` of the output channels.
        scale_init: Scale the initial kernel by ``1 / usage`` as the original did.
        **kwargs: The Keras layer's keyword arguments.
    """

    _grid_names: tuple[str, str]  # from the windowed layer class, after this one in the MRO

    def __init__(
        self,
        *args: Any,
        usage: float | None = None,
        radius: float | None = None,
        in_grid: Sequence[int] | None = None,
        out_grid: Sequence[int] | None = None,
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        grids = {"in_grid": in_grid, "out_grid": out_grid}
        x_name, y_name = self._grid_names
        recipe = named_errors(type(self).__name__, recipes.mouse, usage, radius, grids[x_name],
                              grids[y_name], grid_names=self._grid_names)  # fmt: skip
        super().__init__(*args, recipe=recipe, scale_init=scale_init, **kwargs)  # type: ignore[call-arg]
        chosen = {x_name: recipe.x_grid, y_name: recipe.y_grid}
        self._record_arguments(  # type: ignore[attr-defined]
            usage=recipe.usage, radius=recipe.radius, in_grid=chosen["in_grid"],
            out_grid=chosen["out_grid"],
        )  # fmt: skip


class SchizoArguments:
    """``usage`` (fraction of weights kept), ``form`` among the class's ``schizo_forms``, ``seed``.

    Args:
        *args: The Keras layer's positional arguments.
        usage: Fraction of weights kept, in (0, 1].
        form: One of the class's ``schizo_forms``.
        seed: Seed of the random forms; drawn from Python's RNG when omitted, and recorded in
            the config either way.
        scale_init: Scale the initial kernel by ``1 / usage`` (binary forms).
        **kwargs: The Keras layer's keyword arguments.
    """

    schizo_forms: tuple[str, ...] = recipes.SCHIZO_LINEAR_FORMS

    def __init__(
        self,
        *args: Any,
        usage: float | None = None,
        form: str = "diagonal",
        seed: int | None = None,
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        layer = type(self).__name__
        recipe = named_errors(layer, recipes.schizo, form, usage, seed,
                              allowed=self.schizo_forms, layer=layer)  # fmt: skip
        super().__init__(*args, recipe=recipe, scale_init=scale_init, **kwargs)  # type: ignore[call-arg]
        self._record_arguments(  # type: ignore[attr-defined]
            usage=recipes.as_real("usage", usage), form=form, seed=recipe.seed
        )

"""The clean constructors' window arguments turned into recipes, for PyTorch and Keras alike.

``MouseLinear``, ``SchizoConv2d``, ``MouseDense``, ``SchizoConv2D`` ... are a windowed layer
class plus one of these mixins: the mixin takes ``usage=``, ``radius=`` and the grids (mouse) or
``usage=``, ``form=`` and ``seed=`` (schizophrenia) by keyword, makes the recipe
(:mod:`bionn.recipes`) and hands it to the windowed layer class. Positional arguments and the
other keywords are the framework layer's own. Imports neither torch nor keras.

What differs between the frameworks comes from the windowed layer class, after the mixin in
the method resolution order (:class:`bionn.layers.WindowedLayer`,
``bionn.keras.WindowedKerasLayer``):

- ``_grid_names``: which grid (named by data flow) lies on the window's x and y axes;
- ``_make_recipe(make, *args, **kwargs)``: calls a recipe constructor (Keras puts the layer's
  name in front of its errors);
- ``_draw_seed()``: the seed of a random form when none is given (PyTorch: torch's RNG; Keras:
  Python's);
- ``_record_arguments(**arguments)``: keeps the arguments for the layer's config (Keras; a
  PyTorch layer holds them in its attributes and ignores the call).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bionn import recipes

__all__ = ["MouseArguments", "SchizoArguments"]


class _WindowedLayerHooks:
    """What the mixins use from the windowed layer class (see the module docstring)."""

    _grid_names: tuple[str, str]
    _make_recipe: Callable[..., Any]
    _draw_seed: Callable[[], int]
    _record_arguments: Callable[..., None]


class MouseArguments(_WindowedLayerHooks):
    """Mixin of the mouse-mimetic layers: ``usage`` or ``radius``, and grids named by data flow.

    Args:
        *args: The framework layer's positional arguments.
        usage: Target fraction of weights kept; the radius whose usage is nearest is used.
        radius: Connection radius (fraction of the plane's width); exclusive with ``usage``.
        in_grid: ``(rows, cols)`` of the input channels; default the exact factorisation
            nearest a square. Checked against the channel count once it is known (PyTorch: at
            once; Keras: when the layer is built).
        out_grid: ``(rows, cols)`` of the output channels.
        scale_init: Scale the initial weight by ``1 / usage`` as the original did.
        **kwargs: The framework layer's keyword arguments (PyTorch: ``bias``, ``device``,
            ``dtype`` ...).
    """

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
        recipe = self._make_recipe(
            recipes.mouse, usage, radius, grids[x_name], grids[y_name], grid_names=self._grid_names
        )
        # the windowed layer class after this mixin in the MRO takes recipe= and scale_init=
        super().__init__(*args, recipe=recipe, scale_init=scale_init, **kwargs)  # type: ignore[call-arg]
        chosen = {x_name: recipe.x_grid, y_name: recipe.y_grid}
        self._record_arguments(
            usage=recipe.usage,
            radius=recipe.radius,
            in_grid=chosen["in_grid"],
            out_grid=chosen["out_grid"],
        )


class SchizoArguments(_WindowedLayerHooks):
    """Mixin of the schizophrenia-mimicking layers: ``usage``, ``form`` and ``seed``.

    Args:
        *args: The framework layer's positional arguments.
        usage: Fraction of weights kept, in (0, 1].
        form: One of the class's ``schizo_forms``.
        seed: Seed of the random forms; drawn when omitted (PyTorch: from torch's RNG; Keras:
            from Python's RNG) and recorded either way.
        scale_init: Scale the initial weight by ``1 / usage`` (binary forms).
        **kwargs: The framework layer's keyword arguments.
    """

    # The forms this class accepts; the conv layers override it.
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
        recipe = self._make_recipe(
            recipes.schizo,
            form,
            usage,
            seed,
            allowed=self.schizo_forms,
            layer=type(self).__name__,
            draw_seed=self._draw_seed,
        )
        # the windowed layer class after this mixin in the MRO takes recipe= and scale_init=
        super().__init__(*args, recipe=recipe, scale_init=scale_init, **kwargs)  # type: ignore[call-arg]
        self._record_arguments(usage=recipes.as_real("usage", usage), form=form, seed=recipe.seed)

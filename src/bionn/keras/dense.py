"""Windowed ``keras.layers.Dense``: one class taking a recipe, and the clean named layers.

Mouse: Saiga et al. 2025 (Sci. Rep. 15:25091); schizophrenia: Mizutani et al. 2022
(Front. Neurorobot. 16:851471). The x axis is the input features, the y axis the units; the
kernel is ``(in, out)``. The seed's ``mDense`` / ``SzDense`` live in :mod:`bionn.keras.compat`.

Example:
    >>> import numpy as np, bionn.keras as mouse, bionn.recipes
    >>> layer = mouse.MouseDense(64, usage=0.35)
    >>> layer(np.zeros((2, 100), "float32")).shape[-1], round(layer.usage, 2)
    (64, 0.35)
    >>> band = mouse.WindowedDense(64, recipe=bionn.recipes.schizo("diagonal", usage=0.5))
    >>> band(np.zeros((2, 100), "float32")).shape[-1], band.form
    (64, 'diagonal')

"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from bionn.keras._windowed import WindowedKerasLayer
from bionn.layer_arguments import MouseArguments, SchizoArguments

__all__ = ["MouseDense", "SchizoDense", "WindowedDense"]


@keras.saving.register_keras_serializable(package="bionn")
class WindowedDense(WindowedKerasLayer, keras.layers.Dense):
    """``keras.layers.Dense`` whose kernel is multiplied by the window of ``recipe`` in ``call``.

    ``WindowedDense(units, ..., recipe=..., scale_init=True)``: ``Dense``'s arguments, then the
    recipe and scaling of :class:`~bionn.keras.WindowedKerasLayer`.
    """

    def call(self, inputs: Any, training: Any = None) -> Any:
        """``activation(inputs @ (kernel * window) + bias)``."""
        x = ops.matmul(inputs, self.masked_kernel(self.kernel))
        if self.bias is not None:
            x = ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x


@keras.saving.register_keras_serializable(package="bionn")
class MouseDense(MouseArguments, WindowedDense):
    """Mouse-mimetic dense layer: input features and units on 2-D grids, within a radius.

    ``MouseDense(units, ..., usage=None, radius=None, in_grid=None, out_grid=None)``: ``Dense``'s
    arguments, then those of :class:`~bionn.layer_arguments.MouseArguments`; ``in_grid`` lays out
    the input features (checked when the layer is built), ``out_grid`` the units.
    """


@keras.saving.register_keras_serializable(package="bionn")
class SchizoDense(SchizoArguments, WindowedDense):
    """Schizophrenia-mimicking dense layer keeping ``usage`` of the weights.

    ``SchizoDense(units, ..., usage=..., form="diagonal", seed=None)``: ``Dense``'s arguments,
    then those of :class:`~bionn.layer_arguments.SchizoArguments`; forms 'diagonal' (band),
    'gaussian' (soft band) or 'random'.
    """

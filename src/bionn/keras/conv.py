"""Windowed ``keras.layers.Conv2D``: one class taking a recipe, and the clean named layers.

Mouse: Saiga et al. 2025 (Sci. Rep. 15:25091); schizophrenia: Mizutani et al. 2022
(Front. Neurorobot. 16:851471). The kernel is ``(kh, kw, in // groups, out)``: x is the input
channels of a group, y the filters; the x-y window repeats over the kernel positions
('individual' draws every weight). The seed's ``mConv2D`` / ``SzConv2D`` live in
:mod:`bionn.keras.compat`.

Example:
    >>> import numpy as np, bionn.keras as mouse
    >>> conv = mouse.MouseConv2D(64, 3, padding="same", usage=0.35)
    >>> conv(np.zeros((1, 8, 8, 64), "float32")).shape[-1], conv.form
    (64, '2d')

"""

from __future__ import annotations

from typing import Any

import keras

from bionn.keras._windowed import WindowedKerasLayer
from bionn.layer_arguments import MouseArguments, SchizoArguments
from bionn.recipes import SCHIZO_CONV_FORMS

__all__ = ["MouseConv2D", "SchizoConv2D", "WindowedConv2D"]


@keras.saving.register_keras_serializable(package="bionn")
class WindowedConv2D(WindowedKerasLayer, keras.layers.Conv2D):
    """``keras.layers.Conv2D`` whose kernel is multiplied by the window of ``recipe``.

    ``WindowedConv2D(filters, kernel_size, ..., recipe=..., scale_init=True)``: ``Conv2D``'s
    arguments, then the recipe and scaling of :class:`~bionn.keras.WindowedKerasLayer`.
    """

    def convolution_op(self, inputs: Any, kernel: Any) -> Any:
        """Run the parent's convolution with ``kernel * window``."""
        return super().convolution_op(inputs, self.masked_kernel(kernel))


@keras.saving.register_keras_serializable(package="bionn")
class MouseConv2D(MouseArguments, WindowedConv2D):
    """Mouse-mimetic conv: input channels and filters on 2-D grids, within a radius.

    ``MouseConv2D(filters, kernel_size, ..., usage=None, radius=None, in_grid=None,
    out_grid=None)``: ``Conv2D``'s arguments, then those of
    :class:`~bionn.layer_arguments.MouseArguments`; ``in_grid`` lays out the ``in // groups``
    input channels of a group (checked in ``build``), ``out_grid`` the filters.
    """


@keras.saving.register_keras_serializable(package="bionn")
class SchizoConv2D(SchizoArguments, WindowedConv2D):
    """Schizophrenia-mimicking conv keeping ``usage`` of the weights.

    ``SchizoConv2D(filters, kernel_size, ..., usage=..., form="diagonal", seed=None)``:
    ``Conv2D``'s arguments, then those of :class:`~bionn.layer_arguments.SchizoArguments`; forms
    'diagonal' (band over channels), 'individual' (random per weight) or 'kernel' (random per
    channel pair, whole kernel at once).
    """

    schizo_forms = SCHIZO_CONV_FORMS

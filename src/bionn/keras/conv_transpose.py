"""Windowed ``keras.layers.Conv2DTranspose``: one class taking a recipe, and the clean layers.

Mouse: Saiga et al. 2025 (Sci. Rep. 15:25091); schizophrenia: Mizutani et al. 2022
(Front. Neurorobot. 16:851471). The kernel is ``(kh, kw, out, in)`` and, as in the original
code, x is the *output* channels and y the input channels: the seed's ``input2d_width``
(:mod:`bionn.keras.compat`) describes the output plane. The clean layers name their grids by
data flow instead.

Example:
    >>> import numpy as np, bionn.keras as mouse
    >>> up = mouse.MouseConv2DTranspose(32, 4, strides=2, padding="same", radius=0.4)
    >>> tuple(up(np.zeros((1, 8, 8, 64), "float32")).shape)
    (1, 16, 16, 32)
    >>> band = mouse.SchizoConv2DTranspose(32, 4, usage=0.5, form="kernel", seed=0)
    >>> band.build((None, 8, 8, 64))
    >>> tuple(band.window.shape), band.get_num_weights()
    ((4, 4, 32, 64), 32768)

"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from bionn.keras._windowed import WindowedKerasLayer
from bionn.layer_arguments import MouseArguments, SchizoArguments
from bionn.recipes import SCHIZO_CONV_FORMS

__all__ = ["MouseConv2DTranspose", "SchizoConv2DTranspose", "WindowedConv2DTranspose"]


@keras.saving.register_keras_serializable(package="bionn")
class WindowedConv2DTranspose(WindowedKerasLayer, keras.layers.Conv2DTranspose):
    """``keras.layers.Conv2DTranspose`` whose kernel is multiplied by the window of ``recipe``.

    ``WindowedConv2DTranspose(filters, kernel_size, ..., recipe=..., scale_init=True)``:
    ``Conv2DTranspose``'s arguments, then the recipe and scaling of
    :class:`~bionn.keras.WindowedKerasLayer`. ``filters`` is the window's **x** axis.
    """

    # The x axis is the output: clean grids by data flow map onto (x, y) = (out, in).
    _grid_names = ("out_grid", "in_grid")

    def _kernel_variable(self) -> Any:
        return self.kernel

    def call(self, inputs: Any) -> Any:
        """Run the transposed convolution with ``kernel * window``, then bias and activation."""
        outputs = ops.conv_transpose(
            inputs,
            self.masked_kernel(),
            strides=list(self.strides),
            padding=self.padding,
            output_padding=self.output_padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        if self.use_bias:
            channel_axis = -1 if self.data_format == "channels_last" else 1
            bias_shape = [1] * len(outputs.shape)
            bias_shape[channel_axis] = self.filters
            outputs = ops.add(outputs, ops.reshape(self.bias, bias_shape))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


@keras.saving.register_keras_serializable(package="bionn")
class MouseConv2DTranspose(MouseArguments, WindowedConv2DTranspose):
    """Mouse-mimetic transposed conv, grids named by data flow.

    ``MouseConv2DTranspose(filters, kernel_size, ..., usage=None, radius=None, in_grid=None,
    out_grid=None)``: ``Conv2DTranspose``'s arguments, then those of
    :class:`~bionn.layer_arguments.MouseArguments`; ``in_grid`` lays out the input channels (the
    window's y axis, checked in ``build``), ``out_grid`` the filters (x axis).
    """


@keras.saving.register_keras_serializable(package="bionn")
class SchizoConv2DTranspose(SchizoArguments, WindowedConv2DTranspose):
    """Schizophrenia-mimicking transposed conv keeping ``usage`` of the weights (new in bionn).

    ``SchizoConv2DTranspose(filters, kernel_size, ..., usage=..., form="diagonal", seed=None)``:
    ``Conv2DTranspose``'s arguments, then those of :class:`~bionn.layer_arguments.SchizoArguments`;
    forms 'diagonal', 'individual' or 'kernel' over (output, input) channel pairs, as the
    seed's transposed conv laid them out.
    """

    schizo_forms = SCHIZO_CONV_FORMS

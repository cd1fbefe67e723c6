"""Windowed ``keras.layers.Conv2DTranspose``: seed-compatible ``mConv2DTranspose`` and a clean one.

Mouse: Saiga et al. 2025 (arXiv 2410.20735). The kernel is ``(kh, kw, out, in)`` and, as in the
original code, x is the *output* channels and y the input channels: the seed's ``input2d_width``
describes the output plane. :class:`MouseConv2DTranspose` names its grids by data flow instead.

Example:
    >>> import numpy as np, bionn.keras as mouse
    >>> up = mouse.MouseConv2DTranspose(32, 4, strides=2, padding="same", radius=0.4)
    >>> tuple(up(np.zeros((1, 8, 8, 64), "float32")).shape)
    (1, 16, 16, 32)

"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from bionn.keras._windowed import MouseWindow, SeedConvWindow, WindowedKerasLayer

__all__ = ["MouseConv2DTranspose", "mConv2DTranspose"]

_register = keras.saving.register_keras_serializable(package="bionn")


class _WindowedConv2DTranspose(WindowedKerasLayer, keras.layers.Conv2DTranspose):
    """``Conv2DTranspose`` whose kernel is multiplied by the window in ``call``."""

    def _kernel_variable(self) -> Any:
        return self.kernel

    def call(self, inputs: Any) -> Any:
        """Run the transposed convolution with ``kernel * window``, then bias and activation."""
        outputs = ops.conv_transpose(
            inputs, self.masked_kernel(), strides=list(self.strides), padding=self.padding,
            output_padding=self.output_padding, dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )  # fmt: skip
        if self.use_bias:
            channel_axis = -1 if self.data_format == "channels_last" else 1
            bias_shape = [1] * len(outputs.shape)
            bias_shape[channel_axis] = self.filters
            outputs = ops.add(outputs, ops.reshape(self.bias, bias_shape))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


@_register
class mConv2DTranspose(SeedConvWindow, _WindowedConv2DTranspose):  # noqa: N801 - the seed's name
    """Seed-compatible transposed conv (the original Keras ``mConv2DTranspose``).

    Args:
        filters: Output channels (the window's **x** axis).
        kernel_size: As ``keras.layers.Conv2DTranspose``; so are all positional arguments.
        halfbandwidth: Band half-width of 'diagonal'; 0 computes it from ``param_reduction``.
        param_reduction: Fraction of weights removed by 'diagonal' and the random forms.
        form: '2d', 'diagonal', 'individual', 'kernel' or 'random'.
        input2d_width: '2d' grid width of the x axis: the **output** channels (seed quirk).
        output2d_width: '2d' grid width of the y axis: the input channels.
        window2d_width: '2d' connection radius, as a fraction of the plane's width.
        seed: Seed of the random forms (drawn from Python's RNG when omitted; in the config).
        scale_init: Scale the initial kernel by ``1 / usage`` as the original did.

    """


@_register
class MouseConv2DTranspose(MouseWindow, _WindowedConv2DTranspose):
    """Mouse-mimetic transposed conv, grids named by data flow.

    Args:
        filters: Output channels (the window's x axis).
        usage: Target fraction of weights kept; the radius whose usage is nearest is used.
        radius: Connection radius (fraction of the plane's width); exclusive with ``usage``.
        in_grid: ``(rows, cols)`` of the input channels (y axis); checked in ``build``.
        out_grid: ``(rows, cols)`` of the output channels (x axis).
        scale_init: Scale the initial kernel by ``1 / usage`` as the original did.

    Other arguments are those of ``keras.layers.Conv2DTranspose``.

    """

    _grid_names = ("out_grid", "in_grid")

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        *args: Any,
        usage: float | None = None,
        radius: float | None = None,
        in_grid: Sequence[int] | None = None,
        out_grid: Sequence[int] | None = None,
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(filters, kernel_size, *args, **kwargs)
        self._setup_mouse(usage, radius, in_grid, out_grid, scale_init)

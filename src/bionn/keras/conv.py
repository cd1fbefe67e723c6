"""Windowed ``keras.layers.Conv2D``: seed-compatible ``mConv2D`` / ``SzConv2D`` and clean layers.

Mouse: Saiga et al. 2025 (arXiv 2410.20735); schizophrenia: Mizutani et al. 2022
(arXiv 2009.10887). The kernel is ``(kh, kw, in // groups, out)``: x is the input channels of a
group, y the filters; the x-y window repeats over the kernel positions ('individual' draws every
weight).

Example:
    >>> import numpy as np, bionn.keras as mouse
    >>> conv = mouse.MouseConv2D(64, 3, padding="same", usage=0.35)
    >>> conv(np.zeros((1, 8, 8, 64), "float32")).shape[-1], conv.form
    (64, '2d')

"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from bionn.keras._windowed import MouseWindow, SeedConvWindow, WindowedKerasLayer
from bionn.layers._specs import SCHIZO_CONV_FORMS

__all__ = ["MouseConv2D", "SchizoConv2D", "SzConv2D", "mConv2D"]

_register = keras.saving.register_keras_serializable(package="bionn")


class _WindowedConv2D(WindowedKerasLayer, keras.layers.Conv2D):
    """``Conv2D`` whose kernel is multiplied by the window before the convolution."""

    def convolution_op(self, inputs: Any, kernel: Any) -> Any:
        """Run the parent's convolution with ``kernel * window``."""
        return super().convolution_op(inputs, self.masked_kernel(kernel))


@_register
class mConv2D(SeedConvWindow, _WindowedConv2D):  # noqa: N801 - the seed's name
    """Seed-compatible mouse conv (the original Keras ``mConv2D``).

    Args:
        filters: Output channels (y axis).
        kernel_size: As ``keras.layers.Conv2D``; so are all positional arguments.
        halfbandwidth: Band half-width of 'diagonal'; 0 (the seed's only choice) computes it
            from ``param_reduction``.
        param_reduction: Fraction of weights removed by 'diagonal' and the random forms.
        form: '2d', 'diagonal', 'individual', 'kernel' or 'random'.
        input2d_width: '2d' grid width of the input channels (of a group).
        output2d_width: '2d' grid width of the filters.
        window2d_width: '2d' connection radius, as a fraction of the plane's width.
        seed: Seed of the random forms (drawn from Python's RNG when omitted; in the config).
        scale_init: Scale the initial kernel by ``1 / usage`` as the original did.

    """


@_register
class SzConv2D(_WindowedConv2D):
    """Seed-style schizophrenia conv (the original ``schizo.SzConv2D``, its argument order).

    Args:
        filters: Output channels.
        kernel_size: As ``keras.layers.Conv2D``.
        param_reduction: Fraction of weights removed.
        form: 'individual' (random per weight), 'kernel' (random per channel pair, whole
            kernel at once) or 'diagonal' (band over channels).
        halfbandwidth: Band half-width of 'diagonal'; 0 computes it from ``param_reduction``.
        seed: Seed of the random forms (drawn from Python's RNG when omitted; in the config).
        scale_init: Scale the initial kernel by ``1 / usage``.

    Other arguments are those of ``keras.layers.Conv2D``.

    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        param_reduction: float = 0.5,
        form: str = "individual",
        activation: Any = None,
        padding: str = "valid",
        strides: int | Sequence[int] = 1,
        dilation_rate: int | Sequence[int] = 1,
        kernel_initializer: Any = "glorot_uniform",
        *,
        halfbandwidth: float = 0,
        seed: int | None = None,
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            filters, kernel_size, activation=activation, padding=padding, strides=strides,
            dilation_rate=dilation_rate, kernel_initializer=kernel_initializer, **kwargs,
        )  # fmt: skip
        self._setup_seed_window(
            SCHIZO_CONV_FORMS, seed, scale_init, halfbandwidth=halfbandwidth,
            param_reduction=param_reduction, form=form,
        )  # fmt: skip


@_register
class MouseConv2D(MouseWindow, _WindowedConv2D):
    """Mouse-mimetic conv: channels on 2-D grids, connected within a radius.

    Args:
        filters: Output channels (y axis).
        usage: Target fraction of weights kept; the radius whose usage is nearest is used.
        radius: Connection radius (fraction of the plane's width); exclusive with ``usage``.
        in_grid: ``(rows, cols)`` of the ``in // groups`` input channels; default the
            factorisation nearest a square. Checked in ``build``.
        out_grid: ``(rows, cols)`` of the filters.
        scale_init: Scale the initial kernel by ``1 / usage`` as the original did.

    Other arguments are those of ``keras.layers.Conv2D``.

    """

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


@_register
class SchizoConv2D(_WindowedConv2D):
    """Schizophrenia-mimicking conv keeping ``usage`` of the weights.

    Args:
        filters: Output channels.
        usage: Fraction of weights kept, in (0, 1].
        form: 'diagonal' (band over channels), 'individual' (random per weight) or 'kernel'
            (random per channel pair, whole kernel at once).
        seed: Seed of the random forms (drawn from Python's RNG when omitted; in the config).
        scale_init: Scale the initial kernel by ``1 / usage``.

    Other arguments are those of ``keras.layers.Conv2D``.

    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        *args: Any,
        usage: float | None = None,
        form: str = "diagonal",
        seed: int | None = None,
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(filters, kernel_size, *args, **kwargs)
        self._setup_schizo_window(SCHIZO_CONV_FORMS, usage, form, seed, scale_init)

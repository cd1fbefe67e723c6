"""Windowed ``nn.Conv2d`` layers: mouse-mimetic and schizophrenia-mimicking.

The x axis is the input channels of a group (``in_channels // groups``), the y axis the output
channels; the x-y window repeats over the kernel positions ('individual' draws every weight).
The seed-compatible ``mConv2d`` / ``SzConv2d`` live in :mod:`bionn.layers.compat`.

Example:
    >>> import torch, bionn
    >>> conv = bionn.MouseConv2d(64, 64, 3, padding=1, usage=0.35)
    >>> conv(torch.randn(1, 64, 8, 8)).shape
    torch.Size([1, 64, 8, 8])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.common_types import _size_2_t
from torch.types import Device

from bionn import recipes
from bionn.layers._windowed import MouseLayer, SchizoLayer, WindowedLayer
from bionn.layers._windowed_ops import windowed_convolution
from bionn.recipes import SCHIZO_CONV_FORMS

__all__ = ["MouseConv2d", "SchizoConv2d", "WindowedConv2d"]


class WindowedConv2d(WindowedLayer, nn.Conv2d):
    """``nn.Conv2d`` whose weight is masked by the window of ``recipe`` in every forward.

    Takes ``nn.Conv2d``'s arguments (channel counts and groups as any integer scalar) plus the
    keyword-only ``recipe`` and ``scale_init`` of :class:`~bionn.layers.WindowedLayer`. The
    window's x axis is the input channels of a group, its y axis the output channels.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_2_t,
        stride: _size_2_t = 1,
        padding: _size_2_t | str = 0,
        dilation: _size_2_t = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Device = None,
        dtype: torch.dtype | None = None,
        *,
        recipe: recipes.Recipe,
        scale_init: bool = True,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            recipe=recipe,
            scale_init=scale_init,
        )

    def _channel_axes(self) -> tuple[int, int]:
        return self.in_channels // self.groups, self.out_channels

    def forward(self, input: Tensor) -> Tensor:
        """The parent's convolution (padding modes included) with the masked weight."""
        if self.frozen:
            return self._conv_forward(input, self.weight, self.bias)
        if self.padding_mode == "zeros" and not isinstance(self.padding, str):
            padding = list(self.padding)
        else:
            # as nn.Conv2d: pad first ('same' may be uneven), then convolve without padding
            mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=mode)
            padding = [0, 0]
        return windowed_convolution(
            input,
            self.weight,
            self.window,
            self.bias,
            list(self.stride),
            padding,
            list(self.dilation),
            False,
            [0, 0],
            self.groups,
        )


class MouseConv2d(MouseLayer, WindowedConv2d):
    """Mouse-mimetic ``nn.Conv2d``: channels on 2-D grids, connected within a radius.

    Takes ``nn.Conv2d``'s arguments plus the keyword-only ones of
    :class:`~bionn.layers.MouseLayer`; ``in_grid`` lays out the ``in_channels // groups``
    channels of a group.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_2_t,
        stride: _size_2_t = 1,
        padding: _size_2_t | str = 0,
        dilation: _size_2_t = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Device = None,
        dtype: torch.dtype | None = None,
        *,
        usage: float | None = None,
        radius: float | None = None,
        in_grid: Sequence[int] | None = None,
        out_grid: Sequence[int] | None = None,
        scale_init: bool = True,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            usage=usage,
            radius=radius,
            in_grid=in_grid,
            out_grid=out_grid,
            scale_init=scale_init,
        )


class SchizoConv2d(SchizoLayer, WindowedConv2d):
    """Schizophrenia-mimicking ``nn.Conv2d`` keeping ``usage`` of the weights.

    Takes ``nn.Conv2d``'s arguments plus the keyword-only ones of
    :class:`~bionn.layers.SchizoLayer`; ``form`` is 'diagonal' (band over channels),
    'individual' (random per weight) or 'kernel' (random per channel pair, whole kernels).
    """

    schizo_forms = SCHIZO_CONV_FORMS

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_2_t,
        stride: _size_2_t = 1,
        padding: _size_2_t | str = 0,
        dilation: _size_2_t = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Device = None,
        dtype: torch.dtype | None = None,
        *,
        usage: float | None = None,
        form: str = "diagonal",
        seed: int | None = None,
        scale_init: bool = True,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            usage=usage,
            form=form,
            seed=seed,
            scale_init=scale_init,
        )

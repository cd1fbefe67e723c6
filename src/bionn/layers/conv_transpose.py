"""Windowed ``nn.ConvTranspose2d`` layers: mouse-mimetic and schizophrenia-mimicking.

As in the original code the axes swap here: x is the *output* channels of a group
(``out_channels // groups``) and y the input channels, so the seed's ``input2d_width`` describes
the output plane. The clean layers name their grids by data flow instead. The seed-compatible
``mConvTranspose2d`` lives in :mod:`bionn.layers.compat`.

Example:
    >>> import torch, bionn
    >>> up = bionn.MouseConvTranspose2d(64, 32, 4, stride=2, padding=1, radius=0.4)
    >>> up(torch.randn(1, 64, 8, 8)).shape
    torch.Size([1, 32, 16, 16])
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

__all__ = ["MouseConvTranspose2d", "SchizoConvTranspose2d", "WindowedConvTranspose2d"]


class WindowedConvTranspose2d(WindowedLayer, nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` whose weight is masked by the window of ``recipe`` in every forward.

    Takes ``nn.ConvTranspose2d``'s arguments plus the keyword-only ``recipe`` and
    ``scale_init`` of :class:`~bionn.layers.WindowedLayer`. The window's x axis is the output
    channels of a group, its y axis the input channels (docs/spec.md, section 1).
    """

    _grid_names = ("out_grid", "in_grid")
    # _ConvNd types it ``str | tuple``: a transposed conv's padding is never a string
    padding: tuple[int, ...]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_2_t,
        stride: _size_2_t = 1,
        padding: _size_2_t = 0,
        output_padding: _size_2_t = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: _size_2_t = 1,
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
            output_padding,
            groups,
            bias,
            dilation,
            padding_mode,
            device,
            dtype,
            recipe=recipe,
            scale_init=scale_init,
        )

    def _channel_axes(self) -> tuple[int, int]:
        return self.out_channels // self.groups, self.in_channels

    def forward(self, input: Tensor, output_size: list[int] | None = None) -> Tensor:
        """``nn.ConvTranspose2d.forward`` (``output_size`` included) with the masked weight."""
        if self.padding_mode != "zeros":
            raise ValueError("Only 'zeros' padding mode is supported for ConvTranspose2d")
        output_padding = self._output_padding(
            input,
            output_size,
            list(self.stride),
            list(self.padding),
            list(self.kernel_size),
            2,
            list(self.dilation),
        )
        if self.frozen:
            return F.conv_transpose2d(
                input,
                self.weight,
                self.bias,
                self.stride,
                self.padding,
                output_padding,
                self.groups,
                self.dilation,
            )
        return windowed_convolution(
            input,
            self.weight,
            self.window,
            self.bias,
            list(self.stride),
            list(self.padding),
            list(self.dilation),
            True,
            list(output_padding),
            self.groups,
        )


class MouseConvTranspose2d(MouseLayer, WindowedConvTranspose2d):
    """Mouse-mimetic ``nn.ConvTranspose2d``, grids named by data flow.

    Takes ``nn.ConvTranspose2d``'s arguments plus the keyword-only ones of
    :class:`~bionn.layers.MouseLayer`: ``in_grid`` lays out the input channels (the window's
    y axis), ``out_grid`` the ``out_channels // groups`` output channels (its x axis).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_2_t,
        stride: _size_2_t = 1,
        padding: _size_2_t = 0,
        output_padding: _size_2_t = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: _size_2_t = 1,
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
            output_padding,
            groups,
            bias,
            dilation,
            padding_mode,
            device,
            dtype,
            usage=usage,
            radius=radius,
            in_grid=in_grid,
            out_grid=out_grid,
            scale_init=scale_init,
        )


class SchizoConvTranspose2d(SchizoLayer, WindowedConvTranspose2d):
    """Schizophrenia-mimicking ``nn.ConvTranspose2d`` keeping ``usage`` of the weights.

    Takes ``nn.ConvTranspose2d``'s arguments plus the keyword-only ones of
    :class:`~bionn.layers.SchizoLayer`; forms as :class:`~bionn.layers.SchizoConv2d`, the band
    running between output (x) and input (y) channels.
    """

    schizo_forms = SCHIZO_CONV_FORMS

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_2_t,
        stride: _size_2_t = 1,
        padding: _size_2_t = 0,
        output_padding: _size_2_t = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: _size_2_t = 1,
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
            output_padding,
            groups,
            bias,
            dilation,
            padding_mode,
            device,
            dtype,
            usage=usage,
            form=form,
            seed=seed,
            scale_init=scale_init,
        )

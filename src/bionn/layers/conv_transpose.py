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

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.common_types import _size_2_t

from bionn import recipes
from bionn.layers._windowed import MouseLayer, SchizoLayer, WindowedLayer

__all__ = ["MouseConvTranspose2d", "SchizoConvTranspose2d", "WindowedConvTranspose2d"]


class WindowedConvTranspose2d(WindowedLayer, nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` whose weight is masked by the window of ``recipe`` in every forward.

    Arguments before ``recipe`` are ``nn.ConvTranspose2d``'s; the window's x axis is the output
    channels of a group, its y axis the input channels (SPEC).

    Args:
        recipe: The window recipe (:mod:`bionn.recipes`; a ``WindowSpec`` is one).
        scale_init: Scale the initial weight by ``1 / usage`` as the original did.
    """

    _grid_names = ("out_grid", "in_grid")

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
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        recipe: recipes.Recipe,
        scale_init: bool = True,
    ) -> None:
        in_channels, out_channels, groups, spec = self._resolve_conv(
            in_channels, out_channels, groups, kernel_size, recipe
        )
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
            dilation, padding_mode, device=device, dtype=dtype,
        )  # fmt: skip
        self._install_window(spec, scale_init)

    def _channel_axes(self) -> tuple[int, int]:
        return self.out_channels // self.groups, self.in_channels

    def forward(self, input: Tensor, output_size: list[int] | None = None) -> Tensor:
        """``nn.ConvTranspose2d.forward`` (``output_size`` included) with the masked weight."""
        if self.padding_mode != "zeros":
            raise ValueError("Only 'zeros' padding mode is supported for ConvTranspose2d")
        output_padding = self._output_padding(
            input, output_size, list(self.stride), list(self.padding), list(self.kernel_size),
            2, list(self.dilation),
        )  # fmt: skip
        return F.conv_transpose2d(
            input, self.masked_weight(), self.bias, self.stride, self.padding, output_padding,
            self.groups, self.dilation,
        )  # fmt: skip


class MouseConvTranspose2d(MouseLayer, WindowedConvTranspose2d):
    """Mouse-mimetic transposed conv, grids named by data flow.

    Positional and keyword arguments are those of ``nn.ConvTranspose2d``; ours are keyword-only.

    Args:
        *args: ``nn.ConvTranspose2d`` arguments.
        usage: Target fraction of weights kept; the radius whose usage is nearest is used.
        radius: Connection radius (fraction of the plane's width); exclusive with ``usage``.
        in_grid: ``(rows, cols)`` of the input channels (the window's y axis).
        out_grid: ``(rows, cols)`` of the ``out_channels // groups`` output channels (x axis).
        scale_init: Scale the initial weight by ``1 / usage`` as the original did.
        **kwargs: ``nn.ConvTranspose2d`` keyword arguments.
    """


class SchizoConvTranspose2d(SchizoLayer, WindowedConvTranspose2d):
    """Schizophrenia-mimicking transposed conv keeping ``usage`` of the weights.

    Positional and keyword arguments are those of ``nn.ConvTranspose2d``; ours are keyword-only.

    Args:
        *args: ``nn.ConvTranspose2d`` arguments.
        usage: Fraction of weights kept, in (0, 1].
        form: 'diagonal' (band between output and input channels), 'individual' (random per
            weight) or 'kernel' (random per channel pair, whole kernel at once).
        seed: Seed of the random forms (drawn from torch's RNG when omitted; recorded).
        scale_init: Scale the initial weight by ``1 / usage``.
        **kwargs: ``nn.ConvTranspose2d`` keyword arguments.
    """

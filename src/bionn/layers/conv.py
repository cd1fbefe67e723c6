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

import torch
from torch import Tensor, nn
from torch.nn.common_types import _size_2_t

from bionn import recipes
from bionn.layers._windowed import MouseLayer, SchizoLayer, WindowedLayer

__all__ = ["MouseConv2d", "SchizoConv2d", "WindowedConv2d"]


class WindowedConv2d(WindowedLayer, nn.Conv2d):
    """``nn.Conv2d`` whose weight is masked by the window of ``recipe`` in every forward.

    Arguments before ``recipe`` are ``nn.Conv2d``'s (integer scalars of any kind accepted for
    channels and groups; ``device='meta'`` defers the window to ``reset_parameters``).

    Args:
        recipe: The window recipe (:mod:`bionn.recipes`; a ``WindowSpec`` is one).
        scale_init: Scale the initial weight by ``1 / usage`` as the original did.
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
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, device=device, dtype=dtype,
        )  # fmt: skip
        self._install_window(spec, scale_init)

    def _channel_axes(self) -> tuple[int, int]:
        return self.in_channels // self.groups, self.out_channels

    def forward(self, input: Tensor) -> Tensor:
        """The parent's convolution (padding modes included) with the masked weight."""
        return self._conv_forward(input, self.masked_weight(), self.bias)


class MouseConv2d(MouseLayer, WindowedConv2d):
    """Mouse-mimetic conv: channels on 2-D grids, connected within a radius.

    Positional and keyword arguments are those of ``nn.Conv2d``; ours are keyword-only.

    Args:
        *args: ``nn.Conv2d`` arguments.
        usage: Target fraction of weights kept; the radius whose usage is nearest is used.
        radius: Connection radius (fraction of the plane's width); exclusive with ``usage``.
        in_grid: ``(rows, cols)`` of the ``in_channels // groups`` input channels; default the
            factorisation nearest a square.
        out_grid: ``(rows, cols)`` of the output channels.
        scale_init: Scale the initial weight by ``1 / usage`` as the original did.
        **kwargs: ``nn.Conv2d`` keyword arguments.
    """


class SchizoConv2d(SchizoLayer, WindowedConv2d):
    """Schizophrenia-mimicking conv keeping ``usage`` of the weights.

    Positional and keyword arguments are those of ``nn.Conv2d``; ours are keyword-only.

    Args:
        *args: ``nn.Conv2d`` arguments.
        usage: Fraction of weights kept, in (0, 1].
        form: 'diagonal' (band over channels), 'individual' (random per weight) or 'kernel'
            (random per channel pair, whole kernel at once).
        seed: Seed of the random forms (drawn from torch's RNG when omitted; recorded).
        scale_init: Scale the initial weight by ``1 / usage``.
        **kwargs: ``nn.Conv2d`` keyword arguments.
    """

"""Windowed ``nn.ConvTranspose2d`` layers: mouse-mimetic and seed-compatible.

As in the original code the axes swap here: x is the *output* channels of a group
(``out_channels // groups``) and y the input channels, so the seed's ``input2d_width`` describes
the output plane. The clean :class:`MouseConvTranspose2d` names its grids by data flow instead.

Example:
    >>> import torch, bionn
    >>> up = bionn.MouseConvTranspose2d(64, 32, 4, stride=2, padding=1, radius=0.4)
    >>> up(torch.randn(1, 64, 8, 8)).shape
    torch.Size([1, 32, 16, 16])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.common_types import _size_2_t

from bionn.layers._specs import CONV_FORMS, check_channels, check_groups, mouse_spec, seed_args_spec
from bionn.layers._windowed import (
    WindowedLayer,
    bind_plain_arguments,
    torch_seed,
    warn_dead_channels,
)
from bionn.windows import WindowSpec

__all__ = ["MouseConvTranspose2d", "WindowedConvTranspose2d", "mConvTranspose2d"]

Device = torch.device | str | None


class WindowedConvTranspose2d(WindowedLayer, nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` whose weight is multiplied by a fixed window built from ``spec``."""

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
        spec: WindowSpec,
        scale_init: bool = True,
    ) -> None:
        check_channels(in_channels=in_channels, out_channels=out_channels)
        check_groups(in_channels, out_channels, groups)
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


class MouseConvTranspose2d(WindowedConvTranspose2d):
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
        conv = bind_plain_arguments(nn.ConvTranspose2d, args, kwargs)
        check_channels(in_channels=conv["in_channels"], out_channels=conv["out_channels"])
        check_groups(conv["in_channels"], conv["out_channels"], conv["groups"])
        spec = mouse_spec(
            n_x=conv["out_channels"] // conv["groups"],
            n_y=conv["in_channels"],
            x_grid=out_grid,
            y_grid=in_grid,
            x_grid_name="out_grid",
            y_grid_name="in_grid",
            usage=usage,
            radius=radius,
        )
        super().__init__(**conv, spec=spec, scale_init=scale_init)


class mConvTranspose2d(WindowedConvTranspose2d):  # noqa: N801 - the seed's name
    """Seed-compatible transposed conv: the original ``mConvTranspose2d`` arguments.

    Defaults and the axis swap are the seed's: ``input2d_width`` is the grid width of the output
    channels, ``output2d_width`` that of the input channels.
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
        halfbandwidth: float = 0,
        param_reduction: float = 0.5,
        form: str = "diagonal",
        input2d_width: int = 10,
        output2d_width: int = 10,
        window2d_width: float = 1.41,
        print_param_usage: bool = False,
        device: Device = None,
        dtype: torch.dtype | None = None,
        *,
        seed: int | None = None,
        scale_init: bool = True,
    ) -> None:
        check_channels(in_channels=in_channels, out_channels=out_channels)
        check_groups(in_channels, out_channels, groups)
        spec = seed_args_spec(
            form=form,
            halfbandwidth=halfbandwidth,
            param_reduction=param_reduction,
            input2d_width=input2d_width,
            output2d_width=output2d_width,
            window2d_width=window2d_width,
            seed=seed,
            allowed=CONV_FORMS,
            layer=type(self).__name__,
            draw_seed=torch_seed,
        )
        warn_dead_channels(out_channels // groups, in_channels, spec, type(self).__name__)
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
            dilation, padding_mode, device, dtype, spec=spec, scale_init=scale_init,
        )  # fmt: skip
        if print_param_usage:
            print("param %usage:", 100.0 * self.usage)

"""Windowed ``nn.Conv2d`` layers: mouse-mimetic, schizophrenia-mimicking and seed-compatible.

The x axis is the input channels of a group (``in_channels // groups``), the y axis the output
channels; the x-y window repeats over the kernel positions ('individual' draws every weight).

Example:
    >>> import torch, bionn
    >>> conv = bionn.MouseConv2d(64, 64, 3, padding=1, usage=0.35)
    >>> conv(torch.randn(1, 64, 8, 8)).shape
    torch.Size([1, 64, 8, 8])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.common_types import _size_2_t

from bionn.layers._specs import (
    CONV_FORMS,
    SCHIZO_CONV_FORMS,
    check_channels,
    check_groups,
    mouse_spec,
    schizo_spec,
    seed_args_spec,
)
from bionn.layers._windowed import (
    WindowedLayer,
    bind_plain_arguments,
    torch_seed,
    warn_dead_channels,
)
from bionn.windows import WindowSpec

__all__ = ["MouseConv2d", "SchizoConv2d", "SzConv2d", "WindowedConv2d", "mConv2d"]

Device = torch.device | str | None


class WindowedConv2d(WindowedLayer, nn.Conv2d):
    """``nn.Conv2d`` whose weight is multiplied by a fixed window built from ``spec``."""

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
        spec: WindowSpec,
        scale_init: bool = True,
    ) -> None:
        check_channels(in_channels=in_channels, out_channels=out_channels)
        check_groups(in_channels, out_channels, groups)
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


class MouseConv2d(WindowedConv2d):
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
        conv = bind_plain_arguments(nn.Conv2d, args, kwargs)
        check_channels(in_channels=conv["in_channels"], out_channels=conv["out_channels"])
        check_groups(conv["in_channels"], conv["out_channels"], conv["groups"])
        spec = mouse_spec(
            n_x=conv["in_channels"] // conv["groups"],
            n_y=conv["out_channels"],
            x_grid=in_grid,
            y_grid=out_grid,
            x_grid_name="in_grid",
            y_grid_name="out_grid",
            usage=usage,
            radius=radius,
        )
        super().__init__(**conv, spec=spec, scale_init=scale_init)


class SchizoConv2d(WindowedConv2d):
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

    def __init__(
        self,
        *args: Any,
        usage: float | None = None,
        form: str = "diagonal",
        seed: int | None = None,
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        conv = bind_plain_arguments(nn.Conv2d, args, kwargs)
        spec = schizo_spec(
            form=form,
            usage=usage,
            seed=seed,
            allowed=SCHIZO_CONV_FORMS,
            layer=type(self).__name__,
            draw_seed=torch_seed,
        )
        super().__init__(**conv, spec=spec, scale_init=scale_init)


class mConv2d(WindowedConv2d):  # noqa: N801 - the seed's name
    """Seed-compatible conv: the original PyTorch ``mConv2d`` arguments and defaults.

    The seed's 'kernel' form crashed; here it works. A non-zero ``halfbandwidth`` sets the
    'diagonal' band directly (the seed ignored it for convs; 0, the default, computes it from
    ``param_reduction`` as the seed did). Non-divisible grids reproduce the seed's masks with a
    warning about dead channels.
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
        warn_dead_channels(in_channels // groups, out_channels, spec, type(self).__name__)
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, device, dtype, spec=spec, scale_init=scale_init,
        )  # fmt: skip
        if print_param_usage:
            print("param %usage:", 100.0 * self.usage)


class SzConv2d(mConv2d):
    """Seed-style schizophrenia conv: ``param_reduction``, ``form``, ``halfbandwidth``."""

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
        param_reduction: float = 0.5,
        form: str = "diagonal",
        halfbandwidth: float = 0,
        device: Device = None,
        dtype: torch.dtype | None = None,
        *,
        seed: int | None = None,
        scale_init: bool = True,
    ) -> None:
        if form not in SCHIZO_CONV_FORMS:
            raise ValueError(f"SzConv2d: form must be one of {SCHIZO_CONV_FORMS}, got {form!r}")
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, halfbandwidth, param_reduction, form, device=device, dtype=dtype,
            seed=seed, scale_init=scale_init,
        )  # fmt: skip

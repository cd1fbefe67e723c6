"""Windowed ``nn.Linear`` layers: mouse-mimetic, schizophrenia-mimicking and seed-compatible.

Mouse: Saiga et al. 2025 (arXiv 2410.20735); schizophrenia: Mizutani et al. 2022
(arXiv 2009.10887). The x axis is the input features, the y axis the output features.

Example:
    >>> import torch, bionn
    >>> layer = bionn.MouseLinear(784, 512, usage=0.35)
    >>> layer(torch.randn(2, 784)).shape
    torch.Size([2, 512])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bionn.layers._specs import (
    LINEAR_FORMS,
    SCHIZO_LINEAR_FORMS,
    check_channels,
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

__all__ = ["MouseLinear", "SchizoLinear", "SzLinear", "WindowedLinear", "mLinear"]


class WindowedLinear(WindowedLayer, nn.Linear):
    """``nn.Linear`` whose weight is multiplied by a fixed window built from ``spec``."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        spec: WindowSpec,
        scale_init: bool = True,
    ) -> None:
        check_channels(in_features=in_features, out_features=out_features)
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self._install_window(spec, scale_init)

    def _channel_axes(self) -> tuple[int, int]:
        return self.in_features, self.out_features

    def forward(self, input: Tensor) -> Tensor:
        """``F.linear`` with the masked weight."""
        return F.linear(input, self.masked_weight(), self.bias)


class MouseLinear(WindowedLinear):
    """Mouse-mimetic linear layer: features on 2-D grids, connected within a radius.

    Positional and keyword arguments are those of ``nn.Linear``; ours are keyword-only.

    Args:
        *args: ``nn.Linear`` arguments (``in_features`` is the x axis, ``out_features`` y).
        usage: Target fraction of weights kept; the radius whose usage is nearest is used.
        radius: Connection radius (fraction of the plane's width); exclusive with ``usage``.
        in_grid: ``(rows, cols)`` of the input features; default the factorisation nearest a
            square.
        out_grid: ``(rows, cols)`` of the output features.
        scale_init: Scale the initial weight by ``1 / usage`` as the original did.
        **kwargs: ``nn.Linear`` keyword arguments (``bias``, ``device``, ``dtype``).
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
        linear = bind_plain_arguments(nn.Linear, args, kwargs)
        check_channels(in_features=linear["in_features"], out_features=linear["out_features"])
        spec = mouse_spec(
            n_x=linear["in_features"],
            n_y=linear["out_features"],
            x_grid=in_grid,
            y_grid=out_grid,
            x_grid_name="in_grid",
            y_grid_name="out_grid",
            usage=usage,
            radius=radius,
        )
        super().__init__(**linear, spec=spec, scale_init=scale_init)


class SchizoLinear(WindowedLinear):
    """Schizophrenia-mimicking linear layer keeping ``usage`` of the weights.

    Positional and keyword arguments are those of ``nn.Linear``; ours are keyword-only.

    Args:
        *args: ``nn.Linear`` arguments.
        usage: Fraction of weights kept, in (0, 1].
        form: 'diagonal' (band), 'gaussian' (soft band) or 'random'.
        seed: Seed of the 'random' form (drawn from torch's RNG when omitted; recorded).
        scale_init: Scale the initial weight by ``1 / usage`` (binary forms).
        **kwargs: ``nn.Linear`` keyword arguments.
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
        linear = bind_plain_arguments(nn.Linear, args, kwargs)
        spec = schizo_spec(
            form=form,
            usage=usage,
            seed=seed,
            allowed=SCHIZO_LINEAR_FORMS,
            layer=type(self).__name__,
            draw_seed=torch_seed,
        )
        super().__init__(**linear, spec=spec, scale_init=scale_init)


class mLinear(WindowedLinear):  # noqa: N801 - the seed's name
    """Seed-compatible mouse layer: the original PyTorch ``mLinear`` arguments and defaults.

    ``halfbandwidth`` (when non-zero) sets the band of 'diagonal' / 'gaussian' directly, as the
    original Keras ``mDense`` did. Non-divisible grids reproduce the seed's masks with a warning.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        halfbandwidth: float = 0,
        param_reduction: float = 0.5,
        form: str = "diagonal",
        input2d_width: int = 10,
        output2d_width: int = 10,
        window2d_width: float = 1.41,
        print_param_usage: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        seed: int | None = None,
        scale_init: bool = True,
    ) -> None:
        spec = seed_args_spec(
            form=form,
            halfbandwidth=halfbandwidth,
            param_reduction=param_reduction,
            input2d_width=input2d_width,
            output2d_width=output2d_width,
            window2d_width=window2d_width,
            seed=seed,
            allowed=LINEAR_FORMS,
            layer=type(self).__name__,
            draw_seed=torch_seed,
        )
        warn_dead_channels(in_features, out_features, spec, type(self).__name__)
        super().__init__(
            in_features, out_features, bias, device, dtype, spec=spec, scale_init=scale_init
        )
        if print_param_usage:
            print("param %usage:", 100.0 * self.usage)


class SzLinear(mLinear):
    """Seed-style schizophrenia linear layer: ``param_reduction``, ``form``, ``halfbandwidth``."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        param_reduction: float = 0.5,
        form: str = "diagonal",
        halfbandwidth: float = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        seed: int | None = None,
        scale_init: bool = True,
    ) -> None:
        if form not in SCHIZO_LINEAR_FORMS:
            raise ValueError(f"SzLinear: form must be one of {SCHIZO_LINEAR_FORMS}, got {form!r}")
        super().__init__(
            in_features,
            out_features,
            bias,
            halfbandwidth=halfbandwidth,
            param_reduction=param_reduction,
            form=form,
            device=device,
            dtype=dtype,
            seed=seed,
            scale_init=scale_init,
        )

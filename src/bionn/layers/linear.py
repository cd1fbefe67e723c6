"""Windowed ``nn.Linear`` layers: mouse-mimetic and schizophrenia-mimicking.

Mouse: Saiga et al. 2025 (arXiv 2410.20735); schizophrenia: Mizutani et al. 2022
(arXiv 2009.10887). The x axis is the input features, the y axis the output features. The
seed-compatible ``mLinear`` / ``SzLinear`` live in :mod:`bionn.layers.compat`.

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
from torch.types import Device

from bionn import recipes
from bionn.layers._windowed import MouseLayer, SchizoLayer, WindowedLayer
from bionn.layers._windowed_ops import LinearBlocks, linear_blocks, windowed_linear
from bionn.windows import Window

__all__ = ["MouseLinear", "SchizoLinear", "WindowedLinear"]


class WindowedLinear(WindowedLayer, nn.Linear):
    """``nn.Linear`` whose weight is masked by the window of ``recipe`` in every forward.

    Takes ``nn.Linear``'s arguments (channel counts as any integer scalar) plus the keyword-only
    ``recipe`` and ``scale_init`` of :class:`~bionn.layers.WindowedLayer`. The window's x axis is
    ``in_features``, its y axis ``out_features``.
    """

    # Row blocks and the columns their window reaches; a function of the recipe, as the window.
    _blocks: LinearBlocks

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Device = None,
        dtype: torch.dtype | None = None,
        *,
        recipe: recipes.Recipe,
        scale_init: bool = True,
    ) -> None:
        super().__init__(
            in_features, out_features, bias, device, dtype, recipe=recipe, scale_init=scale_init
        )

    def _window_shape(self, arguments: dict[str, Any]) -> tuple[int, int, tuple[int, ...]]:
        for name in ("in_features", "out_features"):
            arguments[name] = recipes.as_count(name, arguments[name])
        return arguments["in_features"], arguments["out_features"], ()

    def _channel_axes(self) -> tuple[int, int]:
        return self.in_features, self.out_features

    @torch.no_grad()
    def _build_window(self) -> Window:
        built = super()._build_window()
        self._blocks = linear_blocks(built.values)
        return built

    def forward(self, input: Tensor) -> Tensor:
        """``F.linear`` with the masked weight, multiplying only the inputs the window reaches."""
        if self.frozen:
            return F.linear(input, self.weight, self.bias)
        return windowed_linear(input, self.weight, self.window, self.bias, self._blocks)


class MouseLinear(MouseLayer, WindowedLinear):
    """Mouse-mimetic ``nn.Linear``: features on 2-D grids, connected within a radius.

    Takes ``nn.Linear``'s arguments plus the keyword-only ``usage`` or ``radius``, ``in_grid``,
    ``out_grid`` and ``scale_init`` of :class:`~bionn.layers.MouseLayer`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
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
            in_features,
            out_features,
            bias,
            device,
            dtype,
            usage=usage,
            radius=radius,
            in_grid=in_grid,
            out_grid=out_grid,
            scale_init=scale_init,
        )


class SchizoLinear(SchizoLayer, WindowedLinear):
    """Schizophrenia-mimicking ``nn.Linear`` keeping ``usage`` of the weights.

    Takes ``nn.Linear``'s arguments plus the keyword-only ``usage``, ``form`` ('diagonal' band,
    'gaussian' soft band or 'random'), ``seed`` and ``scale_init`` of
    :class:`~bionn.layers.SchizoLayer`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Device = None,
        dtype: torch.dtype | None = None,
        *,
        usage: float | None = None,
        form: str = "diagonal",
        seed: int | None = None,
        scale_init: bool = True,
    ) -> None:
        super().__init__(
            in_features,
            out_features,
            bias,
            device,
            dtype,
            usage=usage,
            form=form,
            seed=seed,
            scale_init=scale_init,
        )

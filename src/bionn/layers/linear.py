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

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bionn import recipes
from bionn.layers._windowed import MouseLayer, SchizoLayer, WindowedLayer

__all__ = ["MouseLinear", "SchizoLinear", "WindowedLinear"]


class WindowedLinear(WindowedLayer, nn.Linear):
    """``nn.Linear`` whose weight is masked by the window of ``recipe`` in every forward.

    Args:
        in_features: As ``nn.Linear`` (any integer scalar); the window's x axis.
        out_features: As ``nn.Linear``; the window's y axis.
        bias: As ``nn.Linear``.
        device: As ``nn.Linear``; ``'meta'`` defers the window to ``reset_parameters``.
        dtype: As ``nn.Linear``.
        recipe: The window recipe (:mod:`bionn.recipes`; a ``WindowSpec`` is one).
        scale_init: Scale the initial weight by ``1 / usage`` as the original did.
    """

    _schizo_forms = recipes.SCHIZO_LINEAR_FORMS

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        recipe: recipes.Recipe,
        scale_init: bool = True,
    ) -> None:
        in_features = recipes.as_count("in_features", in_features)
        out_features = recipes.as_count("out_features", out_features)
        spec = self._resolve(recipe, in_features, out_features, ())
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self._install_window(spec, scale_init)

    def _channel_axes(self) -> tuple[int, int]:
        return self.in_features, self.out_features

    def forward(self, input: Tensor) -> Tensor:
        """``F.linear`` with the masked weight."""
        return F.linear(input, self.masked_weight(), self.bias)


class MouseLinear(MouseLayer, WindowedLinear):
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


class SchizoLinear(SchizoLayer, WindowedLinear):
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

"""Layer factories shared by the experiment models: plain or bio-mimetic by one argument.

:class:`Bio` carries the variant and its strength (``usage`` or the seed's radius / reduction);
its methods return the plain layer for the standard variant and the windowed one otherwise, so
each model is written once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from torch import nn

import bionn
from bionn.windows import radius_for_usage

__all__ = ["Bio", "BuildError", "pow2_grid"]


class BuildError(ValueError):
    """A model cannot be built with these sizes or arguments; the message says why."""


def pow2_grid(channels: int) -> int:
    """Return the paper's DDIM grid width for ``channels``: ``2 ** round(log2(channels) / 2)``."""
    return 2 ** round(math.log2(channels) / 2)


@dataclass
class Bio:
    """Which layers to build.

    Attributes:
        variant: 'standard', 'mouse' or 'schizo'.
        usage: Target fraction of weights kept in each bio-mimetic layer (None: use
            ``radius`` / ``reduction``).
        radius: Mouse connection radius (the seed's ``window2d_width``).
        reduction: Schizo ``param_reduction``.
        form: Schizo window form.
        seed: Base seed of random schizo forms (layer ``i`` uses ``seed + i``).

    """

    variant: str = "standard"
    usage: float | None = None
    radius: float = 0.4
    reduction: float = 0.5
    form: str = "diagonal"
    seed: int = 0
    _count: int = field(default=0, init=False, repr=False)  # random-form layers built so far

    def _mouse_radius(self, n_x: int, n_y: int, x_width: int, y_width: int) -> float:
        if self.usage is None:
            return self.radius
        return radius_for_usage(n_x, n_y, x_width, y_width, self.usage)[0]

    def conv(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        *,
        grids: tuple[int, int] | None = None,
        bio: bool = True,
        **kwargs: Any,
    ) -> nn.Conv2d:
        """Return a ``Conv2d``: mouse (``grids`` = seed's input2d / output2d width) or schizo.

        ``bio=False`` forces a plain conv (layers the paper keeps standard).
        """
        if not bio or self.variant == "standard":
            return nn.Conv2d(c_in, c_out, kernel, **kwargs)
        if self.variant == "mouse":
            x_w, y_w = grids or (pow2_grid(c_in), pow2_grid(c_out))
            radius = self._mouse_radius(c_in, c_out, x_w, y_w)
            return bionn.mConv2d(
                c_in,
                c_out,
                kernel,
                form="2d",
                input2d_width=x_w,
                output2d_width=y_w,
                window2d_width=radius,
                **kwargs,
            )
        return bionn.SchizoConv2d(
            c_in,
            c_out,
            kernel,
            usage=self._keep(),
            form=self.form,
            seed=self._next_seed(),
            **kwargs,
        )

    def conv_transpose(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        *,
        grids: tuple[int, int],
        bio: bool = True,
        **kwargs: Any,
    ) -> nn.ConvTranspose2d:
        """Return a ``ConvTranspose2d``; mouse with the seed's (input2d_width, output2d_width)."""
        if not bio or self.variant == "standard":
            return nn.ConvTranspose2d(c_in, c_out, kernel, **kwargs)
        if self.variant != "mouse":
            raise BuildError(f"transposed convs have no {self.variant!r} variant")
        x_w, y_w = grids  # the seed's axis swap: x is the output channels
        radius = self._mouse_radius(c_out, c_in, x_w, y_w)
        return bionn.mConvTranspose2d(
            c_in,
            c_out,
            kernel,
            form="2d",
            input2d_width=x_w,
            output2d_width=y_w,
            window2d_width=radius,
            **kwargs,
        )

    def linear(
        self, n_in: int, n_out: int, *, grids: tuple[int, int] | None = None, bio: bool = True
    ) -> nn.Linear:
        """Return a ``Linear``; mouse (``mLinear`` with ``grids``) or schizo (``SchizoLinear``)."""
        if not bio or self.variant == "standard":
            return nn.Linear(n_in, n_out)
        if self.variant == "mouse":
            x_w, y_w = grids or (pow2_grid(n_in), pow2_grid(n_out))
            radius = self._mouse_radius(n_in, n_out, x_w, y_w)
            return bionn.mLinear(
                n_in, n_out, form="2d", input2d_width=x_w, output2d_width=y_w, window2d_width=radius
            )
        return bionn.SchizoLinear(
            n_in, n_out, usage=self._keep(), form=self.form, seed=self._next_seed()
        )

    def _keep(self) -> float:
        return self.usage if self.usage is not None else 1.0 - self.reduction

    def _next_seed(self) -> int:
        self._count += 1  # so that random forms differ from layer to layer
        return self.seed + self._count - 1

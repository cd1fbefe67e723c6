"""Windowed ``keras.layers.Dense``: seed-compatible ``mDense`` / ``SzDense`` and clean layers.

Mouse: Saiga et al. 2025 (arXiv 2410.20735); schizophrenia: Mizutani et al. 2022
(arXiv 2009.10887). The x axis is the input features, the y axis the units; the kernel is
``(in, out)``.

Example:
    >>> import numpy as np, bionn.keras as mouse
    >>> layer = mouse.MouseDense(64, usage=0.35)
    >>> layer(np.zeros((2, 100), "float32")).shape[-1], round(layer.usage, 2)
    (64, 0.35)

"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from bionn.keras._windowed import MouseWindow, WindowedKerasLayer
from bionn.layers._specs import LINEAR_FORMS, SCHIZO_LINEAR_FORMS

__all__ = ["MouseDense", "SchizoDense", "SzDense", "mDense"]

_register = keras.saving.register_keras_serializable(package="bionn")


class _WindowedDense(WindowedKerasLayer, keras.layers.Dense):
    """``Dense`` whose kernel is multiplied by the window in ``call``."""

    def call(self, inputs: Any, training: Any = None) -> Any:
        """``activation(inputs @ (kernel * window) + bias)``."""
        x = ops.matmul(inputs, self.masked_kernel(self.kernel))
        if self.bias is not None:
            x = ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x


@_register
class mDense(_WindowedDense):  # noqa: N801 - the seed's name
    """Seed-compatible mouse / schizophrenia dense layer (the original Keras ``mDense``).

    Args:
        units: Output features (y axis).
        halfbandwidth: Band half-width of 'diagonal' / 'gaussian'; 0 computes it from
            ``param_reduction``.
        param_reduction: Fraction of weights removed by 'diagonal', 'gaussian' and 'random'.
        form: '2d', 'diagonal', 'gaussian', 'random' or 'individual'.
        input2d_width: '2d' grid width of the input features.
        output2d_width: '2d' grid width of the units.
        window2d_width: '2d' connection radius, as a fraction of the plane's width.
        seed: Seed of the random forms (drawn from Python's RNG when omitted; in the config).
        scale_init: Scale the initial kernel by ``1 / usage`` as the original did.

    Other arguments are those of ``keras.layers.Dense``.

    """

    def __init__(
        self,
        units: int,
        halfbandwidth: float = 0,
        param_reduction: float = 0.5,
        form: str = "diagonal",
        input2d_width: int = 10,
        output2d_width: int = 10,
        window2d_width: float = 1.41,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        *,
        seed: int | None = None,
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            units, activation, use_bias, kernel_initializer, bias_initializer,
            kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
            bias_constraint, **kwargs,
        )  # fmt: skip
        self._setup_seed_window(
            LINEAR_FORMS, seed, scale_init, halfbandwidth=halfbandwidth,
            param_reduction=param_reduction, form=form, input2d_width=input2d_width,
            output2d_width=output2d_width, window2d_width=window2d_width,
        )  # fmt: skip


@_register
class SzDense(_WindowedDense):
    """Seed-style schizophrenia dense layer (the original ``schizo.SzDense``).

    Args:
        units: Output features.
        halfbandwidth: Band half-width; 0 computes it from ``param_reduction``.
        param_reduction: Fraction of weights removed.
        form: 'diagonal' (band), 'gaussian' (soft band) or 'random'.
        seed: Seed of the 'random' form (drawn from Python's RNG when omitted; in the config).
        scale_init: Scale the initial kernel by ``1 / usage`` (binary forms).

    Other arguments are those of ``keras.layers.Dense``.

    """

    def __init__(
        self,
        units: int,
        halfbandwidth: float = 0,
        param_reduction: float = 0.5,
        form: str = "diagonal",
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        *,
        seed: int | None = None,
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            units, activation, use_bias, kernel_initializer, bias_initializer,
            kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
            bias_constraint, **kwargs,
        )  # fmt: skip
        self._setup_seed_window(
            SCHIZO_LINEAR_FORMS, seed, scale_init, halfbandwidth=halfbandwidth,
            param_reduction=param_reduction, form=form,
        )  # fmt: skip


@_register
class MouseDense(MouseWindow, _WindowedDense):
    """Mouse-mimetic dense layer: features on 2-D grids, connected within a radius.

    Args:
        units: Output features (y axis).
        usage: Target fraction of weights kept; the radius whose usage is nearest is used.
        radius: Connection radius (fraction of the plane's width); exclusive with ``usage``.
        in_grid: ``(rows, cols)`` of the input features; default the factorisation nearest a
            square. Checked when the layer is built (the input size is known then).
        out_grid: ``(rows, cols)`` of the units.
        scale_init: Scale the initial kernel by ``1 / usage`` as the original did.

    Other arguments are those of ``keras.layers.Dense``.

    """

    def __init__(
        self,
        units: int,
        *args: Any,
        usage: float | None = None,
        radius: float | None = None,
        in_grid: Sequence[int] | None = None,
        out_grid: Sequence[int] | None = None,
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, *args, **kwargs)
        self._setup_mouse(usage, radius, in_grid, out_grid, scale_init)


@_register
class SchizoDense(_WindowedDense):
    """Schizophrenia-mimicking dense layer keeping ``usage`` of the weights.

    Args:
        units: Output features.
        usage: Fraction of weights kept, in (0, 1].
        form: 'diagonal' (band), 'gaussian' (soft band) or 'random'.
        seed: Seed of the 'random' form (drawn from Python's RNG when omitted; in the config).
        scale_init: Scale the initial kernel by ``1 / usage`` (binary forms).

    Other arguments are those of ``keras.layers.Dense``.

    """

    def __init__(
        self,
        units: int,
        *args: Any,
        usage: float | None = None,
        form: str = "diagonal",
        seed: int | None = None,
        scale_init: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, *args, **kwargs)
        self._setup_schizo_window(SCHIZO_LINEAR_FORMS, usage, form, seed, scale_init)

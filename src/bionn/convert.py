"""Turn the Linear / Conv layers of an existing PyTorch model into windowed layers.

:func:`mousify` gives a model mouse-mimetic '2d' windows (Saiga et al. 2025, Sci. Rep.
15:25091), :func:`schizofy` schizophrenia-mimicking ones (Mizutani et al. 2022, Front.
Neurorobot. 16:851471). Both run :func:`bionn.surgery.replace_layers` with a policy dict
``{nn.Conv2d: replace_fn, ...}``; its module docstring and :mod:`bionn.selection` list the
layers left alone and why (the RGB stem, the classifier, attention projections, tied
embeddings ...). Tied layers get one window and keep sharing their weight.

Example:
    >>> import torch, bionn
    >>> model = torch.nn.Sequential(
    ...     torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    >>> result = bionn.mousify(model, usage=0.35)
    >>> [row.name for row in result.replaced], [row.name for row in result.skipped]
    (['0'], ['2'])
    >>> type(model[0]).__name__
    'MouseLinear'

"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from bionn import layers
from bionn.layers import WindowedLayer, plain_arguments
from bionn.layers._windowed import torch_seed
from bionn.selection import (
    ConversionOptions,
    LayerChange,
    Replacements,
    SchizoOptions,
    WindowArgs,
    conversion_options,
    schizofy_arguments,
)
from bionn.surgery import ConversionReport, Policy, ReplaceFn, replace_layers

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "ConversionReport",
    "LayerChange",
    "Policy",
    "freeze",
    "mousify",
    "replace_layers",
    "schizofy",
    "unfreeze",
]


def mousify(
    model: nn.Module, usage: float = 0.35, **options: Unpack[ConversionOptions]
) -> ConversionReport:
    """Replace the model's Linear / Conv2d / ConvTranspose2d layers by mouse layers, in place.

    Each new layer has the old one's hyper-parameters, device and dtype, grids nearest a square
    (:func:`bionn.windows.grid_for`) and the radius whose usage is nearest ``usage``.

    Args:
        model: Any module; its children are replaced in place.
        usage: Target fraction of weights kept per layer, in (0, 1].
        **options: Which layers to convert and whether to keep their weights: ``include``,
            ``exclude``, ``min_channels=16``, ``skip_last=True``, ``keep_weights=True``
            (:class:`~bionn.selection.ConversionOptions`).

    Returns:
        The :class:`ConversionReport`; it warns when nothing was converted.

    Raises:
        TypeError: ``include`` names a layer type that cannot be converted, or an unknown
            keyword.
        ValueError: An ``include`` name pattern matches no layer, or bad ``usage``.

    """

    def window_args() -> dict[str, object]:
        return {"usage": usage}

    return _convert(
        model,
        "mousify",
        conversion_options(mousify, options),
        {
            nn.Linear: (layers.MouseLinear, window_args),
            nn.Conv2d: (layers.MouseConv2d, window_args),
            nn.ConvTranspose2d: (layers.MouseConvTranspose2d, window_args),
        },
    )


def schizofy(
    model: nn.Module, usage: float = 0.5, form: str = "diagonal", **options: Unpack[SchizoOptions]
) -> ConversionReport:
    """Replace the model's Linear / Conv layers by schizophrenia-mimicking layers, in place.

    Args:
        model: Any module; its children are replaced in place.
        usage: Fraction of weights kept per layer, in (0, 1].
        form: Linear form: 'diagonal', 'gaussian' or 'random'.
        **options: ``conv_form`` (default ``form``), ``seed`` (default: drawn from torch's RNG
            and recorded on the layer) and the options of :func:`mousify`
            (:class:`~bionn.selection.SchizoOptions`).

    Returns:
        The :class:`ConversionReport`.

    """
    arguments, settings = schizofy_arguments(schizofy, usage, form, options, torch_seed)
    return _convert(
        model,
        "schizofy",
        settings,
        {
            nn.Linear: (layers.SchizoLinear, arguments.linear),
            nn.Conv2d: (layers.SchizoConv2d, arguments.conv),
            nn.ConvTranspose2d: (layers.SchizoConvTranspose2d, arguments.conv),
        },
    )


def _convert(
    model: nn.Module, caller: str, settings: dict[str, Any], replacements: Replacements
) -> ConversionReport:
    """Run :func:`replace_layers` for ``caller`` with its checked and completed options."""
    keep_weights = settings.pop("keep_weights")
    policy = {
        plain: _rebuilder(windowed, keep_weights, window_args)
        for plain, (windowed, window_args) in replacements.items()
    }
    return replace_layers(model, policy, caller=caller, **settings)


def _rebuilder(windowed_class: type, keep_weights: bool, window_args: WindowArgs) -> ReplaceFn:
    """Return a replace function building ``windowed_class`` with the old layer's arguments.

    Layers tied to one weight get the same window arguments (one seed), hence one window.
    """
    args_by_weight: dict[int, dict[str, object]] = {}

    def rebuild(module: nn.Module, name: str) -> nn.Module:
        arguments = plain_arguments(module, type(module))
        if id(module.weight) not in args_by_weight:
            args_by_weight[id(module.weight)] = window_args()
        new = windowed_class(
            **arguments, **args_by_weight[id(module.weight)], scale_init=not keep_weights
        )
        if keep_weights:
            with torch.no_grad():
                new.weight.copy_(module.weight)
                if new.is_binary:  # masked entries are zero, as scale_init leaves them
                    new.weight.mul_(new.window)
                if module.bias is not None:
                    new.bias.copy_(module.bias)
        return new.train(module.training)

    return rebuild


def freeze(model: nn.Module) -> int:
    """Freeze every windowed layer of ``model`` for inference (see ``WindowedLayer.freeze``).

    Each layer stores its masked weight once, so forward multiplies no more. Undo with
    :func:`unfreeze` (binary forms; 'gaussian' layers are inference-only once frozen).

    Returns:
        The number of windowed layers frozen.

    """
    layers = [m for m in model.modules() if isinstance(m, WindowedLayer)]
    for layer in layers:
        layer.freeze()
    return len(layers)


def unfreeze(model: nn.Module) -> int:
    """Undo :func:`freeze` on every windowed layer; returns how many there are.

    Raises:
        ValueError: A frozen layer has a 'gaussian' window.

    """
    layers = [m for m in model.modules() if isinstance(m, WindowedLayer)]
    for layer in layers:
        layer.unfreeze()
    return len(layers)

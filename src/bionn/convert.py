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

from collections.abc import Callable

import torch
from torch import nn

from bionn.layers import (
    MouseConv2d,
    MouseConvTranspose2d,
    MouseLinear,
    SchizoConv2d,
    SchizoConvTranspose2d,
    SchizoLinear,
    WindowedLayer,
    plain_arguments,
)
from bionn.selection import LayerChange, SchizoArguments, Selector
from bionn.surgery import ConversionReport, Policy, ReplaceFn, replace_layers

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
    model: nn.Module,
    usage: float = 0.35,
    *,
    include: Selector | None = None,
    exclude: Selector | None = None,
    min_channels: int = 16,
    skip_last: bool = True,
    keep_weights: bool = True,
) -> ConversionReport:
    """Replace the model's Linear / Conv2d / ConvTranspose2d layers by mouse layers, in place.

    Each new layer has the old one's hyper-parameters, device and dtype, grids nearest a square
    (:func:`bionn.windows.grid_for`) and the radius whose usage is nearest ``usage``.

    Args:
        model: Any module; its children are replaced in place.
        usage: Target fraction of weights kept per layer, in (0, 1].
        include: Layer types and/or module-name patterns (``fnmatch``; a name also selects the
            layers inside that module) to convert; default every supported layer. Naming a
            layer by name converts it even when it is the last one.
        exclude: Types and/or name patterns to leave alone; wins over ``include``.
        min_channels: Layers with fewer channels than this on either window axis stay plain.
        skip_last: Leave the last weight layer (the classifier) plain.
        keep_weights: Keep the existing weights (masked); False re-initialises them as a new
            mouse layer would (scaled by ``1 / usage``).

    Returns:
        The :class:`ConversionReport`; it warns when nothing was converted.

    Raises:
        TypeError: ``include`` names a layer type that cannot be converted.
        ValueError: An ``include`` name pattern matches no layer, or bad ``usage``.

    """
    policy = {
        nn.Linear: _rebuilder(MouseLinear, keep_weights, usage=usage),
        nn.Conv2d: _rebuilder(MouseConv2d, keep_weights, usage=usage),
        nn.ConvTranspose2d: _rebuilder(MouseConvTranspose2d, keep_weights, usage=usage),
    }
    return replace_layers(
        model,
        policy,
        include=include,
        exclude=exclude,
        min_channels=min_channels,
        skip_last=skip_last,
        caller="mousify",
    )


def schizofy(
    model: nn.Module,
    usage: float = 0.5,
    form: str = "diagonal",
    *,
    conv_form: str | None = None,
    seed: int | None = None,
    include: Selector | None = None,
    exclude: Selector | None = None,
    min_channels: int = 16,
    skip_last: bool = True,
    keep_weights: bool = True,
) -> ConversionReport:
    """Replace the model's Linear / Conv layers by schizophrenia-mimicking layers, in place.

    Args:
        model: Any module; its children are replaced in place.
        usage: Fraction of weights kept per layer, in (0, 1].
        form: Linear form: 'diagonal', 'gaussian' or 'random'.
        conv_form: Conv / transposed-conv form: 'diagonal', 'individual' or 'kernel'; default
            ``form`` (an error if ``form`` has no conv version and a conv is converted).
        seed: Seed of the random forms; layer ``i`` (in conversion order) gets ``seed + i``.
            Default: drawn from torch's RNG (recorded on the layer). Tied layers share one.
        include: As :func:`mousify`.
        exclude: As :func:`mousify`.
        min_channels: As :func:`mousify`.
        skip_last: As :func:`mousify`.
        keep_weights: As :func:`mousify`.

    Returns:
        The :class:`ConversionReport`.

    """
    arguments = SchizoArguments(usage, form, conv_form, seed, _draw_seed)
    policy = {
        nn.Linear: _rebuilder(SchizoLinear, keep_weights, arguments.linear),
        nn.Conv2d: _rebuilder(SchizoConv2d, keep_weights, arguments.conv),
        nn.ConvTranspose2d: _rebuilder(SchizoConvTranspose2d, keep_weights, arguments.conv),
    }
    return replace_layers(
        model,
        policy,
        include=include,
        exclude=exclude,
        min_channels=min_channels,
        skip_last=skip_last,
        caller="schizofy",
    )


def _rebuilder(
    windowed_class: type[nn.Module],
    keep_weights: bool,
    window_args: Callable[[], dict[str, object]] | None = None,
    **fixed_args: object,
) -> ReplaceFn:
    """Return a replace function building ``windowed_class`` with the old layer's arguments.

    Layers tied to one weight get the same window arguments (one seed), hence one window.
    """
    args_by_weight: dict[int, dict[str, object]] = {}

    def rebuild(module: nn.Module, name: str) -> nn.Module:
        arguments = plain_arguments(module, type(module))
        if id(module.weight) not in args_by_weight:
            extra = {**fixed_args, **(window_args() if window_args else {})}
            args_by_weight[id(module.weight)] = extra
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


def _draw_seed() -> int:
    """A seed from torch's RNG (reproducible after ``torch.manual_seed``).

    Drawn once per converted weight, so layers tied to one weight get one window.
    """
    return int(torch.randint(2**31 - 1, (), device="cpu").item())


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

"""Model surgery: turn the Linear / Conv layers of an existing model into windowed layers.

:func:`mousify` gives a model mouse-mimetic '2d' windows (Saiga et al. 2025, Sci. Rep.
15:25091), :func:`schizofy` schizophrenia-mimicking ones (Mizutani et al. 2022, Front.
Neurorobot. 16:851471). Both run :func:`replace_layers` with a policy dict
``{nn.Conv2d: replace_fn, ...}`` in the style of composer's module surgery: every replacement is
built first, so a failing one leaves the model untouched; a module shared by several parents is
replaced by one new module everywhere.

Default rules leave alone, and list, the layers a window does not suit:

- layers with fewer than ``min_channels`` channels on either window axis (the RGB input conv,
  depthwise convs): their grids would be a line of a few nodes;
- the last weight layer in registration order (the classifier or output layer);
- subclasses of the supported types, such as ``nn.MultiheadAttention``'s ``out_proj``
  (``NonDynamicallyQuantizableLinear``): the attention reads ``out_proj.weight`` directly, never
  calling its forward, so a window there would silently do nothing; layers under
  ``spectral_norm`` or another parametrization (their class is a generated subclass) would lose
  it;
- layers that are already windowed.

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

import fnmatch
import itertools
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

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
from bionn.recipes import SCHIZO_CONV_FORMS
from bionn.report import UsageReport, usage_report

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

ReplaceFn = Callable[[nn.Module, str], nn.Module]
Policy = Mapping[type[nn.Module], ReplaceFn]
Selector = Iterable[type[nn.Module] | str]


@dataclass(frozen=True)
class LayerChange:
    """One weight layer: its name, its class before and after ('' if skipped) and a note.

    The note says why a skipped layer was left alone, or where else a shared replaced layer sits.
    """

    name: str
    before: str
    after: str
    note: str = ""


@dataclass(frozen=True)
class ConversionReport:
    """What :func:`replace_layers` replaced and skipped, and the model's usage afterwards."""

    replaced: list[LayerChange]
    skipped: list[LayerChange]
    usage: UsageReport

    def __str__(self) -> str:
        lines = [f"replaced {len(self.replaced)} layer(s):"]
        lines += [
            f"  {c.name}: {c.before} -> {c.after}" + (f" ({c.note})" if c.note else "")
            for c in self.replaced
        ]
        lines.append(f"left alone {len(self.skipped)} layer(s):")
        lines += [f"  {c.name}: {c.before} ({c.note})" for c in self.skipped]
        return "\n".join([*lines, "", str(self.usage)])


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
            Default: each layer draws one from torch's RNG (recorded on the layer).
        include: As :func:`mousify`.
        exclude: As :func:`mousify`.
        min_channels: As :func:`mousify`.
        skip_last: As :func:`mousify`.
        keep_weights: As :func:`mousify`.

    Returns:
        The :class:`ConversionReport`.

    """
    seeds = None if seed is None else itertools.count(seed)

    def linear_args() -> dict[str, object]:
        return {"usage": usage, "form": form, "seed": next(seeds) if seeds else None}

    def conv_args() -> dict[str, object]:  # called per converted conv, so only convs can fail
        if conv_form is None and form not in SCHIZO_CONV_FORMS:
            raise ValueError(
                f"schizofy: form={form!r} has no conv version; pass conv_form= "
                f"(one of {SCHIZO_CONV_FORMS}) or exclude the conv layers"
            )
        return {**linear_args(), "form": conv_form or form}

    policy = {
        nn.Linear: _rebuilder(SchizoLinear, keep_weights, linear_args),
        nn.Conv2d: _rebuilder(SchizoConv2d, keep_weights, conv_args),
        nn.ConvTranspose2d: _rebuilder(SchizoConvTranspose2d, keep_weights, conv_args),
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
    """Return a replace function building ``windowed_class`` with the old layer's arguments."""

    def rebuild(module: nn.Module, name: str) -> nn.Module:
        arguments = plain_arguments(module, type(module))
        extra = {**fixed_args, **(window_args() if window_args else {})}
        new = windowed_class(**arguments, **extra, scale_init=not keep_weights)
        with torch.no_grad():
            if keep_weights:
                new.weight.copy_(module.weight)
                if new.is_binary:  # masked entries are zero, as scale_init leaves them
                    new.weight.mul_(new.window)
                if module.bias is not None:
                    new.bias.copy_(module.bias)
        for parameter_name, parameter in new.named_parameters():
            parameter.requires_grad_(getattr(module, parameter_name).requires_grad)
        return new.train(module.training)

    return rebuild


def replace_layers(
    model: nn.Module,
    policy: Policy,
    *,
    include: Selector | None = None,
    exclude: Selector | None = None,
    min_channels: int = 16,
    skip_last: bool = True,
    caller: str = "replace_layers",
) -> ConversionReport:
    """Replace, in place, every layer whose exact type is a key of ``policy``.

    ``policy[type(layer)](layer, name)`` returns the replacement. The rules and arguments are
    those of :func:`mousify`; ``caller`` names the function in messages.

    Returns:
        The :class:`ConversionReport` of the changed model.

    """
    rules = _Rules(policy, min_channels, caller, include, exclude)
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, tuple(policy))]
    rules.check_include([n for n, _ in layers])
    rules.last = layers[-1][0] if skip_last and layers else None

    replaced: list[LayerChange] = []
    skipped: list[LayerChange] = []
    new_by_id: dict[int, nn.Module] = {}
    for name, module in layers:
        reason = rules.skip_reason(name, module)
        if reason:
            skipped.append(LayerChange(name or "(model)", type(module).__name__, "", reason))
            continue
        new = new_by_id[id(module)] = policy[type(module)](module, name)
        replaced.append(LayerChange(name, type(module).__name__, type(new).__name__))

    places = _install(model, new_by_id)
    replaced = [_with_aliases(c, places) for c in replaced]
    if not replaced:
        reasons = sorted({c.note for c in skipped}) or ["it has no Linear / Conv layers"]
        warnings.warn(f"{caller}: nothing converted ({'; '.join(reasons)})", stacklevel=3)
    return ConversionReport(replaced, skipped, usage_report(model))


class _Rules:
    """The include / exclude selection and the default rules of the module docstring."""

    def __init__(
        self,
        policy: Policy,
        min_channels: int,
        caller: str,
        include: Selector | None,
        exclude: Selector | None,
    ) -> None:
        if isinstance(min_channels, bool) or not isinstance(min_channels, int) or min_channels < 1:
            raise ValueError(f"{caller}: min_channels must be an int >= 1, got {min_channels!r}")
        self.policy, self.min_channels, self.caller = policy, min_channels, caller
        self.include_types, self.include_names = _split_selector(include, "include", caller)
        self.exclude_types, self.exclude_names = _split_selector(exclude, "exclude", caller)
        self.selective = include is not None
        self.last: str | None = None
        for layer_type in self.include_types:
            if layer_type not in policy:
                supported = ", ".join(f"nn.{t.__name__}" for t in policy)
                raise TypeError(
                    f"{caller} cannot convert {layer_type.__name__} (include=); "
                    f"supported layer types: {supported}"
                )

    def check_include(self, layer_names: list[str]) -> None:
        """Every include name pattern must select a layer (a typo would silently convert none)."""
        for pattern in self.include_names:
            if not any(_matches(n, pattern) for n in layer_names):
                raise ValueError(
                    f"{self.caller}: include pattern {pattern!r} matches no "
                    f"convertible layer; their names are {layer_names}"
                )

    def skip_reason(self, name: str, module: nn.Module) -> str:
        """Why ``module`` stays as it is ('' to convert it)."""
        named = any(_matches(name, p) for p in self.include_names)
        if isinstance(module, WindowedLayer):
            return "already windowed"
        if type(module) not in self.policy:
            return (
                f"subclass {type(module).__name__} of a supported type: its weight may be read "
                "or computed elsewhere (nn.MultiheadAttention reads out_proj.weight itself, "
                "spectral_norm computes it); give the type a policy entry to convert it"
            )
        if type(module) in self.exclude_types or any(_matches(name, p) for p in self.exclude_names):
            return "excluded"
        if self.selective and not (named or type(module) in self.include_types):
            return "not included"
        if not name:
            return "the model itself is the layer: nothing to replace it in"
        if name == self.last and not named:
            return "last layer (classifier); name it in include= to convert it"
        channels = min(module.weight.shape[:2])  # the window's two axes, (y, x) in weight order
        if channels < self.min_channels:
            return f"{channels} channels < min_channels={self.min_channels}"
        return ""


def _split_selector(
    selector: Selector | None, argument: str, caller: str
) -> tuple[list[type[nn.Module]], list[str]]:
    if selector is None:
        return [], []
    if isinstance(selector, (str, type)):
        selector = [selector]
    types, names = [], []
    for item in selector:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, type) and issubclass(item, nn.Module):
            types.append(item)
        else:
            raise TypeError(
                f"{caller}: {argument}= takes layer types and name patterns, got {item!r}"
            )
    return types, names


def _matches(name: str, pattern: str) -> bool:
    """``fnmatch``, or ``name`` lies inside the module that ``pattern`` names."""
    return fnmatch.fnmatchcase(name, pattern) or name.startswith(pattern + ".")


def _install(model: nn.Module, new_by_id: dict[int, nn.Module]) -> dict[int, list[str]]:
    """Put every replacement at each place its old module sat; returns those places by id."""
    places: dict[int, list[str]] = {}
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent._modules.items()):
            if child is not None and id(child) in new_by_id:
                setattr(parent, child_name, new_by_id[id(child)])
                full = f"{parent_name}.{child_name}" if parent_name else child_name
                places.setdefault(id(child), []).append(full)
    return places


def _with_aliases(change: LayerChange, places: dict[int, list[str]]) -> LayerChange:
    for names in places.values():
        if change.name in names and len(names) > 1:
            others = ", ".join(n for n in names if n != change.name)
            return LayerChange(change.name, change.before, change.after, f"shared; also {others}")
    return change


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

"""Model surgery on PyTorch models: replace layers by a policy dict, keeping ties.

:func:`replace_layers` works in the style of composer's module surgery: a policy dict
``{nn.Conv2d: replace_fn, ...}`` says how to rebuild each layer type; every replacement is built
first, so a failing one leaves the model untouched; a module shared by several parents is
replaced by one new module everywhere. :func:`bionn.mousify` and :func:`bionn.schizofy` are
such policies.

Besides the rules of :mod:`bionn.selection` (size, last layer, include / exclude), layers stay
plain, each listed with its reason, when a window cannot be applied or would change the model's
meaning:

- subclasses of the supported types, such as ``nn.MultiheadAttention``'s ``out_proj``
  (``NonDynamicallyQuantizableLinear``): the attention reads ``out_proj.weight`` directly, never
  calling its forward, so a window there would silently do nothing; layers under
  ``spectral_norm`` or another parametrization (their class is a generated subclass) would lose
  it;
- weight layers with no windowed version (``nn.Conv1d``, ``nn.Conv3d`` ...);
- uninitialised lazy layers (their shape is unknown until the first forward);
- TorchScript modules (``torch.jit.script`` / ``trace``), whose compiled code calls its layers;
- layers that are already windowed;
- layers whose weight is tied to a user that stays unwindowed (an embedding tied to the output
  layer, a layer left plain by a rule): one window cannot serve both uses; a warning says so.

Layers tied to one weight are converted together: they share the same ``Parameter`` and one
window. The replacements take over the old layers' ``Parameter`` objects (holding the new
values), so ties to other modules and optimizer references survive. Models built on the meta
device convert too (no values are read); ``to_empty`` then breaks ties, as it does for any torch
module: tie the weights again after it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin

from bionn.layers import WindowedLayer
from bionn.recipes import EmptyWindowError
from bionn.report import UsageReport, usage_report
from bionn.selection import LayerChange, LayerRules, Selector, format_changes

__all__ = ["ConversionReport", "Policy", "ReplaceFn", "replace_layers"]

_WEIGHT_LAYERS = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)
ReplaceFn = Callable[[nn.Module, str], nn.Module]
Policy = Mapping[type[nn.Module], ReplaceFn]


@dataclass(frozen=True)
class ConversionReport:
    """What :func:`replace_layers` replaced and skipped, and the model's usage afterwards."""

    replaced: list[LayerChange]
    skipped: list[LayerChange]
    usage: UsageReport

    def __str__(self) -> str:
        return "\n".join([*format_changes(self.replaced, self.skipped), "", str(self.usage)])


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
    those of :func:`mousify`. The replacement takes over the old layer's ``Parameter`` objects
    (holding the new values), so ties and optimizer references survive; layers sharing one
    weight become layers sharing one weight and one window, or all stay plain, with a warning,
    when the weight has another user (an embedding, a layer left plain) or their windows would
    differ. ``caller`` names the function in messages.

    Returns:
        The :class:`ConversionReport` of the changed model.

    """
    rules = LayerRules(policy, min_channels, caller, include, exclude, base_type=nn.Module)
    supported = tuple(policy)
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, supported)]
    rules.start([n for n, _ in layers], skip_last)

    reasons = {name: _skip_reason(rules, name, module) for name, module in layers}
    tied = _tie_conflicts(model, layers, reasons)
    reasons.update(tied)
    new_by_id: dict[int, nn.Module] = {}
    for name, module in layers:  # every replacement is built before the model changes
        if not reasons[name]:
            try:
                new_by_id[id(module)] = policy[type(module)](module, name)
            except EmptyWindowError as error:  # a dead layer is no conversion: leave it plain
                reasons[name] = f"its window would keep no weight ({str(error).split(': ', 1)[1]})"
    differing = _window_conflicts(layers, new_by_id)
    reasons.update(differing)
    for name, module in layers:
        if name in differing:
            new_by_id.pop(id(module), None)

    _adopt_parameters(layers, new_by_id)
    places = _install(model, new_by_id)
    replaced = [
        _replaced_change(name, module, new_by_id[id(module)], places, layers)
        for name, module in layers
        if id(module) in new_by_id
    ]
    skipped = [
        LayerChange(name or "(model)", type(module).__name__, "", reasons[name])
        for name, module in layers
        if reasons[name]
    ]
    skipped += _unsupported_layers(model, policy) + _scripted_parts(model)
    for change in skipped:
        if change.name in tied or change.name in differing:
            warnings.warn(f"{caller}: left {change.name!r} plain: {change.note}", stacklevel=3)
    if not replaced:
        notes = sorted({c.note for c in skipped}) or ["it has no Linear / Conv layers"]
        warnings.warn(f"{caller}: nothing converted ({'; '.join(notes)})", stacklevel=3)
    return ConversionReport(replaced, skipped, usage_report(model))


def _skip_reason(rules: LayerRules, name: str, module: nn.Module) -> str:
    """Why ``module`` stays as it is ('' to convert it): torch's cases, then the common rules."""
    if isinstance(module, WindowedLayer):
        return "already windowed"
    if isinstance(module, LazyModuleMixin) and module.has_uninitialized_params():
        return (
            f"uninitialised lazy layer ({type(module).__name__}): its shape is unknown "
            "until the first forward; run one forward pass, then convert"
        )
    if type(module) not in rules.supported:
        return (
            f"subclass {type(module).__name__} of a supported type: its weight may be read "
            "or computed elsewhere (nn.MultiheadAttention reads out_proj.weight itself, "
            "spectral_norm computes it); give the type a policy entry to convert it"
        )
    weight = cast(torch.Tensor, module.weight)  # every policy type has a weight tensor
    channels = min(weight.shape[:2])  # the window's two axes, (y, x) in weight order
    return rules.skip_reason(name, type(module), channels)


def _tie_conflicts(
    model: nn.Module, layers: list[tuple[str, nn.Module]], reasons: dict[str, str]
) -> dict[str, str]:
    """Reasons to leave plain the layers whose weight has a user that will not be windowed."""
    converting = {id(module) for name, module in layers if not reasons[name]}
    users: dict[int, list[tuple[str, nn.Module, str]]] = {}
    for module_name, module in model.named_modules():  # a shared module counts once
        for attribute, parameter in module._parameters.items():
            if parameter is not None:
                users.setdefault(id(parameter), []).append((module_name, module, attribute))
    conflicts = {}
    for name, module in layers:
        others = [
            (user_name, user, attribute)
            for user_name, user, attribute in users.get(id(module.weight), [])
            if not (id(user) in converting and attribute == "weight")
        ]
        if reasons[name] or not others:
            continue
        user_name, user, attribute = others[0]
        why = (
            f"left plain: {reasons[user_name]}"
            if reasons.get(user_name)
            else f"{type(user).__name__} uses it without a window"
        )
        where = f"{user_name}.{attribute}" if user_name else attribute
        conflicts[name] = f"weight tied to {where!r} ({why}); one window cannot serve both uses"
    return conflicts


def _window_conflicts(
    layers: list[tuple[str, nn.Module]], new_by_id: dict[int, nn.Module]
) -> dict[str, str]:
    """Reasons to leave plain the layers tied to one weight whose new windows would differ."""
    groups: dict[int, list[tuple[str, nn.Module]]] = {}
    for name, module in layers:
        if id(module) in new_by_id:
            groups.setdefault(id(module.weight), []).append((name, new_by_id[id(module)]))
    conflicts = {}
    for group in groups.values():
        first = group[0][1]
        if all(_same_window(first, new) for _, new in group[1:]):
            continue
        names = ", ".join(repr(name) for name, _ in group)
        for name, _ in group:
            conflicts[name] = (
                f"weight tied across {names}, whose windows would differ; "
                "one window cannot serve them all"
            )
    return conflicts


def _same_window(a: nn.Module, b: nn.Module) -> bool:
    window_a, window_b = getattr(a, "window", None), getattr(b, "window", None)
    if window_a is None or window_b is None:
        return window_a is window_b and type(a) is type(b)
    if type(a) is not type(b) or window_a.shape != window_b.shape:
        return False
    if window_a.is_meta or window_b.is_meta:  # no values yet: compare the window arguments
        return a.extra_repr() == b.extra_repr()
    return bool(torch.equal(window_a, window_b.to(window_a.device)))


def _adopt_parameters(layers: list[tuple[str, nn.Module]], new_by_id: dict[int, nn.Module]) -> None:
    """Move each replacement's values into the old layer's ``Parameter`` objects and use those.

    Ties (also to modules left alone, such as a tied bias), optimizer references and
    ``requires_grad`` survive; layers tied to one weight also share one window buffer.
    """
    adopted: dict[int, nn.Parameter] = {}
    windows: dict[int, torch.Tensor] = {}
    for _, module in layers:
        new = new_by_id.get(id(module))
        if new is None:
            continue
        for attribute, parameter in list(new._parameters.items()):
            old = module._parameters.get(attribute)
            if parameter is None or old is None:
                continue
            if id(old) not in adopted:
                if (old.shape, old.dtype, old.device) == (
                    parameter.shape,
                    parameter.dtype,
                    parameter.device,
                ):
                    with torch.no_grad():
                        old.copy_(parameter)
                    parameter = old
                adopted[id(old)] = parameter
            if adopted[id(old)].shape == parameter.shape:
                setattr(new, attribute, adopted[id(old)])
        if "window" in new._buffers:
            window = windows.setdefault(id(module.weight), cast(torch.Tensor, new.window))
            new.window = window


def _unsupported_layers(model: nn.Module, policy: Policy) -> list[LayerChange]:
    """The weight layers of a type the policy has no entry for (``nn.Conv3d`` ...)."""
    supported = ", ".join(f"nn.{t.__name__}" for t in policy)
    unsupported = []
    for name, module in model.named_modules():
        if isinstance(module, _WEIGHT_LAYERS) and not isinstance(module, tuple(policy)):
            base = next(t for t in _WEIGHT_LAYERS if isinstance(module, t))
            note = f"no windowed nn.{base.__name__} (supported: {supported})"
            unsupported.append(LayerChange(name or "(model)", type(module).__name__, "", note))
    return unsupported


def _scripted_parts(model: nn.Module) -> list[LayerChange]:
    """One entry per outermost TorchScript module: its layers cannot be replaced."""
    found: list[LayerChange] = []
    for name, module in model.named_modules():
        inside = any(name.startswith(c.name + ".") or c.name == "(model)" for c in found)
        if isinstance(module, torch.jit.ScriptModule) and not inside:
            found.append(
                LayerChange(
                    name or "(model)",
                    f"{getattr(module, 'original_name', type(module).__name__)} (TorchScript)",
                    "",
                    "compiled by torch.jit.script / trace: its code calls the compiled layers, "
                    "which cannot be replaced; convert the eager model, then script it",
                )
            )
    return found


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


def _replaced_change(
    name: str,
    module: nn.Module,
    new: nn.Module,
    places: dict[int, list[str]],
    layers: list[tuple[str, nn.Module]],
) -> LayerChange:
    """The report row of a replaced layer, noting where else it sits and what it is tied to."""
    notes = []
    also = [n for n in places[id(module)] if n != name]
    if also:
        notes.append(f"shared; also {', '.join(also)}")
    tied = [n for n, m in layers if m is not module and m.weight is new.weight]
    if tied:
        notes.append(f"weight tied to {', '.join(map(repr, tied))}")
    return LayerChange(name, type(module).__name__, type(new).__name__, "; ".join(notes))

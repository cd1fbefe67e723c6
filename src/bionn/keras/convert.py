"""Convert Keras models: Dense / Conv2D / Conv2DTranspose layers become windowed layers.

The Keras counterpart of :func:`bionn.mousify` / :func:`bionn.schizofy` (mouse windows: Saiga
et al. 2025, Sci. Rep. 15:25091; schizophrenia windows: Mizutani et al. 2022, Front.
Neurorobot. 16:851471). Keras models cannot be changed in place, so the functions return a
new model, made by ``keras.models.clone_model`` with a ``clone_function`` (nested Sequential
and functional models too; a layer used twice stays one layer). Every layer's weights are
carried over; a converted layer's kernel is masked by its window (``keep_weights=False``
initialises it as a new windowed layer would instead). The skip rules and report rows are
those of the PyTorch conversion (:mod:`bionn.selection`); besides them, layers already
windowed, subclasses of the supported types, quantized or LoRA layers, and layers of other
kinds (``Conv1D``, ``DepthwiseConv2D`` ...) stay as they are, each with its reason.

Example:
    >>> import keras, bionn.keras as mouse
    >>> model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(128, name="hidden"),
    ...                           keras.layers.Dense(10, name="classifier")])
    >>> result = mouse.mousify(model, usage=0.35)
    >>> [c.name for c in result.replaced], type(result.model.layers[0]).__name__
    (['hidden'], 'MouseDense')

"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from bionn.keras._windowed import WindowedKerasLayer
from bionn.keras.conv import MouseConv2D, SchizoConv2D
from bionn.keras.conv_transpose import MouseConv2DTranspose, SchizoConv2DTranspose
from bionn.keras.dense import MouseDense, SchizoDense
from bionn.keras.summary import window_summary
from bionn.selection import LayerChange, LayerRules, SchizoArguments, Selector, format_changes

__all__ = ["KerasConversion", "mousify", "schizofy"]

SUPPORTED = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)
_OTHER_WEIGHT_LAYERS = (
    keras.layers.Conv1D, keras.layers.Conv3D, keras.layers.Conv1DTranspose,
    keras.layers.Conv3DTranspose, keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv1D, keras.layers.SeparableConv2D, keras.layers.EinsumDense,
)  # fmt: skip
Maker = Callable[[dict[str, Any]], keras.layers.Layer]  # a layer's config -> windowed layer


@dataclass(frozen=True)
class KerasConversion:
    """The converted model, what was replaced and what was left alone (with reasons)."""

    model: keras.Model
    replaced: list[LayerChange]
    skipped: list[LayerChange]

    def __str__(self) -> str:
        lines = format_changes(self.replaced, self.skipped)
        return "\n".join([*lines, "", window_summary(self.model)])


def mousify(
    model: keras.Model,
    usage: float = 0.35,
    *,
    include: Selector | None = None,
    exclude: Selector | None = None,
    min_channels: int = 16,
    skip_last: bool = True,
    keep_weights: bool = True,
) -> KerasConversion:
    """Return a copy of ``model`` whose Dense / Conv2D / Conv2DTranspose layers are mouse layers.

    Args:
        model: A built Sequential or functional Keras model; it is not changed.
        usage: Target fraction of weights kept per layer, in (0, 1].
        include: Layer types and/or layer-name patterns (``fnmatch``; a nested model's layers
            are named ``outer/inner``) to convert; default every supported layer. Naming a layer
            converts it even when it is the last one.
        exclude: Types and/or name patterns to leave alone; wins over ``include``.
        min_channels: Layers with fewer channels than this on either window axis stay plain.
        skip_last: Leave the last weight layer (the classifier) plain.
        keep_weights: Keep the existing weights (masked); False initialises them as a new
            mouse layer would.

    Returns:
        The :class:`KerasConversion`; it warns when nothing was converted.

    Raises:
        ValueError: The model is not built, an ``include`` pattern matches no layer, or bad
            ``usage``.
        TypeError: ``include`` names a layer type that cannot be converted.

    """
    scale = not keep_weights
    makers: dict[type, Maker] = {
        keras.layers.Dense: lambda c: MouseDense(**c, usage=usage, scale_init=scale),
        keras.layers.Conv2D: lambda c: MouseConv2D(**c, usage=usage, scale_init=scale),
        keras.layers.Conv2DTranspose: lambda c: MouseConv2DTranspose(
            **c, usage=usage, scale_init=scale
        ),
    }
    return convert_layers(model, makers, include, exclude, min_channels, skip_last,
                          keep_weights, "mousify")  # fmt: skip


def schizofy(
    model: keras.Model,
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
) -> KerasConversion:
    """Return a copy of ``model`` with schizophrenia-mimicking Dense / Conv layers.

    Args:
        model: As :func:`mousify`.
        usage: Fraction of weights kept per layer, in (0, 1].
        form: Dense form: 'diagonal', 'gaussian' or 'random'.
        conv_form: Conv / transposed-conv form: 'diagonal', 'individual' or 'kernel'; default
            ``form``.
        seed: Seed of the random forms; layer ``i`` (in conversion order) gets ``seed + i``.
            Default: drawn from Python's RNG (recorded in the layer's config).
        include: As :func:`mousify`.
        exclude: As :func:`mousify`.
        min_channels: As :func:`mousify`.
        skip_last: As :func:`mousify`.
        keep_weights: As :func:`mousify`.

    Returns:
        The :class:`KerasConversion`.

    """
    arguments = SchizoArguments(usage, form, conv_form, seed, lambda: random.randrange(2**31 - 1))
    scale = {"scale_init": not keep_weights}
    makers: dict[type, Maker] = {
        keras.layers.Dense: lambda c: SchizoDense(**c, **arguments.linear(), **scale),
        keras.layers.Conv2D: lambda c: SchizoConv2D(**c, **arguments.conv(), **scale),
        keras.layers.Conv2DTranspose: lambda c: SchizoConv2DTranspose(
            **c, **arguments.conv(), **scale
        ),
    }
    return convert_layers(model, makers, include, exclude, min_channels, skip_last,
                          keep_weights, "schizofy")  # fmt: skip


def convert_layers(
    model: keras.Model,
    makers: dict[type, Maker],
    include: Selector | None,
    exclude: Selector | None,
    min_channels: int,
    skip_last: bool,
    keep_weights: bool,
    caller: str,
) -> KerasConversion:
    """Clone ``model`` with the windowed layers ``makers`` build from configs, weights carried.

    ``makers[type(layer)](layer.get_config())`` builds each layer the rules convert; every other
    layer is rebuilt from its config. Converted kernels are masked by their windows.
    """
    if not model.built:
        raise ValueError(
            f"{caller}: the model is not built; call it on data or give it a keras.Input first"
        )
    rules = LayerRules(makers, min_channels, caller, include, exclude, base_type=keras.Layer)
    named = list(_named_layers(model))
    convertible = [(name, layer) for name, layer in named if isinstance(layer, SUPPORTED)]
    rules.start([name for name, _ in convertible], skip_last)
    reasons = {name: _skip_reason(rules, name, layer) for name, layer in convertible}
    converting = {id(layer) for name, layer in convertible if not reasons[name]}
    pairs: list[tuple[keras.layers.Layer, keras.layers.Layer]] = []

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        new = (
            makers[type(layer)](config)
            if id(layer) in converting
            else type(layer).from_config(config)
        )
        pairs.append((layer, new))
        return new

    new_model = keras.models.clone_model(model, clone_function=clone, recursive=True)
    if not new_model.built:
        new_model.build(model.input_shape)
    for old, new in pairs:
        _carry_weights(old, new, converted=id(old) in converting, keep_weights=keep_weights)
    replaced = [
        LayerChange(name, type(old).__name__, type(new).__name__)
        for (name, _), (old, new) in _matched(convertible, pairs)
        if id(old) in converting
    ]
    skipped = [
        LayerChange(name, type(layer).__name__, "", reasons[name])
        for name, layer in convertible
        if reasons[name]
    ]
    skipped += [
        LayerChange(name, type(layer).__name__, "", f"no windowed {type(layer).__name__} "
                    f"(supported: {', '.join(t.__name__ for t in SUPPORTED)})")
        for name, layer in named
        if isinstance(layer, _OTHER_WEIGHT_LAYERS)
    ]  # fmt: skip
    if not replaced:
        notes = sorted({c.note for c in skipped}) or ["it has no Dense / Conv2D layers"]
        warnings.warn(f"{caller}: nothing converted ({'; '.join(notes)})", stacklevel=3)
    return KerasConversion(new_model, replaced, skipped)


def _named_layers(model: keras.Model, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf layer once, named ``outer/inner`` inside nested models."""
    seen: set[int] = set()
    for layer in model.layers:
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        name = f"{prefix}{layer.name}"
        if isinstance(layer, keras.Model):
            yield from _named_layers(layer, f"{name}/")
        else:
            yield name, layer


def _skip_reason(rules: LayerRules, name: str, layer: Any) -> str:
    """Why ``layer`` stays as it is ('' to convert it): Keras' cases, then the common rules."""
    if isinstance(layer, WindowedKerasLayer):
        return "already windowed"
    if type(layer) not in rules.supported:
        return (
            f"subclass {type(layer).__name__} of a supported type: its kernel may be used "
            "elsewhere; convert it by hand"
        )
    if not layer.built:
        return "not built: its shape is unknown; call the model on data first"
    if getattr(layer, "quantization_mode", None) or getattr(layer, "lora_enabled", False):
        return "quantized or LoRA-enabled: convert before quantize() / enable_lora()"
    channels = min(layer.kernel.shape[-2:])  # Keras kernels end in the two channel axes
    return rules.skip_reason(name, type(layer), channels)


def _matched(
    convertible: list[tuple[str, Any]], pairs: list[tuple[Any, Any]]
) -> Iterator[tuple[tuple[str, Any], tuple[Any, Any]]]:
    new_by_id = {id(old): (old, new) for old, new in pairs}
    for name, layer in convertible:
        if id(layer) in new_by_id:
            yield (name, layer), new_by_id[id(layer)]


def _carry_weights(old: Any, new: Any, *, converted: bool, keep_weights: bool) -> None:
    """Copy ``old``'s weights into ``new``, a converted layer's kernel masked by its window."""
    if converted and not keep_weights:
        return  # the new layer's own (window-scaled) initialisation
    weights = old.get_weights()
    if converted and new.is_binary:
        window = keras.ops.convert_to_numpy(new.window).astype(bool)
        weights[0] = np.where(window, weights[0], 0).astype(weights[0].dtype)
    new.set_weights(weights)

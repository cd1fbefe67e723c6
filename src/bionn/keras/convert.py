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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from bionn.keras._windowed import WindowedKerasLayer
from bionn.keras.conv import MouseConv2D, SchizoConv2D
from bionn.keras.conv_transpose import MouseConv2DTranspose, SchizoConv2DTranspose
from bionn.keras.dense import MouseDense, SchizoDense
from bionn.keras.summary import window_summary
from bionn.selection import (
    ConversionOptions,
    LayerChange,
    LayerRules,
    Replacements,
    SchizoOptions,
    conversion_options,
    format_changes,
    schizofy_arguments,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["KerasConversion", "mousify", "schizofy"]

SUPPORTED = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)
_OTHER_WEIGHT_LAYERS = (
    keras.layers.Conv1D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv3DTranspose,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
    keras.layers.EinsumDense,
)


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
    model: keras.Model, usage: float = 0.35, **options: Unpack[ConversionOptions]
) -> KerasConversion:
    """Return a copy of ``model`` whose Dense / Conv2D / Conv2DTranspose layers are mouse layers.

    Args:
        model: A built Sequential or functional Keras model; it is not changed.
        usage: Target fraction of weights kept per layer, in (0, 1].
        **options: Which layers to convert and whether to keep their weights: ``include``
            (a nested model's layers are named ``outer/inner``), ``exclude``,
            ``min_channels=16``, ``skip_last=True``, ``keep_weights=True``
            (:class:`~bionn.selection.ConversionOptions`).

    Returns:
        The :class:`KerasConversion`; it warns when nothing was converted.

    Raises:
        ValueError: The model is not built, an ``include`` pattern matches no layer, or bad
            ``usage``.
        TypeError: ``include`` names a layer type that cannot be converted, or an unknown
            keyword.

    """

    def window_args() -> dict[str, object]:
        return {"usage": usage}

    return convert_layers(
        model,
        "mousify",
        conversion_options(mousify, options),
        {
            keras.layers.Dense: (MouseDense, window_args),
            keras.layers.Conv2D: (MouseConv2D, window_args),
            keras.layers.Conv2DTranspose: (MouseConv2DTranspose, window_args),
        },
    )


def schizofy(
    model: keras.Model, usage: float = 0.5, form: str = "diagonal", **options: Unpack[SchizoOptions]
) -> KerasConversion:
    """Return a copy of ``model`` with schizophrenia-mimicking Dense / Conv layers.

    Takes the arguments of :func:`bionn.schizofy` (:class:`~bionn.selection.SchizoOptions`),
    ``model`` as :func:`mousify` does; ``form`` is the Dense layers' form. Seeds not given are
    drawn from Python's RNG and recorded in the layers' configs.

    Returns:
        The :class:`KerasConversion`.

    """
    arguments, settings = schizofy_arguments(
        schizofy, usage, form, options, lambda: random.randrange(2**31 - 1)
    )
    return convert_layers(
        model,
        "schizofy",
        settings,
        {
            keras.layers.Dense: (SchizoDense, arguments.linear),
            keras.layers.Conv2D: (SchizoConv2D, arguments.conv),
            keras.layers.Conv2DTranspose: (SchizoConv2DTranspose, arguments.conv),
        },
    )


def convert_layers(
    model: keras.Model, caller: str, settings: dict[str, Any], replacements: Replacements
) -> KerasConversion:
    """Clone ``model`` for ``caller`` (``mousify`` ...), converting as ``replacements`` say.

    ``settings`` are the caller's :class:`~bionn.selection.ConversionOptions`, checked and
    completed (:func:`~bionn.selection.conversion_options`). Each layer the rules convert
    becomes its windowed class, built from the layer's config and the next window arguments;
    every other layer is rebuilt from its config. Weights are carried over, converted kernels
    masked by their windows.
    """
    keep_weights = settings["keep_weights"]
    if not model.built:
        raise ValueError(
            f"{caller}: the model is not built; call it on data or give it a keras.Input first"
        )
    rules = LayerRules(
        replacements,
        settings["min_channels"],
        caller,
        settings["include"],
        settings["exclude"],
        base_type=keras.Layer,
    )
    named = list(_named_layers(model))
    convertible = [(name, layer) for name, layer in named if isinstance(layer, SUPPORTED)]
    rules.start([name for name, _ in convertible], settings["skip_last"])
    reasons = {name: _skip_reason(rules, name, layer) for name, layer in convertible}
    converting = {id(layer) for name, layer in convertible if not reasons[name]}
    pairs: list[tuple[keras.layers.Layer, keras.layers.Layer]] = []

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        if id(layer) in converting:
            windowed, window_args = replacements[type(layer)]
            new = windowed(**config, **window_args(), scale_init=not keep_weights)
        else:
            new = type(layer).from_config(config)
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
        LayerChange(
            name,
            type(layer).__name__,
            "",
            f"no windowed {type(layer).__name__} "
            f"(supported: {', '.join(t.__name__ for t in SUPPORTED)})",
        )
        for name, layer in named
        if isinstance(layer, _OTHER_WEIGHT_LAYERS)
    ]
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

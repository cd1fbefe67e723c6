"""Which layers a conversion changes: the rules shared by PyTorch and Keras model surgery.

Framework-neutral (no torch, no keras): :mod:`bionn.surgery` (PyTorch) and
:mod:`bionn.keras.convert` apply the same include / exclude selection and default rules, take
the same :class:`ConversionOptions`, and report what they changed in the same
:class:`LayerChange` rows. :func:`find_layer_of_types` looks up the layer an ablation acts on.

Default rules leave alone, and list with a reason, the layers a window does not suit:

- layers with fewer than ``min_channels`` channels on either window axis (the RGB input conv,
  depthwise convs): their grids would be a line of a few nodes;
- the last weight layer (the classifier or output layer), unless named in ``include``;
- layers not selected by ``include`` or selected by ``exclude``.
"""

from __future__ import annotations

import fnmatch
import inspect
import itertools
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from bionn.recipes import SCHIZO_CONV_FORMS

__all__ = [
    "ConversionOptions",
    "LayerChange",
    "LayerRules",
    "Replacements",
    "SchizoArguments",
    "SchizoOptions",
    "Selector",
    "WindowArgs",
    "conversion_options",
    "find_layer_of_types",
    "format_changes",
    "schizofy_arguments",
]

Selector = Iterable[type | str]
WindowArgs = Callable[[], dict[str, object]]  # the window arguments of the next new layer
# A conversion: plain layer type -> (the windowed class replacing it, its window arguments).
Replacements = Mapping[type, tuple[type, WindowArgs]]


class ConversionOptions(TypedDict, total=False):
    """The keyword options of ``mousify`` and ``schizofy`` (PyTorch and Keras); defaults last.

    Attributes:
        include: Layer types and/or layer-name patterns (``fnmatch``; a name also selects the
            layers inside it: ``features.3`` in PyTorch, ``outer/inner`` for a nested Keras
            model) to convert; default (None) every supported layer. Naming a layer converts it
            even when it is the last one.
        exclude: Types and/or name patterns to leave alone; wins over ``include``. Default None.
        min_channels: Layers with fewer channels than this on either window axis stay plain.
            Default 16.
        skip_last: Leave the last weight layer (the classifier) plain. Default True.
        keep_weights: Keep the existing weights (masked by the window); False initialises them
            as a new windowed layer would (scaled by ``1 / usage``). Default True.
    """

    include: Selector | None
    exclude: Selector | None
    min_channels: int
    skip_last: bool
    keep_weights: bool


class SchizoOptions(ConversionOptions, total=False):
    """The keyword options of ``schizofy``: the :class:`ConversionOptions` and these two.

    Attributes:
        conv_form: Conv / transposed-conv form: 'diagonal', 'individual' or 'kernel'; default
            (None) ``form`` (an error if ``form`` has no conv version and a conv is converted).
        seed: Seed of the random forms; layer ``i`` (in conversion order) gets ``seed + i``.
            Default (None): drawn from torch's RNG (PyTorch) or Python's (Keras) and recorded
            on the layer. Layers tied to one weight share one.
    """

    conv_form: str | None
    seed: int | None


_DEFAULTS: dict[str, Any] = {
    "include": None,
    "exclude": None,
    "min_channels": 16,
    "skip_last": True,
    "keep_weights": True,
    "conv_form": None,
    "seed": None,
}


def conversion_options(
    function: Callable[..., object],
    options: Mapping[str, Any],
    accepted: type[ConversionOptions] = ConversionOptions,
) -> dict[str, Any]:
    """The options given to ``function`` by keyword, completed with the defaults.

    Args:
        function: The converting function (``mousify`` ...), named in the message.
        options: Its keyword options.
        accepted: The options it takes: :class:`ConversionOptions` or :class:`SchizoOptions`.

    Raises:
        TypeError: A keyword is none of ``function``'s; the message names ``function`` and the
            keywords it takes.

    """
    names = list(accepted.__annotations__)
    unknown = [name for name in options if name not in names]
    if unknown:
        parameters = inspect.signature(function).parameters.values()
        own = [p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        raise TypeError(
            f"{function.__name__}() got an unexpected keyword argument {unknown[0]!r}; "
            f"it takes {', '.join([*own, *names])}"
        )
    return {name: options.get(name, _DEFAULTS[name]) for name in names}


@dataclass(frozen=True)
class LayerChange:
    """One weight layer: its name, its class before and after ('' if skipped) and a note.

    The note says why a skipped layer was left alone, or where else a replaced layer sits and
    what it is tied to.
    """

    name: str
    before: str
    after: str
    note: str = ""


def format_changes(replaced: list[LayerChange], skipped: list[LayerChange]) -> list[str]:
    """The report lines of a conversion: replaced layers, then those left alone and why."""
    lines = [f"replaced {len(replaced)} layer(s):"]
    lines += [
        f"  {c.name}: {c.before} -> {c.after}" + (f" ({c.note})" if c.note else "")
        for c in replaced
    ]
    lines.append(f"left alone {len(skipped)} layer(s):")
    lines += [f"  {c.name}: {c.before} ({c.note})" for c in skipped]
    return lines


class LayerRules:
    """The include / exclude selection and the default rules of the module docstring.

    Args:
        supported: The layer types the conversion can replace.
        min_channels: Layers with fewer channels on either window axis stay plain.
        caller: The converting function, named in messages.
        include: Types and/or ``fnmatch`` name patterns to convert (a name also selects the
            layers inside it); default every supported layer.
        exclude: Types and/or name patterns to leave alone; wins over ``include``.
        base_type: The class every type in ``include`` / ``exclude`` must subclass.

    Raises:
        ValueError: ``min_channels`` is not an int >= 1.
        TypeError: A selector item is neither a layer type nor a string, or ``include`` names
            a type that cannot be converted.

    """

    def __init__(
        self,
        supported: Collection[type],
        min_channels: int,
        caller: str,
        include: Selector | None,
        exclude: Selector | None,
        base_type: type = object,
    ) -> None:
        if isinstance(min_channels, bool) or not isinstance(min_channels, int) or min_channels < 1:
            raise ValueError(f"{caller}: min_channels must be an int >= 1, got {min_channels!r}")
        self.supported, self.min_channels, self.caller = supported, min_channels, caller
        self.include_types, self.include_names = _split(include, "include", caller, base_type)
        self.exclude_types, self.exclude_names = _split(exclude, "exclude", caller, base_type)
        self.selective = include is not None
        self.last: str | None = None
        for layer_type in self.include_types:
            if layer_type not in supported:
                names = ", ".join(_type_name(t) for t in supported)
                raise TypeError(
                    f"{caller} cannot convert {layer_type.__name__} (include=); "
                    f"supported layer types: {names}"
                )

    def start(self, layer_names: list[str], skip_last: bool) -> None:
        """Take the convertible layers' names, in order; the last one is the classifier.

        Raises:
            ValueError: An include name pattern matches none of them (a typo would silently
                convert nothing).

        """
        for pattern in self.include_names:
            if not any(matches(n, pattern) for n in layer_names):
                raise ValueError(
                    f"{self.caller}: include pattern {pattern!r} matches no "
                    f"convertible layer; their names are {layer_names}"
                )
        self.last = layer_names[-1] if skip_last and layer_names else None

    def skip_reason(self, name: str, layer_type: type, channels: int) -> str:
        """Why the layer ``name`` stays as it is ('' to convert it)."""
        named = any(matches(name, p) for p in self.include_names)
        if layer_type in self.exclude_types or any(matches(name, p) for p in self.exclude_names):
            return "excluded"
        if self.selective and not (named or layer_type in self.include_types):
            return "not included"
        if not name:
            return "the model itself is the layer: nothing to replace it in"
        if name == self.last and not named:
            return "last layer (classifier); name it in include= to convert it"
        if channels < self.min_channels:
            return f"{channels} channels < min_channels={self.min_channels}"
        return ""


class SchizoArguments:
    """The window arguments ``schizofy`` gives each converted layer, in conversion order.

    Layer ``i`` gets seed ``seed + i``, or one from ``draw_seed`` when ``seed`` is None.
    """

    def __init__(
        self,
        usage: float,
        form: str,
        conv_form: str | None,
        seed: int | None,
        draw_seed: Callable[[], int],
    ) -> None:
        self.usage, self.form, self.conv_form = usage, form, conv_form
        self._seeds = itertools.count(seed) if seed is not None else None
        self._draw_seed = draw_seed

    def linear(self) -> dict[str, object]:
        """``usage``, ``form`` and ``seed`` of the next dense / linear layer."""
        seed = next(self._seeds) if self._seeds else self._draw_seed()
        return {"usage": self.usage, "form": self.form, "seed": seed}

    def conv(self) -> dict[str, object]:
        """The same for the next conv; called per converted conv, so only convs can fail.

        Raises:
            ValueError: ``form`` has no conv version and no ``conv_form`` was given.

        """
        if self.conv_form is None and self.form not in SCHIZO_CONV_FORMS:
            raise ValueError(
                f"schizofy: form={self.form!r} has no conv version; pass conv_form= "
                f"(one of {SCHIZO_CONV_FORMS}) or exclude the conv layers"
            )
        return {**self.linear(), "form": self.conv_form or self.form}


def schizofy_arguments(
    function: Callable[..., object],
    usage: float,
    form: str,
    options: Mapping[str, Any],
    draw_seed: Callable[[], int],
) -> tuple[SchizoArguments, dict[str, Any]]:
    """Split the keyword options of a ``schizofy`` call: window arguments, conversion options.

    Returns:
        The :class:`SchizoArguments` (``conv_form`` and ``seed`` given to them) and the
        :class:`ConversionOptions` left, completed with their defaults.

    Raises:
        TypeError: An unknown keyword (see :func:`conversion_options`).

    """
    settings = conversion_options(function, options, SchizoOptions)
    conv_form, seed = settings.pop("conv_form"), settings.pop("seed")
    return SchizoArguments(usage, form, conv_form, seed, draw_seed), settings


def find_layer_of_types(
    name: str,
    look_up: Callable[[str], Any],
    missing: type[Exception],
    named_layers: Iterable[tuple[str, Any]],
    layer_types: tuple[type, ...],
) -> Any:
    """The layer ``look_up(name)``, which must be one of ``layer_types``.

    Args:
        name: The layer's name in the model.
        look_up: Returns the model's layer of a name (``get_submodule``, ``get_layer``).
        missing: What ``look_up`` raises for a name the model does not have.
        named_layers: The model's ``(name, layer)`` pairs, for the candidates in messages.
        layer_types: The layer types accepted.

    Raises:
        ValueError: No such layer, or one of another type; the message lists the names of the
            layers of ``layer_types``.

    """
    candidates = [n for n, layer in named_layers if isinstance(layer, layer_types)]
    type_names = [t.__name__ for t in layer_types]
    try:
        layer = look_up(name)
    except missing:
        raise ValueError(
            f"layer {name!r} is not in the model; its {' / '.join(type_names)} "
            f"layers are {candidates}"
        ) from None
    if not isinstance(layer, layer_types):
        expected = f"{', '.join(type_names[:-1])} or {type_names[-1]}"
        raise ValueError(
            f"layer {name!r} is a {type(layer).__name__}, not a {expected}; "
            f"candidates: {candidates}"
        )
    return layer


def matches(name: str, pattern: str) -> bool:
    """``fnmatch``, or ``name`` lies inside what ``pattern`` names (``a.b``, ``a/b``)."""
    return fnmatch.fnmatchcase(name, pattern) or name.startswith((pattern + ".", pattern + "/"))


def _split(
    selector: Selector | None, argument: str, caller: str, base_type: type
) -> tuple[list[type], list[str]]:
    if selector is None:
        return [], []
    if isinstance(selector, (str, type)):
        selector = [selector]
    types, names = [], []
    for item in selector:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, type) and issubclass(item, base_type):
            types.append(item)
        else:
            raise TypeError(
                f"{caller}: {argument}= takes layer types and name patterns, got {item!r}"
            )
    return types, names


def _type_name(layer_type: type) -> str:
    """``nn.Linear`` for torch layers, the class name otherwise."""
    return (
        f"nn.{layer_type.__name__}"
        if layer_type.__module__.startswith("torch.")
        else (layer_type.__name__)
    )
